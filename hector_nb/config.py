"""The ``plugins:`` section of a ``hector.yaml``.

::

    plugins:
      llm_providers:
        my-llm: {type: grpc, path: ./plugins/my-llm, enabled: true, config: {api_key: "${API_KEY}"}}
      database_providers: {...}
      embedder_providers: {...}
    plugin_discovery: {enabled: true, paths: [./plugins], scan_subdirectories: false}

``${VAR}`` and ``${VAR:-default}`` come from the environment; paths are relative
to the file. Config values are kept as YAML read them: Hector passes only the
strings to ``Initialize`` (a session in ``hector`` fidelity does the same and
warns), while ``lenient`` fidelity passes every scalar as its text (numbers as
Python's ``str()`` writes them, booleans as ``true``/``false``).

In ``hector`` fidelity the file is also validated as Hector validates it: every
entry needs ``name:``, and what Hector refuses to start with is refused with
Hector's message (docs/protocol.md, "What real Hector does"): an ``llms:`` entry
named like a plugin, an agent or a document store naming a plugin (the stock
Hector CLI cannot route to plugins), an ``llms:`` type Hector has no client
for. ``lenient`` fidelity loads such a file with a warning.
"""

from __future__ import annotations

import os
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from . import hector, sdk
from .errors import ConfigError
from .hector_yaml import NotABoolean, load_yaml, setting_bool
from .plugin.constants import PROTOCOL, bool_text

SECTIONS = {
    "llm_providers": sdk.PLUGIN_TYPE_LLM,
    "database_providers": sdk.PLUGIN_TYPE_DATABASE,
    "embedder_providers": sdk.PLUGIN_TYPE_EMBEDDER,
}
#: The sections whose entries name LLMs, vector stores and embedders.
_REFERENCING_SECTIONS = ("llms", "agents", "document_stores", "vector_stores", "embedders")
_VARIABLE = re.compile(r"\$\{([A-Za-z_][A-Za-z0-9_]*)(?::-([^}]*))?\}")


def config_text(value: Any, key: str = "", plugin: str = "") -> str:
    """A scalar config value as the text ``Initialize`` receives."""
    if isinstance(value, bool):
        return bool_text(value)
    if value is None:
        return ""
    if isinstance(value, (str, int, float)):
        return str(value)
    raise ConfigError(plugin, "configure",
                      f"config key {key!r} is a {type(value).__name__}; only scalar values "
                      "(text, numbers, booleans) can be passed to a plugin", field=key)


def config_texts(config: Mapping[str, Any] | None, plugin: str = "") -> dict[str, str]:
    """Every value of a config mapping as text."""
    return {str(k): config_text(v, str(k), plugin) for k, v in (config or {}).items()}


def expand_env(text: str, environ: Mapping[str, str] | None = None, where: str = "") -> str:
    """Replace ``${VAR}`` and ``${VAR:-default}``; an unset variable without default is an error."""
    environ = os.environ if environ is None else environ

    def substitute(match: re.Match[str]) -> str:
        name, default = match.group(1), match.group(2)
        if name in environ:
            return environ[name]
        if default is not None:
            return default
        raise ConfigError(where, "expand variables",
                          f"environment variable {name} is not set; export it or write ${{{name}:-default}}")

    return _VARIABLE.sub(substitute, text)


@dataclass
class PluginSpec:
    """One plugin declared in a ``hector.yaml``."""

    name: str
    plugin_type: str
    path: Path
    enabled: bool = True
    #: As YAML read it (after ``${VAR}`` expansion): what Hector keeps of it is up to the fidelity.
    config: dict[str, Any] = field(default_factory=dict)
    source: Path | None = None


@dataclass
class DiscoverySettings:
    """The ``plugin_discovery:`` block."""

    enabled: bool = False
    paths: list[Path] = field(default_factory=list)
    scan_subdirectories: bool = False


@dataclass
class HectorConfig:
    """The plugin declarations of a ``hector.yaml``: enabled plugins and discovery settings."""

    plugins: list[PluginSpec]
    discovery: DiscoverySettings
    source: Path | None = None


