"""Robustness checks, each bounded in time: concurrent calls, a large request, a short deadline.

They share an instance of their own, replaced when one of them leaves it unable to
answer, so a plugin left stuck or dead by one check does not fail the others.
"""

from __future__ import annotations

from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import grpc

from .. import hector
from ..errors import PluginError, PluginTimeout, ProviderError
from ..host import Transport
from ..plugin import sdk
from .base import Outcome, Stage, check, failed, passed, warned
from .context import CheckContext
from .database import DIMENSION, documents, store
from .embedder import same_vector

CONCURRENT_CALLS = 16
_CONCURRENT = "hector-nb-check-concurrent"
LARGE_BYTES = 8 * 1024 * 1024
#: The deadline of the short-deadline check's call, in seconds.
SHORT_DEADLINE = 0.05
_GRPC_LIMIT_FIX = ("raise the gRPC server's receive limit (Go: grpc.MaxRecvMsgSize in plugin.ServeConfig's "
                   "GRPCServer; Python: grpc.max_receive_message_length), or refuse big requests in the error "
                   "field")


def _typical_call(ctx: CheckContext, instance: Transport, n: int) -> tuple[str, Callable[[float], Any]]:
    """The ``n``-th ordinary call for this plugin type: its RPC name and ``call(timeout) -> answer``."""
    plugin_type = ctx.target.plugin_type
    if plugin_type == sdk.PLUGIN_TYPE_LLM:
        request: Any = sdk.GenerateRequest(messages=hector.conversation(f"Reply with the number {n}."))
        return "Generate", lambda timeout: ctx.llm(instance).Generate(request, timeout=timeout).text
    if plugin_type == sdk.PLUGIN_TYPE_EMBEDDER:
        text = sdk.EmbedRequest(text=f"concurrent text number {n}")
        return "Embed", lambda timeout: tuple(ctx.embedder(instance).Embed(text, timeout=timeout).vector)
    (id, vector, metadata), = documents(1, seed=100 + n, store=_CONCURRENT)
    upsert = sdk.UpsertRequest(collection=_CONCURRENT, id=id, vector=vector, metadata=metadata)
    return "Upsert", lambda timeout: ctx.database(instance).Upsert(upsert, timeout=timeout).error


_CONCURRENCY_FIX = ("make the provider safe for concurrent calls (Hector calls it from many goroutines): guard "
                    "shared state with a lock")


@check("concurrent_calls", f"{CONCURRENT_CALLS} concurrent calls all get their own right answer",
       stage=Stage.ROBUSTNESS, fix=_CONCURRENCY_FIX)
def concurrent_calls(ctx: CheckContext) -> Outcome:
    with ctx.reused("robustness") as instance:
        if ctx.target.plugin_type == sdk.PLUGIN_TYPE_DATABASE:
            # The collection exists before the burst, so the burst tests concurrency, not creation.
            store(ctx, _CONCURRENT, documents(1, seed=99, store=_CONCURRENT), instance)
        calls = [_typical_call(ctx, instance, n)[1] for n in range(CONCURRENT_CALLS)]
        with ThreadPoolExecutor(CONCURRENT_CALLS) as pool:
            futures = [pool.submit(call, ctx.timeout * 2) for call in calls]
            answers, errors = [], []
            for future in futures:
                try:
                    answers.append(future.result())
                except PluginError as exc:
                    errors.append(exc.message)
        if errors:
            return failed(f"{len(errors)} of {CONCURRENT_CALLS} concurrent calls failed: {errors[0]}")
        mismatch = _concurrent_mismatch(ctx, instance, calls, answers)
    if mismatch:
        return failed(mismatch)
    return passed(f"{CONCURRENT_CALLS} concurrent calls answered")


def _concurrent_mismatch(ctx: CheckContext, instance: Transport, calls: list[Callable[[float], Any]],
                         answers: list[Any]) -> str:
    """What the concurrent answers got wrong, compared with the same calls made one at a time."""
    plugin_type = ctx.target.plugin_type
    if plugin_type == sdk.PLUGIN_TYPE_DATABASE:
        failures = [error for error in answers if error]
        if failures:
            return f"{len(failures)} of {CONCURRENT_CALLS} concurrent upserts answered an error: {failures[0]}"
        query = sdk.SearchRequest(collection=_CONCURRENT, vector=[1.0] + [0.0] * (DIMENSION - 1),
                                  top_k=CONCURRENT_CALLS + 1)
        hits = ctx.database(instance).Search(query, timeout=ctx.timeout)
        if len(hits.results) != CONCURRENT_CALLS + 1:
            return (f"after {CONCURRENT_CALLS} concurrent upserts of distinct ids the collection holds "
                    f"{len(hits.results)} entries, not {CONCURRENT_CALLS + 1}: writes were lost")
        return ""
    if plugin_type == sdk.PLUGIN_TYPE_EMBEDDER:
        if not same_vector(calls[0](ctx.timeout), calls[0](ctx.timeout)):
            return ""  # answers cannot be compared when the same call differs anyway (see embed_deterministic)
        for n, (call, answer) in enumerate(zip(calls, answers, strict=True)):
            if not same_vector(call(ctx.timeout), answer):
                return f"concurrent call {n} got another vector than the same call made alone: answers got mixed up"
    return ""


