"""USearchDatabase: approximate nearest neighbours with USearch's HNSW index, one index per collection.

Needs the ``usearch`` extra: ``pip install -e ".[usearch]"`` in the clone. The engine is
imported when the provider is initialized, so hector_nb imports without it.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from .. import sdk
from .extras import install_command
from .results import search_result

#: Config ``metric`` -> USearch's metric name.
METRICS = {"cosine": "cos", "dot": "ip", "euclidean": "l2sq"}
#: Config key -> (USearch's parameter, its default).
HNSW_DEFAULTS = {"connectivity": 16, "expansion_add": 128, "expansion_search": 64}


@dataclass
class _Collection:
    index: Any
    #: USearch keys are integers: each id gets the next one, and the hit maps back.
    keys: dict[str, int] = field(default_factory=dict)
    #: Each key's hit without its score, serialized: parsing it back and setting the score costs about a
    #: third of building the message from its id and metadata, which was as long as USearch's own search.
    hits: dict[int, bytes] = field(default_factory=dict)
    next_key: int = 0


class USearchDatabase(sdk.DatabaseProvider):
    """An in-memory HNSW index (USearch): approximate top-k, so recall may fall below 1.0.

    Config ``metric``: cosine (default), dot or euclidean; scores are
    higher-is-better, on the same scale as ``builtin:memory`` (cosine
    similarity, dot product, negated euclidean distance), so the two compare
    rank by rank. HNSW parameters: ``connectivity`` (edges per node, default
    16), ``expansion_add`` (candidates while building, 128) and
    ``expansion_search`` (candidates while searching, 64): lower them for speed
    at the cost of recall. Collections are created on first upsert; searching one
    not written yet finds nothing, deleting a missing id does nothing.
    """

    name = "usearch"
    version = "0.1.0"
    description = "USearch HNSW index in memory: approximate top-k with tunable recall."
    config_optional = ("metric", *HNSW_DEFAULTS)
    array_queries = True  # search converts its query with np.asarray: a float32 array costs nothing

    def __init__(self) -> None:
        self._collections: dict[str, _Collection] = {}
        self._lock = threading.Lock()

    def initialize(self, config: dict[str, str]) -> None:
        try:
            from usearch.index import Index
        except ImportError:
            raise ImportError(f'builtin:usearch needs usearch: {install_command("usearch")}') from None
        metric = config.get("metric") or "cosine"
        if metric not in METRICS:
            raise ValueError(f"unknown metric {metric!r}; use one of {', '.join(METRICS)}")
        params: dict[str, Any] = {key: sdk.config_positive_int(config, key, default)
                                  for key, default in HNSW_DEFAULTS.items()}
        self._new_index: Callable[[int], Any] = lambda dimension: Index(ndim=dimension, metric=METRICS[metric],
                                                                       **params)
        self.metric = metric
        self._collections = {}

    def _get(self, collection: str) -> _Collection:
        try:
            return self._collections[collection]
        except KeyError:
            raise KeyError(f"no collection {collection!r}; upsert into it or create it first") from None

    def _vector(self, vector: Any, store: _Collection, what: str) -> np.ndarray:
        row = np.asarray(vector, dtype=np.float32)
        if row.shape != (store.index.ndim,):
            raise ValueError(f"the collection holds {store.index.ndim}-dimensional vectors, {what} {row.size}")
        return row

    def create_collection(self, collection: str, vector_size: int) -> None:
        if vector_size < 1:
            raise ValueError(f"vector_size must be positive, got {vector_size}")
        with self._lock:
            if collection in self._collections:
                raise ValueError(f"collection {collection!r} exists already")
            self._collections[collection] = _Collection(self._new_index(int(vector_size)))

    def delete_collection(self, collection: str) -> None:
        with self._lock:
            self._get(collection)
            del self._collections[collection]

    def upsert(self, collection: str, id: str, vector: Any, metadata: dict[str, str]) -> None:
        with self._lock:
            if collection not in self._collections:
                self._collections[collection] = _Collection(self._new_index(len(vector)))
            store = self._collections[collection]
            row = self._vector(vector, store, "got")
            old = store.keys.get(id)
            if old is not None:  # the high-level index refuses duplicate keys: replace = remove + add
                store.index.remove(old)
                del store.hits[old]
            key = store.next_key
            store.next_key += 1
            store.index.add(key, row)
            store.keys[id] = key
            store.hits[key] = _unscored_hit(id, metadata)

    def upsert_many(self, collection: str, ids: list[str], vectors: Any, metadata: list[dict[str, str]]) -> None:
        """One USearch ``add`` for many rows, as the engine's own bulk insert (the last of a repeated id wins)."""
        if not len(ids):
            return
        rows = np.asarray(vectors, dtype=np.float32)
        with self._lock:
            store = self._collections.get(collection)
            dimension = store.index.ndim if store is not None else rows.shape[-1]
            if rows.shape != (len(ids), dimension):
                raise ValueError(f"the collection holds {dimension}-dimensional vectors, got {len(ids)} vector(s) "
                                 f"of {rows.shape[-1] if rows.ndim == 2 else 'ragged'} values")
            if store is None:
                store = self._collections[collection] = _Collection(self._new_index(dimension))
            last = dict(zip(ids, range(len(ids)), strict=True))
            if len(last) < len(ids):
                positions = list(last.values())
                rows, ids, metadata = rows[positions], list(last), [metadata[p] for p in positions]
            replaced = [store.keys[id] for id in ids if id in store.keys]
            if replaced:  # the index refuses duplicate keys: replace = remove + add, as upsert does
                store.index.remove(replaced)
                for key in replaced:
                    del store.hits[key]
            keys = list(range(store.next_key, store.next_key + len(ids)))
            store.next_key += len(ids)
            store.index.add(np.asarray(keys, dtype=np.uint64), rows)
            store.keys.update(zip(ids, keys, strict=True))
            store.hits.update(zip(keys, map(_unscored_hit, ids, metadata), strict=True))

    def delete(self, collection: str, id: str) -> None:
        """Remove ``id``; a missing id or collection is nothing to do (Hector counts an error as a failure)."""
        with self._lock:
            store = self._collections.get(collection)
            if store is None or id not in store.keys:
                return
            key = store.keys.pop(id)
            store.index.remove(key)
            del store.hits[key]

    def search(self, collection: str, vector: Any, top_k: int) -> list[sdk.SearchResult]:
        with self._lock:
            if collection not in self._collections:
                return []  # nothing written yet: Hector's document store may search before its first upsert
            store = self._collections[collection]
            query = self._vector(vector, store, "the query has")
            if top_k <= 0 or not store.keys:
                return []
            # One query on this thread: USearch's default (every core) only adds a dispatch to a pool.
            matches = store.index.search(query, min(top_k, len(store.keys)), threads=1)
            hits = [store.hits[key] for key in matches.keys.tolist()]
        # USearch's distances: cos = 1 - cosine, ip = 1 - dot, l2sq = squared euclidean.
        distances = matches.distances
        scores = -np.sqrt(np.maximum(distances, 0.0)) if self.metric == "euclidean" else 1.0 - distances
        found = [_parse(hit) for hit in hits]
        for result, score in zip(found, scores.tolist(), strict=True):
            result.score = score
        return found


#: A serialized hit back as a message (see ``_Collection.hits``).
_parse = sdk.SearchResult.FromString


def _unscored_hit(id: str, metadata: Mapping[str, str]) -> bytes:
    """The hit ``id`` would be (its text where Hector reads it), without a score, serialized."""
    return search_result(id, 0.0, metadata).SerializeToString()
