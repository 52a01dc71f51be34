"""Cross-validated choice of fusion settings on a BEIR dataset.

Usage::

    .venv/bin/python eval/tune_fusion.py ../shared/eval/municipal-faq-dev [--folds 5]

For every setting in the grid, every query is scored once; then, fold by fold, the setting with
the best mean nDCG@10 on the other folds is applied to the held-out fold. The cross-validated
mean estimates what the chosen rule achieves on unseen queries; the per-setting table shows how
flat the optimum is (a flat optimum generalises, a sharp one is noise).
"""

from __future__ import annotations

import argparse
import itertools
import json
import random
from dataclasses import replace
from pathlib import Path
from typing import Any

import numpy as np

from kb.embed.embedder import load_embedder
from kb.evaluation.beir import load_dataset
from kb.evaluation.metrics import ndcg_at_k
from kb.evaluation.runner import prepare_index
from kb.search.config import SearchConfig
from kb.search.searcher import Searcher
from kb.settings import Settings


class CachedQueries:
    """Wraps an embedder so each query is embedded once across the whole grid."""

    def __init__(self, inner: Any) -> None:
        self.inner = inner
        self.model_id = inner.model_id
        self.dim = inner.dim
        self._cache: dict[str, np.ndarray] = {}

    def encode_queries(self, texts: list[str]) -> np.ndarray:
        missing = [t for t in texts if t not in self._cache]
        if missing:
            for t, v in zip(missing, self.inner.encode_queries(missing), strict=True):
                self._cache[t] = v
        return np.stack([self._cache[t] for t in texts])

    def encode_documents(self, texts: list[str], *, progress: bool = False) -> np.ndarray:
        return self.inner.encode_documents(texts, progress=progress)


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("dataset", type=Path)
    ap.add_argument("--data-dir", type=Path, default=Path("data"))
    ap.add_argument("--model", default=None)
    ap.add_argument("--folds", type=int, default=5)
    ap.add_argument("--json", type=Path, default=None)
    args = ap.parse_args()
    settings = Settings(data_dir=args.data_dir, **({"model": args.model} if args.model else {}))
    dataset = load_dataset(args.dataset)
    embedder = CachedQueries(load_embedder(settings.model, models_dir=settings.models_dir))
    searcher = Searcher.open(prepare_index(dataset, embedder, settings), embedder)
    queries = dataset.judged_queries()
    grid = [
        SearchConfig(mode="hybrid", fusion=fusion, dense_weight=w, title_weight=t)
        for fusion, w, t in itertools.product(
            ("convex", "rrf"), (0.3, 0.4, 0.5, 0.6, 0.7), (0.0, 0.25, 0.5, 0.75)
        )
    ]
    scores = np.zeros((len(grid), len(queries)))
    for gi, cfg in enumerate(grid):
        searcher.config = cfg
        for qi, q in enumerate(queries):
            ranked = [h.doc_id.partition(":")[2] for h in searcher.retrieve(q.text, k=10)["faq"]]
            scores[gi, qi] = ndcg_at_k(ranked, dataset.qrels[q.id])
    order = list(range(len(queries)))
    random.Random(0).shuffle(order)
    folds = [order[i :: args.folds] for i in range(args.folds)]
    cv, chosen = [], []
    for f in folds:
        train = [i for i in order if i not in set(f)]
        best = int(np.argmax(scores[:, train].mean(axis=1)))
        chosen.append(best)
        cv.append(scores[best, f].mean())
    means = scores.mean(axis=1)
    print("setting                                 mean nDCG@10")
    for gi in np.argsort(-means)[:12]:
        c = grid[gi]
        print(
            f"  {c.fusion:6s} dense_w={c.dense_weight:.2f} title_w={c.title_weight:.2f}   {means[gi]:.4f}"
        )
    print(f"cross-validated nDCG@10 ({args.folds} folds): {np.mean(cv):.4f}")
    for gi in chosen:
        c = grid[gi]
        print(f"  fold pick: {c.fusion} dense_w={c.dense_weight} title_w={c.title_weight}")
    if args.json:
        args.json.write_text(
            json.dumps(
                {
                    "cv_ndcg@10": float(np.mean(cv)),
                    "grid": [
                        {**replace(c).__dict__, "ndcg@10": float(means[i])}
                        for i, c in enumerate(grid)
                    ],
                },
                indent=2,
            )
        )


if __name__ == "__main__":
    main()
