#!/usr/bin/env python3
"""hector_nb's speed, each figure as a ratio to a floor measured in the same run.

Figures (run them all, or name some: ``python benchmarks/bench_host.py search cold-start``):

- ``generate``: in-kernel ``LLMClient.generate``, the time added per call over
  calling the provider's ``generate`` directly (target: at most 7 us added);
- ``upsert-kernel``: in-kernel ``upsert_many`` of 100k x 384 into the memory
  database, beside the provider's own ``upsert_many`` (target: 250,000 vectors/s);
- ``memory-load``: ``MemoryDatabase.upsert_many`` of 100k x 384 (1M with
  ``--million``) in batches of 1,024 into one growing collection, beside copying the
  same rows into an array allocated beforehand (no target: it shows what growing costs);
- ``search``: exact top-10 over 100k x 384, in-kernel, beside numpy's normalised
  matrix product and ``argpartition`` (target: at most 1.3x);
- ``cold-start``: ``Session.load`` of each toy built-in and of docs/plugins.md's SDK
  plugin to its first answer, beside a process importing grpc (and numpy for the
  numpy providers; through ``/usr/bin/env python3`` for docs/plugins.md's plugin, as its
  shebang runs it) (target: at most 1.3x), with where the time goes (the host's
  steps, ``python -X importtime`` by package, each plugin process's CPU time);
- ``upsert-wire``: ``upsert_many`` of 10k x 384 into the memory database as a
  subprocess plugin, beside sequential ``upsert`` (target: 5x, and 30,000 vectors/s);
- ``upsert-per-item``: the same into a provider with per-item ``upsert`` only
  (``benchmarks/per_item.py``), beside that provider's own loop over ``upsert`` in
  its own process (target: 0.5x, and 30,000 vectors/s);
- ``stream``: streamed chunks/s from the echo plugin, beside a bare grpcio server
  stream of the same chunks, as a subprocess and in-process (target: at least 0.9x);
- ``unary``: ``LLMClient.generate`` p50 on the echo plugin, beside a bare grpcio
  unary call (target: at most 1.5x).

Machines are noisy: each timed figure is the best of a few repetitions, floor and
figure alike, interleaved where they are slow, and printed with the machine's load
(``os.getloadavg()``, one minute) when it was taken. The in-kernel figures count
this process's CPU time (``time.process_time``), which other processes on a shared
machine inflate less; the others are wall time.
Usage: ``python benchmarks/bench_host.py [FIGURE ...] [--quick] [--million]``.
"""

from __future__ import annotations

import argparse
import compileall
import contextlib
import functools
import os
import resource
import statistics
import subprocess
import sys
import tempfile
import time
import warnings
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
from per_item import PerItemDatabase, columns

import hector_nb
from hector_nb import Session, sdk
from hector_nb.providers import EchoLLM, MemoryDatabase, builtin_plugin_path

FLOOR_SERVER = """
import grpc
from concurrent import futures

def words(request, context):
    chunk = b"\\x12\\x05word "  # a TEXT StreamChunk of five characters
    for _ in range(int(request)):
        yield chunk

def floor_server(address):
    server = grpc.server(futures.ThreadPoolExecutor(max_workers=16))
    handler = grpc.method_handlers_generic_handler("bench.Floor", {
        "Ping": grpc.unary_unary_rpc_method_handler(lambda request, context: request),
        "Words": grpc.unary_stream_rpc_method_handler(words)})
    server.add_generic_rpc_handlers((handler,))
    server.add_insecure_port(address)
    server.start()
    return server
"""
FLOOR_PROCESS = FLOOR_SERVER + """
import sys
server = floor_server("unix:" + sys.argv[1])  # kept: a collected server stops
print("ready", flush=True)
sys.stdin.read()
"""


@dataclass
class Figure:
    name: str
    measured: str
    floor: str
    ratio: float
    target: str
    met: bool
    load: float = field(default_factory=lambda: os.getloadavg()[0])


#: In-kernel work is all in this process: its CPU time, which other processes do not inflate.
cpu_clock = time.process_time


def best_of(repeats: int, run: Callable[[], float]) -> float:
    """The smallest of ``repeats`` timings: the one least disturbed by other processes."""
    return min(run() for _ in range(repeats))


def per_call(function: Callable[[], object], calls: int) -> Callable[[], float]:
    def run() -> float:
        start = cpu_clock()
        for _ in range(calls):
            function()
        return (cpu_clock() - start) / calls

    return run


