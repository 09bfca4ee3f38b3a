"""Compare what several vector databases return for the same query, side by side."""

from __future__ import annotations

import itertools
from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING

from . import sdk

if TYPE_CHECKING:
    import numpy as np
    import pandas

    from .host.clients import DatabaseClient

FIELDS = ("id", "score", "content")


def overlap_at_k(a: Sequence[str], b: Sequence[str], k: int) -> float:
    """Share of the top ``k`` ids two result lists have in common."""
    return len(set(a[:k]) & set(b[:k])) / k if k else 0.0


def recall_at_k(found: Sequence[str], reference: Sequence[str], k: int) -> float:
    """Share of the reference's top ``k`` ids that ``found`` also returns in its top ``k``."""
    expected = set(reference[:k])
    return len(set(found[:k]) & expected) / len(expected) if expected else 0.0


def comparison_frame(results: Mapping[str, Sequence[sdk.SearchResult]], top_k: int,
                     reference: str | None = None) -> pandas.DataFrame:
    """One table, a row per rank and a column group (id, score, content) per database.

    ``frame.attrs["overlap@k"]`` holds the pairwise overlap@k of the databases
    (a DataFrame) and, with a ``reference``, ``frame.attrs["recall@k"]`` the
    recall@k of each database against it (a dict).
    """
    import pandas

    if reference is not None and reference not in results:
        raise ValueError(f"reference {reference!r} is not among the compared databases: {', '.join(results)}")
    columns = pandas.MultiIndex.from_product([list(results), FIELDS], names=["database", "field"])
    frame = pandas.DataFrame(index=pandas.RangeIndex(1, top_k + 1, name="rank"), columns=columns, dtype=object)
    for name, hits in results.items():
        for rank, hit in enumerate(hits[:top_k], start=1):
            frame.loc[rank, (name, "id")] = hit.id
            frame.loc[rank, (name, "score")] = hit.score
            frame.loc[rank, (name, "content")] = hit.content
    ids = {name: [hit.id for hit in hits] for name, hits in results.items()}
    overlap = pandas.DataFrame(1.0, index=list(results), columns=list(results))
    for a, b in itertools.combinations(results, 2):
        overlap.loc[a, b] = overlap.loc[b, a] = overlap_at_k(ids[a], ids[b], top_k)
    frame.attrs["overlap@k"] = overlap
    if reference is not None:
        frame.attrs["recall@k"] = {name: recall_at_k(ids[name], ids[reference], top_k) for name in results}
    return frame


def compare_search(databases: Mapping[str, DatabaseClient], collection: str, vector: np.ndarray | Sequence[float],
                   top_k: int = 5, reference: str | None = None) -> pandas.DataFrame:
    """Search ``collection`` in every database with the same vector; see :func:`comparison_frame`."""
    results = {name: db.search(collection, vector, top_k) for name, db in databases.items()}
    return comparison_frame(results, top_k, reference)