def _expand(value: Any, environ: Mapping[str, str], where: str) -> Any:
    return expand_env(value, environ, where) if isinstance(value, str) else value


def _resolve_path(value: str, base: Path) -> Path:
    path = Path(value).expanduser()
    return path if path.is_absolute() else (base / path).resolve()


def _plugin_spec(name: str, entry: Any, section: str, file: Path, environ: Mapping[str, str],
                 mode: str) -> PluginSpec:
    if not isinstance(entry, dict):
        raise ConfigError(name, "read config", f"{file}: the entry must be a mapping with type, path, config",
                          file=file)
    if mode == hector.HECTOR and not entry.get("name"):
        raise ConfigError(name, "read config", f"{file}: Hector rejects the whole file: "
                          f"\"{hector.name_required_message(section, name)}\"; add 'name: {name}' to the entry",
                          file=file, field="name")
    kind = _expand(entry.get("type", PROTOCOL), environ, name)
    if kind != PROTOCOL:
        raise ConfigError(name, "read config", f"{file}: type is {kind!r}; only {PROTOCOL!r} plugins exist",
                          file=file, field="type")
    path = _expand(entry.get("path"), environ, name)
    if not path:
        raise ConfigError(name, "read config", f"{file}: 'path' is missing; point it at the executable",
                          file=file, field="path")
    if not isinstance(path, str):
        raise ConfigError(name, "read config", f"{file}: 'path' must be text, the executable's path; got {path!r}",
                          file=file, field="path")
    config = entry.get("config") or {}
    if not isinstance(config, dict):
        raise ConfigError(name, "read config", f"{file}: 'config' must be a mapping of key: value",
                          file=file, field="config")
    enabled = _setting_bool(entry, "enabled", True, environ, file, name)
    values = {str(k): _expand(v, environ, name) for k, v in config.items()}
    if mode == hector.LENIENT:
        config_texts(values, name)  # every value must become text: a list or map is an error here
    return PluginSpec(
        name=name,
        plugin_type=SECTIONS[section],
        path=_resolve_path(path, file.parent),
        enabled=enabled,
        config=values,
        source=file,
    )


def _setting_bool(block: Mapping[str, Any], key: str, default: bool, environ: Mapping[str, str], file: Path,
                  where: str, prefix: str = "") -> bool:
    """A boolean setting, ``${VAR}`` expanded, read by Hector's one rule (:func:`hector_yaml.setting_bool`)."""
    try:
        return setting_bool(_expand(block.get(key), environ, where), default)
    except NotABoolean as exc:
        raise ConfigError(where, "read config", f"{file}: '{prefix}{key}' is {exc}", file=file,
                          field=f"{prefix}{key}") from None


def _discovery_paths(value: Any, environ: Mapping[str, str], file: Path) -> list[Path]:
    """``paths:`` as Hector decodes it: a list of text, or one text split at commas; ``${VAR}`` expanded."""
    value = _expand(value, environ, str(file))
    if isinstance(value, str):
        value = [part for part in value.split(",") if part]
    if not isinstance(value, list) or not all(isinstance(p, (str, int, float)) and p is not True
                                              and p is not False for p in value):
        raise ConfigError("", "read config", f"{file}: 'plugin_discovery.paths' must be a list of "
                          f"directories, e.g. [./plugins]; got {value!r}", file=file, field="plugin_discovery.paths")
    return [_resolve_path(expand_env(str(p), environ, str(file)), file.parent) for p in value]


def _discovery(data: Mapping[str, Any], section: Mapping[str, Any], environ: Mapping[str, str],
               file: Path) -> DiscoverySettings:
    raw = data.get("plugin_discovery") or section.get("plugin_discovery") or {}
    if not isinstance(raw, dict):
        raise ConfigError("", "read config", f"{file}: 'plugin_discovery' must be a mapping of "
                          "enabled, paths, scan_subdirectories", file=file, field="plugin_discovery")
    prefix = "plugin_discovery."
    return DiscoverySettings(
        enabled=_setting_bool(raw, "enabled", False, environ, file, str(file), prefix),
        paths=_discovery_paths(raw.get("paths") or [], environ, file),
        scan_subdirectories=_setting_bool(raw, "scan_subdirectories", False, environ, file, str(file), prefix),
    )


