"""``.plugin.yaml`` manifests: read, validate and write them as Hector does, and discover plugins.

A manifest ``P.plugin.yaml`` describes the executable ``P`` beside it::

    plugin:
      name: my-llm
      version: 1.0.0
      type: llm_provider
      protocol: grpc
      config_schema: {required: [api_key], optional: [model], defaults: {model: small}}
      capabilities: {streaming: true}

Hector rejects a manifest when name, version, type or protocol is missing, the
type is unknown, the protocol is not grpc, or the executable is missing or not
executable; so does :func:`read_manifest`, naming the file and the field.
"""

from __future__ import annotations

import os
import re
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

import yaml

from . import sdk
from .errors import ConfigError, InvalidInput, ManifestError
from .hector_yaml import ManifestLoader, load_yaml
from .plugin.constants import bool_text

if TYPE_CHECKING:
    import pandas

SUFFIX = ".plugin.yaml"
#: Every type Hector's manifest loader accepts; hector_nb runs the first three.
MANIFEST_TYPES = (*sdk.PLUGIN_TYPES, "tool_provider", "reasoning_strategy")
DEFAULT_DISCOVERY_PATHS = ("./plugins", "~/.hector/plugins")
#: How a manifest error names the field at fault, e.g. ``field 'plugin.protocol'``.
_FIELD = re.compile(r"field '([\w.]+)'")
_OPTIONAL_TEXT = ("author", "description", "hector_version", "homepage", "license", "repository_url",
                  "documentation_url")


@dataclass
class PluginManifest:
    """What a ``.plugin.yaml`` says about a plugin."""

    name: str
    version: str
    type: str
    protocol: str = sdk.PROTOCOL
    author: str = ""
    description: str = ""
    hector_version: str = ""
    config_required: list[str] = field(default_factory=list)
    config_optional: list[str] = field(default_factory=list)
    config_defaults: dict[str, str] = field(default_factory=dict)
    capabilities: dict[str, Any] = field(default_factory=dict)
    homepage: str = ""
    license: str = ""
    repository_url: str = ""
    documentation_url: str = ""
    #: The manifest file this was read from, if any.
    path: Path | None = None

    @property
    def executable(self) -> Path | None:
        """The plugin executable the manifest sits beside."""
        if self.path is None:
            return None
        return self.path.with_name(self.path.name[: -len(SUFFIX)])

    def to_yaml(self) -> str:
        """The manifest as ``.plugin.yaml`` text."""
        plugin: dict[str, Any] = {
            "name": self.name,
            "version": self.version,
            "type": self.type,
            "protocol": self.protocol,
        }
        for key in _OPTIONAL_TEXT:
            if getattr(self, key):
                plugin[key] = getattr(self, key)
        schema = {
            "required": list(self.config_required),
            "optional": list(self.config_optional),
            "defaults": dict(self.config_defaults),
        }
        if any(schema.values()):
            plugin["config_schema"] = {k: v for k, v in schema.items() if v}
        if self.capabilities:
            plugin["capabilities"] = dict(self.capabilities)
        return yaml.safe_dump({"plugin": plugin}, sort_keys=False)


def refuse_impossible_path(path: str, plugin: str, operation: str) -> None:
    """:class:`InvalidInput` for a plugin path no file can have (empty, or holding NUL), before the file
    system answers with a bare ``ValueError``."""
    what = "give the plugin's executable, its .plugin.yaml, builtin:NAME or MODULE:CLASS"
    if not path.strip():
        raise InvalidInput(plugin, operation, f"the path is empty; {what}")
    if "\0" in path:
        raise InvalidInput(plugin, operation, f"the path {path!r} holds a NUL character, which no file name "
                           f"can; {what}")


def manifest_path(path: str | os.PathLike[str]) -> Path:
    """The ``.plugin.yaml`` for ``path``, which may be the manifest or its executable."""
    path = Path(path).expanduser()
    return path if path.name.endswith(SUFFIX) else path.with_name(path.name + SUFFIX)


def _reject(file: Path, plugin: str, message: str) -> ManifestError:
    named = _FIELD.search(message)
    return ManifestError(plugin, "read manifest", f"{file}: {message}", file=file, field=named[1] if named else "")


