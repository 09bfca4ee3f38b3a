"""Database checks: the calls Hector's document store makes, and the contract's edge cases.

Hector's document store upserts without ever calling CreateCollection, with
deterministic UUID ids and 21 metadata keys, searches with twice the top_k it
needs, keeps hits in the order given whose ``collection`` metadata is the
store's, drops those scoring below its ``search.threshold`` (0.5), and reads
their text from ``SearchResult.content`` (``include_context``) and from
``metadata["content"]`` (its agents' ``search`` tool).
Each check writes its own collection, so one fault shows in one check.
"""

from __future__ import annotations

import numpy as np

from .. import hector
from ..host import Transport
from ..plugin import sdk
from .base import Outcome, Stage, check, failed, passed, skipped, warned
from .context import CheckContext, NotReady

DATABASE = (sdk.PLUGIN_TYPE_DATABASE,)
#: The vector size of the checks' documents (all-MiniLM-L6-v2's, a common embedder behind Hector).
DIMENSION = 384
DOCUMENTS = 24
HITS_NEEDED = 10
_CREATE_FIX = "create the collection on its first upsert, with the dimension of that vector"

Document = tuple[str, list[float], dict[str, str]]


def documents(count: int, seed: int, store: str) -> list[Document]:
    """``count`` chunks as Hector's document store sends them: its ids, unit vectors, its 21 metadata keys."""
    vectors = np.random.default_rng(seed).normal(size=(count, DIMENSION)).astype(np.float32)
    vectors /= np.linalg.norm(vectors, axis=1, keepdims=True)
    return [(hector.document_id(store, f"file{seed}.md", n), vector.tolist(),
             hector.document_metadata(f"Chunk {n} of the check corpus: passage number {n}.", f"file{seed}.md",
                                      n, count, store=store))
            for n, vector in enumerate(vectors)]


def store(ctx: CheckContext, collection: str, docs: list[Document], instance: Transport | None = None) -> str:
    """Upsert ``docs`` as Hector does (no CreateCollection); if the first upsert fails, create the
    collection and go on, so later checks still run. Returns the first upsert's error, or ""."""
    first_error = ""
    database = ctx.database(instance)
    for n, (id, vector, metadata) in enumerate(docs):
        request = sdk.UpsertRequest(collection=collection, id=id, vector=vector, metadata=metadata)
        reply = database.Upsert(request, timeout=ctx.timeout)
        if not reply.success and n == 0:
            first_error = reply.error or "success=false without an error text"
            created = database.CreateCollection(sdk.CreateCollectionRequest(collection=collection,
                                                                            vector_size=DIMENSION), timeout=ctx.timeout)
            if not created.success:
                raise NotReady(f"documents could not be stored, even after CreateCollection ({created.error}); "
                               "see upsert_without_create")
            reply = database.Upsert(request, timeout=ctx.timeout)
        if not reply.success:
            raise NotReady(f"upsert {n + 1} of {len(docs)} failed: {reply.error}")
    return first_error


def _corpus(ctx: CheckContext) -> tuple[str, list[Document], str]:
    """The document-store collection most checks read: (collection, documents, first upsert's error)."""
    if "corpus" not in ctx.cache:
        docs = documents(DOCUMENTS, seed=7, store="hector-nb-check")
        ctx.cache["corpus"] = ("hector-nb-check", docs, store(ctx, "hector-nb-check", docs))
    corpus: tuple[str, list[Document], str] = ctx.cache["corpus"]
    return corpus


def _search(ctx: CheckContext, collection: str, vector: list[float], top_k: int) -> sdk.SearchResponse:
    request = sdk.SearchRequest(collection=collection, vector=vector, top_k=top_k)
    return ctx.database().Search(request, timeout=ctx.timeout)


def _corpus_hits(ctx: CheckContext) -> tuple[list[Document], sdk.SearchResponse]:
    """A document-store search for the sixth document's own vector, with doubled top_k."""
    if "corpus_hits" not in ctx.cache:
        collection, docs, _ = _corpus(ctx)
        ctx.cache["corpus_hits"] = (docs, _search(ctx, collection, docs[5][1], hector.search_top_k(HITS_NEEDED)))
    hits: tuple[list[Document], sdk.SearchResponse] = ctx.cache["corpus_hits"]
    return hits


