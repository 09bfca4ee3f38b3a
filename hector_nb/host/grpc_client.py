"""A provider behind a gRPC channel: what the in-process and subprocess transports share.

The real generated stubs make every call, so requests and answers cross exactly
the bytes Hector would exchange; gRPC failures become :mod:`hector_nb.errors`
exceptions, read as the contract prescribes (docs/protocol.md, "Behaviour
Hector relies on": a provider error on ``Generate`` is status UNKNOWN).
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import grpc

from ..errors import PluginError, PluginTimeout, ProviderError
from ..plugin import sdk
from ..plugin._wire import database_pb2_grpc, embedder_pb2_grpc, llm_pb2_grpc
from ..plugin.serve import GRPC_OPTIONS
from .transport import Transport, operation_name

STUBS = {
    sdk.PLUGIN_TYPE_LLM: llm_pb2_grpc.LLMProviderStub,
    sdk.PLUGIN_TYPE_DATABASE: database_pb2_grpc.DatabaseProviderStub,
    sdk.PLUGIN_TYPE_EMBEDDER: embedder_pb2_grpc.EmbedderProviderStub,
}


class GrpcTransport(Transport):
    """A provider behind a gRPC channel, called through its service's stub."""

    channel: grpc.Channel
    stub: Any

    def _connect(self, target: str, timeout: float) -> None:
        self.channel = grpc.insecure_channel(target, options=GRPC_OPTIONS)
        try:
            grpc.channel_ready_future(self.channel).result(timeout=timeout)
        except grpc.FutureTimeoutError:
            raise PluginTimeout(self.name, "connect", f"no connection to {target} within {timeout:g}s") from None
        self.stub = STUBS[self.plugin_type](self.channel)

    def _failure(self, error: grpc.RpcError, method: str, timeout: float) -> PluginError:
        operation = operation_name(method)
        code = error.code()
        if code == grpc.StatusCode.DEADLINE_EXCEEDED:
            return PluginTimeout(self.name, operation, f"no answer within {timeout:g}s; pass a longer "
                                 f"timeout= or check the plugin (session.get({self.name!r}).logs())")
        if code == grpc.StatusCode.UNKNOWN:
            return ProviderError(self.name, operation, error.details() or "the provider failed")
        if code == grpc.StatusCode.UNIMPLEMENTED:
            return PluginError(self.name, operation, f"the plugin does not implement {method}; is it a "
                               f"{self.plugin_type}?")
        return PluginError(self.name, operation, f"gRPC {code.name}: {error.details()}")

    def call(self, method: str, request: Any, timeout: float) -> Any:
        try:
            return getattr(self.stub, method)(request, timeout=timeout)
        except grpc.RpcError as error:
            raise self._failure(error, method, timeout) from None

    def submit(self, method: str, request: Any, timeout: float) -> _Pending:
        return _Pending(self, method, getattr(self.stub, method).future(request, timeout=timeout), timeout)

    def stream(self, method: str, request: Any, timeout: float) -> Iterator[Any]:
        call = getattr(self.stub, method)(request, timeout=timeout)
        try:
            yield from call
        except grpc.RpcError as error:
            raise self._failure(error, method, timeout) from None
        finally:
            call.cancel()


class _Pending:
    """A call in flight; :meth:`result` translates its failure as :meth:`GrpcTransport.call` does."""

    def __init__(self, transport: GrpcTransport, method: str, call: Any, timeout: float) -> None:
        self._transport, self._method, self._call, self._timeout = transport, method, call, timeout

    def result(self) -> Any:
        try:
            return self._call.result()
        except grpc.RpcError as error:
            raise self._transport._failure(error, self._method, self._timeout) from None

    def cancel(self) -> bool:
        return self._call.cancel()
