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
anything else is refused (:mod:`hector_nb.imports`). Config values given in the
notebook are never written: the manifest lists config keys only, with the
defaults the class itself declares. The name, version, author and description
the manifest is written with are what the plugin answers too (a JSON file its
launcher reads).

A re-export is written beside the old one, inside ``DIR``, and renamed into
place once complete: a failed one leaves the previous plugin working.
"""

from __future__ import annotations

import ast
import builtins
import importlib
import importlib.metadata
import importlib.util
import inspect
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
from .imports import JudgedImports, builtin_requirements, judge_imports, read_source, requirement_of
from .manifest import PluginManifest, manifest_from_provider, manifest_path
from .requirements import merge_requirements, parse_requirement, read_requirements, requirements_text
from .targets import require_provider

RUNTIME_PACKAGE = "_hector_runtime"
BASE_REQUIREMENTS = ("grpcio>=1.85.1", "grpcio-health-checking>=1.85.1", "protobuf>=7.35.1,<8")
#: hector_nb.plugin, which imports nothing else of hector_nb: copied whole as the plugin's runtime.
_RUNTIME_DIR = Path(__file__).resolve().parent / "plugin"
#: hector_nb's built-in providers, whose modules a subclass carries into the runtime's ``providers``.
_BUILTIN_PACKAGE = "hector_nb.providers"
_BUILTIN_DIR = Path(__file__).resolve().parent / "providers"
_BUILTIN_IMPORT = re.compile(r"from hector_nb\.providers(?:\.\w+)? import (\w+)(?: as (\w+))?")
#: Beside the provider's source: which distribution provides each imported top-level module.
DISTRIBUTIONS_FILE = "distributions.json"
#: Beside the provider's source: the manifest facts the plugin answers with (GetManifest, its stderr lines).
FACTS_FILE = "manifest.json"
#: The facts of the manifest that export may override and the plugin must answer alike.
_FACTS = ("name", "version", "author", "description")
#: Bounds pip's installation into an export's virtualenv.
VENV_TIMEOUT = 900
_BUILTINS = set(dir(builtins))
_UNSET = object()


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


@dataclass
class _Definition:
    name: str
    source: str
    node: ast.AST
    is_import: bool = False
    #: An assignment of something other than a literal: carried only when its value is a plain constant.
    computed: bool = False


def _statement_source(cell: str, node: ast.stmt) -> str:
    lines = cell.splitlines()
    first = min([node.lineno, *(d.lineno for d in getattr(node, "decorator_list", []))])
    return "\n".join(lines[first - 1:node.end_lineno])


def _import_lines(node: ast.Import | ast.ImportFrom) -> dict[str, str]:
    """Each name an import statement binds, with a statement binding just that name."""
    bound = {}
    for alias in node.names:
        spelled = f"{alias.name} as {alias.asname}" if alias.asname else alias.name
        if isinstance(node, ast.Import):
            bound[alias.asname or alias.name.split(".")[0]] = f"import {spelled}"
        else:
            module = "." * node.level + (node.module or "")
            bound[alias.asname or alias.name] = f"from {module} import {spelled}"
    return bound


def _code_of(cell: str) -> str:
    """A cell's Python: the body of a ``%%hector provider`` cell, other cell magics dropped.

    ``In`` holds cells as IPython transformed them, so a cell magic reads
    ``get_ipython().run_cell_magic('hector', 'provider ...', body)``; raw
    history (``%%hector provider`` on the first line) is understood too.
    """
    if cell.startswith("get_ipython().run_cell_magic("):
        try:
            statement = ast.parse(cell).body[0]
            call = statement.value if isinstance(statement, ast.Expr) else None
            if not isinstance(call, ast.Call):
                return ""
            magic, line, body = (ast.literal_eval(arg) for arg in call.args)
        except (SyntaxError, ValueError, IndexError):
            return ""
        return body if magic == "hector" and line.split()[:1] == ["provider"] else ""
    lines = cell.splitlines()
    if lines and lines[0].startswith("%%"):
        if not lines[0].startswith("%%hector provider"):
            return ""
        lines = lines[1:]
    return "\n".join("" if line.lstrip().startswith(("%", "!")) else line for line in lines)


def _is_literal(value: ast.expr | None) -> bool:
    if value is None:
        return False
    try:
        ast.literal_eval(value)
    except (ValueError, TypeError, SyntaxError, RecursionError):
        return False
    return True


def _definitions(cells: list[str]) -> dict[str, _Definition]:
    """Top-level names the cells define, the last definition winning as it does when cells run in order."""
    found: dict[str, _Definition] = {}
    for raw in cells:
        cell = _code_of(raw)
        try:
            tree = ast.parse(cell)
        except SyntaxError:
            continue
        for node in tree.body:
            if isinstance(node, (ast.Import, ast.ImportFrom)):
                for name, line in _import_lines(node).items():
                    found[name] = _Definition(name, line, node, is_import=True)
            elif isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
                found[node.name] = _Definition(node.name, _statement_source(cell, node), node)
            elif isinstance(node, (ast.Assign, ast.AnnAssign)):
                targets = node.targets if isinstance(node, ast.Assign) else [node.target]
                computed = not _is_literal(node.value)
                for target in targets:
                    if isinstance(target, ast.Name):
                        found[target.id] = _Definition(target.id, _statement_source(cell, node), node,
                                                       computed=computed)
    return found


def _free_names(node: ast.AST) -> set[str]:
    """Names a definition reads that it does not bind itself (approximately: any binding counts)."""
    loaded: set[str] = set()
    bound: set[str] = set()
    for child in ast.walk(node):
        if isinstance(child, ast.Name):
            (loaded if isinstance(child.ctx, ast.Load) else bound).add(child.id)
        elif isinstance(child, ast.arg):
            bound.add(child.arg)
        elif isinstance(child, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)) and child is not node:
            bound.add(child.name)
        elif isinstance(child, (ast.Import, ast.ImportFrom)):
            bound.update(_import_lines(child))
        elif isinstance(child, ast.ExceptHandler) and child.name:
            bound.add(child.name)
    return loaded - bound - _BUILTINS


def _plain_constant(value: Any) -> bool:
    """Text, a number, a boolean, None, or a container of them: what a computed constant may be."""
    if value is None or isinstance(value, (str, bytes, int, float, complex)):
        return True
    if isinstance(value, (tuple, list, set, frozenset)):
        return all(_plain_constant(item) for item in value)
    if isinstance(value, dict):
        return all(_plain_constant(k) and _plain_constant(v) for k, v in value.items())
    return False


def _carried_builtins(source: str, builtin: str | None) -> dict[str, str]:
    """The sources of the built-in provider modules the plugin needs: the one it subclasses, those its source
    imports, and those these import in turn (``from .openai import ...``), by module name."""
    wanted = ({builtin} if builtin else set()) | set(re.findall(rf"\b{RUNTIME_PACKAGE}\.providers\.(\w+)", source))
    carried: dict[str, str] = {}
    while wanted:
        name = wanted.pop()
        carried[name] = (_BUILTIN_DIR / f"{name}.py").read_text()
        wanted |= set(re.findall(r"^from \.(\w+) import", carried[name], re.MULTILINE)) - carried.keys()
    return dict(sorted(carried.items()))


def _builtin_module(class_name: str) -> str | None:
    """The module name (``echo``) of hector_nb's built-in provider ``class_name``, if it is one."""
    found = getattr(importlib.import_module(_BUILTIN_PACKAGE), class_name, None)
    if isinstance(found, type) and issubclass(found, sdk.Provider) and found.__module__.startswith(_BUILTIN_PACKAGE):
        return found.__module__.rpartition(".")[2]
    return None


