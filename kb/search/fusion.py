"""Fusion of dense and lexical scores over one candidate set."""

from __future__ import annotations

from typing import Literal

import numpy as np

FusionMethod = Literal["convex", "rrf"]
RRF_K = 60.0


def minmax(scores: np.ndarray) -> np.ndarray:
    """Scale to [0, 1]; a constant vector becomes all ones (or zeros if it is zero)."""
    if scores.size == 0:
        return scores.astype(np.float32)
    lo, hi = float(scores.min()), float(scores.max())
    if hi - lo < 1e-9:
        return np.full_like(scores, 1.0 if hi > 0 else 0.0, dtype=np.float32)
    return ((scores - lo) / (hi - lo)).astype(np.float32)


def ranks(scores: np.ndarray) -> np.ndarray:
    """1-based rank of each score (highest first); ties share the order of appearance."""
    order = np.argsort(-scores, kind="stable")
    out = np.empty(len(scores), dtype=np.float32)
    out[order] = np.arange(1, len(scores) + 1, dtype=np.float32)
    return out


def fuse(
    dense: np.ndarray,
    lexical: np.ndarray,
    *,
    method: FusionMethod = "convex",
    dense_weight: float = 0.5,
) -> np.ndarray:
    """Combine two aligned score vectors for the same candidates into one.

    ``convex``: ``w·minmax(dense) + (1-w)·minmax(lexical)``; a candidate with no lexical
    match gets 0 from that side. ``rrf``: reciprocal rank fusion, ``Σ 1/(60 + rank)``, with
    the same weights.
    """
    if method == "convex":
        lex = minmax(lexical) if float(lexical.max(initial=0.0)) > 0 else np.zeros_like(lexical)
        return dense_weight * minmax(dense) + (1.0 - dense_weight) * lex
    if method == "rrf":
        lex_part = np.where(lexical > 0, 1.0 / (RRF_K + ranks(lexical)), 0.0)
        dense_part = 1.0 / (RRF_K + ranks(dense))
        return (dense_weight * dense_part + (1.0 - dense_weight) * lex_part).astype(np.float32)
    raise ValueError(f"unknown fusion method {method!r}")
