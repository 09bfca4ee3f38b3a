"""LLM checks: the requests a Hector agent really sends, and the streams Hector's bridge expects."""

from __future__ import annotations

import itertools
import json
import os
from collections.abc import Sequence

import jsonschema

from .. import hector
from ..errors import PluginError, PluginTimeout
from ..plugin import sdk
from .base import Outcome, Stage, check, failed, passed, skipped, warned
from .context import CheckContext

LLM = (sdk.PLUGIN_TYPE_LLM,)
PROMPT = "What is the capital of France?"
#: How many streams the cancellation check opens and cancels, one after the other.
CANCELLED_STREAMS = 20
#: How long the cancellation check waits for a stream's first chunk before cancelling it anyway, in seconds.
CANCEL_AFTER = 0.25
#: The most chunks a check reads from one stream.
MAX_CHUNKS = 20_000
_TYPES = {sdk.CHUNK_TYPE_TEXT: "TEXT", sdk.CHUNK_TYPE_TOOL_CALL: "TOOL_CALL", sdk.CHUNK_TYPE_DONE: "DONE",
          sdk.CHUNK_TYPE_ERROR: "ERROR"}
_ROLES_FIX = ("find the user's turn by role ROLE_USER (hector_nb.sdk.normalize_role reads both vocabularies), "
              "and cope with a 19,600-character system prompt and ten tools you may not use")


def chunks_of(ctx: CheckContext, request: sdk.GenerateRequest) -> list[sdk.StreamChunk]:
    """Every chunk of one stream, up to the server closing it (so chunks after DONE are seen)."""
    stream = ctx.llm().GenerateStreaming(request, timeout=ctx.timeout * 2)
    try:
        return list(itertools.islice(stream, MAX_CHUNKS))
    finally:
        stream.cancel()  # a plugin that goes on past MAX_CHUNKS


def _agent_reply(ctx: CheckContext) -> sdk.GenerateResponse:
    if "agent_reply" not in ctx.cache:
        ctx.cache["agent_reply"] = ctx.llm().Generate(hector.agent_request(PROMPT), timeout=ctx.timeout * 2)
    reply: sdk.GenerateResponse = ctx.cache["agent_reply"]
    return reply


def _agent_stream(ctx: CheckContext) -> list[sdk.StreamChunk]:
    if "agent_stream" not in ctx.cache:
        ctx.cache["agent_stream"] = chunks_of(ctx, hector.agent_request(PROMPT))
    chunks: list[sdk.StreamChunk] = ctx.cache["agent_stream"]
    return chunks


def _sequence(chunks: list[sdk.StreamChunk]) -> str:
    names = [_TYPES.get(c.type, str(c.type)) for c in chunks]
    grouped = [f"{name}x{len(list(run))}" for name, run in itertools.groupby(names)]
    return " ".join(grouped) or "no chunks"


@check("agent_request", "a default Hector agent's request (roles, system prompt, ten tools) gets an answer, "
       "unary and streamed", stage=Stage.PROVIDER, plugin_types=LLM, fix=_ROLES_FIX)
def agent_request(ctx: CheckContext) -> Outcome:
    reply = _agent_reply(ctx)
    if not reply.text.strip() and not reply.tool_calls:
        return failed("unary Generate answered no text and no tool call to ROLE_UNSPECIFIED, ROLE_UNSPECIFIED, "
                      "ROLE_USER messages with ten tools")
    chunks = _agent_stream(ctx)
    errors = [c.error for c in chunks if c.type == sdk.CHUNK_TYPE_ERROR]
    if errors:
        return failed(f"the streamed request (agents stream by default) ended in an ERROR chunk: {errors[0]}")
    text = "".join(c.text for c in chunks if c.type == sdk.CHUNK_TYPE_TEXT)
    if not text.strip():
        return failed(f"the streamed request (agents stream by default) carried no text ({_sequence(chunks)}); "
                      "a Hector agent shows an empty answer")
    calls = f", {len(reply.tool_calls)} tool call(s)" if reply.tool_calls else ""
    return passed(f"unary: {len(reply.text)} characters{calls}; streamed: {len(text)} characters in "
                  f"{_sequence(chunks)}")


@check("stream_done", "a stream ends with exactly one DONE chunk and nothing after it",
       stage=Stage.PROVIDER, plugin_types=LLM,
       fix="send one final DONE chunk (with tokens_used) and return; hector_nb's SDK adds it for you")
