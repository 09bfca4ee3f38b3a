"""EchoLLM: answers with the last user message, streamed word by word. No model, no network.

It reads roles with :func:`hector_nb.sdk.normalize_role`, so it finds the user's
message whether the caller speaks Hector's roles (``ROLE_USER``, what a Hector
agent sends) or OpenAI's (``user``).
"""

from __future__ import annotations

import re
import time

from .. import sdk


class EchoLLM(sdk.LLMProvider):
    """Echoes the last user message, prefixed by config ``prefix`` (default empty).

    Streams it word by word (the concatenated TEXT chunks equal ``generate``'s
    text exactly); when tools are offered, a TOOL_CALL chunk calls the first
    one with ``{"text": <message>}``. Config ``delay`` (seconds between chunks,
    default 0) slows the stream down enough to watch it.
    """

    name = "echo"
    version = "0.1.0"
    description = "Echoes the last user message; streams word by word; calls the first tool offered."
    config_optional = ("prefix", "delay")
    config_defaults = {"prefix": "", "delay": "0"}
    capabilities = {"function_calling": True}

    def initialize(self, config: dict[str, str]) -> None:
        self.prefix = config.get("prefix", "")
        self.delay = float(config.get("delay") or 0)

    @staticmethod
    def _last_user_message(messages: list[sdk.Message]) -> str:
        users = [m.content for m in messages if sdk.normalize_role(m.role) == sdk.ROLE_USER]
        return users[-1] if users else ""

    def _answer(self, messages: list[sdk.Message]) -> str:
        return self.prefix + self._last_user_message(messages)

    def _tool_call(self, messages: list[sdk.Message], tools: list[sdk.ToolDefinition]) -> sdk.ToolCall:
        return sdk.ToolCall(id="call-1", name=tools[0].name,
                            arguments_json=_json_text({"text": self._last_user_message(messages)}))

    def generate(self, messages: list[sdk.Message], tools: list[sdk.ToolDefinition]) -> sdk.GenerateResponse:
        text = self._answer(messages)
        calls = [self._tool_call(messages, tools)] if tools else []
        return sdk.GenerateResponse(text=text, tool_calls=calls, tokens_used=len(text.split()))

    def generate_streaming(self, messages: list[sdk.Message], tools: list[sdk.ToolDefinition]):
        text = self._answer(messages)
        for index, word in enumerate(re.findall(r"\S+\s*|\s+", text)):
            if index and self.delay:
                time.sleep(self.delay)
            yield word
        if tools:
            yield sdk.StreamChunk(type=sdk.CHUNK_TYPE_TOOL_CALL, tool_call=self._tool_call(messages, tools))
        yield sdk.StreamChunk(type=sdk.CHUNK_TYPE_DONE, tokens_used=len(text.split()))

    def get_model_info(self) -> sdk.ModelInfo:
        return sdk.ModelInfo(model_name="echo", max_tokens=4096, temperature=0.0)


def _json_text(value: object) -> str:
    """``json.dumps``, imported when a tool is first called: most echo plugins never call one."""
    import json

    return json.dumps(value)
