"""Judge vector search as IR practitioners do: quality against relevance judgements, speed at equal recall.

:func:`evaluate` embeds a dataset's queries once, searches every database with
them, and reports per database

- ``ndcg@k``, ``recall@k``, ``mrr@k`` against the dataset's graded judgements,
  computed by trec_eval's own code (``ir_measures`` over ``pytrec_eval``), so the
  numbers are the ones BEIR and MTEB report;
- ``ref_recall@k``: the share of the reference (exact) database's top k that the
  database also returns, as ann-benchmarks measures approximate search;
- ``p50_ms``, ``p95_ms`` and ``qps``: search latency percentiles and queries per
  second, one query at a time from this process, as ann-benchmarks does;
- ``hector_ndcg@k``, ``hector_recall@k``, ``hector_mrr@k``: the same measures "as
  Hector sees it", after its document store dropped the hits scoring below its
  ``search.threshold`` (``threshold``, 0.5 by default; 0 leaves these out), and
  ``hector_dropped``, how many of a query's top k it drops on average.

A sweep starts a fresh instance of each swept database (the same plugin, started
the same way) per value of one config key, initialized with that value, and
builds a collection of its own from the dataset's corpus in it, so build-time
knobs (HNSW's ``connectivity``) are measured as truly as search-time ones
(``expansion_search``); the user's plugin and collection are never touched. Each
setting gets its own row, and :func:`plot` draws recall against QPS with a line
per swept database.
"""

from __future__ import annotations

import contextlib
import time
import uuid
from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import numpy as np

from .compare import recall_at_k
from .errors import DatasetError, PluginError
from .hector import SEARCH_THRESHOLD, hector_keeps
from .host.clients import ClientType, DatabaseClient, EmbedderClient, expect
from .ingest import upsert_frame

if TYPE_CHECKING:
    import pandas
    from matplotlib.figure import Figure

    from .datasets import Dataset
    from .host.clients import PluginClient
    from .sessions import Session

@dataclass
class _Run:
    """One row of the result: a database, under one setting of the swept key (or none)."""

    label: str
    client: DatabaseClient
    #: The swept config key and its value for this run, or None.
    setting: tuple[str, str] | None = None
    ids: list[list[str]] = field(default_factory=list)
    #: Each query's hit scores, in the order of ``ids``.
    scores: list[list[float]] = field(default_factory=list)
    latencies: list[float] = field(default_factory=list)
    #: Seconds each pass over the queries took (one per ``repeat``): how much the same run's speed varies.
    passes: list[float] = field(default_factory=list)


@dataclass(repr=False)
class Evaluation:
    """What :func:`evaluate` found: the summary table (shown as the result in a notebook), every query's
    measures, and the pick at a recall.

    ``table`` is indexed by database (``name key=value`` per swept setting), one
    column per measure; ``per_query`` is indexed by ``(database, query_id)``, with
    each query's measures and ``latency_ms``.
    """

    table: pandas.DataFrame
    per_query: pandas.DataFrame
    #: The rank cutoff of every measure.
    k: int
    #: The reference database's name (whose top k ``ref_recall@k`` compares with), or None.
    reference: str | None
    #: The swept config key, or None.
    sweep: str | None
    #: The recall the fastest row had to reach, or None.
    at_recall: float | None
    #: Passes over the queries; each query kept its fastest time.
    repeat: int
    #: Hector's ``search.threshold`` the ``hector_*`` columns apply (0: no such columns).
    threshold: float
    #: The fastest row reaching ``at_recall``, or None (none reached it, or no ``at_recall``).
    fastest_at_recall: str | None = None
    #: The rows reaching ``at_recall`` as fast as ``fastest_at_recall`` within the noise of their passes.
    as_fast_within_noise: list[str] = field(default_factory=list)

    def _repr_html_(self) -> str | None:
        html: str | None = self.table._repr_html_()
        return html

    def __repr__(self) -> str:
        return repr(self.table)

    def plot(self) -> Figure:
        """Recall against queries per second: :func:`plot`'s figure of this evaluation."""
        return plot(self)


