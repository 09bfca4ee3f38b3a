"""Search results and comparisons show the right ids and honest measures (issue 12, items 1 and 2)."""

from __future__ import annotations

import math

import pandas as pd
import pytest

from hector_nb import sdk
from hector_nb.compare import comparison_frame, overlap_at_k, recall_at_k
from hector_nb.display import results_frame


def hit(id_, score=0.5, content="", metadata=None):
    return sdk.SearchResult(id=id_, score=score, content=content, metadata=metadata or {})


def fill_databases(ip, collection: str, texts: pd.DataFrame, dimension: int, databases: dict[str, str]) -> None:
    """Loads builtin:hashing and one builtin:memory per name in ``databases`` (with its extra load options),
    then upserts the ``text`` column of ``texts`` into each, as ``collection``, through the magics."""
    ip.user_ns[collection] = texts
    ip.run_line_magic("hector", f"load builtin:hashing --set dimension={dimension}")
    for db, options in databases.items():
        ip.run_line_magic("hector", f"load builtin:memory --name {db} {options}".strip())
    for db in databases:
        ip.run_line_magic("hector", f"upsert {db} {collection} --from {collection} --text-column text "
                                    "--embedder hashing")


def test_metadata_never_shadows_the_results_own_fields():
    frame = results_frame([hit("0", 0.5, "apples", {"id": "a", "score": "high", "rank": "7", "topic": "fruit"})])
    assert list(frame.columns[:4]) == ["rank", "id", "score", "content"]
    assert set(frame.columns[4:]) == {"meta.id", "meta.score", "meta.rank", "topic"}
    row = frame.iloc[0]
    assert (row["rank"], row["id"], row["score"], row["content"]) == (1, "0", 0.5, "apples")
    assert (row["meta.id"], row["meta.score"], row["meta.rank"]) == ("a", "high", "7")


def test_metadata_repeating_a_field_adds_no_column():
    # Hector's databases keep the text as `content` metadata too: no duplicate column for it.
    frame = results_frame([hit("a", content="apples", metadata={"content": "apples", "content_": "x"})])
    assert list(frame.columns) == ["rank", "id", "score", "content", "content_"]
    assert list(results_frame([]).columns) == ["rank", "id", "score", "content"]


def test_a_dataframe_with_an_id_column_keeps_its_ids(ip):
    notes = pd.DataFrame({
        "id": ["a", "b", "c", "d"],
        "text": ["red apples and pears", "green apples", "blue evening sky", "dark night sky"],
    })
    # No --id-column: the `id` column is the id, not the DataFrame's index.
    fill_databases(ip, "notes", notes, 64, {"one": "", "two": ""})
    found = ip.run_line_magic("hector", 'search one notes "apples" --embedder hashing --top-k 4')
    compared = ip.run_line_magic("hector", 'compare one,two notes "apples" --embedder hashing --top-k 4')
    assert sorted(found["id"]) == ["a", "b", "c", "d"]
    assert list(found["id"]) == list(compared[("one", "id")])
    assert "meta.id" not in found.columns


def test_overlap_and_recall_count_the_hits_actually_returned():
    same = [hit(i) for i in "abcd"]
    frame = comparison_frame({"x": same, "y": list(same)}, top_k=5, reference="x")
    assert frame.overlap.loc["x", "y"] == 1.0
    assert frame.recall.to_dict() == {"x": 1.0, "y": 1.0}
    assert list(frame.index) == [1, 2, 3, 4], "only ranks some database returned are rows"
    assert not frame.isna().all(axis=1).any()


def test_overlap_when_one_database_returns_fewer():
    assert overlap_at_k(list("abcde"), list("abcd"), 5) == pytest.approx(4 / 5)
    assert overlap_at_k(list("abc"), list("abc"), 5) == 1.0
    assert overlap_at_k(list("ab"), list("xy"), 5) == 0.0
    assert math.isnan(overlap_at_k([], [], 5))
    assert recall_at_k(list("ab"), list("abcd"), 5) == 0.5
    assert math.isnan(recall_at_k(list("ab"), [], 5))
    frame = comparison_frame({"x": [hit("a"), hit("b")], "y": [hit("a")]}, top_k=5)
    assert list(frame.index) == [1, 2] and pd.isna(frame.loc[2, ("y", "id")])


def test_compare_prints_the_definitions_and_recall_as_a_table(ip, capsys):
    few = pd.DataFrame({"id": ["p", "q"], "text": ["one apple", "two pears"]})
    fill_databases(ip, "few", few, 32, {"m1": "", "m2": "--set metric=dot"})
    frame = ip.run_line_magic("hector", 'compare m1,m2 few "apple" --embedder hashing --top-k 5 --reference m1')
    out = capsys.readouterr().out
    assert "overlap@5 between the databases: ids both databases return in their top k" in out
    assert "recall@5 against m1: share of the reference's returned top-k hits" in out
    assert "{" not in out, "recall is a table, not a raw dict"
    assert list(frame.index) == [1, 2]


def test_hector_drops_hits_below_its_threshold_and_search_and_compare_show_which(ip, capsys):
    notes = pd.DataFrame({"id": ["a", "b", "c"], "text": ["red apples", "red apples and pears", "night sky"]})
    fill_databases(ip, "fruit", notes, 64, {"near": "", "far": "--set metric=euclidean"})
    capsys.readouterr()
    found = ip.run_line_magic("hector", 'search near fruit "red apples" --embedder hashing --top-k 3')
    assert list(found.columns[:5]) == ["rank", "id", "score", "hector_keeps", "content"]
    assert found["hector_keeps"].tolist() == [score >= 0.5 for score in found["score"]]
    dropped = int((~found["hector_keeps"]).sum())
    assert dropped and found.hector_dropped == dropped
    out = capsys.readouterr().out
    assert f"near: Hector would drop {dropped} hit(s) scoring below search.threshold 0.5" in out
    everything = ip.run_line_magic("hector", 'search near fruit "red apples" --embedder hashing --top-k 3 '
                                             '--threshold 0')
    assert "hector_keeps" not in everything.columns and "Hector would drop" not in capsys.readouterr().out
    strict = ip.run_line_magic("hector", 'search near fruit "red apples" --embedder hashing --threshold 0.99')
    assert strict["hector_keeps"].tolist() == [True, False, False]  # only the exact text scores 1
    compared = ip.run_line_magic("hector", 'compare near,far fruit "red apples" --embedder hashing --top-k 3')
    assert compared[("far", "hector_keeps")].tolist() == [s >= 0.5 for s in compared[("far", "score")]]
    assert compared.hector_dropped.to_dict() == {
        name: int((compared[(name, "score")] < 0.5).sum()) for name in ("near", "far")}


def test_results_frame_marks_what_hector_keeps():
    frame = results_frame([hit("a", 0.9), hit("b", 0.5), hit("c", 0.49)], threshold=0.5)
    assert frame["hector_keeps"].tolist() == [True, True, False] and frame.hector_dropped == 1
    assert list(results_frame([], threshold=0.5).columns) == ["rank", "id", "score", "hector_keeps", "content"]
