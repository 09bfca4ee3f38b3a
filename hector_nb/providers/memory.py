"""MemoryDatabase: exact vector search in numpy arrays, one per collection.

Each collection keeps, beside its rows, what every search would otherwise
recompute: the squared norm of each row (euclidean) and its inverse norm
(cosine). A search is then one matrix-vector product and one partial sort,
the same work as the numpy floor, and it stays exhaustive (exact).
"""

from __future__ import annotations

import threading
from collections.abc import Sequence
from dataclasses import dataclass, field

import numpy as np

from .. import sdk

METRICS = ("cosine", "dot", "euclidean")
#: float32's unit roundoff: the bound below on rounding in a dot product of n terms is (n + 2) * this.
_ROUNDOFF = float(np.finfo(np.float32).eps) / 2


@dataclass
class _Collection:
    dimension: int
    vectors: np.ndarray
    squared_norms: np.ndarray
    inverse_norms: np.ndarray
    ids: list[str] = field(default_factory=list)
    metadata: list[dict[str, str]] = field(default_factory=list)
    rows: dict[str, int] = field(default_factory=dict)

    @classmethod
    def empty(cls, dimension: int) -> _Collection:
        return cls(dimension, np.empty((16, dimension), dtype=np.float32), np.empty(16, dtype=np.float32),
                   np.empty(16, dtype=np.float32))

    def reserve(self, count: int) -> None:
        """Room for ``count`` rows, growing geometrically: appends cost amortised O(1)."""
        capacity = len(self.vectors)
        if count <= capacity:
            return
        capacity = max(count, 2 * capacity)
        used = len(self.ids)
        self.vectors = _grown(self.vectors, used, capacity)
        self.squared_norms = _grown(self.squared_norms, used, capacity)
        self.inverse_norms = _grown(self.inverse_norms, used, capacity)

    def place(self, id: str, metadata: dict[str, str]) -> int:
        """The row of ``id`` (a new one at the end when it is new), with its metadata replaced."""
        index = self.rows.get(id)
        if index is None:
            index = len(self.ids)
            self.ids.append(id)
            self.metadata.append(metadata)
            self.rows[id] = index
        else:
            self.metadata[index] = metadata
        return index

    def write(self, indices: np.ndarray | slice | int, rows: np.ndarray) -> None:
        """Store rows and the norms every search needs."""
        squared = np.einsum("...i,...i->...", rows, rows)
        self.vectors[indices] = rows
        self.squared_norms[indices] = squared
        norms = np.sqrt(squared)
        self.inverse_norms[indices] = np.divide(1.0, norms, out=np.zeros_like(norms), where=norms > 0)

    def move(self, source: int, target: int) -> None:
        self.vectors[target] = self.vectors[source]
        self.squared_norms[target] = self.squared_norms[source]
        self.inverse_norms[target] = self.inverse_norms[source]


def _finite(rows: np.ndarray, what: str) -> np.ndarray:
    """``rows`` unless a value is NaN or infinite: stored, it would make every search score NaN."""
    if not np.isfinite(rows).all():
        raise ValueError(f"{what} holds NaN or infinite values; fix or drop it")
    return rows


def _grown(array: np.ndarray, used: int, capacity: int) -> np.ndarray:
    """A larger array holding the first ``used`` rows of ``array`` (np.resize would also fill the rest)."""
    grown = np.empty((capacity, *array.shape[1:]), dtype=array.dtype)
    grown[:used] = array[:used]
    return grown


def _checked(vector, store: _Collection, collection: str, what: str) -> np.ndarray:
    row = np.asarray(vector, dtype=np.float32)
    if row.shape != (store.dimension,):
        raise ValueError(f"collection {collection!r} holds {store.dimension}-dimensional vectors, {what} {row.size}")
    return _finite(row, "the query vector" if "query" in what else "the vector")


def _checked_rows(vectors, count: int, store: _Collection, collection: str) -> np.ndarray:
    rows = np.asarray(vectors, dtype=np.float32)
    if rows.ndim != 2 or rows.shape != (count, store.dimension):
        got = rows.shape[1] if rows.ndim == 2 else "ragged"
        raise ValueError(f"collection {collection!r} holds {store.dimension}-dimensional vectors, got {count} "
                         f"vector(s) of {got} values")
    return _finite(rows, "a vector")


