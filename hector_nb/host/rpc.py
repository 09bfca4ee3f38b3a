"""The typed RPC surface every transport offers: the shape of the generated gRPC stubs.

A client calls ``stub.Generate(request, timeout=...)``, pipelines with
``stub.Upsert.future(request, timeout=...).result()`` and reads a stream from
``stub.GenerateStreaming(request, timeout=...)``, whichever transport serves
the provider: over a channel the stub *is* the generated one
(``hector_nb/plugin/_wire/*_pb2_grpc.py``), in-kernel a direct stub with the
same methods (:mod:`.in_kernel`). The protocols below are what both satisfy, so
mypy checks every call's method, request and response types.

Every call either answers or raises a :class:`hector_nb.errors.PluginError`
(see :mod:`.rpc_errors`); none lets a ``grpc.RpcError`` out.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Protocol, TypeVar

from ..plugin import sdk
from ..plugin._wire import bulk_pb2

Request = TypeVar("Request", contravariant=True)
Response = TypeVar("Response", covariant=True)


class PendingCall(Protocol[Response]):
    """A unary call in flight (``stub.Method.future(...)``): a grpc future, or a finished one in-kernel."""

    def result(self, timeout: float | None = None) -> Response: ...

    def cancel(self) -> bool: ...


class ResponseStream(Protocol[Response]):
    """A server stream's answers as they come; :meth:`cancel` ends the call (and the provider's generator)."""

    def __iter__(self) -> Iterator[Response]: ...

    def __next__(self) -> Response: ...

    def cancel(self) -> bool: ...


class UnaryMethod(Protocol[Request, Response]):
    """One unary method of a stub: called, or started with :meth:`future` to pipeline calls."""

    def __call__(self, request: Request, timeout: float | None = None) -> Response: ...

    def future(self, request: Request, timeout: float | None = None) -> PendingCall[Response]: ...


class StreamMethod(Protocol[Request, Response]):
    """One server-streaming method of a stub."""

    def __call__(self, request: Request, timeout: float | None = None) -> ResponseStream[Response]: ...


class StreamingRequestsMethod(Protocol[Request, Response]):
    """One bidirectional-streaming method of a stub (hector_nb's bulk upserts)."""

    def __call__(self, request_iterator: Iterator[Request], timeout: float | None = None
                 ) -> ResponseStream[Response]: ...


# Members are read-only properties: a stub's method is a grpc multi-callable there, a direct one in-kernel.

class ProviderStub(Protocol):
    """The five methods every Hector provider service has."""

    @property
    def Initialize(self) -> UnaryMethod[sdk.InitializeRequest, sdk.InitializeResponse]: ...  # noqa: N802 - the wire's name

    @property
    def Shutdown(self) -> UnaryMethod[sdk.ShutdownRequest, sdk.ShutdownResponse]: ...  # noqa: N802

    @property
    def Health(self) -> UnaryMethod[sdk.HealthRequest, sdk.HealthResponse]: ...  # noqa: N802

    @property
    def GetManifest(self) -> UnaryMethod[sdk.ManifestRequest, sdk.ManifestResponse]: ...  # noqa: N802

    @property
    def GetStatus(self) -> UnaryMethod[sdk.StatusRequest, sdk.StatusResponse]: ...  # noqa: N802


class LLMStub(ProviderStub, Protocol):
    """Hector's ``LLMProvider`` service (proto/llm.proto)."""

    @property
    def Generate(self) -> UnaryMethod[sdk.GenerateRequest, sdk.GenerateResponse]: ...  # noqa: N802

    @property
    def GenerateStreaming(self) -> StreamMethod[sdk.GenerateRequest, sdk.StreamChunk]: ...  # noqa: N802

    @property
    def GetModelInfo(self) -> UnaryMethod[sdk.Empty, sdk.ModelInfo]: ...  # noqa: N802


class DatabaseStub(ProviderStub, Protocol):
    """Hector's ``DatabaseProvider`` service (proto/database.proto)."""

    @property
    def Upsert(self) -> UnaryMethod[sdk.UpsertRequest, sdk.UpsertResponse]: ...  # noqa: N802

    @property
    def Search(self) -> UnaryMethod[sdk.SearchRequest, sdk.SearchResponse]: ...  # noqa: N802

    @property
    def Delete(self) -> UnaryMethod[sdk.DeleteRequest, sdk.DeleteResponse]: ...  # noqa: N802

    @property
    def CreateCollection(self) -> UnaryMethod[sdk.CreateCollectionRequest, sdk.CreateCollectionResponse]: ...  # noqa: N802

    @property
    def DeleteCollection(self) -> UnaryMethod[sdk.DeleteCollectionRequest, sdk.DeleteCollectionResponse]: ...  # noqa: N802


class EmbedderStub(ProviderStub, Protocol):
    """Hector's ``EmbedderProvider`` service (proto/embedder.proto)."""

    @property
    def Embed(self) -> UnaryMethod[sdk.EmbedRequest, sdk.EmbedResponse]: ...  # noqa: N802

    @property
    def GetEmbedderInfo(self) -> UnaryMethod[sdk.Empty, sdk.EmbedderInfo]: ...  # noqa: N802


class BulkDatabaseStub(Protocol):
    """hector_nb's ``BulkDatabase`` service (proto/bulk.proto): batches of upserts on one stream."""

    @property
    def UpsertBatches(self) -> StreamingRequestsMethod[bulk_pb2.UpsertBatch, bulk_pb2.UpsertBatchesResponse]: ...  # noqa: N802


class BulkEmbedderStub(Protocol):
    """hector_nb's ``BulkEmbedder`` service (proto/bulk.proto): many texts per call."""

    @property
    def EmbedBatch(self) -> UnaryMethod[bulk_pb2.EmbedBatchRequest, bulk_pb2.EmbedBatchResponse]: ...  # noqa: N802
