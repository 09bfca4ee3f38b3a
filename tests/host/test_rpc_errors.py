"""The one table from lower-layer failures to hector_nb's errors, over real gRPC channels and servers.

A bare grpcio server (in threads of this process, on a unix socket) answers ``Generate`` with the status
the prompt names, so each status crosses a real channel; the host's interceptor turns it into the error.
"""

from __future__ import annotations

import threading
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor

import grpc
import pytest

from hector_nb import sdk
from hector_nb.errors import CallCancelled, PluginError, PluginTimeout, ProviderError
from hector_nb.host.grpc_client import GrpcTransport
from hector_nb.host.rpc import LLMStub
from hector_nb.host.rpc_errors import STATUS_ERRORS, operation_name
from hector_nb.plugin._wire import llm_pb2_grpc


class _Statuses(llm_pb2_grpc.LLMProviderServicer):
    """Ends ``Generate`` with the status its prompt names (``SLEEP`` outlives any deadline); ``GenerateStreaming``
    sends one chunk, then ends with that status. Every other method is UNIMPLEMENTED, as grpc's base answers."""

    def __init__(self) -> None:
        self.release = threading.Event()

    def Generate(self, request, context):  # noqa: N802 - the wire's name
        name = request.messages[-1].content
        if name == "SLEEP":
            self.release.wait(30)
            return sdk.GenerateResponse(text="late")
        if name == "RAISE":
            raise RuntimeError("the provider broke")
        context.abort(grpc.StatusCode[name], f"ended with {name}")

    def GenerateStreaming(self, request, context):  # noqa: N802
        yield sdk.StreamChunk(type=sdk.CHUNK_TYPE_TEXT, text="first")
        context.abort(grpc.StatusCode[request.messages[-1].content], "stream ended")


class _Dialled(GrpcTransport):
    """A transport to a server this test runs: only the channel is the host's (nothing to start or stop)."""

    kind = "in-process"

    def __init__(self, address: str) -> None:
        super().__init__("statuses", sdk.PLUGIN_TYPE_LLM)
        self._connect(address)


@pytest.fixture
def server(tmp_path) -> Iterator[tuple[_Statuses, str]]:
    servicer = _Statuses()
    server = grpc.server(ThreadPoolExecutor(4))
    llm_pb2_grpc.add_LLMProviderServicer_to_server(servicer, server)
    address = f"unix:{tmp_path}/statuses.sock"
    server.add_insecure_port(address)
    server.start()
    yield servicer, address
    servicer.release.set()
    server.stop(None)


@pytest.fixture
def transport(server) -> Iterator[_Dialled]:
    dialled = _Dialled(server[1])
    yield dialled
    dialled.close_channel()


def _stub(transport: _Dialled) -> LLMStub:
    stub = transport.stub
    assert isinstance(stub, llm_pb2_grpc.LLMProviderStub)  # over a channel: the generated stub itself
    return stub


def _own(transport: _Dialled) -> LLMStub:
    stub = transport.own_stub
    assert isinstance(stub, llm_pb2_grpc.LLMProviderStub)
    return stub


def _ask(name: str) -> sdk.GenerateRequest:
    return sdk.GenerateRequest(messages=[sdk.Message(role=sdk.ROLE_USER, content=name)])


@pytest.mark.parametrize("code", [grpc.StatusCode.UNKNOWN, grpc.StatusCode.INVALID_ARGUMENT,
                                  grpc.StatusCode.RESOURCE_EXHAUSTED, grpc.StatusCode.PERMISSION_DENIED,
                                  grpc.StatusCode.FAILED_PRECONDITION, grpc.StatusCode.UNAVAILABLE,
                                  grpc.StatusCode.INTERNAL, grpc.StatusCode.NOT_FOUND])
def test_each_status_becomes_its_error_with_the_status_as_a_field(transport, code):
    expected = {grpc.StatusCode.UNKNOWN: ProviderError}.get(code, PluginError)
    with pytest.raises(PluginError) as failure:
        _stub(transport).Generate(_ask(code.name), timeout=10)
    assert type(failure.value) is expected
    assert failure.value.status_code == code
    assert (failure.value.plugin, failure.value.operation) == ("statuses", "generate")
    if code == grpc.StatusCode.UNKNOWN:  # the provider's own words, as the contract has them
        assert failure.value.message == "ended with UNKNOWN"
    else:
        assert failure.value.message == f"gRPC {code.name}: ended with {code.name}"


