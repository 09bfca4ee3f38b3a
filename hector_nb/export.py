"""Export a provider written in a notebook (or a module) as a plugin Hector loads unchanged.

The output, for a plugin named ``NAME``::

    DIR/NAME                 executable launcher (#! the exporting interpreter, or NAME.venv's)
    DIR/NAME.plugin.yaml     the manifest Hector's discovery reads
    DIR/NAME.lib/            the provider's source, the local modules it imports, the minimal runtime
    DIR/requirements.txt     grpcio, grpcio-health-checking, protobuf and the distributions it imports
    DIR/NAME.venv/           only with ``venv=True``: a virtualenv with those requirements

Hector starts the launcher with its own environment, whose ``PATH`` may hold no
virtualenv, so the launcher names an interpreter that has the plugin's packages:
the one that exported it, or the virtualenv export creates on request. When a
package is missing all the same, the plugin exits with one line on stderr naming
it and the command that installs it.

The source is what the notebook says (nbdev's idea: the notebook is the source
of truth): the provider class as written, with the imports, functions, classes
and constants of other cells that it uses. A constant computed from imports and
literals (``LEVEL = os.environ.get("LEVEL", "info")``) is carried as code and
computed again in the plugin process; values that exist only in the running
notebook (a DataFrame, a client) cannot be carried. A provider that subclasses
one of hector_nb's built-in providers carries that provider's module; one that
imports a local module (a sibling ``.py`` file, a package directory) carries
it; what it imports from installed distributions becomes requirements, and
anything else is refused (:mod:`hector_nb.imports`); the source is gathered by
:mod:`hector_nb.export_source`, and written here. Config values given in the
notebook are never written: the manifest lists config keys only, with the
defaults the class itself declares. The name, version, author and description
the manifest is written with are what the plugin answers too (a JSON file its
launcher reads).

A re-export is written beside the old one, inside ``DIR``, and renamed into
place once complete: a failed one leaves the previous plugin working.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
import sysconfig
import tempfile
import venv
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from packaging.requirements import Requirement

from . import sdk
from .errors import ExportError
from .export_source import RUNTIME_PACKAGE, builtin_of, carried_builtins, local_files, provider_source
from .imports import JudgedImports, builtin_requirements, judge_imports, requirement_of
from .manifest import PluginManifest, manifest_from_provider, manifest_path
from .requirements import merge_requirements, parse_requirement, read_requirements, requirements_text
from .targets import require_provider

BASE_REQUIREMENTS = ("grpcio>=1.85.1", "grpcio-health-checking>=1.85.1", "protobuf>=7.35.1,<8")
#: hector_nb.plugin, which imports nothing else of hector_nb: copied whole as the plugin's runtime.
_RUNTIME_DIR = Path(__file__).resolve().parent / "plugin"
#: Beside the provider's source: which distribution provides each imported top-level module.
DISTRIBUTIONS_FILE = "distributions.json"
#: Beside the provider's source: the manifest facts the plugin answers with (GetManifest, its stderr lines).
FACTS_FILE = "manifest.json"
#: The facts of the manifest that export may override and the plugin must answer alike.
_FACTS = ("name", "version", "author", "description")
#: Bounds pip's installation into an export's virtualenv.
VENV_TIMEOUT = 900


@dataclass
class ExportResult:
    """Where an exported plugin was written."""

    name: str
    directory: Path
    executable: Path
    manifest: Path
    requirements: Path
    source: Path

    def __repr__(self) -> str:
        return f"<exported plugin {self.name!r}: {self.executable} (+ .plugin.yaml, .lib/, requirements.txt)>"


def _requirements(judged: JudgedImports, builtins: Sequence[str], declared: list[Requirement],
                  extra: list[Requirement], plugin: str) -> list[Requirement]:
    """The base runtime, the distributions of the installed modules the plugin imports, the engines of the
    built-in providers it carries, what the provider class declares (``export_requirements``) and ``extra``
    (``--requirement``)."""
    imported = [requirement_of(name) for names in judged.installed.values() for name in names]
    return merge_requirements([
        [Requirement(text) for text in BASE_REQUIREMENTS],
        [parse_requirement(text, plugin, "the imported distribution") for text in imported],
        [Requirement(text) for text in builtin_requirements(builtins)],
        declared,
        extra,
    ], plugin)


#: A plugin's name is also its executable's file name (the manifest ``NAME.plugin.yaml`` names the executable
#: ``NAME`` beside it), so it must be one plain file name: POSIX's portable file name characters, starting with a
#: letter or digit. Hector itself requires only a non-empty name, so every name allowed here loads in Hector.
_PLUGIN_NAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9._-]{0,127}")


def _checked_name(name: str) -> str:
    if not isinstance(name, str) or not _PLUGIN_NAME.fullmatch(name):
        raise ExportError(str(name), "export", f"plugin name {name!r} cannot be a file name beside its manifest; "
                          "use 1 to 128 letters, digits, '.', '_' or '-', starting with a letter or digit")
    return name


def _check_interpreter(python: str, plugin: str) -> None:
    """The launcher's ``#!`` line must be exactly one line, or text after it would run as code."""
    if not python.strip() or any(c in python for c in "\n\r\0"):
        raise ExportError(plugin, "export", f"--python {python!r} is not one interpreter line; give a path such "
                          "as /usr/bin/python3 or '/usr/bin/env python3', without line breaks")


