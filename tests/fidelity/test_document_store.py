"""The built-in memory database serves Hector's document store on every transport: upserts
without CreateCollection (UUID ids, about twenty metadata keys as Go text), a doubled top_k,
hits filtered on metadata, the hit's text in SearchResult.content."""

from __future__ import annotations

import random

import pytest

from hector_nb import hector
from hector_nb.providers import MemoryDatabase

CHUNKS = {"docs/a.md": ("Paris is the capital of France.", [1.0, 0.0, 0.0]),
          "docs/b.txt": ("Lyon is a city in France.", [0.9, 0.1, 0.0]),
          "docs/c.md": ("Madrid is the capital of Spain.", [0.0, 1.0, 0.0])}


@pytest.mark.parametrize("transport", ["in-kernel", "in-process", "subprocess"])
def test_hectors_document_store_pattern(session, transport):
    db = session.load("builtin:memory", transport=transport)
    rng = random.Random(5)
    ids = {}
    for index, (path, (text, vector)) in enumerate(CHUNKS.items()):
        ids[path] = hector.document_id(rng)
        db.upsert("store", ids[path], vector, hector.document_metadata(text, path, chunk_index=index))
    hits_needed = 1
    results = db.search("store", [1.0, 0.05, 0.0], hector.search_top_k(hits_needed))
    assert [r.id for r in results] == [ids["docs/a.md"], ids["docs/b.txt"]]  # best first
    assert results[0].content == "Paris is the capital of France."  # Hector reads content only
    assert len(results[0].metadata) == 20 and results[0].metadata["chunk_index"] == "0"
    kept = hector.select_hits(results, hits_needed, {"file_extension": ".txt"})
    assert [(r.id, r.content) for r in kept] == [(ids["docs/b.txt"], "Lyon is a city in France.")]


def test_content_comes_from_text_metadata_too(session):
    db = session.load("builtin:memory", transport="in-kernel")
    db.upsert("notes", "n1", [1.0, 0.0], {"text": "from text"})
    assert db.search("notes", [1.0, 0.0], 1)[0].content == "from text"


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
