#!/usr/bin/env python3
"""Write hector_nb/data/stdlib_qrels/corpus.jsonl from the shipped corpus, and check the judgements.

The queries (queries.jsonl) and graded judgements (qrels/test.tsv) beside it are
written by hand and edited there; this script only turns stdlib_docs.csv into
BEIR's corpus.jsonl and checks that every judgement names a known query and
document with a grade of 0, 1 or 2. Rerun it after editing the corpus or the
judgements.
"""

from __future__ import annotations

import json
import sys

from hector_nb.data import STDLIB_QRELS, load_corpus
from hector_nb.datasets import load_beir


def main() -> int:
    with (STDLIB_QRELS / "corpus.jsonl").open("w", encoding="utf-8") as out:
        for row in load_corpus().itertuples(index=False):
            out.write(json.dumps({"_id": row.id, "title": row.title, "text": row.text}, ensure_ascii=False) + "\n")
    dataset = load_beir(STDLIB_QRELS)
    problems = [f"unknown query {q}" for q in set(dataset.qrels.query_id) - set(dataset.queries.id)]
    problems += [f"unknown document {d}" for d in set(dataset.qrels.doc_id) - set(dataset.corpus.id)]
    problems += [f"grade {g} is not 0, 1 or 2" for g in set(dataset.qrels.score) - {0, 1, 2}]
    problems += [f"query {q} has no judgement" for q in set(dataset.queries.id) - set(dataset.qrels.query_id)]
    print(dataset, *problems, sep="\n")
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main())
