"""The built-in providers: concrete answers in-kernel, and the same answers as subprocess plugins."""

from __future__ import annotations

import json
import subprocess
import sys
import warnings

import numpy as np
import pytest

from hector_nb import Session, sdk
from hector_nb.data import LICENSE, load_corpus
from hector_nb.errors import ProviderError
from hector_nb.hector import HectorFidelityWarning
from hector_nb.providers import BUILTINS, TOYS, EchoLLM, HashingEmbedder, MemoryDatabase, builtin_plugin_path


@pytest.fixture
def session():
    with Session(timeout=20) as s:
        yield s


def test_echo_streams_word_by_word_and_calls_tools(session):
    llm = session.add("echo", EchoLLM(), config={"prefix": "You said: "})
    reply = llm.generate([{"role": "user", "content": "hello  brave new world"}])
    assert (reply.text, reply.tokens_used) == ("You said: hello  brave new world", 6)
    chunks = list(llm.stream("hello  brave new world"))
    texts = [c.text for c in chunks if c.type == sdk.CHUNK_TYPE_TEXT]
    assert texts == ["You ", "said: ", "hello  ", "brave ", "new ", "world"]
    assert "".join(texts) == reply.text
    assert chunks[-1] == sdk.StreamChunk(type=sdk.CHUNK_TYPE_DONE, tokens_used=6)
    with_tools = list(llm.stream("weather in Oslo", tools=[{"name": "weather", "parameters_json": "{}"}]))
    call = with_tools[-2]
    assert call.type == sdk.CHUNK_TYPE_TOOL_CALL and call.tool_call.name == "weather"
    assert json.loads(call.tool_call.arguments_json) == {"text": "weather in Oslo"}


@pytest.mark.parametrize("metric, expected", [
    ("cosine", ["x", "far-x", "diag"]),
    ("dot", ["far-x", "x", "diag"]),
    ("euclidean", ["x", "diag", "y"]),
])
def test_memory_rankings_per_metric(session, metric, expected):
    db = session.add(f"mem-{metric}", MemoryDatabase(), config={"metric": metric})
    db.create_collection("v", 2)
    db.upsert_many("v", [("x", [1, 0], {"text": "east"}), ("y", [0, 1], None), ("diag", [0.6, 0.6], None),
                         ("far-x", [5, 0.2], None)])
    hits = db.search("v", [1, 0], top_k=3)
    assert [h.id for h in hits] == expected
    assert hits[0].score >= hits[1].score >= hits[2].score
    if metric == "cosine":
        assert hits[0].content == "east" and hits[0].score == pytest.approx(1.0)


def test_memory_replace_delete_and_errors(session):
    db = session.add("mem", MemoryDatabase())
    db.create_collection("docs", 3)
    db.upsert("docs", "a", [1, 0, 0], {"v": 1})
    db.upsert("docs", "a", [0, 1, 0], {"v": 2})
    hits = db.search("docs", [0, 1, 0], 5)
    assert [(h.id, dict(h.metadata)) for h in hits] == [("a", {"v": "2"})]
    for i in range(40):  # past the initial capacity
        db.upsert("docs", f"n{i}", [1, i, 0])
    db.delete("docs", "a")
    assert "a" not in {h.id for h in db.search("docs", [0, 1, 0], 100)}
    assert len(db.search("docs", [0, 1, 0], 100)) == 40
    with pytest.raises(ProviderError, match="holds 3-dimensional vectors, got 2"):
        db.upsert("docs", "b", [1, 2])
    with pytest.raises(ProviderError, match=r"no collection 'nope'; create it first with create_collection "
                                            r"\(known: docs\)"):
        db.search("nope", [1, 0, 0], 1)
    with pytest.raises(ProviderError, match="unknown metric 'manhattan'"):
        session.add("bad", MemoryDatabase(), config={"metric": "manhattan"})


def test_hashing_is_deterministic_across_processes(session):
    emb = session.add("hash", HashingEmbedder(), config={"dimension": "64"})
    here = emb.embed("The quick brown fox")
    script = ("from hector_nb.providers import HashingEmbedder; e = HashingEmbedder(); "
              "e.initialize({'dimension': '64'}); print(list(map(float, e.embed('The quick brown fox'))))")
    there = json.loads(subprocess.run([sys.executable, "-c", script], capture_output=True, text=True,
                                      check=True, timeout=60).stdout)
    assert here.shape == (64,) and np.allclose(here, there)
    assert np.linalg.norm(here) == pytest.approx(1.0)
    assert emb.info() == sdk.EmbedderInfo(model_name="hashing-64", dimension=64)


def test_search_over_the_shipped_corpus_finds_the_right_document(session):
    corpus = load_corpus()
    assert len(corpus) >= 300 and set(corpus.columns) == {"id", "title", "module", "text"}
    assert "Python Software Foundation" in LICENSE.read_text()
    emb = session.add("hash", HashingEmbedder())
    db = session.add("mem", MemoryDatabase())
    db.create_collection("docs", 256)
    vectors = emb.embed_many(corpus.text)
    db.upsert_many("docs", [(row.id, vec, {"text": row.text}) for row, vec in zip(corpus.itertuples(), vectors,
                                                                                      strict=True)])
    target = corpus.set_index("id").loc["shutil.copyfile", "text"]
    hits = db.search("docs", emb.embed(target), top_k=3)
    assert hits[0].id == "shutil.copyfile" and hits[0].score == pytest.approx(1.0, abs=1e-5)
    paraphrase = db.search("docs", emb.embed("efficiently copy data from src to dst"), top_k=3)
    assert "shutil.copyfile" in [h.id for h in paraphrase]


@pytest.mark.parametrize("name", TOYS)  # the real engines have their own tests
def test_builtins_run_as_subprocess_plugins(session, name):
    launcher = builtin_plugin_path(name)
    assert launcher.with_name(f"{name}.plugin.yaml").exists()
    # The launcher itself, as Hector starts it: Hector sends no defaults, but the SDK behind the launcher
    # applies them, so loading a built-in with its defaults warns of nothing.
    with warnings.catch_warnings():
        warnings.simplefilter("error", HectorFidelityWarning)
        by_launcher = session.load(launcher, name=f"{name}-sub")
    in_kernel = session.add(f"{name}-kernel", BUILTINS[name]())
    assert by_launcher.pid and by_launcher.manifest.name == name
    if name == "echo":
        assert by_launcher.generate("a b").text == in_kernel.generate("a b").text == "a b"
    elif name == "hashing":
        assert np.allclose(by_launcher.embed("same text"), in_kernel.embed("same text"))
    else:
        for db in (by_launcher, in_kernel):
            db.create_collection("c", 2)
            db.upsert("c", "p", [1, 0])
        assert by_launcher.search("c", [1, 0], 1)[0].id == in_kernel.search("c", [1, 0], 1)[0].id == "p"


def test_builtin_names_load_through_the_session(session):
    llm = session.load("builtin:echo", name="e", config={"prefix": "> "}, transport="in-kernel")
    assert llm.generate("x").text == "> x" and llm.transport == "in-kernel"
    sub = session.load("builtin:hashing")
    assert sub.name == "hashing" and sub.transport == "subprocess"
    with pytest.raises(Exception, match=r"no built-in provider 'nope'; choose one of builtin:echo"):
        session.load("builtin:nope")
