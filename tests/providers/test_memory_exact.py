"""MemoryDatabase stays exact: every answer equals a brute-force numpy ranking of all rows.

Every test runs twice: with the rows in one block, and in blocks of 32 rows, so
that writes, overwrites, deletes (which move rows between blocks) and searches
cross block boundaries.
"""

from __future__ import annotations

import numpy as np
import pytest

from hector_nb.providers import MemoryDatabase, memory

DIMENSION = 24
SMALL_BLOCK_ROWS = 32


@pytest.fixture(autouse=True, params=["one block", "blocks of 32 rows"])
def block_size(request, monkeypatch):
    if request.param != "one block":
        monkeypatch.setattr(memory, "BLOCK_BYTES", SMALL_BLOCK_ROWS * 4 * DIMENSION)
    return request.param


def brute_force(metric: str, rows: dict[str, np.ndarray], query: np.ndarray, k: int) -> list[tuple[str, float]]:
    """Every score computed from scratch in float64, ranked best first."""
    ids = list(rows)
    matrix = np.stack([rows[i] for i in ids]).astype(np.float64)
    q = query.astype(np.float64)
    if metric == "dot":
        scores = matrix @ q
    elif metric == "euclidean":  # a similarity Hector's threshold can use: 1 / (1 + distance)
        scores = 1.0 / (1.0 + np.linalg.norm(matrix - q, axis=1))
    else:
        norms = np.linalg.norm(matrix, axis=1) * np.linalg.norm(q)
        scores = (matrix @ q) / np.where(norms == 0, 1.0, norms)
    order = np.argsort(-scores, kind="stable")[:k]
    return [(ids[i], float(scores[i])) for i in order]


def assert_same_answer(db: MemoryDatabase, metric: str, rows: dict[str, np.ndarray], query: np.ndarray, k: int):
    hits = db.search("c", query, k)
    expected = brute_force(metric, rows, query, k)
    assert [h.id for h in hits] == [i for i, _ in expected]
    assert [h.score for h in hits] == pytest.approx([s for _, s in expected], rel=1e-5, abs=1e-5)


def make(metric: str) -> MemoryDatabase:
    db = MemoryDatabase()
    db.initialize({"metric": metric})
    db.create_collection("c", DIMENSION)
    return db


@pytest.mark.parametrize("metric", ["cosine", "dot", "euclidean"])
def test_search_matches_brute_force_after_upserts_overwrites_and_deletes(metric):
    rng = np.random.default_rng(7)
    db = make(metric)
    rows: dict[str, np.ndarray] = {}
    # One batch, then single upserts, so both write paths keep the cached norms right.
    batch = rng.standard_normal((300, DIMENSION)).astype(np.float32)
    db.upsert_many("c", [f"b{i}" for i in range(300)], batch, [{"i": str(i)} for i in range(300)])
    rows.update({f"b{i}": batch[i] for i in range(300)})
    for i in range(50):
        rows[f"s{i}"] = rng.standard_normal(DIMENSION).astype(np.float32) * 3
        db.upsert("c", f"s{i}", rows[f"s{i}"], {})
    rows["zero"] = np.zeros(DIMENSION, dtype=np.float32)  # no direction: cosine scores it 0
    db.upsert("c", "zero", rows["zero"], {})
    queries = rng.standard_normal((5, DIMENSION)).astype(np.float32)
    for query in queries:
        assert_same_answer(db, metric, rows, query, 10)
    # Overwrites, one by one and in a batch, then deletes (which move the last row into the hole).
    for i in range(0, 300, 7):
        rows[f"b{i}"] = -rows[f"b{i}"] * 2
        db.upsert("c", f"b{i}", rows[f"b{i}"], {"i": "overwritten"})
    moved = rng.standard_normal((20, DIMENSION)).astype(np.float32)
    db.upsert_many("c", [f"s{i}" for i in range(20)], moved, [{}] * 20)
    rows.update({f"s{i}": moved[i] for i in range(20)})
    for victim in ["b0", "b299", "s3", "zero"] + [f"b{i}" for i in range(100, 160)]:
        db.delete("c", victim)
        del rows[victim]
    for query in queries:
        assert_same_answer(db, metric, rows, query, 10)
    assert_same_answer(db, metric, rows, queries[0], len(rows) + 5)  # k beyond the count: everything, ranked


def test_euclidean_near_ties_far_from_the_origin_stay_exact():
    """Rows far from the origin and close to each other: |v|^2 - 2v.q + |q|^2 loses its digits in
    float32, so the database must re-score the rows near the k-th before answering."""
    rng = np.random.default_rng(3)
    db = make("euclidean")
    centre = np.full(DIMENSION, 300.0, dtype=np.float32)
    cloud = (centre + rng.standard_normal((2000, DIMENSION)) * 0.01).astype(np.float32)
    rows = {f"p{i}": cloud[i] for i in range(len(cloud))}
    db.upsert_many("c", list(rows), cloud, [{}] * len(cloud))
    for query in (centre + rng.standard_normal((5, DIMENSION)) * 0.01).astype(np.float32):
        hits = db.search("c", query, 10)
        expected = -np.linalg.norm(cloud - query, axis=1)  # what float32 gives computing every distance
        assert [h.id for h in hits] == [f"p{i}" for i in np.argsort(-expected, kind="stable")[:10]]


def test_upsert_many_keeps_the_last_write_of_a_repeated_id_and_checks_before_writing():
    db = make("dot")
    vectors = np.eye(DIMENSION, dtype=np.float32)[:3]
    db.upsert_many("c", ["a", "b", "a"], vectors, [{"n": "1"}, {"n": "2"}, {"n": "3"}])
    hits = db.search("c", vectors[2], 3)
    assert [(h.id, h.score, dict(h.metadata)) for h in hits[:1]] == [("a", 1.0, {"n": "3"})]
    assert sorted(h.id for h in hits) == ["a", "b"]
    with pytest.raises(ValueError, match="holds 24-dimensional vectors, got 2 vector"):
        db.upsert_many("c", ["x", "y"], np.ones((2, 5), dtype=np.float32), [{}, {}])
    assert sorted(h.id for h in db.search("c", vectors[0], 10)) == ["a", "b"]  # nothing of the bad batch


def test_a_growing_collection_keeps_its_full_blocks_in_place(block_size):
    """Loading in batches appends blocks: the rows already stored are not copied again, and the
    collection never holds more than one block beyond its rows. A collection smaller than a block
    has one block, grown geometrically."""
    db = make("dot")
    rng = np.random.default_rng(5)
    stored = rng.standard_normal((1000, DIMENSION)).astype(np.float32)
    for start in range(0, 1000, 100):
        db.upsert_many("c", [f"v{i}" for i in range(start, start + 100)], stored[start:start + 100],
                       [{}] * 100)
        if start == 0:
            store = db._collections["c"]
            first_blocks = list(store.blocks[:-1])
    if block_size == "one block":
        assert len(store.blocks) == 1 and 1000 <= store.capacity < 2000
    else:
        assert len(first_blocks) == 100 // SMALL_BLOCK_ROWS
        assert all(block is kept for block, kept in zip(store.blocks, first_blocks, strict=False))
        assert store.capacity < 1000 + SMALL_BLOCK_ROWS
    assert np.array_equal(store.gather(np.arange(1000)), stored)