def test_a_provider_exception_on_the_server_is_a_provider_error(transport):
    with pytest.raises(ProviderError) as failure:
        _stub(transport).Generate(_ask("RAISE"), timeout=10)
    assert failure.value.status_code == grpc.StatusCode.UNKNOWN


def test_a_missed_deadline_is_a_timeout_naming_it(transport):
    with pytest.raises(PluginTimeout) as failure:
        _stub(transport).Generate(_ask("SLEEP"), timeout=0.2)
    assert failure.value.status_code == grpc.StatusCode.DEADLINE_EXCEEDED
    assert failure.value.deadline == 0.2
    assert "no answer within 0.2s" in str(failure.value)


def test_a_method_the_plugin_lacks_is_unimplemented(transport):
    with pytest.raises(PluginError) as failure:
        _stub(transport).GetModelInfo(sdk.Empty(), timeout=10)
    assert failure.value.status_code == grpc.StatusCode.UNIMPLEMENTED
    assert failure.value.operation == "get_model_info"
    assert "does not implement GetModelInfo; is it a llm_provider?" in failure.value.message


def test_a_pipelined_call_fails_when_its_result_is_read(transport):
    pending = _stub(transport).Generate.future(_ask("INVALID_ARGUMENT"), timeout=10)
    with pytest.raises(PluginError) as failure:
        pending.result()
    assert failure.value.status_code == grpc.StatusCode.INVALID_ARGUMENT


def test_a_stream_fails_after_its_chunks_with_the_status(transport):
    stream = _stub(transport).GenerateStreaming(_ask("DATA_LOSS"), timeout=10)
    assert next(stream).text == "first"
    with pytest.raises(PluginError) as failure:
        next(stream)
    assert failure.value.status_code == grpc.StatusCode.DATA_LOSS
    assert failure.value.operation == "generate_streaming"


def test_a_closed_channel_says_so_without_a_status(transport):
    transport.close_channel()
    with pytest.raises(PluginError) as failure:
        _stub(transport).Generate(_ask("UNKNOWN"), timeout=10)
    assert type(failure.value) is PluginError and failure.value.status_code is None
    assert "the connection to the plugin is closed; session.restart('statuses')" in failure.value.message
    stream = _stub(transport).GenerateStreaming(_ask("UNKNOWN"), timeout=10)
    with pytest.raises(PluginError, match="connection to the plugin is closed"):
        next(stream)


def test_a_call_the_host_cut_short_is_cancelled(transport, server):
    pending = _stub(transport).Generate.future(_ask("SLEEP"), timeout=10)
    transport._stopping = True  # the host stops the plugin under the call
    transport.close_channel()
    with pytest.raises(CallCancelled) as failure:
        pending.result()
    assert failure.value.status_code in (grpc.StatusCode.CANCELLED, grpc.StatusCode.UNAVAILABLE)


def test_the_supervisor_step_runs_before_each_call_with_the_wire_method(transport):
    seen: list[tuple[str, float | None]] = []
    transport.before_call = lambda method, timeout: seen.append((method, timeout))
    with pytest.raises(ProviderError):
        _stub(transport).Generate(_ask("UNKNOWN"), timeout=3)
    with pytest.raises(PluginError):
        list(_stub(transport).GenerateStreaming(_ask("UNKNOWN"), timeout=4))
    with pytest.raises(ProviderError):  # the transport's own calls skip it
        _own(transport).Generate(_ask("UNKNOWN"), timeout=5)
    assert [method for method, _ in seen] == ["Generate", "GenerateStreaming"]
    assert [timeout for _, timeout in seen] == [3, 4]


def test_the_table_names_only_statuses_that_mean_something_of_their_own():
    assert set(STATUS_ERRORS) == {grpc.StatusCode.DEADLINE_EXCEEDED, grpc.StatusCode.UNKNOWN,
                                  grpc.StatusCode.UNIMPLEMENTED}
    assert operation_name("GenerateStreaming") == "generate_streaming"
    assert operation_name("UpsertBatches") == "upsert_many"


class _Raises(sdk.LLMProvider):
    def generate(self, messages, tools):
        raise ValueError("bad prompt")


@pytest.mark.parametrize("kind", ["in-kernel", "in-process"])
def test_a_provider_exception_is_the_same_error_on_every_transport(session, kind):
    llm = session.add("raises", _Raises(), transport=kind)
    with pytest.raises(ProviderError) as failure:
        llm.generate("hi")
    assert failure.value.status_code == grpc.StatusCode.UNKNOWN
    assert failure.value.message == "ValueError: bad prompt"
    assert isinstance(llm.last_failure, ValueError)
    assert llm.failed_since(0.0) is llm.last_failure
