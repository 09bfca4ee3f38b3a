"""Every LLM and embedder request that stock Hector v1.9.9 and v2.0.2 sent (CONTRACT section 6), recorded in
tests/fixtures/hector-traffic (a copy of shared/hector-traffic) and replayed against the bridge: each answer has
the shape Hector reads, and the provider receives what a Hector plugin would.

The recordings' ``model`` names are served as they are: ``m`` (a :class:`Mirror`, which calls the first tool when
the user speaks and otherwise tells what it received), ``nomic-embed-text`` and ``text-embedding-3-small``.
"""

from __future__ import annotations

import json
from pathlib import Path

import httpx
import pytest
from bridge_providers import Mirror, seen

from hector_nb import Session, sdk
from hector_nb.providers.hashing import HashingEmbedder

TRAFFIC = Path(__file__).resolve().parents[1] / "fixtures" / "hector-traffic"
#: The vector-store requests belong to the bridge's vector-store dialect, tested with it.
LLM_AND_EMBEDDER_PATHS = ("/api/chat", "/api/embed", "/api/embeddings", "/v1/responses", "/v1/embeddings")
PLACEHOLDER = "<Hector's own text"


def recorded() -> list[tuple[str, int, dict]]:
    cases = []
    for path in sorted(TRAFFIC.glob("v*.json")):
        for index, request in enumerate(json.loads(path.read_text())["requests"]):
            if request["path"] in LLM_AND_EMBEDDER_PATHS:
                cases.append((path.stem, index, request))
    return cases


CASES = recorded()


def test_the_recordings_are_there():
    assert TRAFFIC.is_dir(), f"{TRAFFIC} is missing: the shared recordings of Hector's traffic"
    files = {stem for stem, _, _ in CASES}
    assert len(files) == 12 and len(CASES) >= 40, (files, len(CASES))


@pytest.fixture(scope="module")
def bridge():
    with Session(timeout=30) as session:
        session.add("m", Mirror())
        session.add("nomic-embed-text", HashingEmbedder())
        session.add("text-embedding-3-small", HashingEmbedder())
        with session.serve() as running:
            yield running


def events(body: str) -> list[tuple[str, dict]]:
    """Server-sent events as Hector's Go client reads them: ``event:`` and ``data:`` lines, a blank line between."""
    out = []
    for block in body.strip().split("\n\n"):
        fields = dict(line.split(": ", 1) for line in block.split("\n"))
        data = json.loads(fields["data"])
        assert data["type"] == fields["event"]
        out.append((fields["event"], data))
    return out


def tool_calls_of_ollama(message: dict) -> list[dict]:
    calls = message.get("tool_calls") or []
    for call in calls:
        assert set(call["function"]) >= {"index", "name", "arguments"} and isinstance(call["function"]["arguments"],
                                                                                      dict)
    return calls


def ollama_chat(reply: httpx.Response, streamed: bool) -> tuple[str, list[dict]]:
    """The text and tool calls of an ``/api/chat`` answer, checked as Hector reads it."""
    if not streamed:
        body = reply.json()
        assert body["done"] is True and body["message"]["role"] == "assistant"
        assert isinstance(body["prompt_eval_count"], int) and isinstance(body["eval_count"], int)
        return body["message"]["content"], tool_calls_of_ollama(body["message"])
    lines = [json.loads(line) for line in reply.text.splitlines()]
    assert all(line["done"] is False for line in lines[:-1])
    assert lines[-1]["done"] is True and lines[-1]["done_reason"] == "stop"  # Hector needs the final line
    calls = [call for line in lines for call in tool_calls_of_ollama(line["message"])]
    indexes = [call["function"]["index"] for call in calls]
    assert len(set(indexes)) == len(indexes), "Hector merges tool calls with equal indexes"
    return "".join(line["message"]["content"] for line in lines), calls


def check_output_item(item: dict) -> None:
    if item["type"] == "message":
        assert item["role"] == "assistant" and all(part["type"] == "output_text" for part in item["content"])
    else:
        assert item["type"] == "function_call" and item["call_id"] and item["name"]
        assert isinstance(json.loads(item["arguments"]), dict)


