"""The config lines printed for served databases, ``--tls`` in the magic and on the command line, and rows
written by ``%hector upsert`` as Hector's searches see them."""

from __future__ import annotations

import os
import queue
import re
import signal
import subprocess
import sys
import threading
from pathlib import Path

import pandas
import pytest
import yaml
from ipython_shell import extension_shell

import hector_nb
from hector_nb.bridge.simulated_hector import HectorDocumentStore, HectorVectorStore
from hector_nb.providers import HashingEmbedder, MemoryDatabase

ROOT = Path(__file__).resolve().parents[2]


def entries(text: str, version: str) -> dict:
    """The config entries of the ``Hector vN:`` lines of ``text``, merged section by section."""
    merged: dict = {}
    for line in text.splitlines():
        if line.startswith(f"  Hector {version}:"):
            entry = yaml.safe_load(line.split(":", 1)[1].split("   (", 1)[0])
            for section, values in entry.items():
                merged.setdefault(section, {}).update(values)
    return merged


def test_a_plain_bridge_prints_hector_v2_vector_and_document_stores(session):
    session.add("store", MemoryDatabase())
    session.add("other", MemoryDatabase())
    with session.serve(["store", "other", "hashing"]) as bridge:
        text = bridge.describe()
    port = int(bridge.url.rsplit(":", 1)[1])
    assert text.startswith("Serving store (vector store), other (vector store) and hashing (embedder) at http://")
    v2 = entries(text, "v2")
    assert v2["vector_stores"] == {name: {"type": "milvus", "host": "127.0.0.1", "port": port}
                                   for name in ("store", "other")}
    assert v2["document_stores"]["store_docs"] == {"source": {"type": "directory", "path": "DIR"},
                                                   "vector_store": "store", "embedder": "hashing",
                                                   "collection": "docs", "watch": False}
    assert v2["document_stores"]["store_notebook"]["source"] == {"type": "collection", "collection": "COLLECTION"}
    assert v2["document_stores"]["other_docs"]["collection"] == "other/docs"
    assert "vector_stores" not in entries(text, "v1") and "serve it from a bridge with --tls" in text


def test_a_tls_bridge_prints_hector_v1_entries_with_its_certificate(session):
    session.add("store", MemoryDatabase())
    with session.serve("store", tls=True) as bridge:
        v1 = entries(bridge.describe(), "v1")
        assert v1["vector_stores"]["store"]["enable_tls"] is True
        assert v1["vector_stores"]["store"]["ca_certificate"] == bridge.ca_certificate
        assert Path(bridge.ca_certificate).is_file()
        assert v1["document_stores"]["store_docs"]["vector_store"] == "store"
        assert "needs plain HTTP" in bridge.describe()


def test_the_magic_serves_tls_and_prints_the_certificate(capsys):
    with extension_shell() as shell:
        session = hector_nb.session()
        session.add("store", MemoryDatabase())
        shell.run_line_magic("hector", "serve store --tls")
        [bridge] = session.bridges
        printed = capsys.readouterr().out
        assert bridge.url.startswith("https://") and f"ca_certificate: {bridge.ca_certificate}" in printed
        HectorVectorStore(bridge.url, ca_certificate=bridge.ca_certificate).upsert("docs", "a", [1.0], {})
        shell.run_line_magic("hector", "serve --stop")


def _lines(stream, into: queue.Queue) -> None:
    for line in stream:
        into.put(line)
    into.put(None)


@pytest.mark.timeout(180)
def test_the_command_line_serves_a_database_over_tls_to_hector_v1(tmp_path):
    (tmp_path / "a.txt").write_text("Paris is the capital of France.\n\nRome is the capital of Italy.")
    command = [sys.executable, "-m", "hector_nb", "serve", "builtin:memory", "--tls"]
    process = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, cwd=tmp_path,
                               env={**os.environ, "PYTHONPATH": str(ROOT)})
    lines: queue.Queue = queue.Queue()
    threading.Thread(target=_lines, args=(process.stdout, lines), daemon=True).start()
    try:
        printed = ""
        while "Ctrl-C stops" not in printed:
            line = lines.get(timeout=120)
            assert line is not None, f"serve ended early: {printed}{process.stderr.read()}"
            printed += line
        url = re.search(r"at (https://127\.0\.0\.1:\d+)", printed)[1]
        ca = re.search(r"ca_certificate: ([^,}]+)", printed)[1]
        embedder = HashingEmbedder()
        embedder.initialize({})
        docs = HectorDocumentStore("docs", tmp_path, HectorVectorStore(url, ca_certificate=ca),
                                   lambda text: embedder.embed(text).tolist(), version=1)
        assert docs.index() == 2 and docs.errors == 0
        assert [hit["content"] for hit in docs.search("Paris is the capital of France.", 1)] == [
            "Paris is the capital of France."]
    finally:
        process.send_signal(signal.SIGINT)
        assert process.wait(timeout=60) == 0
    assert not Path(ca).exists()


def test_rows_the_notebook_upserts_show_in_hector_v1_and_v2_searches():
    with extension_shell() as shell:
        session = hector_nb.session()
        session.add("store", MemoryDatabase())
        session.add("hashing", HashingEmbedder())
        shell.user_ns["notes"] = pandas.DataFrame({
            "content": ["The Loire valley is famous for its castles.", "Venice is built on islands."],
            "path": ["notes/loire.md", "notes/venice.md"],
            "collection": ["travel", "travel"], "store_name": ["travel", "travel"]})
        shell.run_line_magic("hector", "upsert store travel --from notes --text-column content --embedder hashing")
        bridge = session.serve("store")
        embedder = session.embedder("hashing")
        for version in (1, 2):
            travel = HectorDocumentStore("travel", Path("."), HectorVectorStore(bridge.url),
                                         lambda text: embedder.embed(text).tolist(), version=version)
            [hit] = travel.search("The Loire valley is famous for its castles.", limit=1)
            assert (hit["content"], hit["path"]) == ("The Loire valley is famous for its castles.", "notes/loire.md")
        # Without store_name, Hector v1's search tool drops the row; v2 keeps it.
        shell.user_ns["bare"] = pandas.DataFrame({"content": ["Castles of the Loire valley."], "collection": ["bare"]})
        shell.run_line_magic("hector", "upsert store bare --from bare --text-column content --embedder hashing")
        query = "Castles of the Loire valley."
        v1 = HectorDocumentStore("bare", Path("."), HectorVectorStore(bridge.url),
                                 lambda text: embedder.embed(text).tolist(), version=1)
        assert v1.search(query) == [] and v1.store.search("bare", embedder.embed(query).tolist(), 1)
