"""Embedder checks: one text per call, as Hector's document store embeds chunks and queries."""

from __future__ import annotations

import numpy as np
from numpy.typing import NDArray

from ..errors import PluginError
from ..plugin import sdk
from .base import Outcome, Stage, check, failed, passed, skipped, warned
from .context import CheckContext, NotReady

EMBEDDER = (sdk.PLUGIN_TYPE_EMBEDDER,)
TEXT = "Hector loads embedder plugins over gRPC and embeds one chunk per call."
UNICODE_TEXT = "naïve café, Grüße, 東京の天気, русский текст, עברית, emoji 🚀🧭, combining é"


def info(ctx: CheckContext) -> sdk.EmbedderInfo:
    """GetEmbedderInfo's answer, asked once; :class:`NotReady` when it failed (embedder_info says why)."""
    if "info" not in ctx.cache:
        try:
            ctx.cache["info"] = ctx.embedder().GetEmbedderInfo(sdk.Empty(), timeout=ctx.timeout)
        except PluginError as exc:
            ctx.cache["info"] = exc
    if isinstance(ctx.cache["info"], PluginError):
        raise NotReady("GetEmbedderInfo failed (see embedder_info)")
    info: sdk.EmbedderInfo = ctx.cache["info"]
    return info


def reference(ctx: CheckContext) -> NDArray[np.float32]:
    """The embedding of a plain sentence, which other embeddings must match in length."""
    if "reference" not in ctx.cache:
        reply = ctx.embedder().Embed(sdk.EmbedRequest(text=TEXT), timeout=ctx.timeout)
        ctx.cache["reference"] = reply.error or vector_of(reply)
    if isinstance(ctx.cache["reference"], str):
        raise NotReady(f"Embed of a plain sentence failed ({ctx.cache['reference']}; see embed_dimension)")
    vector: NDArray[np.float32] = ctx.cache["reference"]
    return vector


def vector_of(reply: sdk.EmbedResponse) -> NDArray[np.float32]:
    return np.asarray(reply.vector, dtype=np.float64)


def same_vector(a: object, b: object) -> bool:
    """Equal embeddings, up to float32 rounding."""
    first, second = np.asarray(a, dtype=np.float64), np.asarray(b, dtype=np.float64)
    return first.shape == second.shape and bool(np.allclose(first, second, rtol=1e-5, atol=1e-6))


def _problem(vector: NDArray[np.float32], size: int) -> str:
    """What is wrong with an embedding that should have ``size`` numbers, or ""."""
    if vector.size != size:
        return f"{vector.size} numbers where a plain sentence gets {size}"
    if not np.all(np.isfinite(vector)):
        return "NaN or infinite numbers"
    return ""


@check("embedder_info", "GetEmbedderInfo answers a model name and a positive dimension",
       stage=Stage.PROVIDER, plugin_types=EMBEDDER,
       fix="implement get_embedder_info() / GetEmbedderInfo with the model's name and vector size")
def embedder_info(ctx: CheckContext) -> Outcome:
    found = ctx.cache["info"] = ctx.embedder().GetEmbedderInfo(sdk.Empty(), timeout=ctx.timeout)
    if found.dimension <= 0:
        return failed(f"dimension={found.dimension}; Hector sizes its collections from it",
                      "answer the length of the vectors Embed returns")
    if not found.model_name:
        return warned("an empty model_name", "answer the embedding model's name")
    return passed(f"{found.model_name}, dimension {found.dimension}")


@check("embed_dimension", "Embed returns as many finite numbers as GetEmbedderInfo's dimension",
       stage=Stage.PROVIDER, plugin_types=EMBEDDER,
       fix="answer GetEmbedderInfo with the true length of the vectors Embed returns")
def embed_dimension(ctx: CheckContext) -> Outcome:
    dimension = info(ctx).dimension
    if dimension <= 0:
        return skipped("GetEmbedderInfo gives no dimension to compare with (see embedder_info)")
    vector = reference(ctx)
    if vector.size != dimension:
        return failed(f"Embed returned {vector.size} numbers, GetEmbedderInfo says {dimension}; Hector sizes "
                      "collections from the info, so every upsert would fail")
    if not np.all(np.isfinite(vector)):
        return failed("Embed returned NaN or infinite numbers", "return finite numbers")
    return passed(f"{dimension} finite numbers")


@check("embed_deterministic", "the same text gives the same vector",
       stage=Stage.PROVIDER, plugin_types=EMBEDDER,
       fix="make Embed a pure function of the text (no random state, no per-call salt such as Python's hash())")
def embed_deterministic(ctx: CheckContext) -> Outcome:
    embedder = ctx.embedder()
    first, second = (vector_of(embedder.Embed(sdk.EmbedRequest(text=TEXT), timeout=ctx.timeout)) for _ in range(2))
    if not same_vector(first, second):
        difference = float(np.max(np.abs(first - second))) if first.shape == second.shape else float("nan")
        return failed(f"two embeddings of the same text differ (largest difference {difference:.3g}); stored "
                      "chunks would never match their own queries",
                      "make Embed a pure function of the text (no random state, no salted hash())")
    return passed("identical")


@check("embed_empty_text", "an empty text gets a vector or a clear error, never a broken call",
       stage=Stage.PROVIDER, plugin_types=EMBEDDER,
       fix="return a zero vector (or an error in the error field) for an empty text")
def embed_empty_text(ctx: CheckContext) -> Outcome:
    reply = ctx.embedder().Embed(sdk.EmbedRequest(text=""), timeout=ctx.timeout)
    if reply.error:
        return warned(f"Embed of an empty text answered: {reply.error}; a document with an empty chunk then "
                      "fails to index", "return a zero vector of the right dimension for an empty text")
    problem = _problem(vector_of(reply), reference(ctx).size)
    if problem:
        return failed(f"Embed of an empty text returned {problem}",
                      "return a zero vector of the right dimension for an empty text")
    return passed("a vector of the right dimension")


@check("embed_unicode", "non-ASCII text (accents, CJK, RTL, emoji) embeds without error",
       stage=Stage.PROVIDER, plugin_types=EMBEDDER,
       fix="treat the text as Unicode (UTF-8 on the wire) throughout: tokenizer, normalisation, hashing")
def embed_unicode(ctx: CheckContext) -> Outcome:
    reply = ctx.embedder().Embed(sdk.EmbedRequest(text=UNICODE_TEXT), timeout=ctx.timeout)
    if reply.error:
        return failed(f"Embed of non-ASCII text answered: {reply.error}",
                      "treat the text as Unicode (UTF-8 on the wire) throughout")
    problem = _problem(vector_of(reply), reference(ctx).size)
    if problem:
        return failed(f"Embed of non-ASCII text returned {problem}", "return a full vector for any Unicode text")
    return passed("a vector of the right dimension")
