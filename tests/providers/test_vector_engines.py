"""The real vector databases (Qdrant, USearch, Milvus) behind the same client, on every transport.

Each behaves as Hector's document store needs: collections created on first
upsert, hits best first with ``content`` filled, metadata and the caller's own
ids carried through, and errors as one line naming the plugin and the operation.
"""

from __future__ import annotations

import uuid

import numpy as np
import pytest
from extras import require

from hector_nb import Session
from hector_nb.errors import ProviderError
from hector_nb.providers import MemoryDatabase

#: builtin name -> (extra, modules it needs).
ENGINES = {
    "qdrant": ("qdrant", ("qdrant_client",)),
    "usearch": ("usearch", ("usearch",)),
    "milvus": ("milvus", ("pymilvus", "milvus_lite")),
}
TRANSPORTS = ("in-kernel", "in-process", "subprocess")


@pytest.fixture
def session():
    with Session(timeout=60, start_timeout=60) as s:
        yield s


def load(session: Session, engine: str, transport: str = "in-kernel", **config: str):
    require(ENGINES[engine][0], *ENGINES[engine][1])
    return session.load(f"builtin:{engine}", name=f"{engine}-{transport}", transport=transport, config=config)


@pytest.mark.parametrize("transport", TRANSPORTS)
@pytest.mark.parametrize("engine", sorted(ENGINES))
def test_document_store_round_trip(session, engine, transport):
    db = load(session, engine, transport)
    hector_id = str(uuid.uuid4())
    # Hector upserts without creating the collection first; its ids are UUIDs, a user's are any text.
    db.upsert("my-docs", hector_id, [1, 0, 0], {"content": "alpha text", "path": "a.md", "chunk_index": "0"})
    db.upsert("my-docs", "readme.md#2", [0.6, 0.8, 0], {"text": "beta text"})
    db.upsert("my-docs", "c", [0, 0, 1], {})
    hits = db.search("my-docs", [1, 0.1, 0], top_k=3)
    assert [h.id for h in hits] == [hector_id, "readme.md#2", "c"]
    assert hits[0].score > hits[1].score > hits[2].score
    assert hits[0].score == pytest.approx(1 / np.linalg.norm([1, 0.1, 0]), abs=1e-4)
    assert (hits[0].content, hits[1].content, hits[2].content) == ("alpha text", "beta text", "")
    assert dict(hits[0].metadata) == {"content": "alpha text", "path": "a.md", "chunk_index": "0"}
    db.upsert("my-docs", "readme.md#2", [1, 0.1, 0], {"text": "beta, moved"})  # replace, not add
    hits = db.search("my-docs", [1, 0.1, 0], top_k=10)
    assert [h.id for h in hits][:1] == ["readme.md#2"] and len(hits) == 3 and hits[0].content == "beta, moved"
    db.delete("my-docs", "readme.md#2")
    assert [h.id for h in db.search("my-docs", [1, 0.1, 0], top_k=10)] == [hector_id, "c"]
    db.delete("my-docs", "nope")  # a missing id is nothing to delete: Hector would log an error as a failure
    with pytest.raises(ProviderError, match=rf"'{engine}-{transport}', upsert: .*3-dimensional vectors, got 2"):
        db.upsert("my-docs", "d", [1, 0])
    db.delete_collection("my-docs")
    # Hector's document store may search before its first upsert: nothing found, no error.
    assert db.search("my-docs", [1, 0, 0], top_k=1) == []
    with pytest.raises(ProviderError, match=r"delete_collection: .*no collection 'my-docs'; upsert into it or"):
        db.delete_collection("my-docs")


@pytest.mark.parametrize("transport", ["in-kernel", "subprocess"])
@pytest.mark.parametrize("engine", sorted(ENGINES))
def test_upsert_many_replaces_keeps_the_last_of_a_repeated_id_and_refuses_a_wrong_size(session, engine, transport):
    """upsert_many goes through each engine's own bulk insert: the same answers as per-item upserts."""
    db = load(session, engine, transport)
    db.upsert("c", "old", [0, 0, 1], {"text": "before"})
    db.upsert_many("c", [("a", [1, 0, 0], {"text": "first a"}), ("old", [0, 1, 0], {"text": "after"}),
                         ("a", [1, 0.2, 0], {"text": "last a"})])
    hits = db.search("c", [1, 0.2, 0], top_k=10)
    assert [(h.id, h.content) for h in hits] == [("a", "last a"), ("old", "after")]
    with pytest.raises(ProviderError, match=rf"'{engine}-{transport}', upsert_many: .*3-dimensional vectors, got"):
        db.upsert_many("c", [("x", [1, 0], {}), ("y", [0, 1], {})])
    assert sorted(h.id for h in db.search("c", [1, 0, 0], top_k=10)) == ["a", "old"]


