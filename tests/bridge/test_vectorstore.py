"""Hector's document stores write into, and search, databases the notebook holds, over real HTTP.

The requests are those of Hector's ``milvus`` vector-store client (CONTRACT section 7),
made by :mod:`hector_nb.bridge.simulated_hector` since Hector itself cannot be installed
here: one chunk per upsert, v1's UUID ids with ``collection``/``store_name``, v2's path
ids, filters of one and two keys, deletes by ids and by filter. Every built-in database
answers them, in the kernel and as a plugin subprocess; the real engines need their
extras (tests/extras.py).
"""

from __future__ import annotations

import ssl
import warnings
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import httpx
import pytest
from extras import require

from hector_nb import Session, hector
from hector_nb.bridge.simulated_hector import HectorDocumentStore, HectorVectorStore, VectorStoreError
from hector_nb.bridge.store import rows_of
from hector_nb.providers import HashingEmbedder, MemoryDatabase

#: builtin name -> (extra, its modules, the config that keeps the engine in a scratch place)
ENGINES = {
    "memory": (None, (), {}),
    "qdrant": ("qdrant", ("qdrant_client",), {"location": ":memory:"}),
    "milvus": ("milvus", ("pymilvus", "milvus_lite"), {}),
    "usearch": ("usearch", ("usearch",), {}),
}
FILES = {
    "paris.txt": "Paris is the capital of France.\n\nThe Eiffel Tower stands in Paris.",
    "rome.txt": "Rome is the capital of Italy.",
    "notes/berlin.md": "Berlin is the capital of Germany.\n\nIt has a famous gate.\nAnd a wall's remains.",
}


@pytest.fixture
def folder(tmp_path):
    for name, text in FILES.items():
        (tmp_path / "docs" / name).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / "docs" / name).write_text(text)
    return tmp_path / "docs"


@pytest.fixture
def session():
    with Session() as session:
        session.add("hashing", HashingEmbedder())
        session.embedder("hashing").initialize({"dimension": "64"})
        yield session


def served(session, names, **options):
    return session.serve(names, **options)


def stores(bridge, session, folder, db_prefix=""):
    """A v1 and a v2 document store over ``folder``, both writing to the bridge."""
    client = HectorVectorStore(bridge.url, ca_certificate=bridge.ca_certificate)
    embed = session.embedder("hashing").embed
    v1 = HectorDocumentStore("docs_v1", folder, client, lambda text: embed(text).tolist(), version=1,
                             collection=f"{db_prefix}docs_v1")
    v2 = HectorDocumentStore("docs_v2", folder, client, lambda text: embed(text).tolist(), version=2,
                             collection=f"{db_prefix}docs_v2")
    return v1, v2


def every_row(db, collection, dimension=64):
    """What the notebook sees in ``collection``: ``{id: metadata}`` of every row."""
    return {r.id: dict(r.metadata) for r in db.search(collection, [1.0] * dimension, 1000)}


def sent_rows(store, folder):
    """``{id: metadata}`` as the simulated Hector sent it, read as the bridge stores it (Go's %v text)."""
    rows = {}
    for path in sorted(p for p in folder.rglob("*") if p.is_file()):
        for id, metadata in store.chunks(path):
            [row] = rows_of([{"id": id, "vector": [0.0], **metadata}])
            rows[row.id] = {k: v for k, v in row.metadata.items() if k not in ("indexed_at", "ingested_at")}
    return rows


def without_times(rows):
    return {id: {k: v for k, v in m.items() if k not in ("indexed_at", "ingested_at")} for id, m in rows.items()}


