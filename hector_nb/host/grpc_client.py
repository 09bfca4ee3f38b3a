"""A provider behind a gRPC channel: what the in-process and subprocess transports share.

The real generated stubs make every call, so requests and answers cross exactly
the bytes Hector would exchange; gRPC failures become :mod:`hector_nb.errors`
exceptions, read as the contract prescribes (docs/protocol.md, "How errors
travel": a provider error on ``Generate`` is status UNKNOWN).
"""

from __future__ import annotations

import collections
from collections.abc import Generator, Iterable, Iterator
from typing import Any

import grpc
import numpy as np

from ..errors import CallCancelled, PluginError, PluginTimeout, ProviderError
from ..plugin import sdk
from ..plugin._wire import bulk_pb2, bulk_pb2_grpc, database_pb2_grpc, embedder_pb2_grpc, llm_pb2_grpc
from ..plugin.serve import GRPC_OPTIONS
from ..plugin.servicers import bounded_error
from . import bulk, deadlines
from .transport import Transport, operation_name

STUBS = {
    sdk.PLUGIN_TYPE_LLM: llm_pb2_grpc.LLMProviderStub,
    sdk.PLUGIN_TYPE_DATABASE: database_pb2_grpc.DatabaseProviderStub,
    sdk.PLUGIN_TYPE_EMBEDDER: embedder_pb2_grpc.EmbedderProviderStub,
}
#: hector_nb's own bulk services (proto/bulk.proto), which SDK plugins serve beside Hector's.
BULK_STUBS = {
    sdk.PLUGIN_TYPE_DATABASE: bulk_pb2_grpc.BulkDatabaseStub,
    sdk.PLUGIN_TYPE_EMBEDDER: bulk_pb2_grpc.BulkEmbedderStub,
}


#: The host's channel options: the SDK's message sizes, and room for a long error in a status trailer (a Go
#: plugin sends its error whole; beyond gRPC's default 8 KB the call would end as an INTERNAL stream reset).
#: The error itself is then cut to :data:`~hector_nb.plugin.servicers.MAX_ERROR_BYTES`.
CHANNEL_OPTIONS = [*GRPC_OPTIONS, ("grpc.max_metadata_size", 16 * 1024 * 1024),
                   ("grpc.absolute_max_metadata_size", 16 * 1024 * 1024)]
#: How a call ends when the server or the channel goes away under it.
_CUT_SHORT = (grpc.StatusCode.CANCELLED, grpc.StatusCode.UNAVAILABLE, grpc.StatusCode.INTERNAL)


