"""The official ``ollama`` client against the bridge: chat (streamed and not), tools, embeddings, models, errors."""

from __future__ import annotations

import numpy as np
import ollama
import pytest
from bridge_providers import seen

from hector_nb import sdk

TOOL = {"type": "function", "function": {
    "name": "lookup", "description": "Look a word up",
    "parameters": {"type": "object", "properties": {"asked": {"type": "string"}}, "required": ["asked"]}}}


def test_chat_unary_maps_the_roles_as_hector_plugins_see_them(ollama_client):
    reply = ollama_client.chat(model="mirror", stream=False, messages=[
        {"role": "system", "content": "Be terse."},
        {"role": "user", "content": "System: generated tool list"},   # how Hector v1 sends system text
        {"role": "user", "content": "Hello"},
        {"role": "assistant", "content": "Hi"},
        {"role": "user", "content": "describe"}])
    assert reply.done and reply.done_reason == "stop" and reply.eval_count == 7
    assert [(m["role"], m["content"]) for m in seen(reply.message.content)["messages"]] == [
        (sdk.ROLE_UNSPECIFIED, "Be terse."), (sdk.ROLE_UNSPECIFIED, "generated tool list"), (sdk.ROLE_USER, "Hello"),
        (sdk.ROLE_AGENT, "Hi"), (sdk.ROLE_USER, "describe")]


def test_chat_streams_lines_then_done(ollama_client):
    parts = list(ollama_client.chat(model="mirror", messages=[{"role": "user", "content": "stream 3"}], stream=True))
    assert [p.message.content for p in parts] == ["w0 ", "w1 ", "w2 ", ""]
    assert [p.done for p in parts] == [False, False, False, True]
    assert parts[-1].eval_count == 3


@pytest.mark.parametrize("stream", [False, True])
def test_tool_calls_and_their_results(ollama_client, stream):
    first = ollama_client.chat(model="mirror", messages=[{"role": "user", "content": "Find cats"}], tools=[TOOL],
                               stream=stream)
    calls = [c for part in first for c in part.message.tool_calls or ()] if stream else first.message.tool_calls
    assert [(c.function.name, c.function.arguments) for c in calls] == [("lookup", {"asked": "Find cats"})]
    second = ollama_client.chat(model="mirror", tools=[TOOL], stream=False, messages=[
        {"role": "user", "content": "Find cats"},
        {"role": "assistant", "content": "", "tool_calls": [{"function": {"name": "lookup",
                                                                           "arguments": {"asked": "Find cats"}}}]},
        {"role": "tool", "content": "cats are mammals", "tool_name": "lookup"}])
    turn, result = seen(second.message.content)["messages"][1:]
    # Ollama's calls carry no ids: the bridge gives the call one and the result names it.
    assert turn == {"role": sdk.ROLE_AGENT, "content": "", "tool_call_id": "",
                    "tool_calls": [["call_1_0", "lookup", {"asked": "Find cats"}]]}
    assert result == {"role": sdk.ROLE_AGENT, "content": "cats are mammals", "tool_call_id": "call_1_0",
                      "tool_calls": []}


def test_embed_and_embeddings(ollama_client, session):
    expected = session.embedder("hashing").embed("a cat")
    one = ollama_client.embed(model="hashing", input="a cat")
    np.testing.assert_allclose(one.embeddings[0], expected, rtol=1e-6)
    several = ollama_client.embed(model="hashing", input=["a cat", "a dog", "a cow"])
    assert len(several.embeddings) == 3
    np.testing.assert_allclose(several.embeddings[0], expected, rtol=1e-6)
    np.testing.assert_allclose(ollama_client.embeddings(model="hashing", prompt="a cat").embedding, expected,
                               rtol=1e-6)
    assert ollama_client.embeddings(model="hashing:latest", prompt="a cat").embedding  # a tag names the same model


def test_list_show_and_version(ollama_client, http):
    assert [m.model for m in ollama_client.list().models] == ["echo", "hashing", "mirror"]
    assert "tools" in ollama_client.show("mirror").capabilities
    assert ollama_client.show("hashing").capabilities == ["embedding"]
    assert http.get("/api/version").json()["version"]


def test_errors_in_ollama_shape(ollama_client, http):
    with pytest.raises(ollama.ResponseError, match="model 'nope' not found; this bridge serves") as raised:
        ollama_client.chat(model="nope", messages=[{"role": "user", "content": "hi"}])
    assert raised.value.status_code == 404
    with pytest.raises(ollama.ResponseError, match="'mirror' is an LLM, not an embedder") as raised:
        ollama_client.embed(model="mirror", input="hi")
    assert raised.value.status_code == 400
    with pytest.raises(ollama.ResponseError, match="mirror failed on purpose") as raised:
        ollama_client.chat(model="mirror", messages=[{"role": "user", "content": "fail"}], stream=False)
    assert raised.value.status_code == 500
    with pytest.raises(ollama.ResponseError, match="images are not supported") as raised:
        ollama_client.chat(model="mirror", messages=[{"role": "user", "content": "hi", "images": ["AAAA"]}])
    assert raised.value.status_code == 400
    missing = http.post("/api/chat", json={"messages": []})
    assert missing.status_code == 400 and missing.json() == {"error": "field 'model' is required"}
    wrong = http.post("/api/embed", json={"model": "hashing", "input": ["ok", 3]})
    assert wrong.status_code == 400 and wrong.json() == {"error": "field 'input[1]' must be a string, not int"}


def test_a_failure_before_the_stream_is_a_500_and_after_it_an_error_line(ollama_client, http):
    with pytest.raises(ollama.ResponseError, match="mirror failed on purpose") as raised:
        list(ollama_client.chat(model="mirror", messages=[{"role": "user", "content": "fail"}], stream=True))
    assert raised.value.status_code == 500
    with http.stream("POST", "/api/chat", json={"model": "mirror",
                                                "messages": [{"role": "user", "content": "fail later"}]}) as reply:
        assert reply.status_code == 200
        lines = [line for line in reply.iter_lines() if line]
    assert lines[0].startswith('{"model":"mirror"') and '"content":"partial "' in lines[0]
    assert lines[-1].startswith('{"error":"plugin \'mirror\', generate_streaming:') and "mid-stream" in lines[-1]


def test_parallel_tool_results_joined_in_one_message_as_hector_v2_sends_them(ollama_client):
    reply = ollama_client.chat(model="mirror", tools=[TOOL], stream=False, messages=[
        {"role": "user", "content": "Find cats and dogs"},
        {"role": "assistant", "content": "", "tool_calls": [
            {"function": {"name": "lookup", "arguments": {"asked": "cats"}}},
            {"function": {"name": "lookup", "arguments": {"asked": "dogs"}}}]},
        {"role": "tool", "content": "map[cats:purr]\nmap[dogs:bark]", "tool_name": "lookup"}])
    turn, result = seen(reply.message.content)["messages"][1:]
    assert [call[:2] for call in turn["tool_calls"]] == [["call_1_0", "lookup"], ["call_1_1", "lookup"]]
    assert result == {"role": sdk.ROLE_AGENT, "content": "map[cats:purr]\nmap[dogs:bark]",
                      "tool_call_id": "call_1_0", "tool_calls": []}
