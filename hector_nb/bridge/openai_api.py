"""The OpenAI API (CONTRACT section 6): the Responses API that Hector's ``openai`` LLMs call, embeddings,
models, and Chat Completions for the many clients that use it.

A streamed answer is server-sent events: the Responses API's typed events
(``response.created`` ... ``response.completed``, or ``response.failed``), or
Chat Completions' ``data:`` chunks ending with ``data: [DONE]``. A tool call is
a ``function_call`` item (a ``tool_calls`` entry in Chat Completions) whose
``call_id`` is the provider's ``ToolCall.id`` (a new id when it gave none).
"""

from __future__ import annotations

import base64
import json
import time
import uuid
from collections.abc import AsyncIterator, Callable
from typing import Any

import numpy as np
from starlette.requests import Request
from starlette.responses import JSONResponse, Response, StreamingResponse
from starlette.routing import BaseRoute, Route

from ..host.clients import EmbedderClient, LLMClient
from ..plugin import sdk
from . import translate
from .calls import ChunkFeed, embeddings_of
from .context import BridgeContext
from .exchange import CLIENT_WENT_AWAY, Exchange, endpoint
from .failures import BridgeError
from .fields import expect, invalid, optional, read_object, required

API = "openai"
SSE = "text/event-stream"
DELTA = "response.output_text.delta"
#: OpenAI's error ``type`` for each status the bridge answers.
ERROR_TYPES = {400: "invalid_request_error", 401: "authentication_error", 404: "not_found_error",
               413: "invalid_request_error", 503: "service_unavailable", 504: "timeout"}


def error_response(status: int, message: str) -> Response:
    """OpenAI's error shape: ``{"error": {"message", "type", "code"}}``."""
    return JSONResponse({"error": error_body(status, message)}, status_code=status)


def error_body(status: int, message: str) -> dict[str, Any]:
    return {"message": message, "type": ERROR_TYPES.get(status, "server_error"), "code": str(status), "param": None}


def _id(prefix: str) -> str:
    return f"{prefix}_{uuid.uuid4().hex[:24]}"


#: One encoder for every event: ``json.dumps`` with these options builds a new encoder per call (per chunk).
_ENCODER = json.JSONEncoder(ensure_ascii=False, separators=(",", ":"))


def _json(value: Any) -> str:
    return _ENCODER.encode(value)


def _usage(tokens: int) -> dict[str, Any]:
    return {"input_tokens": 0, "input_tokens_details": {"cached_tokens": 0}, "output_tokens": tokens,
            "output_tokens_details": {"reasoning_tokens": 0}, "total_tokens": tokens}


def _text_item(item_id: str, text: str, status: str) -> dict[str, Any]:
    content = [{"type": "output_text", "text": text, "annotations": [], "logprobs": []}] if status == "completed" \
        else []
    return {"id": item_id, "type": "message", "status": status, "role": "assistant", "content": content}


def _call_item(item_id: str, call: sdk.ToolCall, call_id: str, status: str) -> dict[str, Any]:
    return {"id": item_id, "type": "function_call", "status": status, "call_id": call_id, "name": call.name,
            "arguments": (call.arguments_json or "{}") if status == "completed" else ""}


