"""The ``plugins:`` section of a ``hector.yaml``.

::

    plugins:
      llm_providers:
        my-llm: {type: grpc, path: ./plugins/my-llm, enabled: true, config: {api_key: "${API_KEY}"}}
      database_providers: {...}
      embedder_providers: {...}
    plugin_discovery: {enabled: true, paths: [./plugins], scan_subdirectories: false}

``${VAR}`` and ``${VAR:-default}`` come from the environment; paths are relative
to the file. Unlike Hector, which silently drops config values that are not
strings, hector_nb passes every scalar as its text: numbers as Python's ``str()``
writes them, booleans as ``true``/``false``.
"""

from __future__ import annotations

import os
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from . import sdk
from .errors import InvalidConfig

SECTIONS = {
    "llm_providers": sdk.PLUGIN_TYPE_LLM,
    "database_providers": sdk.PLUGIN_TYPE_DATABASE,
    "embedder_providers": sdk.PLUGIN_TYPE_EMBEDDER,
}
_VARIABLE = re.compile(r"\$\{([A-Za-z_][A-Za-z0-9_]*)(?::-([^}]*))?\}")


def config_text(value: Any, key: str = "", plugin: str = "") -> str:
    """A scalar config value as the text ``Initialize`` receives."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if value is None:
        return ""
    if isinstance(value, (str, int, float)):
        return str(value)
    raise InvalidConfig(plugin or "?", "configure",
                        f"config key {key!r} is a {type(value).__name__}; only scalar values "
                        "(text, numbers, booleans) can be passed to a plugin")


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
        raise InvalidConfig(where or "?", "expand variables",
                            f"environment variable {name} is not set; export it or write ${{{name}:-default}}")

    return _VARIABLE.sub(substitute, text)


@dataclass
class PluginSpec:
    """One plugin declared in a ``hector.yaml``."""

    name: str
    plugin_type: str
    path: Path
    enabled: bool = True
    config: dict[str, str] = field(default_factory=dict)
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


def _plugin_spec(name: str, entry: Any, plugin_type: str, file: Path, environ: Mapping[str, str]) -> PluginSpec:
    if not isinstance(entry, dict):
        raise InvalidConfig(name, "read config", f"{file}: the entry must be a mapping with type, path, config")
    kind = _expand(entry.get("type", "grpc"), environ, name)
    if kind != "grpc":
        raise InvalidConfig(name, "read config", f"{file}: type is {kind!r}; only 'grpc' plugins exist")
    path = _expand(entry.get("path"), environ, name)
    if not path:
        raise InvalidConfig(name, "read config", f"{file}: 'path' is missing; point it at the executable")
    config = entry.get("config") or {}
    if not isinstance(config, dict):
        raise InvalidConfig(name, "read config", f"{file}: 'config' must be a mapping of key: value")
    enabled = _expand(entry.get("enabled", True), environ, name)
    return PluginSpec(
        name=name,
        plugin_type=plugin_type,
        path=_resolve_path(str(path), file.parent),
        enabled=enabled not in (False, "false", "False", "0"),
        config={str(k): config_text(_expand(v, environ, name), str(k), name) for k, v in config.items()},
        source=file,
    )


def load_hector_config(path: str | os.PathLike[str], environ: Mapping[str, str] | None = None) -> HectorConfig:
    """Read the plugin declarations of a ``hector.yaml``; disabled plugins are left out."""
    file = Path(path).expanduser().resolve()
    environ = os.environ if environ is None else environ
    try:
        data = yaml.safe_load(file.read_text()) or {}
    except FileNotFoundError:
        raise InvalidConfig(str(file), "read config", f"{file} does not exist") from None
    except yaml.YAMLError as exc:
        raise InvalidConfig(str(file), "read config", f"{file} is not valid YAML: {exc}") from None
    if not isinstance(data, dict):
        raise InvalidConfig(str(file), "read config", f"{file}: expected a mapping at the top")
    section = data.get("plugins") or {}
    if not isinstance(section, dict):
        raise InvalidConfig(str(file), "read config", f"{file}: 'plugins:' must be a mapping")
    plugins = []
    for key, plugin_type in SECTIONS.items():
        entries = section.get(key) or {}
        if not isinstance(entries, dict):
            raise InvalidConfig(str(file), "read config", f"{file}: 'plugins.{key}' must map names to plugins")
        for name, entry in entries.items():
            spec = _plugin_spec(str(name), entry, plugin_type, file, environ)
            if spec.enabled:
                plugins.append(spec)
    raw = data.get("plugin_discovery") or section.get("plugin_discovery") or {}
    discovery = DiscoverySettings(
        enabled=bool(raw.get("enabled", False)),
        paths=[_resolve_path(expand_env(str(p), environ, str(file)), file.parent) for p in raw.get("paths") or []],
        scan_subdirectories=bool(raw.get("scan_subdirectories", False)),
    )
    return HectorConfig(plugins, discovery, file)