@pytest.mark.parametrize("transport", ["in-kernel", "subprocess"])
@pytest.mark.parametrize("engine", list(ENGINES))
def test_hector_document_stores_index_search_and_delete_in_a_notebook_database(engine, transport, session,
                                                                                folder):
    extra, modules, config = ENGINES[engine]
    if extra:
        require(extra, *modules)
    session.load(f"builtin:{engine}", name="store", config=config, transport=transport)
    db = session.database("store")
    with served(session, ["store", "hashing"]) as bridge:
        v1, v2 = stores(bridge, session, folder)
        assert v1.index() == 5 and v2.index() == 5 and v1.errors == v2.errors == 0

        # The notebook sees exactly the rows Hector wrote: ids and metadata.
        for store in (v1, v2):
            assert without_times(every_row(db, store.collection)) == sent_rows(store, folder)
        assert all(id.startswith(f"{folder.resolve()}/") and ":chunk:" in id for id in every_row(db, "docs_v2"))

        # A search through the dialect and one through the client agree: ids, order, scores.
        query = session.embedder("hashing").embed("capital of France").tolist()
        for store in (v1, v2):
            through_hector = store.store.search(store.collection, query, 4)
            direct = db.search(store.collection, query, 4)
            assert [(h["id"], h["score"]) for h in through_hector] == [(r.id, r.score) for r in direct]
            assert [h["content"] for h in through_hector] == [r.metadata["content"] for r in direct]

        # v1's search filters on its collection; a two-key filter keeps the database's order among matches.
        paris = str((folder / "paris.txt").resolve())
        two_keys = {"collection": "docs_v1", "path": "paris.txt"}
        hits = v1.store.search("docs_v1", query, 2, two_keys)
        # The dialect applies no threshold (the search tool below does): threshold=0.
        expected = hector.select_hits(db.search("docs_v1", query, 100), 2, two_keys, threshold=0)
        assert [(h["id"], h["score"]) for h in hits] == [(r.id, r.score) for r in expected] and len(hits) == 2
        hits = v2.store.search("docs_v2", query, 3, {"source_path": paris, "chunk_index": "1"})
        assert [h["id"] for h in hits] == [f"{paris}:chunk:1"]
        assert v1.search("capital of France", limit=3) == [h for h in v1.store.search(
            "docs_v1", query, 6, {"collection": "docs_v1"}) if h["score"] >= 0.5][:3]

        # Re-indexing a file deletes its old chunks by id; removing one deletes by filter.
        old = [id for id, _ in v1.chunks(folder / "rome.txt")]
        v1.store.delete("docs_v1", old + ["never-written"])
        v2.remove(folder / "paris.txt")
        assert set(every_row(db, "docs_v1")) == set(sent_rows(v1, folder)) - set(old)
        assert {m["source_path"] for m in every_row(db, "docs_v2").values()} == {
            str((folder / "rome.txt").resolve()), str((folder / "notes/berlin.md").resolve())}

        log = bridge.log
        mine = log[log.api == "milvus"]
        assert (mine.status == 200).all(), mine[mine.status != 200].detail.tolist()
        assert list(mine.operation.value_counts().sort_index().items()) == [("delete", 2), ("search", 6),
                                                                            ("upsert", 10)]
        assert (mine.model == "store").all()


def test_a_collection_never_written_is_searched_as_no_hits(session):
    session.add("store", MemoryDatabase())
    with served(session, ["store"]) as bridge:
        answer = httpx.post(f"{bridge.url}/api/v1/search", json={"collection_name": "nothing", "vector": [1.0, 0.0],
                                                                  "top_k": 5, "metric_type": "COSINE"})
        assert (answer.status_code, answer.json()) == (200, {"results": []})
        assert "no collection 'nothing'" in bridge.log.detail.iloc[-1]


def test_a_vector_of_the_wrong_length_is_refused_naming_both_lengths(session):
    session.add("store", MemoryDatabase())
    with served(session, ["store"]) as bridge:
        client = HectorVectorStore(bridge.url)
        client.upsert("docs", "a", [1.0, 0.0, 0.0], {"content": "x"})
        for call in (lambda: client.upsert("docs", "b", [1.0, 0.0], {"content": "y"}),
                     lambda: client.search("docs", [1.0] * 5, 3)):
            with pytest.raises(VectorStoreError) as caught:
                call()
            assert caught.value.status == 400
            assert "3-dimensional" in caught.value.body and ("has 2 values" in caught.value.body
                                                            or "has 5 values" in caught.value.body)
        # A collection the bridge has not seen yet: the database's own refusal, still a 400.
        session.database("store").upsert("made_here", "z", [1.0, 2.0])
        with pytest.raises(VectorStoreError) as caught:
            client.upsert("made_here", "b", [1.0, 0.0, 0.0], {})
        assert caught.value.status == 400 and "3 values" in caught.value.body and "2-dimensional" in caught.value.body
        assert [r.id for r in session.database("store").search("docs", [1.0, 0.0, 0.0], 5)] == ["a"]


