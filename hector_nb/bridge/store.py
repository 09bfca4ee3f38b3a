"""Hector's vector store over a notebook database: what each dialect call does to a DatabaseClient.

Hector's ``milvus`` vector store (CONTRACT section 7) upserts rows, searches with an
optional metadata filter, deletes by ids or by filter, and never creates a collection.
The database interface has none of filter, listing or "does this collection exist";
this module supplies them from ``search``:

- a collection this bridge has not seen is probed with a one-hit search of the first
  vector that reaches it; a missing one is created then (``create_collection`` with
  that vector's length), and dropped again if the first write fails, so a refused
  first upsert leaves nothing behind;
- a filtered search asks the database for more hits until ``top_k`` of them pass the
  filter or the collection is exhausted, so the answer is the database's own ranking;
- a delete by filter lists the collection with a search of ``top_k`` at least its size.

A refusal is a :class:`~hector_nb.bridge.failures.BridgeError` with the HTTP status Hector
should see; a database's own failure propagates as the client raised it (the caller
maps it with :func:`~hector_nb.bridge.failures.http_failure`). Nothing here knows HTTP;
:mod:`.vectorstore` does.
"""

from __future__ import annotations

import re
import threading
import weakref
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from .. import hector, sdk
from ..errors import HectorError, ProviderError
from ..host.clients import DatabaseClient
from . import filters
from .failures import BridgeError, http_failure

#: The first ``top_k`` of a listing or of a filtered search; each further round asks four times more.
FIRST_FETCH = 64
#: How far float32 rounding takes a cosine past 1 (a vector against itself scores 1.0000001).
_ROUNDING = 1e-4


@dataclass(frozen=True)
class Row:
    """One entity of an upsert: Hector's ``id``, ``vector`` and every other key as metadata text."""

    id: str
    vector: list[float]
    metadata: dict[str, str]


def rows_of(data: Any) -> list[Row]:
    """The rows of an upsert's ``data``, or a 400 naming the row at fault."""
    if not isinstance(data, list) or not data:
        raise BridgeError(400, "data must be a non-empty list of entities, each with id and vector")
    rows = []
    for position, entity in enumerate(data):
        if not isinstance(entity, Mapping) or "id" not in entity or "vector" not in entity:
            raise BridgeError(400, f"entity {position} needs an id and a vector (every other key is metadata)")
        id = entity["id"]
        if not isinstance(id, (str, int)) or isinstance(id, bool) or id == "":
            raise BridgeError(400, f"entity {position}: id must be a non-empty string or a number, got {id!r:.40}")
        vector = vector_of(entity["vector"], f"the vector of entity {id!r}")
        metadata = {str(k): hector.go_text(v) for k, v in entity.items() if k not in ("id", "vector")}
        rows.append(Row(str(id), vector, metadata))
    return rows


def vector_of(value: Any, what: str) -> list[float]:
    """``value`` if it is a non-empty JSON list of numbers, as floats; else a 400 naming ``what``."""
    if not isinstance(value, list) or not value or any(isinstance(v, bool) or not isinstance(v, (int, float))
                                                        for v in value):
        raise BridgeError(400, f"{what} must be a non-empty list of numbers")
    return [float(v) for v in value]


def hit(result: sdk.SearchResult) -> dict[str, Any]:
    """A search result as Hector reads it: metadata keys, then ``id``, ``score`` (a similarity) and ``content``."""
    metadata = dict(result.metadata)
    return {**metadata, "id": result.id, "score": result.score,
            "content": result.content or metadata.get("content", "")}


def score_notes(plugin: str, scores: Sequence[float]) -> list[str]:
    """Where Hector would read these scores differently from the notebook, for the request log.

    Hector takes ``score`` as a cosine similarity, highest first, and drops every hit
    under :data:`hector_nb.hector.SEARCH_THRESHOLD`. Scores beyond [-1, 1], or all
    negative (negated distances), are no cosine similarities; a best hit under the
    threshold is one Hector never shows. Each finding is also warned, once per plugin: the
    scale here, the threshold by the database client's own search.
    """
    if not scores:
        return []
    notes = []
    low, high = min(scores), max(scores)
    if low < -1 - _ROUNDING or high > 1 + _ROUNDING or high < 0:
        hector.warn_scores_outside_unit(plugin, low, high)
        notes.append(f"scores from {low:.3g} to {high:.3g}: not cosine similarities")
    if high < hector.SEARCH_THRESHOLD:  # warned by the client's search (hector.warn_below_threshold)
        notes.append(f"best score {high:.3g} under Hector's threshold {hector.SEARCH_THRESHOLD}: Hector shows no hit")
    return notes