@pytest.mark.parametrize("engine", sorted(ENGINES))
def test_explicit_collections_and_metrics(session, engine):
    db = load(session, engine, metric="euclidean")
    db.create_collection("v", 2)
    with pytest.raises(ProviderError, match="collection 'v' exists already"):
        db.create_collection("v", 2)
    db.upsert_many("v", [("near", [1, 0], None), ("far", [9, 0], None), ("mid", [0, 2], None), ("far", [4, 0], None)])
    hits = db.search("v", [1, 0], top_k=3)
    # Higher is better on every engine: euclidean distances come back negated, as builtin:memory reports them.
    assert [h.id for h in hits] == ["near", "mid", "far"]  # a repeated id: the last write wins
    assert [h.score for h in hits] == pytest.approx([0.0, -np.sqrt(5), -3.0], abs=1e-4)
    with pytest.raises(ProviderError, match="unknown metric 'hamming'"):
        load(session, engine, "in-process", metric="hamming")


def test_qdrant_ids_map_to_uuids_deterministically():
    require("qdrant", "qdrant_client")
    from hector_nb.providers.qdrant import point_id

    hector_id = str(uuid.uuid4())
    assert point_id(hector_id) == hector_id
    assert point_id("doc-1") == point_id("doc-1") != point_id("doc-2")
    assert uuid.UUID(point_id("doc-1")).version == 5


def test_qdrant_on_disk_survives_a_restart(session, tmp_path):
    db = load(session, "qdrant", "subprocess", path=str(tmp_path / "store"))
    db.upsert("docs", "kept", [0.1, 0.9], {"content": "persisted"})
    session.unload(db.name)
    again = load(session, "qdrant", "in-kernel", path=str(tmp_path / "store"))
    assert [(h.id, h.content) for h in again.search("docs", [0.1, 0.9], 1)] == [("kept", "persisted")]
    assert all(p.is_relative_to(tmp_path) for p in tmp_path.rglob("*"))


def test_qdrant_server_config_errors(session):
    with pytest.raises(ProviderError, match="give one of location, path or url, not path and url"):
        load(session, "qdrant", path="/tmp/x", url="http://127.0.0.1:1")
    # The scale-out path: url= a Qdrant server. No server runs here, so this shows the error a wrong url gives.
    with pytest.raises(ProviderError, match=r"plugin 'qdrant-in-kernel', initialize: .*onnect"):
        load(session, "qdrant", url="http://127.0.0.1:9", api_key="secret")
    with pytest.raises(ProviderError, match="config hnsw_m must be a positive integer, got 'many'"):
        load(session, "qdrant", "in-process", hnsw_m="many")


@pytest.mark.parametrize("transport", ["in-kernel", "subprocess"])
def test_milvus_by_uri_keeps_its_data_in_the_server(session, milvus_server, transport, tmp_path):
    """The scale-out path: the same provider with ``uri=`` a Milvus server in another process."""
    db = load(session, "milvus", transport, uri=milvus_server, token="root:Milvus")
    db.upsert("docs", "a", [1, 0], {"content": "kept by the server"})
    db.upsert("docs", "b", [0, 1], {"content": "also kept"})
    session.unload(db.name)
    again = load(session, "milvus", "in-process", uri=milvus_server)
    assert [(h.id, h.content) for h in again.search("docs", [1, 0.1], top_k=2)] == [
        ("a", "kept by the server"), ("b", "also kept")]
    with pytest.raises(ProviderError, match=r"plugin 'milvus-in-kernel', initialize: .*127\.0\.0\.1:9.*server "
                                            r"unavailable"):
        load(session, "milvus", uri="http://127.0.0.1:9")


def recall_at(db, exact, queries: np.ndarray, k: int) -> float:
    found = 0
    for query in queries:
        truth = {h.id for h in exact.search("v", query, top_k=k)}
        found += len(truth & {h.id for h in db.search("v", query, top_k=k)})
    return found / (k * len(queries))


def test_usearch_is_approximate_and_its_recall_is_tunable(session):
    """HNSW with a sparse graph and a narrow search misses true neighbours; a wide search finds them.

    32-dimensional Gaussian vectors have no structure to exploit, which makes them hard for any graph index.
    """
    require("usearch", "usearch")
    rng = np.random.default_rng(7)
    vectors = rng.normal(size=(3000, 32)).astype(np.float32)
    queries = rng.normal(size=(40, 32)).astype(np.float32)
    exact = session.add("exact", MemoryDatabase())
    exact.create_collection("v", 32)
    items = [(f"p{i}", v, None) for i, v in enumerate(vectors)]
    exact.upsert_many("v", items)
    coarse = load(session, "usearch", connectivity="8", expansion_add="16", expansion_search="8")
    coarse.upsert_many("v", items)
    low = recall_at(coarse, exact, queries, 10)
    fine = session.load("builtin:usearch", name="fine", config={"connectivity": "16", "expansion_add": "128",
                                                               "expansion_search": "256"})
    fine.upsert_many("v", items)
    high = recall_at(fine, exact, queries, 10)
    assert 0.2 < low < 0.9, f"recall@10 {low:.2f} with connectivity 8, expansion_search 8"
    assert high > 0.95 and high > low, f"recall@10 {high:.2f} with connectivity 16, expansion 256"
