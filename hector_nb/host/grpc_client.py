"""A provider behind a gRPC channel: what the in-process and subprocess transports share.

The real generated stubs make every call, so requests and answers cross exactly
the bytes Hector would exchange. A client interceptor does the host's part of
each call, in one place for every method:

- first the supervisor's before-call step (restart a crashed plugin, refuse an
  unloaded one: :attr:`~.transport.Transport.before_call`);
- then the call, on whichever connection is current (:class:`_CurrentChannel`:
  a restart dials a new socket, the stub stays the same object);
- then a failed call's status becomes a :mod:`hector_nb.errors` exception by
  the table in :mod:`.rpc_errors`, after the transport's own cases (a call cut
  short by the host's stop or restart, a plugin process that died).

An interceptor rather than a wrapper per method: the generated stubs stay the
typed surface (their ``.pyi`` names every method's request and response), and
blocking calls, ``.future()`` pipelining and streams get the same treatment
without a line per method.
"""

from __future__ import annotations

import collections
import threading
from collections.abc import Callable, Iterable, Iterator
from typing import TYPE_CHECKING, Any, cast

import grpc
import numpy as np
from numpy.typing import NDArray

from ..errors import CallCancelled, PluginError, ProviderError
from ..plugin import sdk
from ..plugin._wire import bulk_pb2, bulk_pb2_grpc, database_pb2_grpc, embedder_pb2_grpc, llm_pb2_grpc
from ..plugin.serve import GRPC_OPTIONS
from . import bulk, deadlines
from .rpc import BulkDatabaseStub, BulkEmbedderStub, DatabaseStub, EmbedderStub, LLMStub, ProviderStub
from .rpc_errors import CUT_SHORT, FailedCall, closed_channel, operation_name, rpc_status, status_error
from .transport import Transport

if TYPE_CHECKING:  # mypy holds each generated stub to its service's protocol, method by method
    _LLM: type[LLMStub] = llm_pb2_grpc.LLMProviderStub
    _DATABASE: type[DatabaseStub] = database_pb2_grpc.DatabaseProviderStub
    _EMBEDDER: type[EmbedderStub] = embedder_pb2_grpc.EmbedderProviderStub

STUBS: dict[str, Callable[[grpc.Channel], ProviderStub]] = {
    sdk.PLUGIN_TYPE_LLM: llm_pb2_grpc.LLMProviderStub,
    sdk.PLUGIN_TYPE_DATABASE: database_pb2_grpc.DatabaseProviderStub,
    sdk.PLUGIN_TYPE_EMBEDDER: embedder_pb2_grpc.EmbedderProviderStub,
}


#: The host's channel options: the SDK's message sizes, and room for a long error in a status trailer (a Go
#: plugin sends its error whole; beyond gRPC's default 8 KB the call would end as an INTERNAL stream reset).
#: The error itself is then cut to :data:`~hector_nb.plugin.servicers.MAX_ERROR_BYTES`. A server stream's
#: chunks are read in the caller's thread (grpc.experimental.ChannelOptions.SingleThreadedUnaryStream): by
#: default grpc hands each chunk over from a channel thread, which made a stream through hector_nb slower
#: than a bare grpcio stream (docs/speed.md, "Streams").
CHANNEL_OPTIONS = [*GRPC_OPTIONS, ("grpc.max_metadata_size", 16 * 1024 * 1024),
                   ("grpc.absolute_max_metadata_size", 16 * 1024 * 1024), ("SingleThreadedUnaryStream", 1)]


