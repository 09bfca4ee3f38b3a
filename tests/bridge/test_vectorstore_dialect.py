"""The vector-store dialect's pure parts: Hector's filter expressions, rows, hits and score checks."""

from __future__ import annotations

import uuid
import warnings

import pytest

from hector_nb import hector, sdk
from hector_nb.bridge import filters
from hector_nb.bridge.failures import BridgeError
from hector_nb.bridge.simulated_hector import chunk_id, filter_expr
from hector_nb.bridge.store import hit, rows_of, score_notes


@pytest.mark.parametrize("expr, wanted", [
    ('collection == "docs"', {"collection": "docs"}),
    ('collection == "docs" and store_name == "docs"', {"collection": "docs", "store_name": "docs"}),
    # Some of Hector's source versions write two terms as (a && b).
    ('(collection == "docs" && path == "a b.txt")', {"collection": "docs", "path": "a b.txt"}),
    ("path=='x'  AND  name == \"y\"", {"path": "x", "name": "y"}),
    ('content == "say \\"hi\\" and go"', {"content": 'say "hi" and go'}),
    ('path == "/tmp/and/x.txt"', {"path": "/tmp/and/x.txt"}),
])
def test_filters_read_as_hector_writes_them(expr, wanted):
    assert filters.parse(expr) == wanted


def test_the_simulated_client_writes_filters_the_parser_reads():
    wanted = {"collection": "docs", "source_path": "/data/a.txt"}
    assert filters.parse(filter_expr(wanted)) == wanted


@pytest.mark.parametrize("expr, words", [
    ('collection != "docs"', "key == \"value\" terms"),
    ('collection == docs', "key == \"value\" terms"),
    ('a == "x" or b == "y"', "joined by and"),
    ('a == "x" and', "key == \"value\" terms"),
    ('a == "x" and a == "y"', "two values"),
])
def test_filters_hector_never_writes_are_refused_with_the_reason(expr, words):
    with pytest.raises(filters.FilterError, match=words):
        filters.parse(expr)


def test_a_filter_is_string_equality_on_metadata_and_id():
    wanted = {"collection": "docs", "id": "7"}
    assert filters.matches(wanted, "7", {"collection": "docs", "path": "a"})
    assert not filters.matches(wanted, "8", {"collection": "docs"})
    assert not filters.matches({"chunk_index": "1"}, "7", {"chunk_index": "01"})
    assert not filters.matches({"missing": ""}, "7", {})


def test_rows_keep_every_other_key_as_go_text_metadata():
    [row] = rows_of([{"id": "a", "vector": [1, 0.5], "content": "x", "chunk_index": 3, "size": 1e6,
                      "draft": False, "tags": ["a", "b"]}])
    assert (row.id, row.vector) == ("a", [1.0, 0.5])
    assert row.metadata == {"content": "x", "chunk_index": "3", "size": "1e+06", "draft": "false",
                            "tags": "[a b]"}
    assert rows_of([{"id": 12, "vector": [1]}])[0].id == "12"


@pytest.mark.parametrize("data, words", [
    (None, "non-empty list"),
    ([], "non-empty list"),
    ([{"vector": [1.0]}], "entity 0 needs an id and a vector"),
    ([{"id": "", "vector": [1.0]}], "id must be"),
    ([{"id": "a", "vector": []}], "vector of entity 'a' must be a non-empty list of numbers"),
    ([{"id": "a", "vector": ["1"]}], "must be a non-empty list of numbers"),
    ([{"id": "a", "vector": [True]}], "must be a non-empty list of numbers"),
])
def test_rows_that_cannot_be_stored_are_400s_naming_the_entity(data, words):
    with pytest.raises(BridgeError, match=words) as caught:
        rows_of(data)
    assert caught.value.status == 400


def test_a_hit_carries_metadata_then_id_score_and_content():
    result = sdk.SearchResult(id="a", score=0.9, content="", metadata={"content": "text", "path": "p", "score": "x"})
    assert hit(result) == {"content": "text", "path": "p", "id": "a", "score": pytest.approx(0.9)}
    assert hit(sdk.SearchResult(id="b", score=0.5, content="given", metadata={}))["content"] == "given"


def test_score_notes_say_when_hector_would_drop_hits_and_warn_once():
    hector.forget_warnings("db")
    assert score_notes("db", [1.0000001, 0.4, -0.2]) == []  # cosine similarities (float32), the best over 0.5
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        notes = score_notes("db", [-0.2, -1.5])
        again = score_notes("db", [-0.2, -1.5])
    assert notes == again and len(notes) == 2
    assert "not cosine similarities" in notes[0] and "under Hector's threshold 0.5" in notes[1]
    assert score_notes("db", [3.5, 2.0]) == ["scores from 2 to 3.5: not cosine similarities"]  # dot products
    # The threshold is warned by the database client's search (its own test); the scale only here.
    assert [w.message.cause for w in caught] == [hector.CAUSE_SCORE_RANGE]
    assert all(isinstance(w.message, hector.HectorFidelityWarning) for w in caught)
    assert score_notes("db", []) == []


def test_chunk_ids_are_hectors():
    from pathlib import Path

    folder = Path("/data/docs")
    # v1: uuid.NewMD5(uuid.Nil, md5.Sum("{store}:{relative path}:chunk:{index}")), a version 3 UUID.
    v1 = uuid.UUID(chunk_id(1, "docs", folder, folder / "a.txt", 0))
    assert v1.version == 3 and v1 == uuid.UUID(chunk_id(1, "docs", folder, folder / "a.txt", 0))
    assert v1 != uuid.UUID(chunk_id(1, "docs", folder, folder / "a.txt", 1))
    assert chunk_id(2, "docs", folder, folder / "a.txt", 2) == "/data/docs/a.txt:chunk:2"