@dataclass
class SearchOutcome:
    """A dialect search's hits (best first), and what Hector would see differently (:func:`score_notes`)."""

    hits: list[dict[str, Any]]
    notes: list[str] = field(default_factory=list)


class VectorStore:
    """The dialect's operations over database clients, with what it learned of their collections.

    One per served bridge. It remembers each collection's vector length (from the
    vectors that reached it), per client, so a reloaded plugin starts afresh.
    """

    def __init__(self) -> None:
        self._dimensions: weakref.WeakKeyDictionary[DatabaseClient, dict[str, int]] = weakref.WeakKeyDictionary()
        self._lock = threading.Lock()

    def dimension(self, db: DatabaseClient, collection: str) -> int | None:
        """The vector length of ``collection``, when this bridge has seen a vector reach it."""
        return self._dimensions.get(db, {}).get(collection)

    def collections(self, db: DatabaseClient) -> dict[str, int]:
        """The collections this bridge created or used, with their vector lengths."""
        return dict(self._dimensions.get(db, {}))

    def _learn(self, db: DatabaseClient, collection: str, dimension: int | None) -> None:
        known = self._dimensions.setdefault(db, {})
        if dimension is None:
            known.pop(collection, None)
        else:
            known[collection] = dimension

    def _check_length(self, db: DatabaseClient, collection: str, length: int, what: str) -> None:
        dimension = self.dimension(db, collection)
        if dimension is not None and dimension != length:
            raise BridgeError(400, f"collection {collection!r} of {db.name!r} holds {dimension}-dimensional "
                              f"vectors; {what} has {length} values")

    def upsert(self, db: DatabaseClient, collection: str, rows: Sequence[Row]) -> bool:
        """Write ``rows``; returns whether the collection was created for them.

        A collection created here is dropped again when the write fails, so a
        refused first upsert leaves nothing behind.
        """
        length = len(rows[0].vector)
        for row in rows:
            if len(row.vector) != length:
                raise BridgeError(400, f"the vectors of one request differ in length: {rows[0].id!r} has {length} "
                                  f"values, {row.id!r} has {len(row.vector)}")
        self._check_length(db, collection, length, f"the vector of {rows[0].id!r}")
        if self.dimension(db, collection) is None:
            with self._lock:  # the first write into a collection: creating it must not race another
                if self.dimension(db, collection) is None:
                    created = self._ensure(db, collection, rows[0].vector)
                    try:
                        _write(db, collection, rows)
                    except BaseException:
                        if created:
                            _quietly(db.delete_collection, collection)
                        raise
                    self._learn(db, collection, length)
                    return created
        try:
            _write(db, collection, rows)
        except ProviderError as exc:
            if not says_missing(exc):
                raise
            # Dropped behind the bridge's back (from the notebook, or by a restart): create it again.
            self._learn(db, collection, None)
            return self.upsert(db, collection, rows)
        return False

    def _ensure(self, db: DatabaseClient, collection: str, vector: list[float]) -> bool:
        """Make sure ``collection`` exists for vectors like ``vector``; returns whether it was created here.

        A one-hit search tells: a hit means it exists, a "no collection" error that it
        does not; an empty answer may mean either (some databases answer a missing
        collection so), and a failed ``create_collection`` then means it exists, or
        that the database creates collections on upsert: the upsert decides.
        """
        try:
            if db.search(collection, vector, 1):
                return False
            missing = False
        except ProviderError as exc:
            if not says_missing(exc):
                raise BridgeError(400, f"collection {collection!r} of {db.name!r} refuses a vector of "
                                  f"{len(vector)} values: {exc.message}") from exc
            missing = True
        try:
            db.create_collection(collection, len(vector))
        except ProviderError:
            if missing:
                raise
            return False
        return True

    def search(self, db: DatabaseClient, collection: str, vector: list[float], top_k: int,
               wanted: Mapping[str, str]) -> SearchOutcome:
        """The ``top_k`` best rows passing ``wanted``, in the database's order; none when the collection is missing."""
        self._check_length(db, collection, len(vector), "the query vector")
        try:
            results = _fetch(db, collection, vector, top_k, wanted)
        except ProviderError as exc:
            if not says_missing(exc):
                raise
            self._learn(db, collection, None)
            return SearchOutcome([], [f"no collection {collection!r} in {db.name!r} ({exc.message}): no hits"])
        self._learn(db, collection, len(vector))
        return SearchOutcome([hit(r) for r in results], score_notes(db.name, [r.score for r in results]))

    def delete_ids(self, db: DatabaseClient, collection: str, ids: Iterable[Any]) -> int:
        """Delete ``ids``; a missing id is nothing to do. Returns how many the database was asked to drop."""
        done = 0
        for id in ids:
            try:
                db.delete(collection, str(id))
                done += 1
            except ProviderError as exc:
                if not says_missing(exc):
                    failure = http_failure(exc)
                    raise BridgeError(failure.status, f"deleted {done} id(s), then: {exc}") from exc
            except HectorError as exc:
                failure = http_failure(exc)
                raise BridgeError(failure.status, f"deleted {done} id(s), then: {exc}") from exc
        return done

    def delete_matching(self, db: DatabaseClient, collection: str, wanted: Mapping[str, str]) -> int:
        """Delete every row passing ``wanted``, found by listing the collection with a search."""
        dimension = self.dimension(db, collection)
        if dimension is None:
            raise BridgeError(409, f"cannot delete by filter in {collection!r} of {db.name!r}: a database is listed "
                              "by searching it, and this bridge has not seen its vector length yet (no upsert or "
                              "search of it since the bridge started); search it once, or delete by ids")
        try:
            rows = _fetch(db, collection, [1.0] * dimension, None, wanted)
        except ProviderError as exc:
            if says_missing(exc):
                return 0
            raise
        return self.delete_ids(db, collection, [row.id for row in rows])

    def create(self, db: DatabaseClient, collection: str, dimension: int) -> None:
        """``create_collection``; nothing to do when it exists with that length, 409 with another."""
        known = self.dimension(db, collection)
        if known is not None and known != dimension:
            raise BridgeError(409, f"collection {collection!r} of {db.name!r} exists with {known}-dimensional "
                              f"vectors, not {dimension}")
        if known is None:
            db.create_collection(collection, dimension)
            self._learn(db, collection, dimension)

    def drop(self, db: DatabaseClient, collection: str) -> None:
        """``delete_collection``; 404 when the database has no such collection."""
        self._learn(db, collection, None)
        try:
            db.delete_collection(collection)
        except ProviderError as exc:
            if says_missing(exc):
                raise BridgeError(404, str(exc)) from exc
            raise


