"""The built-in memory database serves Hector's document store on every transport: upserts
without CreateCollection (Hector's ids, its 21 metadata keys as Go text), a doubled top_k,
hits filtered on the collection key and dropped below the threshold, the hit's text in
SearchResult.content and metadata["content"]."""

from __future__ import annotations

import pytest

from hector_nb import hector
from hector_nb.providers import MemoryDatabase

CHUNKS = {"docs/a.md": ("Paris is the capital of France.", [1.0, 0.0, 0.0]),
          "docs/b.txt": ("Lyon is a city in France.", [0.9, 0.1, 0.0]),
          "docs/c.md": ("Madrid is the capital of Spain.", [0.0, 1.0, 0.0])}


@pytest.mark.parametrize("transport", ["in-kernel", "in-process", "subprocess"])
def test_hectors_document_store_pattern(session, transport):
    db = session.load("builtin:memory", transport=transport)
    ids = {}
    for index, (path, (text, vector)) in enumerate(CHUNKS.items()):
        ids[path] = hector.document_id("store", path, index)
        db.upsert("store", ids[path], vector, hector.document_metadata(text, path, chunk_index=index, store="store"))
    hits_needed = 1
    results = db.search("store", [1.0, 0.05, 0.0], hector.search_top_k(hits_needed))
    assert [r.id for r in results] == [ids["docs/a.md"], ids["docs/b.txt"]]  # best first
    # Hector's include_context reads content, its search tool metadata["content"]: both filled.
    assert results[0].content == results[0].metadata["content"] == "Paris is the capital of France."
    assert len(results[0].metadata) == 21 and results[0].metadata["chunk_index"] == "0"
    kept = hector.select_hits(results, hits_needed, {"collection": "store"})
    assert [(r.id, r.content) for r in kept] == [(ids["docs/a.md"], "Paris is the capital of France.")]
    assert hector.select_hits(results, hits_needed, {"collection": "another-store"}) == []


def test_content_comes_from_text_metadata_too_and_reaches_both_of_hectors_readers(session):
    db = session.load("builtin:memory", transport="in-kernel")
    db.upsert("notes", "n1", [1.0, 0.0], {"text": "from text"})
    hit = db.search("notes", [1.0, 0.0], 1)[0]
    assert hit.content == hit.metadata["content"] == "from text" and hit.metadata["text"] == "from text"


@pytest.mark.parametrize("transport", ["in-kernel", "subprocess"])
def test_hector_keeps_the_near_hits_of_a_euclidean_memory_database_and_hector_nb_shows_it(session, transport,
                                                                                          fresh_warnings):
    # Hector drops every hit scoring below 0.5; negated distances (all <= 0) would leave nothing.
    db = session.load("builtin:memory", name=f"l2-{transport}", config={"metric": "euclidean"}, transport=transport)
    db.upsert_many("c", [("same", [1.0, 0.0], {"content": "same"}), ("near", [0.9, 0.3], None),
                         ("far", [-5.0, 4.0], None)])
    hits = db.search("c", [1.0, 0.0], 3)
    assert [h.id for h in hits] == ["same", "near", "far"]
    assert hits[0].score == pytest.approx(1.0) and 0.5 < hits[1].score < 1.0 and 0 < hits[2].score < 0.5
    assert [h.id for h in hector.select_hits(hits, 3)] == ["same", "near"]
    warned = [str(w.message) for w in fresh_warnings if isinstance(w.message, hector.HectorFidelityWarning)]
    assert len(warned) == 1 and warned[0].startswith(f"l2-{transport}: Hector's document store drops hits scoring "
                                                     "below search.threshold (0.5): 1 of 3 hits")
    db.search("c", [1.0, 0.0], 3)  # once per database
    assert len([w for w in fresh_warnings if isinstance(w.message, hector.HectorFidelityWarning)]) == 1


def test_a_refused_first_upsert_creates_nothing():
    db = MemoryDatabase()  # the provider itself: the client refuses such vectors before they are sent
    for vector in ([float("nan"), 1.0], []):
        with pytest.raises(ValueError):
            db.upsert("ghost", "x", vector, {})
        with pytest.raises(KeyError, match="no collection 'ghost'"):
            db.search("ghost", [1.0, 0.0], 1)
    db.upsert_many("ghost", ["x"], [[1.0, 0.0]], [{}])
    with pytest.raises(ValueError, match="2-dimensional"):
        db.upsert("ghost", "y", [1.0, 0.0, 0.0], {})
