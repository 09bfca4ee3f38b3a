"""load_beir: BEIR's folder layout, ids as text, and one clear error per malformed file."""

from __future__ import annotations

import json

import pytest

from hector_nb.data import STDLIB_QRELS, load_corpus
from hector_nb.datasets import load_beir
from hector_nb.errors import DatasetError

CORPUS = '{"_id": 1, "title": "One", "text": "first"}\n\n{"_id": "d2", "text": "second"}\n'
QUERIES = '{"_id": "q1", "text": "which is first?"}\n{"_id": 7, "text": "seven", "metadata": {}}\n'
QRELS = "query-id\tcorpus-id\tscore\nq1\t1\t2\n7\td2\t0\n"


def beir(folder, corpus=CORPUS, queries=QUERIES, qrels=QRELS, split="test"):
    (folder / "qrels").mkdir(parents=True, exist_ok=True)
    (folder / "corpus.jsonl").write_text(corpus)
    (folder / "queries.jsonl").write_text(queries)
    (folder / "qrels" / f"{split}.tsv").write_text(qrels)
    return folder


def test_reads_corpus_queries_and_qrels_with_ids_as_text(tmp_path):
    dataset = load_beir(beir(tmp_path / "tiny"))
    assert dataset.name == "tiny"
    assert dataset.corpus.to_dict("records") == [{"id": "1", "title": "One", "text": "first"},
                                                 {"id": "d2", "title": "", "text": "second"}]
    assert dataset.queries.to_dict("records") == [{"id": "q1", "text": "which is first?"},
                                                  {"id": "7", "text": "seven"}]
    assert dataset.qrels.to_dict("records") == [{"query_id": "q1", "doc_id": "1", "score": 2},
                                                {"query_id": "7", "doc_id": "d2", "score": 0}]
    assert str(dataset.qrels["score"].dtype) == "int64"
    assert "2 documents, 2 queries (2 judged), 2 judgements" in repr(dataset)


def test_split_names_the_qrels_file(tmp_path):
    folder = beir(tmp_path / "d", qrels="query-id\tcorpus-id\tscore\nq1\td2\t1\n", split="dev")
    assert load_beir(folder, split="dev").qrels["doc_id"].tolist() == ["d2"]
    with pytest.raises(DatasetError, match=r"test\.tsv: no judgements for split 'test'; splits here: dev"):
        load_beir(folder)


@pytest.mark.parametrize("file, text, message", [
    ("corpus.jsonl", '{"_id": "a", "text": "x"}\n{"_id": "b", "text": \n', r"corpus\.jsonl, line 2: not JSON"),
    ("corpus.jsonl", '{"title": "no id"}\n', r'corpus\.jsonl, line 1: expected a JSON object with an "_id"'),
    ("corpus.jsonl", '["a list"]\n', r'corpus\.jsonl, line 1: expected a JSON object'),
    ("queries.jsonl", '{"_id": "q", "text": "a"}\n{"_id": "q"}\n', r"queries\.jsonl, line 2: duplicate _id 'q'"),
    ("qrels/test.tsv", "q1\t1\t2\n", r"test\.tsv, line 1: expected the header query-id<TAB>corpus-id<TAB>score"),
    ("qrels/test.tsv", "", r"test\.tsv: empty"),
    ("qrels/test.tsv", "query-id\tcorpus-id\tscore\nq1\t1\t2\nq1 1 2\n", r"test\.tsv, line 3: expected 3 tab"),
    ("qrels/test.tsv", "query-id\tcorpus-id\tscore\nq1\t1\thigh\n", r"test\.tsv, line 2: the score must be an integer"),
])
def test_malformed_files_name_the_file_and_line(tmp_path, file, text, message):
    folder = beir(tmp_path / "bad")
    (folder / file).write_text(text)
    with pytest.raises(DatasetError, match=message):
        load_beir(folder)


def test_missing_folder_or_file_says_what_a_dataset_needs(tmp_path):
    with pytest.raises(DatasetError, match="no such dataset folder; a BEIR dataset is a folder with corpus.jsonl"):
        load_beir(tmp_path / "nowhere")
    folder = beir(tmp_path / "partial")
    (folder / "queries.jsonl").unlink()
    with pytest.raises(DatasetError, match=r"queries\.jsonl: missing"):
        load_beir(folder)


def test_the_shipped_dataset_is_complete_and_judged_by_hand():
    dataset = load_beir(STDLIB_QRELS)
    corpus = load_corpus()
    assert dataset.corpus.to_dict("records") == corpus[["id", "title", "text"]].to_dict("records")
    assert 50 <= len(dataset.queries) <= 100
    assert set(dataset.qrels["query_id"]) == set(dataset.queries["id"])  # every query is judged
    assert set(dataset.qrels["doc_id"]) <= set(corpus["id"])
    assert set(dataset.qrels["score"]) == {1, 2}
    # every query has at least one document that answers it (grade 2)
    assert set(dataset.qrels.loc[dataset.qrels["score"] == 2, "query_id"]) == set(dataset.queries["id"])
    first = json.loads((STDLIB_QRELS / "queries.jsonl").read_text().splitlines()[0])
    assert dataset.qrels[dataset.qrels["query_id"] == first["_id"]].set_index("doc_id")["score"].to_dict() == {
        "shutil.copy": 2, "shutil.copy2": 2, "shutil.copyfile": 2,
        "shutil.copyfileobj": 1, "shutil.copytree": 1, "shutil.move": 1}