class GrpcTransport(Transport):
    """A provider behind a gRPC channel, called through its service's generated stub."""

    #: True while the host stops (or restarts) the provider: a call cut short then was cancelled, not crashed.
    _stopping = False
    #: Counts connections and their closings: a call made on an earlier one was cut short by the host's own
    #: restart or unload.
    generation = 0

    def __init__(self, name: str, plugin_type: str) -> None:
        super().__init__(name, plugin_type)
        self._current = _CurrentChannel()
        self.stub = STUBS[plugin_type](grpc.intercept_channel(self._current, _HostInterceptor(self, True)))
        #: The transport's own calls (its bulk paths, the provider's Shutdown when it stops): the supervisor took
        #: its step before them, or must not (stopping).
        own = grpc.intercept_channel(self._current, _HostInterceptor(self, False))
        self.own_stub = STUBS[plugin_type](own)
        self.bulk_database: BulkDatabaseStub = bulk_pb2_grpc.BulkDatabaseStub(own)
        self.bulk_embedder: BulkEmbedderStub = bulk_pb2_grpc.BulkEmbedderStub(own)

    @property
    def channel(self) -> grpc.Channel:
        """The current connection to the plugin."""
        return self._current.channel

    def _connect(self, target: str) -> None:
        """A channel to ``target``, which the stubs use from now on; the connection itself is made by the first call."""
        self._current.connect(grpc.insecure_channel(target, options=CHANNEL_OPTIONS))
        self.generation += 1
        #: Whether the plugin serves the bulk service: unknown until the first bulk call tries it.
        self.offers_bulk: bool | None = None

    def close_channel(self) -> None:
        """Close the connection; a call from now on fails as on a closed channel (until the next connection).

        A new generation first: a call on the closed connection is judged cut by the host
        even when its failure is read after the next connection is up.
        """
        self.generation += 1
        self._current.close()

    def cut_by_host(self, generation: int) -> bool:
        """Whether a call made on connection ``generation`` ended because the host stopped or replaced it."""
        return self._stopping or generation != self.generation

    def closed(self, method: str, generation: int) -> PluginError:
        """A call on a channel the host had closed already (grpc's ``ValueError``)."""
        if self.cut_by_host(generation):
            return CallCancelled.by_stop(self.name, operation_name(method))
        return closed_channel(self.name, method)

    def failure(self, error: grpc.RpcError, method: str, timeout: float | None, generation: int) -> PluginError:
        """The error a failed call raises: cut short by the host, else by :func:`~.rpc_errors.status_error`."""
        code, details = rpc_status(error)
        if code in CUT_SHORT and self.cut_by_host(generation):
            return CallCancelled.by_stop(self.name, operation_name(method), code)
        return status_error(FailedCall(self.name, self.plugin_type, method, timeout, code, details))

    def search(self, request: sdk.SearchRequest, query: NDArray[np.float32], timeout: float | None
               ) -> list[sdk.SearchResult]:
        """``Search``'s hits, the answer read back from the wire."""
        request.vector.extend(query.tolist())
        reply = cast(DatabaseStub, self.own_stub).Search(request, timeout=timeout)  # only database clients search
        if reply.error:
            raise ProviderError(self.name, "search", reply.error)
        return list(reply.results)

    def _upsert_per_item(self, collection: str, batches: Iterable[bulk.VectorBatch], timeout: float | None
                         ) -> Iterator[int]:
        """As Hector's wire has it: one pipelined ``Upsert`` per item, each bounded by ``timeout``."""
        upsert = cast(DatabaseStub, self.own_stub).Upsert  # only database clients send upserts
        requests = bulk.upsert_requests(collection, batches)
        for reply in bulk.pipelined(lambda request: upsert.future(request, timeout=timeout), requests):
            if not reply.success:
                raise ProviderError(self.name, "upsert_many", reply.error or "failed without saying why")
            yield 1

    def _embed_per_text(self, batches: Iterable[list[str]], timeout: float | None) -> Iterator[NDArray[np.float32]]:
        """As Hector's wire has it: one pipelined ``Embed`` per text, each bounded by ``timeout``."""
        embed = cast(EmbedderStub, self.own_stub).Embed  # only embedder clients send texts
        for texts in batches:
            requests = (sdk.EmbedRequest(text=text) for text in texts)
            replies = bulk.pipelined(lambda request: embed.future(request, timeout=timeout), requests)
            yield bulk.embedding_rows(self.name, [bulk.embedding(self.name, reply) for reply in replies], texts)

    def _bulk_offered(self, timeout: float | None) -> bool:
        """Whether the plugin serves hector_nb's bulk service, tried once per connection with an empty call.

        SDK plugins do; a Go plugin answers UNIMPLEMENTED and gets Hector's per-item calls.
        """
        if self.offers_bulk is None and self.plugin_type in (sdk.PLUGIN_TYPE_DATABASE, sdk.PLUGIN_TYPE_EMBEDDER):
            try:
                if self.plugin_type == sdk.PLUGIN_TYPE_DATABASE:
                    list(self.bulk_database.UpsertBatches(iter(()), timeout=timeout))
                else:
                    self.bulk_embedder.EmbedBatch(bulk_pb2.EmbedBatchRequest(), timeout=timeout)
            except PluginError as error:
                if error.status_code != grpc.StatusCode.UNIMPLEMENTED:
                    raise
                self.offers_bulk = False
            else:
                self.offers_bulk = True
        return bool(self.offers_bulk)

    def upsert_batches(self, collection: str, batches: Iterable[bulk.VectorBatch], items: int, timeout: float | None
                       ) -> Iterator[int]:
        """One stream of batches over the bulk service when the plugin has it, else Hector's per-item calls.

        The stream's deadline allows ``timeout`` per batch.
        """
        if not self._bulk_offered(timeout):
            yield from self._upsert_per_item(collection, batches, timeout)
            return
        requests = bulk.RequestStream(bulk.upsert_message(collection, batch) for batch in batches)
        deadline = deadlines.times(timeout, 1 + items // bulk.BATCH_ROWS)
        acks = self.bulk_database.UpsertBatches(iter(requests), timeout=deadline)
        try:
            for ack in acks:
                if ack.error:
                    raise ProviderError(self.name, "upsert_many", ack.error)
                yield ack.upserted
        except PluginError:
            requests.raise_failure()  # a request that could not be built is the cause, not the call's end
            raise
        finally:
            acks.cancel()
        requests.raise_failure()

    def embed_batches(self, batches: Iterable[list[str]], timeout: float | None) -> Iterator[NDArray[np.float32]]:
        """Pipelined ``EmbedBatch`` calls when the plugin has the bulk service, else Hector's per-text calls."""
        if not self._bulk_offered(timeout):
            yield from self._embed_per_text(batches, timeout)
            return
        counts: collections.deque[int] = collections.deque()
        embed = self.bulk_embedder.EmbedBatch

        def submit(texts: list[str]) -> Any:
            counts.append(len(texts))
            return embed.future(bulk_pb2.EmbedBatchRequest(texts=texts), timeout=timeout)

        for reply in bulk.pipelined(submit, batches):
            yield bulk.decoded_embeddings(self.name, reply, counts.popleft())


class _CurrentChannel(grpc.Channel):
    """The transport's current channel, behind one object: the stubs over it outlive a restart's new connection.

    grpc's interceptor asks its channel for the method's callable at each call, so a call
    made after a restart goes to the new connection. The callables are made once per
    connection, and never on a closed one: grpc crashes the process (SIGSEGV) making a
    method's callable on a closed channel, so after :meth:`close` this raises the
    ``ValueError`` grpc raises for a call on one.
    """

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._callables: dict[str, Any] = {}
        self._closed = True

    @property
    def channel(self) -> grpc.Channel:
        return self._channel

    def connect(self, channel: grpc.Channel) -> None:
        with self._lock:
            self._channel, self._callables, self._closed = channel, {}, False

    def _callable(self, method: str, make: Callable[[grpc.Channel], Any]) -> Any:
        made = self._callables.get(method)
        if made is None:
            with self._lock:
                if self._closed:
                    raise ValueError("Cannot invoke RPC on closed channel!")
                made = self._callables[method] = make(self._channel)
        return made

    def subscribe(self, callback: Callable[[grpc.ChannelConnectivity], None], try_to_connect: bool = False) -> None:
        self._channel.subscribe(callback, try_to_connect)

    def unsubscribe(self, callback: Callable[[grpc.ChannelConnectivity], None]) -> None:
        self._channel.unsubscribe(callback)

    def unary_unary(self, method: str, *args: Any, **kwargs: Any) -> Any:
        return self._callable(method, lambda channel: channel.unary_unary(method, *args, **kwargs))

    def unary_stream(self, method: str, *args: Any, **kwargs: Any) -> Any:
        return self._callable(method, lambda channel: channel.unary_stream(method, *args, **kwargs))

    def stream_unary(self, method: str, *args: Any, **kwargs: Any) -> Any:
        return self._callable(method, lambda channel: channel.stream_unary(method, *args, **kwargs))

    def stream_stream(self, method: str, *args: Any, **kwargs: Any) -> Any:
        return self._callable(method, lambda channel: channel.stream_stream(method, *args, **kwargs))

    def close(self) -> None:
        with self._lock:
            self._closed = True
            self._channel.close()

    def __enter__(self) -> _CurrentChannel:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()


class _HostInterceptor(grpc.UnaryUnaryClientInterceptor, grpc.UnaryStreamClientInterceptor,
                       grpc.StreamStreamClientInterceptor):
    """The host's part of every call (see the module's docstring); ``supervised``: the supervisor's step first."""

    def __init__(self, transport: GrpcTransport, supervised: bool) -> None:
        self._transport = transport
        self._supervised = supervised

    def _begin(self, details: grpc.ClientCallDetails) -> tuple[str, int]:
        method = details.method.rsplit("/", 1)[-1]
        if self._supervised:
            self._transport.before_call(method, details.timeout)
        return method, self._transport.generation

    def intercept_unary_unary(self, continuation: Callable[[grpc.ClientCallDetails, Any], Any],
                              client_call_details: grpc.ClientCallDetails, request: Any) -> Any:
        method, generation = self._begin(client_call_details)
        return _Answer(self._transport, method, client_call_details.timeout, generation,
                       continuation(client_call_details, request))

    def intercept_unary_stream(self, continuation: Callable[[grpc.ClientCallDetails, Any], Any],
                               client_call_details: grpc.ClientCallDetails, request: Any) -> Any:
        return self._stream(continuation, client_call_details, request)

    def intercept_stream_stream(self, continuation: Callable[[grpc.ClientCallDetails, Any], Any],
                                client_call_details: grpc.ClientCallDetails, request_iterator: Any) -> Any:
        return self._stream(continuation, client_call_details, request_iterator)

    def _stream(self, continuation: Callable[[grpc.ClientCallDetails, Any], Any],
                details: grpc.ClientCallDetails, request: Any) -> _Answers:
        # What this raises, grpc hands back as a stream whose first answer raises it.
        method, generation = self._begin(details)
        try:
            call = continuation(details, request)
        except ValueError:  # grpc: "Cannot invoke RPC on closed channel!"
            raise self._transport.closed(method, generation) from None
        transport, timeout = self._transport, details.timeout
        return _Answers(call, lambda error: transport.failure(error, method, timeout, generation))


class _Answer:
    """A unary call's outcome (blocking, or a ``.future()``); :meth:`result` raises hector_nb's error."""

    def __init__(self, transport: GrpcTransport, method: str, timeout: float | None, generation: int,
                 call: Any) -> None:
        self._transport, self._method, self._timeout, self._generation = transport, method, timeout, generation
        self._call = call

    def result(self, timeout: float | None = None) -> Any:
        try:
            return self._call.result(timeout)
        except grpc.RpcError as error:
            raise self._transport.failure(error, self._method, self._timeout, self._generation) from None
        except ValueError:  # grpc: "Cannot invoke RPC on closed channel!"
            raise self._transport.closed(self._method, self._generation) from None

    def cancel(self) -> bool:
        return cast(bool, self._call.cancel())


class _Answers:
    """A stream's answers as they come; a failure raises hector_nb's error, :meth:`cancel` ends the call."""

    def __init__(self, call: Any, translate: Callable[[grpc.RpcError], PluginError]) -> None:
        self._call, self._translate = call, translate

    def __iter__(self) -> _Answers:
        return self

    def __next__(self) -> Any:
        try:
            return next(self._call)
        except grpc.RpcError as error:
            raise self._translate(error) from None

    def cancel(self) -> bool:
        return cast(bool, self._call.cancel())
