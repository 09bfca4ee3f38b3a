"""A database provider with a per-item ``upsert`` and no ``upsert_many``: the plain provider of bench_host.

It is the memory database with its batch method taken away, so hector_nb's bulk
path must call ``upsert`` once per item. ``python benchmarks/per_item.py COUNT DIM``
times the provider's own loop over ``upsert`` in this process, the floor of that path.
"""

from __future__ import annotations

import sys
import time

import numpy as np

from hector_nb import sdk
from hector_nb.providers import MemoryDatabase


class PerItemDatabase(MemoryDatabase):
    """MemoryDatabase with only per-item ``upsert``."""

    name = "per-item"
    upsert_many = sdk.DatabaseProvider.upsert_many  # the SDK's default: hector_nb then calls upsert per item


def columns(count: int, dimension: int) -> tuple[list[str], np.ndarray, list[dict[str, str]]]:
    """``count`` seeded rows of ``dimension`` float32 values, with ids and one metadata field each."""
    vectors = np.random.default_rng(0).standard_normal((count, dimension)).astype(np.float32)
    return [f"id{i}" for i in range(count)], vectors, [{"n": str(i)} for i in range(count)]


def own_loop(count: int, dimension: int) -> float:
    """Items per second of the provider's own loop over ``upsert``, given each vector as a list of floats
    (as the Upsert RPC, and hector_nb's per-item path, give it)."""
    ids, vectors, metadata = columns(count, dimension)
    rows = vectors.tolist()
    database = PerItemDatabase()
    database.create_collection("c", dimension)
    start = time.perf_counter()
    for id, row, meta in zip(ids, rows, metadata, strict=True):
        database.upsert("c", id, row, meta)
    return count / (time.perf_counter() - start)


if __name__ == "__main__":
    print(own_loop(int(sys.argv[1]), int(sys.argv[2])))