class GrpcTransport(Transport):
    """A provider behind a gRPC channel, called through its service's stub."""

    channel: grpc.Channel
    stub: Any
    #: True while the host stops (or restarts) the provider: a call cut short then was cancelled, not crashed.
    _stopping = False
    #: Counts connections: a call made on an earlier one was cut short by the host's own restart or unload.
    generation = 0

    def _connect(self, target: str) -> None:
        """A channel to ``target`` and the stubs over it; the connection itself is made by the first call."""
        self.channel = grpc.insecure_channel(target, options=CHANNEL_OPTIONS)
        self.generation += 1
        self.stub = STUBS[self.plugin_type](self.channel)
        self.bulk_stub = BULK_STUBS[self.plugin_type](self.channel) if self.plugin_type in BULK_STUBS else None
        #: Whether the plugin serves the bulk service: unknown until the first bulk call tries it.
        self.offers_bulk: bool | None = None

    def cut_by_host(self, generation: int) -> bool:
        """Whether a call made on connection ``generation`` ended because the host stopped or replaced it."""
        return self._stopping or generation != self.generation

    def _closed(self, method: str, generation: int) -> PluginError:
        """A call on a channel the host had closed already (grpc's ``ValueError``), in hector_nb's words."""
        if self.cut_by_host(generation):
            return CallCancelled.by_stop(self.name, operation_name(method))
        return PluginError(self.name, operation_name(method), "the connection to the plugin is closed; "
                           f"session.restart({self.name!r}) to start it again")

    def _failure(self, error: grpc.RpcError, method: str, timeout: float | None, generation: int) -> PluginError:
        operation = operation_name(method)
        code = error.code()
        if code in _CUT_SHORT and self.cut_by_host(generation):
            return CallCancelled.by_stop(self.name, operation)
        if code == grpc.StatusCode.DEADLINE_EXCEEDED:
            return PluginTimeout(self.name, operation, f"no answer within {timeout:g}s; pass a longer "
                                 f"timeout= or check the plugin (session.get({self.name!r}).logs())", deadline=timeout)
        if code == grpc.StatusCode.UNKNOWN:
            # Bounded here too: a plugin not built with hector_nb's SDK may send any length.
            return ProviderError(self.name, operation, bounded_error(error.details() or "the provider failed"))
        if code == grpc.StatusCode.UNIMPLEMENTED:
            return PluginError(self.name, operation, f"the plugin does not implement {method}; is it a "
                               f"{self.plugin_type}?")
        return PluginError(self.name, operation, f"gRPC {code.name}: {error.details()}")

    def call(self, method: str, request: Any, timeout: float | None) -> Any:
        generation = self.generation
        try:
            return getattr(self.stub, method)(request, timeout=timeout)
        except grpc.RpcError as error:
            raise self._failure(error, method, timeout, generation) from None
        except ValueError:  # grpc: "Cannot invoke RPC on closed channel!"
            raise self._closed(method, generation) from None

    def submit(self, method: str, request: Any, timeout: float | None) -> _Pending:
        generation = self.generation
        try:
            future = getattr(self.stub, method).future(request, timeout=timeout)
        except ValueError:
            raise self._closed(method, generation) from None
        return _Pending(self, method, future, timeout, generation)

    def stream(self, method: str, request: Any, timeout: float | None) -> Generator[Any, None, None]:
        generation = self.generation
        try:
            call = getattr(self.stub, method)(request, timeout=timeout)
        except ValueError:
            raise self._closed(method, generation) from None
        try:
            yield from call
        except grpc.RpcError as error:
            raise self._failure(error, method, timeout, generation) from None
        finally:
            call.cancel()

    def _bulk_offered(self, timeout: float | None) -> bool:
        """Whether the plugin serves hector_nb's bulk service, tried once per connection with an empty call.

        SDK plugins do; a Go plugin answers UNIMPLEMENTED and gets Hector's per-item calls.
        """
        if self.offers_bulk is None and self.bulk_stub is not None:
            generation = self.generation
            try:
                if self.plugin_type == sdk.PLUGIN_TYPE_DATABASE:
                    list(self.bulk_stub.UpsertBatches(iter(()), timeout=timeout))
                else:
                    self.bulk_stub.EmbedBatch(bulk_pb2.EmbedBatchRequest(), timeout=timeout)
            except grpc.RpcError as error:
                if error.code() != grpc.StatusCode.UNIMPLEMENTED:
                    raise self._failure(error, "BulkProbe", timeout, generation) from None
                self.offers_bulk = False
            except ValueError:
                raise self._closed("BulkProbe", generation) from None
            else:
                self.offers_bulk = True
        return bool(self.offers_bulk)

    def upsert_batches(self, collection: str, batches: Iterable[bulk.VectorBatch], items: int, timeout: float | None
                       ) -> Iterator[int]:
        """One stream of batches over the bulk service when the plugin has it, else Hector's per-item calls.

        The stream's deadline allows ``timeout`` per batch.
        """
        if not self._bulk_offered(timeout):
            yield from super().upsert_batches(collection, batches, items, timeout)
            return
        requests = bulk.RequestStream(bulk.upsert_message(collection, batch) for batch in batches)
        deadline = deadlines.times(timeout, 1 + items // bulk.BATCH_ROWS)
        assert self.bulk_stub is not None  # _bulk_offered said so
        generation = self.generation
        try:
            call = self.bulk_stub.UpsertBatches(iter(requests), timeout=deadline)
        except ValueError:
            raise self._closed("UpsertMany", generation) from None
        try:
            for ack in call:
                if ack.error:
                    raise ProviderError(self.name, "upsert_many", ack.error)
                yield ack.upserted
        except grpc.RpcError as error:
            requests.raise_failure()
            raise self._failure(error, "UpsertMany", deadline, generation) from None
        finally:
            call.cancel()
        requests.raise_failure()

    def embed_batches(self, batches: Iterable[list[str]], timeout: float | None) -> Iterator[np.ndarray]:
        """Pipelined ``EmbedBatch`` calls when the plugin has the bulk service, else Hector's per-text calls."""
        if not self._bulk_offered(timeout):
            yield from super().embed_batches(batches, timeout)
            return
        counts: collections.deque[int] = collections.deque()
        stub = self.bulk_stub
        assert stub is not None  # _bulk_offered said so

        def submit(texts: list[str]) -> _Pending:
            counts.append(len(texts))
            generation = self.generation
            try:
                future = stub.EmbedBatch.future(bulk_pb2.EmbedBatchRequest(texts=texts), timeout=timeout)
            except ValueError:
                raise self._closed("EmbedMany", generation) from None
            return _Pending(self, "EmbedMany", future, timeout, generation)

        for reply in bulk.pipelined(submit, batches):
            yield bulk.decoded_embeddings(self.name, reply, counts.popleft())


class _Pending:
    """A call in flight; :meth:`result` translates its failure as :meth:`GrpcTransport.call` does."""

    def __init__(self, transport: GrpcTransport, method: str, call: Any, timeout: float | None,
                 generation: int) -> None:
        self._transport, self._method, self._call, self._timeout = transport, method, call, timeout
        self._generation = generation

    def result(self) -> Any:
        try:
            return self._call.result()
        except grpc.RpcError as error:
            raise self._transport._failure(error, self._method, self._timeout, self._generation) from None

    def cancel(self) -> bool:
        return self._call.cancel()
