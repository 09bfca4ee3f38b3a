"""``%%hector provider``: the cell defines a provider class, registered at once under a name."""

from __future__ import annotations

import argparse
import ast
import atexit
import importlib
import shutil
import sys
import tempfile
from pathlib import Path
from types import ModuleType

from IPython.core.error import UsageError

from .. import sdk
from ..config import parse_settings
from ..host.clients import PluginClient
from ..options import SET, option
from .base import MagicContext, subcommand

_cell_modules: Path | None = None


def _cell_modules_dir() -> Path:
    """Where ``--subprocess`` cells become modules: made on first use, removed when the kernel exits."""
    global _cell_modules
    if _cell_modules is None:
        _cell_modules = Path(tempfile.mkdtemp(prefix="hector-nb-cells-"))
        atexit.register(shutil.rmtree, _cell_modules, ignore_errors=True)
        sys.path.insert(0, str(_cell_modules))
    return _cell_modules


def _provider_class_names(cell: str) -> list[str]:
    try:
        tree = ast.parse(cell)
    except SyntaxError as exc:
        # The cell's body starts on the line after %%hector: count lines as the user sees them.
        where = f" at line {exc.lineno + 1} of the cell" if exc.lineno else ""
        text = f": {exc.text.strip()}" if exc.text and exc.text.strip() else ""
        raise UsageError(f"the provider cell does not parse: {exc.msg}{where}{text}") from None
    return [node.name for node in tree.body if isinstance(node, ast.ClassDef)]


def _pick(namespace: dict[str, object], names: list[str]) -> type[sdk.Provider]:
    providers = [value for value in map(namespace.get, names)
                 if isinstance(value, type) and issubclass(value, sdk.Provider) and value.plugin_type]
    if not providers:
        raise UsageError("the cell defines no provider class: subclass hector_nb.sdk.LLMProvider, "
                         "DatabaseProvider or EmbedderProvider")
    return providers[-1]


def _cell_module(name: str, cell: str) -> ModuleType:
    """The cell as an importable module, so a plugin process can import the class too."""
    # One module per name: every character a module name cannot hold is spelled out (bot-1 and bot_1 differ).
    module_name = "hector_nb_cell_" + "".join(c if c.isascii() and c.isalnum() else f"_{ord(c):x}_" for c in name)
    (_cell_modules_dir() / f"{module_name}.py").write_text(cell)
    importlib.invalidate_caches()
    try:
        if module_name in sys.modules:
            return importlib.reload(sys.modules[module_name])
        return importlib.import_module(module_name)
    except Exception as exc:  # noqa: BLE001 - the user's cell failed: say how to fix it
        raise UsageError(f"with --subprocess the cell runs on its own, as a module: {type(exc).__name__}: {exc}; "
                         "put the imports and helpers it needs inside the cell") from None


@subcommand("provider", [
    option("--name", help="register it under this name (default: the class's manifest name)"),
    option("--subprocess", action="store_true", help="serve it as a real plugin process"),
    SET,
], cell=True)
def provider(ctx: MagicContext, args: argparse.Namespace, cell: str | None) -> PluginClient:
    """Define a provider class in the cell and register it; running the cell again replaces it."""
    if cell is None or not cell.strip():
        raise UsageError("%%hector provider takes the provider's class in the cell body")
    names = _provider_class_names(cell)
    result = ctx.shell.run_cell(cell, store_history=False)
    if not result.success:
        raise UsageError("the provider cell raised (see above); fix it and run it again")
    cls = _pick(ctx.shell.user_ns, names)
    name = args.name or sdk.plugin_name(cls)
    if args.subprocess:
        cls = getattr(_cell_module(name, cell), cls.__name__)
    if name in ctx.session:
        ctx.session.unload(name)
    transport = "subprocess" if args.subprocess else "in-kernel"
    return ctx.session.add(name, cls(), transport=transport, config=parse_settings(args.set))
