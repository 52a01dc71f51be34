"""Retrieval metrics with the conventions of the shared municipal FAQ benchmark.

* nDCG@k with linear gain: ``DCG = Σ rel_i / log2(i + 1)`` (rank i from 1), ideal DCG from all
  judged documents of the query; unjudged documents count as not relevant.
* Recall@k, MRR@k, Hit@k: a document is relevant when its grade is >= 1.
* Department accuracy@k: over queries that carry a gold department.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence


def dcg(gains: Sequence[float]) -> float:
    return sum(g / math.log2(i + 2) for i, g in enumerate(gains))


def ndcg_at_k(ranked: Sequence[str], qrels: Mapping[str, int], k: int = 10) -> float:
    ideal = dcg(sorted((float(g) for g in qrels.values() if g > 0), reverse=True)[:k])
    if ideal == 0:
        return 0.0
    return dcg([float(qrels.get(doc, 0)) for doc in ranked[:k]]) / ideal


def recall_at_k(ranked: Sequence[str], qrels: Mapping[str, int], k: int = 10) -> float:
    relevant = {d for d, g in qrels.items() if g >= 1}
    if not relevant:
        return 0.0
    return len(relevant.intersection(ranked[:k])) / len(relevant)


def mrr_at_k(ranked: Sequence[str], qrels: Mapping[str, int], k: int = 10) -> float:
    for i, doc in enumerate(ranked[:k]):
        if qrels.get(doc, 0) >= 1:
            return 1.0 / (i + 1)
    return 0.0


def hit_at_k(ranked: Sequence[str], qrels: Mapping[str, int], k: int) -> float:
    return 1.0 if any(qrels.get(doc, 0) >= 1 for doc in ranked[:k]) else 0.0


def dept_hit_at_k(predicted: Sequence[str], gold: str, k: int) -> float:
    return 1.0 if gold in predicted[:k] else 0.0


def percentile(values: Sequence[float], q: float) -> float:
    """Linear-interpolated percentile (``q`` in 0..100), as numpy's default."""
    if not values:
        return 0.0
    xs = sorted(values)
    pos = (len(xs) - 1) * q / 100.0
    lo, hi = math.floor(pos), math.ceil(pos)
    return xs[lo] + (xs[hi] - xs[lo]) * (pos - lo)