class ResponseDraft:
    """One Responses API answer as it is built: its output items, and its events when streamed."""

    def __init__(self, body: dict[str, Any], model: str) -> None:
        self.body, self.model = body, model
        self.id = _id("resp")
        self.created = int(time.time())
        self.output: list[dict[str, Any]] = []
        self.sequence = 0
        self._text_id: str | None = None
        self._text: list[str] = []
        self._delta_head = ""

    def response(self, status: str, usage: dict[str, Any] | None = None, error: dict[str, Any] | None = None
                 ) -> dict[str, Any]:
        body = self.body
        return {"id": self.id, "object": "response", "created_at": self.created, "status": status, "error": error,
                "incomplete_details": None, "instructions": body.get("instructions"),
                "max_output_tokens": body.get("max_output_tokens"), "model": self.model, "output": self.output,
                "parallel_tool_calls": True, "previous_response_id": None,
                "reasoning": {"effort": None, "summary": None}, "store": False,
                "temperature": body.get("temperature"), "text": {"format": {"type": "text"}},
                "tool_choice": body.get("tool_choice", "auto"), "tools": body.get("tools") or [],
                "top_p": body.get("top_p"), "truncation": "disabled", "usage": usage, "metadata": {}}

    def event(self, kind: str, **fields: Any) -> bytes:
        data = {"type": kind, "sequence_number": self.sequence, **fields}
        self.sequence += 1
        return f"event: {kind}\ndata: {_json(data)}\n\n".encode()

    def opened(self) -> list[bytes]:
        return [self.event("response.created", response=self.response("in_progress")),
                self.event("response.in_progress", response=self.response("in_progress"))]

    def text(self, delta: str) -> list[bytes]:
        events = []
        if self._text_id is None:
            self._text_id, self._text = _id("msg"), []
            index = len(self.output)
            events += [self.event("response.output_item.added", output_index=index,
                                  item=_text_item(self._text_id, "", "in_progress")),
                       self.event("response.content_part.added", item_id=self._text_id, output_index=index,
                                  content_index=0, part={"type": "output_text", "text": "", "annotations": []})]
            # The one event of every chunk, written from a template: the same JSON as event() writes.
            self._delta_head = f',"item_id":"{self._text_id}","output_index":{index},"content_index":0,"delta":'
        self._text.append(delta)
        events.append(f'event: {DELTA}\ndata: {{"type":"{DELTA}","sequence_number":{self.sequence}{self._delta_head}'
                      f'{_json(delta)},"logprobs":[]}}\n\n'.encode())
        self.sequence += 1
        return events

    def close_text(self) -> list[bytes]:
        """The events that end the message item being streamed (none when there is none)."""
        if self._text_id is None:
            return []
        text = "".join(self._text)
        item, index = _text_item(self._text_id, text, "completed"), len(self.output)
        self._text_id = None
        self.output.append(item)
        return [self.event("response.output_text.done", item_id=item["id"], output_index=index, content_index=0,
                           text=text, logprobs=[]),
                self.event("response.content_part.done", item_id=item["id"], output_index=index, content_index=0,
                           part=item["content"][0]),
                self.event("response.output_item.done", output_index=index, item=item)]

    def add_text(self, text: str) -> None:
        self.output.append(_text_item(_id("msg"), text, "completed"))

    def add_call(self, call: sdk.ToolCall, call_id: str) -> dict[str, Any]:
        item = _call_item(_id("fc"), call, call_id, "completed")
        self.output.append(item)
        return item

    def tool_call(self, call: sdk.ToolCall, call_id: str) -> list[bytes]:
        events = self.close_text()
        index = len(self.output)
        item = self.add_call(call, call_id)
        events += [self.event("response.output_item.added", output_index=index,
                              item=_call_item(item["id"], call, call_id, "in_progress")),
                   self.event("response.function_call_arguments.delta", item_id=item["id"], output_index=index,
                              delta=item["arguments"]),
                   self.event("response.function_call_arguments.done", item_id=item["id"], output_index=index,
                              name=call.name, arguments=item["arguments"]),
                   self.event("response.output_item.done", output_index=index, item=item)]
        return events

    def completed(self, tokens: int) -> list[bytes]:
        events = self.close_text()
        if not self.output:  # Hector requires at least one output item
            events = self.text("") + self.close_text()
        return events + [self.event("response.completed", response=self.response("completed", _usage(tokens)))]

    def failed(self, failure: BridgeError) -> bytes:
        error = {"code": "server_error", "message": failure.message}
        return self.event("response.failed", response=self.response("failed", error=error))