@check("upsert_without_create", "Upsert works on a collection nobody created (Hector never calls "
       "CreateCollection), with UUID ids and 21 metadata keys",
       stage=Stage.PROVIDER, plugin_types=DATABASE, fix=_CREATE_FIX)
def upsert_without_create(ctx: CheckContext) -> Outcome:
    _, docs, error = _corpus(ctx)
    if error:
        return failed(f"Upsert into a collection that was never created answered: {error}; Hector's document "
                      "store never calls CreateCollection, so nothing gets indexed")
    return passed(f"{len(docs)} chunks stored, {len(docs[0][2])} metadata keys each, no CreateCollection")


@check("search_best_first", "Search with doubled top_k returns at most top_k hits, best (highest score) first",
       stage=Stage.PROVIDER, plugin_types=DATABASE,
       fix="sort hits by score, higher is better, and return at most top_k of them")
def search_best_first(ctx: CheckContext) -> Outcome:
    docs, reply = _corpus_hits(ctx)
    top_k = hector.search_top_k(HITS_NEEDED)
    if reply.error:
        return failed(f"Search answered an error: {reply.error}", "answer the search; errors only for real faults")
    hits = list(reply.results)
    scores = [hit.score for hit in hits]
    if len(hits) > top_k:
        return failed(f"{len(hits)} hits for top_k={top_k}", "return at most top_k hits")
    if len(hits) < min(top_k, len(docs)):
        return failed(f"{len(hits)} hits for top_k={top_k} over {len(docs)} documents",
                      "return top_k hits when the collection has that many")
    if any(later > earlier for earlier, later in zip(scores, scores[1:], strict=False)):
        return failed(f"scores not in descending order: {[round(s, 3) for s in scores[:6]]}...; Hector keeps the "
                      "first hits it gets, so it would keep the wrong ones", "sort hits by score, best first")
    if hits[0].id != docs[5][0]:
        return failed(f"the query was a stored vector, yet the best hit is {hits[0].id} (score {scores[0]:.3f}), "
                      f"not {docs[5][0]}", "score so that higher means more similar (e.g. cosine similarity)")
    return passed(f"{len(hits)} hits for top_k={top_k}, best first (top score {scores[0]:.3f})")


@check("search_content", "every hit carries its text in SearchResult.content (Hector's include_context "
       "reads it there)", stage=Stage.PROVIDER, plugin_types=DATABASE,
       fix="fill SearchResult.content from the 'content' metadata the chunk was upserted with")
def search_content(ctx: CheckContext) -> Outcome:
    docs, reply = _corpus_hits(ctx)
    if reply.error or not reply.results:
        return skipped("the search found nothing to look at (see search_best_first)")
    expected = {id: metadata["content"] for id, _, metadata in docs}
    wrong = [hit for hit in reply.results if hit.content != expected.get(hit.id)]
    if wrong:
        return failed(f"{len(wrong)} of {len(reply.results)} hits lack their text in SearchResult.content (e.g. "
                      f"{wrong[0].id} has {wrong[0].content[:40]!r}); Hector's include_context reads the passage "
                      "there, so an agent using it gets empty passages")
    return passed(f"all {len(reply.results)} hits carry their chunk's text")


_METADATA_FIX = "store each chunk's metadata and return it unchanged in SearchResult.metadata"


@check("search_metadata", "every hit carries the metadata it was upserted with: 'collection' (Hector filters "
       "on it) and 'content' (Hector's search tool reads it) above all",
       stage=Stage.PROVIDER, plugin_types=DATABASE, fix=_METADATA_FIX)