def _runtime_import(line: str, plugin: str) -> str:
    """hector_nb's SDK and built-in provider imports, pointed at the runtime the plugin carries; other
    hector_nb imports refused. The rewritten line holds only identifiers checked to name a built-in."""
    if "hector_nb" not in line:
        return line
    if re.match(r"(from|import) hector_nb\.sdk\b", line) or re.match(r"from hector_nb import sdk\b", line):
        return line.replace("hector_nb", RUNTIME_PACKAGE, 1)
    builtin = _BUILTIN_IMPORT.fullmatch(line)
    module = _builtin_module(builtin[1]) if builtin else None
    if builtin and module:
        alias = f" as {builtin[2]}" if builtin[2] else ""
        return f"from {RUNTIME_PACKAGE}.providers.{module} import {builtin[1]}{alias}"
    raise ExportError(plugin, "export", f"the provider uses `{line}`, but an exported plugin carries only "
                      "hector_nb.sdk and the built-in providers; copy what it needs from hector_nb into a cell")


def _collect(cls: type, definitions: dict[str, _Definition], namespace: dict[str, Any], plugin: str) -> str:
    """The class's source with everything it uses from other cells, in an order that runs."""
    ordered: list[_Definition] = []
    seen: set[str] = set()

    def visit(name: str) -> None:
        if name in seen:
            return
        seen.add(name)
        definition = definitions.get(name)
        # A computed constant is carried as its code, and computed again in the plugin process, when
        # what it computed here is a plain constant; anything else exists only in this notebook.
        if definition is None or (definition.computed and not _plain_constant(namespace.get(name, _UNSET))):
            if definition is not None or (name in namespace and not inspect.ismodule(namespace[name])):
                raise ExportError(plugin, "export", f"the provider uses {name!r}, a value that exists only in the "
                                  "running notebook; define it in a cell as code (a literal, a function), or pass "
                                  "it through the plugin's config")
            return  # a local name, or a name the provider binds at run time
        if not definition.is_import:
            for free in sorted(_free_names(definition.node)):
                visit(free)
        ordered.append(definition)

    visit(cls.__name__)
    imports = [_runtime_import(d.source, plugin) for d in ordered if d.is_import]
    bodies = [d.source for d in ordered if not d.is_import]
    header = f'"""Provider {cls.__name__}, exported by hector_nb: edit its notebook or module, not this."""\n\n'
    return header + "\n".join(dict.fromkeys(imports)) + "\n\n\n" + "\n\n\n".join(bodies) + "\n"


