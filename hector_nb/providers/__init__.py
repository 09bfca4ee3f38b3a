"""Built-in providers, so that everything works with no setup.

Each runs in-kernel (``session.add(name, EchoLLM())``) or as a subprocess
plugin (``session.load("builtin:echo", transport="subprocess")``, or the
launcher and manifest under ``hector_nb/providers/plugins/``).

Classes are imported on first use: a plugin process serving the echo LLM
must not pay for numpy, which only the database and the embedder need.
"""

from __future__ import annotations

import importlib
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from .echo import EchoLLM
    from .hashing import HashingEmbedder
    from .memory import MemoryDatabase

#: Built-in name -> (module, class).
_CLASSES = {"echo": ("echo", "EchoLLM"), "memory": ("memory", "MemoryDatabase"),
            "hashing": ("hashing", "HashingEmbedder")}
PLUGIN_DIR = Path(__file__).parent / "plugins"

__all__ = ["BUILTINS", "EchoLLM", "HashingEmbedder", "MemoryDatabase", "builtin_plugin_path"]


def _load(module: str, cls: str) -> type:
    return getattr(importlib.import_module(f".{module}", __name__), cls)


def __getattr__(name: str) -> Any:
    if name == "BUILTINS":
        return {builtin: _load(*where) for builtin, where in _CLASSES.items()}
    for module, cls in _CLASSES.values():
        if name == cls:
            return _load(module, cls)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


def builtin_plugin_path(name: str) -> Path:
    """The launcher of a built-in provider, with its ``.plugin.yaml`` beside it."""
    return PLUGIN_DIR / name
