#!/usr/bin/env python3
"""Host speed on the subprocess transport, against the floor of a bare grpcio call.

Prints:
- unary Generate latency (p50/p99) of the built-in echo plugin through
  ``LLMClient.generate``, beside a bare grpcio unary call to a trivial server
  in another process over the same kind of socket (unix): target p50 <= 1.5x;
- upserts/s of 10,000 vectors of dimension 384 into the built-in memory
  database, sequential ``upsert`` versus pipelined ``upsert_many``: target >= 5x.

Usage: python benchmarks/bench_host.py [--calls 2000] [--vectors 10000] [--dim 384]
"""

from __future__ import annotations

import argparse
import collections
import os
import statistics
import subprocess
import sys
import tempfile
import time

import grpc
import numpy as np

from hector_nb import Session
from hector_nb.host.clients import MAX_IN_FLIGHT

FLOOR_SERVER = """
import sys, grpc
from concurrent import futures
server = grpc.server(futures.ThreadPoolExecutor(max_workers=16))
handler = grpc.method_handlers_generic_handler("bench.Floor", {
    "Ping": grpc.unary_unary_rpc_method_handler(lambda request, context: request)})
server.add_generic_rpc_handlers((handler,))
server.add_insecure_port("unix:" + sys.argv[1])
server.start()
print("ready", flush=True)
sys.stdin.read()
"""


def percentiles(samples: list[float]) -> tuple[float, float]:
    ordered = sorted(samples)
    return statistics.median(ordered) * 1e6, ordered[int(len(ordered) * 0.99) - 1] * 1e6


def time_calls(call, count: int) -> list[float]:
    for _ in range(min(200, count)):  # warm up the channel and the server's threads
        call()
    samples = []
    for _ in range(count):
        start = time.perf_counter()
        call()
        samples.append(time.perf_counter() - start)
    return samples


def floor(count: int) -> tuple[list[float], float, float]:
    """Bare grpcio over a unix socket: latency samples, then sequential and pipelined calls/s."""
    with tempfile.TemporaryDirectory() as directory:
        socket = os.path.join(directory, "floor.sock")
        server = subprocess.Popen([sys.executable, "-c", FLOOR_SERVER, socket], stdin=subprocess.PIPE,
                                  stdout=subprocess.PIPE, text=True)
        try:
            server.stdout.readline()
            with grpc.insecure_channel(f"unix:{socket}") as channel:
                ping = channel.unary_unary("/bench.Floor/Ping")
                payload = b"\n\x06\x12\x04ping"  # about the size of a one-message GenerateRequest
                samples = time_calls(lambda: ping(payload, timeout=10), count)
                vector = b"x" * 1600  # about the size of a 384-float UpsertRequest
                start = time.perf_counter()
                for _ in range(count):
                    ping(vector, timeout=10)
                sequential = count / (time.perf_counter() - start)
                start = time.perf_counter()
                pending: collections.deque = collections.deque()
                for _ in range(count):
                    if len(pending) >= MAX_IN_FLIGHT:
                        pending.popleft().result()
                    pending.append(ping.future(vector, timeout=10))
                for call in pending:
                    call.result()
                return samples, sequential, count / (time.perf_counter() - start)
        finally:
            server.kill()
            server.wait()


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--calls", type=int, default=2000, help="unary calls per latency measurement")
    parser.add_argument("--vectors", type=int, default=10_000, help="vectors to upsert")
    parser.add_argument("--dim", type=int, default=384, help="vector dimension")
    args = parser.parse_args()

    with Session(timeout=60) as session:
        llm = session.load("builtin:echo")
        generate = time_calls(lambda: llm.generate("ping"), args.calls)
        floor_samples, floor_sequential, floor_pipelined = floor(args.calls)
        g50, g99 = percentiles(generate)
        f50, f99 = percentiles(floor_samples)
        print(f"unary latency over unix sockets, {args.calls} calls")
        print(f"  bare grpcio call   p50 {f50:8.1f} us   p99 {f99:8.1f} us")
        print(f"  LLMClient.generate p50 {g50:8.1f} us   p99 {g99:8.1f} us")
        print(f"  ratio              p50 {g50 / f50:8.2f} x    p99 {g99 / f99:8.2f} x   (target p50 <= 1.5x)")

        db = session.load("builtin:memory")
        vectors = np.random.default_rng(0).standard_normal((args.vectors, args.dim)).astype(np.float32)
        items = [(f"id{i}", vectors[i], {"n": i}) for i in range(args.vectors)]
        db.create_collection("seq", args.dim)
        start = time.perf_counter()
        for id, vector, metadata in items:
            db.upsert("seq", id, vector, metadata)
        sequential = args.vectors / (time.perf_counter() - start)
        db.create_collection("bulk", args.dim)
        start = time.perf_counter()
        db.upsert_many("bulk", items)
        bulk = args.vectors / (time.perf_counter() - start)
        print(f"\nupserts of {args.vectors} vectors, dimension {args.dim}")
        print(f"  sequential upsert  {sequential:10.0f} /s")
        print(f"  upsert_many        {bulk:10.0f} /s")
        print(f"  ratio              {bulk / sequential:10.2f} x   (target >= 5x)")
        print(f"the ceiling: bare grpcio, 1600-byte unary calls, {MAX_IN_FLIGHT} in flight")
        print(f"  sequential         {floor_sequential:10.0f} /s")
        print(f"  pipelined          {floor_pipelined:10.0f} /s")
        print(f"  ratio              {floor_pipelined / floor_sequential:10.2f} x")
    return 0


if __name__ == "__main__":
    sys.exit(main())
