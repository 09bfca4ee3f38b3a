"""MemoryDatabase: exact vector search in numpy arrays, one per collection."""

from __future__ import annotations

import threading
from dataclasses import dataclass, field

import numpy as np

from .. import sdk

METRICS = ("cosine", "dot", "euclidean")


@dataclass
class _Collection:
    dimension: int
    vectors: np.ndarray
    ids: list[str] = field(default_factory=list)
    metadata: list[dict[str, str]] = field(default_factory=list)
    rows: dict[str, int] = field(default_factory=dict)

    @classmethod
    def empty(cls, dimension: int) -> _Collection:
        return cls(dimension, np.empty((16, dimension), dtype=np.float32))


def _checked(vector, store: _Collection, collection: str, what: str) -> np.ndarray:
    row = np.asarray(vector, dtype=np.float32)
    if row.shape != (store.dimension,):
        raise ValueError(f"collection {collection!r} holds {store.dimension}-dimensional vectors, {what} {row.size}")
    return row


class MemoryDatabase(sdk.DatabaseProvider):
    """An in-memory vector database with exact top-k search.

    Config ``metric``: ``cosine`` (default), ``dot`` or ``euclidean``. Scores are
    higher-is-better: cosine similarity, dot product, or the negated euclidean
    distance. A result's ``content`` is its metadata ``content`` or ``text``.
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

    def upsert(self, collection: str, id: str, vector, metadata: dict[str, str]) -> None:
        with self._lock:
            store = self._get(collection)
            row = _checked(vector, store, collection, "got")
            index = store.rows.get(id)
            if index is None:
                index = len(store.ids)
                if index == len(store.vectors):  # grow geometrically: amortised O(1) appends
                    store.vectors = np.resize(store.vectors, (2 * index, store.dimension))
                store.ids.append(id)
                store.metadata.append({})
                store.rows[id] = index
            store.vectors[index] = row
            store.metadata[index] = dict(metadata)

    def delete(self, collection: str, id: str) -> None:
        with self._lock:
            store = self._get(collection)
            if id not in store.rows:
                raise KeyError(f"no id {id!r} in collection {collection!r}")
            index = store.rows.pop(id)
            last = len(store.ids) - 1
            if index != last:  # move the last row into the hole
                store.vectors[index] = store.vectors[last]
                store.ids[index] = store.ids[last]
                store.metadata[index] = store.metadata[last]
                store.rows[store.ids[index]] = index
            store.ids.pop()
            store.metadata.pop()

    def _scores(self, vectors: np.ndarray, query: np.ndarray) -> np.ndarray:
        if self.metric == "dot":
            return vectors @ query
        if self.metric == "euclidean":
            return -np.linalg.norm(vectors - query, axis=1)
        norms = np.linalg.norm(vectors, axis=1) * (np.linalg.norm(query) or 1.0)
        return (vectors @ query) / np.where(norms == 0, 1.0, norms)

    def search(self, collection: str, vector, top_k: int) -> list[sdk.SearchResult]:
        with self._lock:
            store = self._get(collection)
            query = _checked(vector, store, collection, "the query has")
            count = len(store.ids)
            if count == 0 or top_k <= 0:
                return []
            scores = self._scores(store.vectors[:count], query)
            k = min(top_k, count)
            best = np.argpartition(-scores, k - 1)[:k]
            best = best[np.argsort(-scores[best], kind="stable")]
            return [
                sdk.SearchResult(id=store.ids[i], score=float(scores[i]), metadata=store.metadata[i],
                                 content=store.metadata[i].get("content", store.metadata[i].get("text", "")))
                for i in best
            ]