def evaluate(databases: Sequence[str | DatabaseClient], collection: str, dataset: Dataset,
             embedder: str | EmbedderClient, k: int = 10, reference: str | DatabaseClient | None = None, *,
             sweep: Mapping[str, Sequence[Any]] | None = None, at_recall: float | None = None,
             repeat: int = 1, threshold: float = SEARCH_THRESHOLD,
             session: Session | None = None) -> Evaluation:
    """Search ``collection`` in every database with ``dataset``'s judged queries and score the results.

    ``databases`` (a list of names or clients) and ``embedder`` (a name or a
    client) are loaded plugins; the ``collection`` must already hold the
    dataset's corpus, embedded by the same embedder (``%hector upsert`` does
    that). ``reference`` (usually an exact
    database) adds ``ref_recall@k``; it gets its own row, and need not be listed
    in ``databases``. ``sweep={"key": [v1, v2, ...]}`` evaluates every database
    but the reference once per value of that config key, each time on a fresh
    instance of its plugin (its config with that value) holding a collection built
    from the corpus's ``text`` column (the ids from ``id``, as ``%hector upsert
    --from ds.corpus --text-column text --id-column id`` does); the loaded plugin
    and its ``collection`` stay exactly as they were; ``at_recall=0.95`` marks
    the fastest row whose ``ref_recall@k`` reaches 0.95 (column
    ``fastest_at_recall``, and :attr:`Evaluation.fastest_at_recall`); the rows
    reaching it whose QPS is as high within the noise (the spread between one
    row's passes) are :attr:`Evaluation.as_fast_within_noise`. ``repeat=3``
    searches every query three times and keeps its fastest time, as ann-benchmarks
    keeps the best of several runs: steadier speed on a busy machine.
    ``threshold`` is Hector's ``search.threshold``: the ``hector_*`` columns score
    what Hector's document store keeps of each ranking (0: no such columns).

    Returns an :class:`Evaluation`: its ``table`` indexed by database (``name
    key=value`` per swept setting), its ``per_query`` every query's metrics and latency.
    """
    import pandas
    from tqdm.auto import tqdm

    if k < 1:
        raise ValueError(f"k must be at least 1, got {k}")
    if repeat < 1:
        raise ValueError(f"repeat must be at least 1, got {repeat}")
    if at_recall is not None and reference is None:
        raise ValueError("at_recall compares recall against a reference: pass reference= (an exact database)")
    if session is None:
        import hector_nb

        session = hector_nb.session()
    if isinstance(databases, str):
        raise TypeError(f"databases is a list of names or clients, e.g. {databases.split(',')!r}, not the text "
                        f"{databases!r}")
    clients = _unique_clients(_plugin(session, item, DatabaseClient) for item in databases)
    if not clients:
        raise ValueError("no databases to evaluate: pass at least one loaded database plugin")
    reference_client = None if reference is None else _plugin(session, reference, DatabaseClient)
    if reference_client is not None and reference_client.name not in clients:
        clients = {reference_client.name: reference_client, **clients}
    runs = _runs(clients, reference_client, sweep)
    queries = judged_queries(dataset)
    embedder_client = _plugin(session, embedder, EmbedderClient)
    vectors = embedder_client.embed_many(queries["text"].tolist())
    swept = any(run.setting for run in runs)
    corpus = embedder_client.embed_many(dataset.corpus["text"].tolist()) if swept else None
    with tqdm(total=len(runs) * len(queries) * repeat, desc=f"searching {collection}", leave=False) as bar:
        for run in runs:
            bar.set_postfix_str(run.label)
            if run.setting is None:
                _search(run, run.client, collection, vectors, k, repeat, bar)
                _check_ids(run, collection, dataset)
                continue
            assert corpus is not None
            with _swept_copy(run.client, run.setting, dataset, embedder_client, corpus) as (copy, scratch):
                _search(run, copy, scratch, vectors, k, repeat, bar)
    ids = dict(zip(queries["id"], range(len(queries)), strict=True))
    per_query = pandas.concat(
        {run.label: _per_query(run, ids, dataset.qrels, k, runs[0] if reference_client else None, threshold)
         for run in runs},
        names=["database", "query_id"])
    result = Evaluation(_summary(runs, per_query, sweep), per_query, k,
                        reference_client.name if reference_client else None, _sweep_key(sweep), at_recall, repeat,
                        threshold)
    if at_recall is not None:
        _mark_fastest(result, {run.label: _spread(run.passes) for run in runs})
    return result