@contextlib.contextmanager
def floor_server(in_process: bool = False) -> Iterator[str]:
    """A bare grpcio server on a unix socket, in another process or in threads of this one: the wire's floor."""
    with tempfile.TemporaryDirectory() as directory:
        socket = os.path.join(directory, "floor.sock")
        if in_process:
            namespace: dict[str, Any] = {}
            exec(FLOOR_SERVER, namespace)  # noqa: S102 - the benchmark's own constant
            server = namespace["floor_server"](f"unix:{socket}")
            try:
                yield f"unix:{socket}"
            finally:
                server.stop(None)
            return
        process = subprocess.Popen([sys.executable, "-c", FLOOR_PROCESS, socket], stdin=subprocess.PIPE,
                                   stdout=subprocess.PIPE, text=True)
        try:
            process.stdout.readline()
            yield f"unix:{socket}"
        finally:
            process.kill()
            process.wait()


def generate_in_kernel(args: argparse.Namespace) -> Figure:
    provider = EchoLLM()
    provider.initialize({})
    messages, tools = [sdk.Message(role="user", content="ping")], []
    with Session() as session:
        llm = session.add("echo", EchoLLM())
        floor = best_of(5, per_call(lambda: provider.generate(messages, tools), args.calls))
        measured = best_of(5, per_call(lambda: llm.generate("ping"), args.calls))
    added = (measured - floor) * 1e6
    return Figure("in-kernel generate, added per call", f"{measured * 1e6:.1f} us",
                  f"provider.generate {floor * 1e6:.1f} us", measured / floor, f"+{added:.1f} us (<= +7 us)",
                  added <= 7)


def upsert_in_kernel(args: argparse.Namespace) -> Figure:
    ids, vectors, metadata = columns(args.vectors_kernel, args.dim)
    items = list(zip(ids, vectors, metadata, strict=True))

    def direct() -> float:
        db = MemoryDatabase()
        db.create_collection("c", args.dim)
        start = cpu_clock()
        db.upsert_many("c", ids, vectors, metadata)
        return cpu_clock() - start

    def client() -> float:
        with Session() as session:
            db = session.add("mem", MemoryDatabase())
            db.create_collection("c", args.dim)
            start = cpu_clock()
            db.upsert_many("c", items)
            return cpu_clock() - start

    floor, measured = best_of(3, direct), best_of(3, client)
    rate = len(ids) / measured
    return Figure(f"in-kernel upsert_many {len(ids) // 1000}k x {args.dim}", f"{rate:,.0f} /s",
                  f"MemoryDatabase.upsert_many {len(ids) / floor:,.0f} /s", floor / measured,
                  ">= 250,000 /s", rate >= 250_000)


def memory_load(args: argparse.Namespace) -> Figure:
    """MemoryDatabase.upsert_many in batches of 1,024 into a growing collection (1M x 384 with --million),
    beside copying the same rows into one array allocated beforehand (what storing them costs at least)."""
    count, batch = args.vectors_load, 1024
    rows = np.random.default_rng(0).standard_normal((batch, args.dim)).astype(np.float32)
    names = [f"id{i}" for i in range(count)]
    metadata = [{}] * batch

    def floor() -> float:
        store = np.empty((count, args.dim), dtype=np.float32)
        start = cpu_clock()
        for first in range(0, count, batch):
            store[first:first + batch] = rows[:count - first]
        return cpu_clock() - start

    def load() -> float:
        database = MemoryDatabase()
        database.create_collection("c", args.dim)
        start = cpu_clock()
        for first in range(0, count, batch):
            database.upsert_many("c", names[first:first + batch], rows[:count - first], metadata[:count - first])
        return cpu_clock() - start

    floor_seconds, seconds = best_of(2, floor), best_of(2, load)
    return Figure(f"MemoryDatabase load, {count // 1000}k x {args.dim} in batches of {batch}",
                  f"{count / seconds:,.0f} /s", f"rows copied into one array {count / floor_seconds:,.0f} /s",
                  floor_seconds / seconds, "(no target)", True)


