"""The in-kernel transport: a provider's servicer called directly, as a function call.

No socket, no serialization, no thread: a call runs in the caller's thread and
costs what the provider's method costs plus a few microseconds. The servicers
use only ``context.abort``, ``context.is_active`` and ``context.add_callback``,
so a small local context stands in for gRPC's. The transport's stub is a
direct stub per service (:class:`DirectLLMStub`...): the generated stub's
methods (:mod:`.rpc`), each calling the current servicer's method of that
name, its abort turned into an error by the same table as a gRPC status.

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

from collections.abc import Callable, Iterable, Iterator
from concurrent.futures import Future
from typing import TYPE_CHECKING, Any, Generic, TypeVar

import grpc
import numpy as np
from numpy.typing import NDArray

from ..errors import CallCancelled, PluginError, ProviderError
from ..plugin import sdk
from ..plugin.servicers import (
    ChunkStream,
    DatabaseServicer,
    EmbedderServicer,
    LLMServicer,
    Servicer,
    servicer_for,
)
from . import bulk
from .instances import fresh_provider
from .rpc import DatabaseStub, EmbedderStub, LLMStub
from .rpc_errors import FailedCall, status_error
from .transport import Transport

Request = TypeVar("Request")
Response = TypeVar("Response")


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


class _DirectUnary(Generic[Request, Response]):
    """A unary stub method that calls the current servicer's method of the same name, in the caller's thread."""

    __slots__ = ("_transport", "_function", "_method")

    def __init__(self, transport: InKernelTransport, function: Callable[[Any, Request, Any], Response]) -> None:
        self._transport, self._function, self._method = transport, function, function.__name__

    def __call__(self, request: Request, timeout: float | None = None) -> Response:
        """One call; ``timeout`` is not enforced (see the module's docstring)."""
        transport = self._transport
        transport.before_call(self._method, timeout)
        try:
            return self._function(transport.servicer, request, _UNARY_CONTEXT)
        except _Aborted as aborted:  # the provider raised: the servicer aborts as it would over gRPC
            raise transport.aborted(self._method, aborted) from None

    def future(self, request: Request, timeout: float | None = None) -> Future[Response]:
        """The call, made now (nothing runs beside the caller in-kernel), as a finished future."""
        future: Future[Response] = Future()
        try:
            future.set_result(self(request, timeout))
        except PluginError as exc:
            future.set_exception(exc)
        return future


class _DirectStream:
    """A stream of the servicer's chunks as they come; :meth:`cancel` closes the provider's generator."""

    def __init__(self, transport: InKernelTransport, servicer: LLMServicer, chunks: ChunkStream) -> None:
        self._transport, self._servicer, self._chunks = transport, servicer, chunks

    def __iter__(self) -> _DirectStream:
        return self

    def __next__(self) -> sdk.StreamChunk:
        chunk = next(self._chunks)
        transport = self._transport
        if transport.stopped or transport.servicer is not self._servicer:  # unloaded or restarted meanwhile
            self._chunks.close()
            raise CallCancelled.by_stop(transport.name, "generate_streaming")
        return chunk

    def cancel(self) -> bool:
        self._chunks.close()
        return True


class _DirectGenerateStreaming:
    """``GenerateStreaming`` on the current servicer."""

    def __init__(self, transport: InKernelTransport) -> None:
        self._transport = transport

    def __call__(self, request: sdk.GenerateRequest, timeout: float | None = None) -> _DirectStream:
        transport = self._transport
        transport.before_call("GenerateStreaming", timeout)
        servicer = transport.servicer
        assert isinstance(servicer, LLMServicer)  # only LLM stubs stream
        return _DirectStream(transport, servicer, servicer.GenerateStreaming(request, _LocalContext()))


class _DirectStub:
    """The five methods every provider service has, called on the transport's current servicer."""

    def __init__(self, transport: InKernelTransport) -> None:
        self.Initialize = _DirectUnary(transport, LLMServicer.Initialize)  # the lifecycle's, on any servicer
        self.Shutdown = _DirectUnary(transport, LLMServicer.Shutdown)
        self.Health = _DirectUnary(transport, LLMServicer.Health)
        self.GetManifest = _DirectUnary(transport, LLMServicer.GetManifest)
        self.GetStatus = _DirectUnary(transport, LLMServicer.GetStatus)


class DirectLLMStub(_DirectStub):
    """An :class:`~.rpc.LLMStub` whose methods call the provider in the caller's thread."""

    def __init__(self, transport: InKernelTransport) -> None:
        super().__init__(transport)
        self.Generate = _DirectUnary(transport, LLMServicer.Generate)
        self.GenerateStreaming = _DirectGenerateStreaming(transport)
        self.GetModelInfo = _DirectUnary(transport, LLMServicer.GetModelInfo)


class DirectDatabaseStub(_DirectStub):
    """A :class:`~.rpc.DatabaseStub` whose methods call the provider in the caller's thread."""

    def __init__(self, transport: InKernelTransport) -> None:
        super().__init__(transport)
        self.Upsert = _DirectUnary(transport, DatabaseServicer.Upsert)
        self.Search = _DirectUnary(transport, DatabaseServicer.Search)
        self.Delete = _DirectUnary(transport, DatabaseServicer.Delete)
        self.CreateCollection = _DirectUnary(transport, DatabaseServicer.CreateCollection)
        self.DeleteCollection = _DirectUnary(transport, DatabaseServicer.DeleteCollection)


class DirectEmbedderStub(_DirectStub):
    """An :class:`~.rpc.EmbedderStub` whose methods call the provider in the caller's thread."""

    def __init__(self, transport: InKernelTransport) -> None:
        super().__init__(transport)
        self.Embed = _DirectUnary(transport, EmbedderServicer.Embed)
        self.GetEmbedderInfo = _DirectUnary(transport, EmbedderServicer.GetEmbedderInfo)


if TYPE_CHECKING:  # mypy holds each direct stub to its service's protocol, method by method
    _LLM: type[LLMStub] = DirectLLMStub
    _DATABASE: type[DatabaseStub] = DirectDatabaseStub
    _EMBEDDER: type[EmbedderStub] = DirectEmbedderStub

DIRECT_STUBS: dict[str, Callable[[InKernelTransport], _DirectStub]] = {
    sdk.PLUGIN_TYPE_LLM: DirectLLMStub,
    sdk.PLUGIN_TYPE_DATABASE: DirectDatabaseStub,
    sdk.PLUGIN_TYPE_EMBEDDER: DirectEmbedderStub,
}


class InKernelTransport(Transport):
    """The provider's servicer, called directly in the caller's thread: no socket, no serialization, no deadline."""

    kind = "in-kernel"

    def __init__(self, name: str, provider: sdk.Provider) -> None:
        super().__init__(name, provider.plugin_type)
        self.provider: sdk.Provider = provider
        self._begin()
        self.stub = DIRECT_STUBS[self.plugin_type](self)

    def start(self, timeout: float | None) -> None:
        """Start afresh, as a new plugin process would: a new instance of the provider, nothing to wait for."""
        self.provider = fresh_provider(self.provider, self.name, "restart")
        self._begin()

    def _begin(self) -> None:
        self.servicer: Servicer = servicer_for(self.provider, self.name)
        self.servicer.report_failure = self.record_failure  # type: ignore[method-assign]
        #: Whether the host stopped this instance (a stream still running then ends as cancelled).
        self.stopped = False

    def aborted(self, method: str, aborted: _Aborted) -> PluginError:
        """The error of a call the servicer aborted, by the same table as a gRPC status."""
        return status_error(FailedCall(self.name, self.plugin_type, method, None, aborted.code, aborted.details))

    def search(self, request: sdk.SearchRequest, query: NDArray[np.float32], timeout: float | None
               ) -> list[sdk.SearchResult]:
        """The servicer's hits for the client's checked query: no message built for the query or the hits."""
        servicer = self.servicer
        assert isinstance(servicer, DatabaseServicer)  # only database clients search
        hits, error = servicer.search_hits(request.collection, query, request.top_k)
        if error:
            raise ProviderError(self.name, "search", error)
        return hits

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

    def embed_batches(self, batches: Iterable[list[str]], timeout: float | None) -> Iterator[NDArray[np.float32]]:
        """Each batch as one call of the provider's ``embed_many`` (or ``embed`` per text)."""
        servicer = self.servicer
        assert isinstance(servicer, EmbedderServicer)  # only embedder clients send texts
        for texts in batches:
            rows, error = servicer.embed_batch(texts)
            if error:
                raise ProviderError(self.name, "embed_many", error)
            yield bulk.embedding_rows(self.name, rows, texts)

    def stop(self, timeout: float | None) -> None:
        """The provider's Shutdown (the transport's own call: the supervisor's step is not taken)."""
        if not self.stopped:
            self.stopped = True
            try:
                self.servicer.Shutdown(sdk.ShutdownRequest(), _UNARY_CONTEXT)
            except _Aborted as aborted:
                raise self.aborted("Shutdown", aborted) from None
