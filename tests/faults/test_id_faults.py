"""Ids and metadata: nothing merged, abbreviated or half-written in silence."""

from __future__ import annotations

import json
import math
import uuid

import numpy as np
import pandas as pd
import pytest
from extras import require
from IPython.core.error import UsageError
from ipython_shell import extension_shell

from hector_nb.errors import InvalidInput, ProviderError
from hector_nb.providers import MemoryDatabase


# Item 6: a missing id is refused, naming the item; missing ids never become one item called "nan".
@pytest.mark.parametrize("missing", [None, math.nan, np.float32("nan"), pd.NA])
def test_missing_ids_are_refused_naming_the_item(session, missing):
    db = session.load("builtin:memory", transport="in-kernel")
    db.create_collection("docs", 2)
    items = [("a", [1.0, 0.0], None), (missing, [0.0, 1.0], None), (missing, [1.0, 1.0], None)]
    with pytest.raises(InvalidInput, match=r"the id of item 1 \(counting from 0\) is missing"):
        db.upsert_many("docs", items)
    with pytest.raises(InvalidInput, match="the id is missing"):
        db.upsert("docs", missing, [1.0, 0.0])
    assert db.search("docs", [1.0, 0.0], 5) == []  # refused before anything was sent


def test_qdrant_keeps_ids_that_differ_as_text_apart(session):
    require("qdrant", "qdrant_client")
    db = session.load("builtin:qdrant", transport="in-kernel")
    canonical = str(uuid.uuid4())
    spellings = [canonical, canonical.upper(), "{" + canonical + "}", canonical.replace("-", "")]
    db.upsert_many("docs", [(text, [1.0, float(i)], {"n": str(i)}) for i, text in enumerate(spellings)])
    hits = db.search("docs", [1.0, 0.0], 10)
    assert sorted(hit.id for hit in hits) == sorted(spellings)
    assert {hit.id: hit.metadata["n"] for hit in hits} == {text: str(i) for i, text in enumerate(spellings)}


def test_metadata_is_stored_in_full_or_refused(session):
    db = session.load("builtin:memory", transport="in-kernel")
    db.create_collection("docs", 2)
    long = np.arange(2000, dtype=np.float32) / 7
    db.upsert_many("docs", [("a", [1.0, 0.0], {"vector": long, "raw": "é".encode(), "flag": np.bool_(True)})])
    metadata = db.search("docs", [1.0, 0.0], 1)[0].metadata
    assert json.loads(metadata["vector"]) == long.tolist()  # every value, never numpy's "..."
    assert (metadata["raw"], metadata["flag"]) == ("é", "true")
    with pytest.raises(InvalidInput, match="metadata 'gone' of id 'b' is None"):
        db.upsert_many("docs", [("b", [1.0, 0.0], {"gone": None})])
    with pytest.raises(InvalidInput, match="metadata 'blob' of id 'c' is bytes that are not UTF-8"):
        db.upsert("docs", "c", [1.0, 0.0], {"blob": b"\xff\xfe"})


class Poisoned(MemoryDatabase):
    """Refuses any batch holding the id ``poison``."""

    def upsert_many(self, collection, ids, vectors, metadata):
        if "poison" in ids:
            raise ValueError("poison is not an id I take")
        super().upsert_many(collection, ids, vectors, metadata)


@pytest.mark.parametrize("transport", ["in-kernel", "in-process"])
def test_a_bulk_upsert_failing_part_way_says_how_far_it_got(session, transport):
    db = session.add("poisoned", Poisoned(), transport=transport)
    db.create_collection("docs", 2)
    items = [(str(i), [1.0, float(i)], None) for i in range(1500)]
    items[1200] = ("poison", [1.0, 0.0], None)
    with pytest.raises(ProviderError, match=r"poison is not an id I take.*\(1024 of 1500 items were written, "
                                            r"in order; the first not confirmed is id '1024'") as raised:
        db.upsert_many("docs", items)
    assert raised.value.written == 1024
    assert len(db.search("docs", [1.0, 0.0], 5000)) == 1024


def test_magic_upsert_refuses_missing_ids_naming_the_row():
    with extension_shell() as shell:
        shell.run_line_magic("hector", "load builtin:hashing")
        shell.run_line_magic("hector", "load builtin:memory --name mem")
        shell.user_ns["rows"] = pd.DataFrame({"id": ["a", math.nan, None], "text": ["one", "two", "three"]})
        with pytest.raises(UsageError, match=r"the id of item 1 \(counting from 0\) is missing"):
            shell.run_line_magic("hector", "upsert mem docs --from rows --text-column text --embedder hashing "
                                 "--create")