def search_metadata(ctx: CheckContext) -> Outcome:
    docs, reply = _corpus_hits(ctx)
    if reply.error or not reply.results:
        return skipped("the search found nothing to look at (see search_best_first)")
    expected = {id: metadata for id, _, metadata in docs}
    changed: dict[str, str] = {}
    for hit in reply.results:
        want = expected.get(hit.id, {})
        changed.update((key, hit.id) for key, value in want.items() if hit.metadata.get(key) != value)
    if hector.COLLECTION_KEY in changed:
        return failed(f"hit {changed[hector.COLLECTION_KEY]} lacks or changed its 'collection' metadata; Hector's "
                      "document store keeps only hits whose 'collection' equals the store's name, so it drops it")
    if "content" in changed:
        return failed(f"hit {changed['content']} lacks or changed its 'content' metadata; the search tool Hector "
                      "gives its agents reads the passage from metadata['content'], so the agent sees it empty")
    if changed:
        return warned(f"hits lack or changed metadata {', '.join(sorted(changed)[:5])}; Hector itself filters on "
                      "'collection' only, but these are lost to anyone reading the hits")
    return passed(f"all {len(reply.results)} hits carry their {len(docs[0][2])} metadata keys unchanged")


@check("search_threshold", f"a relevant hit scores at least Hector's search.threshold "
       f"({hector.SEARCH_THRESHOLD:g}); Hector drops every hit below it",
       stage=Stage.PROVIDER, plugin_types=DATABASE,
       fix="return a similarity, higher is better, where a relevant hit reaches 0.5: cosine similarity, or "
           "1/(1+distance) for a distance; never a negated distance")
def search_threshold(ctx: CheckContext) -> Outcome:
    docs, reply = _corpus_hits(ctx)
    own = [hit for hit in reply.results if hit.id == docs[5][0]]
    if reply.error or not own:
        return skipped("the search did not return the stored vector it searched for (see search_best_first)")
    threshold = hector.SEARCH_THRESHOLD
    score = own[0].score
    if not hector.hector_keeps(score, threshold):
        dropped = hector.dropped_hits(reply.results, threshold)
        return failed(f"the query was a stored vector, yet that exact match scores {score:.3g}, below Hector's "
                      f"search.threshold {threshold:g}; Hector drops {dropped} of the {len(reply.results)} hits "
                      "and its agents find nothing")
    above = [hit.score for hit in reply.results if hit.score > 1.0]
    if above:
        return warned(f"{len(above)} hits score above 1 (up to {max(above):.3g}); Hector's threshold of "
                      f"{threshold:g} is meant for similarities in [0, 1], so unrelated hits may pass it",
                      "return a similarity in [0, 1] (e.g. cosine similarity of normalized vectors)")
    return passed(f"the exact match scores {score:.3g} (Hector keeps hits from {threshold:g}); "
                  f"{hector.dropped_hits(reply.results, threshold)} of {len(reply.results)} hits fall below it")


@check("upsert_same_id", "upserting an id twice keeps only the last write",
       stage=Stage.PROVIDER, plugin_types=DATABASE,
       fix="replace the entry with the same id (upsert), never add a second one")
def upsert_same_id(ctx: CheckContext) -> Outcome:
    first, second = documents(2, seed=11, store="hector-nb-check-same-id")
    same = (first[0], second[1], second[2])
    store(ctx, "hector-nb-check-same-id", [first, same])
    reply = _search(ctx, "hector-nb-check-same-id", second[1], 10)
    if reply.error:
        return failed(f"Search answered an error: {reply.error}", "answer searches of an existing collection")
    hits = [hit for hit in reply.results if hit.id == first[0]]
    if len(hits) != 1:
        return failed(f"the id appears {len(hits)} times after two upserts; Hector re-indexes changed files "
                      "under the same ids", "replace the entry with the same id, never add a second one")
    old = first[2]["content"]
    if old in (hits[0].content, hits[0].metadata.get("content")):
        return failed("the hit still carries the first write's text", "replace vector and metadata on upsert")
    return passed("one entry, carrying the second write")


@check("delete_missing_id", "deleting an id that is not there is harmless",
       stage=Stage.PROVIDER, plugin_types=DATABASE,
       fix="treat Delete of a missing id as done (success=true), as most vector databases do")
