"""upsert_many and embed_many: batches in-kernel and over hector_nb's bulk service, per-item otherwise.

The Go plugins of tests/interop cover the per-item path a foreign plugin gets.
"""

from __future__ import annotations

import importlib.util
import threading
from pathlib import Path

import numpy as np
import pytest
from plugin_process import wait_until

from hector_nb import sdk
from hector_nb.errors import InvalidInput, ProviderError
from hector_nb.host.bulk import BATCH_ROWS
from hector_nb.providers import HashingEmbedder, MemoryDatabase

PLUGINS = Path(__file__).parent / "plugins"
_spec = importlib.util.spec_from_file_location("batch_db", PLUGINS / "batch_db.py")
batch_db = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(batch_db)


class Recorder(batch_db.BatchDB):
    """BatchDB that also records the thread of every call (in-kernel calls are function calls)."""

    threads: set[int]

    def upsert_many(self, collection, ids, vectors, metadata):
        self.threads = getattr(self, "threads", set()) | {threading.get_ident()}
        self.batches = [*getattr(self, "batches", []), (len(ids), vectors.dtype, vectors.shape)]
        super().upsert_many(collection, ids, vectors, metadata)


class PerItem(sdk.DatabaseProvider):
    """No upsert_many: hector_nb falls back to one upsert per item, vectors as lists."""

    def initialize(self, config):
        self.calls = []

    def create_collection(self, collection, vector_size):
        pass

    def upsert(self, collection, id, vector, metadata):
        self.calls.append((id, vector, metadata))


class Words(sdk.EmbedderProvider):
    def __init__(self):
        self.batches = []

    def embed(self, text):
        return [float(len(text)), 1.0]

    def embed_many(self, texts):
        self.batches.append(len(texts))
        return np.array([self.embed(t) for t in texts], dtype=np.float32)


def items(count: int, dimension: int = 3):
    rows = np.arange(count * dimension, dtype=np.float32).reshape(count, dimension)
    return [(f"id{i}", rows[i], {"n": i}) for i in range(count)]


def test_in_kernel_upsert_many_is_batches_of_the_provider_in_the_callers_thread(session):
    provider = Recorder()
    db = session.add("rec", provider)
    assert db.upsert_many("c", items(2 * BATCH_ROWS + 5)) == 2 * BATCH_ROWS + 5
    assert provider.batches == [(BATCH_ROWS, np.float32, (BATCH_ROWS, 3))] * 2 + [(5, np.float32, (5, 3))]
    assert provider.threads == {threading.get_ident()}
    assert provider.rows["id7"] == ([21.0, 22.0, 23.0], {"n": "7"})


def test_a_repeated_id_is_written_once_with_its_last_item_on_every_path(session, install):
    loaded = session.load(install("batch_db.py", "batchdb", "database_provider"))
    for db in (session.add("mem", MemoryDatabase()), loaded):
        db.create_collection("c", 2)
        written = db.upsert_many("c", [("a", [1, 0], {"v": "1"}), ("b", [0, 1], None), ("a", [0, 3], {"v": "3"})])
        assert written == 2
        hits = db.search("c", [0, 1], 5)
        assert [(h.id, dict(h.metadata)) for h in hits][0] == ("a", {"v": "3"})


def test_without_upsert_many_each_item_is_one_upsert_with_a_list(session):
    provider = PerItem()
    db = session.add("per-item", provider)
    db.upsert_many("c", [("a", np.array([1.5, 2]), {"flag": True}), ("b", [3, 4], None)])
    assert provider.calls == [("a", [1.5, 2.0], {"flag": "true"}), ("b", [3.0, 4.0], {})]
    assert all(type(x) is float for _, vector, _ in provider.calls for x in vector)


def test_an_sdk_plugin_gets_batches_over_the_bulk_service(session, install):
    db = session.load(install("batch_db.py", "batchdb", "database_provider"))
    assert db.upsert_many("c", items(BATCH_ROWS + 1)) == BATCH_ROWS + 1
    # The plugin's stderr reaches the log over the GRPCStdio stream, which may lag the answer.
    expected = (f"upsert_many {BATCH_ROWS} ndarray ({BATCH_ROWS}, 3)", "upsert_many 1 ndarray (1, 3)")
    assert wait_until(lambda: all(line in "".join(db.logs()) for line in expected), 30), db.logs()
    log = "".join(db.logs())
    assert "upsert id" not in log  # no per-item call
    assert db.search("c", [0, 0, 1], 1)[0].id == f"id{BATCH_ROWS}"