def _inside(directory: Path, name: str, plugin: str, *, is_dir: bool = False) -> Path:
    """``directory/name``, refused if it is a symbolic link, leads out of ``directory``, or is a file where a
    directory belongs (or the reverse): checked before anything is written."""
    path = directory / name
    if path.is_symlink() or path.resolve().parent != directory:
        raise ExportError(plugin, "export", f"{path} is a symbolic link or leads outside {directory}; export writes "
                          "only inside --out: remove it, or choose another --out")
    if path.exists() and path.is_dir() != is_dir:
        kind = "directory" if is_dir else "file"
        raise ExportError(plugin, "export", f"{path} is in the way: export writes a {kind} there; remove it, or "
                          "choose another --out")
    return path


def _launcher(module: str, class_name: str, python: str) -> str:
    """The executable: only ``python`` (checked to be one line) and two repr() literals come from outside.

    It finds its library as ``<its own path>.lib``, so neither the plugin's name
    nor the directory is written into it. A package its interpreter lacks ends it
    with one line on stderr (Hector logs a plugin's stderr only at debug level,
    so the line names everything needed: package, interpreter, install command).
    """
    return f'''#!{python}
"""A Hector plugin exported by hector_nb. Hector starts it; run alone, it says so."""

import importlib
import json
import os
import sys

PROVIDER_MODULE, PROVIDER_CLASS = {module!r}, {class_name!r}
HERE = os.path.realpath(__file__)
LIBRARY = HERE + ".lib"

sys.path.insert(0, LIBRARY)


def missing_package(error):
    """Exit with one line: the package this interpreter lacks and the command that installs the plugin's."""
    module = (error.name or "?").split(".")[0]
    with open(os.path.join(LIBRARY, {DISTRIBUTIONS_FILE!r})) as file:
        package = json.load(file).get(module, module)
    requirements = os.path.join(os.path.dirname(HERE), "requirements.txt")
    sys.stderr.write(f"{{os.path.basename(HERE)}}: the Python package {{package!r}} (module {{module!r}}) is missing "
                     f"from {{sys.executable}}; install the plugin's packages with: "
                     f"{{sys.executable}} -m pip install -r {{requirements}}\\n")
    sys.exit(1)


if __name__ == "__main__":
    try:
        from {RUNTIME_PACKAGE}.serve import serve_plugin

        provider_class = getattr(importlib.import_module(PROVIDER_MODULE), PROVIDER_CLASS)
        # The name, version, author and description the .plugin.yaml was written with (export's overrides).
        with open(os.path.join(LIBRARY, {FACTS_FILE!r})) as file:
            for fact, value in json.load(file).items():
                setattr(provider_class, fact, value)
        provider = provider_class()
    except ModuleNotFoundError as error:
        missing_package(error)
    serve_plugin(provider, provider.plugin_type)
'''


#: The runtime's own imports, by top-level module (BASE_REQUIREMENTS).
_RUNTIME_DISTRIBUTIONS = {"grpc": "grpcio", "grpc_health": "grpcio-health-checking", "google": "protobuf"}


def _library_data(judged: JudgedImports, manifest: PluginManifest) -> dict[str, str]:
    """The data files the launcher reads: which distribution provides each module the plugin imports (for its
    missing-package line), and the manifest facts the plugin answers with."""
    imported = {module: names[0] for module, names in judged.installed.items()}
    facts = {fact: getattr(manifest, fact) for fact in _FACTS}
    return {DISTRIBUTIONS_FILE: json.dumps({**imported, **_RUNTIME_DISTRIBUTIONS}, indent=1, sort_keys=True) + "\n",
            FACTS_FILE: json.dumps(facts, indent=1) + "\n"}


