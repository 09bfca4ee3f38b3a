"""Malformed data: vectors of different lengths, dataset files as editors and careless hands write them, paths
no file can have."""

from __future__ import annotations

import pytest

from hector_nb.datasets import load_beir
from hector_nb.errors import DatasetError, InvalidInput, ProviderError

CORPUS = '{"_id": "d1", "text": "first"}\n{"_id": "d2", "text": "second"}\n'
QUERIES = '{"_id": "q1", "text": "which is first?"}\n'
QRELS = "query-id\tcorpus-id\tscore\nq1\td1\t2\nq1\td2\t0\n"


def beir(folder, corpus=CORPUS, queries=QUERIES, qrels=QRELS):
    """A BEIR folder whose files hold exactly these bytes (or text, written as UTF-8)."""
    (folder / "qrels").mkdir(parents=True)
    for name, content in (("corpus.jsonl", corpus), ("queries.jsonl", queries), ("qrels/test.tsv", qrels)):
        (folder / name).write_bytes(content if isinstance(content, bytes) else content.encode())
    return folder


# Item 20: vectors of different lengths name the text, on every path (per-text embed or embed_many;
# in-kernel, the bulk service, or Hector's per-text Embed calls).
@pytest.mark.parametrize("provider", ["UnevenEach", "UnevenMany"])
@pytest.mark.parametrize("path", ["in-kernel", "in-process", "subprocess", "per-text Embed calls"])
def test_embeddings_of_different_lengths_name_the_text(scripted, provider, path):
    embedder = scripted("sized.py", provider, "subprocess" if path == "per-text Embed calls" else path)
    if path == "per-text Embed calls":
        # What a plugin without hector_nb's bulk service (a Go plugin) gets; set here on an SDK plugin's
        # connection, as the host sets it when such a plugin answers its probe UNIMPLEMENTED.
        embedder._supervisor.transport.offers_bulk = False
    with pytest.raises(ProviderError, match=r"the embeddings differ in length: 3 values for the text 'a', "
                                            r"2 for the text 'odd'; return vectors of one length"):
        embedder.embed_many(["a", "b", "odd", "c"])
    # In a later batch of its own: the first text of that batch is the first of the other length.
    with pytest.raises(ProviderError, match=r"3 values for the text 't0', 2 for the text 'odd'"):
        embedder.embed_many([f"t{i}" for i in range(256)] + ["odd"])


def test_a_file_that_is_not_utf8_names_the_file_and_line(tmp_path):
    folder = beir(tmp_path / "latin1", corpus=CORPUS.encode() + '{"_id": "d3", "text": "caf\xe9"}\n'.encode("latin-1"))
    with pytest.raises(DatasetError, match=r"corpus\.jsonl, line 3: not UTF-8 text \(byte 0xe9 at column 27\); "
                                           r"save the file as UTF-8"):
        load_beir(folder)


def test_a_byte_order_mark_is_accepted_in_every_file(tmp_path):
    bom = "\ufeff"
    dataset = load_beir(beir(tmp_path / "bom", corpus=bom + CORPUS, queries=bom + QUERIES, qrels=bom + QRELS))
    assert dataset.corpus["id"].tolist() == ["d1", "d2"] and dataset.queries["id"].tolist() == ["q1"]
    assert dataset.qrels.to_dict("records")[0] == {"query_id": "q1", "doc_id": "d1", "score": 2}


def test_judging_a_pair_twice_differently_is_refused_naming_both_lines(tmp_path):
    folder = beir(tmp_path / "twice", qrels=QRELS + "q1\td1\t0\n")
    with pytest.raises(DatasetError, match=r"test\.tsv, line 4: query 'q1' and document 'd1' are judged 0 here "
                                           r"but 2 on line 2; keep one judgement"):
        load_beir(folder)
    same = load_beir(beir(tmp_path / "same", qrels=QRELS + "q1\td1\t2\n"))  # the same judgement twice counts once
    assert same.qrels.to_dict("records") == [{"query_id": "q1", "doc_id": "d1", "score": 2},
                                             {"query_id": "q1", "doc_id": "d2", "score": 0}]


@pytest.mark.parametrize("path, words", [("", "the path is empty"), ("  ", "the path is empty"),
                                          ("plugins/x\0y", "holds a NUL character, which no file name can")])
def test_loading_a_path_no_file_can_have_says_so(session, path, words):
    with pytest.raises(InvalidInput, match=words + "; give the plugin's executable, its .plugin.yaml, builtin:NAME or "
                                        "MODULE:CLASS"):
        session.load(path)
