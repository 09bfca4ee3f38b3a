"""Every RPC of the three provider services, through real plugin processes."""

from __future__ import annotations

import grpc
import pytest

from hector_nb import sdk
from hector_nb.plugin._wire import database_pb2_grpc, embedder_pb2_grpc, llm_pb2_grpc


def _request(text: str, tools: tuple[str, ...] = ()) -> sdk.GenerateRequest:
    return sdk.GenerateRequest(
        messages=[sdk.Message(role="system", content="be brief"), sdk.Message(role="user", content=text)],
        tools=[sdk.ToolDefinition(name=name, parameters_json="{}") for name in tools],
    )


def test_llm_plugin_answers_every_rpc(start_plugin):
    stub = llm_pb2_grpc.LLMProviderStub(start_plugin("echo_llm.py").channel)

    assert stub.GetStatus(sdk.StatusRequest()).status == "loading"
    assert stub.Initialize(sdk.InitializeRequest(config={"prefix": ">> "})).success
    assert stub.GetStatus(sdk.StatusRequest()).status == "ready"
    assert stub.Health(sdk.HealthRequest()) == sdk.HealthResponse(healthy=True, message="ok")

    reply = stub.Generate(_request("hello world"))
    assert (reply.text, reply.tokens_used) == (">> hello world", 3)

    chunks = list(stub.GenerateStreaming(_request("one two three", tools=("lookup",))))
    assert [c.text for c in chunks[:3]] == ["one ", "two ", "three "]
    assert chunks[3].type == sdk.CHUNK_TYPE_TOOL_CALL and chunks[3].tool_call.name == "lookup"
    assert chunks[4] == sdk.StreamChunk(type=sdk.CHUNK_TYPE_DONE, tokens_used=3)
    assert len(chunks) == 5

    info = stub.GetModelInfo(sdk.Empty())
    assert (info.model_name, info.max_tokens, info.temperature) == ("my-llm", 4096, 0.7)

    manifest = stub.GetManifest(sdk.ManifestRequest())
    assert (manifest.name, manifest.version, manifest.type, manifest.protocol) == (
        "my-llm", "1.2.3", "llm_provider", "grpc")
    assert dict(manifest.capabilities) == {"streaming": "true", "function_calling": "true"}

    assert stub.Shutdown(sdk.ShutdownRequest()).success
    assert stub.GetStatus(sdk.StatusRequest()).status == "shutdown"


def test_config_defaults_are_applied(start_plugin):
    stub = llm_pb2_grpc.LLMProviderStub(start_plugin("echo_llm.py").channel)
    assert stub.Initialize(sdk.InitializeRequest()).success
    assert stub.Generate(_request("x")).text == "Echo: x"


def test_database_plugin_answers_every_rpc(start_plugin):
    stub = database_pb2_grpc.DatabaseProviderStub(start_plugin("memory_db.py").channel)
    assert stub.Initialize(sdk.InitializeRequest()).success
    assert stub.CreateCollection(sdk.CreateCollectionRequest(collection="docs", vector_size=2)).success
    for id, vector in {"a": [1, 0], "b": [0, 1], "c": [0.7, 0.7]}.items():
        request = sdk.UpsertRequest(collection="docs", id=id, vector=vector, metadata={"text": id * 2})
        reply = stub.Upsert(request)
        assert reply == sdk.UpsertResponse(success=True)

    found = stub.Search(sdk.SearchRequest(collection="docs", vector=[1, 0.1], top_k=2))
    assert found.error == ""
    assert [(r.id, r.content) for r in found.results] == [("a", "aa"), ("c", "cc")]
    assert found.results[0].score == pytest.approx(1.0)
    assert found.results[1].metadata == {"text": "cc"}

    assert stub.Delete(sdk.DeleteRequest(collection="docs", id="a")).success
    found = stub.Search(sdk.SearchRequest(collection="docs", vector=[1, 0.1], top_k=5))
    assert [r.id for r in found.results] == ["c", "b"]

    mismatch = stub.Upsert(sdk.UpsertRequest(collection="docs", id="d", vector=[1, 2, 3]))
    assert mismatch == sdk.UpsertResponse(success=False, error="ValueError: expected 2 dimensions, got 3")

    assert stub.DeleteCollection(sdk.DeleteCollectionRequest(collection="docs")).success
    missing = stub.Search(sdk.SearchRequest(collection="docs", vector=[1, 0], top_k=1))
    assert missing.results == [] and missing.error == "KeyError: 'docs'"


def test_embedder_plugin_answers_every_rpc(start_plugin):
    stub = embedder_pb2_grpc.EmbedderProviderStub(start_plugin("counting_embedder.py").channel)
    assert stub.Initialize(sdk.InitializeRequest()).success
    assert list(stub.Embed(sdk.EmbedRequest(text="abacab")).vector) == [3.0, 2.0, 1.0]
    assert stub.GetEmbedderInfo(sdk.Empty()) == sdk.EmbedderInfo(model_name="letters", dimension=3)
    assert stub.Health(sdk.HealthRequest()) == sdk.HealthResponse(healthy=True, message="counting")
    manifest = stub.GetManifest(sdk.ManifestRequest())
    assert (manifest.name, manifest.type) == ("letter-counts", "embedder_provider")


