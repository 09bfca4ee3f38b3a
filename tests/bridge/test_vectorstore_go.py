"""A database plugin built in Go (go-plugin, tests/interop/go/cmd/memdb) as Hector's vector store, through the bridge.

The Go plugin writes only into collections created first, as many real databases do:
the bridge creates one on the first upsert that reaches it, as Hector never does.
"""

from __future__ import annotations

import shutil

import pytest
from go_binaries import go_binaries

from hector_nb import Session
from hector_nb.bridge.simulated_hector import HectorDocumentStore, HectorVectorStore
from hector_nb.manifest import PluginManifest, write_manifest
from hector_nb.providers import HashingEmbedder

pytestmark = [pytest.mark.timeout(900), pytest.mark.slow]


def test_hector_document_stores_index_into_a_go_plugin(tmp_path):
    executable = tmp_path / "memdb"
    shutil.copy(go_binaries() / "memdb", executable)
    write_manifest(PluginManifest(name="go-memdb", version="1.0.0", type="database_provider"), executable)
    folder = tmp_path / "docs"
    folder.mkdir()
    (folder / "a.txt").write_text("Paris is the capital of France.\n\nRome is the capital of Italy.")
    with Session(timeout=30) as session:
        db = session.load(str(executable))
        session.add("hashing", HashingEmbedder())
        embed = session.embedder("hashing").embed
        with session.serve(["go-memdb"]) as bridge:
            client = HectorVectorStore(bridge.url)
            for version in (1, 2):
                docs = HectorDocumentStore(f"docs_v{version}", folder, client, lambda t: embed(t).tolist(),
                                           version=version)
                assert docs.index() == 2 and docs.errors == 0
                seen = {r.id: r.metadata["content"] for r in db.search(docs.collection, embed("capital"), 10)}
                assert sorted(seen) == sorted(id for id, _ in docs.chunks(folder / "a.txt"))
                query = embed("Paris is the capital of France.").tolist()
                through_hector = client.search(docs.collection, query, 2)
                assert [(h["id"], h["score"]) for h in through_hector] == [
                    (r.id, r.score) for r in db.search(docs.collection, query, 2)]
                assert through_hector[0]["content"] == "Paris is the capital of France."
                docs.remove(folder / "a.txt")
                assert db.search(docs.collection, query, 10) == []
            assert client.search("never_written", query, 3) == []
            created = [d for d in bridge.log.detail if "collection created" in d]
            assert len(created) == 2