def stream_done(ctx: CheckContext) -> Outcome:
    chunks = chunks_of(ctx, sdk.GenerateRequest(messages=hector.conversation("Count to three.")))
    done = [i for i, c in enumerate(chunks) if c.type == sdk.CHUNK_TYPE_DONE]
    shape = _sequence(chunks)
    if chunks and chunks[-1].type == sdk.CHUNK_TYPE_ERROR:
        return failed(f"a plain prompt ended in an ERROR chunk: {chunks[-1].error} ({shape})",
                      "answer a plain ROLE_USER prompt; end the stream with DONE")
    if not done:
        return failed(f"no DONE chunk ({shape}); Hector's bridge never sees the end of the answer",
                      "send a final DONE chunk (with tokens_used) before returning")
    if len(done) > 1 or done[0] != len(chunks) - 1:
        return failed(f"chunks after the first DONE ({shape}); Hector stops reading at DONE",
                      "send exactly one DONE chunk, last, and return right after it")
    return passed(f"{shape}, tokens_used={chunks[-1].tokens_used}")


@check("stream_error", "a provider error mid-stream is one ERROR chunk, with its text, ending the stream",
       stage=Stage.PROVIDER, plugin_types=LLM,
       fix="on failure send one ERROR chunk with the error text and return; hector_nb's SDK does it when "
           "generate_streaming raises")
def stream_error(ctx: CheckContext) -> Outcome:
    # Hector never sends a request without messages: a provider that fails on it shows how it fails.
    try:
        chunks = chunks_of(ctx, sdk.GenerateRequest())
    except PluginError as exc:
        return warned(f"a request without messages broke the stream at the gRPC level ({exc.message}); Hector "
                      "turns that into a generic ERROR chunk, losing your message",
                      "catch the failure and send one ERROR chunk with its text")
    errors = [i for i, c in enumerate(chunks) if c.type == sdk.CHUNK_TYPE_ERROR]
    if not errors:
        return skipped(f"nothing failed to observe: a request without messages was answered ({_sequence(chunks)})")
    first = chunks[errors[0]]
    if errors[0] != len(chunks) - 1:
        return failed(f"chunks followed the ERROR chunk ({_sequence(chunks)}); Hector ends the answer at ERROR",
                      "return right after the ERROR chunk: no DONE, no more text")
    if not first.error:
        return failed("the ERROR chunk has an empty error field", "put the error text in StreamChunk.error")
    return passed(f"one ERROR chunk ending the stream: {first.error[:100]}")


_CANCEL_FIX = ("stop generating when the call is cancelled: return when sending fails (Go: watch ctx.Done()); "
               "in Python keep each step of generate_streaming short so the SDK can close the generator")


@check("stream_cancel", "cancelled streams stop in the provider, so it keeps serving",
       stage=Stage.PROVIDER, plugin_types=LLM, fix=_CANCEL_FIX)
def stream_cancel(ctx: CheckContext) -> Outcome:
    # Each stream is cancelled after its first chunk, or after CANCEL_AFTER seconds without one. A provider
    # that goes on working after a cancel keeps a server thread busy per stream, so each next stream needs a
    # new thread (a server that reuses its idle threads grows by one or two for a provider that stops), until
    # a server with a bounded pool no longer answers, as under Hector's cancelled agent turns.
    words = " ".join(f"word{n}" for n in range(2000))
    request = sdk.GenerateRequest(messages=hector.conversation(f"Repeat these words one by one: {words}"))
    with ctx.fresh() as instance:
        before = _threads(instance.pid)
        for _ in range(CANCELLED_STREAMS):
            stream = ctx.llm(instance).GenerateStreaming(request, timeout=CANCEL_AFTER)
            try:
                next(stream, None)
            except PluginTimeout:
                pass  # no chunk yet: the deadline cancelled it
            finally:
                stream.cancel()
        grown = _threads(instance.pid) - before
        silent = ctx.unresponsive(instance)
    if silent:
        return failed(f"after {CANCELLED_STREAMS} cancelled streams Health got no answer: {silent}")
    if grown >= CANCELLED_STREAMS // 2:
        return failed(f"{CANCELLED_STREAMS} streams cancelled one after the other left the plugin with {grown} "
                      "more threads: each went on working after its cancel, holding a thread")
    return passed(f"{CANCELLED_STREAMS} streams cancelled after their first chunk (or {CANCEL_AFTER:g}s); "
                  "still serving")


def _threads(pid: int | None) -> int:
    """The threads of the process serving the plugin (this one for a provider served in-process); 0 where
    ``/proc`` cannot tell."""
    try:
        return len(os.listdir(f"/proc/{pid or os.getpid()}/task"))
    except OSError:
        return 0


@check("stream_tool_call", "no TOOL_CALL chunks in streams (Hector's bridge drops them)",
       stage=Stage.PROVIDER, plugin_types=LLM,
       fix="return tool calls from unary Generate (agents call it with reasoning: {enable_streaming: false})")
def stream_tool_call(ctx: CheckContext) -> Outcome:
    calls = [c.tool_call.name for c in _agent_stream(ctx) if c.type == sdk.CHUNK_TYPE_TOOL_CALL]
    if calls:
        return warned(f"the agent request's stream carried TOOL_CALL chunk(s) ({', '.join(calls)}): "
                      f"{hector.STREAM_TOOL_CALL_NOTE}",
                      "stream text only; return tool calls from unary Generate")
    return passed("no TOOL_CALL chunks in the stream")