def search_in_kernel(args: argparse.Namespace) -> Figure:
    ids, vectors, metadata = columns(args.vectors_kernel, args.dim)
    queries = np.random.default_rng(1).standard_normal((20, args.dim)).astype(np.float32)
    unit = vectors / np.linalg.norm(vectors, axis=1, keepdims=True)

    def numpy_floor() -> float:
        start = cpu_clock()
        for query in queries:
            scores = unit @ (query / np.linalg.norm(query))
            best = np.argpartition(-scores, 9)[:10]
            best[np.argsort(-scores[best])]
        return (cpu_clock() - start) / len(queries)

    with Session() as session:
        db = session.add("mem", MemoryDatabase())
        db.create_collection("c", args.dim)
        db.upsert_many("c", list(zip(ids, vectors, metadata, strict=True)))

        def client() -> float:
            start = cpu_clock()
            for query in queries:
                db.search("c", query, 10)
            return (cpu_clock() - start) / len(queries)

        floor, measured = best_of(5, numpy_floor), best_of(5, client)
    return Figure(f"exact top-10 over {len(ids) // 1000}k x {args.dim}, in-kernel", f"{measured * 1e3:.2f} ms",
                  f"numpy {floor * 1e3:.2f} ms", measured / floor, "<= 1.3x", measured / floor <= 1.3)


def _process_seconds(command: list[str]) -> tuple[float, float]:
    """A process's wall time, start to exit, and the CPU time it used (user + system)."""
    start = time.perf_counter()
    process = subprocess.Popen(command)
    _, status, usage = os.wait4(process.pid, 0)
    process.returncode = os.waitstatus_to_exitcode(status)
    if process.returncode:
        raise subprocess.CalledProcessError(process.returncode, command)
    return time.perf_counter() - start, usage.ru_utime + usage.ru_stime


def _children_cpu() -> float:
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


def _timed_methods(marks: dict[str, float]) -> contextlib.ExitStack:
    """Record when the host's start-up steps return, by wrapping them for the duration of the stack."""
    from hector_nb.host import grpc_client, process, subprocess_transport

    stack = contextlib.ExitStack()
    for owner, method, mark in ((process.PluginProcess, "start", "handshake"),
                                (grpc_client.GrpcTransport, "_connect", "connected"),
                                (subprocess_transport.SubprocessTransport, "start", "healthy")):
        original = getattr(owner, method)

        def timed(*args, _original=original, _mark=mark, **kwargs):
            result = _original(*args, **kwargs)
            marks[_mark] = time.perf_counter()
            return result

        setattr(owner, method, timed)
        stack.callback(setattr, owner, method, original)
    return stack


def _readme_block(readme: str, path: str) -> str:
    """The docs' code block written to ``path`` (marked ``<!-- doc-test: file PATH -->``)."""
    marker = readme.index(f"<!-- doc-test: file {path} -->")
    opening = readme.index("\n", readme.index("```", marker)) + 1
    return readme[opening:readme.index("\n```", opening) + 1]


@contextlib.contextmanager
def readme_plugin() -> Iterator[Path]:
    """The ``plugins/my-llm`` of docs/plugins.md and its manifest, as a user saves them."""
    readme = (Path(__file__).resolve().parents[1] / "docs" / "plugins.md").read_text()
    with tempfile.TemporaryDirectory() as directory:
        for name in ("plugins/my-llm", "plugins/my-llm.plugin.yaml"):
            target = Path(directory, name)
            target.parent.mkdir(exist_ok=True)
            target.write_text(_readme_block(readme, name))
        Path(directory, "plugins/my-llm").chmod(0o755)
        yield Path(directory, "plugins/my-llm")


@dataclass
class ColdStart:
    """One plugin whose start is timed: its target, what a first answer is, and the imports it needs."""

    target: str | Path
    first_answer: Callable[[Any], object]
    imports: str
    #: What the provider's own engine imports (numpy for a numpy database): added to the floor.
    engine: str = ""
    #: Started through its '#!/usr/bin/env python3' line (a user's plugin), so its floor is too.
    shebang: bool = False


def _importtime_summary(imports: str) -> list[tuple[str, float]]:
    """``python -X importtime``: the ms each package's own modules took to import (self time), largest first."""
    trace = subprocess.run([sys.executable, "-X", "importtime", "-c", imports], capture_output=True, text=True,
                           check=True).stderr
    packages: dict[str, float] = {}
    for line in trace.splitlines():
        fields = line.removeprefix("import time:").split("|")
        if len(fields) != 3 or not fields[0].strip().isdigit():
            continue
        module = fields[2].strip()
        package = module.split(".")[0] if module.split(".")[0] in ("grpc", "google", "grpc_health", "hector_nb",
                                                                   "numpy") else "standard library"
        packages[package] = packages.get(package, 0.0) + int(fields[0]) / 1000
    return sorted(packages.items(), key=lambda item: -item[1])


