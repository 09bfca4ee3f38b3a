"""OpenAILLM: any OpenAI-compatible chat server (OpenAI, vLLM, Ollama, llama.cpp, LM Studio) as a Hector LLM.

Needs the ``openai`` extra: ``pip install "hector_nb[openai]"`` (the official
``openai`` client). The client is imported when the provider is initialized,
so hector_nb imports without it.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from typing import Any

from hector_nb import sdk
from hector_nb.providers.openai_format import (
    ToolCallDeltas,
    from_openai_tool_calls,
    to_openai_messages,
    to_openai_tools,
)

API_KEY_ENV = "OPENAI_API_KEY"
DEFAULT_MAX_TOKENS = 4096


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
    ``max_tokens`` (sent when given) and ``timeout`` (seconds, default 60).
    Hector's roles are mapped to OpenAI's, tools and tool calls both ways;
    streams arrive as TEXT chunks, the tool calls as TOOL_CALL chunks at the
    end, then DONE with the server's token count. The API key is a secret:
    exported plugins list the key's name, never its value.
    """

    name = "openai"
    version = "0.1.0"
    description = "Any OpenAI-compatible chat server (OpenAI, vLLM, Ollama, llama.cpp, LM Studio)."
    config_required = ("model",)
    config_optional = ("base_url", "api_key", "temperature", "max_tokens", "timeout")
    capabilities = {"function_calling": True}

    def __init__(self) -> None:
        self._client: Any = None

    def initialize(self, config: dict[str, str]) -> None:
        try:
            import openai
        except ImportError:
            raise ImportError('builtin:openai needs the openai client: pip install "hector_nb[openai]"') from None
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
        self.shutdown()
        self._errors = openai
        self._client = openai.OpenAI(base_url=self.base_url, api_key=api_key,
                                     timeout=_number(config, "timeout", float) or 60.0, max_retries=0)

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
        if self.temperature is not None:
            request["temperature"] = self.temperature
        if self.max_tokens is not None:
            request["max_tokens"] = self.max_tokens
        return request

    def _failure(self, exc: Exception) -> Exception:
        """The client's error as one line saying what to check."""
        where = self.base_url or "api.openai.com"
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
