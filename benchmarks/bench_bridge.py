#!/usr/bin/env python3
"""The bridge's speed (docs/bridge.md), each figure beside a floor measured in the same run.

- ``latency``: a short unary request (``POST /api/chat``, ``stream: false``, and
  ``POST /v1/responses``) to an in-kernel echo provider, p50, beside calling the
  same client directly (``LLMClient.send``); the figure is the time added
  (target: at most 1 ms on an idle machine). The client sends a prepared
  HTTP/1.1 request on one kept-alive socket (as Hector's Go client keeps one)
  and reads the answer by its Content-Length: a minimal client, so that the
  figure is the bridge's time, not a Python HTTP client's.
- ``stream``: streamed chunks/s through ``/api/chat`` and ``/v1/responses``,
  read by a client in another process (as Hector is), beside the same provider's
  gRPC stream (the echo plugin as a subprocess, read through
  ``LLMClient.send_streaming``) (target: at least 0.7x).

Machines are noisy: each figure is the best of a few repetitions, floor and figure alike, and the load
average is printed beside it. Usage: ``python benchmarks/bench_bridge.py [FIGURE ...] [--quick]``.
"""

from __future__ import annotations

import argparse
import json
import socket
import statistics
import subprocess
import sys
import time
from urllib.parse import urlsplit

from bench_host import Figure, _latencies, figure_arguments, measure, print_figures

from hector_nb import Session, sdk
from hector_nb.providers import EchoLLM, builtin_plugin_path


class KeptAlive:
    """One HTTP/1.1 connection sending a prepared request and reading each answer whole."""

    def __init__(self, url: str) -> None:
        parts = urlsplit(url)
        self.host = f"{parts.hostname}:{parts.port}"
        self.socket = socket.create_connection((parts.hostname, parts.port), timeout=60)
        self.socket.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)

    def request(self, path: str, body: dict) -> bytes:
        payload = json.dumps(body).encode()
        return (f"POST {path} HTTP/1.1\r\nHost: {self.host}\r\nContent-Type: application/json\r\n"
                f"Content-Length: {len(payload)}\r\n\r\n").encode() + payload

    def exchange(self, request: bytes) -> bytes:
        """Send ``request``; the answer's body (the status must be 200)."""
        self.socket.sendall(request)
        received = b""
        while b"\r\n\r\n" not in received:
            received += self.socket.recv(65536)
        head, _, body = received.partition(b"\r\n\r\n")
        assert head.startswith(b"HTTP/1.1 200"), head
        length = int(head.lower().split(b"content-length: ")[1].split(b"\r\n")[0])
        while len(body) < length:
            body += self.socket.recv(65536)
        return body

    def close(self) -> None:
        self.socket.close()


def latency(args: argparse.Namespace) -> list[Figure]:
    request = sdk.GenerateRequest(messages=[sdk.Message(role=sdk.ROLE_USER, content="ping")])
    bodies = {"/api/chat": {"model": "echo", "stream": False, "messages": [{"role": "user", "content": "ping"}]},
              "/v1/responses": {"model": "echo", "input": "ping"}}
    figures = []
    with Session(timeout=60) as session:
        llm = session.add("echo", EchoLLM())
        with session.serve("echo") as bridge:
            connection = KeptAlive(bridge.url)
            for path, body in bodies.items():
                prepared = connection.request(path, body)

                def over_http(prepared: bytes = prepared) -> None:
                    connection.exchange(prepared)

                # Alternated, so that both see the same moments of a busy machine.
                pairs = [(statistics.median(_latencies(lambda: llm.send(request), args.calls)),
                          statistics.median(_latencies(over_http, args.calls))) for _ in range(args.repeats)]
                floor, measured = min(p[0] for p in pairs), min(p[1] for p in pairs)
                added = (measured - floor) * 1e3
                figures.append(Figure(f"unary {path} p50, in-kernel echo", f"{measured * 1e3:.2f} ms",
                                      f"LLMClient.send {floor * 1e6:.0f} us", measured / floor,
                                      f"+{added:.2f} ms (<= +1 ms)", added <= 1.0))
            connection.close()
    return figures


#: A client in its own process: streams one answer, counts its text chunks, prints chunks per second.
READER = """
import http.client, json, sys, time
from urllib.parse import urlsplit
url, path, body = sys.argv[1], sys.argv[2], sys.argv[3]
mark = b'"done":false' if path == "/api/chat" else b"event: response.output_text.delta"
parts = urlsplit(url)
connection = http.client.HTTPConnection(parts.hostname, parts.port, timeout=120)
start = time.perf_counter()
connection.request("POST", path, body, {"Content-Type": "application/json"})
received = sum(1 for line in connection.getresponse() if mark in line)
print(received, received / (time.perf_counter() - start))
"""


def stream(args: argparse.Namespace) -> list[Figure]:
    count = args.chunks
    prompt = " ".join(["word"] * count)
    request = sdk.GenerateRequest(messages=[sdk.Message(role=sdk.ROLE_USER, content=prompt)])
    bodies = {"/api/chat": {"model": "echo", "messages": [{"role": "user", "content": prompt}]},
              "/v1/responses": {"model": "echo", "stream": True, "input": prompt}}
    figures = []
    with Session(timeout=120) as session:
        llm = session.load(builtin_plugin_path("echo"))

        def grpc_stream() -> float:
            start = time.perf_counter()
            received = sum(1 for chunk in llm.send_streaming(request) if chunk.type == sdk.CHUNK_TYPE_TEXT)
            assert received == count
            return received / (time.perf_counter() - start)

        with session.serve("echo") as bridge:
            for path, body in bodies.items():
                def over_http(path: str = path, body: dict = body) -> float:
                    reader = subprocess.run([sys.executable, "-c", READER, bridge.url, path, json.dumps(body)],
                                            capture_output=True, text=True, timeout=300, check=True)
                    received, rate = reader.stdout.split()
                    assert int(received) == count, reader.stdout
                    return float(rate)

                # Alternated, so that both see the same moments of a busy machine.
                pairs = [(grpc_stream(), over_http()) for _ in range(args.repeats)]
                floor, measured = max(p[0] for p in pairs), max(p[1] for p in pairs)
                figures.append(Figure(f"streamed chunks/s through {path}, echo plugin", f"{measured:,.0f} /s",
                                      f"its gRPC stream {floor:,.0f} /s", measured / floor, ">= 0.7x",
                                      measured / floor >= 0.7))
    return figures


FIGURES = {"latency": latency, "stream": stream}


def main(argv: list[str] | None = None) -> int:
    args = figure_arguments(FIGURES, __doc__.splitlines()[0], argv)
    args.calls, args.repeats, args.chunks = 2_000 // args.scale, 5, 20_000 // args.scale
    print_figures(measure(FIGURES, args.figures, args))
    return 0

if __name__ == "__main__":
    sys.exit(main())