class FailingDatabase(MemoryDatabase):
    """A memory database whose writes fail, as a full disk would make them."""

    def upsert(self, collection, id, vector, metadata):
        raise OSError("disk full")


def test_a_provider_failure_is_a_500_with_its_message_and_nothing_is_half_written(session):
    session.add("store", FailingDatabase())
    with served(session, ["store"]) as bridge:
        with pytest.raises(VectorStoreError) as caught:
            HectorVectorStore(bridge.url).upsert("docs", "a", [1.0, 0.0], {"content": "x"})
        assert caught.value.status == 500 and "disk full" in caught.value.body
        # The collection created for the refused upsert is gone again.
        assert session.database("store").provider._collections == {}
        assert HectorVectorStore(bridge.url).search("docs", [1.0, 0.0], 3) == []


def test_several_databases_are_told_apart_by_a_prefix(session):
    session.add("first", MemoryDatabase())
    session.add("second", MemoryDatabase())
    with served(session, ["first", "second"]) as bridge:
        client = HectorVectorStore(bridge.url)
        client.upsert("docs", "a", [1.0, 0.0], {"content": "in first"})
        client.upsert("second/docs", "b", [0.0, 1.0], {"content": "in second"})
        client.upsert("elsewhere/docs", "c", [0.0, 1.0], {"content": "not a served database: first's collection"})
        assert [r.id for r in session.database("first").search("docs", [1.0, 0.0], 5)] == ["a"]
        assert [r.id for r in session.database("second").search("docs", [1.0, 0.0], 5)] == ["b"]
        assert [r.id for r in session.database("first").search("elsewhere/docs", [1.0, 0.0], 5)] == ["c"]
        assert [h["id"] for h in client.search("second/docs", [0.0, 1.0], 5)] == ["b"]
        listed = httpx.get(f"{bridge.url}/api/v1/collections").json()["collections"]
        assert sorted(listed) == ["docs", "elsewhere/docs", "second/docs"]


def test_collections_can_be_created_described_and_dropped(session):
    session.add("store", MemoryDatabase())
    with served(session, ["store"]) as bridge:
        url = f"{bridge.url}/api/v1/collections"
        assert httpx.get(f"{url}/docs").status_code == 404
        create = {"collection_name": "docs", "dimension": 3, "metric_type": "COSINE"}
        assert httpx.post(url, json=create).status_code == 200
        assert httpx.post(url, json=create).status_code == 200  # the same again: nothing to do
        assert httpx.post(url, json={**create, "dimension": 4}).status_code == 409
        assert httpx.get(f"{url}/docs").json() == {"collection_name": "docs", "dimension": 3}
        assert httpx.request("DELETE", f"{url}/docs").status_code == 200
        assert httpx.request("DELETE", f"{url}/docs").status_code == 404
        assert httpx.post(url, json={**create, "dimension": 0}).status_code == 400


def test_a_delete_by_filter_needs_the_collections_vector_length(session):
    session.add("store", MemoryDatabase())
    session.database("store").upsert("made_here", "a", [1.0, 2.0], {"path": "x"})
    with served(session, ["store"]) as bridge:
        client = HectorVectorStore(bridge.url)
        with pytest.raises(VectorStoreError) as caught:
            client.delete_by_filter("made_here", {"path": "x"})
        assert caught.value.status == 409 and "search it once, or delete by ids" in caught.value.body
        client.search("made_here", [1.0, 0.0], 1)  # now the bridge knows: 2 values
        client.delete_by_filter("made_here", {"path": "x"})
        assert session.database("store").search("made_here", [1.0, 0.0], 5) == []


@pytest.mark.parametrize("method, path, body, words", [
    ("POST", "/api/v1/entities", b"{not json", "not JSON"),
    ("POST", "/api/v1/entities", b"[]", "not an object"),
    ("POST", "/api/v1/entities", b'{"data": [{"id": "a", "vector": [1]}]}', "collection_name"),
    ("POST", "/api/v1/search", b'{"collection_name": "c", "vector": [1], "expr": "a = b"}', "key == \\\"value\\\""),
    ("POST", "/api/v1/search", b'{"collection_name": "c", "vector": [1], "top_k": 0}', "top_k"),
    ("POST", "/api/v1/search", b'{"collection_name": "c"}', "vector must be"),
    ("DELETE", "/api/v1/entities", b'{"collection_name": "c"}', "ids"),
])
def test_requests_hector_never_sends_are_400s_saying_why(session, method, path, body, words):
    session.add("store", MemoryDatabase())
    with served(session, ["store"]) as bridge:
        answer = httpx.request(method, f"{bridge.url}{path}", content=body)
        assert answer.status_code == 400 and words in answer.text


