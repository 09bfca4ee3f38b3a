"""The Ollama API (CONTRACT section 6): what Hector's ``ollama`` LLMs and embedders call, and other Ollama clients.

``/api/chat`` streams by default: NDJSON lines of text, a line per tool call
(each with its own ``function.index``), then the final ``done: true`` line that
Hector requires. ``stream: false`` calls the provider's ``Generate`` and answers
one object. Embeddings: ``/api/embed`` (Hector v2; one vector per input) and
``/api/embeddings`` (Hector v1; ``prompt``).
"""

from __future__ import annotations

import datetime
import hashlib
import json
from collections.abc import AsyncIterator
from typing import Any

from starlette.requests import Request
from starlette.responses import JSONResponse, PlainTextResponse, Response, StreamingResponse
from starlette.routing import BaseRoute, Route

from ..host.clients import EmbedderClient, LLMClient, PluginClient
from ..plugin import sdk
from . import translate
from .calls import ChunkFeed, embeddings_of
from .context import BridgeContext
from .exchange import CLIENT_WENT_AWAY, Exchange, endpoint
from .failures import BridgeError
from .fields import expect, optional, read_object, required

API = "ollama"
#: The Ollama release whose API shapes this module writes, reported by ``/api/version``.
OLLAMA_VERSION = "0.12.0"
NDJSON = "application/x-ndjson"
#: ``options`` a plugin cannot receive (its wire has no field for them): shown in the request log.
LOGGED_OPTIONS = ("temperature", "num_predict", "top_p", "top_k", "seed", "stop")


def error_response(status: int, message: str) -> Response:
    """Ollama's error shape: ``{"error": "text"}``."""
    return JSONResponse({"error": message}, status_code=status)


def _now() -> str:
    return datetime.datetime.now(datetime.timezone.utc).isoformat().replace("+00:00", "Z")


def _tool_calls(plugin: str, calls: list[sdk.ToolCall], first_index: int = 0) -> list[dict[str, Any]]:
    """Tool calls as Ollama writes them: each with its own ``function.index`` (equal indexes are merged)."""
    out = []
    for offset, call in enumerate(calls):
        entry: dict[str, Any] = {"function": {"index": first_index + offset, "name": call.name,
                                              "arguments": translate.arguments_object(plugin, call)}}
        if call.id:
            entry["id"] = call.id
        out.append(entry)
    return out


#: One encoder for every line: ``json.dumps`` with these options builds a new encoder per call (per chunk).
_ENCODER = json.JSONEncoder(ensure_ascii=False, separators=(",", ":"))


def _json(value: Any) -> bytes:
    return _ENCODER.encode(value).encode()


def _line(value: dict[str, Any]) -> bytes:
    return _json(value) + b"\n"


def _done(exchange: Exchange, tokens: int) -> dict[str, Any]:
    """The fields of the last (or only) object of an answer."""
    return {"done": True, "done_reason": "stop", "total_duration": int(exchange.elapsed * 1e9), "load_duration": 0,
            "prompt_eval_count": 0, "prompt_eval_duration": 0, "eval_count": tokens, "eval_duration": 0}