def _mapping(data: Mapping[str, Any], key: str, file: Path) -> Mapping[str, Any]:
    value = data.get(key) or {}
    if not isinstance(value, dict):
        raise ConfigError("", "read config", f"{file}: '{key}' must be a mapping of names to settings",
                          file=file, field=key)
    return value


def _refuse_as_hector(data: Mapping[str, Any], plugins: Mapping[str, Any], file: Path, mode: str) -> None:
    """A config Hector refuses to start with: refused with Hector's message, or (lenient) a warning."""
    for entry, message, fix in hector.refused_config(data, plugins):
        if mode == hector.LENIENT:
            hector.warn_refused_config(entry, message, fix)
        else:
            raise ConfigError(entry, "read config", f'{file}: Hector refuses to start with it: "{message}"; {fix} '
                              "(fidelity='lenient' loads it anyway)", file=file)


def load_hector_config(path: str | os.PathLike[str], environ: Mapping[str, str] | None = None,
                       fidelity: str = hector.HECTOR) -> HectorConfig:
    """Read the plugin declarations of a ``hector.yaml``; disabled plugins are left out.

    ``fidelity="hector"`` validates and refuses as described in this module's docstring.
    """
    mode = hector.fidelity_mode(fidelity)
    file = Path(path).expanduser().resolve()
    environ = os.environ if environ is None else environ
    try:
        data = load_yaml(file) or {}
    except FileNotFoundError:
        raise ConfigError("", "read config", f"{file} does not exist", file=file) from None
    except OSError as exc:
        raise ConfigError("", "read config", f"{file} cannot be read: {exc.strerror or exc}", file=file) from None
    except UnicodeDecodeError as exc:
        raise ConfigError("", "read config", f"{file} is not UTF-8 text ({exc.reason} at byte {exc.start}); "
                          "save it as UTF-8", file=file) from None
    except yaml.YAMLError as exc:
        raise ConfigError("", "read config", f"{file} is not valid YAML: {exc}", file=file) from None
    if not isinstance(data, dict):
        raise ConfigError("", "read config", f"{file}: expected a mapping at the top", file=file)
    section = data.get("plugins") or {}
    if not isinstance(section, dict):
        raise ConfigError("", "read config", f"{file}: 'plugins:' must be a mapping", file=file, field="plugins")
    plugins = []
    for key in SECTIONS:
        entries = section.get(key) or {}
        if not isinstance(entries, dict):
            raise ConfigError("", "read config", f"{file}: 'plugins.{key}' must map names to plugins",
                              file=file, field=f"plugins.{key}")
        for name, entry in entries.items():
            spec = _plugin_spec(str(name), entry, key, file, environ, mode)
            if spec.enabled:
                plugins.append(spec)
    discovery = _discovery(data, section, environ, file)
    _refuse_as_hector({key: _mapping(data, key, file) for key in _REFERENCING_SECTIONS}, section, file, mode)
    return HectorConfig(plugins, discovery, file)


def parse_settings(pairs: Iterable[str], option: str = "--set") -> dict[str, str]:
    """``KEY=VALUE`` pairs (repeated ``--set`` options, ``hector_check_set`` lines) as the config Hector passes
    to ``Initialize``: every value is text, exactly as written after the first ``=`` (``0.7`` is the text
    ``0.7``, as Hector would pass it); blanks around the key are dropped.

    The one reader of ``--set`` for the magics, the command line and the pytest plugin. A pair without ``=``
    or without a key raises :class:`ConfigError` naming it. (A typed value, as ``hector.yaml`` may hold, comes
    from a ``hector.yaml``, ``%hector load --config``, or a ``config=`` dict in Python.)
    """
    config = {}
    for pair in pairs:
        key, sep, value = pair.partition("=")
        if not sep or not key.strip():
            raise ConfigError("", "configure", f"{option} takes KEY=VALUE (the value is text), got {pair!r}; "
                                               f"e.g. {option} prefix=Hi")
        config[key.strip()] = value
    return config
