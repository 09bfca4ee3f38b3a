"""What an exported plugin's sources import, judged: installed distributions, local modules, or refused.

Each top-level module the provider's code imports (the standard library, the
plugin's runtime and hector_nb aside) is found the way the exporting Python
finds it, without running it:

- installed (it lives under a ``site-packages`` or ``dist-packages`` directory)
  and some installed distribution provides it: that distribution becomes a
  requirement, pinned to where it came from when it did not come from an index
  (``NAME @ URL``, as ``pip freeze`` writes it);
- found on disk anywhere else (a sibling ``.py`` file, a package directory, a
  file a notebook cell wrote): a local module, carried into the plugin with its
  own imports judged in turn;
- anything else is refused with its name. A module's name is never written into
  ``requirements.txt`` as a package's: pip would install whatever the index
  holds under that name.

A module named by a requirement the user declares (``--requirement``,
``export_requirements``) may be absent here. hector_nb's own built-in
providers import their engines lazily; an engine that is not installed is
covered by the requirements of the built-in's extra (``hector_nb[qdrant]``).
"""

from __future__ import annotations

import ast
import importlib.metadata
import importlib.util
import json
import sys
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path

from packaging.requirements import Requirement
from packaging.utils import canonicalize_name

from .errors import ExportError

#: Top-level modules that are never requirements: the plugin's runtime, and hector_nb (rewritten to it).
NOT_PACKAGES = frozenset({"_hector_runtime", "hector_nb"})
#: Where installers put distributions; a module found anywhere else is the user's own.
_INSTALLED_DIRS = frozenset({"site-packages", "dist-packages"})


@dataclass
class JudgedImports:
    """The verdict on what a plugin's sources import."""

    #: Each installed top-level module with the distributions that provide it.
    installed: dict[str, list[str]] = field(default_factory=dict)
    #: Each local top-level module with its file, or its package's directory.
    local: dict[str, Path] = field(default_factory=dict)


def imported_modules(source: str) -> set[str]:
    """The top-level modules ``source`` imports absolutely, the standard library and :data:`NOT_PACKAGES` aside."""
    found: set[str] = set()
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.Import):
            found.update(alias.name.split(".")[0] for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            found.add(node.module.split(".")[0])
    return found - NOT_PACKAGES - set(sys.stdlib_module_names)


def module_location(module: str) -> Path | None:
    """Where the exporting Python finds the top-level ``module``: its file or package directory, or None."""
    loaded = sys.modules.get(module)
    spec = getattr(loaded, "__spec__", None) if loaded is not None else None
    if spec is None and loaded is None:
        try:
            spec = importlib.util.find_spec(module)  # a top-level name: finds it without running it
        except (ImportError, ValueError):
            return None
    if spec is None:
        return None
    if spec.submodule_search_locations:  # a package, or a namespace package in one directory
        locations = list(spec.submodule_search_locations)
        return Path(locations[0]) if len(locations) == 1 else None
    return Path(spec.origin) if spec.origin and spec.has_location else None


def _installed(location: Path) -> bool:
    return not _INSTALLED_DIRS.isdisjoint(location.parts)


def requirement_of(distribution: str) -> str:
    """How pip installs ``distribution`` again: by name from an index, or from the URL it was installed from."""
    try:
        origin = json.loads(importlib.metadata.distribution(distribution).read_text("direct_url.json") or "null")
    except (importlib.metadata.PackageNotFoundError, ValueError):
        origin = None
    if not isinstance(origin, dict) or "url" not in origin:
        return distribution
    vcs = origin.get("vcs_info")
    if isinstance(vcs, dict):
        return f"{distribution} @ {vcs['vcs']}+{origin['url']}@{vcs['commit_id']}"
    return f"{distribution} @ {origin['url']}"


def builtin_requirements(modules: Iterable[str]) -> list[str]:
    """The requirements of hector_nb's extras named as built-in provider modules (``qdrant``): the engines those
    modules import once initialized, whether or not they are installed here."""
    try:
        listed = importlib.metadata.requires("hector_nb") or []
    except importlib.metadata.PackageNotFoundError:
        return []
    wanted = set(modules)
    found = []
    for text in listed:
        requirement = Requirement(text)
        marker = requirement.marker
        if marker is not None and "extra" in str(marker) and any(marker.evaluate({"extra": m}) for m in wanted):
            requirement.marker = None
            found.append(str(requirement))
    return found


def read_source(path: Path, plugin: str) -> str:
    """A local module file's Python source, or :class:`ExportError` naming the file when it is not readable as such."""
    try:
        text = path.read_text(encoding="utf-8")
        ast.parse(text, str(path))
    except (UnicodeDecodeError, SyntaxError, ValueError) as exc:
        raise ExportError(plugin, "export", f"the provider imports a local module whose file {path} is not Python "
                          f"source that export can carry ({exc}); fix it, or move it out of the package") from None
    return text


def local_sources(location: Path) -> Iterable[Path]:
    """The Python files of a local module: the file, or every ``.py`` under the package directory."""
    if location.is_dir():
        return sorted(path for path in location.rglob("*.py") if "__pycache__" not in path.parts)
    return [location]


def judge_imports(sources: Iterable[str], builtin_sources: Iterable[str], declared: Iterable[Requirement],
                  plugin: str) -> JudgedImports:
    """Judge every top-level module that ``sources`` (the user's code) and ``builtin_sources`` (hector_nb's
    built-in providers' modules) import, and those of each local module found, in turn."""
    distributions = importlib.metadata.packages_distributions()
    declared_names = {canonicalize_name(requirement.name) for requirement in declared}
    judged = JudgedImports()
    pending = [(source, False) for source in sources] + [(source, True) for source in builtin_sources]
    while pending:
        source, ours = pending.pop()
        for module in sorted(imported_modules(source) - judged.installed.keys() - judged.local.keys()):
            location = module_location(module)
            if location is not None and not _installed(location):
                if location.suffix != ".py" and not location.is_dir():
                    raise ExportError(plugin, "export", f"the provider imports the local module {module!r} "
                                      f"({location}), which is not Python source export can carry; make it a .py "
                                      "file or a package directory, or install it as a package")
                judged.local[module] = location
                pending += [(read_source(path, plugin), False) for path in local_sources(location)]
            elif location is not None and distributions.get(module):
                judged.installed[module] = list(dict.fromkeys(distributions[module]))
            elif not ours and canonicalize_name(module) not in declared_names:
                where = f"found at {location} but no installed distribution provides it" if location else \
                    "neither installed in this Python nor a local file beside the provider"
                raise ExportError(plugin, "export", f"the provider imports the module {module!r}, {where}; "
                                  "export never guesses a package from a module's name: install the package that "
                                  f"provides it here ({sys.executable} -m pip install PACKAGE), or, if that "
                                  f"package is named {module!r} too, pass --requirement {module}")
    return judged