def routes(context: BridgeContext) -> list[BaseRoute]:
    """The Ollama API's routes over ``context``."""

    async def root(request: Request) -> Response:
        return PlainTextResponse("Ollama is running")

    async def version(request: Request) -> Response:
        return JSONResponse({"version": OLLAMA_VERSION})

    def describe(client: PluginClient) -> dict[str, Any]:
        return {"format": "hector-plugin", "family": client.plugin_type, "families": [client.plugin_type],
                "parameter_size": "", "quantization_level": "", "parent_model": ""}

    async def tags(request: Request, exchange: Exchange) -> Response:
        models = [{"name": client.name, "model": client.name, "modified_at": _now(), "size": 0,
                   "digest": hashlib.sha256(client.name.encode()).hexdigest(), "details": describe(client)}
                  for client in context.models(("llm", "embedder"))]
        return JSONResponse({"models": models})

    async def show(request: Request, exchange: Exchange) -> Response:
        body = await read_object(request)
        exchange.model = optional(body, "model", str, "") or required(body, "name", str)
        try:
            client = context.resolve(exchange.model, "llm")
            capabilities = ["completion", "tools"]
        except BridgeError as not_llm:
            if not_llm.status != 400:
                raise
            client = context.resolve(exchange.model, "embedder")
            capabilities = ["embedding"]
        return JSONResponse({"modelfile": "", "parameters": "", "template": "", "details": describe(client),
                             "model_info": {"general.architecture": client.plugin_type,
                                            "hector_nb.transport": client.transport},
                             "capabilities": capabilities, "modified_at": _now()})

    async def chat(request: Request, exchange: Exchange) -> Response:
        body = await read_object(request)
        exchange.model = required(body, "model", str)
        conversation = translate.ollama_conversation(body)
        exchange.asked(conversation)
        exchange.stream = optional(body, "stream", bool, True)
        options = optional(body, "options", dict, {})
        exchange.detail = ", ".join(f"{key}={options[key]}" for key in LOGGED_OPTIONS if key in options)
        client = context.resolve(exchange.model, "llm")
        assert isinstance(client, LLMClient)  # resolve() checked the kind
        what = f"plugin {client.name!r}, generate"
        if not exchange.stream:
            reply = await exchange.call(lambda: client.send(conversation.request, exchange.seconds_left), what)
            message: dict[str, Any] = {"role": "assistant", "content": reply.text}
            if reply.tool_calls:
                message["tool_calls"] = _tool_calls(client.name, list(reply.tool_calls))
            return JSONResponse({"model": exchange.model, "created_at": _now(), "message": message,
                                 **_done(exchange, reply.tokens_used)})
        feed = await exchange.open_stream(lambda: client.send_streaming(conversation.request, exchange.seconds_left),
                                     f"{what}_streaming")
        return StreamingResponse(_chat_lines(client.name, exchange, feed), media_type=NDJSON)

    async def embed(request: Request, exchange: Exchange) -> Response:
        body = await read_object(request)
        exchange.model = required(body, "model", str)
        given = required(body, "input", (str, list))
        texts = [given] if isinstance(given, str) else [expect(t, str, f"input[{i}]") for i, t in enumerate(given)]
        exchange.messages = len(texts)
        client = _embedder(context, exchange.model)
        rows = await exchange.call(lambda: embeddings_of(client, texts, exchange.seconds_left),
                                   f"plugin {client.name!r}, embed")
        return JSONResponse({"model": exchange.model, "embeddings": [row.tolist() for row in rows],
                             "total_duration": 0, "load_duration": 0, "prompt_eval_count": 0})

    async def embeddings(request: Request, exchange: Exchange) -> Response:
        body = await read_object(request)
        exchange.model = required(body, "model", str)
        prompt = optional(body, "prompt", str, "")
        exchange.messages = 1
        client = _embedder(context, exchange.model)
        vector = await exchange.call(lambda: client.embed(prompt, exchange.seconds_left).tolist(),
                                     f"plugin {client.name!r}, embed")
        return JSONResponse({"embedding": vector})

    def route(path: str, handler: Any, operation: str, method: str = "POST") -> Route:
        return Route(path, endpoint(context, API, operation, error_response, handler), methods=[method])

    return [
        Route("/", root, methods=["GET", "HEAD"]),
        Route("/api/version", version, methods=["GET"]),
        route("/api/tags", tags, "tags", "GET"),
        route("/api/show", show, "show"),
        route("/api/chat", chat, "chat"),
        route("/api/embed", embed, "embed"),
        route("/api/embeddings", embeddings, "embeddings"),
    ]


def _embedder(context: BridgeContext, model: str) -> EmbedderClient:
    client = context.resolve(model, "embedder")
    assert isinstance(client, EmbedderClient)  # resolve() checked the kind
    return client


async def _chat_lines(plugin: str, exchange: Exchange, feed: ChunkFeed) -> AsyncIterator[bytes]:
    """A stream's NDJSON lines: text, tool calls, then ``done``; a failure is an ``error`` line, then the end.

    The lines of the chunks that arrived together are written together.
    """
    calls = tokens = 0
    try:
        async for batch in feed:
            lines = []
            head = {"model": exchange.model, "created_at": _now()}
            # The line of every text chunk, written from a template: the same JSON as _line() writes.
            text_head = _line(head)[:-2] + b',"message":{"role":"assistant","content":'
            for chunk in batch:
                if chunk.type == sdk.CHUNK_TYPE_TEXT:
                    lines.append(text_head + _json(chunk.text) + b'},"done":false}\n')
                elif chunk.type == sdk.CHUNK_TYPE_TOOL_CALL:
                    tool_calls = _tool_calls(plugin, [chunk.tool_call], calls)
                    calls += 1
                    lines.append(_line({**head, "message": {"role": "assistant", "content": "",
                                                            "tool_calls": tool_calls}, "done": False}))
                elif chunk.type == sdk.CHUNK_TYPE_DONE:
                    tokens = chunk.tokens_used
            yield b"".join(lines)
        yield _line({"model": exchange.model, "created_at": _now(), "message": {"role": "assistant", "content": ""},
                     **_done(exchange, tokens)})
    except BridgeError as failure:
        exchange.finish(failure.status, failure.message)
        yield _line({"error": failure.message})
    else:
        exchange.finish(200)
    finally:
        feed.cancel()
        exchange.finish(CLIENT_WENT_AWAY, "the client went away before the end of the stream")
