"""OpenAILLM: any OpenAI-compatible chat server (OpenAI, vLLM, Ollama, llama.cpp, LM Studio) as a Hector LLM.

Needs the ``openai`` extra: ``pip install -e ".[openai]"`` in the clone (the official
``openai`` client). The client is imported when the provider is initialized,
so hector_nb imports without it. The conversions between Hector's messages,
tools and tool calls and OpenAI's format live here too (``builtin:llama`` uses
them): this module imports only ``hector_nb.sdk``, so it exports as a plugin.
"""

from __future__ import annotations

import json
import os
from collections.abc import Iterable, Iterator, Mapping
from typing import Any

from .. import sdk
from .extras import install_command

API_KEY_ENV = "OPENAI_API_KEY"
DEFAULT_MAX_TOKENS = 4096
DEFAULT_TIMEOUT = 120.0
#: OpenAI's own ``tool_choice`` words; any other value names the function the model must call.
TOOL_CHOICES = ("auto", "none", "required")
#: The schema sent for a tool whose ``parameters_json`` is empty: OpenAI requires an object schema.
EMPTY_PARAMETERS = {"type": "object", "properties": {}}


def to_openai_messages(messages: Iterable[sdk.Message]) -> list[dict[str, Any]]:
    """Hector's conversation as OpenAI messages.

    Roles: ``ROLE_USER``/``user`` -> user, ``ROLE_AGENT``/``assistant`` ->
    assistant, ``ROLE_UNSPECIFIED``/``system``/empty -> system; a message with
    a ``tool_call_id`` is a tool result. Consecutive system messages (Hector
    sends its system prompt and its tool list as two) are joined into one, since
    some chat templates accept a single system message only.
    """
    out: list[dict[str, Any]] = []
    for message in messages:
        if message.tool_call_id:
            out.append({"role": "tool", "tool_call_id": message.tool_call_id, "content": message.content})
            continue
        role = sdk.openai_role(message.role)
        if role == "system" and out and out[-1]["role"] == "system":
            out[-1]["content"] += "\n\n" + message.content
            continue
        entry: dict[str, Any] = {"role": role, "content": message.content}
        if message.tool_calls:
            entry["tool_calls"] = [
                {"id": call.id, "type": "function",
                 "function": {"name": call.name, "arguments": call.arguments_json or "{}"}}
                for call in message.tool_calls]
        out.append(entry)
    return out


def to_openai_tools(tools: Iterable[sdk.ToolDefinition]) -> list[dict[str, Any]]:
    """Hector's tool definitions as OpenAI function tools; a tool's schema must be a JSON object."""
    out = []
    for tool in tools:
        try:
            parameters = json.loads(tool.parameters_json) if tool.parameters_json.strip() else EMPTY_PARAMETERS
        except json.JSONDecodeError as exc:
            raise ValueError(f"tool {tool.name!r}: parameters_json is not JSON ({exc.msg})") from None
        if not isinstance(parameters, dict):
            raise ValueError(f"tool {tool.name!r}: parameters_json must be a JSON Schema object")
        out.append({"type": "function",
                    "function": {"name": tool.name, "description": tool.description, "parameters": parameters}})
    return out


def _field(value: Any, name: str) -> Any:
    """A field of a response object (the openai client) or of a dict (llama-cpp-python)."""
    return value.get(name) if isinstance(value, Mapping) else getattr(value, name, None)


def from_openai_tool_calls(calls: Iterable[Any] | None) -> list[sdk.ToolCall]:
    """OpenAI's tool calls (objects or dicts) as Hector's."""
    out = []
    for call in calls or ():
        function = _field(call, "function")
        out.append(sdk.ToolCall(id=_field(call, "id") or "", name=_field(function, "name") or "",
                                arguments_json=_field(function, "arguments") or "{}"))
    return out


class ToolCallDeltas:
    """Streamed tool-call fragments (by ``index``) gathered into whole calls."""

    def __init__(self) -> None:
        self._calls: dict[int, dict[str, str]] = {}

    def add(self, deltas: Iterable[Any] | None) -> None:
        for delta in deltas or ():
            call = self._calls.setdefault(_field(delta, "index") or 0, {"id": "", "name": "", "arguments": ""})
            function = _field(delta, "function")
            call["id"] = _field(delta, "id") or call["id"]
            # OpenAI names the function in the first fragment only; some servers (llama.cpp) repeat it in each.
            call["name"] = call["name"] or ((_field(function, "name") or "") if function is not None else "")
            call["arguments"] += (_field(function, "arguments") or "") if function is not None else ""

    def calls(self) -> list[sdk.ToolCall]:
        return [sdk.ToolCall(id=c["id"], name=c["name"], arguments_json=c["arguments"] or "{}")
                for _, c in sorted(self._calls.items())]


def _number(config: dict[str, str], key: str, kind: type) -> Any:
    text = config.get(key) or ""
    if not text:
        return None
    try:
        return kind(text)
    except ValueError:
        raise ValueError(f"config {key} must be a number, got {text!r}") from None


