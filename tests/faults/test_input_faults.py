"""Bad input from a careless caller: a clear PluginError or UsageError naming it, on every transport."""

from __future__ import annotations

import math

import grpc
import numpy as np
import pandas as pd
import pytest
from IPython.core.error import UsageError
from ipython_shell import extension_shell

import hector_nb
from hector_nb import sdk
from hector_nb.errors import InvalidInput
from hector_nb.plugin._wire import database_pb2_grpc
from hector_nb.plugin.serve import start_server
from hector_nb.providers import EchoLLM, HashingEmbedder, MemoryDatabase


@pytest.fixture
def shell():
    with extension_shell() as ip:
        yield ip
        hector_nb.session().close()


# Item 5: last write wins for repeated ids, whatever order the server handles pipelined requests in.
def test_upsert_many_keeps_the_last_write_of_a_repeated_id(session, transport):
    db = session.add("db", MemoryDatabase(), transport=transport)
    dimension, rounds = 32, 12
    db.create_collection("c", dimension)
    items = [(f"id{j}", np.eye(dimension)[j] * (r + 1), {"round": r}) for r in range(rounds) for j in range(dimension)]
    assert db.upsert_many("c", items) == dimension
    for j in range(dimension):
        hit = db.search("c", np.eye(dimension)[j], 1)[0]
        assert (hit.id, hit.metadata["round"]) == (f"id{j}", str(rounds - 1))


def test_magic_upsert_with_a_repeated_id_keeps_the_last_row(shell):
    shell.run_line_magic("hector", "load builtin:hashing")
    shell.run_line_magic("hector", "load builtin:memory --name mem --subprocess")
    shell.user_ns["rows"] = pd.DataFrame({"id": ["a"] * 100 + ["b"], "text": [f"old {i}" for i in range(99)]
                                          + ["newest words", "other"]})
    shell.run_line_magic("hector", "upsert mem docs --from rows --text-column text --embedder hashing")
    table = shell.run_line_magic("hector", 'search mem docs "newest words" --embedder hashing --top-k 1')
    assert (table["id"].iloc[0], table["content"].iloc[0]) == ("a", "newest words")


# Item 17: NaN and infinite vectors, top_k out of range, lone surrogates, text as a vector.
def test_nan_and_infinite_vectors_are_refused(session, transport):
    db = session.add("db", MemoryDatabase(), transport=transport)
    db.create_collection("c", 2)
    with pytest.raises(InvalidInput, match=r"the query vector holds NaN or infinite values \(at positions \[0\]\)"):
        db.search("c", [math.nan, 1.0], 1)
    with pytest.raises(InvalidInput, match=r"the vector of id 'x' holds NaN or infinite values"):
        db.upsert("c", "x", [1.0, math.inf])
    with pytest.raises(InvalidInput, match=r"the vector of id 'b' holds NaN"):
        db.upsert_many("c", [("a", [1.0, 0.0], {}), ("b", np.array([np.nan, 0.0]), {})])
    with pytest.raises(InvalidInput, match="the vector of id 'big' holds NaN or infinite"):
        db.upsert("c", "big", [1e39, 0.0])  # overflows float32, the wire's type
    # Finite values whose squares overflow float32 are finite still: sent, and found.
    db.upsert("c", "huge", [3e38, -3e38])
    assert [hit.id for hit in db.search("c", np.array([3e38, -3e38], dtype=np.float32), 1)] == ["huge"]


def test_the_built_in_database_refuses_nan_itself():
    db = MemoryDatabase()
    db.create_collection("c", 2)
    with pytest.raises(ValueError, match="NaN or infinite"):
        db.upsert("c", "x", [math.nan, 0.0], {})
    with pytest.raises(ValueError, match="NaN or infinite"):
        db.upsert_many("c", ["x"], [[math.inf, 0.0]], [{}])
    with pytest.raises(ValueError, match="query vector holds NaN"):
        db.search("c", [math.nan, 0.0], 1)


@pytest.mark.parametrize("top_k", [2**31, 0, -1, 2.5, True])
def test_top_k_out_of_range_is_named(session, transport, top_k):
    db = session.add("db", MemoryDatabase(), transport=transport)
    db.create_collection("c", 2)
    with pytest.raises(InvalidInput, match=r"top_k must be a whole number from 1 to 2147483647"):
        db.search("c", [1.0, 0.0], top_k)


