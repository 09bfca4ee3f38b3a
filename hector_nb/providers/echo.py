"""EchoLLM: answers with the last user message, streamed word by word. No model, no network.

It reads roles with :func:`hector_nb.sdk.normalize_role`, so it finds the user's
message whether the caller speaks Hector's roles (``ROLE_USER``, what a Hector
agent sends) or OpenAI's (``user``).
"""

from __future__ import annotations

import re
import time
from collections.abc import Iterator
from typing import Any

from .. import sdk


class EchoLLM(sdk.LLMProvider):
    """Echoes the last user message, prefixed by config ``prefix`` (default empty).

    Streams it word by word (the concatenated TEXT chunks equal ``generate``'s
    text exactly). When tools are offered it calls the first one, once, with
    arguments valid for its JSON Schema (its required keys, by type; ``text``
    when the schema names no properties), and after the tool's result (a
    trailing ``ROLE_AGENT`` message, as a Hector agent sends it) it answers
    without calling again, so a Hector agent's loop ends. Config ``delay``
    (seconds between chunks, default 0) slows the stream down enough to watch it.
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

    def _tool_calls(self, messages: list[sdk.Message], tools: list[sdk.ToolDefinition]) -> list[sdk.ToolCall]:
        """The first tool called once; none once a tool's result came back (the last message is the agent's)."""
        if not tools or (messages and sdk.normalize_role(messages[-1].role) == sdk.ROLE_AGENT):
            return []
        arguments = valid_arguments(tools[0].parameters_json, self._last_user_message(messages))
        return [sdk.ToolCall(id="call-1", name=tools[0].name, arguments_json=_json_text(arguments))]

    def generate(self, messages: list[sdk.Message], tools: list[sdk.ToolDefinition]) -> sdk.GenerateResponse:
        text = self._answer(messages)
        calls = self._tool_calls(messages, tools)
        return sdk.GenerateResponse(text=text, tool_calls=calls, tokens_used=len(text.split()))

    def generate_streaming(self, messages: list[sdk.Message], tools: list[sdk.ToolDefinition]
                           ) -> Iterator[sdk.ChunkLike]:
        text = self._answer(messages)
        for index, word in enumerate(re.findall(r"\S+\s*|\s+", text)):
            if index and self.delay:
                time.sleep(self.delay)
            yield word
        for call in self._tool_calls(messages, tools):
            yield sdk.StreamChunk(type=sdk.CHUNK_TYPE_TOOL_CALL, tool_call=call)
        yield sdk.StreamChunk(type=sdk.CHUNK_TYPE_DONE, tokens_used=len(text.split()))

    def get_model_info(self) -> sdk.ModelInfo:
        return sdk.ModelInfo(model_name="echo", max_tokens=4096, temperature=0.0)


def _json_text(value: object) -> str:
    """``json.dumps``, imported when a tool is first called: most echo plugins never call one."""
    import json

    return json.dumps(value)


#: A value of each JSON Schema type, for a required parameter that has no enum or default.
_SAMPLES: dict[str, Any] = {"number": 1, "integer": 1, "boolean": False, "array": [], "object": {}, "null": None}


def valid_arguments(parameters_json: str, text: str) -> dict[str, Any]:
    """Arguments valid for the tool schema ``parameters_json``: each required key gets its default,
    its first enum value, ``text`` for a string or a sample of its type; ``{"text": text}`` for a
    schema that names no properties."""
    import json

    try:
        schema = json.loads(parameters_json or "{}")
    except ValueError:
        schema = {}
    properties = schema.get("properties") if isinstance(schema, dict) else None
    if not isinstance(properties, dict) or not properties:
        return {"text": text}
    arguments: dict[str, Any] = {}
    for key in schema.get("required") or ():
        found = properties.get(key)
        spec: dict[str, Any] = found if isinstance(found, dict) else {}
        if "default" in spec:
            arguments[key] = spec["default"]
        elif spec.get("enum"):
            arguments[key] = spec["enum"][0]
        else:
            kind = str(spec.get("type", "string"))
            arguments[key] = text if kind == "string" else _SAMPLES.get(kind, text)
    return arguments