def _site_directories() -> list[str]:
    """The directories this Python finds installed packages in (its virtualenv's, its base's, the user's)."""
    return [entry for entry in sys.path if Path(entry).name in ("site-packages", "dist-packages")
            and Path(entry).is_dir()]


def _create_venv(path: Path, requirements: Path, plugin: str) -> None:
    """A virtualenv at ``path`` with ``requirements`` installed.

    It sees the exporting Python's packages (a ``.pth`` file adds each of its
    site directories: a virtualenv's, not only the base interpreter's), so pip
    installs only what they lack; pip's own settings (``PIP_INDEX_URL``,
    ``PIP_NO_INDEX``...) apply.
    """
    venv.EnvBuilder(symlinks=True, with_pip=True).create(path)
    own = Path(sysconfig.get_path("purelib", scheme="venv", vars={"base": str(path), "platbase": str(path)}))
    # A .pth line that starts with "import" runs; addsitedir also runs the .pth files found there (editable installs).
    adds = "; ".join(f"site.addsitedir({directory!r})" for directory in _site_directories())
    (own / "_hector_nb_exporter.pth").write_text(f"import site; {adds}\n" if adds else "")
    python = path / "bin" / "python"
    command = [str(python), "-m", "pip", "install", "--quiet", "--disable-pip-version-check", "-r", str(requirements)]
    again = ("fix the requirement (--requirement, export_requirements) and export again, or export with --python "
             "naming an interpreter that has the packages; the previous export, if any, is unchanged")
    try:
        result = subprocess.run(command, capture_output=True, text=True, timeout=VENV_TIMEOUT)
    except subprocess.TimeoutExpired:
        raise ExportError(plugin, "export", f"pip did not install the requirements into the plugin's virtualenv "
                          f"within {VENV_TIMEOUT}s; {again}") from None
    if result.returncode != 0:
        last = (result.stderr.strip().splitlines() or ["pip failed without a message"])[-1]
        raise ExportError(plugin, "export", f"pip could not install the requirements into the plugin's "
                          f"virtualenv ({last}); {again}")


def _write_library(library: Path, source: str, source_name: str, carried: dict[str, str],
                   local: dict[str, str | Path], data: dict[str, str]) -> None:
    """The plugin's library: the runtime, the built-in provider modules it uses, its source, local modules, data."""
    shutil.copytree(_RUNTIME_DIR, library / RUNTIME_PACKAGE, ignore=shutil.ignore_patterns("__pycache__", "*.pyc"))
    if carried:
        providers = library / RUNTIME_PACKAGE / "providers"
        providers.mkdir()
        (providers / "__init__.py").write_text('"""hector_nb\'s built-in providers that this plugin uses."""\n')
        for name, text in carried.items():
            (providers / f"{name}.py").write_text(text)
    if source:
        (library / source_name).write_text(source)
    for inside, content in local.items():
        (library / inside).parent.mkdir(parents=True, exist_ok=True)
        if isinstance(content, Path):
            shutil.copyfile(content, library / inside)
        else:
            (library / inside).write_text(content)
    for name, text in data.items():
        (library / name).write_text(text)


def _move_into_place(staged: Path, place: Path, trash: Path) -> None:
    """``staged`` renamed to ``place``; a directory already there is renamed to ``trash`` first (rename
    cannot replace a non-empty directory) and put back if the rename fails or is interrupted."""
    if not staged.is_dir() or not place.exists():
        os.replace(staged, place)
        return
    os.rename(place, trash)
    try:
        os.rename(staged, place)
    except BaseException:
        os.rename(trash, place)
        raise