def test_no_database_served_is_a_404_saying_so(session):
    with served(session, ["hashing"]) as bridge:
        answer = httpx.post(f"{bridge.url}/api/v1/search", json={"collection_name": "c", "vector": [1.0]})
        assert answer.status_code == 404 and "serves no vector database" in answer.json()["error"]


def test_scores_hector_would_drop_are_warned_once_and_logged(session):
    session.add("store", MemoryDatabase())
    session.database("store").initialize({"metric": "dot"})  # a dot product: no bound, so -7 here
    hector.forget_warnings("store")
    with served(session, ["store"]) as bridge:
        client = HectorVectorStore(bridge.url)
        client.upsert("docs", "a", [3.0, 4.0], {"content": "far"})
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            for _ in range(2):
                assert [h["score"] for h in client.search("docs", [-1.0, -1.0], 3)] == [-7.0]
        causes = [w.message.cause for w in caught if isinstance(w.message, hector.HectorFidelityWarning)]
        assert causes == [hector.CAUSE_SEARCH_THRESHOLD, hector.CAUSE_SCORE_RANGE]
        assert "not cosine similarities" in bridge.log.detail.iloc[-1] and "threshold 0.5" in bridge.log.detail.iloc[-1]


def test_tls_serves_hector_v1_with_a_certificate_made_on_the_fly(session, folder):
    session.add("store", MemoryDatabase())
    with served(session, ["store"], tls=True) as bridge:
        assert bridge.url.startswith("https://127.0.0.1:")
        assert Path(bridge.ca_certificate).read_text().startswith("-----BEGIN CERTIFICATE-----")
        client = HectorVectorStore(bridge.url, ca_certificate=bridge.ca_certificate)
        client.upsert("docs", "a", [1.0, 0.0], {"content": "over TLS"})
        assert [h["content"] for h in client.search("docs", [1.0, 0.0], 1)] == ["over TLS"]
        with pytest.raises(httpx.ConnectError, match="CERTIFICATE_VERIFY_FAILED"):
            httpx.get(f"{bridge.url}/api/v1/collections")  # the system's trust store does not know it
        trusting = ssl.create_default_context(cafile=bridge.ca_certificate)
        assert httpx.get(f"{bridge.url}/api/v1/collections", verify=trusting).status_code == 200
        directory = Path(bridge.ca_certificate).parent
    assert not directory.exists()


@pytest.mark.parametrize("transport", ["in-kernel", "subprocess"])
def test_concurrent_first_upserts_create_the_collection_once_and_all_arrive(session, transport):
    session.load("builtin:memory", name="store", transport=transport)
    with served(session, ["store"]) as bridge:
        client = HectorVectorStore(bridge.url)
        ids = [f"chunk-{n}" for n in range(24)]
        with ThreadPoolExecutor(8) as pool:
            list(pool.map(lambda id: client.upsert("fresh", id, [1.0, float(len(id))], {"content": id}), ids))
        assert sorted(every_row(session.database("store"), "fresh", 2)) == sorted(ids)
        created = [d for d in bridge.log.detail if "collection created" in d]
        assert len(created) == 1


class StrictDatabase(MemoryDatabase):
    """A memory database that, like many real ones, writes only into collections created first."""

    def upsert(self, collection, id, vector, metadata):
        self._get(collection)  # "no collection ...; create it first"
        super().upsert(collection, id, vector, metadata)


def test_a_database_that_needs_create_collection_gets_one_even_after_the_notebook_drops_it(session):
    session.add("store", StrictDatabase())
    db = session.database("store")
    with served(session, ["store"]) as bridge:
        client = HectorVectorStore(bridge.url)
        client.upsert("docs", "a", [1.0, 0.0], {"content": "first"})
        db.delete_collection("docs")
        client.upsert("docs", "b", [0.0, 1.0], {"content": "after the drop"})
        assert [r.id for r in db.search("docs", [0.0, 1.0], 5)] == ["b"]
        assert sum("collection created" in d for d in bridge.log.detail) == 2
