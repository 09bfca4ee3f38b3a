"""Built-in providers, so that everything works with no setup.

Each runs in-kernel (``session.add(name, EchoLLM())``) or as a subprocess
plugin (``session.load("builtin:echo", transport="subprocess")``, or the
launcher and manifest under ``hector_nb/providers/plugins/``).
"""

from __future__ import annotations

from pathlib import Path

from .echo import EchoLLM
from .hashing import HashingEmbedder
from .memory import MemoryDatabase

BUILTINS = {"echo": EchoLLM, "memory": MemoryDatabase, "hashing": HashingEmbedder}
PLUGIN_DIR = Path(__file__).parent / "plugins"

__all__ = ["BUILTINS", "EchoLLM", "HashingEmbedder", "MemoryDatabase", "builtin_plugin_path"]


def builtin_plugin_path(name: str) -> Path:
    """The launcher of a built-in provider, with its ``.plugin.yaml`` beside it."""
    return PLUGIN_DIR / name