def routes(context: BridgeContext) -> list[BaseRoute]:
    """The OpenAI API's routes over ``context``."""

    async def models(request: Request, exchange: Exchange) -> Response:
        data = [{"id": client.name, "object": "model", "created": 0, "owned_by": "hector_nb"}
                for client in context.models(("llm", "embedder"))]
        return JSONResponse({"object": "list", "data": data})

    def llm(exchange: Exchange, conversation: translate.Conversation) -> LLMClient:
        exchange.asked(conversation)
        client = context.resolve(exchange.model, "llm")
        assert isinstance(client, LLMClient)  # resolve() checked the kind
        return client

    async def generate(client: LLMClient, exchange: Exchange, request: sdk.GenerateRequest) -> sdk.GenerateResponse:
        return await exchange.call(lambda: client.send(request, exchange.seconds_left),
                                   f"plugin {client.name!r}, generate")

    async def stream(client: LLMClient, exchange: Exchange, request: sdk.GenerateRequest) -> ChunkFeed:
        return await exchange.open_stream(lambda: client.send_streaming(request, exchange.seconds_left),
                                     f"plugin {client.name!r}, generate_streaming")

    async def responses(request: Request, exchange: Exchange) -> Response:
        body = await read_object(request)
        exchange.model = required(body, "model", str)
        conversation = translate.responses_conversation(body)
        exchange.stream = optional(body, "stream", bool, False)
        exchange.detail = _settings(body, ("temperature", "max_output_tokens", "top_p"))
        client = llm(exchange, conversation)
        draft = ResponseDraft(body, exchange.model)
        if not exchange.stream:
            reply = await generate(client, exchange, conversation.request)
            if reply.text or not reply.tool_calls:
                draft.add_text(reply.text)
            for call, call_id in zip(reply.tool_calls, translate.call_ids(reply.tool_calls), strict=True):
                draft.add_call(call, call_id)
            return JSONResponse(draft.response("completed", _usage(reply.tokens_used)))
        feed = await stream(client, exchange, conversation.request)
        return StreamingResponse(_response_events(draft, exchange, feed), media_type=SSE)

    async def chat_completions(request: Request, exchange: Exchange) -> Response:
        body = await read_object(request)
        exchange.model = required(body, "model", str)
        conversation = translate.chat_conversation(body)
        exchange.stream = optional(body, "stream", bool, False)
        exchange.detail = _settings(body, ("temperature", "max_tokens", "max_completion_tokens", "top_p"))
        client = llm(exchange, conversation)
        completion = Completion(exchange.model)
        if not exchange.stream:
            reply = await generate(client, exchange, conversation.request)
            return JSONResponse(completion.whole(reply))
        include_usage = bool(optional(body, "stream_options", dict, {}).get("include_usage"))
        feed = await stream(client, exchange, conversation.request)
        return StreamingResponse(_completion_chunks(completion, exchange, feed, include_usage), media_type=SSE)

    async def embeddings(request: Request, exchange: Exchange) -> Response:
        body = await read_object(request)
        exchange.model = required(body, "model", str)
        given = required(body, "input", (str, list))
        texts = [given] if isinstance(given, str) else [
            expect(text, str, f"input[{index}]") for index, text in enumerate(given)]
        encoding = optional(body, "encoding_format", str, "float")
        if encoding not in ("float", "base64"):
            raise invalid("encoding_format", f"is {encoding!r}; use float or base64")
        exchange.messages = len(texts)
        exchange.detail = _settings(body, ("dimensions",))
        client = context.resolve(exchange.model, "embedder")
        assert isinstance(client, EmbedderClient)  # resolve() checked the kind
        rows = await exchange.call(lambda: embeddings_of(client, texts, exchange.seconds_left),
                                   f"plugin {client.name!r}, embed")
        encode: Callable[[np.ndarray], Any] = _base64 if encoding == "base64" else np.ndarray.tolist
        data = [{"object": "embedding", "index": index, "embedding": encode(row)} for index, row in enumerate(rows)]
        return JSONResponse({"object": "list", "data": data, "model": exchange.model,
                             "usage": {"prompt_tokens": 0, "total_tokens": 0}})

    def route(path: str, handler: Any, operation: str, method: str = "POST") -> Route:
        return Route(path, endpoint(context, API, operation, error_response, handler), methods=[method])

    return [
        route("/v1/models", models, "models", "GET"),
        route("/v1/responses", responses, "responses"),
        route("/v1/chat/completions", chat_completions, "chat.completions"),
        route("/v1/embeddings", embeddings, "embeddings"),
    ]


def _settings(body: dict[str, Any], keys: tuple[str, ...]) -> str:
    """The generation settings a plugin cannot receive (its wire has no field for them), for the request log."""
    return ", ".join(f"{key}={body[key]}" for key in keys if body.get(key) is not None)


def _base64(row: np.ndarray) -> str:
    """A vector as OpenAI's ``base64`` encoding: little-endian float32 bytes."""
    return base64.b64encode(np.asarray(row, dtype="<f4").tobytes()).decode()