class OpenAILLM(sdk.LLMProvider):
    """Chat completions on an OpenAI-compatible server, through the official ``openai`` client.

    Config: ``base_url`` (default OpenAI's; e.g. ``http://127.0.0.1:8080/v1``
    for llama.cpp, ``http://127.0.0.1:11434/v1`` for Ollama), ``model``
    (required), ``api_key`` (default: the ``OPENAI_API_KEY`` environment
    variable; a local server with a ``base_url`` needs none), ``temperature``,
    ``max_tokens``, ``tool_choice`` (auto, none, required or a tool's name; sent
    when given, with tools) and ``timeout`` (seconds, default 120).
    Hector's roles are mapped to OpenAI's, tools and tool calls both ways;
    streams arrive as TEXT chunks, the tool calls as TOOL_CALL chunks at the
    end, then DONE with the server's token count. The API key is a secret:
    exported plugins list the key's name, never its value.
    """

    name = "openai"
    version = "0.1.0"
    description = "Any OpenAI-compatible chat server (OpenAI, vLLM, Ollama, llama.cpp, LM Studio)."
    config_required = ("model",)
    config_optional = ("base_url", "api_key", "temperature", "max_tokens", "tool_choice", "timeout")
    capabilities = {"function_calling": True}

    def __init__(self) -> None:
        self._client: Any = None

    def initialize(self, config: dict[str, str]) -> None:
        try:
            import openai
        except ImportError:
            raise ImportError(f'builtin:openai needs the openai client: {install_command("openai")}') from None
        self.model = config.get("model") or ""
        if not self.model:
            raise ValueError("config model is required: the model name the server serves")
        self.base_url = config.get("base_url") or None
        api_key = config.get("api_key") or os.environ.get(API_KEY_ENV)
        if not api_key:
            if self.base_url is None:
                raise ValueError(f"no API key: set config api_key or the {API_KEY_ENV} environment variable")
            api_key = "unused"  # local servers ignore it, but the client insists on one
        self.temperature = _number(config, "temperature", float)
        self.max_tokens = _number(config, "max_tokens", int)
        choice = config.get("tool_choice") or ""
        self.tool_choice: Any = (choice if choice in TOOL_CHOICES or not choice
                                 else {"type": "function", "function": {"name": choice}})
        self.shutdown()
        self._errors = openai
        self.timeout = _number(config, "timeout", float) or DEFAULT_TIMEOUT
        self._client = openai.OpenAI(base_url=self.base_url, api_key=api_key, timeout=self.timeout, max_retries=0)

    def shutdown(self) -> None:
        if self._client is not None:
            self._client.close()
            self._client = None

    def _request(self, messages: list[sdk.Message], tools: list[sdk.ToolDefinition]) -> dict[str, Any]:
        if self._client is None:
            raise RuntimeError("the provider is not initialized; call initialize() first")
        request: dict[str, Any] = {"model": self.model, "messages": to_openai_messages(messages)}
        if tools:
            request["tools"] = to_openai_tools(tools)
            if self.tool_choice:
                request["tool_choice"] = self.tool_choice
        if self.temperature is not None:
            request["temperature"] = self.temperature
        if self.max_tokens is not None:
            request["max_tokens"] = self.max_tokens
        return request

    def _failure(self, exc: Exception) -> Exception:
        """The client's error as one line saying what to check."""
        where = self.base_url or "api.openai.com"
        if isinstance(exc, self._errors.APITimeoutError):
            return TimeoutError(f"no answer from {where} within {self.timeout:g}s: raise config timeout, "
                                "or ask for fewer max_tokens")
        if isinstance(exc, self._errors.APIConnectionError):
            return ConnectionError(f"cannot reach the OpenAI-compatible server at {where}: is it running, "
                                   "and is base_url right?")
        if isinstance(exc, self._errors.AuthenticationError):
            return PermissionError(f"{where} refused the API key: check config api_key or {API_KEY_ENV}")
        if isinstance(exc, self._errors.NotFoundError):
            return LookupError(f"{where} answered 404 for model {self.model!r}: check model and base_url")
        if isinstance(exc, self._errors.APIStatusError):
            return RuntimeError(f"{where} answered {exc.status_code}: {exc.message}")
        return exc

    def generate(self, messages: list[sdk.Message], tools: list[sdk.ToolDefinition]) -> sdk.GenerateResponse:
        request = self._request(messages, tools)
        try:
            reply = self._client.chat.completions.create(**request)
        except self._errors.OpenAIError as exc:
            raise self._failure(exc) from None
        message = reply.choices[0].message
        return sdk.GenerateResponse(text=message.content or "", tool_calls=from_openai_tool_calls(message.tool_calls),
                                    tokens_used=reply.usage.total_tokens if reply.usage else 0)

    def generate_streaming(self, messages: list[sdk.Message], tools: list[sdk.ToolDefinition]
                           ) -> Iterator[sdk.ChunkLike]:
        request = self._request(messages, tools)
        calls = ToolCallDeltas()
        tokens = 0
        try:
            stream = self._client.chat.completions.create(**request, stream=True,
                                                          stream_options={"include_usage": True})
            with stream:
                for chunk in stream:
                    if chunk.usage:
                        tokens = chunk.usage.total_tokens
                    for choice in chunk.choices:
                        if choice.delta.content:
                            yield choice.delta.content
                        calls.add(choice.delta.tool_calls)
        except self._errors.OpenAIError as exc:
            raise self._failure(exc) from None
        for call in calls.calls():
            yield sdk.StreamChunk(type=sdk.CHUNK_TYPE_TOOL_CALL, tool_call=call)
        yield sdk.StreamChunk(type=sdk.CHUNK_TYPE_DONE, tokens_used=tokens)

    def get_model_info(self) -> sdk.ModelInfo:
        return sdk.ModelInfo(model_name=self.model, max_tokens=self.max_tokens or DEFAULT_MAX_TOKENS,
                             temperature=1.0 if self.temperature is None else self.temperature)