def export_provider(
    provider: sdk.Provider | type[sdk.Provider],
    out_dir: str | Path,
    *,
    name: str | None = None,
    version: str | None = None,
    author: str | None = None,
    description: str | None = None,
    requirements: tuple[str, ...] | list[str] = (),
    python: str | None = None,
    namespace: dict[str, Any] | None = None,
    venv: bool = False,
) -> ExportResult:
    """Write ``provider``'s class as a plugin Hector loads, into ``out_dir``.

    ``namespace`` is the notebook's (default: the running IPython's user
    namespace); ``python`` the launcher's interpreter line (default: this
    interpreter, which has the provider's packages); ``venv=True`` creates
    ``NAME.venv`` beside the launcher with the requirements installed, and
    names its interpreter instead.
    """
    cls = provider if isinstance(provider, type) else type(provider)
    # Named after its class only when it is one, or a provider: ``None`` is not a plugin called 'NoneType'.
    named = isinstance(provider, (type, sdk.Provider))
    require_provider(provider, getattr(cls, "__name__", "?") if named else "", "export")
    plugin = _checked_name(name or sdk.plugin_name(cls))
    if venv and python is not None:
        raise ExportError(plugin, "export", "give either --python or --venv: the launcher names one interpreter")
    python = sys.executable if python is None else python
    _check_interpreter(python, plugin)
    builtin = builtin_of(cls)
    if builtin:
        source, module = "", f"{RUNTIME_PACKAGE}.providers.{builtin}"
    else:
        source = provider_source(cls, namespace, plugin)
        module = "provider_" + "".join(c if c.isalnum() else "_" for c in plugin)
    carried = carried_builtins(source, builtin)
    declared = [parse_requirement(text, plugin, "export_requirements") for text in cls.export_requirements]
    extra = [parse_requirement(text, plugin, "--requirement") for text in requirements]
    judged = judge_imports([source], carried.values(), [*declared, *extra], plugin)
    source_name = f"{module}.py" if source else f"{RUNTIME_PACKAGE}/providers/{builtin}.py"
    local = local_files(judged, {RUNTIME_PACKAGE, module}, plugin)

    directory = Path(out_dir).expanduser().resolve()
    executable = _inside(directory, plugin, plugin)
    library = _inside(directory, f"{plugin}.lib", plugin, is_dir=True)
    manifest_file = _inside(directory, manifest_path(executable).name, plugin)
    requirements_file = _inside(directory, "requirements.txt", plugin)
    environment = _inside(directory, f"{plugin}.venv", plugin, is_dir=True) if venv else None
    requirements_needed = merge_requirements(
        [read_requirements(requirements_file, plugin), _requirements(judged, list(carried), declared, extra, plugin)],
        plugin)
    manifest = manifest_from_provider(cls)
    manifest.name = plugin
    manifest.version = version or manifest.version
    manifest.author = author or manifest.author
    manifest.description = description or manifest.description
    if environment is not None:
        python = str(environment / "bin" / "python")

    # Everything is written into a directory inside --out, then renamed into place: an export that fails
    # (disk full, read-only, interrupted) leaves the previous plugin as it was.
    try:
        directory.mkdir(parents=True, exist_ok=True)
        staging = Path(tempfile.mkdtemp(prefix=f".{plugin}.export-", dir=directory))
    except OSError as exc:
        raise ExportError(plugin, "export", f"cannot write into {directory} ({exc.strerror}); choose a directory "
                          "you can write to with --out") from None
    replaced: list[str] = []
    try:
        # Neutral names while staged: no *.plugin.yaml that a discovery scanning subdirectories could find.
        _write_library(staging / "lib", source, source_name, carried, local, _library_data(judged, manifest))
        (staging / "manifest.yaml").write_text(manifest.to_yaml())
        (staging / "requirements.txt").write_text(requirements_text(requirements_needed))
        if environment is not None:
            _create_venv(staging / "venv", staging / "requirements.txt", plugin)
        (staging / "launcher").write_text(_launcher(module, cls.__name__, python))
        (staging / "launcher").chmod(0o755)
        # Renames within one directory: each atomic, none needing space.
        for staged, place in [("lib", library), ("venv", environment), ("launcher", executable),
                              ("manifest.yaml", manifest_file), ("requirements.txt", requirements_file)]:
            if place is not None:
                _move_into_place(staging / staged, place, staging / f"replaced-{staged}")
                replaced.append(place.name)
    except OSError as exc:
        previous = (f"{', '.join(replaced)} already replaced, the rest is the previous export's" if replaced
                    else "the previous export, if any, is unchanged")
        raise ExportError(plugin, "export", f"could not write the plugin into {directory} ({exc}); {previous}: free "
                          "some space or choose a writable --out, and export again") from None
    finally:
        shutil.rmtree(staging, ignore_errors=True)
    return ExportResult(plugin, directory, executable, manifest_file, requirements_file, library / source_name)