def cold_start(args: argparse.Namespace) -> list[Figure]:
    # As after pip install: hector_nb's modules compiled to bytecode (with PYTHONDONTWRITEBYTECODE=1,
    # as on the development machine, an editable checkout would compile every module at every start).
    compileall.compile_dir(Path(hector_nb.__file__).parent, quiet=1)
    marks: dict[str, float] = {}
    llm = ColdStart("builtin:echo", lambda client: client.generate("ping"),
                    "import hector_nb.plugin.serve, hector_nb.providers.echo")
    plugins = {"builtin:echo": llm,
               "builtin:memory": ColdStart("builtin:memory", lambda client: client.health(),
                                           "import hector_nb.plugin.serve, hector_nb.providers.memory", "numpy"),
               "builtin:hashing": ColdStart("builtin:hashing", lambda client: client.health(),
                                            "import hector_nb.plugin.serve, hector_nb.providers.hashing", "numpy"),
               "docs/plugins.md's SDK plugin": ColdStart("", llm.first_answer, "from hector_nb.sdk import *; "
                                                    "from hector_nb.plugin import serve", shebang=True)}
    if args.quick:
        plugins = {name: plugins[name] for name in ("builtin:echo", "docs/plugins.md's SDK plugin")}

    def load(plugin: ColdStart) -> tuple[float, float]:
        cpu = _children_cpu()
        with Session() as session:
            marks.clear()
            marks["start"] = time.perf_counter()
            client = session.load(plugin.target)
            marks["loaded"] = time.perf_counter()
            plugin.first_answer(client)
            marks["answered"] = time.perf_counter()
        return marks["answered"] - marks["start"], _children_cpu() - cpu

    python = [sys.executable, "-c"]
    runs: dict[str, Callable[[], tuple[float, float]]] = {
        "floor": lambda: _process_seconds([*python, "import grpc"]),
        "floor numpy": lambda: _process_seconds([*python, "import grpc, numpy"]),
        "launcher floor": lambda: _process_seconds(["/usr/bin/env", "python3", "-c", "import grpc"]),
    }
    for name, plugin in plugins.items():
        runs[name] = functools.partial(load, plugin)
    best: dict[str, tuple[float, float]] = {}
    steps: dict[str, float] = {}
    with _timed_methods(marks), readme_plugin() as my_llm, warnings.catch_warnings():
        warnings.simplefilter("ignore")  # the fidelity warnings about config defaults
        plugins["docs/plugins.md's SDK plugin"].target = my_llm
        for _ in range(args.repeats + 2):  # interleaved, so that each sees the same load on the machine
            for name, run in runs.items():
                wall, cpu = run()
                previous = best.get(name, (float("inf"), float("inf")))
                best[name] = (min(wall, previous[0]), min(cpu, previous[1]))
                if name == "builtin:echo" and wall <= previous[0]:
                    steps = dict(marks)
    load_average = os.getloadavg()[0]
    step = {name: (steps[name] - steps[before]) * 1e3 for before, name in
            (("start", "handshake"), ("handshake", "connected"), ("connected", "healthy"), ("healthy", "loaded"),
             ("loaded", "answered"))}
    floor = best["floor"]
    print(f"  cold start, where the time goes (builtin:echo's best run; load {load_average:.2f}):")
    print(f"    a process importing grpc only, start to exit (the floor)   {floor[0] * 1e3:6.1f} ms")
    print(f"    spawn to handshake line (imports, server start)             {step['handshake']:6.1f} ms")
    print(f"    channel and stubs made                                      {step['connected']:6.1f} ms")
    print(f"    connect and health check (one wait_for_ready call)          {step['healthy']:6.1f} ms")
    print(f"    Initialize and the host's bookkeeping                       {step['loaded']:6.1f} ms")
    print(f"    first Generate                                              {step['answered']:6.1f} ms")
    print("  python -X importtime of what the echo plugin imports, ms spent in each package's own modules:")
    print("    " + ", ".join(f"{group} {ms:.1f}" for group, ms in _importtime_summary(llm.imports)[:8]))
    print("  CPU time of the whole plugin process (start to exit) beside the floor process's (load-robust):")
    figures = []
    for name, plugin in plugins.items():
        wall, cpu = best[name]
        floor_run = "launcher floor" if plugin.shebang else "floor numpy" if plugin.engine else "floor"
        floor_wall, floor_cpu = best[floor_run]
        print(f"    {name:<26} {cpu * 1e3:6.1f} ms CPU, {cpu / floor_cpu:.2f}x the floor's {floor_cpu * 1e3:.1f} ms")
        python = "/usr/bin/env python3" if plugin.shebang else "python"
        floor_name = f"{python} -c 'import grpc{', ' + plugin.engine if plugin.engine else ''}'"
        figures.append(Figure(f"cold start: {name}, load to first answer", f"{wall * 1e3:.0f} ms",
                              f"{floor_name} {floor_wall * 1e3:.0f} ms", wall / floor_wall, "<= 1.3x",
                              wall / floor_wall <= 1.3, load_average))
    return figures


