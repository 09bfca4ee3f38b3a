"""The code an exported plugin carries: its provider's source, gathered from the notebook or module.

The source is what the notebook says (nbdev's idea: the notebook is the source
of truth): the provider class as written, with the imports, functions, classes
and constants of other cells that it uses. A constant computed from imports and
literals is carried as code and computed again in the plugin process; values
that exist only in the running notebook cannot be carried. hector_nb's SDK and
built-in provider imports are pointed at the runtime the plugin carries
(:data:`RUNTIME_PACKAGE`); local modules it imports are carried with theirs
rewritten alike. :mod:`hector_nb.export` writes all of it.
"""

from __future__ import annotations

import ast
import builtins
import importlib
import inspect
import re
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from . import sdk
from .errors import ExportError
from .imports import JudgedImports, read_source

#: The package the plugin's runtime (hector_nb.plugin, copied whole) is importable as, inside its library.
RUNTIME_PACKAGE = "_hector_runtime"
#: hector_nb's built-in providers, whose modules a subclass carries into the runtime's ``providers``.
_BUILTIN_PACKAGE = "hector_nb.providers"
_BUILTIN_DIR = Path(__file__).resolve().parent / "providers"
_BUILTIN_IMPORT = re.compile(r"from hector_nb\.providers(?:\.\w+)? import (\w+)(?: as (\w+))?")
_BUILTINS = set(dir(builtins))
_UNSET = object()


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


def carried_builtins(source: str, builtin: str | None) -> dict[str, str]:
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


def local_files(judged: JudgedImports, taken: set[str], plugin: str) -> dict[str, str | Path]:
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


def builtin_of(cls: type) -> str | None:
    """The module name (``echo``) of the built-in provider ``cls`` is, if it is one of hector_nb's own."""
    return _builtin_module(cls.__name__) if cls.__module__.startswith(_BUILTIN_PACKAGE + ".") else None


def provider_source(cls: type, namespace: dict[str, Any] | None, plugin: str) -> str:
    """The source an exported plugin carries for ``cls``: the class as written, with what it uses from other
    cells (or its module), in an order that runs."""
    cells, names = _source_cells(cls, namespace, plugin)
    definitions = _definitions(cells)
    if cls.__name__ not in definitions or not isinstance(definitions[cls.__name__].node, ast.ClassDef):
        raise ExportError(plugin, "export", f"no source for class {cls.__name__}: define it in a notebook cell "
                          "or a module file (classes made with exec() or type() cannot be exported)")
    return _collect(cls, definitions, names, plugin)