def _text(value: Any) -> str:
    if isinstance(value, bool):
        return bool_text(value)
    return "" if value is None else str(value)


def _scalar(value: Any) -> bool:
    return value is not None and not isinstance(value, (dict, list))


def _schema_keys(schema: dict[str, Any], key: str, file: Path, label: str) -> list[str]:
    """``config_schema.required`` or ``.optional``: a list of key names (Hector's ``[]string``)."""
    value = schema.get(key)
    if value is None:
        return []
    if not isinstance(value, list) or not all(_scalar(item) for item in value):
        raise _reject(file, label, f"field 'plugin.config_schema.{key}' must be a list of config keys, "
                      f"e.g. [api_key]; got {value!r}")
    return [_text(item) for item in value]


def _schema_defaults(schema: dict[str, Any], file: Path, label: str) -> dict[str, str]:
    """``config_schema.defaults``: a mapping of keys to scalar values."""
    value = schema.get("defaults")
    if value is None:
        return {}
    if not isinstance(value, dict) or not all(v is None or _scalar(v) for v in value.values()):
        raise _reject(file, label, "field 'plugin.config_schema.defaults' must be a mapping of config keys to "
                      f"values, e.g. {{model: small}}; got {value!r}")
    return {str(k): _text(v) for k, v in value.items()}


def parse_manifest(data: Any, file: Path, check_executable: bool = True) -> PluginManifest:
    """Validate parsed manifest YAML as Hector does; raise :class:`ManifestError` naming the field."""
    if not isinstance(data, dict) or not isinstance(data.get("plugin"), dict):
        raise _reject(file, file.name, "no 'plugin:' mapping at the top; start the file with 'plugin:'")
    plugin = data["plugin"]
    for key in ("name", "version", "type", "protocol", *_OPTIONAL_TEXT):
        if isinstance(plugin.get(key), (dict, list)):
            raise _reject(file, file.name, f"field 'plugin.{key}' must be text, not a "
                          f"{'mapping' if isinstance(plugin[key], dict) else 'list'}")
    name = _text(plugin.get("name"))
    label = name or file.name
    for key in ("name", "version", "type", "protocol"):
        if not _text(plugin.get(key)):
            hint = {"name": "my-plugin", "version": "1.0.0", "type": sdk.PLUGIN_TYPE_LLM, "protocol": sdk.PROTOCOL}[key]
            raise _reject(file, label, f"field 'plugin.{key}' is missing; add '{key}: {hint}'")
    if plugin["type"] not in MANIFEST_TYPES:
        raise _reject(file, label, f"field 'plugin.type' is {plugin['type']!r}; use one of "
                      + ", ".join(MANIFEST_TYPES))
    if plugin["protocol"] != sdk.PROTOCOL:
        raise _reject(file, label, f"field 'plugin.protocol' is {plugin['protocol']!r}; only {sdk.PROTOCOL!r} is valid")
    schema = plugin.get("config_schema") or {}
    capabilities = plugin.get("capabilities") or {}
    if not isinstance(schema, dict):
        raise _reject(file, label, "field 'plugin.config_schema' must be a mapping of required/optional/defaults")
    if not isinstance(capabilities, dict):
        raise _reject(file, label, "field 'plugin.capabilities' must be a mapping, e.g. {streaming: true}")
    manifest = PluginManifest(
        name=name,
        version=_text(plugin["version"]),
        type=plugin["type"],
        protocol=plugin["protocol"],
        config_required=_schema_keys(schema, "required", file, label),
        config_optional=_schema_keys(schema, "optional", file, label),
        config_defaults=_schema_defaults(schema, file, label),
        capabilities=dict(capabilities),
        path=file,
        **{key: _text(plugin.get(key)) for key in _OPTIONAL_TEXT},
    )
    if check_executable:
        executable = manifest.executable
        if executable is None or not executable.is_file():
            raise _reject(file, label, f"the executable {executable} is missing; build it beside the manifest")
        if not os.access(executable, os.X_OK):
            raise _reject(file, label, f"the executable {executable} lacks the execute bit; chmod +x it")
    return manifest