def delete_missing_id(ctx: CheckContext) -> Outcome:
    collection, docs, _ = _corpus(ctx)
    missing = hector.document_id(collection, "never-indexed.md", 0)
    reply = ctx.database().Delete(sdk.DeleteRequest(collection=collection, id=missing), timeout=ctx.timeout)
    if not reply.success:
        return warned(f"Delete of a missing id answered success=false: {reply.error or '(no error text)'}; "
                      "Hector logs it as a failure", "treat Delete of a missing id as done (success=true)")
    after = _search(ctx, collection, docs[0][1], DOCUMENTS)
    if len(after.results) != len(docs):
        return failed(f"after deleting a missing id the collection holds {len(after.results)} entries, "
                      f"not {len(docs)}", "delete only the entry with that id")
    return passed("success, and nothing else removed")


@check("top_k_larger", "top_k larger than the collection returns every entry, without error",
       stage=Stage.PROVIDER, plugin_types=DATABASE,
       fix="clip top_k to the collection's size instead of failing")
def top_k_larger(ctx: CheckContext) -> Outcome:
    docs = documents(3, seed=13, store="hector-nb-check-small")
    store(ctx, "hector-nb-check-small", docs)
    reply = _search(ctx, "hector-nb-check-small", docs[0][1], 50)
    if reply.error:
        return failed(f"Search with top_k=50 over 3 entries answered: {reply.error}")
    if len(reply.results) != 3:
        return failed(f"{len(reply.results)} hits for top_k=50 over 3 entries", "return every entry when top_k "
                      "exceeds the collection's size, each once")
    return passed("3 hits for top_k=50 over 3 entries")


@check("wrong_dimension", "a vector of the wrong dimension is refused with an error in the error field (Hector "
       "never checks lengths itself, so a mismatch is a warning)",
       stage=Stage.PROVIDER, plugin_types=DATABASE,
       fix="compare the vector's length with the collection's dimension and answer an error naming both")
def wrong_dimension(ctx: CheckContext) -> Outcome:
    collection, _, _ = _corpus(ctx)
    short = [0.5, 0.5, 0.5]
    found = _search(ctx, collection, short, 5)
    short_id = hector.document_id(collection, "short.md", 0)
    upserted = ctx.database().Upsert(sdk.UpsertRequest(collection=collection, id=short_id, vector=short,
                                                       metadata={"content": "three dimensions"}), timeout=ctx.timeout)
    problems = []
    if not found.error:
        problems.append(f"Search with a 3-dimensional vector in a {DIMENSION}-dimensional collection answered "
                        f"{len(found.results)} hits and no error")
    if upserted.success:
        problems.append("Upsert of a 3-dimensional vector succeeded")
    if problems:
        return warned("; ".join(problems) + "; Hector never checks vector lengths, so an embedder swapped for one "
                      "of another dimension gives meaningless scores without a word")
    return passed(f"refused: {found.error[:80]}")


@check("empty_collection", "searching an emptied or never-written collection answers no hits",
       stage=Stage.PROVIDER, plugin_types=DATABASE,
       fix="answer an empty result for a collection without entries")
def empty_collection(ctx: CheckContext) -> Outcome:
    (id, vector, metadata), = documents(1, seed=17, store="hector-nb-check-empty")
    store(ctx, "hector-nb-check-empty", [(id, vector, metadata)])
    deleted = ctx.database().Delete(sdk.DeleteRequest(collection="hector-nb-check-empty", id=id), timeout=ctx.timeout)
    if not deleted.success:
        return failed(f"Delete of a stored id failed: {deleted.error}", "delete the entry with that id")
    emptied = _search(ctx, "hector-nb-check-empty", vector, 5)
    if emptied.error or emptied.results:
        what = f"an error: {emptied.error}" if emptied.error else f"{len(emptied.results)} hits"
        return failed(f"Search of a collection whose only entry was deleted answered {what}")
    never = _search(ctx, "hector-nb-check-never-written", vector, 5)
    if never.results:
        return failed(f"Search of a collection never written answered {len(never.results)} hits",
                      "answer no hits for an unknown collection")
    if never.error:
        return warned(f"Search of a collection never written answered an error: {never.error}; Hector's document "
                      "store may search before anything was indexed",
                      "answer an empty result for a collection nobody wrote to yet")
    return passed("no hits, no error, for both")