def _notebook_cells(namespace: dict[str, Any]) -> list[str]:
    cells = namespace.get("In") or namespace.get("_ih") or []
    return [cell for cell in cells if isinstance(cell, str)]


def _source_cells(cls: type, namespace: dict[str, Any] | None, plugin: str) -> tuple[list[str], dict[str, Any]]:
    """The code the class comes from: the notebook's cells, or its module's source."""
    module = sys.modules.get(cls.__module__)
    if cls.__module__ == "__main__" or module is None or not getattr(module, "__file__", None):
        if namespace is None:
            from IPython.core.interactiveshell import InteractiveShell

            # The running shell, if any; instance() would create one.
            shell: Any = InteractiveShell._instance if InteractiveShell.initialized() else None
            namespace = shell.user_ns if shell is not None else {}
        cells = _notebook_cells(namespace)
        if cls.__module__ != "__main__" and module is not None:
            namespace = {**vars(module), **namespace}
        return cells, namespace
    try:
        return [inspect.getsource(module)], vars(module)
    except (OSError, TypeError):
        raise ExportError(plugin, "export", f"no source for module {cls.__module__}") from None


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


def _carried_text(path: Path, plugin: str) -> str:
    """A local module's source with its hector_nb imports pointed at the plugin's runtime (:func:`_runtime_import`)."""
    text = read_source(path, plugin)
    lines = text.splitlines(keepends=True)

    def offset(line: int, byte_column: int) -> int:  # ast counts columns in UTF-8 bytes
        return sum(map(len, lines[:line - 1])) + len(lines[line - 1].encode()[:byte_column].decode())

    edits = []
    for node in ast.walk(ast.parse(text, str(path))):
        if isinstance(node, (ast.Import, ast.ImportFrom)) and getattr(node, "level", 0) == 0 and any(
                name.split(".")[0] == "hector_nb" for name in
                ([a.name for a in node.names] if isinstance(node, ast.Import) else [node.module or ""])):
            replacement = "; ".join(_runtime_import(line, plugin) for line in _import_lines(node).values())
            assert node.end_lineno is not None and node.end_col_offset is not None
            edits.append((offset(node.lineno, node.col_offset), offset(node.end_lineno, node.end_col_offset),
                          replacement))
    for start, end, replacement in sorted(edits, reverse=True):
        text = text[:start] + replacement + text[end:]
    return text


def _local_files(judged: JudgedImports, taken: set[str], plugin: str) -> dict[str, str | Path]:
    """The local modules' files, by path inside the plugin's library: Python source as carried text, other
    files of a package to copy as they are."""
    files: dict[str, str | Path] = {}
    for module, location in sorted(judged.local.items()):
        if module in taken:
            raise ExportError(plugin, "export", f"the provider imports a local module named {module!r}, a name the "
                              "plugin's own files use; rename that module")
        if not location.is_dir():
            files[f"{module}.py"] = _carried_text(location, plugin)
            continue
        for path in sorted(location.rglob("*")):
            if path.is_file() and "__pycache__" not in path.parts and path.suffix != ".pyc":
                inside = f"{module}/{path.relative_to(location).as_posix()}"
                files[inside] = _carried_text(path, plugin) if path.suffix == ".py" else path
    return files


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
    require_provider(cls, getattr(cls, "__name__", "?"), "export")
    plugin = _checked_name(name or sdk.plugin_name(cls))
    if venv and python is not None:
        raise ExportError(plugin, "export", "give either --python or --venv: the launcher names one interpreter")
    python = sys.executable if python is None else python
    _check_interpreter(python, plugin)
    builtin = _builtin_module(cls.__name__) if cls.__module__.startswith(_BUILTIN_PACKAGE + ".") else None
    if builtin:
        source, module = "", f"{RUNTIME_PACKAGE}.providers.{builtin}"
    else:
        cells, names = _source_cells(cls, namespace, plugin)
        definitions = _definitions(cells)
        if cls.__name__ not in definitions or not isinstance(definitions[cls.__name__].node, ast.ClassDef):
            raise ExportError(plugin, "export", f"no source for class {cls.__name__}: define it in a notebook cell "
                              "or a module file (classes made with exec() or type() cannot be exported)")
        source = _collect(cls, definitions, names, plugin)
        module = "provider_" + "".join(c if c.isalnum() else "_" for c in plugin)
    carried = _carried_builtins(source, builtin)
    declared = [parse_requirement(text, plugin, "export_requirements") for text in cls.export_requirements]
    extra = [parse_requirement(text, plugin, "--requirement") for text in requirements]
    judged = judge_imports([source], carried.values(), [*declared, *extra], plugin)
    source_name = f"{module}.py" if source else f"{RUNTIME_PACKAGE}/providers/{builtin}.py"
    local = _local_files(judged, {RUNTIME_PACKAGE, module}, plugin)

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
