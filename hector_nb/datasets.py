"""Retrieval test collections in BEIR's folder format: a corpus, queries and graded judgements.

A BEIR dataset is a folder::

    corpus.jsonl        {"_id": "d1", "title": "...", "text": "..."} per line
    queries.jsonl       {"_id": "q1", "text": "..."} per line
    qrels/test.tsv      query-id <TAB> corpus-id <TAB> score, after a header line

Ids are read as strings whatever JSON type they have, so ``1`` and ``"1"`` are the
same document, as in BEIR's own loader.
"""

from __future__ import annotations

import json
import os
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from .errors import DatasetError

if TYPE_CHECKING:
    import pandas


@dataclass(frozen=True)
class Dataset:
    """A test collection: what to search, what to ask, and which answers are right.

    ``corpus``: DataFrame ``id``, ``title``, ``text``; ``queries``: ``id``, ``text``;
    ``qrels``: ``query_id``, ``doc_id``, ``score`` (an int; 0 judged not relevant,
    higher more relevant).
    """

    name: str
    corpus: pandas.DataFrame
    queries: pandas.DataFrame
    qrels: pandas.DataFrame

    def __repr__(self) -> str:
        judged = self.qrels["query_id"].nunique()
        return (f"<Dataset {self.name!r}: {len(self.corpus)} documents, {len(self.queries)} queries "
                f"({judged} judged), {len(self.qrels)} judgements>")


def load_beir(folder: str | os.PathLike[str], split: str = "test") -> Dataset:
    """Read a dataset in BEIR's layout; ``split`` names the judgements file ``qrels/<split>.tsv``.

    Raises :class:`~hector_nb.errors.DatasetError` naming the file and line of
    anything malformed: text that is not UTF-8 (a byte order mark is accepted),
    bad JSON, a missing ``_id``, a duplicate id, a qrels row without three
    columns or with a non-integer score, or judging a query and document pair
    twice with different scores (the same judgement twice counts once).
    """
    import pandas

    root = Path(folder)
    if not root.is_dir():
        raise DatasetError(f"{root}: no such dataset folder; a BEIR dataset is a folder with corpus.jsonl, "
                           "queries.jsonl and qrels/<split>.tsv")
    qrels_path = root / "qrels" / f"{split}.tsv"
    if not qrels_path.is_file():
        splits = sorted(path.stem for path in (root / "qrels").glob("*.tsv"))
        raise DatasetError(f"{qrels_path}: no judgements for split {split!r}; "
                           f"splits here: {', '.join(splits) or 'none'}")
    corpus = pandas.DataFrame(_records(root / "corpus.jsonl", ("title", "text")), columns=["id", "title", "text"])
    queries = pandas.DataFrame(_records(root / "queries.jsonl", ("text",)), columns=["id", "text"])
    qrels = pandas.DataFrame(_judgements(qrels_path), columns=["query_id", "doc_id", "score"])
    return Dataset(name=root.name, corpus=corpus, queries=queries, qrels=qrels.astype({"score": "int64"}))


def _lines(path: Path) -> Iterator[tuple[int, str]]:
    """Numbered non-blank lines of a UTF-8 text file; a byte order mark at its start is dropped, as
    editors on Windows write one."""
    if not path.is_file():
        raise DatasetError(f"{path}: missing; a BEIR dataset folder needs corpus.jsonl, queries.jsonl "
                           "and qrels/<split>.tsv")
    with path.open("rb") as lines:  # decoded line by line, so an error names its line
        for number, raw in enumerate(lines, start=1):
            try:
                line = raw.decode("utf-8-sig" if number == 1 else "utf-8")
            except UnicodeDecodeError as exc:
                raise DatasetError(f"{path}, line {number}: not UTF-8 text (byte {raw[exc.start]:#04x} at "
                                   f"column {exc.start + 1}); save the file as UTF-8") from None
            if line.strip():
                yield number, line


def _records(path: Path, fields: tuple[str, ...]) -> Iterator[tuple[str, ...]]:
    """``(id, *fields)`` per JSON line; missing optional fields are empty text."""
    seen: set[str] = set()
    for number, line in _lines(path):
        try:
            record: Any = json.loads(line)
        except json.JSONDecodeError as exc:
            raise DatasetError(f"{path}, line {number}: not JSON ({exc.msg}); each line must be one "
                               "JSON object") from None
        if not isinstance(record, dict) or record.get("_id") in (None, ""):
            raise DatasetError(f'{path}, line {number}: expected a JSON object with an "_id", got {line.strip()[:80]}')
        identifier = str(record["_id"])
        if identifier in seen:
            raise DatasetError(f"{path}, line {number}: duplicate _id {identifier!r}")
        seen.add(identifier)
        yield (identifier, *(_text(record.get(name)) for name in fields))


def _text(value: Any) -> str:
    return "" if value is None else str(value)


def _judgements(path: Path) -> Iterator[tuple[str, str, int]]:
    """``(query_id, doc_id, score)`` rows of a qrels TSV, after its header line."""
    rows = ((number, line.rstrip("\r\n").split("\t")) for number, line in _lines(path))
    header = next(rows, None)
    if header is None:
        raise DatasetError(f"{path}: empty; expected a header line query-id<TAB>corpus-id<TAB>score, then rows")
    number, fields = header
    if len(fields) != 3 or _is_int(fields[2]):
        raise DatasetError(f"{path}, line {number}: expected the header query-id<TAB>corpus-id<TAB>score, "
                           f"got {_shown(fields)}")
    judged: dict[tuple[str, str], tuple[int, int]] = {}  # (query, document) -> (score, line)
    for number, fields in rows:
        if len(fields) != 3:
            raise DatasetError(f"{path}, line {number}: expected 3 tab-separated columns "
                               f"(query-id, corpus-id, score), got {len(fields)}: {_shown(fields)}")
        query_id, doc_id, score = (field.strip() for field in fields)
        if not _is_int(score):
            raise DatasetError(f"{path}, line {number}: the score must be an integer, got {score!r}")
        earlier = judged.setdefault((query_id, doc_id), (int(score), number))
        if earlier[1] != number:
            if earlier[0] != int(score):
                raise DatasetError(f"{path}, line {number}: query {query_id!r} and document {doc_id!r} are judged "
                                   f"{int(score)} here but {earlier[0]} on line {earlier[1]}; keep one judgement")
            continue  # the same judgement twice counts once
        yield query_id, doc_id, int(score)


def _is_int(text: str) -> bool:
    try:
        int(text.strip())
    except ValueError:
        return False
    return True


def _shown(fields: list[str]) -> str:
    return "\t".join(fields)[:80].replace("\t", "<TAB>")

