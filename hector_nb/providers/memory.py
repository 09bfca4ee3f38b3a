"""MemoryDatabase: exact vector search in numpy arrays, one per collection.

Each collection keeps, beside its rows, what every search would otherwise
recompute: the squared norm of each row (euclidean) and its inverse norm
(cosine). A search is then one matrix-vector product and one partial sort,
the same work as the numpy floor, and it stays exhaustive (exact).
"""

from __future__ import annotations

import math
import threading
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from .. import sdk
from .results import search_result

METRICS = ("cosine", "dot", "euclidean")
#: float32's unit roundoff: the bound below on rounding in a dot product of n terms is (n + 2) * this.
_ROUNDOFF = float(np.finfo(np.float32).eps) / 2


#: Rows are stored in blocks of this many bytes: a growing collection appends a block, it never copies its rows.
#: Large, because a search is one matrix product per block, and each product wakes the BLAS threads: on a busy
#: machine 10 blocks of 16 MiB made a search of 100k x 384 rows 3.4 times slower than one block (1.1x with one
#: BLAS thread). 256 MiB holds 174k rows of 384 floats.
BLOCK_BYTES = 256 * 1024 * 1024
_FIRST_ROWS = 16


@dataclass
class _Collection:
    """A collection's rows in blocks of ``block_rows`` rows, and per row its norms, id and metadata.

    Only the first block grows (geometrically, in place by ``realloc``, up to ``block_rows``), so
    a small collection stays small; once it is full, each further block is
    allocated at full size and filled in place. Loading a million rows therefore
    copies at most one block, where one growing array would copy every row
    again at each doubling and briefly hold two copies of them.
    """

    dimension: int
    block_rows: int
    blocks: list[np.ndarray]
    squared_norms: np.ndarray
    inverse_norms: np.ndarray
    ids: list[str] = field(default_factory=list)
    metadata: list[dict[str, str]] = field(default_factory=list)
    rows: dict[str, int] = field(default_factory=dict)

    @classmethod
    def empty(cls, dimension: int) -> _Collection:
        block_rows = max(1, BLOCK_BYTES // (4 * dimension))
        first = min(_FIRST_ROWS, block_rows)
        return cls(dimension, block_rows, [np.empty((first, dimension), dtype=np.float32)],
                   np.empty(first, dtype=np.float32), np.empty(first, dtype=np.float32))

    @property
    def capacity(self) -> int:
        return (len(self.blocks) - 1) * self.block_rows + len(self.blocks[-1])

    def reserve(self, count: int) -> None:
        """Room for ``count`` rows: the first block grows until full, then whole blocks are added."""
        if count > len(self.squared_norms):  # the norms are 1/dimension of the rows: one array, grown geometrically
            norms = max(count, 2 * len(self.squared_norms))
            self.squared_norms = _grown(self.squared_norms, norms)
            self.inverse_norms = _grown(self.inverse_norms, norms)
        first = self.blocks[0]
        if len(self.blocks) == 1 and len(first) < self.block_rows and count > len(first):
            self.blocks[0] = _grown(first, min(self.block_rows, max(count, 2 * len(first))))
        while self.capacity < count:
            self.blocks.append(np.empty((self.block_rows, self.dimension), dtype=np.float32))

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

    def _spans(self, start: int, stop: int) -> Iterator[tuple[np.ndarray, int, int, int]]:
        """``(block, first row in block, end in block, offset from start)`` covering rows ``start:stop``."""
        while start < stop:
            block, offset = divmod(start, self.block_rows)
            end = min(self.block_rows, offset + stop - start)
            yield self.blocks[block], offset, end, start
            start += end - offset

    def _by_block(self, indices: np.ndarray) -> Iterator[tuple[np.ndarray, np.ndarray, np.ndarray]]:
        """``(block, rows in block, positions in indices)`` for each block the row ``indices`` touch."""
        blocks, offsets = np.divmod(indices, self.block_rows)
        if len(self.blocks) == 1 or (len(blocks) and blocks.min() == blocks.max()):
            yield self.blocks[int(blocks[0]) if len(blocks) else 0], offsets, np.arange(len(indices))
            return
        for block in np.unique(blocks):
            positions = np.flatnonzero(blocks == block)
            yield self.blocks[block], offsets[positions], positions

    def write(self, start: int, rows: np.ndarray) -> None:
        """Store ``rows`` as rows ``start``, ``start + 1``... and the norms every search needs."""
        for block, first, end, at in self._spans(start, start + len(rows)):
            block[first:end] = rows[at - start:at - start + end - first]
        self._norms(slice(start, start + len(rows)), rows)

    def write_at(self, indices: np.ndarray, rows: np.ndarray) -> None:
        """Store ``rows[i]`` as row ``indices[i]`` (rows already placed), and their norms."""
        for block, offsets, positions in self._by_block(indices):
            block[offsets] = rows[positions]
        self._norms(indices, rows)

    def write_one(self, index: int, row: np.ndarray) -> None:
        """Store one row and its norms: a per-item upsert's path, without the array bookkeeping of a batch."""
        block, offset = divmod(index, self.block_rows)
        self.blocks[block][offset] = row
        squared = float(np.dot(row, row))
        self.squared_norms[index] = squared
        self.inverse_norms[index] = 1.0 / math.sqrt(squared) if squared > 0 else 0.0

    def _norms(self, indices: np.ndarray | slice, rows: np.ndarray) -> None:
        squared = np.einsum("ij,ij->i", rows, rows)
        self.squared_norms[indices] = squared
        norms = np.sqrt(squared)
        self.inverse_norms[indices] = np.divide(1.0, norms, out=np.zeros_like(norms), where=norms > 0)

    def gather(self, indices: np.ndarray) -> np.ndarray:
        """The rows at ``indices``, as one array."""
        gathered = np.empty((len(indices), self.dimension), dtype=np.float32)
        for block, offsets, positions in self._by_block(indices):
            gathered[positions] = block[offsets]
        return gathered

    def products(self, count: int, query: np.ndarray) -> np.ndarray:
        """The dot product of ``query`` with each of the first ``count`` rows: one matrix product per block."""
        if count <= len(self.blocks[0]):
            in_one_block: np.ndarray = self.blocks[0][:count] @ query
            return in_one_block
        products = np.empty(count, dtype=np.float32)
        for block, first, end, at in self._spans(0, count):
            np.matmul(block[first:end], query, out=products[at:at + end - first])
        return products

    def move(self, source: int, target: int) -> None:
        source_block, source_row = divmod(source, self.block_rows)
        target_block, target_row = divmod(target, self.block_rows)
        self.blocks[target_block][target_row] = self.blocks[source_block][source_row]
        self.squared_norms[target] = self.squared_norms[source]
        self.inverse_norms[target] = self.inverse_norms[source]


def euclidean_similarity(distances: np.ndarray) -> np.ndarray:
    """Euclidean distances as scores Hector can threshold: ``1 / (1 + d)``, in (0, 1], higher is nearer."""
    return 1.0 / (1.0 + distances)


def _finite(rows: np.ndarray, what: str) -> np.ndarray:
    """``rows`` unless a value is NaN or infinite: stored, it would make every search score NaN."""
    if not np.isfinite(rows).all():
        raise ValueError(f"{what} holds NaN or infinite values; fix or drop it")
    return rows


def _grown(array: np.ndarray, capacity: int) -> np.ndarray:
    """``array`` itself with room for ``capacity`` rows, enlarged in place by ``realloc``.

    Only the store holds these arrays (every view of them lives inside one locked call), so no
    reference check is needed. A large array is moved by remapping its pages, not by copying them:
    copying into a new array touched every stored row's memory again at each doubling, and where
    page faults are dear (on the shared VM the benchmarks ran on) that was most of a batched load's time.
    """
    array.resize((capacity, *array.shape[1:]), refcheck=False)
    return array


def _checked(vector: sdk.VectorLike, store: _Collection, collection: str, what: str) -> np.ndarray:
    row = np.asarray(vector, dtype=np.float32)
    if row.shape != (store.dimension,):
        raise ValueError(f"collection {collection!r} holds {store.dimension}-dimensional vectors, {what} {row.size}")
    return _finite(row, "the query vector" if "query" in what else "the vector")


def _checked_rows(vectors: Any, count: int, store: _Collection, collection: str) -> np.ndarray:
    rows = np.asarray(vectors, dtype=np.float32)
    if rows.ndim != 2 or rows.shape != (count, store.dimension):
        got = rows.shape[1] if rows.ndim == 2 else "ragged"
        raise ValueError(f"collection {collection!r} holds {store.dimension}-dimensional vectors, got {count} "
                         f"vector(s) of {got} values")
    return _finite(rows, "a vector")


class MemoryDatabase(sdk.DatabaseProvider):
    """An in-memory vector database with exact top-k search.

    Config ``metric``: ``cosine`` (default), ``dot`` or ``euclidean``. Scores are
    higher-is-better: cosine similarity, dot product, or for euclidean the
    similarity ``1 / (1 + distance)``, in (0, 1] (1 for the query's own vector),
    so that Hector's document store, which drops hits scoring below 0.5, keeps
    the near ones. A result carries its text both in ``content`` and in its
    metadata ``content`` (taken from ``text`` when only that was given): Hector's
    ``include_context`` reads the first, its agents' ``search`` tool the second.

    As Hector's document store uses a database: the first upsert into an unknown
    collection creates it, with the vector's dimension (Hector never calls
    ``CreateCollection``), and any metadata keys are kept as given.
    """

    name = "memory"
    version = "0.1.0"
    description = "In-memory vector database (numpy), exact top-k by cosine, dot or euclidean."
    config_optional = ("metric",)
    array_queries = True  # search converts its query with np.asarray: a float32 array costs nothing
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

    def upsert(self, collection: str, id: str, vector: sdk.VectorLike, metadata: dict[str, str]) -> None:
        with self._lock:
            vector = np.asarray(vector, dtype=np.float32)  # converted once: a list costs more than the write
            store = self._target(collection, vector.size)
            row = _checked(vector, store, collection, "got")
            self._keep(collection, store)
            store.reserve(len(store.ids) + 1)
            store.write_one(store.place(id, dict(metadata)), row)

    def upsert_many(self, collection: str, ids: Sequence[str], vectors: Any, metadata: Sequence[dict[str, str]]
                    ) -> None:
        """All rows at once: checked first (nothing is written when one is wrong), the last of a repeated id wins."""
        with self._lock:
            shape = np.shape(vectors)
            store = self._target(collection, shape[1] if len(shape) == 2 else 0)
            rows = _checked_rows(vectors, len(ids), store, collection)
            self._keep(collection, store)
            last = dict(zip(ids, range(len(ids)), strict=True))  # the last position of each id
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
                store.write(start, rows)
                return
            place = store.place
            indices = np.fromiter((place(id, dict(meta)) for id, meta in zip(ids, metadata, strict=True)),
                                  dtype=np.intp, count=len(ids))
            store.write_at(indices, rows)

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
        products = store.products(count, query)
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
        distances = np.linalg.norm(store.gather(candidates) - query, axis=1)
        order = np.argsort(distances, kind="stable")[:k]
        return candidates[order], euclidean_similarity(distances[order])

    def search(self, collection: str, vector: sdk.VectorLike, top_k: int) -> list[sdk.SearchResult]:
        with self._lock:
            store = self._get(collection)
            query = _checked(vector, store, collection, "the query has")
            count = len(store.ids)
            if count == 0 or top_k <= 0:
                return []
            best, scores = self._best(store, count, query, min(top_k, count))
            return [search_result(store.ids[i], score, store.metadata[i])
                    for i, score in zip(best.tolist(), scores.tolist(), strict=True)]
