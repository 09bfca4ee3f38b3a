"""evaluate(): two databases on every transport, a sweep, the recall-vs-QPS plot, and its errors."""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap

import numpy as np
import pandas as pd
import pytest
from extras import require

from hector_nb import Session
from hector_nb.data import STDLIB_QRELS
from hector_nb.datasets import Dataset, load_beir
from hector_nb.errors import DatasetError, ProviderError, WrongPluginType
from hector_nb.evaluation import evaluate, judge, plot
from hector_nb.ingest import upsert_frame
from hector_nb.providers import HashingEmbedder, MemoryDatabase

#: What Hector keeps of each ranking (its search.threshold applied) beside the raw ranking's measures.
HECTOR_COLUMNS = ["hector_ndcg@10", "hector_recall@10", "hector_mrr@10", "hector_dropped"]
COLUMNS = ["ndcg@10", "recall@10", "mrr@10", "ref_recall@10", *HECTOR_COLUMNS, "p50_ms", "p95_ms", "qps"]


@pytest.fixture(scope="module")
def dataset() -> Dataset:
    return load_beir(STDLIB_QRELS)


def index(db, dataset: Dataset, embedder) -> None:
    upsert_frame(db, "docs", dataset.corpus, text_column="text", embedder=embedder, create=True)


def exact_ranking(dataset: Dataset, embedder, k: int) -> dict[str, list[str]]:
    """The cosine top k of every query, by numpy here, independently of any database."""
    docs = embedder.embed_many(dataset.corpus["text"])
    docs /= np.linalg.norm(docs, axis=1, keepdims=True)
    queries = embedder.embed_many(dataset.queries["text"])
    order = np.argsort(-(queries @ docs.T), axis=1, kind="stable")[:, :k]
    ids = dataset.corpus["id"].to_numpy()
    return {query: list(ids[row]) for query, row in zip(dataset.queries["id"], order, strict=True)}


@pytest.mark.parametrize("transport", ["in-kernel", "in-process", "subprocess"])
def test_two_databases_on_every_transport(dataset, transport):
    with Session() as session:
        embedder = session.load("builtin:hashing", transport="in-kernel")
        cosine = session.load("builtin:memory", name="cosine", transport=transport)
        euclid = session.load("builtin:memory", name="euclid", config={"metric": "euclidean"}, transport=transport)
        for db in (cosine, euclid):
            index(db, dataset, embedder)
        result = evaluate(["euclid", cosine], "docs", dataset, "hashing", k=10, reference="cosine", session=session)
        frame = result.table
        expected = judge(exact_ranking(dataset, embedder, 10), dataset.qrels, 10).mean()

    assert list(frame.index) == ["cosine", "euclid"]  # the reference first
    assert list(frame.columns) == COLUMNS
    for name in frame.index:  # the hashing vectors have unit length: both metrics rank as exact cosine does
        assert frame.loc[name, ["ndcg@10", "recall@10", "mrr@10"]].tolist() == pytest.approx(
            expected.tolist(), abs=0.01)
        assert frame.loc[name, "ref_recall@10"] >= 0.99
    assert frame.loc["cosine", "ref_recall@10"] == 1.0
    assert frame.loc["cosine", "ndcg@10"] > 0.3  # real retrieval: a random ranking scores about 0.01

    per_query = result.per_query
    assert per_query.index.names == ["database", "query_id"] and len(per_query) == 2 * len(dataset.queries)
    assert list(per_query.columns) == ["ndcg@10", "recall@10", "mrr@10", "ref_recall@10", *HECTOR_COLUMNS,
                                       "latency_ms"]
    for name in frame.index:
        latency = per_query.loc[name, "latency_ms"]
        assert (latency > 0).all()
        assert frame.loc[name, "qps"] == pytest.approx(len(latency) / (latency.sum() / 1000))
        assert 0 < frame.loc[name, "p50_ms"] <= frame.loc[name, "p95_ms"] <= latency.max()
    assert result.k == 10 and result.reference == "cosine"


