#!/usr/bin/env python3
"""What ``hector_nb.evaluate`` adds to the searches it measures, beside a floor measured in the same run.

On the shipped dataset (100 judged queries, 652 documents, hashing embedder), for
the memory database in the kernel and as a plugin process: the whole ``evaluate``
(embedding the queries, searching, trec_eval's measures, the tables) beside the
floor of the same query embedding and the same searches in a bare loop. The ratio
is the price of the bookkeeping. Usage: ``python benchmarks/bench_evaluation.py``.
"""

from __future__ import annotations

import time

from hector_nb import Session
from hector_nb.data import STDLIB_QRELS
from hector_nb.datasets import load_beir
from hector_nb.evaluation import evaluate

ROUNDS = 3


def bare_loop(embedder, db, dataset) -> float:
    """Seconds to embed the queries and search with each, nothing else (the floor)."""
    began = time.perf_counter()
    for vector in embedder.embed_many(dataset.queries["text"]):
        db.search("docs", vector, 10)
    return time.perf_counter() - began


def evaluation(embedder, db, dataset, session) -> float:
    """Seconds of the whole evaluate() over the same queries."""
    began = time.perf_counter()
    evaluate([db], "docs", dataset, embedder, k=10, session=session)
    return time.perf_counter() - began


def main() -> None:
    dataset = load_beir(STDLIB_QRELS)
    print(f"{'database':<22}{'evaluate s':>11}{'floor s':>9}{'ratio':>7}")
    with Session() as session:
        embedder = session.load("builtin:hashing", transport="in-kernel")
        documents = embedder.embed_many(dataset.corpus["text"])
        for transport in ("in-kernel", "subprocess"):
            db = session.load("builtin:memory", name=f"memory-{transport}", transport=transport)
            db.create_collection("docs", documents.shape[1])
            db.upsert_many("docs", list(zip(dataset.corpus["id"], documents, [None] * len(documents), strict=True)))
            floor = min(bare_loop(embedder, db, dataset) for _ in range(ROUNDS))
            measured = min(evaluation(embedder, db, dataset, session) for _ in range(ROUNDS))
            print(f"{db.name:<22}{measured:11.3f}{floor:9.3f}{measured / floor:7.1f}")


if __name__ == "__main__":
    main()
