#!/usr/bin/env python3
"""An LLM plugin with one deliberate fault, chosen by argument: ``broken_llm.py FAULT``.

``good`` has none. Each other fault is what a plugin author could really get
wrong; the conformance check must fail exactly the check that names it.
Faults the SDK would prevent are made by replacing a servicer method, as a
hand-written plugin would behave.
"""

import os
import sys
import time

from hector_nb import sdk
from hector_nb.plugin import servicers

FAULT = sys.argv[1]


class GoodLLM(sdk.LLMProvider):
    name = "broken-llm"
    capabilities = {"function_calling": True}

    def initialize(self, config):
        if FAULT == "requires_key" and "api_key" not in config:
            raise KeyError("api_key")

    def _prompt(self, messages):
        users = [m.content for m in messages if sdk.normalize_role(m.role) == sdk.ROLE_USER]
        if FAULT == "openai_roles":  # looks for OpenAI's word, which Hector never sends
            users = [m.content for m in messages if m.role == "user"]
        return users[-1] if users else ""

    def generate(self, messages, tools):
        prompt = self._prompt(messages)
        system = "".join(m.content for m in messages if m.role == sdk.ROLE_UNSPECIFIED)
        if FAULT == "crashes_on_large" and len(system) > 1_000_000:
            os._exit(4)
        calls = []
        if FAULT == "bad_tool_call" and tools:
            calls = [sdk.ToolCall(id="1", name=tools[0].name, arguments_json="{not json")]
        if FAULT == "missing_required_argument" and tools:  # agent_call needs agent and task
            calls = [sdk.ToolCall(id="1", name=tools[0].name, arguments_json='{"agent": "helper"}')]
        if FAULT == "calls_tools_forever" and tools:  # valid, but never answers after the result
            calls = [sdk.ToolCall(id="1", name="read_file", arguments_json='{"path": "README.md"}')]
        return sdk.GenerateResponse(text=f"You said: {prompt}" if prompt else "", tool_calls=calls, tokens_used=3)

    def generate_streaming(self, messages, tools):
        words = f"You said: {self._prompt(messages)}".split() if self._prompt(messages) else []
        for word in words:
            yield word + " "

    def get_model_info(self):
        if FAULT == "no_model_info":
            raise NotImplementedError("get_model_info")
        return sdk.ModelInfo(model_name="broken-llm", max_tokens=1024, temperature=0.5)

    def health(self):
        return FAULT != "unhealthy"


def _stream_text_after_done(self, request, context):
    yield sdk.StreamChunk(type=sdk.CHUNK_TYPE_TEXT, text="hello ")
    yield sdk.StreamChunk(type=sdk.CHUNK_TYPE_DONE, tokens_used=1)
    yield sdk.StreamChunk(type=sdk.CHUNK_TYPE_TEXT, text="and more")


_original_stream = servicers.LLMServicer.GenerateStreaming


def _stream_error_then_done(self, request, context):
    if request.messages:
        yield from _original_stream(self, request, context)
        return
    yield sdk.StreamChunk(type=sdk.CHUNK_TYPE_ERROR, error="no messages")
    yield sdk.StreamChunk(type=sdk.CHUNK_TYPE_DONE)


def _stream_ignores_cancel(self, request, context):
    if len(request.messages[-1].content) > 1000:
        time.sleep(30)  # generates the whole answer first, never looking at context.is_active()
    yield sdk.StreamChunk(type=sdk.CHUNK_TYPE_TEXT, text="Thinking ")
    yield sdk.StreamChunk(type=sdk.CHUNK_TYPE_TEXT, text="hard.")
    yield sdk.StreamChunk(type=sdk.CHUNK_TYPE_DONE, tokens_used=2)


_original_generate = servicers.LLMServicer.Generate


def _generate_dies_when_caller_left(self, request, context):
    if "number 0" in request.messages[-1].content:
        time.sleep(0.3)
        if not context.is_active():
            os._exit(3)  # "nobody is listening any more": the fault
    return _original_generate(self, request, context)


def _status_running(self, request, context):
    return sdk.StatusResponse(status="running")


def _manifest_unimplemented(self, request, context):
    import grpc

    context.abort(grpc.StatusCode.UNIMPLEMENTED, "GetManifest is not implemented")


_original_shutdown = servicers.LLMServicer.Shutdown


def _shutdown_without_response(self, request, context):
    _original_shutdown(self, request, context)  # the work is done, but no response goes back


def _shutdown_slowly(self, request, context):
    time.sleep(3)  # flushing something, say: Hector waits for it
    return _original_shutdown(self, request, context)


def _shutdown_never_returns(self, request, context):
    time.sleep(3600)


_original_initialize = servicers.LLMServicer.Initialize


def _initialize_silent_without_config(self, request, context):
    if not request.config:
        return sdk.InitializeResponse(success=False)  # refuses, without saying why
    return _original_initialize(self, request, context)


def _health_aborts(self, request, context):
    import grpc

    context.abort(grpc.StatusCode.INTERNAL, "health probe crashed")


PATCHES = {
    "silent_without_config": ("Initialize", _initialize_silent_without_config),
    "health_aborts": ("Health", _health_aborts),
    "text_after_done": ("GenerateStreaming", _stream_text_after_done),
    "error_then_done": ("GenerateStreaming", _stream_error_then_done),
    "ignores_cancel": ("GenerateStreaming", _stream_ignores_cancel),
    "dies_after_deadline": ("Generate", _generate_dies_when_caller_left),
    "bad_status": ("GetStatus", _status_running),
    "no_manifest_rpc": ("GetManifest", _manifest_unimplemented),
    "shutdown_no_response": ("Shutdown", _shutdown_without_response),
    "slow_shutdown": ("Shutdown", _shutdown_slowly),
    "shutdown_hangs": ("Shutdown", _shutdown_never_returns),
}

if __name__ == "__main__":
    if FAULT in PATCHES:
        method, replacement = PATCHES[FAULT]
        setattr(servicers.LLMServicer, method, replacement)
    sdk.serve_llm_plugin(GoodLLM())
