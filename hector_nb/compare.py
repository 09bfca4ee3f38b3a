"""Compare what several vector databases return for the same query, side by side."""

from __future__ import annotations

import itertools
import math
from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING

import pandas

from . import sdk
from .display import KEEPS_COLUMN
from .hector import SEARCH_THRESHOLD, dropped_hits, hector_keeps

if TYPE_CHECKING:
    import numpy as np

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


class Comparison(pandas.DataFrame):  # type: ignore[misc, unused-ignore]  # pandas has no type information here
    """What several databases returned for one query: a row per rank, a column group (id, score, content) per
    database, and the measures of their agreement as typed attributes.

    :attr:`overlap` is the pairwise overlap@k of the databases (see :func:`overlap_at_k`); with a
    :attr:`reference`, :attr:`recall` is each database's recall@k against it (see :func:`recall_at_k`);
    with a Hector ``search.threshold`` above 0, :attr:`hector_dropped` counts per database the hits Hector's
    document store would drop. A table derived from a comparison (a slice, ``round``) is a plain DataFrame:
    the measures describe the whole result lists, not a part of them.
    """

    _metadata = ["top_k", "reference", "overlap", "hector_dropped", "_recall"]
    #: The k of the measures: how many hits each database was asked for.
    top_k: int
    #: The database recall@k is measured against, if one was named.
    reference: str | None
    #: Pairwise overlap@k, a database x database table (1.0: the same hits).
    overlap: pandas.DataFrame
    #: Per database, how many of its hits Hector's threshold drops (a Series), None without a threshold.
    hector_dropped: pandas.Series | None
    _recall: pandas.Series | None

    @property
    def _constructor(self) -> type[pandas.DataFrame]:
        plain: type[pandas.DataFrame] = pandas.DataFrame  # named with its type: pandas is untyped here
        return plain

    @property
    def recall(self) -> pandas.Series:
        """recall@k of each database against :attr:`reference`, a Series indexed by database.

        :class:`ValueError` when the comparison was made without a reference.
        """
        if self._recall is None:
            raise ValueError("this comparison has no reference database to measure recall@k against: "
                             "compare with reference=NAME (%hector compare ... --reference NAME)")
        return self._recall


def comparison_frame(results: Mapping[str, Sequence[sdk.SearchResult]], top_k: int,
                     reference: str | None = None, threshold: float | None = None) -> Comparison:
    """One :class:`Comparison` of ``results`` (database name -> its hits, best first).

    Only ranks some database returned a hit for are rows. With a ``threshold`` above 0
    (Hector's ``search.threshold``), each group gains ``hector_keeps`` (whether Hector's
    document store keeps the hit) and :attr:`Comparison.hector_dropped` is set.
    """
    if reference is not None and reference not in results:
        raise ValueError(f"reference {reference!r} is not among the compared databases: {', '.join(results)}")
    ranks = max((len(hits[:top_k]) for hits in results.values()), default=0)
    fields = FIELDS if threshold is None or threshold <= 0 else (*FIELDS[:2], KEEPS_COLUMN, *FIELDS[2:])
    columns = pandas.MultiIndex.from_product([list(results), fields], names=["database", "field"])
    frame = Comparison(index=pandas.RangeIndex(1, ranks + 1, name="rank"), columns=columns, dtype=object)
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
    frame.top_k, frame.reference, frame.overlap = top_k, reference, overlap
    frame.hector_dropped = None if KEEPS_COLUMN not in fields else pandas.Series(
        {name: dropped_hits(hits[:top_k], threshold or 0.0) for name, hits in results.items()},
        name="hector_dropped", dtype=int).rename_axis("database")
    frame._recall = None if reference is None else pandas.Series(
        {name: recall_at_k(ids[name], ids[reference], top_k) for name in results},
        name=f"recall@{top_k}", dtype=float).rename_axis("database")
    return frame


def compare_search(databases: Mapping[str, DatabaseClient], collection: str, vector: np.ndarray | Sequence[float],
                   top_k: int = 5, reference: str | None = None, threshold: float | None = None) -> Comparison:
    """Search ``collection`` in every database with the same vector: a :class:`Comparison` of what they return.

    ``reference`` names the database recall@k is measured against; ``threshold`` is Hector's
    ``search.threshold`` (above 0, the table shows which hits Hector keeps; see :func:`comparison_frame`).
    """
    # With a threshold the frame shows what Hector keeps, so no warning; without one, the usual warning.
    warn_below = SEARCH_THRESHOLD if threshold is None else 0.0
    searched = {name: db.search(collection, vector, top_k, threshold=warn_below) for name, db in databases.items()}
    return comparison_frame(searched, top_k, reference, threshold)