def judged_queries(dataset: Dataset) -> pandas.DataFrame:
    """The queries that have judgements (the others cannot be scored, as in BEIR)."""
    queries = dataset.queries[dataset.queries["id"].isin(dataset.qrels["query_id"])]
    if queries.empty:
        raise DatasetError(f"dataset {dataset.name!r}: none of its {len(dataset.queries)} queries has a judgement; "
                           "check that the qrels' query ids match queries.jsonl")
    return queries.reset_index(drop=True)


def judge(run: Mapping[str, Sequence[str]], qrels: pandas.DataFrame, k: int) -> pandas.DataFrame:
    """trec_eval's nDCG@k (graded gains), recall@k and reciprocal rank@k of each query's ranked ids.

    ``run`` maps a query id to document ids, best first; ``qrels`` has columns
    ``query_id``, ``doc_id``, ``score``. A query with no results scores 0.
    """
    import ir_measures
    import pandas
    from ir_measures import RR, R, nDCG

    names = {nDCG @ k: f"ndcg@{k}", R @ k: f"recall@{k}", RR @ k: f"mrr@{k}"}
    # Scores that only encode the rank: trec_eval re-sorts by score, and ties would reorder a database's list.
    # Cut at k here: trec_eval's recip_rank has no cutoff of its own (ir_measures' RR@k over pytrec_eval ignores k).
    ranked = pandas.DataFrame(
        [(query, doc, float(k - rank)) for query, ids in run.items() for rank, doc in enumerate(ids[:k])],
        columns=["query_id", "doc_id", "score"])
    judgements = qrels[qrels["query_id"].isin(run)].rename(columns={"score": "relevance"})
    values: dict[str, dict[str, float]] = {column: {} for column in names.values()}
    for metric in ir_measures.pytrec_eval.iter_calc(list(names), judgements, ranked):
        values[names[metric.measure]][metric.query_id] = metric.value
    index = pandas.Index(list(run), name="query_id")
    return pandas.DataFrame(values, index=index, columns=list(names.values())).fillna(0.0)


def _plugin(session: Session, item: str | PluginClient, kind: type[ClientType]) -> ClientType:
    return expect(session.get(item) if isinstance(item, str) else item, kind, "evaluate")


def _unique_clients(clients: Iterable[DatabaseClient]) -> dict[str, DatabaseClient]:
    return {client.name: client for client in clients}


def _sweep_key(sweep: Mapping[str, Sequence[Any]] | None) -> str | None:
    if not sweep:
        return None
    if len(sweep) != 1:
        raise ValueError(f"sweep one config key at a time, got {', '.join(sweep)}")
    key, values = next(iter(sweep.items()))
    if isinstance(values, str) or not values:
        raise ValueError(f"sweep {key!r} needs a list of values, e.g. {{{key!r}: [16, 32, 64]}}")
    return key


def _runs(clients: Mapping[str, DatabaseClient], reference: DatabaseClient | None,
          sweep: Mapping[str, Sequence[Any]] | None) -> list[_Run]:
    """The reference first (its results are every other run's yardstick), then the rest."""
    key = _sweep_key(sweep)
    ordered = sorted(clients.values(), key=lambda client: reference is None or client.name != reference.name)
    runs = []
    for client in ordered:
        if key is None or (reference is not None and client.name == reference.name):
            runs.append(_Run(client.name, client))
        else:
            assert sweep is not None
            runs.extend(_Run(f"{client.name} {key}={value}", client, (key, str(value))) for value in sweep[key])
    if key is not None and all(run.setting is None for run in runs):
        raise ValueError(f"nothing to sweep: every database is the reference; list the database to sweep {key} on")
    return runs


