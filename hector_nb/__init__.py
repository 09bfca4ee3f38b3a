"""hector_nb: build, run, compare and export Hector plugins from Jupyter.

``%load_ext hector_nb`` registers the ``%hector`` magics. A :class:`Session`
holds named plugins; :func:`session` returns the kernel's one Session, shared by
the magics and code. Plugin authors import :mod:`hector_nb.sdk`.

What is public
--------------
Three modules are public, and only these:

- ``hector_nb``: the names in its ``__all__`` (sessions, clients, the check,
  evaluation and comparison, ingestion, typed results, enums, errors, datasets, export);
- ``hector_nb.sdk``: what a plugin author writes providers with;
- ``hector_nb.providers``: the built-in providers.

Every other module (``hector_nb.sessions``, ``hector_nb.host.*``,
``hector_nb.conformance.*``...) is internal: its names may move or change
without notice; import them from ``hector_nb`` instead. The pytest plugin
(``hector_nb.conformance.pytest_plugin``) is loaded by pytest through its
``pytest11`` entry point, not imported. ``tests/layout/test_public_api.py``
holds the package to this: every public name resolves and ``__all__`` is complete.

The names are imported lazily, on first use, so a plugin process importing
``hector_nb.sdk`` does not pay for the notebook side (pandas, widgets).
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

__version__ = "0.1.0"

#: Public name -> the internal module (relative to hector_nb) that defines it.
_PUBLIC = {
    "Session": "sessions",
    "evaluate": "evaluation", "Evaluation": "evaluation",
    "compare_search": "compare", "Comparison": "compare",
    "SearchResults": "display", "Generation": "display",
    "CheckReport": "conformance.report",
    "PluginClient": "host.clients", "LLMClient": "host.clients", "DatabaseClient": "host.clients",
    "EmbedderClient": "host.clients",
    "Fidelity": "hector", "HectorFidelityWarning": "hector",
    "TransportKind": "host.transport",
    "load_corpus": "data", "STDLIB_QRELS": "data",
    "Dataset": "datasets", "load_beir": "datasets",
    "export_provider": "export",
    "upsert_frame": "ingest",
    "HectorDocumentStore": "bridge.simulated_hector", "HectorVectorStore": "bridge.simulated_hector",
    **dict.fromkeys(["HectorError", "OperationError", "PluginError", "ProviderError", "PluginCrashed", "PluginGaveUp",
                     "PluginNotAnswering", "PluginTimeout", "PluginNotFound", "WrongPluginType", "HandshakeError",
                     "InvalidInput", "PartialLoad", "CallCancelled", "SettingsError", "ConfigError", "ManifestError",
                     "ExportError", "DatasetError"], "errors"),
}

# Spelled out, not built from _PUBLIC: type checkers and linters read a literal list (the test keeps the two equal).
__all__ = [
    "check", "session", "load_ipython_extension", "unload_ipython_extension", "__version__",
    "Session", "evaluate", "Evaluation", "compare_search", "Comparison", "SearchResults", "Generation", "CheckReport",
    "PluginClient", "LLMClient", "DatabaseClient", "EmbedderClient", "Fidelity", "HectorFidelityWarning",
    "TransportKind", "load_corpus", "STDLIB_QRELS", "Dataset", "load_beir", "export_provider",
    "upsert_frame", "HectorDocumentStore", "HectorVectorStore",
    "HectorError", "OperationError", "PluginError", "ProviderError", "PluginCrashed", "PluginGaveUp",
    "PluginNotAnswering", "PluginTimeout", "PluginNotFound", "WrongPluginType", "HandshakeError", "InvalidInput",
    "PartialLoad", "CallCancelled", "SettingsError", "ConfigError", "ManifestError", "ExportError", "DatasetError",
]

if TYPE_CHECKING:
    import os
    from collections.abc import Iterable

    from .bridge.simulated_hector import HectorDocumentStore, HectorVectorStore
    from .compare import Comparison, compare_search
    from .conformance.report import CheckReport
    from .data import STDLIB_QRELS, load_corpus
    from .datasets import Dataset, load_beir
    from .display import Generation, SearchResults
    from .errors import (
        CallCancelled,
        ConfigError,
        DatasetError,
        ExportError,
        HandshakeError,
        HectorError,
        InvalidInput,
        ManifestError,
        OperationError,
        PartialLoad,
        PluginCrashed,
        PluginError,
        PluginGaveUp,
        PluginNotAnswering,
        PluginNotFound,
        PluginTimeout,
        ProviderError,
        SettingsError,
        WrongPluginType,
    )
    from .evaluation import Evaluation, evaluate
    from .export import export_provider
    from .hector import Fidelity, HectorFidelityWarning
    from .host.clients import DatabaseClient, EmbedderClient, LLMClient, PluginClient
    from .host.transport import TransportKind
    from .ingest import upsert_frame
    from .plugin.sdk import Provider
    from .sessions import Session


def __getattr__(name: str) -> Any:
    module = _PUBLIC.get(name)
    if module is None:
        raise AttributeError(f"module 'hector_nb' has no attribute {name!r}")
    value = getattr(importlib.import_module(f".{module}", __name__), name)
    globals()[name] = value  # looked up once: the next access is a plain attribute
    return value


def __dir__() -> list[str]:
    return sorted({*globals(), *__all__})


def check(plugin: PluginClient | Provider | str | os.PathLike[str], *, config: dict[str, Any] | None = None,
          name: str | None = None, only: Iterable[str] | None = None, timeout: float | None = None,
          transport: str = "in-kernel") -> CheckReport:
    """Check a plugin against what Hector needs: :func:`hector_nb.conformance.check`, whose docstring says more."""
    from .conformance import check as run_check

    return run_check(plugin, config=config, name=name, only=only, timeout=timeout, transport=transport)


def session() -> Session:
    """This kernel's one Session, created on first use; the magics use the same one."""
    from .sessions import kernel_session

    return kernel_session()


def load_ipython_extension(ipython: Any) -> None:
    """``%load_ext hector_nb``: register ``%hector`` / ``%%hector``."""
    from .magics import HectorMagics, remember_cause

    ipython.register_magics(HectorMagics(ipython, session()))
    ipython.events.register("post_run_cell", remember_cause)


def unload_ipython_extension(ipython: Any) -> None:
    """``%unload_ext hector_nb``: shut every plugin down."""
    from .magics import remember_cause
    from .sessions import close_kernel_session

    if remember_cause in ipython.events.callbacks["post_run_cell"]:
        ipython.events.unregister("post_run_cell", remember_cause)
    close_kernel_session()
