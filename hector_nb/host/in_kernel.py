"""The in-kernel transport: a provider's servicer called directly, as a function call.

No socket, no serialization, no thread: a call runs in the caller's thread and
costs what the provider's method costs plus a few microseconds. The servicers
use only ``context.abort``, ``context.is_active`` and ``context.add_callback``,
so a small local context stands in for gRPC's.

Deadlines: nothing can stop Python code running in the caller's own thread
from outside, so ``timeout`` is not enforced in-kernel. A provider that hangs
is stopped by the kernel's interrupt (the stop button in Jupyter, Ctrl-C in a
terminal): KeyboardInterrupt is raised inside the provider's code and reaches
the caller, and the plugin stays loaded for the next call. ``async def``
methods run on hector_nb's event loop thread; an interrupted wait cancels their
coroutine. Run a provider ``in-process`` or as a ``subprocess`` to have every
call bounded by its ``timeout``.
"""

from __future__ import annotations

from collections.abc import Callable, Generator, Iterable, Iterator
from typing import Any

import grpc
import numpy as np

from ..errors import CallCancelled, ProviderError
from ..plugin import sdk
from ..plugin.servicers import DatabaseServicer, EmbedderServicer, Servicer, servicer_for
from . import bulk
from .instances import fresh_provider
from .transport import Transport, operation_name


class _LocalContext:
    """The three ``ServicerContext`` methods the servicers use, for direct calls."""

    def __init__(self) -> None:
        self.callbacks: list[Callable[[], None]] = []

    def abort(self, code: grpc.StatusCode, details: str) -> None:
        raise _Aborted(code, details)

    def is_active(self) -> bool:
        return True

    def add_callback(self, callback: Callable[[], None]) -> bool:
        self.callbacks.append(callback)
        return True


class _Aborted(Exception):
    def __init__(self, code: grpc.StatusCode, details: str) -> None:
        super().__init__(details)
        self.code, self.details = code, details


#: Unary servicer methods register no callbacks: one context serves every unary call.
_UNARY_CONTEXT = _LocalContext()


class InKernelTransport(Transport):
    """The provider's servicer, called directly in the caller's thread: no socket, no serialization, no deadline."""

    kind = "in-kernel"

    def __init__(self, name: str, provider: sdk.Provider) -> None:
        super().__init__(name, provider.plugin_type)
        self.provider: sdk.Provider = provider
        self._begin()

    def start(self, timeout: float | None) -> None:
        """Start afresh, as a new plugin process would: a new instance of the provider, nothing to wait for."""
        self.provider = fresh_provider(self.provider, self.name, "restart")
        self._begin()

    def _begin(self) -> None:
        self.servicer: Servicer = servicer_for(self.provider, self.name)
        self.servicer.report_failure = self.record_failure  # type: ignore[method-assign]
        self._stopped = False

    def call(self, method: str, request: Any, timeout: float | None) -> Any:
        """One unary call; ``timeout`` is not enforced (see the module's docstring)."""
        try:
            return getattr(self.servicer, method)(request, _UNARY_CONTEXT)
        except _Aborted as aborted:
            raise ProviderError(self.name, operation_name(method), aborted.details) from None

    def search(self, request: sdk.SearchRequest, vector: list[float], timeout: float | None) -> list[sdk.SearchResult]:
        """The servicer's hits for the client's checked query: no response message built and read back."""
        servicer = self.servicer
        assert isinstance(servicer, DatabaseServicer)  # only database clients search
        hits, error = servicer.search_hits(request.collection, vector, request.top_k)
        if error:
            raise ProviderError(self.name, "search", error)
        return hits

    def stream(self, method: str, request: Any, timeout: float | None) -> Generator[Any, None, None]:
        """The servicer's chunks as they come; closing this closes the provider's generator."""
        servicer = self.servicer
        chunks = getattr(servicer, method)(request, _LocalContext())
        try:
            for chunk in chunks:
                if self._stopped or self.servicer is not servicer:  # unloaded or restarted meanwhile
                    raise CallCancelled.by_stop(self.name, operation_name(method))
                yield chunk
        finally:
            chunks.close()

    def upsert_batches(self, collection: str, batches: Iterable[bulk.VectorBatch], items: int, timeout: float | None
                       ) -> Iterator[int]:
        """Each batch as one call of the provider's ``upsert_many`` (or ``upsert`` per item)."""
        servicer = self.servicer
        assert isinstance(servicer, DatabaseServicer)  # only database clients send upserts
        for batch in batches:
            error = servicer.upsert_batch(collection, batch.ids, batch.vectors, batch.metadata)
            if error:
                raise ProviderError(self.name, "upsert_many", error)
            yield len(batch)

    def embed_batches(self, batches: Iterable[list[str]], timeout: float | None) -> Iterator[np.ndarray]:
        """Each batch as one call of the provider's ``embed_many`` (or ``embed`` per text)."""
        servicer = self.servicer
        assert isinstance(servicer, EmbedderServicer)  # only embedder clients send texts
        for texts in batches:
            rows, error = servicer.embed_batch(texts)
            if error:
                raise ProviderError(self.name, "embed_many", error)
            yield bulk.embedding_rows(self.name, rows, texts)

    def stop(self, timeout: float | None) -> None:
        if not self._stopped:
            self._stopped = True
            self.call("Shutdown", sdk.ShutdownRequest(), timeout)
