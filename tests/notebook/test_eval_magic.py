"""%hector eval in a real IPython shell: the same call as hector_nb.evaluate, with a static plot."""

from __future__ import annotations

import pytest
from IPython.core.error import UsageError

from hector_nb.data import STDLIB_QRELS
from hector_nb.datasets import load_beir


@pytest.fixture
def indexed(ip):
    """Two memory databases holding the shipped corpus, and the shipped dataset as ``ds``."""
    ip.user_ns["ds"] = load_beir(STDLIB_QRELS)
    ip.run_line_magic("hector", "load builtin:hashing")
    for name, metric in (("exact", "cosine"), ("other", "euclidean")):
        ip.run_line_magic("hector", f"load builtin:memory --name {name} --set metric={metric}")
        ip.run_line_magic("hector", f"upsert {name} docs --from ds.corpus --text-column text --id-column id "
                                    "--embedder hashing")
    return ip


def test_eval_table_plot_and_fastest(indexed, monkeypatch, capsys):
    shown = []
    monkeypatch.setattr("hector_nb.magics.evaluate.display", shown.append)
    result = indexed.run_line_magic("hector", "eval exact,other docs --dataset ds --embedder hashing --k 5 "
                                              "--reference exact --at-recall 0.9")
    frame = result.table
    assert list(frame.index) == ["exact", "other"]
    assert list(frame.columns) == ["ndcg@5", "recall@5", "mrr@5", "ref_recall@5", "hector_ndcg@5", "hector_recall@5",
                                   "hector_mrr@5", "hector_dropped", "p50_ms", "p95_ms", "qps", "fastest_at_recall"]
    assert frame.loc["exact", "ndcg@5"] > 0.3
    assert len(result.per_query) == 200
    [image] = shown
    assert image.format == "png" and image.data[:4] == b"\x89PNG"  # a static image: it survives a saved notebook
    out = capsys.readouterr().out
    assert f"fastest at ref_recall@5 >= 0.9: {result.fastest_at_recall}" in out
    # Hector would drop the hits scoring below its threshold: counted per database, in one line each.
    dropped = result.per_query["hector_dropped"].groupby(level="database").sum()
    for name in ("exact", "other"):
        assert f"{name}: Hector would drop {dropped[name]} hit(s) scoring below search.threshold 0.5" in out
    no_threshold = indexed.run_line_magic("hector", "eval exact docs --dataset ds --embedder hashing --k 5 "
                                                    "--threshold 0 --no-plot")
    assert "hector_dropped" not in no_threshold.table
    assert result.repeat == 3  # a pick between speeds: best of three passes unless --repeat says


def test_eval_sweep_draws_a_line_per_swept_database(indexed, monkeypatch):
    monkeypatch.setattr("hector_nb.magics.evaluate.display", lambda _: None)
    result = indexed.run_line_magic("hector", "eval other docs --dataset ds --embedder hashing --reference exact "
                                              "--sweep metric=cosine,dot --repeat 2 --no-plot")
    assert list(result.table.index) == ["exact", "other metric=cosine", "other metric=dot"]
    assert result.sweep == "metric"


@pytest.mark.parametrize("line, message", [
    ("eval exact docs --dataset nope --embedder hashing", "no variable 'nope' in the notebook"),
    ("eval exact docs --dataset text --embedder hashing", "text is a str, not a dataset"),
    ("eval exact docs --dataset ds --embedder hashing --sweep metric", "--sweep takes KEY=V1,V2,..."),
    ("eval exact docs --dataset ds --embedder hashing --at-recall 0.9", "%hector eval: at_recall compares recall"),
    ("eval exact docs --dataset ds --embedder exact", "plugin 'exact', evaluate: is a database_provider, "
     "but this needs an embedder_provider"),
    ("eval exact nowhere --dataset ds --embedder hashing", "plugin 'exact', search:"),
    ("upsert exact docs --from ds.nothing --text-column text --embedder hashing",
     "ds.nothing: Dataset 'ds' has no attribute 'nothing'"),
    ("upsert exact docs --from ds.__class__ --text-column text --embedder hashing", "has no attribute '__class__'"),
])
def test_eval_errors_are_one_line_usage_errors(indexed, line, message):
    indexed.user_ns["text"] = "not a dataset"
    with pytest.raises(UsageError) as raised:
        indexed.run_line_magic("hector", line)
    assert message in str(raised.value) and "\n" not in str(raised.value)