def responses(reply: httpx.Response, streamed: bool) -> tuple[str, list[dict]]:
    """The text and function calls of a ``/v1/responses`` answer, checked as Hector reads it."""
    if not streamed:
        body = reply.json()
        assert body["object"] == "response" and body["status"] == "completed" and body["output"]
        assert set(body["usage"]) >= {"input_tokens", "output_tokens", "total_tokens"}
        for item in body["output"]:
            check_output_item(item)
        text = "".join(part["text"] for item in body["output"] if item["type"] == "message"
                       for part in item["content"])
        return text, [item for item in body["output"] if item["type"] == "function_call"]
    stream = events(reply.text)
    kinds = [kind for kind, _ in stream]
    assert kinds[0] == "response.created" and kinds[-1] == "response.completed"
    assert [data["sequence_number"] for _, data in stream] == list(range(len(stream)))
    completed = stream[-1][1]["response"]
    assert completed["status"] == "completed" and completed["output"] and completed["usage"]["total_tokens"] >= 0
    done = [data["item"] for kind, data in stream if kind == "response.output_item.done"]
    for item in done:
        check_output_item(item)
    assert done == completed["output"]
    text = "".join(data["delta"] for kind, data in stream if kind == "response.output_text.delta")
    return text, [item for item in done if item["type"] == "function_call"]


def embedding_rows(path: str, body: dict) -> list[list[float]]:
    if path == "/api/embeddings":
        return [body["embedding"]]
    if path == "/api/embed":
        return body["embeddings"]
    assert body["object"] == "list"
    assert [entry["index"] for entry in body["data"]] == list(range(len(body["data"])))
    return [entry["embedding"] for entry in body["data"]]


@pytest.mark.parametrize(("recording", "index", "request_"), CASES,
                         ids=[f"{stem}-{index}" for stem, index, _ in CASES])
def test_each_recorded_request_gets_an_answer_hector_reads(bridge, recording, index, request_):
    body = request_["body"]
    headers = {k: v for k, v in request_["headers"].items() if k in ("Authorization", "Content-Type")}
    reply = httpx.post(bridge.url + request_["path"], json=body, headers=headers, timeout=30)
    assert reply.status_code == 200, reply.text
    path = request_["path"]
    if path in ("/api/embed", "/api/embeddings", "/v1/embeddings"):
        rows = embedding_rows(path, reply.json())
        assert len(rows) == 1 and len(rows[0]) > 0 and all(isinstance(x, float) for x in rows[0])
        return
    streamed = body.get("stream", path == "/api/chat")
    assert reply.headers["content-type"].startswith(
        ("application/x-ndjson" if path == "/api/chat" else "text/event-stream") if streamed else "application/json")
    text, calls = (ollama_chat if path == "/api/chat" else responses)(reply, streamed)
    if calls:  # the first request of a case: the user spoke, the Mirror called the first tool
        assert [call["function"]["name"] if path == "/api/chat" else call["name"] for call in calls] == [
            body["tools"][0]["function"]["name"] if path == "/api/chat" else body["tools"][0]["name"]]
        return
    provider_saw(path, body, seen(text)["messages"])


def provider_saw(path: str, body: dict, messages: list[dict]) -> None:
    """What the provider received for a request carrying a tool result: the roles a Hector plugin sees."""
    if path == "/api/chat":
        sent = body["messages"]
        assert len(messages) == len(sent)
        for message, original in zip(messages, sent, strict=True):
            if original["role"] == "user" and original["content"].startswith("System: "):
                # Hector v1's system text: ROLE_UNSPECIFIED, without the prefix, as the plugin path sends it.
                assert message == {"role": sdk.ROLE_UNSPECIFIED, "content": original["content"][len("System: "):],
                                   "tool_call_id": "", "tool_calls": []}
            else:
                role = {"system": sdk.ROLE_UNSPECIFIED, "user": sdk.ROLE_USER, "assistant": sdk.ROLE_AGENT,
                        "tool": sdk.ROLE_AGENT}[original["role"]]
                assert (message["role"], message["content"]) == (role, original["content"])
        turn, result = messages[-2], messages[-1]
        assert [call[1] for call in turn["tool_calls"]] == [sent[-1]["tool_name"]]
        assert result["tool_call_id"] == turn["tool_calls"][0][0] and result["content"].startswith(PLACEHOLDER)
    else:
        instructions, *rest = messages
        assert instructions == {"role": sdk.ROLE_UNSPECIFIED, "content": body["instructions"], "tool_call_id": "",
                                "tool_calls": []}
        call, output = body["input"][-2], body["input"][-1]
        assert rest[-2]["role"] == sdk.ROLE_AGENT and rest[-2]["tool_calls"] == [
            [call["call_id"], call["name"], json.loads(call["arguments"])]]
        assert rest[-1] == {"role": sdk.ROLE_AGENT, "content": output["output"], "tool_call_id": output["call_id"],
                            "tool_calls": []}
        assert rest[0]["role"] == sdk.ROLE_USER