async def _response_events(draft: ResponseDraft, exchange: Exchange, feed: ChunkFeed) -> AsyncIterator[bytes]:
    """A Responses stream: created, items and their deltas, completed; a failure is ``response.failed``."""
    tokens = 0
    try:
        yield b"".join(draft.opened())
        async for batch in feed:
            events: list[bytes] = []
            for chunk in batch:
                if chunk.type == sdk.CHUNK_TYPE_TEXT and chunk.text:
                    events += draft.text(chunk.text)
                elif chunk.type == sdk.CHUNK_TYPE_TOOL_CALL:
                    events += draft.tool_call(chunk.tool_call, translate.call_ids([chunk.tool_call])[0])
                elif chunk.type == sdk.CHUNK_TYPE_DONE:
                    tokens = chunk.tokens_used
            yield b"".join(events)
        yield b"".join(draft.completed(tokens))
    except BridgeError as failure:
        exchange.finish(failure.status, failure.message)
        yield draft.failed(failure)
    else:
        exchange.finish(200)
    finally:
        feed.cancel()
        exchange.finish(CLIENT_WENT_AWAY, "the client went away before the end of the stream")


class Completion:
    """One Chat Completions answer: whole, or as streamed chunks."""

    def __init__(self, model: str) -> None:
        self.model = model
        self.id = _id("chatcmpl")
        self.created = int(time.time())

    def _envelope(self, kind: str, choice: dict[str, Any], **extra: Any) -> dict[str, Any]:
        return {"id": self.id, "object": kind, "created": self.created, "model": self.model, "choices": [choice],
                **extra}

    @staticmethod
    def tool_call(call: sdk.ToolCall, call_id: str, index: int | None = None) -> dict[str, Any]:
        entry = {"id": call_id, "type": "function",
                 "function": {"name": call.name, "arguments": call.arguments_json or "{}"}}
        return entry if index is None else {"index": index, **entry}

    @staticmethod
    def _usage(tokens: int) -> dict[str, int]:
        return {"prompt_tokens": 0, "completion_tokens": tokens, "total_tokens": tokens}

    def whole(self, reply: sdk.GenerateResponse) -> dict[str, Any]:
        message: dict[str, Any] = {"role": "assistant", "content": reply.text or None, "refusal": None}
        if reply.tool_calls:
            message["tool_calls"] = [self.tool_call(call, call_id) for call, call_id in
                                     zip(reply.tool_calls, translate.call_ids(reply.tool_calls), strict=True)]
        choice = {"index": 0, "message": message, "logprobs": None,
                  "finish_reason": "tool_calls" if reply.tool_calls else "stop"}
        return self._envelope("chat.completion", choice, usage=self._usage(reply.tokens_used))

    def chunk(self, delta: dict[str, Any], finish_reason: str | None = None, **extra: Any) -> bytes:
        choice = {"index": 0, "delta": delta, "logprobs": None, "finish_reason": finish_reason}
        return f"data: {_json(self._envelope('chat.completion.chunk', choice, **extra))}\n\n".encode()

    def usage_chunk(self, tokens: int) -> bytes:
        body = {"id": self.id, "object": "chat.completion.chunk", "created": self.created, "model": self.model,
                "choices": [], "usage": self._usage(tokens)}
        return f"data: {_json(body)}\n\n".encode()


async def _completion_chunks(completion: Completion, exchange: Exchange, feed: ChunkFeed, include_usage: bool
                             ) -> AsyncIterator[bytes]:
    """A Chat Completions stream: a role chunk, content and tool-call deltas, the finish, ``[DONE]``."""
    calls = tokens = 0
    try:
        yield completion.chunk({"role": "assistant", "content": ""})
        async for batch in feed:
            deltas: list[bytes] = []
            for chunk in batch:
                if chunk.type == sdk.CHUNK_TYPE_TEXT and chunk.text:
                    deltas.append(completion.chunk({"content": chunk.text}))
                elif chunk.type == sdk.CHUNK_TYPE_TOOL_CALL:
                    call_id = translate.call_ids([chunk.tool_call])[0]
                    deltas.append(completion.chunk({"tool_calls": [completion.tool_call(chunk.tool_call, call_id,
                                                                                        calls)]}))
                    calls += 1
                elif chunk.type == sdk.CHUNK_TYPE_DONE:
                    tokens = chunk.tokens_used
            yield b"".join(deltas)
        yield completion.chunk({}, "tool_calls" if calls else "stop")
        if include_usage:
            yield completion.usage_chunk(tokens)
        yield b"data: [DONE]\n\n"
    except BridgeError as failure:
        exchange.finish(failure.status, failure.message)
        yield f"data: {_json({'error': error_body(failure.status, failure.message)})}\n\n".encode()
    else:
        exchange.finish(200)
    finally:
        feed.cancel()
        exchange.finish(CLIENT_WENT_AWAY, "the client went away before the end of the stream")
