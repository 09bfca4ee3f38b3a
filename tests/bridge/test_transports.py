"""The bridge over every transport: in-kernel, in-process and subprocess providers, concurrent streams, a provider
loaded again under its name, and a client that leaves mid-stream."""

from __future__ import annotations

import json
import threading
from concurrent.futures import ThreadPoolExecutor

import httpx
import ollama
import openai
import pytest
from bridge_providers import CLOSED, Mirror, seen

from hector_nb import Session, sdk
from hector_nb.providers.hashing import HashingEmbedder

TRANSPORTS = ["in-kernel", "in-process", "subprocess"]
TOOL = {"type": "function", "name": "lookup", "parameters": {"type": "object", "properties": {}}}
STREAMS = 16


@pytest.fixture
def session():
    with Session(timeout=60) as s:
        yield s


@pytest.mark.parametrize("transport", TRANSPORTS)
def test_both_apis_over_each_transport(session, transport):
    session.add("mirror", Mirror(), transport=transport)
    session.add("hashing", HashingEmbedder(), transport=transport)
    with session.serve() as bridge, openai.OpenAI(base_url=bridge.url + "/v1", api_key="x", max_retries=0) as client:
        with client.responses.stream(model="mirror", input="Find", tools=[TOOL]) as stream:
            [call] = [e.item for e in stream if e.type == "response.output_item.done"]
        answer = client.responses.create(model="mirror", tools=[TOOL], input=[
            {"role": "user", "content": "Find"},
            {"type": "function_call", "call_id": call.call_id, "name": call.name, "arguments": call.arguments},
            {"type": "function_call_output", "call_id": call.call_id, "output": "found"}])
        assert seen(answer.output_text)["messages"][-1] == {
            "role": sdk.ROLE_AGENT, "content": "found", "tool_call_id": call.call_id, "tool_calls": []}
        local = ollama.Client(host=bridge.url)
        parts = list(local.chat(model="mirror", messages=[{"role": "user", "content": "stream 5"}], stream=True))
        assert "".join(p.message.content for p in parts) == "w0 w1 w2 w3 w4 " and parts[-1].done
        assert len(local.embed(model="hashing", input=["a", "b"]).embeddings) == 2
        with pytest.raises(ollama.ResponseError, match="mirror failed on purpose"):
            local.chat(model="mirror", messages=[{"role": "user", "content": "fail"}], stream=False)


@pytest.mark.parametrize("transport", ["in-kernel", "subprocess"])
def test_sixteen_concurrent_streams_all_complete(session, transport):
    session.add("mirror", Mirror(), transport=transport, config={"delay": "0.05"})
    start = threading.Barrier(STREAMS)
    expected = "".join(f"w{i} " for i in range(20))
    with session.serve() as bridge:
        def one(index: int) -> str:
            with httpx.Client(base_url=bridge.url, timeout=60) as http:
                start.wait(30)
                body = {"model": "mirror", "stream": True, "input": "stream 20"}
                with http.stream("POST", "/v1/responses", json=body) as reply:
                    text = "".join(json.loads(line[6:]).get("delta", "") for line in reply.iter_lines()
                                   if line.startswith("data: ") and "output_text.delta" in line)
            return text

        with ThreadPoolExecutor(STREAMS) as pool:
            texts = list(pool.map(one, range(STREAMS)))
        log = bridge.log
    assert texts == [expected] * STREAMS
    assert list(log.status) == [200] * STREAMS
    # Served at once, not one after another: some moment lies inside every one of the 16 requests.
    ends = log.time.astype("int64") / 1e9
    begins = ends - log.latency_ms / 1000
    assert begins.max() < ends.min()


def test_a_provider_loaded_again_answers_the_next_request(session):
    class First(sdk.LLMProvider):
        name = "shout"

        def generate(self, messages, tools):
            return sdk.GenerateResponse(text="first")

    class Second(First):
        def generate(self, messages, tools):
            return sdk.GenerateResponse(text="SECOND")

    session.add("shout", First())
    with session.serve("shout") as bridge:
        local = ollama.Client(host=bridge.url)
        ask = [{"role": "user", "content": "hi"}]
        assert local.chat(model="shout", messages=ask, stream=False).message.content == "first"
        session.unload("shout")  # what running a %%hector provider cell again does first
        with pytest.raises(ollama.ResponseError, match="model 'shout' not found; this bridge serves: none"):
            local.chat(model="shout", messages=ask, stream=False)
        session.add("shout", Second())
        assert local.chat(model="shout", messages=ask, stream=False).message.content == "SECOND"


def test_a_client_leaving_mid_stream_closes_the_providers_stream(session):
    session.add("mirror", Mirror())
    CLOSED.clear()
    with session.serve() as bridge:
        with httpx.Client(base_url=bridge.url, timeout=30) as http:
            body = {"model": "mirror", "messages": [{"role": "user", "content": "slow"}]}
            with http.stream("POST", "/api/chat", json=body) as reply:
                first = next(reply.iter_lines())
                assert json.loads(first)["message"]["content"] == "s0 "
        assert CLOSED.wait(30), "the provider's generator was not closed after the client left"
        log = bridge.log
    assert list(log.status) == [499] and "went away" in log.detail[0]
