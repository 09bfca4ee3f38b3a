#!/usr/bin/env python3
"""Hector's indexing and searching through the store bridge, beside a floor measured in the same run.

Hector's document store sends one ``POST /api/v1/entities`` per chunk and one
``POST /api/v1/search`` per query, over a kept-alive connection (Go's http.Client). The
floor is what cannot be avoided: the same requests, same bodies, answered by a bare
Starlette route on uvicorn that only reads the JSON (what any Python HTTP server costs),
plus the same database calls made directly through the client. The bridge adds the
dialect (parsing, the filter, the log) and a hop to a worker thread. Target: at most 2
times the floor per request. Usage: ``python benchmarks/bench_store_bridge.py [CHUNKS]``.
"""

from __future__ import annotations

import json
import os
import sys
import threading
import time

import httpx
import numpy as np
import uvicorn
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import Route

from hector_nb import Session
from hector_nb.bridge.simulated_hector import filter_expr
from hector_nb.providers import MemoryDatabase

TARGET_RATIO = 2.0
DIMENSION = 384


async def _swallow(request: Request) -> JSONResponse:
    json.loads(await request.body())
    return JSONResponse({})


def _bare_server() -> tuple[uvicorn.Server, str]:
    """uvicorn serving a route that reads the JSON body and answers ``{}``, in a thread."""
    app = Starlette(routes=[Route("/api/v1/entities", _swallow, methods=["POST"]),
                            Route("/api/v1/search", _swallow, methods=["POST"])])
    # As the bridge configures uvicorn: its default HTTP parser, asyncio's loop, no access log.
    server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=0, log_level="warning", access_log=False,
                                           lifespan="off", loop="asyncio"))
    threading.Thread(target=server.run, daemon=True).start()
    deadline = time.monotonic() + 10
    while not server.started:
        if time.monotonic() > deadline:
            raise RuntimeError("the bare server did not start")
        time.sleep(0.01)
    port = server.servers[0].sockets[0].getsockname()[1]
    return server, f"http://127.0.0.1:{port}"


def _bodies(chunks: int) -> tuple[list[dict], list[dict]]:
    rng = np.random.default_rng(7)
    vectors = rng.standard_normal((chunks, DIMENSION)).astype(np.float32)
    upserts = [{"collection_name": "docs", "data": [{
        "id": f"/data/docs/file{n // 4}.txt:chunk:{n % 4}", "vector": vectors[n].tolist(),
        "content": f"chunk {n} " * 40, "path": f"/data/docs/file{n // 4}.txt", "chunk_index": n % 4,
        "collection": "docs", "store_name": "docs"}]} for n in range(chunks)]
    searches = [{"collection_name": "docs", "vector": vectors[n].tolist(), "top_k": 20, "metric_type": "COSINE",
                 "expr": filter_expr({"collection": "docs"})} for n in range(0, chunks, 10)]
    return upserts, searches


def _per_request(url: str, path: str, bodies: list[dict]) -> float:
    """Seconds per request, one after the other on one kept-alive connection, as Hector sends them (an upsert
    again is an overwrite, the same work)."""
    with httpx.Client(base_url=url) as client:
        began = time.perf_counter()
        for body in bodies:
            client.post(path, json=body).raise_for_status()
        return (time.perf_counter() - began) / len(bodies)


def _direct(session: Session, upserts: list[dict], searches: list[dict]) -> tuple[float, float]:
    """Seconds per upsert and per search made directly through the client, into a database of its own."""
    session.add("direct", MemoryDatabase())
    db = session.database("direct")
    began = time.perf_counter()
    for body in upserts:
        row = body["data"][0]
        db.upsert("docs", row["id"], row["vector"], {k: str(v) for k, v in row.items() if k not in ("id", "vector")})
    upsert = (time.perf_counter() - began) / len(upserts)
    began = time.perf_counter()
    for body in searches:
        db.search("docs", body["vector"], 64)  # what the bridge asks for a filtered top 20
    return upsert, (time.perf_counter() - began) / len(searches)


def main() -> None:
    chunks = int(sys.argv[1]) if len(sys.argv) > 1 else 2000
    upserts, searches = _bodies(chunks)
    bare, bare_url = _bare_server()
    with Session() as session:
        session.add("store", MemoryDatabase())
        with session.serve(["store"]) as bridge:
            # Best of three, floor and figure taken in turns: the machine's noise hits both alike.
            http_upsert, upsert, http_search, search = (min(times) for times in zip(*(
                (_per_request(bare_url, "/api/v1/entities", upserts),
                 _per_request(bridge.url, "/api/v1/entities", upserts),
                 _per_request(bare_url, "/api/v1/search", searches),
                 _per_request(bridge.url, "/api/v1/search", searches)) for _ in range(3)), strict=True))
        db_upsert, db_search = _direct(session, upserts, searches)
    bare.should_exit = True
    print(f"{chunks} chunks of {DIMENSION} dimensions, memory database in the kernel; "
          f"load average {os.getloadavg()[0]:.1f}")
    print(f"{'request':>10}{'HTTP ms':>9}{'db ms':>8}{'floor ms':>10}{'bridge ms':>11}{'ratio':>7}")
    for name, http, direct, measured in (("upsert", http_upsert, db_upsert, upsert),
                                         ("search", http_search, db_search, search)):
        floor = http + direct
        ratio = measured / floor
        flag = "" if ratio <= TARGET_RATIO else f"  OVER {TARGET_RATIO:g}x"
        print(f"{name:>10}{http * 1000:>9.3f}{direct * 1000:>8.3f}{floor * 1000:>10.3f}{measured * 1000:>11.3f}"
              f"{ratio:>6.2f}x{flag}")


if __name__ == "__main__":
    main()