def test_async_provider(start_plugin):
    stub = llm_pb2_grpc.LLMProviderStub(start_plugin("async_llm.py").channel)
    assert stub.Initialize(sdk.InitializeRequest()).success
    assert stub.Generate(_request("shout")).text == "SHOUT"
    chunks = list(stub.GenerateStreaming(_request("abc")))
    assert [c.text for c in chunks] == ["a", "b", "c", ""]
    assert chunks[-1] == sdk.StreamChunk(type=sdk.CHUNK_TYPE_DONE, tokens_used=42)
    assert stub.GetModelInfo(sdk.Empty()).model_name == "async"
    assert stub.Health(sdk.HealthRequest()) == sdk.HealthResponse(healthy=False, message="unhealthy")


def test_large_messages_cross_both_ways(start_plugin):
    stub = embedder_pb2_grpc.EmbedderProviderStub(start_plugin("counting_embedder.py").channel)
    text = "a" * (20 * 1024 * 1024)  # over grpc's 4 MiB default
    assert list(stub.Embed(sdk.EmbedRequest(text=text)).vector) == [float(len(text)), 0.0, 0.0]


LIFECYCLE = [
    ("Initialize", sdk.InitializeRequest()),
    ("Shutdown", sdk.ShutdownRequest()),
]


@pytest.mark.parametrize("kind, stub_type", [
    ("llm", llm_pb2_grpc.LLMProviderStub),
    ("database", database_pb2_grpc.DatabaseProviderStub),
    ("embedder", embedder_pb2_grpc.EmbedderProviderStub),
])
def test_lifecycle_errors_travel_in_the_response(start_plugin, kind, stub_type):
    stub = stub_type(start_plugin("failing.py", kind).channel)
    for rpc, request in LIFECYCLE:
        reply = getattr(stub, rpc)(request)
        assert (reply.success, reply.error) == (False, "Boom: provider exploded"), rpc
    assert stub.Health(sdk.HealthRequest()) == sdk.HealthResponse(
        healthy=False, message="Boom: provider exploded")
    assert stub.GetStatus(sdk.StatusRequest()).status == "shutdown"


def test_failed_initialize_sets_error_status(start_plugin):
    stub = llm_pb2_grpc.LLMProviderStub(start_plugin("failing.py", "llm").channel)
    assert not stub.Initialize(sdk.InitializeRequest()).success
    assert stub.GetStatus(sdk.StatusRequest()).status == "error"


def test_llm_errors_are_grpc_unknown_or_error_chunks(start_plugin):
    stub = llm_pb2_grpc.LLMProviderStub(start_plugin("failing.py", "llm").channel)
    for call in (lambda: stub.Generate(_request("x")), lambda: stub.GetModelInfo(sdk.Empty())):
        with pytest.raises(grpc.RpcError) as raised:
            call()
        assert raised.value.code() == grpc.StatusCode.UNKNOWN
        assert raised.value.details() == "Boom: provider exploded"
    chunks = list(stub.GenerateStreaming(_request("x")))
    assert chunks == [
        sdk.StreamChunk(type=sdk.CHUNK_TYPE_TEXT, text="partial "),
        sdk.StreamChunk(type=sdk.CHUNK_TYPE_ERROR, error="Boom: stream exploded"),
    ]


def test_database_errors_travel_in_the_response(start_plugin):
    stub = database_pb2_grpc.DatabaseProviderStub(start_plugin("failing.py", "database").channel)
    writes = [
        (stub.Upsert, sdk.UpsertRequest(collection="c", id="1", vector=[1.0])),
        (stub.Delete, sdk.DeleteRequest(collection="c", id="1")),
        (stub.CreateCollection, sdk.CreateCollectionRequest(collection="c", vector_size=1)),
        (stub.DeleteCollection, sdk.DeleteCollectionRequest(collection="c")),
    ]
    for rpc, request in writes:
        reply = rpc(request)
        assert (reply.success, reply.error) == (False, "Boom: provider exploded")
    reply = stub.Search(sdk.SearchRequest(collection="c", vector=[1.0], top_k=1))
    assert (list(reply.results), reply.error) == ([], "Boom: provider exploded")


def test_embedder_errors(start_plugin):
    stub = embedder_pb2_grpc.EmbedderProviderStub(start_plugin("failing.py", "embedder").channel)
    reply = stub.Embed(sdk.EmbedRequest(text="x"))
    assert (list(reply.vector), reply.error) == ([], "Boom: provider exploded")
    with pytest.raises(grpc.RpcError) as raised:
        stub.GetEmbedderInfo(sdk.Empty())
    assert raised.value.code() == grpc.StatusCode.UNKNOWN
    assert raised.value.details() == "Boom: provider exploded"
