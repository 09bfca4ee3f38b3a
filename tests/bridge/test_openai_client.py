"""The official ``openai`` client against the bridge: Responses, Chat Completions, embeddings, models, errors."""

from __future__ import annotations

import base64
import json

import numpy as np
import openai
import pytest
from bridge_providers import seen

from hector_nb import sdk
from hector_nb.bridge import start_bridge

TOOL = {"type": "function", "name": "lookup", "description": "Look a word up",
        "parameters": {"type": "object", "properties": {"asked": {"type": "string"}}, "required": ["asked"]}}
CHAT_TOOL = {"type": "function", "function": {k: v for k, v in TOOL.items() if k != "type"}}


def test_responses_unary_shows_what_the_provider_saw(openai_client):
    response = openai_client.responses.create(model="mirror", instructions="Be terse.", input=[
        {"role": "developer", "content": "Extra rules."},
        {"role": "user", "content": [{"type": "input_text", "text": "Hello"}]},
        {"role": "assistant", "content": [{"type": "output_text", "text": "Hi"}]},
        {"role": "user", "content": "describe"}])
    assert response.status == "completed" and response.usage.output_tokens == 7
    messages = seen(response.output_text)["messages"]
    assert [(m["role"], m["content"]) for m in messages] == [
        (sdk.ROLE_UNSPECIFIED, "Be terse."), (sdk.ROLE_UNSPECIFIED, "Extra rules."), (sdk.ROLE_USER, "Hello"),
        (sdk.ROLE_AGENT, "Hi"), (sdk.ROLE_USER, "describe")]


def test_responses_tool_round_trip_keeps_the_call_id(openai_client):
    first = openai_client.responses.create(model="mirror", input="Find cats", tools=[TOOL])
    [call] = first.output
    assert call.type == "function_call" and call.name == "lookup" and call.call_id.startswith("call_")
    assert json.loads(call.arguments) == {"asked": "Find cats"}
    second = openai_client.responses.create(model="mirror", tools=[TOOL], input=[
        {"role": "user", "content": "Find cats"},
        {"type": "function_call", "call_id": call.call_id, "name": call.name, "arguments": call.arguments},
        {"type": "function_call_output", "call_id": call.call_id, "output": "cats are mammals"}])
    what = seen(second.output_text)
    assert what["messages"][1:] == [
        {"role": sdk.ROLE_AGENT, "content": "", "tool_call_id": "",
         "tool_calls": [[call.call_id, "lookup", {"asked": "Find cats"}]]},
        {"role": sdk.ROLE_AGENT, "content": "cats are mammals", "tool_call_id": call.call_id, "tool_calls": []}]
    assert what["tools"] == [["lookup", "Look a word up", TOOL["parameters"]]]


def test_responses_stream_events(openai_client):
    with openai_client.responses.stream(model="mirror", input="stream 4") as stream:
        events = list(stream)
        final = stream.get_final_response()
    kinds = [event.type for event in events]
    assert kinds[:2] == ["response.created", "response.in_progress"]
    assert kinds[-4:] == ["response.output_text.done", "response.content_part.done", "response.output_item.done",
                          "response.completed"]
    assert "".join(e.delta for e in events if e.type == "response.output_text.delta") == "w0 w1 w2 w3 "
    assert [e.sequence_number for e in events] == list(range(len(events)))
    assert final.output_text == "w0 w1 w2 w3 " and final.usage.output_tokens == 3


def test_responses_stream_tool_call(openai_client):
    with openai_client.responses.stream(model="mirror", input="Find dogs", tools=[TOOL]) as stream:
        done = [e.item for e in stream if e.type == "response.output_item.done"]
    assert [(item.type, item.name, json.loads(item.arguments)) for item in done] == [
        ("function_call", "lookup", {"asked": "Find dogs"})]


def test_responses_stream_failing_mid_way_ends_with_response_failed(openai_client):
    with openai_client.responses.stream(model="mirror", input="fail later") as stream:
        events = list(stream)
    assert events[-1].type == "response.failed"
    assert "mirror failed mid-stream" in events[-1].response.error.message
    assert "".join(e.delta for e in events if e.type == "response.output_text.delta") == "partial "


def test_a_provider_failing_before_its_stream_is_a_500_before_any_event(openai_client):
    with pytest.raises(openai.InternalServerError, match="mirror failed on purpose") as raised:
        openai_client.responses.create(model="mirror", input="fail", stream=True)
    assert raised.value.status_code == 500
    with pytest.raises(openai.InternalServerError, match="plugin 'mirror', generate: .*mirror failed on purpose"):
        openai_client.responses.create(model="mirror", input="fail")