def _large_call(ctx: CheckContext, instance: Transport) -> tuple[str, Callable[[], str]]:
    """What the large request is for this plugin type, and a call returning the provider's error text."""
    filler = ("The quick brown fox jumps over the lazy dog. " * (LARGE_BYTES // 45 + 1))[:LARGE_BYTES]
    plugin_type = ctx.target.plugin_type
    if plugin_type == sdk.PLUGIN_TYPE_LLM:
        request: Any = sdk.GenerateRequest(messages=hector.conversation("Say hi.", system=filler))

        def generate() -> str:
            try:
                ctx.llm(instance).Generate(request, timeout=ctx.timeout)
            except ProviderError as exc:  # how Generate reports a provider's error (CONTRACT section 3)
                return exc.message
            return ""

        return "an 8 MB system prompt", generate
    if plugin_type == sdk.PLUGIN_TYPE_EMBEDDER:
        text = sdk.EmbedRequest(text=filler)
        return "an 8 MB text", lambda: ctx.embedder(instance).Embed(text, timeout=ctx.timeout).error
    (id, vector, metadata), = documents(1, seed=23, store="hector-nb-check-large")
    store(ctx, "hector-nb-check-large", [(id, vector, metadata)], instance)
    request = sdk.UpsertRequest(collection="hector-nb-check-large", id=id, vector=vector,
                                metadata={**metadata, "content": filler})
    return "an 8 MB chunk", lambda: ctx.database(instance).Upsert(request, timeout=ctx.timeout).error


@check("large_request", "an 8 MB request is answered or refused cleanly, and the plugin keeps serving",
       stage=Stage.ROBUSTNESS, fix=_GRPC_LIMIT_FIX)
def large_request(ctx: CheckContext) -> Outcome:
    with ctx.reused("robustness") as instance:
        what, call = _large_call(ctx, instance)
        try:
            error = call()
        except PluginTimeout:
            return warned(f"{what} got no answer within {ctx.timeout:g}s", "answer or refuse big requests promptly "
                          "(e.g. truncate to the model's context)")
        except PluginError as exc:
            if exc.status_code == grpc.StatusCode.RESOURCE_EXHAUSTED:
                return warned(f"{what} was refused by the gRPC server ({exc.message})")
            broken = ctx.unresponsive(instance)
            if broken:
                return failed(f"{what} broke the plugin ({exc.message}); then: {broken}")
            return warned(f"{what} failed at the gRPC level: {exc.message}",
                          "refuse it in the response's error field instead")
        broken = ctx.unresponsive(instance)
    if broken:
        return failed(f"after {what} the plugin stopped serving: {broken}")
    return passed(f"{what}: " + (f"refused cleanly ({error[:60]})" if error else "answered"))


_DEADLINE_FIX = ("let a cancelled or expired call end quietly (Go: return on ctx.Done(); never exit or panic "
                 "on it)")


@check("short_deadline", "a call whose deadline expires leaves the plugin serving",
       stage=Stage.ROBUSTNESS, fix=_DEADLINE_FIX)
def short_deadline(ctx: CheckContext) -> Outcome:
    with ctx.reused("robustness") as instance:
        method, call = _typical_call(ctx, instance, 0)
        try:
            call(SHORT_DEADLINE)
            outcome = "was answered within it"
        except PluginTimeout:
            outcome = "expired"
        except PluginError as exc:
            outcome = f"failed: {exc.message}"
        broken = ctx.unresponsive(instance)
        if not broken:
            try:
                call(ctx.timeout)
            except PluginError as exc:
                broken = f"the same call afterwards failed: {exc.message}"
    what = f"one {method} call with a {SHORT_DEADLINE * 1000:g} ms deadline"
    if broken:
        return failed(f"{what} ({outcome}) left the plugin broken: {broken}")
    return passed(f"{what} {outcome}; still serving")
