"""API messages and tools to what a Hector plugin receives, and a plugin's tool calls back (docs/bridge.md).

A provider sees the roles Hector's plugin path gives it: ``ROLE_UNSPECIFIED``
for system text (an API's ``system``/``developer`` message, the Responses API's
``instructions``, and Hector v1's ``user`` messages beginning ``System: ``, with
that prefix taken off), ``ROLE_USER`` for the user, ``ROLE_AGENT`` for the
assistant's turns and for tool results. Unlike Hector's plugin path, the bridge
keeps what the APIs carry: an assistant turn's ``tool_calls`` (id, name,
arguments as JSON text), and a tool result's text with its ``tool_call_id``.
"""

from __future__ import annotations

import json
import uuid
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

from ..plugin import sdk
from .failures import BridgeError
from .fields import expect, invalid, optional, required

#: How Hector v1 marks system text it sends as a user message (CONTRACT section 6).
SYSTEM_PREFIX = "System: "
NO_IMAGES = "images are not supported: a Hector plugin receives text only"
#: Content parts whose text the bridge reads; any other part (images, audio, files) is refused.
TEXT_PARTS = ("text", "input_text", "output_text")


@dataclass
class Conversation:
    """The plugin's request, and the roles as the API named them (for the request log)."""

    messages: list[sdk.Message] = field(default_factory=list)
    tools: list[sdk.ToolDefinition] = field(default_factory=list)
    roles: list[str] = field(default_factory=list)

    def add(self, api_role: str, message: sdk.Message) -> sdk.Message:
        self.roles.append(api_role)
        self.messages.append(message)
        return message

    @property
    def request(self) -> sdk.GenerateRequest:
        return sdk.GenerateRequest(messages=self.messages, tools=self.tools)


def hector_role(role: str, content: str, path: str) -> tuple[str, str]:
    """The role a plugin sees for an API message of role ``role``, and the content it sees."""
    word = role.lower()
    if word in ("system", "developer"):
        return sdk.ROLE_UNSPECIFIED, content
    if word == "user":
        if content.startswith(SYSTEM_PREFIX):
            return sdk.ROLE_UNSPECIFIED, content[len(SYSTEM_PREFIX):]
        return sdk.ROLE_USER, content
    if word in ("assistant", "tool"):
        return sdk.ROLE_AGENT, content
    raise invalid(path, f"is {role!r}, not a role the bridge knows; use system, user, assistant or tool")


def text_of(content: Any, path: str) -> str:
    """A message's text: a string, or the text parts of a list of content parts joined; null is empty."""
    if content is None:
        return ""
    if isinstance(content, str):
        return content
    parts = expect(content, list, path)
    texts = []
    for index, part in enumerate(parts):
        where = f"{path}[{index}]"
        if isinstance(part, str):
            texts.append(part)
            continue
        kind = required(expect(part, dict, where), "type", str, f"{where}.")
        if kind not in TEXT_PARTS:
            raise invalid(f"{where}.type", f"is {kind!r}: {NO_IMAGES}" if "image" in kind else
                          f"is {kind!r}, which is not supported; send text parts ({', '.join(TEXT_PARTS)})")
        texts.append(required(part, "text", str, f"{where}."))
    return "".join(texts)


def tool_definition(spec: dict[str, Any], path: str) -> sdk.ToolDefinition:
    """``{name, description?, parameters?}`` as a ``ToolDefinition`` (its JSON Schema as text)."""
    parameters = optional(spec, "parameters", dict, None, f"{path}.")
    return sdk.ToolDefinition(name=required(spec, "name", str, f"{path}."),
                              description=optional(spec, "description", str, "", f"{path}."),
                              parameters_json="" if parameters is None else json.dumps(parameters))


def function_tools(tools: Any, nested: bool) -> list[sdk.ToolDefinition]:
    """The ``tools`` of a request: ``{type: function, function: {...}}`` (Ollama, Chat Completions; ``nested``)
    or ``{type: function, name, ...}`` (Responses)."""
    definitions = []
    for index, tool in enumerate(expect(tools or [], list, "tools")):
        path = f"tools[{index}]"
        kind = optional(expect(tool, dict, path), "type", str, "function", f"{path}.")
        if kind != "function":
            raise invalid(f"{path}.type", f"is {kind!r}: only function tools reach a Hector plugin")
        spec = required(tool, "function", dict, f"{path}.") if nested else tool
        definitions.append(tool_definition(spec, f"{path}.function" if nested else path))
    return definitions


def arguments_text(arguments: Any, path: str) -> str:
    """A tool call's arguments as the JSON text a ``ToolCall`` carries (an object, or its JSON text)."""
    if isinstance(arguments, str):
        return arguments
    return json.dumps(expect(arguments if arguments is not None else {}, dict, path))


