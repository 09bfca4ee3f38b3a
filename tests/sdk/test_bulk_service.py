"""hector_nb's bulk services (proto/bulk.proto) in real SDK plugin processes, dialled with the raw stubs.

These plugins have no ``upsert_many`` / ``embed_many``: every batch goes through the
per-item fallback, which must keep the order (the last write of a repeated id wins).
"""

from __future__ import annotations

import grpc
import numpy as np
import pytest

from hector_nb import sdk
from hector_nb.plugin._wire import bulk_pb2, bulk_pb2_grpc, database_pb2_grpc, embedder_pb2_grpc


def batch(ids: list[str], rows: list[list[float]], metadata: list[dict[str, str]] | None = None
          ) -> bulk_pb2.UpsertBatch:
    return bulk_pb2.UpsertBatch(
        collection="docs", ids=ids, dimension=len(rows[0]), vectors=np.asarray(rows, dtype="<f4").tobytes(),
        metadata=[bulk_pb2.Metadata(entries=m) for m in metadata or []])


@pytest.fixture
def database(start_plugin):
    channel = start_plugin("memory_db.py").channel
    stub = database_pb2_grpc.DatabaseProviderStub(channel)
    assert stub.Initialize(sdk.InitializeRequest()).success
    assert stub.CreateCollection(sdk.CreateCollectionRequest(collection="docs", vector_size=2)).success
    return stub, bulk_pb2_grpc.BulkDatabaseStub(channel)


def test_batches_apply_in_order_and_the_last_write_wins(database):
    stub, bulk = database
    acks = list(bulk.UpsertBatches(iter([
        batch(["a", "b", "a"], [[1, 0], [0, 1], [0.5, 0.5]], [{"text": "first"}, {}, {"text": "last"}]),
        batch(["b", "c"], [[0, 2], [3, 3]]),
    ]), timeout=30))
    assert [(a.upserted, a.error) for a in acks] == [(3, ""), (2, "")]
    found = stub.Search(sdk.SearchRequest(collection="docs", vector=[1, 1], top_k=5))
    assert {r.id: (list(r.vector) or None, r.score) for r in found.results} == {
        "c": (None, 6.0), "b": (None, 2.0), "a": (None, 1.0)}
    assert [(r.content, dict(r.metadata)) for r in found.results if r.id == "a"] == [("last", {"text": "last"})]


def test_the_first_failing_batch_ends_the_stream_with_the_provider_error(database):
    stub, bulk = database
    acks = list(bulk.UpsertBatches(iter([
        batch(["a"], [[1, 0]]),
        batch(["bad"], [[1, 2, 3]]),
        batch(["never"], [[0, 1]]),
    ]), timeout=30))
    assert [(a.upserted, a.error) for a in acks] == [(1, ""), (0, "ValueError: expected 2 dimensions, got 3")]
    found = stub.Search(sdk.SearchRequest(collection="docs", vector=[1, 1], top_k=5))
    assert [r.id for r in found.results] == ["a"]


def test_an_empty_stream_is_the_probe_and_a_malformed_batch_is_refused(database):
    _, bulk = database
    assert list(bulk.UpsertBatches(iter([]), timeout=30)) == []
    short = bulk_pb2.UpsertBatch(collection="docs", ids=["a", "b"], dimension=2, vectors=b"\0" * 12)
    [ack] = bulk.UpsertBatches(iter([short]), timeout=30)
    assert ack.error == "malformed batch: 2 ids of dimension 2 need 16 bytes of vectors, got 12"
    uneven = batch(["a", "b"], [[1, 0], [0, 1]], [{"text": "only one"}])
    [ack] = bulk.UpsertBatches(iter([uneven]), timeout=30)
    assert ack.error == "malformed batch: 2 ids but 1 metadata entries"


def test_embed_batch_equals_embed_per_text(start_plugin):
    channel = start_plugin("counting_embedder.py").channel
    stub, bulk = embedder_pb2_grpc.EmbedderProviderStub(channel), bulk_pb2_grpc.BulkEmbedderStub(channel)
    assert stub.Initialize(sdk.InitializeRequest()).success
    assert bulk.EmbedBatch(bulk_pb2.EmbedBatchRequest(), timeout=30) == bulk_pb2.EmbedBatchResponse()
    texts = ["abacab", "", "ccc"]
    reply = bulk.EmbedBatch(bulk_pb2.EmbedBatchRequest(texts=texts), timeout=30)
    rows = np.frombuffer(reply.vectors, dtype="<f4").reshape(len(texts), reply.dimension)
    assert rows.tolist() == [list(stub.Embed(sdk.EmbedRequest(text=t)).vector) for t in texts]


def test_llm_plugins_do_not_offer_the_bulk_services(start_plugin):
    bulk = bulk_pb2_grpc.BulkDatabaseStub(start_plugin("echo_llm.py").channel)
    with pytest.raises(grpc.RpcError) as raised:
        list(bulk.UpsertBatches(iter([]), timeout=30))
    assert raised.value.code() == grpc.StatusCode.UNIMPLEMENTED
