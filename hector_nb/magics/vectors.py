"""``%hector embed | upsert | search | compare``: vectors in, tables out."""

from __future__ import annotations

import contextlib

from IPython.core.error import UsageError
from IPython.core.magic_arguments import argument, magic_arguments
from IPython.display import display

from ..compare import OVERLAP_DEFINITION, RECALL_DEFINITION, compare_search
from ..display import results_frame
from ..errors import ProviderError, says_missing
from ..hector import SEARCH_THRESHOLD
from ..host.clients import DatabaseClient, EmbedderClient
from ..ingest import upsert_frame
from .base import MagicContext, subcommand


def threshold_argument(magic):
    """``--threshold X``: Hector's ``search.threshold``, 0.5 by default; 0 shows every hit as kept."""
    return argument("--threshold", type=float, default=SEARCH_THRESHOLD, metavar="X",
                    help=f"Hector's search.threshold: its document store drops hits scoring below it (default "
                         f"{SEARCH_THRESHOLD:g}, as Hector's; 0 to disable)")(magic)


def report_dropped(dropped, threshold: float) -> None:
    """One line per database whose hits Hector would drop."""
    for name, count in dict(dropped).items():
        if count:
            print(f"{name}: Hector would drop {count} hit(s) scoring below search.threshold {threshold:g} "
                  "(--threshold 0 to show them as kept)")


@subcommand("embed")
@magic_arguments()
@argument("name", help="an embedder plugin")
@argument("text", help="the text, quoted")
@argument("--out", metavar="VAR", help="store the vector in this variable")
def embed(ctx: MagicContext, args, cell):
    """Embed a text; the vector is a numpy array."""
    return ctx.store(args.out, ctx.client(args.name, EmbedderClient).embed(args.text))


@subcommand("upsert")
@magic_arguments()
@argument("db", help="a database plugin")
@argument("collection")
@argument("--from", dest="frame", metavar="DF_VAR", required=True, help="a DataFrame variable")
@argument("--text-column", required=True, help="the column to embed")
@argument("--id-column", help="the column of ids (default: a column named id, else the index)")
@argument("--embedder", required=True, help="an embedder plugin")
@argument("--create", action="store_true",
          help="call CreateCollection first; Hector's document store never does, so by default the plugin "
               "must create the collection on the first upsert, as under Hector")
def upsert(ctx: MagicContext, args, cell):
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


def query_vector(ctx: MagicContext, args):
    """The vector to search with: ``--vector VAR``, or the quoted query embedded by ``--embedder``."""
    if not args.vector and not args.embedder:
        raise UsageError("give --embedder E to embed the query (or --vector VAR)")
    if args.vector:
        return ctx.variable(args.vector, "the query vector")
    if not args.query:
        raise UsageError("give a quoted query, or --vector VAR")
    return ctx.client(args.embedder, EmbedderClient).embed(args.query)


@subcommand("search")
@magic_arguments()
@argument("db", help="a database plugin")
@argument("collection")
@argument("query", nargs="?", help="the query text, quoted")
@argument("--embedder", help="the embedder that embeds the query")
@argument("--top-k", type=int, default=5)
@argument("--vector", metavar="VAR", help="search with this vector instead of embedding a query")
@threshold_argument
def search(ctx: MagicContext, args, cell):
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
    report_dropped({args.db: frame.attrs.get("hector_dropped", 0)}, args.threshold)
    return frame



@contextlib.contextmanager
def creating_hint(collection: str):
    """A search of a collection that does not exist says which magic creates it."""
    try:
        yield
    except ProviderError as exc:
        if exc.operation == "search" and says_missing(exc):
            raise ProviderError(exc.plugin, exc.operation, f"{exc.message}; in a notebook, %hector upsert "
                                f"{exc.plugin} {collection} --from DF --text-column COLUMN --embedder E "
                                "creates and fills it") from exc
        raise


@subcommand("compare")
@magic_arguments()
@argument("dbs", help="database plugins, comma-separated: DB1,DB2[,...]")
@argument("collection")
@argument("query", nargs="?", help="the query text, quoted")
@argument("--embedder", help="the embedder that embeds the query")
@argument("--top-k", type=int, default=5)
@argument("--reference", help="a database to measure recall@k against")
@argument("--vector", metavar="VAR", help="search with this vector instead of embedding a query")
@threshold_argument
def compare(ctx: MagicContext, args, cell):
    """Search several databases with one query: results side by side, overlap@k and recall@k."""
    names = [n.strip() for n in args.dbs.split(",") if n.strip()]
    if len(names) < 2:
        raise UsageError("%hector compare needs at least two databases: DB1,DB2")
    if args.reference and args.reference not in names:
        raise UsageError(f"--reference {args.reference} must be one of the compared databases: {', '.join(names)}")
    databases = {name: ctx.client(name, DatabaseClient) for name in names}
    vector = query_vector(ctx, args)
    with creating_hint(args.collection):
        frame = compare_search(databases, args.collection, vector, args.top_k, args.reference, args.threshold)
    report_dropped(frame.attrs.get("hector_dropped", {}), args.threshold)
    print(f"overlap@{args.top_k} between the databases: {OVERLAP_DEFINITION}")
    display(frame.attrs["overlap@k"].round(2))
    if args.reference:
        print(f"recall@{args.top_k} against {args.reference}: {RECALL_DEFINITION}")
        display(frame.attrs["recall@k"].round(2).to_frame())
    return frame
