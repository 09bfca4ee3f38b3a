"""``%hector eval``: databases judged on a dataset, quality and speed, with a recall-vs-QPS plot."""

from __future__ import annotations

import argparse
import io
from typing import TYPE_CHECKING

from IPython.core.error import UsageError

from ..datasets import Dataset
from ..evaluation import Evaluation, evaluate, plot
from ..options import option
from .base import Image, MagicContext, comma_separated, display, subcommand
from .vectors import THRESHOLD, report_dropped

if TYPE_CHECKING:
    from matplotlib.figure import Figure


def parse_sweep(text: str | None) -> dict[str, list[str]] | None:
    """``"key=v1,v2,..."`` as ``{"key": ["v1", "v2", ...]}``."""
    if text is None:
        return None
    key, sep, values = text.partition("=")
    settings = comma_separated(values)
    if not sep or not key.strip() or not settings:
        raise UsageError(f"--sweep takes KEY=V1,V2,..., e.g. expansion_search=16,32,64; got {text!r}")
    return {key.strip(): settings}


@subcommand("eval", [
    option("dbs", help="database plugins, comma-separated: DB1[,DB2,...]"),
    option("collection", help="the collection holding the dataset's corpus"),
    option("--dataset", required=True, metavar="VAR", help="a dataset variable (hector_nb.datasets.load_beir)"),
    option("--embedder", required=True, help="the embedder the corpus was upserted with"),
    option("--k", type=int, default=10, help="rank cutoff of every measure (default 10)"),
    option("--reference", help="an exact database to measure recall against (gets its own row)"),
    option("--sweep", metavar="KEY=V1,V2,...",
           help="evaluate each database once per value of a config key (re-initialized, its collection rebuilt "
                "from the dataset's corpus)"),
    option("--at-recall", type=float, metavar="X", help="mark the fastest row whose recall reaches X"),
    option("--repeat", type=int, metavar="N",
           help="search each query N times, keep its fastest time (default 1; 3 with --at-recall, whose pick "
                "compares speeds)"),
    option("--no-plot", action="store_true", help="only the table, no recall-vs-QPS plot"),
    THRESHOLD,
])
def evaluate_databases(ctx: MagicContext, args: argparse.Namespace, cell: str | None) -> Evaluation:
    """Judge databases on a dataset: nDCG@k, recall@k, MRR@k, recall against a reference, latency, QPS,
    and the same measures as Hector sees them (``hector_*``: hits below ``--threshold`` dropped).

    The same call as ``hector_nb.evaluate(...)``, and the same result (an
    ``Evaluation``): the table shown, the per-query table in ``.per_query``.
    """
    dataset = ctx.variable(args.dataset, "a dataset (hector_nb.datasets.load_beir)")
    if not isinstance(dataset, Dataset):
        raise UsageError(f"{args.dataset} is a {type(dataset).__name__}, not a dataset; "
                         "load one with hector_nb.datasets.load_beir(folder)")
    names = comma_separated(args.dbs)
    try:
        result = evaluate(names, args.collection, dataset, args.embedder, k=args.k, reference=args.reference,
                         sweep=parse_sweep(args.sweep), at_recall=args.at_recall, repeat=_repeat(args),
                         threshold=args.threshold, session=ctx.session)
    except ValueError as exc:  # bad arguments or dataset; plugin failures arrive as HectorError
        raise UsageError(f"%hector eval: {exc}") from None
    if not args.no_plot:
        display(Image(data=figure_png(plot(result))))
    if "hector_dropped" in result.table:
        dropped = result.per_query["hector_dropped"]
        report_dropped(dropped.groupby(level="database", sort=False).sum().to_dict(), args.threshold)
    if args.at_recall is not None:
        fastest, ties = result.fastest_at_recall, result.as_fast_within_noise
        noise = f" (as fast within the noise of {_repeat(args)} passes: {', '.join(ties)})" if ties else ""
        print(f"fastest at ref_recall@{args.k} >= {args.at_recall:g}: {fastest}{noise}" if fastest else
              f"no setting reaches ref_recall@{args.k} >= {args.at_recall:g}")
    return result


def _repeat(args: argparse.Namespace) -> int:
    """--repeat, else 3 passes when --at-recall picks the fastest (one pass cannot tell speed from noise)."""
    return args.repeat if args.repeat is not None else 3 if args.at_recall is not None else 1


def figure_png(figure: Figure) -> bytes:
    """The figure as PNG bytes: a static image that survives in a saved notebook."""
    buffer = io.BytesIO()
    figure.savefig(buffer, format="png", dpi=100)
    return buffer.getvalue()