#: How databases word a missing collection or id (Hector's Go plugins, Qdrant, Milvus, hector_nb's own).
_MISSING = re.compile(r"no collection|no id|not found|does ?n[o']t exist|unknown collection|no such", re.I)


def says_missing(error: ProviderError) -> bool:
    """Whether the database's answer says the collection (or id) it was asked about does not exist.

    The one place hector_nb reads a message's words, and on purpose: Hector's database wire answers a
    failed Search, Upsert, Delete or DeleteCollection with ``error`` text only (no status, no code;
    CONTRACT.md section 2), and it has no call that asks whether a collection exists. The store
    bridge must still answer Hector's document store as Milvus would (a search of a collection never
    written is no hits, a drop of a missing one a 404), so the text is all there is to go on.
    """
    return _MISSING.search(error.message) is not None

def _write(db: DatabaseClient, collection: str, rows: Sequence[Row]) -> None:
    if len(rows) == 1:
        db.upsert(collection, rows[0].id, rows[0].vector, rows[0].metadata)
    else:
        db.upsert_many(collection, [(row.id, row.vector, row.metadata) for row in rows])


def _fetch(db: DatabaseClient, collection: str, vector: list[float], top_k: int | None,
           wanted: Mapping[str, str]) -> list[sdk.SearchResult]:
    """The first ``top_k`` results of the database's ranking that pass ``wanted`` (``None``: all of them).

    Without a filter, one search. Else searches of growing ``top_k`` until enough
    results pass or the database returns fewer than asked (all it has).
    """
    if not wanted and top_k is not None:
        return db.search(collection, vector, top_k)
    asked = max(FIRST_FETCH, 2 * (top_k or 0))
    while True:
        results = db.search(collection, vector, asked)
        kept = [r for r in results if filters.matches(wanted, r.id, r.metadata)]
        if len(results) < asked or (top_k is not None and len(kept) >= top_k):
            return kept[:top_k]
        asked *= 4


def _quietly(call: Any, *args: Any) -> None:
    try:
        call(*args)
    except HectorError:
        pass  # the write's own failure is the one to report
