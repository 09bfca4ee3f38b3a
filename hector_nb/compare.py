"""Compare what several vector databases return for the same query, side by side."""

from __future__ import annotations

import itertools
import math
from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING

from . import sdk
from .display import KEEPS_COLUMN
from .hector import SEARCH_THRESHOLD, dropped_hits, hector_keeps

if TYPE_CHECKING:
    import numpy as np
    import pandas

    from .host.clients import DatabaseClient

FIELDS = ("id", "score", "content")

#: How the two measures are defined, shown beside the numbers.
OVERLAP_DEFINITION = ("ids both databases return in their top k, divided by the number of hits of the one "
                      "that returned more (1.0: the same hits)")
RECALL_DEFINITION = "share of the reference's returned top-k hits that the database also returns in its top k"


def overlap_at_k(a: Sequence[str], b: Sequence[str], k: int) -> float:
    """Agreement of two result lists on the hits they actually returned in their top ``k``.

    ``|top_k(a) & top_k(b)| / max(len(top_k(a)), len(top_k(b)))``: two databases
    returning the same 4 hits for k=5 agree fully (1.0), and equals the usual
    ``|a & b| / k`` whenever both return ``k`` hits. NaN when neither returned anything.
    """
    found_a, found_b = set(a[:k]), set(b[:k])
    returned = max(len(found_a), len(found_b))
    return len(found_a & found_b) / returned if returned else math.nan


def recall_at_k(found: Sequence[str], reference: Sequence[str], k: int) -> float:
    """Share of the hits the reference returned in its top ``k`` that ``found`` also returns in its top ``k``.

    NaN when the reference returned nothing (there was nothing to find).
    """
    expected = set(reference[:k])
    return len(set(found[:k]) & expected) / len(expected) if expected else math.nan


def comparison_frame(results: Mapping[str, Sequence[sdk.SearchResult]], top_k: int,
                     reference: str | None = None, threshold: float | None = None) -> pandas.DataFrame:
    """One table, a row per rank and a column group (id, score, content) per database.

    With a ``threshold`` above 0 (Hector's ``search.threshold``), each group gains
    ``hector_keeps`` (whether Hector's document store keeps the hit) and
    ``frame.attrs["hector_dropped"]`` counts, per database, the hits it would drop.

    Only ranks some database returned a hit for are rows. ``frame.attrs["overlap@k"]``
    holds the pairwise overlap@k of the databases (a DataFrame, see :func:`overlap_at_k`)
    and, with a ``reference``, ``frame.attrs["recall@k"]`` the recall@k of each
    database against it (a Series indexed by database, see :func:`recall_at_k`).
    """
    import pandas

    if reference is not None and reference not in results:
        raise ValueError(f"reference {reference!r} is not among the compared databases: {', '.join(results)}")
    ranks = max((len(hits[:top_k]) for hits in results.values()), default=0)
    fields = FIELDS if threshold is None or threshold <= 0 else (*FIELDS[:2], KEEPS_COLUMN, *FIELDS[2:])
    columns = pandas.MultiIndex.from_product([list(results), fields], names=["database", "field"])
    frame = pandas.DataFrame(index=pandas.RangeIndex(1, ranks + 1, name="rank"), columns=columns, dtype=object)
    for name, hits in results.items():
        for rank, hit in enumerate(hits[:top_k], start=1):
            frame.loc[rank, (name, "id")] = hit.id
            frame.loc[rank, (name, "score")] = hit.score
            frame.loc[rank, (name, "content")] = hit.content
            if KEEPS_COLUMN in fields:
                frame.loc[rank, (name, KEEPS_COLUMN)] = hector_keeps(hit.score, threshold or 0.0)
    ids = {name: [hit.id for hit in hits] for name, hits in results.items()}
    overlap = pandas.DataFrame(1.0, index=list(results), columns=list(results))
    for name in results:
        overlap.loc[name, name] = overlap_at_k(ids[name], ids[name], top_k)
    for a, b in itertools.combinations(results, 2):
        overlap.loc[a, b] = overlap.loc[b, a] = overlap_at_k(ids[a], ids[b], top_k)
    frame.attrs["overlap@k"] = overlap
    if KEEPS_COLUMN in fields:
        frame.attrs["hector_dropped"] = pandas.Series(
            {name: dropped_hits(hits[:top_k], threshold or 0.0) for name, hits in results.items()},
            name="hector_dropped", dtype=int).rename_axis("database")
    if reference is not None:
        frame.attrs["recall@k"] = pandas.Series(
            {name: recall_at_k(ids[name], ids[reference], top_k) for name in results},
            name=f"recall@{top_k}", dtype=float).rename_axis("database")
    return frame


def compare_search(databases: Mapping[str, DatabaseClient], collection: str, vector: np.ndarray | Sequence[float],
                   top_k: int = 5, reference: str | None = None, threshold: float | None = None) -> pandas.DataFrame:
    """Search ``collection`` in every database with the same vector; see :func:`comparison_frame`."""
    # With a threshold the frame shows what Hector keeps, so no warning; without one, the usual warning.
    warn_below = SEARCH_THRESHOLD if threshold is None else 0.0
    searched = {name: db.search(collection, vector, top_k, threshold=warn_below) for name, db in databases.items()}
    return comparison_frame(searched, top_k, reference, threshold)