def test_chat_completions_unary_stream_and_tools(openai_client):
    reply = openai_client.chat.completions.create(model="mirror", messages=[
        {"role": "system", "content": "Be terse."}, {"role": "user", "content": "describe"}])
    assert reply.choices[0].finish_reason == "stop"
    assert [m["role"] for m in seen(reply.choices[0].message.content)["messages"]] == [
        sdk.ROLE_UNSPECIFIED, sdk.ROLE_USER]
    chunks = list(openai_client.chat.completions.create(
        model="mirror", messages=[{"role": "user", "content": "stream 3"}], stream=True,
        stream_options={"include_usage": True}))
    assert "".join(c.choices[0].delta.content or "" for c in chunks if c.choices) == "w0 w1 w2 "
    assert chunks[-1].usage.completion_tokens == 3
    called = openai_client.chat.completions.create(
        model="mirror", messages=[{"role": "user", "content": "Find owls"}], tools=[CHAT_TOOL])
    [call] = called.choices[0].message.tool_calls
    assert called.choices[0].finish_reason == "tool_calls" and call.function.name == "lookup"
    answer = openai_client.chat.completions.create(model="mirror", tools=[CHAT_TOOL], messages=[
        {"role": "user", "content": "Find owls"}, called.choices[0].message.model_dump(exclude_none=True),
        {"role": "tool", "tool_call_id": call.id, "content": "owls hoot"}])
    assert seen(answer.choices[0].message.content)["messages"][-1] == {
        "role": sdk.ROLE_AGENT, "content": "owls hoot", "tool_call_id": call.id, "tool_calls": []}
    streamed = list(openai_client.chat.completions.create(
        model="mirror", messages=[{"role": "user", "content": "Find owls"}], tools=[CHAT_TOOL], stream=True))
    deltas = [d for c in streamed if c.choices for d in c.choices[0].delta.tool_calls or ()]
    assert [(d.index, d.function.name) for d in deltas] == [(0, "lookup")]
    assert streamed[-1].choices[0].finish_reason == "tool_calls"


def test_chat_completions_stream_error_is_an_error_event(openai_client):
    with pytest.raises(openai.APIError, match="mirror failed mid-stream"):
        list(openai_client.chat.completions.create(model="mirror", messages=[{"role": "user", "content": "fail later"}],
                                                   stream=True))


def test_embeddings_as_floats_and_base64(openai_client, session):
    expected = session.embedder("hashing").embed("a cat")
    floats = openai_client.embeddings.create(model="hashing", input="a cat", encoding_format="float")
    np.testing.assert_allclose(floats.data[0].embedding, expected, rtol=1e-6)
    # The client asks for base64 by default and decodes it.
    several = openai_client.embeddings.create(model="hashing", input=["a cat", "a dog"])
    assert [d.index for d in several.data] == [0, 1]
    np.testing.assert_allclose(several.data[0].embedding, expected, rtol=1e-6)
    raw = openai_client.embeddings.with_raw_response.create(model="hashing", input=["a cat"],
                                                             encoding_format="base64").http_response.json()
    np.testing.assert_array_equal(np.frombuffer(base64.b64decode(raw["data"][0]["embedding"]), "<f4"), expected)


def test_models_lists_the_served_llms_and_embedders(openai_client):
    assert [m.id for m in openai_client.models.list()] == ["echo", "hashing", "mirror"]


def test_errors_in_openai_shape(openai_client):
    with pytest.raises(openai.NotFoundError, match="model 'nope' not found; this bridge serves: echo, hashing, mirror"):
        openai_client.responses.create(model="nope", input="hi")
    with pytest.raises(openai.BadRequestError, match="'hashing' is an embedder, not an LLM"):
        openai_client.responses.create(model="hashing", input="hi")
    with pytest.raises(openai.BadRequestError, match="'mirror' is an LLM, not an embedder"):
        openai_client.embeddings.create(model="mirror", input="hi")
    with pytest.raises(openai.BadRequestError, match="field 'input' is required"):
        openai_client.responses.create(model="mirror", input=None)  # type: ignore[arg-type]
    with pytest.raises(openai.BadRequestError, match="images are not supported"):
        openai_client.responses.create(model="mirror", input=[{"role": "user", "content": [
            {"type": "input_image", "image_url": "data:image/png;base64,AAAA"}]}])
    with pytest.raises(openai.BadRequestError, match=r"field 'input\[0\].role' is 'robot', not a role"):
        openai_client.responses.create(model="mirror", input=[{"role": "robot", "content": "x"}])


def test_malformed_json_is_a_400_naming_the_problem(http):
    reply = http.post("/v1/responses", content=b"{not json", headers={"Content-Type": "application/json"})
    assert reply.status_code == 400 and "not JSON" in reply.json()["error"]["message"]
    reply = http.post("/v1/chat/completions", json={"model": "mirror", "messages": "hi"})
    assert reply.status_code == 400 and reply.json()["error"]["message"] == "field 'messages' must be a list, not str"


def test_a_hung_provider_is_a_504_at_the_deadline(session):
    with start_bridge(session, timeout=0.5) as bridge, openai.OpenAI(base_url=bridge.url + "/v1", api_key="x",
                                                                      max_retries=0) as client:
        deadline = r"plugin .mirror., generate: no answer within 0.5s \(the request.s deadline\)"
        with pytest.raises(openai.APIStatusError, match=deadline) as raised:
            client.responses.create(model="mirror", input="hang")
        assert raised.value.status_code == 504
        with pytest.raises(openai.APIStatusError) as raised:
            client.responses.create(model="mirror", input="hang", stream=True)
        assert raised.value.status_code == 504
        assert list(bridge.log.status) == [504, 504]
