from __future__ import annotations

import math

import pytest

from kb.evaluation.metrics import (
    dept_hit_at_k,
    hit_at_k,
    mrr_at_k,
    ndcg_at_k,
    percentile,
    recall_at_k,
)

QRELS = {"a": 2, "b": 1, "c": 1}


def test_ndcg_hand_computed() -> None:
    # ranked: x, a, b -> DCG = 0/log2(2) + 2/log2(3) + 1/log2(4)
    dcg = 2 / math.log2(3) + 1 / 2
    # ideal: a, b, c -> 2/1 + 1/log2(3) + 1/2
    ideal = 2 + 1 / math.log2(3) + 0.5
    assert ndcg_at_k(["x", "a", "b"], QRELS) == pytest.approx(dcg / ideal)
    assert ndcg_at_k(["a", "b", "c"], QRELS) == pytest.approx(1.0)
    assert ndcg_at_k(["x"], QRELS) == 0.0
    assert ndcg_at_k(["a"], {}) == 0.0


def test_ndcg_counts_only_top_k() -> None:
    ranked = [f"x{i}" for i in range(10)] + ["a"]
    assert ndcg_at_k(ranked, QRELS, k=10) == 0.0


def test_recall_mrr_hit() -> None:
    ranked = ["x", "b", "y", "a"]
    assert recall_at_k(ranked, QRELS) == pytest.approx(2 / 3)
    assert mrr_at_k(ranked, QRELS) == pytest.approx(1 / 2)
    assert hit_at_k(ranked, QRELS, 1) == 0.0
    assert hit_at_k(ranked, QRELS, 2) == 1.0
    assert recall_at_k(ranked, {"a": 0}) == 0.0


def test_department_hits_and_percentile() -> None:
    assert dept_hit_at_k(["市民課", "税務課"], "税務課", 1) == 0.0
    assert dept_hit_at_k(["市民課", "税務課"], "税務課", 3) == 1.0
    assert percentile([1.0, 2.0, 3.0, 4.0], 50) == pytest.approx(2.5)
    assert percentile([5.0], 95) == 5.0
