#!/usr/bin/env python3
"""The real engines through hector_nb beside the same engine called directly, in one run.

For ``builtin:usearch``, ``builtin:milvus`` (Milvus Lite) and ``builtin:qdrant``
(Qdrant's local mode), each with its provider's default settings: the bulk insert
rate of N clustered vectors of 384 dimensions (``benchmarks/clustered.py``) and the
search p50 of top-10 queries, three ways:

- native: the engine's own Python client, as a user would call it (one bulk call per
  1,024 rows, a query as a list or array), the floor. USearch keeps no documents, so
  its native search also maps each hit's key to the user's id and metadata, as any
  program using it must; and it searches the very graph the in-kernel provider built
  (two HNSW builds on several threads differ, and by more search time than hector_nb
  adds);
- in-kernel: ``session.load("builtin:NAME", transport="in-kernel")``, target at most
  1.2x the native search p50;
- subprocess: the built-in as a plugin process, the wire's cost beside it.

The three ways are built one after the other (each insert timed alone), then the
queries run in rounds: in each, every way runs all of them in a row, so each way's
searches see their own caches (a search right after another way's search of the same
query would find it warm; one right after a subprocess call shares the cores with
grpc's threads winding down). The p50 is the median over all rounds, after a
warm-up. The machine's load is printed beside each engine's figures.
Usage: ``python benchmarks/bench_engines.py [ENGINE ...] [--vectors N] [--quick]``
(``--quick``: 2,000 vectors and 100 queries; the default, 10,000 vectors and 300
queries, takes about a minute on an idle 2-core machine, most of it Qdrant's inserts).
"""

from __future__ import annotations

import argparse
import contextlib
import os
import statistics
import sys
import tempfile
import time
import warnings
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import Any, cast

import numpy as np
from clustered import clustered, queries

from hector_nb import Session

DIMENSION = 384
BATCH = 1024
TOP_K = 10
ROUNDS = 3
ROUNDS_SECONDS = 30.0
WARM_UP = 20


@dataclass
class Run:
    """One way of calling one engine: seconds to insert everything, its search, and each query's seconds."""

    insert_seconds: float
    search: Callable[[np.ndarray], object]
    search_seconds: list[float] = field(default_factory=list)
    #: The database client, for a way through hector_nb.
    database: Any = None

    def rate(self, count: int) -> float:
        return count / self.insert_seconds

    @property
    def p50(self) -> float:
        return statistics.median(self.search_seconds)


def _batches(count: int) -> Iterator[slice]:
    for start in range(0, count, BATCH):
        yield slice(start, min(count, start + BATCH))


def timed_searches(runs: list[Run], probes: np.ndarray) -> None:
    """All queries on one way after another, in rounds (see the module's docstring); after a warm-up.

    Up to :data:`ROUNDS` rounds, as many as fit in :data:`ROUNDS_SECONDS` by the warm-up's pace: one
    for engines whose searches take milliseconds, where a few µs of cache do not matter.
    """
    start = time.perf_counter()
    for run in runs:
        for query in probes[:WARM_UP]:
            run.search(query)
    round_seconds = (time.perf_counter() - start) / WARM_UP * len(probes)
    for _ in range(max(1, min(ROUNDS, int(ROUNDS_SECONDS / round_seconds)))):
        for run in runs:
            for query in probes:
                start = time.perf_counter()
                run.search(query)
                run.search_seconds.append(time.perf_counter() - start)


@contextlib.contextmanager
def native_usearch(vectors: np.ndarray) -> Iterator[Run]:
    from usearch.index import Index

    from hector_nb.providers.usearch import HNSW_DEFAULTS

    index = Index(ndim=DIMENSION, metric="cos", **HNSW_DEFAULTS)
    documents: list[tuple[str, dict[str, str]]] = []  # by key: what the user's program keeps beside USearch
    start = time.perf_counter()
    for rows in _batches(len(vectors)):
        index.add(np.arange(rows.start, rows.stop, dtype=np.uint64), vectors[rows])
        documents.extend((f"id{i}", {"n": str(i)}) for i in range(rows.start, rows.stop))
    inserted = time.perf_counter() - start
    yield Run(inserted, USearchHits(index, documents))


@dataclass
class USearchHits:
    """USearch's top-k as a user's program has them: each key's id and metadata, with the distance."""

    index: Any
    documents: list[tuple[str, dict[str, str]]]

    def __call__(self, query: np.ndarray) -> list[tuple[str, dict[str, str], float]]:
        matches = self.index.search(query, TOP_K)
        return [(*self.documents[key], distance)
                for key, distance in zip(matches.keys.tolist(), matches.distances.tolist(), strict=True)]