@contextlib.contextmanager
def _swept_copy(client: DatabaseClient, setting: tuple[str, str], dataset: Dataset, embedder: EmbedderClient,
                vectors: np.ndarray) -> Iterator[tuple[DatabaseClient, str]]:
    """A fresh instance of ``client``'s plugin, initialized with its config but ``setting``, holding the corpus
    in a collection of its own (named here): each setting is measured on an index built under it, and the
    user's plugin and collections are never touched (a server-backed copy shares their server)."""
    from .host.copies import start_copy

    try:
        copy = start_copy(client, "evaluate")
    except PluginError as exc:
        raise PluginError(client.name, "evaluate", f"the sweep builds each setting's index in a fresh instance "
                          f"of the plugin, and none could be started: {exc.message}") from None
    assert isinstance(copy, type(client))
    scratch = f"hector_nb_sweep_{uuid.uuid4().hex[:12]}"
    try:
        copy.initialize({**client.config, setting[0]: setting[1]})
        upsert_frame(copy, scratch, dataset.corpus, text_column="text", embedder=embedder, id_column="id",
                     create=True, vectors=vectors)
        yield copy, scratch
    finally:
        try:
            copy.delete_collection(scratch)
        except PluginError:
            pass  # it failed to build: nothing to drop
        finally:
            copy.shutdown()


def _search(run: _Run, client: DatabaseClient, collection: str, vectors: np.ndarray, k: int, repeat: int,
            bar: Any) -> None:
    """Every query, one at a time, timed from this process; ``repeat`` passes keep each query's fastest time."""
    # threshold=0: no warning per search; the hector_* columns say what Hector's threshold drops.
    client.search(collection, vectors[0], k, threshold=0)  # warm-up: the first call may pay for connections
    latencies = np.full(len(vectors), np.inf)
    for _ in range(repeat):
        took = 0.0
        for row, vector in enumerate(vectors):
            start = time.perf_counter()
            hits = client.search(collection, vector, k, threshold=0)
            elapsed = time.perf_counter() - start
            latencies[row] = min(latencies[row], elapsed)
            took += elapsed
            if len(run.ids) < len(vectors):
                first: dict[str, float] = {}
                for hit in hits:  # a repeated id keeps its first (best) rank and score
                    first.setdefault(hit.id, hit.score)
                run.ids.append(list(first)[:k])
                run.scores.append([first[id] for id in run.ids[-1]])
            bar.update()
        run.passes.append(took)
    run.latencies = latencies.tolist()


def _check_ids(run: _Run, collection: str, dataset: Dataset) -> None:
    """Results that are none of the corpus's documents mean the collection was filled otherwise: every score is 0."""
    found = {id for ids in run.ids for id in ids}
    if found and found.isdisjoint(dataset.corpus["id"]):
        example = ", ".join(sorted(found)[:3])
        raise DatasetError(f"plugin {run.client.name!r}, evaluate: none of the ids {collection!r} returned "
                           f"({example}, ...) is a document of dataset {dataset.name!r}; fill it from the dataset's "
                           f"corpus with its ids: %hector upsert DB {collection} --from ds.corpus --text-column text "
                           "--id-column id")


def _per_query(run: _Run, ids: Mapping[str, int], qrels: pandas.DataFrame, k: int,
               reference: _Run | None, threshold: float) -> pandas.DataFrame:
    frame = judge({query: run.ids[row] for query, row in ids.items()}, qrels, k)
    if reference is not None:
        frame[f"ref_recall@{k}"] = [recall_at_k(found, expected, k) for found, expected in zip(run.ids, reference.ids,
                                                                                               strict=True)]
    if threshold > 0:  # what Hector's document store keeps: the hits not scoring below its threshold
        kept = {query: [id for id, score in zip(run.ids[row], run.scores[row], strict=True)
                        if hector_keeps(score, threshold)] for query, row in ids.items()}
        frame = frame.join(judge(kept, qrels, k).add_prefix("hector_"))
        frame["hector_dropped"] = [len(run.ids[row]) - len(kept[query]) for query, row in ids.items()]
    frame["latency_ms"] = np.asarray(run.latencies) * 1000.0
    return frame


