"""``python -m hector_nb``: the command line (``demo``, ``export``, ``notebook``, ``check``, ``serve``; ``--help`` for
each)."""

from __future__ import annotations

import argparse
import os
import shutil
import signal
import sys
import tempfile
from collections.abc import Callable
from pathlib import Path

from .options import EXPORT, ONLY, SERVE, SET, Options, add_options, option


class PathRefused(Exception):
    """A path given on the command line cannot be written; the message says why and what to do."""


def writable_directory(directory: Path, option: str) -> None:
    """Refuse, before any long work, a ``directory`` (created later if missing) that cannot be written."""
    if directory.exists() and not directory.is_dir():
        raise PathRefused(f"{option} {directory} is a file, not a directory; give a directory (created if missing)")
    existing = next(parent for parent in (directory, *directory.parents) if parent.exists())
    if not existing.is_dir():
        raise PathRefused(f"{option} {directory}: {existing} is a file, not a directory; choose another {option}")
    try:  # tried, not guessed from permission bits: root ignores them, a read-only mount does not
        os.rmdir(tempfile.mkdtemp(prefix=".hector-nb-", dir=existing))
    except OSError as exc:
        raise PathRefused(f"{option} {directory}: cannot write into {existing} ({exc.strerror}); choose a "
                          f"directory you can write to") from None


def writable_file(file: Path, option: str) -> None:
    """Refuse, before any long work, a ``file`` that cannot be written (its directory must exist)."""
    if file.is_dir():
        raise PathRefused(f"{option} {file} is a directory; give a file name, e.g. {file / 'report.xml'}")
    if not file.parent.is_dir():
        raise PathRefused(f"{option} {file}: the directory {file.parent} does not exist; create it first "
                          f"(mkdir -p {file.parent}) or choose another {option}")
    writable_directory(file.parent, option)


def demo(args: argparse.Namespace) -> int:
    """Stream a generation, index the shipped corpus and compare two databases, in the terminal."""
    from .compare import RECALL_DEFINITION, compare_search
    from .data import load_corpus
    from .display import TextView, results_frame, run_stream
    from .hector import SEARCH_THRESHOLD
    from .ingest import upsert_frame
    from .sessions import Session

    transport = "subprocess" if args.subprocess else "in-kernel"
    with Session() as session:
        session.load("builtin:echo", config={"delay": "0.02", "prefix": "Echo: "}, transport=transport)
        llm = session.llm("echo")
        print(f"== {llm.name} ({llm.transport}) streams a generation")
        run_stream(llm.name, llm.stream("hector_nb runs Hector plugins in a notebook"), TextView())

        session.load("builtin:hashing", transport=transport)
        session.load("builtin:memory", name="cosine", transport=transport)
        session.load("builtin:memory", name="euclidean", config={"metric": "euclidean"}, transport="subprocess")
        embedder = session.embedder("hashing")
        cosine, euclidean = session.database("cosine"), session.database("euclidean")
        corpus = load_corpus()
        print(f"\n== indexing {len(corpus)} standard-library docstrings (PSF licence)")
        vectors = embedder.embed_many(corpus.text.tolist())
        for db in (cosine, euclidean):
            upsert_frame(db, "stdlib", corpus, text_column="text", embedder=embedder, create=True, vectors=vectors)
        query = embedder.embed(args.query)
        print(f"\n== search {args.query!r}")
        # hector_keeps: whether Hector's document store, which drops hits scoring below 0.5, would show the hit.
        table = results_frame(cosine.search("stdlib", query, 5, threshold=0), SEARCH_THRESHOLD)
        table = table[["rank", "id", "score", "hector_keeps", "content"]]
        print(table.assign(content=table.content.str.slice(0, 60)).to_string(index=False))
        frame = compare_search({"cosine": cosine, "euclidean": euclidean}, "stdlib", query, 5, reference="cosine",
                               threshold=SEARCH_THRESHOLD)
        print(f"\n== cosine ({cosine.transport}) beside euclidean ({euclidean.transport}): the ids per rank")
        print(frame.xs("id", axis=1, level="field").to_string())
        print(f"\nrecall@5 against cosine: {RECALL_DEFINITION}")
        print(frame.recall.to_frame().to_string())
        print("\n", session.list().to_string(index=False))
    return 0


def export(args: argparse.Namespace) -> int:
    """Export a provider class as a plugin Hector loads: executable, .plugin.yaml, requirements.txt."""
    from .export import export_provider
    from .targets import load_provider_class

    writable_directory(Path(args.out).expanduser(), "--out")
    result = export_provider(load_provider_class(args.target), args.out, name=args.name, version=args.version,
                             author=args.author, description=args.description, requirements=args.requirement,
                             python=args.python, venv=args.venv)
    print(f"wrote {result.executable}\n      {result.manifest}\n      {result.requirements}")
    return 0