def test_hector_drops_hits_below_its_threshold_and_evaluate_scores_what_hector_keeps(dataset):
    with Session() as session:
        embedder = session.load("builtin:hashing")
        db = session.load("builtin:memory", name="mem")
        index(db, dataset, embedder)
        frame = evaluate(["mem"], "docs", dataset, "hashing", k=10, session=session).table
        nothing_kept = evaluate(["mem"], "docs", dataset, "hashing", k=10, threshold=1.5, session=session).table
        # By hand: each query's top 10, cut where Hector's threshold (0.5) cuts, then judged.
        vectors = embedder.embed_many(dataset.queries["text"].tolist())
        kept = {query: [hit.id for hit in db.search("docs", vector, 10) if hit.score >= 0.5]
                for query, vector in zip(dataset.queries["id"], vectors, strict=True)}
    by_hand = judge(kept, dataset.qrels, 10).mean()
    assert frame.loc["mem", ["hector_ndcg@10", "hector_recall@10", "hector_mrr@10"]].tolist() == pytest.approx(
        by_hand.tolist())
    assert frame.loc["mem", "hector_recall@10"] < frame.loc["mem", "recall@10"]  # hashing scores relevant hits < 0.5
    assert frame.loc["mem", "hector_dropped"] == pytest.approx(np.mean([10 - len(ids) for ids in kept.values()]))
    assert nothing_kept.loc["mem", "hector_recall@10"] == 0 and nothing_kept.loc["mem", "hector_dropped"] == 10


class ScaledHashing(HashingEmbedder):
    """Hashing vectors scaled by a factor that depends on the text: dot ranks differently from cosine."""

    def embed(self, text: str):
        return np.asarray(super().embed(text), dtype=np.float32) * (1 + len(text) % 5)


def test_sweep_rebuilds_per_setting_marks_the_fastest_and_restores(dataset):
    with Session() as session:
        embedder = session.add("scaled", ScaledHashing())
        exact = session.load("builtin:memory", name="exact")
        swept = session.load("builtin:memory", name="swept", config={"metric": "euclidean"})
        for db in (exact, swept):
            index(db, dataset, embedder)
        result = evaluate(["swept"], "docs", dataset, embedder, reference=exact,
                          sweep={"metric": ["cosine", "dot"]}, at_recall=0.99, session=session)
        frame = result.table

        assert list(frame.index) == ["exact", "swept metric=cosine", "swept metric=dot"]
        assert frame["plugin"].tolist() == ["exact", "swept", "swept"]
        assert frame["metric"].tolist()[1:] == ["cosine", "dot"]
        # each setting really searched under its own config
        assert frame.loc["swept metric=cosine", "ref_recall@10"] >= 0.99  # exact; ties may break apart over the wire
        assert frame.loc["swept metric=dot", "ref_recall@10"] < 0.9
        reaching = frame[frame["ref_recall@10"] >= 0.99]
        assert result.fastest_at_recall == reaching["qps"].idxmax()
        assert frame.index[frame["fastest_at_recall"]].tolist() == [result.fastest_at_recall]
        # afterwards, in the plugin process: the old config (euclidean, scored 1/(1+distance)) over the whole
        # corpus again
        assert swept.transport == "subprocess" and swept.config["metric"] == "euclidean"
        query = embedder.embed("move or rename a file")
        hits = swept.search("docs", query, 700)
        assert len(hits) == len(dataset.corpus)
        assert [hit.score for hit in hits[:3]] == pytest.approx(
            [1 / (1 + np.linalg.norm(embedder.embed(hit.content) - query)) for hit in hits[:3]], rel=1e-5)

        unreachable = evaluate(["swept"], "docs", dataset, embedder, reference=exact,
                               sweep={"metric": ["dot"]}, at_recall=1.5, session=session)
        assert unreachable.fastest_at_recall is None and not unreachable.table["fastest_at_recall"].any()