class MemoryDatabase(sdk.DatabaseProvider):
    """An in-memory vector database with exact top-k search.

    Config ``metric``: ``cosine`` (default), ``dot`` or ``euclidean``. Scores are
    higher-is-better: cosine similarity, dot product, or the negated euclidean
    distance. A result's ``content`` is its metadata ``content`` or ``text``.

    As Hector's document store uses a database: the first upsert into an unknown
    collection creates it, with the vector's dimension (Hector never calls
    ``CreateCollection``), and any metadata keys are kept as given.
    """

    name = "memory"
    version = "0.1.0"
    description = "In-memory vector database (numpy), exact top-k by cosine, dot or euclidean."
    config_optional = ("metric",)
    config_defaults = {"metric": "cosine"}

    def __init__(self) -> None:
        self.metric = "cosine"
        self._collections: dict[str, _Collection] = {}
        self._lock = threading.Lock()

    def initialize(self, config: dict[str, str]) -> None:
        metric = config.get("metric") or "cosine"
        if metric not in METRICS:
            raise ValueError(f"unknown metric {metric!r}; use one of {', '.join(METRICS)}")
        self.metric = metric

    def _get(self, collection: str) -> _Collection:
        try:
            return self._collections[collection]
        except KeyError:
            known = ", ".join(sorted(self._collections)) or "none"
            raise KeyError(f"no collection {collection!r}; create it first with create_collection "
                           f"(known: {known})") from None

    def create_collection(self, collection: str, vector_size: int) -> None:
        if vector_size < 1:
            raise ValueError(f"vector_size must be positive, got {vector_size}")
        with self._lock:
            if collection in self._collections:
                raise ValueError(f"collection {collection!r} exists already")
            self._collections[collection] = _Collection.empty(int(vector_size))

    def delete_collection(self, collection: str) -> None:
        with self._lock:
            self._get(collection)
            del self._collections[collection]

    def _target(self, collection: str, dimension: int) -> _Collection:
        """The collection an upsert writes to, or a new one of ``dimension`` (registered by :meth:`_keep`
        once the rows are checked, so a refused first upsert creates nothing)."""
        store = self._collections.get(collection)
        if store is not None:
            return store
        if dimension < 1:
            raise ValueError(f"collection {collection!r} does not exist and an empty vector cannot create it; "
                             "upsert a vector with values, or create the collection first")
        return _Collection.empty(dimension)

    def _keep(self, collection: str, store: _Collection) -> None:
        self._collections.setdefault(collection, store)

    def upsert(self, collection: str, id: str, vector, metadata: dict[str, str]) -> None:
        with self._lock:
            store = self._target(collection, int(np.size(vector)))
            row = _checked(vector, store, collection, "got")
            self._keep(collection, store)
            store.reserve(len(store.ids) + 1)
            store.write(store.place(id, dict(metadata)), row)

    def upsert_many(self, collection: str, ids: Sequence[str], vectors, metadata: Sequence[dict[str, str]]
                    ) -> None:
        """All rows at once: checked first (nothing is written when one is wrong), the last of a repeated id wins."""
        with self._lock:
            shape = np.shape(vectors)
            store = self._target(collection, shape[1] if len(shape) == 2 else 0)
            rows = _checked_rows(vectors, len(ids), store, collection)
            self._keep(collection, store)
            last = {id: position for position, id in enumerate(ids)}
            if len(last) < len(ids):  # a repeated id: only its last row is written
                positions = np.fromiter(last.values(), dtype=np.intp, count=len(last))
                rows = rows[positions]
                ids, metadata = list(last), [metadata[p] for p in positions]
            store.reserve(len(store.ids) + len(ids))
            start = len(store.ids)
            if store.rows.keys().isdisjoint(ids):  # only new ids, as in a bulk load: appended in one go
                store.ids.extend(ids)
                store.metadata.extend(map(dict, metadata))
                store.rows.update(zip(ids, range(start, start + len(ids)), strict=True))
                store.write(slice(start, start + len(ids)), rows)
                return
            place = store.place
            indices = np.fromiter((place(id, dict(meta)) for id, meta in zip(ids, metadata, strict=True)),
                                  dtype=np.intp, count=len(ids))
            store.write(indices, rows)

    def delete(self, collection: str, id: str) -> None:
        with self._lock:
            store = self._get(collection)
            if id not in store.rows:
                raise KeyError(f"no id {id!r} in collection {collection!r}")
            index = store.rows.pop(id)
            last = len(store.ids) - 1
            if index != last:  # move the last row into the hole
                store.move(last, index)
                store.ids[index] = store.ids[last]
                store.metadata[index] = store.metadata[last]
                store.rows[store.ids[index]] = index
            store.ids.pop()
            store.metadata.pop()

    def _best(self, store: _Collection, count: int, query: np.ndarray, k: int) -> tuple[np.ndarray, np.ndarray]:
        """The rows of the k best scores, best first, and their scores."""
        products = store.vectors[:count] @ query
        if self.metric == "euclidean":
            return self._nearest(store, count, query, products, k)
        if self.metric == "dot":
            scores = products
        else:
            query_norm = float(np.linalg.norm(query))
            scores = products * store.inverse_norms[:count] * (1.0 / query_norm if query_norm else 1.0)
        best = np.argpartition(scores, count - k)[count - k:] if k < count else np.arange(count)
        best = best[np.argsort(-scores[best], kind="stable")]
        return best, scores[best]

    def _nearest(self, store: _Collection, count: int, query: np.ndarray, products: np.ndarray, k: int
                 ) -> tuple[np.ndarray, np.ndarray]:
        # |v - q|^2 = |v|^2 - 2 v.q + |q|^2 costs one product, but float32 cancellation can swap
        # near-ties. Every row within the rounding bound of the k-th is re-scored directly, so
        # the answer is exactly that of computing every distance.
        partial = store.squared_norms[:count] - 2 * products  # the squared distance minus |q|^2
        largest = float(np.sqrt(store.squared_norms[:count].max()))
        bound = (store.dimension + 2) * _ROUNDOFF * (largest + float(np.linalg.norm(query))) ** 2
        kth = np.partition(partial, k - 1)[k - 1] if k < count else partial.max()
        candidates = np.flatnonzero(partial <= kth + 2 * bound)
        exact = -np.linalg.norm(store.vectors[candidates] - query, axis=1)
        order = np.argsort(-exact, kind="stable")[:k]
        return candidates[order], exact[order]

    def search(self, collection: str, vector, top_k: int) -> list[sdk.SearchResult]:
        with self._lock:
            store = self._get(collection)
            query = _checked(vector, store, collection, "the query has")
            count = len(store.ids)
            if count == 0 or top_k <= 0:
                return []
            best, scores = self._best(store, count, query, min(top_k, count))
            return [
                sdk.SearchResult(id=store.ids[i], score=score, metadata=store.metadata[i],
                                 content=store.metadata[i].get("content", store.metadata[i].get("text", "")))
                for i, score in zip(best.tolist(), scores.tolist(), strict=True)
            ]
