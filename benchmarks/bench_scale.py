#!/usr/bin/env python3
"""How each engine behaves as a collection grows: build time, memory, latency and recall.

Engines: ``memory`` (hector_nb's exact MemoryDatabase), ``usearch`` (HNSW),
``milvus-flat`` and ``milvus-hnsw`` (Milvus Lite with a FLAT or an HNSW index),
``qdrant`` (Qdrant's local mode, which searches exactly: it keeps no HNSW graph,
so its recall is 1.0 and its latency grows with the collection). Each is called
through its own Python client (hector_nb's overhead on top is what
``bench_engines.py`` measures), built from N clustered vectors of 384 dimensions
(``benchmarks/clustered.py``, seeded), then searched for the top 10 of each query,
at two or three search settings where the engine has them (HNSW's ``ef``).

Printed per engine, setting and size: build time (inserting everything, and for
Milvus the flush that builds its index), memory (resident memory added by the
build, the engine's processes included), search p50 and p95 (one query at a time),
queries per second (1 / mean latency), and recall@10 against the exact answer
(numpy over normalised rows). Each engine and size runs in a process of its own,
so that memory and caches do not carry over. ``--plot DIR`` draws
``scale_recall_qps.png`` (at the largest size) and ``scale_latency_size.png``.

Usage: ``python benchmarks/bench_scale.py [--engines ...] [--sizes 10000,100000] [--million] [--quick]
[--plot docs]``. ``--million`` adds 1,000,000 vectors (Qdrant's local mode is left
out there: its exact search in Python takes seconds per query). Times on the 2-core
development machine are in docs/speed.md.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import numpy as np
from clustered import clustered, queries

DIMENSION = 384
TOP_K = 10
BATCH = 1024
#: Search-time settings of the HNSW engines: ef, the candidates kept while searching.
EF = (16, 64, 256)
ENGINES = ("memory", "usearch", "milvus-flat", "milvus-hnsw", "qdrant")

Search = Callable[[np.ndarray], list[Any]]


def resident_mb() -> float:
    """Resident memory of this process and every process it started (an engine's server), in MB."""
    pids, total = [os.getpid()], 0.0
    children: dict[int, list[int]] = {}
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            with contextlib.suppress(OSError):
                parent = int((entry / "stat").read_text().rsplit(")", 1)[1].split()[1])
                children.setdefault(parent, []).append(int(entry.name))
    while pids:
        pid = pids.pop()
        pids += children.get(pid, [])
        with contextlib.suppress(OSError):
            total += int((Path("/proc") / str(pid) / "statm").read_text().split()[1]) * os.sysconf("SC_PAGESIZE")
    return total / 2**20


@contextlib.contextmanager
def memory_engine(vectors: np.ndarray) -> Iterator[dict[str, Search]]:
    from hector_nb.providers import MemoryDatabase

    database = MemoryDatabase()
    database.create_collection("c", DIMENSION)
    for start in range(0, len(vectors), BATCH):
        rows = vectors[start:start + BATCH]
        database.upsert_many("c", [str(i) for i in range(start, start + len(rows))], rows, [{}] * len(rows))
    yield {"exact": lambda query: [int(hit.id) for hit in database.search("c", query, TOP_K)]}


@contextlib.contextmanager
def usearch_engine(vectors: np.ndarray) -> Iterator[dict[str, Search]]:
    from usearch.index import Index

    index = Index(ndim=DIMENSION, metric="cos", connectivity=16, expansion_add=128)
    index.add(np.arange(len(vectors), dtype=np.uint64), vectors)

    def with_ef(ef: int) -> Search:
        def search(query: np.ndarray) -> list[Any]:
            index.expansion_search = ef
            return index.search(query, TOP_K).keys.tolist()
        return search

    yield {f"ef={ef}": with_ef(ef) for ef in EF}


def _milvus(vectors: np.ndarray, index_type: str, settings: dict[str, dict[str, Any]]
            ) -> Iterator[dict[str, Search]]:
    from pymilvus import DataType, MilvusClient

    with tempfile.TemporaryDirectory(prefix="bench-scale-milvus-") as directory:
        client = MilvusClient(uri=os.path.join(directory, "milvus.db"))
        schema = MilvusClient.create_schema(auto_id=False, enable_dynamic_field=False)
        schema.add_field("id", DataType.INT64, is_primary=True)
        schema.add_field("vector", DataType.FLOAT_VECTOR, dim=DIMENSION)
        index = client.prepare_index_params()
        params = {"M": 16, "efConstruction": 128} if index_type == "HNSW" else {}
        index.add_index("vector", index_type=index_type, metric_type="COSINE", params=params)
        client.create_collection("c", schema=schema, index_params=index, consistency_level="Strong")
        for start in range(0, len(vectors), BATCH):
            rows = vectors[start:start + BATCH]
            client.insert("c", [{"id": start + i, "vector": row} for i, row in enumerate(rows.tolist())])
        client.flush("c")

        def with_params(search_params: dict[str, Any]) -> Search:
            return lambda query: [hit["id"] for hit in client.search(
                "c", data=[query.tolist()], limit=TOP_K, search_params=search_params)[0]]

        try:
            yield {name: with_params(search_params) for name, search_params in settings.items()}
        finally:
            client.close()


@contextlib.contextmanager
def milvus_flat_engine(vectors: np.ndarray) -> Iterator[dict[str, Search]]:
    yield from _milvus(vectors, "FLAT", {"exact": {}})


@contextlib.contextmanager
def milvus_hnsw_engine(vectors: np.ndarray) -> Iterator[dict[str, Search]]:
    yield from _milvus(vectors, "HNSW", {f"ef={ef}": {"params": {"ef": max(ef, TOP_K)}} for ef in EF})


@contextlib.contextmanager
def qdrant_engine(vectors: np.ndarray) -> Iterator[dict[str, Search]]:
    from qdrant_client import QdrantClient, models

    client = QdrantClient(location=":memory:")
    client.create_collection("c", vectors_config=models.VectorParams(size=DIMENSION,
                                                                     distance=models.Distance.COSINE))
    for start in range(0, len(vectors), BATCH):
        rows = vectors[start:start + BATCH]
        client.upsert("c", points=models.Batch(ids=list(range(start, start + len(rows))), vectors=rows.tolist()))
    try:
        yield {"exact (local mode)": lambda query: [hit.id for hit in client.query_points(
            "c", query=query.tolist(), limit=TOP_K).points]}
    finally:
        client.close()


BUILDERS: dict[str, Callable[[np.ndarray], contextlib.AbstractContextManager[dict[str, Search]]]] = {
    "memory": memory_engine, "usearch": usearch_engine, "milvus-flat": milvus_flat_engine,
    "milvus-hnsw": milvus_hnsw_engine, "qdrant": qdrant_engine}


def exact_top(vectors: np.ndarray, probes: np.ndarray) -> list[set[int]]:
    """The true top-10 of each query by cosine, computed in slices (1M rows at once would double the memory)."""
    unit = probes / np.linalg.norm(probes, axis=1, keepdims=True)
    best_scores = np.full((len(probes), TOP_K), -np.inf, dtype=np.float32)
    best_ids = np.zeros((len(probes), TOP_K), dtype=np.int64)
    for start in range(0, len(vectors), 65536):
        rows = vectors[start:start + 65536]
        scores = (unit @ (rows / np.linalg.norm(rows, axis=1, keepdims=True)).T).astype(np.float32)
        scores = np.concatenate([best_scores, scores], axis=1)
        ids = np.concatenate([best_ids, np.broadcast_to(np.arange(start, start + len(rows)), scores[:, TOP_K:].shape)],
                             axis=1)
        keep = np.argpartition(-scores, TOP_K - 1, axis=1)[:, :TOP_K]
        best_scores, best_ids = np.take_along_axis(scores, keep, 1), np.take_along_axis(ids, keep, 1)
    return [set(row.tolist()) for row in best_ids]


def worker(engine: str, size: int, query_count: int) -> list[dict[str, Any]]:
    """Build one engine at one size in this process and measure each of its settings."""
    vectors, probes = clustered(size, DIMENSION), queries(query_count, DIMENSION)
    truth = exact_top(vectors, probes)
    before = resident_mb()
    start = time.perf_counter()
    rows = []
    with BUILDERS[engine](vectors) as settings:
        build = time.perf_counter() - start
        memory = resident_mb() - before
        for setting, search in settings.items():
            for query in probes[:10]:  # warm-up
                search(query)
            seconds, found = [], []
            for query in probes:
                begin = time.perf_counter()
                found.append(search(query))
                seconds.append(time.perf_counter() - begin)
            recall = float(np.mean([len(set(hits) & want) / TOP_K for hits, want in zip(found, truth, strict=True)]))
            rows.append({"engine": engine, "setting": setting, "size": size, "build_s": build, "memory_mb": memory,
                         "p50_ms": float(np.percentile(seconds, 50)) * 1e3,
                         "p95_ms": float(np.percentile(seconds, 95)) * 1e3, "qps": 1 / float(np.mean(seconds)),
                         "recall": recall, "load": os.getloadavg()[0]})
    return rows


def plot(results: list[dict[str, Any]], directory: Path) -> list[Path]:
    """Recall against QPS at the largest size, and p50 latency against size, one line per engine and setting."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    largest = max(row["size"] for row in results)
    figure, axes = plt.subplots(figsize=(7, 4.5))
    for engine in dict.fromkeys(row["engine"] for row in results):
        points = [row for row in results if row["engine"] == engine and row["size"] == largest]
        axes.plot([p["qps"] for p in points], [p["recall"] for p in points], marker="o", label=engine)
        for point in points:
            axes.annotate(point["setting"], (point["qps"], point["recall"]), fontsize=7,
                          textcoords="offset points", xytext=(4, -8))
    axes.set(xscale="log", xlabel="queries per second (one at a time, log scale)", ylabel="recall@10",
             title=f"Recall against speed, {largest:,} x {DIMENSION} clustered vectors")
    axes.grid(True, alpha=0.3)
    axes.legend()
    recall_path = directory / "scale_recall_qps.png"
    figure.tight_layout()
    figure.savefig(recall_path, dpi=110)
    plt.close(figure)

    figure, axes = plt.subplots(figsize=(7, 4.5))
    for key in dict.fromkeys((row["engine"], row["setting"]) for row in results):
        points = sorted((row for row in results if (row["engine"], row["setting"]) == key), key=lambda r: r["size"])
        axes.plot([p["size"] for p in points], [p["p50_ms"] for p in points], marker="o", label=" ".join(key))
    axes.set(xscale="log", yscale="log", xlabel="vectors in the collection", ylabel="search p50 (ms)",
             title=f"Search latency against size ({DIMENSION} dimensions, top {TOP_K})")
    axes.grid(True, which="both", alpha=0.3)
    axes.legend(fontsize=7)
    latency_path = directory / "scale_latency_size.png"
    figure.tight_layout()
    figure.savefig(latency_path, dpi=110)
    plt.close(figure)
    return [recall_path, latency_path]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--engines", default=",".join(ENGINES), help=f"comma-separated, of {', '.join(ENGINES)}")
    parser.add_argument("--sizes", default="10000,100000", help="comma-separated collection sizes")
    parser.add_argument("--million", action="store_true", help="add 1,000,000 vectors (without qdrant)")
    parser.add_argument("--queries", type=int, default=200, help="queries per setting (default 200)")
    parser.add_argument("--quick", action="store_true", help="sizes 2,000 and 10,000, 50 queries")
    parser.add_argument("--plot", type=Path, metavar="DIR", help="draw the two PNG plots into DIR")
    parser.add_argument("--json", type=Path, metavar="FILE", help="also write the rows as JSON")
    parser.add_argument("--worker", nargs=3, metavar=("ENGINE", "SIZE", "QUERIES"), help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.worker:
        engine, size, query_count = args.worker
        print(json.dumps(worker(engine, int(size), int(query_count))))
        return 0
    engines = args.engines.split(",")
    unknown = sorted(set(engines) - set(ENGINES))
    if unknown:
        parser.error(f"unknown engine(s) {', '.join(unknown)}; choose from {', '.join(ENGINES)}")
    sizes = [2_000, 10_000] if args.quick else [int(size) for size in args.sizes.split(",")]
    query_count = 50 if args.quick else args.queries
    if args.million:
        sizes.append(1_000_000)
    began = time.perf_counter()
    results = []
    print(f"{'engine':<12} {'setting':<19} {'size':>9} {'build s':>8} {'MB':>7} {'p50 ms':>8} {'p95 ms':>8} "
          f"{'QPS':>8} {'recall':>7} {'load':>5}")
    for size in sizes:
        for engine in engines:
            if engine == "qdrant" and size >= 1_000_000:
                continue  # exact search in Python: seconds per query at this size
            answer = subprocess.run([sys.executable, __file__, "--worker", engine, str(size), str(query_count)],
                                    capture_output=True, text=True, check=True)
            for row in json.loads(answer.stdout.splitlines()[-1]):
                results.append(row)
                print(f"{row['engine']:<12} {row['setting']:<19} {row['size']:>9,} {row['build_s']:>8.1f} "
                      f"{row['memory_mb']:>7.0f} {row['p50_ms']:>8.2f} {row['p95_ms']:>8.2f} {row['qps']:>8.0f} "
                      f"{row['recall']:>7.3f} {row['load']:>5.2f}", flush=True)
    print(f"took {time.perf_counter() - began:.0f} s")
    if args.json:
        args.json.write_text(json.dumps(results, indent=1) + "\n")
    if args.plot:
        for path in plot(results, args.plot):
            print(f"wrote {path}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
