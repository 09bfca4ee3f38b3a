"""Plugin targets: what a user names, resolved once into how the plugin starts.

A target is one of

- ``builtin:NAME``: one of hector_nb's built-in providers (:mod:`hector_nb.providers`);
- a plugin executable or its ``.plugin.yaml`` (Go or Python: anything Hector loads);
- ``MODULE:CLASS`` or ``FILE.py:CLASS``: a provider class.

:func:`resolve` turns any of them into one frozen :class:`LaunchSpec`, and
everything that takes a target uses it: ``Session.load``, ``%hector load``,
``python -m hector_nb check | serve | export``, the conformance check and the
bridge's command. :func:`require_provider` is the one check that something is a
provider hector_nb runs, with one message.

How a built-in starts, from every entry point: as a process, it is exactly what
Hector starts, the launcher ``hector_nb/providers/plugins/NAME`` beside its
``NAME.plugin.yaml`` (:attr:`LaunchSpec.command`). So loading, checking or
serving ``builtin:NAME`` exercises the very files a Hector config points at, its
``#!/usr/bin/env python3`` line included, rather than a stand-in command that
could work where Hector's start fails. In this process (``in-kernel``,
``in-process``) a built-in runs only when the caller asks for that transport;
the spec carries the provider class for it.
"""

from __future__ import annotations

import enum
import importlib
import importlib.util
import os
import re
import sys
from dataclasses import dataclass, field
from pathlib import Path
from typing import Literal

from . import sdk
from .errors import InvalidInput, ManifestError, PluginNotFound, WrongPluginType
from .host.process import executable_command
from .manifest import (
    SUFFIX,
    PluginManifest,
    manifest_from_provider,
    manifest_path,
    read_manifest,
    refuse_impossible_path,
)

__all__ = ["BUILTIN_PREFIX", "DatabaseBuiltin", "EmbedderBuiltin", "LLMBuiltin", "LaunchSpec", "TargetKind",
           "class_launch", "load_provider_class", "require_provider", "resolve"]

BUILTIN_PREFIX = "builtin:"
#: The built-ins by the client type they load as: ``Session().load("builtin:echo")`` is typed an LLMClient.
LLMBuiltin = Literal["builtin:echo", "builtin:openai", "builtin:llama"]
DatabaseBuiltin = Literal["builtin:memory", "builtin:qdrant", "builtin:milvus", "builtin:usearch"]
EmbedderBuiltin = Literal["builtin:hashing", "builtin:minilm"]
#: ``MODULE:CLASS`` (a dotted module) or ``FILE.py:CLASS``; the class may be nested (``Outer.Inner``).
_CLASS_TARGET = re.compile(r"(?P<location>.+\.py|[A-Za-z_]\w*(?:\.[A-Za-z_]\w*)*):"
                           r"(?P<qualname>[A-Za-z_]\w*(?:\.[A-Za-z_]\w*)*)")
_FORMS = "builtin:NAME, a plugin executable or its .plugin.yaml, or MODULE:CLASS (FILE.py:CLASS)"
#: How a provider class is served as a plugin process by this interpreter.
_SERVE_MODULE = "hector_nb.plugin.serve"


class TargetKind(str, enum.Enum):
    """Which form a target had."""

    #: ``builtin:NAME``: a built-in provider, started as its launcher beside its manifest.
    BUILTIN = "builtin"
    #: A plugin executable or its ``.plugin.yaml``: run only as a process, as Hector runs it.
    EXECUTABLE = "executable"
    #: ``MODULE:CLASS`` or ``FILE.py:CLASS``: a provider class, served by this interpreter when run as a process.
    CLASS = "class"


@dataclass(frozen=True)
class LaunchSpec:
    """A resolved target: what it is and how it starts.

    ``command`` (and ``env``, added to the environment) starts the plugin as a
    process; ``provider_class`` is set for built-ins and classes, which can run
    in this process too. ``manifest`` is what Hector would read (the
    ``.plugin.yaml``, or the class's declared one); it is None only when
    resolved with ``lenient=True`` and unreadable, ``manifest_error`` then saying why.
    """

    target: str
    kind: TargetKind
    name: str
    plugin_type: str | None
    command: tuple[str, ...]
    manifest: PluginManifest | None
    manifest_file: Path | None = None
    manifest_error: str = ""
    provider_class: type[sdk.Provider] | None = None
    env: dict[str, str] | None = field(default=None, hash=False)


def require_provider(candidate: type | object, plugin: str, operation: str) -> str:
    """The plugin type of a provider class, a provider object or a manifest; :class:`WrongPluginType` otherwise.

    The one check that hector_nb can run something as a provider, with one message.
    """
    if isinstance(candidate, PluginManifest):
        plugin_type: object = candidate.type
        what = f"its manifest's type {candidate.type!r}"
    else:
        cls = candidate if isinstance(candidate, type) else type(candidate)
        plugin_type = getattr(cls, "plugin_type", None) if issubclass(cls, sdk.Provider) else None
        what = cls.__qualname__ if candidate is cls else f"a {cls.__qualname__} object"
    if not isinstance(plugin_type, str) or plugin_type not in sdk.PLUGIN_TYPES:
        types = ", ".join(sdk.PLUGIN_TYPES)
        raise WrongPluginType(plugin, operation, f"{what} is not a provider hector_nb runs ({types}); subclass "
                              "hector_nb.sdk.LLMProvider, DatabaseProvider or EmbedderProvider")
    return plugin_type