_TOOL_FIX = ("name one of the request's tools and give it a JSON object of arguments valid for the tool's JSON "
             "Schema (every required key, the declared types and enum values)")
#: The turns the agent-loop check plays before it calls a provider that never answers endless.
AGENT_TURNS = 5


def invalid_tool_call(call: sdk.ToolCall, tools: Sequence[sdk.ToolDefinition]) -> str:
    """Why Hector's agent would refuse ``call`` against ``tools``, or "" when it is valid.

    The arguments are validated against the tool's JSON Schema: a Hector agent
    answers an invalid call with the tool's error, and a model that repeats it
    loops until the agent's iteration limit (100).
    """
    schemas = {tool.name: tool.parameters_json for tool in tools}
    if call.name not in schemas:
        return f"tool call {call.name!r} names no offered tool"
    try:
        arguments = json.loads(call.arguments_json or "{}")
    except ValueError:
        return f"tool call {call.name!r} has arguments_json that is not JSON: {call.arguments_json[:80]!r}"
    if not isinstance(arguments, dict):
        return f"tool call {call.name!r} has arguments_json that is not a JSON object"
    schema = json.loads(schemas[call.name] or "{}")
    error = jsonschema.exceptions.best_match(jsonschema.Draft202012Validator(schema).iter_errors(arguments))
    if error is not None:
        where = "/".join(map(str, error.absolute_path)) or "the arguments"
        return (f"tool call {call.name}({call.arguments_json[:80]}) does not match the tool's schema at {where}: "
                f"{error.message}; Hector's agent answers it with the tool's error")
    return ""


@check("tool_calls", "tool calls from unary Generate name an offered tool, with arguments valid for its JSON Schema",
       stage=Stage.PROVIDER, plugin_types=LLM, capability="function_calling", fix=_TOOL_FIX)
def tool_calls(ctx: CheckContext) -> Outcome:
    offered = hector.agent_tools()
    reply = _agent_reply(ctx)
    if not reply.tool_calls:
        return passed("the agent request was answered without a tool call")
    for call in reply.tool_calls:
        problem = invalid_tool_call(call, offered)
        if problem:
            return failed(problem)
    return passed(", ".join(f"{c.name}({c.arguments_json[:40]})" for c in reply.tool_calls) + ": valid arguments")


@check("agent_loop", "in a simulated agent turn (tool call, tool result as Hector sends it, next request) the "
       "model answers instead of calling tools without end", stage=Stage.PROVIDER, plugin_types=LLM,
       fix="after a tool result (a trailing ROLE_AGENT message: Hector sends the result with empty content) "
           "answer with text; call a tool again only when it brings something new")
def agent_loop(ctx: CheckContext) -> Outcome:
    request = hector.agent_request(PROMPT)
    called: list[str] = []
    for _ in range(AGENT_TURNS):
        reply = ctx.llm().Generate(request, timeout=ctx.timeout * 2)
        if not reply.tool_calls:
            if not called:
                return passed("answered at once, without a tool call")
            return passed(f"answered after {len(called)} tool turn(s): {', '.join(called)}")
        problem = next(filter(None, (invalid_tool_call(call, request.tools) for call in reply.tool_calls)), "")
        if problem:
            return failed(f"turn {len(called) + 1}: {problem}; the model gets that error back and, repeating the "
                          "call, loops until the agent's limit of 100 iterations", _TOOL_FIX)
        called.append("+".join(call.name for call in reply.tool_calls))
        request = hector.agent_followup(PROMPT, list(reply.tool_calls))
    return failed(f"called tools in each of {AGENT_TURNS} turns ({', '.join(called)}) without ever answering; a "
                  "Hector agent goes on until its limit of 100 iterations")


@check("model_info", "GetModelInfo answers a model name, max_tokens > 0 and a temperature in [0, 2]",
       stage=Stage.PROVIDER, plugin_types=LLM,
       fix="implement get_model_info() / GetModelInfo; Hector calls it when it registers the LLM")
def model_info(ctx: CheckContext) -> Outcome:
    info = ctx.llm().GetModelInfo(sdk.Empty(), timeout=ctx.timeout)
    odd = []
    if not info.model_name:
        odd.append("an empty model_name")
    if info.max_tokens <= 0:
        odd.append(f"max_tokens={info.max_tokens}")
    if not 0.0 <= info.temperature <= 2.0:
        odd.append(f"temperature={info.temperature}")
    if odd:
        return warned(f"GetModelInfo answered {', '.join(odd)}",
                      "answer the model's name, its context size in max_tokens and its sampling temperature")
    return passed(f"{info.model_name}, max_tokens={info.max_tokens}, temperature={info.temperature:g}")