def ollama_conversation(body: dict[str, Any]) -> Conversation:
    """An Ollama ``/api/chat`` body's messages and tools.

    Ollama's tool calls and results carry no ids (Hector's requests have none):
    an assistant turn's calls get ids here, and each following ``tool`` message
    takes the id of the first unanswered call of its ``tool_name``.
    """
    conversation = Conversation(tools=function_tools(body.get("tools"), nested=True))
    unanswered: list[sdk.ToolCall] = []
    for index, message in enumerate(required(body, "messages", list)):
        path = f"messages[{index}]"
        role = required(expect(message, dict, path), "role", str, f"{path}.")
        if message.get("images"):
            raise invalid(f"{path}.images", f"is set: {NO_IMAGES}")
        hector, content = hector_role(role, text_of(message.get("content"), f"{path}.content"), f"{path}.role")
        calls = [_ollama_call(call, f"{path}.tool_calls[{number}]", f"call_{index}_{number}")
                 for number, call in enumerate(optional(message, "tool_calls", list, [], f"{path}."))]
        answered = ""
        if role == "tool":
            name = optional(message, "tool_name", str, "", f"{path}.") or optional(message, "name", str, "",
                                                                                  f"{path}.")
            match = next((call for call in unanswered if not name or call.name == name), None)
            if match is not None:
                unanswered.remove(match)
                answered = match.id
        if calls:
            unanswered = list(calls)
        conversation.add(role, sdk.Message(role=hector, content=content, tool_calls=calls, tool_call_id=answered))
    return conversation


def _ollama_call(call: Any, path: str, default_id: str) -> sdk.ToolCall:
    function = required(expect(call, dict, path), "function", dict, f"{path}.")
    return sdk.ToolCall(id=optional(call, "id", str, "", f"{path}.") or default_id,
                        name=required(function, "name", str, f"{path}.function."),
                        arguments_json=arguments_text(function.get("arguments"), f"{path}.function.arguments"))


def chat_conversation(body: dict[str, Any]) -> Conversation:
    """A Chat Completions body's messages and tools."""
    conversation = Conversation(tools=function_tools(body.get("tools"), nested=True))
    for index, message in enumerate(required(body, "messages", list)):
        path = f"messages[{index}]"
        role = required(expect(message, dict, path), "role", str, f"{path}.")
        hector, content = hector_role(role, text_of(message.get("content"), f"{path}.content"), f"{path}.role")
        calls = []
        for number, call in enumerate(optional(message, "tool_calls", list, [], f"{path}.")):
            where = f"{path}.tool_calls[{number}]"
            function = required(expect(call, dict, where), "function", dict, f"{where}.")
            calls.append(sdk.ToolCall(id=optional(call, "id", str, "", f"{where}."),
                                      name=required(function, "name", str, f"{where}.function."),
                                      arguments_json=arguments_text(function.get("arguments"),
                                                                    f"{where}.function.arguments")))
        answered = optional(message, "tool_call_id", str, "", f"{path}.") if role == "tool" else ""
        conversation.add(role, sdk.Message(role=hector, content=content, tool_calls=calls, tool_call_id=answered))
    return conversation


def responses_conversation(body: dict[str, Any]) -> Conversation:
    """A Responses API body: ``instructions`` first, then its ``input`` (a string, or a list of items).

    A ``function_call`` item joins the assistant turn before it (or starts one);
    a ``function_call_output`` is a tool result with that ``call_id``.
    """
    conversation = Conversation(tools=function_tools(body.get("tools"), nested=False))
    instructions = optional(body, "instructions", str, "")
    if instructions:
        conversation.add("instructions", sdk.Message(role=sdk.ROLE_UNSPECIFIED, content=instructions))
    items = required(body, "input", (str, list))
    if isinstance(items, str):
        conversation.add("user", sdk.Message(role=sdk.ROLE_USER, content=items))
        return conversation
    for index, item in enumerate(items):
        path = f"input[{index}]"
        expect(item, dict, path)
        kind = optional(item, "type", str, "message" if "role" in item else "", f"{path}.")
        if kind == "message":
            role = required(item, "role", str, f"{path}.")
            hector, content = hector_role(role, text_of(item.get("content"), f"{path}.content"), f"{path}.role")
            conversation.add(role, sdk.Message(role=hector, content=content))
        elif kind == "function_call":
            call = sdk.ToolCall(id=required(item, "call_id", str, f"{path}."),
                                name=required(item, "name", str, f"{path}."),
                                arguments_json=arguments_text(item.get("arguments"), f"{path}.arguments"))
            last = conversation.messages[-1] if conversation.messages else None
            if last is not None and last.role == sdk.ROLE_AGENT and not last.tool_call_id:
                last.tool_calls.append(call)
            else:
                conversation.add(kind, sdk.Message(role=sdk.ROLE_AGENT, tool_calls=[call]))
        elif kind == "function_call_output":
            conversation.add(kind, sdk.Message(role=sdk.ROLE_AGENT,
                                               content=text_of(item.get("output"), f"{path}.output"),
                                               tool_call_id=required(item, "call_id", str, f"{path}.")))
        elif kind != "reasoning":  # a model's reasoning summary: nothing a plugin takes
            raise invalid(f"{path}.type", f"is {kind!r}, which is not supported; send message, function_call and "
                          "function_call_output items")
    return conversation


def new_call_id() -> str:
    return f"call_{uuid.uuid4().hex[:24]}"


def call_ids(calls: Iterable[sdk.ToolCall]) -> list[str]:
    """Each call's id as the client will send it back: the provider's, or a new one when it gave none."""
    return [call.id or new_call_id() for call in calls]


def arguments_object(plugin: str, call: sdk.ToolCall) -> dict[str, Any]:
    """A tool call's arguments as the JSON object Ollama's API carries; empty text is ``{}``."""
    try:
        arguments = json.loads(call.arguments_json or "{}")
    except ValueError:
        arguments = None
    if not isinstance(arguments, dict):
        raise BridgeError(500, f"plugin {plugin!r}, generate: the tool call {call.name!r} has arguments that are "
                          f"not a JSON object ({call.arguments_json[:80]!r}); return arguments_json as an object")
    return arguments
