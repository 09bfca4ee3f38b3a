"""upsert_frame: a DataFrame's text column embedded and upserted, ids and metadata as Hector's store reads them."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest

from hector_nb import Session
from hector_nb.errors import ProviderError
from hector_nb.ingest import upsert_frame


@pytest.fixture
def plugins():
    with Session() as session:
        yield session.load("builtin:memory", name="mem"), session.load("builtin:hashing")


@pytest.mark.parametrize("transport", ["in-kernel", "subprocess"])
def test_rows_become_items_with_their_ids_and_text_metadata(transport):
    frame = pd.DataFrame({"key": ["a", "b"], "body": ["red apples", "blue sky"], "year": [2020, 2021]})
    with Session() as session:
        db = session.load("builtin:memory", name="mem", transport=transport)
        embedder = session.load("builtin:hashing", transport=transport)
        assert upsert_frame(db, "docs", frame, text_column="body", embedder=embedder, id_column="key") == 2
        [hit] = db.search("docs", embedder.embed("red apples"), 1)
    assert (hit.id, hit.content, hit.metadata["year"]) == ("a", "red apples", "2020")
    assert "key" not in hit.metadata  # the id is the id, not metadata


def test_the_id_column_defaults_to_id_then_the_index(plugins):
    db, embedder = plugins
    upsert_frame(db, "by-id", pd.DataFrame({"id": ["x"], "text": ["t"]}), text_column="text", embedder=embedder)
    upsert_frame(db, "by-index", pd.DataFrame({"text": ["t"]}, index=["row-7"]), text_column="text",
                 embedder=embedder)
    vector = embedder.embed("t")
    assert [hit.id for hit in db.search("by-id", vector, 1)] == ["x"]
    assert [hit.id for hit in db.search("by-index", vector, 1)] == ["row-7"]


def test_given_vectors_are_upserted_as_they_are(plugins):
    db, embedder = plugins
    frame = pd.DataFrame({"id": ["p", "q"], "text": ["one", "two"]})
    vectors = np.asarray([[1.0, 0.0], [0.0, 1.0]], dtype=np.float32)
    upsert_frame(db, "given", frame, text_column="text", embedder=embedder, create=True, vectors=vectors)
    assert [hit.id for hit in db.search("given", [0.0, 1.0], 1)] == ["q"]
    with pytest.raises(ValueError, match="1 vectors for 2 rows; pass one vector per row"):
        upsert_frame(db, "given", frame, text_column="text", embedder=embedder, vectors=vectors[:1])


def test_create_sends_create_collection_first(plugins):
    db, embedder = plugins
    frame = pd.DataFrame({"text": ["a"]})
    upsert_frame(db, "made", frame, text_column="text", embedder=embedder)  # the memory database makes it itself
    with pytest.raises(ProviderError, match="plugin 'mem', create_collection: .*collection 'made' exists already"):
        upsert_frame(db, "made", frame, text_column="text", embedder=embedder, create=True)


@pytest.mark.parametrize("frame, error, message", [
    (["a", "b"], TypeError, r"the frame is a list, not a pandas DataFrame; make one, e\.g\. "
                            r"pandas\.DataFrame\(\{'text': texts\}\)"),
    (pd.DataFrame({"text": []}), ValueError, r"the DataFrame is empty \(no rows\); nothing to upsert"),
    (pd.DataFrame({"body": ["a"]}), ValueError, "no column 'text'; the columns: body"),
    (pd.DataFrame({"text": ["a"], "id": ["x"]}).drop(columns="id").assign(key=["k"]), ValueError,
     "no column 'nokey'; the columns: text, key"),
    (pd.DataFrame({"text": ["a", None, math.nan]}), ValueError,
     r"column 'text' has 2 empty \(NaN\) cell\(s\), at rows \[1, 2\]; fill or drop them: "
     r"frame\.dropna\(subset=\['text'\]\)"),
])
def test_a_frame_that_cannot_be_upserted_is_refused_before_any_call(plugins, frame, error, message):
    db, embedder = plugins
    id_column = "nokey" if "key" in getattr(frame, "columns", ()) else None
    with pytest.raises(error, match=message):
        upsert_frame(db, "docs", frame, text_column="text", embedder=embedder, id_column=id_column)
    with pytest.raises(ProviderError, match="no collection 'docs'"):  # nothing was upserted
        db.search("docs", embedder.embed("a"), 1)
