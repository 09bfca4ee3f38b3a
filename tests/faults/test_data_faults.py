"""The user's data and objects: a check or an evaluation sweep never changes what the user loaded."""

from __future__ import annotations

import pytest

from hector_nb.data import STDLIB_QRELS
from hector_nb.datasets import load_beir
from hector_nb.evaluation import evaluate
from hector_nb.providers import MemoryDatabase


class Watched(MemoryDatabase):
    """A memory database made with an argument, noting every lifecycle and write call it receives."""

    def __init__(self, tag: str) -> None:
        super().__init__()
        self.tag = tag
        self.calls: list[str] = []

    def initialize(self, config):
        self.calls.append("initialize")
        super().initialize(config)

    def shutdown(self):
        self.calls.append("shutdown")
        super().shutdown()

    def upsert(self, collection, id, vector, metadata):
        self.calls.append("upsert")
        super().upsert(collection, id, vector, metadata)


def snapshot(db, collection: str) -> list[tuple]:
    """Everything a search can see of a collection: ids, scores, vectors, metadata."""
    return [(hit.id, hit.score, list(hit.vector), dict(hit.metadata))
            for hit in db.search(collection, [1.0, 0.5], 10_000)]


# Item 2: the check runs on fresh instances (made with the same constructor arguments), never the user's.
def test_check_never_touches_the_loaded_provider(session):
    mine = Watched("mine")
    db = session.add("watched", mine, transport="in-kernel")
    db.create_collection("docs", 2)
    db.upsert("docs", "kept", [1.0, 0.0], {"note": "keep"})
    calls, before = list(mine.calls), snapshot(db, "docs")
    report = session.check("watched")
    assert report.summary
    assert mine.calls == calls, "the check called the user's provider object"
    assert db.status == "ready" and snapshot(db, "docs") == before


class MadeOnce(MemoryDatabase):
    """A provider whose constructor works once (it claims a resource): no fresh instance can be made."""

    made = 0

    def __init__(self) -> None:
        super().__init__()
        MadeOnce.made += 1
        if MadeOnce.made > 1:
            raise RuntimeError("the device is taken")


def test_check_says_so_when_no_fresh_instance_can_be_made(session):
    db = session.add("once", MadeOnce(), transport="in-kernel")
    db.create_collection("docs", 2)
    db.upsert("docs", "kept", [1.0, 0.0])
    before = snapshot(db, "docs")
    report = session.check("once")
    assert report["happened"].str.contains("cannot make a fresh MadeOnce").any(), report["happened"].tolist()
    assert db.status == "ready" and snapshot(db, "docs") == before


# Item 4: a sweep builds each setting in a fresh instance; the loaded database stays exactly as it was.
@pytest.mark.parametrize("transport", ["in-kernel", "subprocess"])
def test_a_sweep_leaves_the_users_collection_exactly_as_it_was(session, transport):
    dataset = load_beir(STDLIB_QRELS)
    embedder = session.load("builtin:hashing", transport="in-kernel", config={"dimension": "2"})
    db = session.load("builtin:memory", name="mine", transport=transport, config={"metric": "cosine"})
    db.create_collection("docs", 2)
    vectors = embedder.embed_many(dataset.corpus["text"])
    items = [(id, vector, {"mine": "yes"}) for id, vector in zip(dataset.corpus["id"], vectors, strict=True)]
    db.upsert_many("docs", items)
    db.upsert("docs", "not-in-the-dataset", [0.25, 0.75], {"note": "my own"})
    before = snapshot(db, "docs")
    frame = evaluate(["mine"], "docs", dataset, embedder, sweep={"metric": ["dot", "euclidean"]},
                     session=session).table
    assert list(frame.index) == ["mine metric=dot", "mine metric=euclidean"]
    assert db.config == {"metric": "cosine"} and db.restarts == 0
    assert snapshot(db, "docs") == before