@pytest.mark.parametrize("transport", ["in-kernel", "subprocess"])
def test_bulk_errors_name_the_plugin_and_the_item(session, install, transport):
    if transport == "subprocess":
        db = session.load(install("batch_db.py", "batchdb", "database_provider"))
    else:
        db = session.add("batchdb", batch_db.BatchDB())
    with pytest.raises(ProviderError, match=r"plugin 'batchdb', upsert_many: ValueError: refusing bad1"):
        db.upsert_many("c", [("ok", [1, 0], None), ("bad1", [0, 1], None)])
    with pytest.raises(InvalidInput, match=r"plugin 'batchdb', upsert_many: the vector of id 'n' holds NaN"):
        db.upsert_many("c", [("fine", [1, 0], None), ("n", [np.nan, 0], None)])
    with pytest.raises(InvalidInput, match=r"plugin 'batchdb', upsert_many: the vector of id 't' is text"):
        db.upsert_many("c", [("fine", [1, 0], None), ("t", "ab", None)])
    assert db.status == "ready"


@pytest.mark.parametrize("transport", ["in-kernel", "subprocess"])
def test_embed_many_uses_batches(session, transport):
    provider = HashingEmbedder() if transport == "subprocess" else Words()
    emb = session.add("emb", provider, transport=transport)
    texts = [f"text {i}" for i in range(600)]
    matrix = emb.embed_many(texts)
    assert matrix.shape[0] == 600 and matrix.dtype == np.float32
    assert np.allclose(matrix[[0, 299, 599]], [emb.embed(texts[i]) for i in (0, 299, 599)])
    if transport == "in-kernel":
        assert provider.batches == [256, 256, 88]
    assert emb.embed_many([]).shape[0] == 0


@pytest.mark.parametrize("transport", ["in-kernel", "subprocess"])
def test_bulk_input_errors_are_the_same_on_every_transport(session, transport):
    db = session.add("mem", MemoryDatabase(), transport=transport)
    db.create_collection("c", 2)
    # A vector of another length mid-batch reaches the provider in a batch of its own: its error names it.
    with pytest.raises(ProviderError, match=r"plugin 'mem', upsert_many: ValueError: collection 'c' holds "
                                            r"2-dimensional vectors, got 1 vector\(s\) of 3 values"):
        db.upsert_many("c", [("a", [1, 0], None), ("b", [1, 0, 0], None)])
    with pytest.raises(InvalidInput, match=r"plugin 'mem', upsert_many: the vector of id 'n' is int, not a list"):
        db.upsert_many("c", [("a", [1, 0], None), ("n", 5, None)])
    with pytest.raises(InvalidInput, match=r"plugin 'mem', upsert_many: the id or metadata of id 's' holds "
                                           r"'\\udc80', a lone surrogate"):
        db.upsert_many("c", [("a", [1, 0], None), ("s", [0, 1], {"note": "bad \udc80"})])
    assert [h.id for h in db.search("c", [1, 0], 5)] == ["a"]  # the batches before each bad one were written


@pytest.mark.parametrize("transport", ["in-kernel", "subprocess"])
def test_embed_many_returning_too_few_vectors_is_a_provider_error(session, install, transport):
    if transport == "subprocess":
        emb = session.load(install("short_embedder.py", "short", "embedder_provider"))
    else:
        spec = importlib.util.spec_from_file_location("short_embedder", PLUGINS / "short_embedder.py")
        module = importlib.util.module_from_spec(spec)
        spec.loader.exec_module(module)
        emb = session.add("short", module.ShortEmbedder())
    said = {"in-kernel": r"3 texts, but the embeddings have shape \(2, 2\); return one vector per text",
            "subprocess": "embed_many returned 2 vectors for 3 texts"}[transport]
    with pytest.raises(ProviderError, match=rf"plugin 'short', embed_many: {said}"):
        emb.embed_many(["a", "bb", "ccc"])