def resolve(target: str | os.PathLike[str], operation: str = "load", *, lenient: bool = False) -> LaunchSpec:
    """``target`` in any of its forms, resolved; errors name the target and ``operation``.

    ``lenient`` is the conformance check's way: a plugin file whose manifest
    Hector would refuse (or that is missing) still resolves, with
    ``manifest_error`` saying why, so that the check can report it.
    """
    text = os.fspath(target)
    refuse_impossible_path(text, "", operation)
    if isinstance(target, str) and text.startswith(BUILTIN_PREFIX):
        return _builtin(text, operation)
    file = manifest_path(text)
    if isinstance(target, os.PathLike) or file.exists() or file.with_name(file.name[:-len(SUFFIX)]).exists():
        return _executable(text, file, operation, lenient)
    if ":" in text:
        return _class_target(text, operation)
    if lenient:
        return _executable(text, file, operation, lenient)
    raise PluginNotFound(text, operation, f"no plugin executable or .plugin.yaml there; name {_FORMS}")


def load_provider_class(target: str, operation: str = "export") -> type[sdk.Provider]:
    """The provider class ``target`` names (``builtin:NAME``, ``MODULE:CLASS`` or ``FILE.py:CLASS``), imported."""
    spec = resolve(target, operation)
    if spec.provider_class is None:
        raise WrongPluginType(target, operation, f"is a plugin executable, not a provider class; {operation} takes "
                              "builtin:NAME, MODULE:CLASS or FILE.py:CLASS")
    return spec.provider_class


def class_launch(cls: type[sdk.Provider], operation: str) -> tuple[tuple[str, ...], dict[str, str]]:
    """The command and environment that serve ``cls`` as a plugin process with this interpreter."""
    module = sys.modules.get(cls.__module__)
    if module is None or cls.__module__ == "__main__" or not getattr(module, "__file__", None):
        raise InvalidInput(sdk.plugin_name(cls), operation, f"{cls.__qualname__} is defined in a notebook or "
                           "script; a subprocess needs an importable class: use %%hector provider --subprocess, "
                           "or move it into a module")
    # The plugin process imports the class by name, from the same import path as this one.
    path = os.pathsep.join(entry or os.getcwd() for entry in sys.path)
    return (sys.executable, "-m", _SERVE_MODULE, f"{cls.__module__}:{cls.__qualname__}"), {"PYTHONPATH": path}


def _builtin(text: str, operation: str) -> LaunchSpec:
    from .providers import BUILTIN_NAMES, builtin_class, builtin_plugin_path

    builtin = text[len(BUILTIN_PREFIX):]
    if builtin not in BUILTIN_NAMES:
        raise PluginNotFound(builtin, operation, f"no built-in provider {builtin!r}; choose one of "
                             + ", ".join(BUILTIN_PREFIX + name for name in BUILTIN_NAMES))
    launcher = builtin_plugin_path(builtin)
    manifest = read_manifest(launcher)
    return LaunchSpec(text, TargetKind.BUILTIN, manifest.name, require_provider(manifest, builtin, operation),
                      tuple(executable_command(launcher)), manifest, manifest.path,
                      provider_class=builtin_class(builtin))


def _executable(text: str, file: Path, operation: str, lenient: bool) -> LaunchSpec:
    executable = file.with_name(file.name[:-len(SUFFIX)])
    command = tuple(executable_command(executable))
    if not lenient:
        manifest = read_manifest(file)
        plugin_type = require_provider(manifest, manifest.name, operation)
        return LaunchSpec(text, TargetKind.EXECUTABLE, manifest.name, plugin_type, command, manifest, file)
    read: PluginManifest | None
    try:
        read = read_manifest(file, check_executable=False)
    except ManifestError as exc:
        read, error = None, exc.message
    else:
        error = ""
    known: str | None = None
    if read is not None:
        try:
            known = require_provider(read, read.name, operation)
        except WrongPluginType as exc:
            error = exc.message
    return LaunchSpec(text, TargetKind.EXECUTABLE, read.name if read else executable.name, known, command,
                      read, file, error)


def _class_target(text: str, operation: str) -> LaunchSpec:
    found = _CLASS_TARGET.fullmatch(text)
    if found is None:
        raise InvalidInput(text, operation, f"neither a file nor a class name; name {_FORMS}")
    imported = _import_class(text, found["location"], found["qualname"], operation)
    plugin_type = require_provider(imported, text, operation)
    cls = imported if isinstance(imported, type) else type(imported)
    assert issubclass(cls, sdk.Provider)  # require_provider checked it
    command, env = class_launch(cls, operation)
    manifest = manifest_from_provider(cls)
    return LaunchSpec(text, TargetKind.CLASS, manifest.name, plugin_type, command, manifest, provider_class=cls,
                      env=env)


def _import_class(text: str, location: str, qualname: str, operation: str) -> object:
    try:
        if location.endswith(".py"):
            path = Path(location).expanduser().resolve()
            if str(path.parent) not in sys.path:  # as Python runs a script: its sibling modules import
                sys.path.insert(0, str(path.parent))
            spec = importlib.util.spec_from_file_location(path.stem, path)
            if spec is None or spec.loader is None:
                raise ImportError(f"cannot load {path}")
            module = importlib.util.module_from_spec(spec)
            sys.modules[path.stem] = module
            spec.loader.exec_module(module)
        else:
            module = importlib.import_module(location)
        found: object = module
        for part in qualname.split("."):
            found = getattr(found, part)
    except (ImportError, AttributeError, OSError) as exc:
        raise PluginNotFound(text, operation, f"cannot import the class: {exc}; name an importable "
                             "MODULE:CLASS, or FILE.py:CLASS") from None
    return found
