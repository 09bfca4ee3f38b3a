"""Built-in providers, so that everything works with no setup.

Each runs as a plugin process, exactly as Hector starts it: the launcher
``hector_nb/providers/plugins/NAME`` beside its ``NAME.plugin.yaml``
(``session.load("builtin:echo")``; :mod:`hector_nb.targets` says why), or in
this process when asked (``session.load("builtin:echo", transport="in-kernel")``,
``session.add(name, EchoLLM())``). Each committed manifest is the one its class
declares (``manifest_from_provider``), byte for byte: a test holds them equal.

Classes are imported on first use: a plugin process serving the echo LLM
must not pay for numpy, which only the database and the embedder need.
"""

from __future__ import annotations

import importlib
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from ..plugin import sdk
    from .echo import EchoLLM
    from .hashing import HashingEmbedder
    from .llama import LlamaLLM
    from .memory import MemoryDatabase
    from .milvus import MilvusDatabase
    from .minilm import MiniLMEmbedder
    from .openai import OpenAILLM
    from .qdrant import QdrantDatabase
    from .usearch import USearchDatabase

#: Built-in name -> (module, class).
_CLASSES = {"echo": ("echo", "EchoLLM"), "memory": ("memory", "MemoryDatabase"),
            "hashing": ("hashing", "HashingEmbedder"),
            # Real engines: each needs its extra (pip install -e ".[NAME]" in the clone), imported at initialize.
            "qdrant": ("qdrant", "QdrantDatabase"), "milvus": ("milvus", "MilvusDatabase"),
            "usearch": ("usearch", "USearchDatabase"), "minilm": ("minilm", "MiniLMEmbedder"),
            "openai": ("openai", "OpenAILLM"), "llama": ("llama", "LlamaLLM")}
#: The built-in names, in the order they are listed to a user.
BUILTIN_NAMES = tuple(_CLASSES)
#: The built-ins that need no extra.
TOYS = ("echo", "memory", "hashing")
PLUGIN_DIR = Path(__file__).parent / "plugins"

__all__ = ["BUILTINS", "BUILTIN_NAMES", "TOYS", "EchoLLM", "HashingEmbedder", "LlamaLLM", "MemoryDatabase",
           "MilvusDatabase", "MiniLMEmbedder", "OpenAILLM", "QdrantDatabase", "USearchDatabase", "builtin_class",
           "builtin_plugin_path"]


def _load(module: str, cls: str) -> type[sdk.Provider]:
    found: type[sdk.Provider] = getattr(importlib.import_module(f".{module}", __name__), cls)
    return found


def __getattr__(name: str) -> Any:
    if name == "BUILTINS":
        return {builtin: _load(*where) for builtin, where in _CLASSES.items()}
    for module, cls in _CLASSES.values():
        if name == cls:
            return _load(module, cls)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


def builtin_class(name: str) -> type[sdk.Provider]:
    """The class of the built-in provider ``name`` (``echo``...), importing only its own module."""
    return _load(*_CLASSES[name])


def builtin_plugin_path(name: str) -> Path:
    """The launcher of a built-in provider, with its ``.plugin.yaml`` beside it."""
    return PLUGIN_DIR / name