@contextlib.contextmanager
def native_qdrant(vectors: np.ndarray) -> Iterator[Run]:
    from qdrant_client import QdrantClient, models

    client = QdrantClient(location=":memory:")
    client.create_collection("c", vectors_config=models.VectorParams(size=DIMENSION,
                                                                     distance=models.Distance.COSINE))
    start = time.perf_counter()
    for rows in _batches(len(vectors)):
        client.upsert("c", points=models.Batch(ids=list(range(rows.start, rows.stop)),
                                               vectors=vectors[rows].tolist(),
                                               payloads=[{"n": str(i)} for i in range(rows.start, rows.stop)]))
    inserted = time.perf_counter() - start
    try:
        yield Run(inserted, lambda query: client.query_points("c", query=query.tolist(), limit=TOP_K,
                                                              with_payload=True))
    finally:
        client.close()


@contextlib.contextmanager
def native_milvus(vectors: np.ndarray) -> Iterator[Run]:
    from pymilvus import DataType, MilvusClient

    with tempfile.TemporaryDirectory(prefix="bench-milvus-") as directory:
        client = MilvusClient(uri=os.path.join(directory, "milvus.db"))
        schema = MilvusClient.create_schema(auto_id=False, enable_dynamic_field=False)
        schema.add_field("id", DataType.VARCHAR, is_primary=True, max_length=64)
        schema.add_field("vector", DataType.FLOAT_VECTOR, dim=DIMENSION)
        schema.add_field("metadata", DataType.JSON)
        index = client.prepare_index_params()
        index.add_index("vector", index_type="AUTOINDEX", metric_type="COSINE")
        client.create_collection("c", schema=schema, index_params=index, consistency_level="Strong")
        start = time.perf_counter()
        for rows in _batches(len(vectors)):
            client.upsert("c", [{"id": f"id{i}", "vector": row, "metadata": {"n": str(i)}}
                                for i, row in zip(range(rows.start, rows.stop), vectors[rows].tolist(), strict=True)])
        inserted = time.perf_counter() - start
        try:
            yield Run(inserted, lambda query: client.search("c", data=[query.tolist()], limit=TOP_K,
                                                            output_fields=["metadata"]))
        finally:
            client.close()


NATIVE: dict[str, Callable[[np.ndarray], contextlib.AbstractContextManager[Run]]] = {
    "usearch": native_usearch, "milvus": native_milvus, "qdrant": native_qdrant}


@contextlib.contextmanager
def through_hector_nb(engine: str, transport: str, vectors: np.ndarray) -> Iterator[Run]:
    items = [(f"id{i}", row, {"n": str(i)}) for i, row in enumerate(vectors)]
    with Session(timeout=300, start_timeout=120) as session, warnings.catch_warnings():
        warnings.simplefilter("ignore")  # the fidelity warnings about config defaults
        db: Any = session.load(f"builtin:{engine}", transport=transport)
        db.create_collection("c", DIMENSION)
        start = time.perf_counter()
        db.upsert_many("c", items)
        inserted = time.perf_counter() - start
        yield Run(inserted, lambda query: db.search("c", query, TOP_K), database=db)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("engines", nargs="*", metavar="ENGINE", help=f"default: all of {', '.join(NATIVE)}")
    parser.add_argument("--vectors", type=int, help="vectors to insert (default 10,000; 2,000 with --quick)")
    parser.add_argument("--quick", action="store_true", help="2,000 vectors and 100 queries")
    args = parser.parse_args(argv)
    unknown = sorted(set(args.engines) - set(NATIVE))
    if unknown:
        parser.error(f"unknown engine(s) {', '.join(unknown)}; choose from {', '.join(NATIVE)}")
    count = args.vectors or (2_000 if args.quick else 10_000)
    vectors, probes = clustered(count, DIMENSION), queries(100 if args.quick else 300, DIMENSION)
    print(f"{count:,} clustered vectors of {DIMENSION} dimensions, {len(probes)} top-{TOP_K} queries")
    print(f"{'engine':<9} {'way':<11} {'insert /s':>11} {'ratio':>6} {'search p50':>11} {'ratio':>6}  "
          f"{'load':>5}  target (in-kernel p50 <= 1.2x native)")
    for engine in args.engines or NATIVE:
        with contextlib.ExitStack() as stack:
            runs = {"native": stack.enter_context(NATIVE[engine](vectors)),
                    "in-kernel": stack.enter_context(through_hector_nb(engine, "in-kernel", vectors)),
                    "subprocess": stack.enter_context(through_hector_nb(engine, "subprocess", vectors))}
            if engine == "usearch":  # the same graph (see the module's docstring); both give keys in order
                cast(USearchHits, runs["native"].search).index = runs["in-kernel"].database.provider._collections[
                    "c"].index
            timed_searches(list(runs.values()), probes)
        native, load = runs["native"], os.getloadavg()[0]
        for way, run in runs.items():
            ratio = run.p50 / native.p50
            verdict = ("met" if ratio <= 1.2 else "MISSED") if way == "in-kernel" else ""
            print(f"{engine:<9} {way:<11} {run.rate(count):>11,.0f} {run.rate(count) / native.rate(count):>5.2f}x "
                  f"{run.p50 * 1e3:>8.3f} ms {ratio:>5.2f}x  {load:5.2f}  {verdict}", flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