def _summary(runs: Sequence[_Run], per_query: pandas.DataFrame, sweep: Mapping[str, Sequence[Any]] | None
             ) -> pandas.DataFrame:
    import pandas

    key = _sweep_key(sweep)
    rows = {}
    for run in runs:
        queries = per_query.loc[run.label]
        latencies = queries["latency_ms"].to_numpy()
        row = queries.drop(columns="latency_ms").mean().to_dict()
        row.update(p50_ms=float(np.percentile(latencies, 50)), p95_ms=float(np.percentile(latencies, 95)),
                   qps=len(latencies) / (latencies.sum() / 1000.0))
        if key is not None:
            row.update({"plugin": run.client.name, key: run.setting[1] if run.setting else None})
        rows[run.label] = row
    frame = pandas.DataFrame.from_dict(rows, orient="index")
    frame.index.name = "database"
    return frame


def _spread(passes: Sequence[float]) -> float:
    """How much the passes of one run differ, relative to the fastest (0.0 with one pass: unknown)."""
    return max(passes) / min(passes) - 1.0 if len(passes) > 1 and min(passes) > 0 else 0.0


def _mark_fastest(result: Evaluation, spread: Mapping[str, float]) -> None:
    """Mark the fastest row reaching ``at_recall``, and list the rows as fast within the noise.

    Two rows are told apart only when their QPS differ by more than either row's own
    passes differ (``spread``): otherwise which is "fastest" is the machine's noise.
    """
    assert result.at_recall is not None
    frame = result.table
    reaching = frame[frame[f"ref_recall@{result.k}"] >= result.at_recall]
    fastest = None if reaching.empty else str(reaching["qps"].idxmax())
    frame["fastest_at_recall"] = frame.index == fastest
    result.fastest_at_recall = fastest
    best = reaching["qps"].max()
    result.as_fast_within_noise = [
        label for label in reaching.index if label != fastest
        and best / reaching.at[label, "qps"] - 1.0 <= max(spread.get(str(fastest), 0.0), spread.get(label, 0.0))]


def plot(result: Evaluation) -> Figure:
    """Recall against queries per second (log scale): a point per database, a line per swept database.

    Recall is ``ref_recall@k`` when the evaluation had a reference, else
    ``recall@k`` against the judgements. Built without pyplot, so it needs no
    display and leaves no global figure behind; save it with ``fig.savefig``.
    """
    from matplotlib.figure import Figure
    from matplotlib.ticker import FuncFormatter

    frame, k, key = result.table, result.k, result.sweep
    recall = f"ref_recall@{k}" if f"ref_recall@{k}" in frame else f"recall@{k}"
    figure = Figure(figsize=(6.4, 4.2), layout="constrained")
    axes = figure.subplots()
    groups = frame.groupby("plugin", sort=False) if key else ((label, frame.loc[[label]]) for label in frame.index)
    for number, (name, rows) in enumerate(groups):
        color = f"C{number}"
        if key and rows[key].notna().all():
            axes.plot(rows[recall], rows["qps"], marker="o", color=color, label=f"{name} ({key})")
            for value, x, y in zip(rows[key], rows[recall], rows["qps"], strict=True):
                axes.annotate(str(value), (x, y), textcoords="offset points", xytext=(4, 4), fontsize=8)
        else:
            axes.scatter(rows[recall], rows["qps"], s=40, color=color, label=str(name))
    at_recall = result.at_recall
    if at_recall is not None:
        axes.axvline(at_recall, color="grey", linestyle="--", linewidth=1, label=f"recall {at_recall:g}")
        fastest = result.fastest_at_recall
        if fastest is not None:
            axes.scatter([frame.loc[fastest, recall]], [frame.loc[fastest, "qps"]], marker="*", s=240,
                         facecolors="none", edgecolors="black", label=f"fastest: {fastest}")
    axes.set_yscale("log")
    plain = FuncFormatter(lambda value, _: f"{value:g}")
    axes.yaxis.set_major_formatter(plain)
    axes.yaxis.set_minor_formatter(plain)
    axes.set_xlabel(recall + (f" (against {result.reference})" if recall.startswith("ref_") else ""))
    axes.set_ylabel("queries per second")
    axes.grid(True, which="both", alpha=0.3)
    axes.legend(fontsize=8)
    return figure
