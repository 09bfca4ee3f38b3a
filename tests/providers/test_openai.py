"""builtin:openai against a real OpenAI-compatible server (llama.cpp with SmolLM2-135M), offline.

The model is tiny, so the tests check the plumbing, never the wisdom: real text
comes back, streams add up to the unary answer (greedy decoding), tool calls
travel both ways, Hector's roles and request shape are accepted.
"""

from __future__ import annotations

import json

import pytest
from extras import require

from hector_nb import Session, hector, sdk
from hector_nb.errors import PluginError, ProviderError
from hector_nb.export import export_provider

WEATHER = {"name": "get_weather", "description": "The weather in a city",
           "parameters_json": json.dumps({"type": "object", "properties": {"city": {"type": "string"}},
                                          "required": ["city"]})}


@pytest.fixture
def session():
    with Session(timeout=600, start_timeout=60) as s:
        yield s


def load(session, base_url, transport="in-kernel", **config):
    return session.load("builtin:openai", name=f"openai-{transport}", transport=transport,
                        config={"base_url": base_url, "model": "smollm2", "temperature": "0", "max_tokens": "24",
                                "timeout": "600", **config})


@pytest.mark.parametrize("transport", ["in-kernel", "in-process", "subprocess"])
def test_generate_and_stream_on_every_transport(session, openai_server, transport):
    llm = load(session, openai_server, transport)
    reply = llm.generate("What is the capital of France? Answer in one word.")
    assert reply.text.strip() and reply.tokens_used > 0
    chunks = list(llm.stream("What is the capital of France? Answer in one word."))
    texts = [c.text for c in chunks if c.type == sdk.CHUNK_TYPE_TEXT]
    assert len(texts) > 1, "the server's stream should arrive in several TEXT chunks"
    assert "".join(texts) == reply.text  # temperature 0: the same greedy answer either way
    # llama.cpp sends no usage in streams (OpenAI does, asked by stream_options): then the chunks are counted.
    assert chunks[-1].type == sdk.CHUNK_TYPE_DONE and chunks[-1].tokens_used >= len(texts)
    info = llm.model_info()
    assert (info.model_name, info.max_tokens, info.temperature) == ("smollm2", 24, 0.0)


def test_a_hector_agent_request_is_accepted(session, openai_server):
    """What Hector sends: a system prompt and a tool list (two ROLE_UNSPECIFIED messages), the prompt, ten tools.

    Hector's own system prompt is about 5,500 tokens, minutes of prompt processing for llama.cpp on a busy
    2-core machine, so a short one stands in for it here; the shape is Hector's.
    """
    llm = load(session, openai_server)
    reply = llm.generate("what is the capital of France?", tools=hector.agent_tools(), agent=True,
                         system="You are a helpful assistant. Answer briefly.")
    assert reply.text or reply.tool_calls


def test_tool_calls_travel_both_ways(session, openai_server):
    llm = session.load("builtin:openai", name="tools", fidelity="lenient", config={
        "base_url": openai_server, "model": "smollm2", "temperature": "0", "max_tokens": "48", "timeout": "600",
        "tool_choice": "get_weather"})
    reply = llm.generate("What is the weather in Paris?", tools=[WEATHER])
    assert [c.name for c in reply.tool_calls] == ["get_weather"] and reply.tool_calls[0].id
    assert isinstance(json.loads(reply.tool_calls[0].arguments_json), dict)
    # Back to the server: the assistant's call and the tool's result, as OpenAI expects them.
    call = reply.tool_calls[0]
    history = [
        sdk.Message(role="ROLE_USER", content="What is the weather in Paris?"),
        sdk.Message(role="ROLE_AGENT", content="", tool_calls=[call]),
        sdk.Message(role="tool", content='{"temperature_c": 21, "sky": "clear"}', tool_call_id=call.id),
    ]
    follow_up = session.load("builtin:openai", name="plain", fidelity="lenient", config={
        "base_url": openai_server, "model": "smollm2", "temperature": "0", "max_tokens": "24", "timeout": "600"})
    assert follow_up.generate(history).text.strip()
    streamed = list(llm.stream("What is the weather in Paris?", tools=[WEATHER]))
    calls = [c.tool_call for c in streamed if c.type == sdk.CHUNK_TYPE_TOOL_CALL]
    assert [c.name for c in calls] == ["get_weather"] and streamed[-1].type == sdk.CHUNK_TYPE_DONE
    assert json.loads(calls[0].arguments_json) == json.loads(reply.tool_calls[0].arguments_json)