def test_text_given_as_a_vector_is_named(session, transport):
    db = session.add("db", MemoryDatabase(), transport=transport)
    db.create_collection("c", 2)
    with pytest.raises(InvalidInput, match=r"the query vector is text \('1, 2'\)"):
        db.search("c", "1, 2", 1)
    with pytest.raises(InvalidInput, match=r"the vector of id 'a' is not a list of numbers"):
        db.upsert("c", "a", [1.0, "x"])


def test_lone_surrogates_are_named(session, transport):
    embedder = session.add("embedder", HashingEmbedder(), transport=transport)
    llm = session.add("llm", EchoLLM(), transport=transport)
    db = session.add("db", MemoryDatabase(), transport=transport)
    with pytest.raises(InvalidInput, match=r"the text holds '\\ud800' at position 1, a lone surrogate"):
        embedder.embed("a\ud800b")
    with pytest.raises(InvalidInput, match=r"text 1 holds '\\udc00'"):
        embedder.embed_many(["fine", "\udc00"])
    with pytest.raises(InvalidInput, match="the prompt, system text or tools holds"):
        llm.generate("hi \ud83d")
    with pytest.raises(InvalidInput, match="the id, collection or metadata of id 'a'"):
        db.upsert("c", "a", [1.0], {"title": "\ud800"})
    with pytest.raises(InvalidInput, match=r"text 0 is float nan, not text"):
        embedder.embed_many([math.nan])


def test_magic_upsert_refuses_a_list_nan_cells_and_an_empty_frame(shell):
    shell.run_line_magic("hector", "load builtin:hashing")
    shell.run_line_magic("hector", "load builtin:memory --name mem")
    shell.user_ns["texts"] = ["a", "b"]
    with pytest.raises(UsageError, match="--from texts: the frame is a list, not a pandas DataFrame"):
        shell.run_line_magic("hector", "upsert mem docs --from texts --text-column text --embedder hashing")
    shell.user_ns["holes"] = pd.DataFrame({"text": ["a", None, math.nan]})
    with pytest.raises(UsageError, match=r"column 'text' has 2 empty \(NaN\) cell\(s\), at rows \[1, 2\]"):
        shell.run_line_magic("hector", "upsert mem docs --from holes --text-column text --embedder hashing")
    # Item 18: an empty frame says so (it used to say "vector_size must be positive, got 0").
    shell.user_ns["nothing"] = pd.DataFrame({"text": []})
    with pytest.raises(UsageError, match="--from nothing: the DataFrame is empty"):
        shell.run_line_magic("hector", "upsert mem docs --from nothing --text-column text --embedder hashing")


class Permissive(sdk.DatabaseProvider):
    """Stores whatever it is given: the servicer, not the provider, must stop a NaN vector."""

    def __init__(self):
        self.stored = []

    def upsert(self, collection, id, vector, metadata):
        self.stored.append(vector)

    def search(self, collection, vector, top_k):
        return []


def test_a_plugin_refuses_nan_from_any_host_whatever_its_provider():
    provider = Permissive()
    server = start_server(provider)
    channel = grpc.insecure_channel(server.address)
    try:
        stub = database_pb2_grpc.DatabaseProviderStub(channel)  # as Hector calls it: no client-side check
        reply = stub.Upsert(sdk.UpsertRequest(collection="c", id="x", vector=[math.nan, 1.0]), timeout=30)
        assert (reply.success, reply.error) == (False, "ValueError: vector holds NaN or infinite values; fix or "
                                                       "drop it")
        found = stub.Search(sdk.SearchRequest(collection="c", vector=[math.inf], top_k=1), timeout=30)
        assert "the query vector holds NaN or infinite values" in found.error
        assert provider.stored == []
    finally:
        channel.close()
        server.stop()


def test_vectors_of_the_wrong_shape_and_fields_of_the_wrong_type_are_named(session, transport):
    db = session.add("db", MemoryDatabase(), transport=transport)
    db.create_collection("c", 2)
    with pytest.raises(InvalidInput, match=r"the query vector must be one row of numbers; got an array of shape "
                                           r"\(1, 2\)"):
        db.search("c", [[1.0, 0.0]], 1)
    with pytest.raises(InvalidInput, match=r"the id, collection or metadata of id 'a' cannot be sent"):
        db.upsert(5, "a", [1.0, 0.0])
