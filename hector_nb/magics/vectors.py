"""``%hector embed | upsert | search | compare``: vectors in, tables out."""

from __future__ import annotations

import argparse
import contextlib
from collections.abc import Iterator, Mapping
from typing import TYPE_CHECKING, Any

from IPython.core.error import UsageError

from ..compare import OVERLAP_DEFINITION, RECALL_DEFINITION, compare_search
from ..display import results_frame
from ..errors import ProviderError
from ..hector import SEARCH_THRESHOLD
from ..host.clients import DatabaseClient, EmbedderClient
from ..ingest import upsert_frame
from ..options import option
from .base import MagicContext, comma_separated, display, subcommand

if TYPE_CHECKING:
    import numpy as np
    import pandas

#: ``--threshold X``: Hector's ``search.threshold``, 0.5 by default; 0 shows every hit as kept.
THRESHOLD = option("--threshold", type=float, default=SEARCH_THRESHOLD, metavar="X",
                   help=f"Hector's search.threshold: its document store drops hits scoring below it (default "
                        f"{SEARCH_THRESHOLD:g}, as Hector's; 0 to disable)")


def report_dropped(dropped: Mapping[str, int], threshold: float) -> None:
    """One line per database whose hits Hector would drop."""
    for name, count in dict(dropped).items():
        if count:
            print(f"{name}: Hector would drop {count} hit(s) scoring below search.threshold {threshold:g} "
                  "(--threshold 0 to show them as kept)")


@subcommand("embed", [
    option("name", help="an embedder plugin"),
    option("text", help="the text, quoted"),
    option("--out", metavar="VAR", help="store the vector in this variable"),
])
def embed(ctx: MagicContext, args: argparse.Namespace, cell: str | None) -> np.ndarray:
    """Embed a text; the vector is a numpy array."""
    return ctx.store(args.out, ctx.client(args.name, EmbedderClient).embed(args.text))


@subcommand("upsert", [
    option("db", help="a database plugin"),
    option("collection"),
    option("--from", dest="frame", metavar="DF_VAR", required=True, help="a DataFrame variable"),
    option("--text-column", required=True, help="the column to embed"),
    option("--id-column", help="the column of ids (default: a column named id, else the index)"),
    option("--embedder", required=True, help="an embedder plugin"),
    option("--create", action="store_true",
           help="call CreateCollection first; Hector's document store never does, so by default the plugin "
                "must create the collection on the first upsert, as under Hector"),
])
def upsert(ctx: MagicContext, args: argparse.Namespace, cell: str | None) -> int:
    """Embed a DataFrame's text column and upsert it; other columns become metadata.

    As Hector's document store does, no CreateCollection is sent (unless --create):
    a database plugin that needs one fails here as it would under Hector.
    """
    frame = ctx.variable(args.frame, "a pandas DataFrame")
    db = ctx.client(args.db, DatabaseClient)
    embedder = ctx.client(args.embedder, EmbedderClient)
    try:
        count = upsert_frame(db, args.collection, frame, text_column=args.text_column, embedder=embedder,
                             id_column=args.id_column, create=args.create)
    except (TypeError, ValueError) as exc:
        raise UsageError(f"--from {args.frame}: {exc}") from None
    except ProviderError as exc:
        if args.create or exc.operation != "upsert_many":
            raise
        raise ProviderError(exc.plugin, exc.operation, f"{exc.message}; Hector's document store upserts without "
                            "CreateCollection too, so a plugin must create a collection on its first upsert "
                            "(--create calls CreateCollection here first)") from exc
    print(f"upserted {count} vectors into {args.db}/{args.collection}")
    return count


def query_vector(ctx: MagicContext, args: argparse.Namespace) -> Any:
    """The vector to search with: ``--vector VAR``, or the quoted query embedded by ``--embedder``."""
    if not args.vector and not args.embedder:
        raise UsageError("give --embedder E to embed the query (or --vector VAR)")
    if args.vector:
        return ctx.variable(args.vector, "the query vector")
    if not args.query:
        raise UsageError("give a quoted query, or --vector VAR")
    return ctx.client(args.embedder, EmbedderClient).embed(args.query)


#: What a search takes after its database(s): the collection, the query (or its vector), and the cut-offs.
QUERY = (
    option("collection"),
    option("query", nargs="?", help="the query text, quoted"),
    option("--embedder", help="the embedder that embeds the query"),
    option("--top-k", type=int, default=5),
    option("--vector", metavar="VAR", help="search with this vector instead of embedding a query"),
    THRESHOLD,
)


@subcommand("search", [option("db", help="a database plugin"), *QUERY])
def search(ctx: MagicContext, args: argparse.Namespace, cell: str | None) -> pandas.DataFrame:
    """Search a collection: a table of rank, id, score, hector_keeps, content and metadata.

    ``hector_keeps`` says which hits Hector's document store would keep (score
    at least ``--threshold``, Hector's ``search.threshold``); ``--threshold 0``
    leaves the column out.
    """
    db = ctx.client(args.db, DatabaseClient)
    vector = query_vector(ctx, args)
    with creating_hint(args.collection):
        # The frame's hector_keeps column and the line below say what Hector drops: no warning on top.
        frame = results_frame(db.search(args.collection, vector, args.top_k, threshold=0), args.threshold)
    report_dropped({args.db: frame.hector_dropped or 0}, args.threshold)
    return frame


@contextlib.contextmanager
def creating_hint(collection: str) -> Iterator[None]:
    """A failed search says which magic creates the collection, should it not exist yet (the database's
    answer is text only, so which it is stays the reader's to tell)."""
    try:
        yield
    except ProviderError as exc:
        if exc.operation == "search":
            raise ProviderError(exc.plugin, exc.operation, f"{exc.message}; if {collection!r} does not exist yet, "
                                f"in a notebook %hector upsert {exc.plugin} {collection} --from DF --text-column "
                                "COLUMN --embedder E creates and fills it") from exc
        raise


@subcommand("compare", [
    option("dbs", help="database plugins, comma-separated: DB1,DB2[,...]"),
    *QUERY,
    option("--reference", help="a database to measure recall@k against"),
])
def compare(ctx: MagicContext, args: argparse.Namespace, cell: str | None) -> pandas.DataFrame:
    """Search several databases with one query: results side by side, overlap@k and recall@k."""
    names = comma_separated(args.dbs)
    if len(names) < 2:
        raise UsageError("%hector compare needs at least two databases: DB1,DB2")
    if args.reference and args.reference not in names:
        raise UsageError(f"--reference {args.reference} must be one of the compared databases: {', '.join(names)}")
    databases = {name: ctx.client(name, DatabaseClient) for name in names}
    vector = query_vector(ctx, args)
    with creating_hint(args.collection):
        frame = compare_search(databases, args.collection, vector, args.top_k, args.reference, args.threshold)
    if frame.hector_dropped is not None:
        report_dropped(frame.hector_dropped, args.threshold)
    print(f"overlap@{args.top_k} between the databases: {OVERLAP_DEFINITION}")
    display(frame.overlap.round(2))
    if args.reference:
        print(f"recall@{args.top_k} against {args.reference}: {RECALL_DEFINITION}")
        display(frame.recall.round(2).to_frame())
    return frame