def test_usearch_sweep_of_expansion_search_trades_speed_for_recall(dataset):
    require("usearch", "usearch")
    with Session() as session:
        embedder = session.load("builtin:hashing")
        index(session.load("builtin:memory", name="exact", transport="in-kernel"), dataset, embedder)
        # A sparse graph, so that recall visibly depends on how many candidates a search visits.
        hnsw = session.load("builtin:usearch", name="hnsw", transport="in-kernel",
                            config={"connectivity": "4", "expansion_add": "8"})
        index(hnsw, dataset, embedder)
        result = evaluate(["hnsw"], "docs", dataset, "hashing", reference="exact",
                          sweep={"expansion_search": [10, 40, 160]}, at_recall=0.5, session=session)
        frame = result.table
        assert hnsw.config == {"connectivity": "4", "expansion_add": "8"}
        assert len(hnsw.search("docs", embedder.embed("parse JSON"), 700)) > 600  # rebuilt (HNSW may not reach all)
    recall = frame["ref_recall@10"]
    assert list(recall.index) == ["exact", *(f"hnsw expansion_search={n}" for n in (10, 40, 160))]
    assert frame["expansion_search"].tolist()[1:] == ["10", "40", "160"]
    assert recall.iloc[1] <= recall.iloc[2] <= recall.iloc[3] and recall.iloc[1] < recall.iloc[3]
    assert recall.iloc[1] < 0.9  # approximate: a narrow search misses neighbours the exact one finds
    assert result.fastest_at_recall == frame[recall >= 0.5]["qps"].idxmax()


def test_plot_is_drawn_without_a_display(tmp_path):
    """In a fresh interpreter with no display: a PNG, and pyplot (global figures, GUI backends) never imported."""
    out = tmp_path / "recall_qps.png"
    script = textwrap.dedent(f"""
        import sys
        from hector_nb import Session
        from hector_nb.data import STDLIB_QRELS
        from hector_nb.datasets import load_beir
        from hector_nb.evaluation import evaluate, plot
        dataset = load_beir(STDLIB_QRELS)
        with Session() as session:
            embedder = session.load("builtin:hashing")
            for name in ("exact", "swept"):
                db = session.load("builtin:memory", name=name)
                vectors = embedder.embed_many(dataset.corpus["text"])
                db.create_collection("docs", vectors.shape[1])
                db.upsert_many("docs", list(zip(dataset.corpus["id"], vectors, [None] * len(vectors))))
            frame = evaluate(["swept"], "docs", dataset, "hashing", reference="exact",
                             sweep={{"metric": ["cosine", "euclidean"]}}, at_recall=0.9, session=session)
        figure = plot(frame)
        figure.savefig({str(out)!r})
        labels = [text.get_text() for text in figure.axes[0].get_legend().get_texts()]
        print(labels, "matplotlib.pyplot" in sys.modules)
    """)
    env = {key: value for key, value in os.environ.items() if key not in ("DISPLAY", "WAYLAND_DISPLAY", "MPLBACKEND")}
    result = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, env=env, timeout=120)
    assert result.returncode == 0, result.stderr[-2000:]
    labels, pyplot = result.stdout.strip().rsplit(" ", 1)
    assert pyplot == "False"
    assert "'exact'" in labels and "'swept (metric)'" in labels and "'recall 0.9'" in labels and "fastest" in labels
    assert out.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n" and out.stat().st_size > 10_000


def test_plot_without_reference_uses_recall_against_judgements(dataset):
    with Session() as session:
        embedder = session.load("builtin:hashing")
        index(session.load("builtin:memory", name="mem"), dataset, embedder)
        result = evaluate(["mem"], "docs", dataset, "hashing", k=5, threshold=0, session=session)
        # One name is a list of one: the text "mem" is refused, as "db1,db2" would be.
        with pytest.raises(TypeError, match=r"databases is a list of names or clients, e.g. \['a', 'b'\], not the "
                                            r"text 'a,b'"):
            evaluate("a,b", "docs", dataset, "hashing", session=session)
    # threshold 0: raw only
    assert list(result.table.columns) == ["ndcg@5", "recall@5", "mrr@5", "p50_ms", "p95_ms", "qps"]
    # Shown as its table, in a notebook (HTML) and in a terminal.
    assert result._repr_html_() == result.table._repr_html_() and repr(result) == repr(result.table)
    axes = plot(result).axes[0]
    assert axes.get_xlabel() == "recall@5" and axes.get_yscale() == "log"


class CountedMemory(MemoryDatabase):
    """The memory database, counting the searches it answers."""

    searches = 0

    def search(self, collection, vector, top_k):
        self.searches += 1
        return super().search(collection, vector, top_k)


