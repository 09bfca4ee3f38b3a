"""A provider that tells what it received, for the bridge's tests (importable, so it runs on every transport).

``Mirror`` acts on the last message's text:

- a user message while tools are offered: it calls the first tool (with no id, so the bridge makes one);
- ``fail``: it raises before answering; ``fail later``: it streams a chunk, then raises;
- ``hang``: it sleeps for the seconds in config ``hang`` (default 5) before answering;
- ``stream N``: N text chunks ``w0 w1 ...`` (config ``delay``: seconds between them);
- ``slow``: a chunk every 50 ms until its stream is closed (then :data:`CLOSED` is set, in-kernel);
- anything else: a JSON text describing every message and tool it received (:func:`seen`).
"""

from __future__ import annotations

import json
import threading
import time

from hector_nb import sdk

#: Set when a ``slow`` stream is closed by its caller (observable in-kernel and in-process).
CLOSED = threading.Event()


def describe(messages: list[sdk.Message], tools: list[sdk.ToolDefinition]) -> str:
    return json.dumps({
        "messages": [{"role": m.role, "content": m.content, "tool_call_id": m.tool_call_id,
                      "tool_calls": [[c.id, c.name, json.loads(c.arguments_json or "{}")] for c in m.tool_calls]}
                     for m in messages],
        "tools": [[t.name, t.description, json.loads(t.parameters_json or "null")] for t in tools],
    })


def seen(text: str) -> dict:
    """What :class:`Mirror` received, from its answer's text."""
    return json.loads(text)


class Mirror(sdk.LLMProvider):
    name = "mirror"
    config_optional = ("hang", "delay")

    def initialize(self, config):
        self.hang = float(config.get("hang") or 5)
        self.delay = float(config.get("delay") or 0)

    @staticmethod
    def _last(messages):
        return messages[-1] if messages else sdk.Message()

    def _tool_call(self, messages, tools):
        last = self._last(messages)
        if tools and sdk.normalize_role(last.role) == sdk.ROLE_USER:
            return sdk.ToolCall(name=tools[0].name, arguments_json=json.dumps({"asked": last.content}))
        return None

    def generate(self, messages, tools):
        text = self._last(messages).content
        if text == "fail":
            raise RuntimeError("mirror failed on purpose")
        if text == "hang":
            time.sleep(self.hang)
        call = self._tool_call(messages, tools)
        if call is not None:
            return sdk.GenerateResponse(tool_calls=[call], tokens_used=1)
        answer = describe(messages, tools)
        return sdk.GenerateResponse(text=answer, tokens_used=7)

    def generate_streaming(self, messages, tools):
        text = self._last(messages).content
        if text == "fail":
            raise RuntimeError("mirror failed on purpose")
        if text == "fail later":
            yield "partial "
            raise RuntimeError("mirror failed mid-stream")
        if text == "hang":
            time.sleep(self.hang)
        if text.startswith("stream "):
            for index in range(int(text.split()[1])):
                if self.delay:
                    time.sleep(self.delay)
                yield f"w{index} "
        elif text == "slow":
            try:
                for index in range(2000):
                    time.sleep(0.05)
                    yield f"s{index} "
            finally:
                CLOSED.set()
        else:
            call = self._tool_call(messages, tools)
            if call is not None:
                yield sdk.StreamChunk(type=sdk.CHUNK_TYPE_TOOL_CALL, tool_call=call)
            else:
                answer = describe(messages, tools)
                half = len(answer) // 2
                yield answer[:half]
                yield answer[half:]
        yield sdk.StreamChunk(type=sdk.CHUNK_TYPE_DONE, tokens_used=3)

    def get_model_info(self):
        return sdk.ModelInfo(model_name="mirror", max_tokens=100, temperature=0.0)
