"""Hector's messages, tools and tool calls in OpenAI's chat-completions format, and back.

Shared by ``builtin:openai`` (any OpenAI-compatible server) and ``builtin:llama``
(llama-cpp-python, which takes and returns the same format in-process).
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping
from typing import Any

from hector_nb import sdk
from hector_nb.plugin.roles import openai_role

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
        role = openai_role(message.role)
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
            call["name"] += (_field(function, "name") or "") if function is not None else ""
            call["arguments"] += (_field(function, "arguments") or "") if function is not None else ""

    def calls(self) -> list[sdk.ToolCall]:
        return [sdk.ToolCall(id=c["id"], name=c["name"], arguments_json=c["arguments"] or "{}")
                for _, c in sorted(self._calls.items())]