def notebook(args: argparse.Namespace) -> int:
    """Open a notebook in JupyterLab on 127.0.0.1: prints the address of the notebook itself."""
    from .errors import HectorError
    from .lab import NOTEBOOKS, start_lab

    path = NOTEBOOKS / f"{args.name.removesuffix('.ipynb')}.ipynb"
    if not path.is_file():
        raise HectorError(f"no notebook {path}; the notebooks come with a source checkout "
                          "(pip install -e . in a clone), choose one of: "
                          + ", ".join(p.stem for p in sorted(NOTEBOOKS.glob("*.ipynb"))))
    # SIGTERM (a service manager, `kill`) stops the server and its kernels as Ctrl-C does: by default it would end
    # this process at once and leave JupyterLab running.
    signal.signal(signal.SIGTERM, _interrupt)
    with start_lab(NOTEBOOKS, port=args.port) as lab:
        try:
            lab.wait_ready()
            print(f"Open {path.name} in a browser on this machine:\n\n    {lab.url(path.name)}\n\n"
                  f"On a remote machine, forward the port first (ssh -L {lab.port}:127.0.0.1:{lab.port} HOST), "
                  "then open the same address locally. Ctrl-C stops the server.", flush=True)
            lab.process.wait()
        except KeyboardInterrupt:
            pass
    return 0


def _interrupt(signum: int, frame: object) -> None:
    raise KeyboardInterrupt


def check(args: argparse.Namespace) -> int:
    """Check a plugin against what Hector needs; exit code 1 when any check fails."""
    from .config import parse_settings
    from .conformance import check as run_check

    config = parse_settings(args.set)
    if args.junit:
        writable_file(Path(args.junit).expanduser(), "--junit")
    report = run_check(args.path, config=config, only=args.only, timeout=args.timeout)
    print(report.to_text(max(60, shutil.get_terminal_size().columns - 1)))
    if args.junit:
        print(f"wrote {report.to_junit(args.junit)}")
    return 0 if report.ok else 1


def serve(args: argparse.Namespace) -> int:
    """Serve providers over the Ollama and OpenAI APIs for stock Hector, until interrupted."""
    from .bridge.command import serve_until_stopped
    from .config import parse_settings

    return serve_until_stopped(args.targets, port=args.port, host=args.host, api_key=args.api_key,
                               config=parse_settings(args.set), name=args.name, tls=args.tls)


#: Each subcommand: its run function (named like it, its docstring the help) and its options (hector_nb.options,
#: shared with the %hector magic where both have the command). A new subcommand is a function and a row here.
COMMANDS: tuple[tuple[Callable[[argparse.Namespace], int], Options], ...] = (
    (demo, (
        option("--query", default="copy a file to another directory", help="the search query"),
        option("--subprocess", action="store_true",
               help="run the built-in providers as plugin processes (as Hector would)"),
    )),
    (export, (
        option("target", metavar="MODULE:CLASS", help="an importable provider class, FILE.py:CLASS, or builtin:NAME"),
        option("--name", help="plugin name (default: the class's manifest name)"),
        *EXPORT,
    )),
    (notebook, (
        option("name", nargs="?", default="quickstart", help="quickstart (default) or export"),
        option("--port", type=int, help="the port to listen on (default: a free one)"),
    )),
    (check, (
        option("path", metavar="PATH", help="a plugin executable, its .plugin.yaml, or builtin:NAME"),
        SET,
        ONLY,
        option("--junit", metavar="FILE", help="also write the report as JUnit XML"),
        option("--timeout", type=float, default=5.0, help="deadline of each call, in seconds (default 5)"),
    )),
    (serve, (
        option("targets", nargs="+", metavar="TARGET",
               help="builtin:NAME, a plugin executable or its .plugin.yaml (Go or Python), or MODULE:CLASS"),
        *SERVE,
        SET,
        option("--name", help="the model name of the one target (default: the provider's name)"),
    )),
)


def parser() -> argparse.ArgumentParser:
    """``python -m hector_nb``'s parser: a subparser per row of :data:`COMMANDS`."""
    main_parser = argparse.ArgumentParser(prog="python -m hector_nb",
                                          description="Build, run, compare and export Hector plugins.")
    subcommands = main_parser.add_subparsers(dest="command", required=True)
    for run, options in COMMANDS:
        doc = run.__doc__ or ""
        sub = subcommands.add_parser(run.__name__, help=doc.splitlines()[0] if doc else None, description=doc)
        add_options(sub, options).set_defaults(run=run)
    return main_parser


def main(argv: list[str] | None = None) -> int:
    args = parser().parse_args(argv)
    from .errors import HectorError

    try:
        run: Callable[[argparse.Namespace], int] = args.run
        return run(args)
    except (HectorError, PathRefused) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1
    except OSError as exc:  # an ordinary file-system error met during the work: one line, no traceback
        where = f": {exc.filename}" if exc.filename else ""
        print(f"error: {exc.strerror or exc}{where}; check the path and its permissions", file=sys.stderr)
        return 1


if __name__ == "__main__":
    sys.exit(main())