def test_repeat_searches_each_query_again_and_keeps_its_fastest_time(dataset):
    with Session() as session:
        embedder = session.load("builtin:hashing")
        counted = session.add("counted", CountedMemory())
        index(counted, dataset, embedder)
        once = evaluate(["counted"], "docs", dataset, embedder, session=session).table
        assert counted.provider.searches == 1 + len(dataset.queries)  # a warm-up, then every query once
        thrice = evaluate(["counted"], "docs", dataset, embedder, repeat=3, session=session)
        assert counted.provider.searches == 1 + len(dataset.queries) + 1 + 3 * len(dataset.queries)
        with pytest.raises(ValueError, match="repeat must be at least 1"):
            evaluate(["counted"], "docs", dataset, embedder, repeat=0, session=session)
    quality = ["ndcg@10", "recall@10", "mrr@10"]
    assert thrice.table[quality].equals(once[quality])
    assert len(thrice.per_query) == len(dataset.queries)


def test_bad_requests_fail_with_one_clear_line(dataset):
    with Session() as session:
        session.load("builtin:hashing")
        mem = session.load("builtin:memory", name="mem")
        with pytest.raises(WrongPluginType, match="plugin .hashing., evaluate: is an embedder_provider, "
                                                "but this needs a database_provider"):
            evaluate(["hashing"], "docs", dataset, "hashing", session=session)
        with pytest.raises(WrongPluginType, match="plugin .mem., evaluate: is a database_provider, "
                                                "but this needs an embedder_provider"):
            evaluate(["mem"], "docs", dataset, "mem", session=session)
        with pytest.raises(ValueError, match="at_recall compares recall against a reference"):
            evaluate(["mem"], "docs", dataset, "hashing", at_recall=0.9, session=session)
        with pytest.raises(ValueError, match="k must be at least 1"):
            evaluate(["mem"], "docs", dataset, "hashing", k=0, session=session)
        with pytest.raises(ValueError, match="sweep one config key at a time"):
            evaluate(["mem"], "docs", dataset, "hashing", sweep={"a": [1], "b": [2]}, session=session)
        with pytest.raises(ValueError, match="nothing to sweep: every database is the reference"):
            evaluate(["mem"], "docs", dataset, "hashing", reference="mem", sweep={"metric": ["dot"]},
                     session=session)
        unjudged = Dataset("unjudged", dataset.corpus, dataset.queries,
                           pd.DataFrame({"query_id": ["nope"], "doc_id": ["os.stat"], "score": [1]}))
        with pytest.raises(DatasetError, match="none of its 100 queries has a judgement"):
            evaluate(["mem"], "docs", unjudged, "hashing", session=session)
        with pytest.raises(ProviderError, match="plugin 'mem', search: .*no collection 'docs'"):
            evaluate(["mem"], "docs", dataset, "hashing", session=session)
        vector = session.get("hashing").embed("a document of another corpus")
        mem.create_collection("docs", len(vector))
        mem.upsert("docs", "row-0", vector)
        with pytest.raises(DatasetError, match=r"plugin 'mem', evaluate: none of the ids 'docs' returned \(row-0, "
                                               r"...\) is a document of dataset 'stdlib_qrels'; fill it from"):
            evaluate(["mem"], "docs", dataset, "hashing", session=session)
        assert mem.status == "ready"


def test_the_fastest_pick_names_the_rows_as_fast_within_the_noise():
    import pandas as pd

    from hector_nb.evaluation import Evaluation, _mark_fastest, _spread

    frame = pd.DataFrame({"ref_recall@10": [1.0, 0.97, 0.96, 0.99, 0.5], "qps": [100.0, 1000.0, 950.0, 500.0, 9000.0]},
                         index=["exact", "a", "b", "c", "too-low"])
    result = Evaluation(frame, pd.DataFrame(), k=10, reference="exact", sweep=None, at_recall=0.95, repeat=3,
                        threshold=0.5)
    # a's passes vary by 10%: b, 5% slower, is not told apart from it; c, half as fast, is; too-low misses the recall.
    spread = {"exact": 0.0, "a": _spread([1.0, 1.1, 1.05]), "b": _spread([2.0, 2.02]), "c": 0.0, "too-low": 0.0}
    _mark_fastest(result, spread)
    assert result.fastest_at_recall == "a" and result.as_fast_within_noise == ["b"]
    _mark_fastest(result, dict.fromkeys(spread, 0.0))  # one pass each: nothing is a tie
    assert result.as_fast_within_noise == []