def upsert_over_wire(args: argparse.Namespace) -> Figure:
    ids, vectors, metadata = columns(args.vectors_wire, args.dim)
    items = list(zip(ids, vectors, metadata, strict=True))
    with Session(timeout=120) as session, warnings.catch_warnings():
        warnings.simplefilter("ignore")  # the fidelity warning about config defaults
        db = session.load(builtin_plugin_path("memory"))
        db.create_collection("seq", args.dim)
        start = time.perf_counter()
        for id, vector, meta in items[:args.vectors_wire // 5]:
            db.upsert("seq", id, vector, meta)
        sequential = args.vectors_wire // 5 / (time.perf_counter() - start)

        collections = iter(range(3))

        def bulk() -> float:
            collection = f"bulk{next(collections)}"
            db.create_collection(collection, args.dim)
            start = time.perf_counter()
            db.upsert_many(collection, items)
            return time.perf_counter() - start

        rate = len(items) / best_of(3, bulk)
    ratio = rate / sequential
    return Figure(f"upsert_many, subprocess, upsert_many provider, {len(items) // 1000}k x {args.dim}",
                  f"{rate:,.0f} /s", f"sequential upsert {sequential:,.0f} /s", ratio, ">= 5x and 30,000 /s",
                  ratio >= 5 and rate >= 30_000)


def upsert_per_item_over_wire(args: argparse.Namespace) -> Figure:
    """A provider with only per-item upsert, loaded as a subprocess, beside its own loop in its own process."""
    ids, vectors, metadata = columns(args.vectors_wire, args.dim)
    items = list(zip(ids, vectors, metadata, strict=True))
    own_loop = [sys.executable, str(Path(__file__).with_name("per_item.py")), str(len(items)), str(args.dim)]
    with Session(timeout=120) as session:
        db = session.add("per-item", PerItemDatabase(), transport="subprocess")
        collections = iter(range(args.repeats))
        floor = rate = 0.0
        for _ in range(args.repeats):  # interleaved, so that both see the same load on the machine
            floor = max(floor, float(subprocess.run(own_loop, capture_output=True, text=True, check=True).stdout))
            collection = f"bulk{next(collections)}"
            db.create_collection(collection, args.dim)
            start = time.perf_counter()
            db.upsert_many(collection, items)
            rate = max(rate, len(items) / (time.perf_counter() - start))
    return Figure(f"upsert_many, subprocess, per-item provider, {len(items) // 1000}k x {args.dim}",
                  f"{rate:,.0f} /s", f"its own upsert loop {floor:,.0f} /s", rate / floor,
                  ">= 0.5x and 30,000 /s", rate / floor >= 0.5 and rate >= 30_000)


def stream_chunks(args: argparse.Namespace) -> list[Figure]:
    """Chunks/s of the echo plugin's stream beside a bare grpcio stream of the same chunks, as a subprocess
    and in-process (the floor then in threads of this process too). Interleaved, best of a few each."""
    import grpc

    count = args.chunks
    prompt = " ".join(["word"] * count)

    def rate(chunks: Callable[[], Iterable[object]]) -> float:
        start = time.perf_counter()
        received = sum(1 for _ in chunks())
        return received / (time.perf_counter() - start)

    figures = []
    for transport in ("subprocess", "in-process"):
        with floor_server(in_process=transport == "in-process") as target, \
                grpc.insecure_channel(target) as channel, Session(timeout=60) as session, \
                warnings.catch_warnings():
            warnings.simplefilter("ignore")  # the fidelity warning about config defaults
            words = channel.unary_stream("/bench.Floor/Words")
            llm = session.add("echo", EchoLLM(), transport=transport)
            floor = measured = 0.0
            for _ in range(args.repeats):
                floor = max(floor, rate(functools.partial(words, str(count).encode(), timeout=60)))
                measured = max(measured, rate(functools.partial(llm.stream, prompt)))
        figures.append(Figure(f"streamed chunks/s, {transport}", f"{measured:,.0f} /s",
                              f"bare grpcio stream {floor:,.0f} /s", measured / floor, ">= 0.9x",
                              measured / floor >= 0.9))
    return figures


def _latencies(call: Callable[[], object], count: int) -> list[float]:
    for _ in range(min(200, count)):  # warm up the channel and the server's threads
        call()
    samples = []
    for _ in range(count):
        start = time.perf_counter()
        call()
        samples.append(time.perf_counter() - start)
    return samples


def unary_generate(args: argparse.Namespace) -> Figure:
    import grpc

    with floor_server() as target, grpc.insecure_channel(target) as channel:
        ping = channel.unary_unary("/bench.Floor/Ping")
        payload = b"\n\x06\x12\x04ping"  # about the size of a one-message GenerateRequest
        floor = statistics.median(_latencies(lambda: ping(payload, timeout=10), args.calls))
    with Session(timeout=60) as session:
        llm = session.load(builtin_plugin_path("echo"))
        measured = statistics.median(_latencies(lambda: llm.generate("ping"), args.calls))
    return Figure("unary Generate p50, subprocess", f"{measured * 1e6:.0f} us", f"bare grpcio {floor * 1e6:.0f} us",
                  measured / floor, "<= 1.5x", measured / floor <= 1.5)


FIGURES: dict[str, Callable[[argparse.Namespace], Figure]] = {
    "generate": generate_in_kernel,
    "upsert-kernel": upsert_in_kernel,
    "search": search_in_kernel,
    "memory-load": memory_load,
    "cold-start": cold_start,
    "upsert-wire": upsert_over_wire,
    "upsert-per-item": upsert_per_item_over_wire,
    "stream": stream_chunks,
    "unary": unary_generate,
}


def figure_arguments(figures: dict[str, Any], description: str, argv: list[str] | None) -> argparse.Namespace:
    """``FIGURE ...`` (checked against ``figures``) and ``--quick``; ``scale`` is 10 with ``--quick``, else 1."""
    parser = argparse.ArgumentParser(description=description)
    parser.add_argument("figures", nargs="*", metavar="FIGURE",
                        help=f"figures to measure (default: all): {', '.join(figures)}")
    parser.add_argument("--quick", action="store_true", help="smaller sizes, for a smoke run")
    parser.add_argument("--million", action="store_true",
                        help="memory-load with 1,000,000 vectors (about 1.7 GB; 10-20 s on an idle 2-core machine)")
    args = parser.parse_args(argv)
    unknown = sorted(set(args.figures) - set(figures))
    if unknown:
        parser.error(f"unknown figure(s) {', '.join(unknown)}; choose from {', '.join(figures)}")
    args.scale = 10 if args.quick else 1
    return args


def main(argv: list[str] | None = None) -> int:
    args = figure_arguments(FIGURES, __doc__.splitlines()[0], argv)
    scale = args.scale
    args.calls, args.repeats, args.chunks = 20_000 // scale, 5, 20_000 // scale
    args.vectors_kernel, args.vectors_wire, args.dim = 100_000 // scale, 10_000 // scale, 384
    args.vectors_load = 1_000_000 if args.million else 100_000 // scale
    print_figures(measure(FIGURES, args.figures, args))
    return 0


def measure(figures: dict[str, Callable[[argparse.Namespace], Any]], names: list[str],
            args: argparse.Namespace) -> list[Figure]:
    """The figures ``names`` (all when empty), each function returning one figure or a list."""
    results = []
    for name in names or figures:
        print(f"measuring {name} ...", flush=True)
        measured = figures[name](args)
        results.extend(measured if isinstance(measured, list) else [measured])
    return results


def print_figures(results: list[Figure]) -> None:
    print()
    print(f"{'figure':<58} {'measured':>14}  {'floor':<44} {'ratio':>7} {'load':>5}  target")
    for figure in results:
        print(f"{figure.name:<58} {figure.measured:>14}  {figure.floor:<44} {figure.ratio:>6.2f}x {figure.load:5.2f}  "
              f"{figure.target} {'met' if figure.met else 'MISSED'}")


if __name__ == "__main__":
    sys.exit(main())