def test_roles_and_tools_in_openai_format():
    require("openai", "openai")
    from hector_nb.providers.openai import (
        ToolCallDeltas,
        from_openai_tool_calls,
        to_openai_messages,
        to_openai_tools,
    )

    call = sdk.ToolCall(id="c1", name="f", arguments_json='{"x": 1}')
    messages = to_openai_messages([
        sdk.Message(role="ROLE_UNSPECIFIED", content="system prompt"),
        sdk.Message(role="ROLE_UNSPECIFIED", content="AVAILABLE TOOLS:"),
        sdk.Message(role="ROLE_USER", content="hi"),
        sdk.Message(role="ROLE_AGENT", content="", tool_calls=[call]),
        sdk.Message(role="ROLE_AGENT", content="result", tool_call_id="c1"),
        sdk.Message(role="assistant", content="done"),
        sdk.Message(role="user", content="thanks"),
    ])
    assert messages == [
        {"role": "system", "content": "system prompt\n\nAVAILABLE TOOLS:"},
        {"role": "user", "content": "hi"},
        {"role": "assistant", "content": "",
         "tool_calls": [{"id": "c1", "type": "function", "function": {"name": "f", "arguments": '{"x": 1}'}}]},
        {"role": "tool", "tool_call_id": "c1", "content": "result"},
        {"role": "assistant", "content": "done"},
        {"role": "user", "content": "thanks"},
    ]
    assert to_openai_tools([sdk.ToolDefinition(name="g", description="d")]) == [
        {"type": "function", "function": {"name": "g", "description": "d",
                                          "parameters": {"type": "object", "properties": {}}}}]
    with pytest.raises(ValueError, match="tool 'g': parameters_json is not JSON"):
        to_openai_tools([sdk.ToolDefinition(name="g", parameters_json="{nope")])
    assert from_openai_tool_calls([{"id": "c2", "function": {"name": "h", "arguments": "{}"}}]) == [
        sdk.ToolCall(id="c2", name="h", arguments_json="{}")]
    deltas = ToolCallDeltas()  # OpenAI streams a call in fragments: id and name first, arguments in pieces
    deltas.add([{"index": 0, "id": "c3", "function": {"name": "h", "arguments": '{"ci'}}])
    deltas.add([{"index": 0, "function": {"arguments": 'ty": "Oslo"}'}}, {"index": 1, "id": "c4",
                                                                         "function": {"name": "g"}}])
    assert deltas.calls() == [sdk.ToolCall(id="c3", name="h", arguments_json='{"city": "Oslo"}'),
                              sdk.ToolCall(id="c4", name="g", arguments_json="{}")]


def test_errors_say_what_to_check(session, monkeypatch):
    require("openai", "openai")
    monkeypatch.delenv("OPENAI_API_KEY", raising=False)
    with pytest.raises(PluginError, match="model"):
        session.load("builtin:openai", name="no-model", config={"base_url": "http://127.0.0.1:9/v1"})
    with pytest.raises(ProviderError, match="no API key: set config api_key or the OPENAI_API_KEY"):
        session.load("builtin:openai", name="no-key", config={"model": "gpt-4o-mini"})
    down = session.load("builtin:openai", name="down", config={"base_url": "http://127.0.0.1:9/v1", "model": "m"})
    with pytest.raises(ProviderError, match=r"plugin 'down', generate: ConnectionError: cannot reach the "
                                            r"OpenAI-compatible server at http://127.0.0.1:9/v1: is it running"):
        down.generate("hi")
    chunks = list(down.stream("hi"))
    assert chunks[-1].type == sdk.CHUNK_TYPE_ERROR and "cannot reach" in chunks[-1].error


def test_the_api_key_is_never_written_by_export(session, tmp_path, monkeypatch):
    require("openai", "openai")
    monkeypatch.setenv("OPENAI_API_KEY", "sk-from-the-environment")
    llm = session.load("builtin:openai", config={"model": "gpt-4o-mini", "api_key": "sk-very-secret"},
                       transport="in-kernel")
    result = export_provider(llm.provider, tmp_path / "plugins")
    written = "".join(p.read_text() for p in result.directory.rglob("*") if p.is_file())
    assert "sk-very-secret" not in written and "sk-from-the-environment" not in written
    assert "api_key" in result.manifest.read_text() and "openai" in result.requirements.read_text()