def read_manifest(path: str | os.PathLike[str], check_executable: bool = True) -> PluginManifest:
    """Read and validate the manifest of a plugin (``path``: the executable or its ``.plugin.yaml``)."""
    file = manifest_path(path)
    try:
        data = load_yaml(file, ManifestLoader)
    except FileNotFoundError:
        raise _reject(file, file.name, "no such manifest; write one beside the executable "
                      "(see hector_nb.manifest.write_manifest)") from None
    except UnicodeDecodeError:
        raise _reject(file, file.name, "not UTF-8 text; save the manifest as UTF-8") from None
    except OSError as exc:
        raise _reject(file, file.name, f"cannot be read: {exc.strerror or exc}") from None
    except yaml.YAMLError as exc:
        raise _reject(file, file.name, f"not valid YAML: {exc}") from None
    return parse_manifest(data, file, check_executable)


def write_manifest(manifest: PluginManifest, path: str | os.PathLike[str]) -> Path:
    """Write ``manifest`` to ``path`` (the executable or its ``.plugin.yaml``); return the file."""
    file = manifest_path(path)
    file.write_text(manifest.to_yaml())
    return file


def manifest_from_provider(provider: sdk.Provider | type[sdk.Provider]) -> PluginManifest:
    """The manifest a provider class declares through its class attributes."""
    cls = provider if isinstance(provider, type) else type(provider)
    return PluginManifest(
        name=sdk.plugin_name(cls),
        version=cls.version,
        type=cls.plugin_type,
        author=cls.author,
        description=cls.description,
        hector_version=cls.hector_version,
        config_required=list(cls.config_required),
        config_optional=list(cls.config_optional),
        config_defaults={k: _text(v) for k, v in cls.config_defaults.items()},
        capabilities=sdk.plugin_capabilities(cls),
    )


def apply_config_schema(manifest: PluginManifest, config: dict[str, str], plugin: str) -> dict[str, str]:
    """``config`` with the manifest's defaults filled in; :class:`ConfigError` if a required key is missing."""
    merged = {**manifest.config_defaults, **config}
    missing = [key for key in manifest.config_required if not merged.get(key)]
    if missing:
        keys = ", ".join(missing)
        raise ConfigError(plugin, "configure", f"required config key(s) {keys} missing; pass them with "
                            f"--set {missing[0]}=... or under 'config:' in hector.yaml")
    return merged


@dataclass
class DiscoveredPlugin:
    """One manifest found by :func:`discover`; invalid ones are listed with their error."""

    name: str
    type: str
    version: str
    executable: Path
    manifest: Path
    valid: bool
    error: str = ""


def discover(
    paths: Sequence[str | os.PathLike[str]] | None = None, scan_subdirectories: bool = False
) -> list[DiscoveredPlugin]:
    """Find ``*.plugin.yaml`` manifests as Hector's discovery does (missing paths skipped).

    One path given alone (``discover("./plugins")``) is one path, not a sequence of characters.
    """
    found: list[DiscoveredPlugin] = []
    if isinstance(paths, (str, os.PathLike)):
        paths = [paths]
    for root in paths or DEFAULT_DISCOVERY_PATHS:
        root = Path(root).expanduser()
        if root.is_file():
            candidates = [manifest_path(root)]
        elif root.is_dir():
            candidates = sorted(root.rglob("*" + SUFFIX) if scan_subdirectories else root.glob("*" + SUFFIX))
        else:
            continue
        for file in candidates:
            executable = file.with_name(file.name[: -len(SUFFIX)])
            try:
                m = read_manifest(file)
                found.append(DiscoveredPlugin(m.name, m.type, m.version, m.executable or executable, file, True))
            except ManifestError as exc:
                found.append(DiscoveredPlugin(exc.plugin, "", "", executable, file, False, exc.message))
    return found


def discovery_table(entries: list[DiscoveredPlugin]) -> pandas.DataFrame:
    """Discovered plugins as a DataFrame: name, type, version, valid, error, executable, manifest."""
    import pandas

    columns = ["name", "type", "version", "valid", "error", "executable", "manifest"]
    return pandas.DataFrame([{c: getattr(e, c) for c in columns} for e in entries], columns=columns)
