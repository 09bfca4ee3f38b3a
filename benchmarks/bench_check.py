#!/usr/bin/env python3
"""How long the conformance check of a well-behaved plugin takes, beside a floor measured in the same run.

For each built-in toy plugin run as Hector runs it (a subprocess): the whole
``hector_nb.check`` (target: under 10 s), beside the floor of starting and stopping
that plugin once through the host (the check starts it about five times: the raw
process probe, the shared instance and fresh instances for stream cancellation and
the three robustness checks). Usage: ``python benchmarks/bench_check.py``.
"""

from __future__ import annotations

import time

import hector_nb.conformance as conformance
from hector_nb.conformance.target import target_of_path
from hector_nb.plugin import sdk

TARGET_SECONDS = 10.0


def start_and_stop(path: str) -> float:
    """Seconds to start the plugin, initialize it and stop it once (the floor)."""
    target = target_of_path(path)
    began = time.monotonic()
    transport = target.start(20.0)
    transport.stub.Initialize(sdk.InitializeRequest(), timeout=5.0)
    transport.stop(5.0)
    return time.monotonic() - began


def main() -> None:
    print(f"{'plugin':<16}{'check s':>9}{'floor s':>9}{'ratio':>7}  verdicts")
    for builtin in ("echo", "memory", "hashing"):
        path = f"builtin:{builtin}"
        floor = min(start_and_stop(path) for _ in range(3))
        began = time.monotonic()
        report = conformance.check(path)
        took = time.monotonic() - began
        flag = "" if took < TARGET_SECONDS else f"  OVER the {TARGET_SECONDS:g} s target"
        print(f"{path:<16}{took:9.2f}{floor:9.2f}{took / floor:7.1f}  {report.summary.split(': ', 1)[1]}{flag}")


if __name__ == "__main__":
    main()
