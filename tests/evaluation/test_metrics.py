"""judge() against trec_eval's definitions, computed by hand.

trec_eval (ndcg_cut, recall, recip_rank): gain = the judged grade (graded, linear),
discount log2(rank + 1); the ideal ranking sorts every judged grade > 0 descending
and is cut at k too; recall counts documents with grade >= 1; reciprocal rank is
1 / rank of the first document with grade >= 1. Unretrieved relevant documents
still count in the ideal DCG and in recall's denominator.
"""

from __future__ import annotations

from math import log2

import pandas as pd
import pytest

from hector_nb.evaluation import judge

QRELS = pd.DataFrame(
    [("q1", "d1", 2), ("q1", "d2", 1), ("q1", "d3", 0), ("q1", "d4", 1), ("q2", "d5", 2)],
    columns=["query_id", "doc_id", "score"])


def test_graded_ndcg_recall_and_reciprocal_rank_by_hand():
    # q1 retrieves: d3 (grade 0), d2 (1), d9 (unjudged), d1 (2); d4 (1) is never found.
    frame = judge({"q1": ["d3", "d2", "d9", "d1"]}, QRELS, k=10)
    dcg = 1 / log2(3) + 2 / log2(5)
    ideal = 2 / log2(2) + 1 / log2(3) + 1 / log2(4)
    assert frame.loc["q1", "ndcg@10"] == pytest.approx(dcg / ideal)  # 1.49228 / 3.13093
    assert frame.loc["q1", "ndcg@10"] == pytest.approx(0.476626, abs=1e-6)
    assert frame.loc["q1", "recall@10"] == pytest.approx(2 / 3)
    assert frame.loc["q1", "mrr@10"] == pytest.approx(1 / 2)


def test_the_cutoff_applies_to_the_ranking_and_the_ideal():
    frame = judge({"q1": ["d3", "d2", "d9", "d1"]}, QRELS, k=3)
    ideal_at_3 = 2 / log2(2) + 1 / log2(3) + 1 / log2(4)
    assert list(frame.columns) == ["ndcg@3", "recall@3", "mrr@3"]
    assert frame.loc["q1", "ndcg@3"] == pytest.approx((1 / log2(3)) / ideal_at_3)
    assert frame.loc["q1", "recall@3"] == pytest.approx(1 / 3)
    at_1 = judge({"q1": ["d3", "d2", "d9", "d1"]}, QRELS, k=1)
    assert at_1.loc["q1"].tolist() == [0.0, 0.0, 0.0]


def test_rank_not_score_decides_and_empty_results_score_zero():
    # The list order is the database's ranking; judge() never re-sorts it.
    frame = judge({"q1": ["d1", "d2", "d4"], "q2": []}, QRELS, k=10)
    assert frame.loc["q1"].tolist() == pytest.approx([1.0, 1.0, 1.0])
    assert frame.loc["q2"].tolist() == [0.0, 0.0, 0.0]
    swapped = judge({"q1": ["d2", "d1", "d4"]}, QRELS, k=10)
    assert swapped.loc["q1", "ndcg@10"] == pytest.approx((1 + 2 / log2(3) + 1 / log2(4))
                                                         / (2 + 1 / log2(3) + 1 / log2(4)))
    assert swapped.loc["q1", "mrr@10"] == 1.0  # grade 1 counts as relevant for reciprocal rank
