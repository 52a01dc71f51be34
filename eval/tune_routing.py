"""Cross-validated choice of the department ranking weights, and the calibration of its scores.

Usage::

    .venv/bin/python eval/tune_routing.py ../shared/eval/municipal-faq-dev eval/datasets/demo \
        [--folds 5] [--json OUT]

Each dataset's index is built (or found) as `kb eval` builds it, department model included
(:mod:`kb.index.routing`, trained on the corpus alone). Every query with a gold department is
retrieved once; then every setting of the grid (the vote's rank discount, the model's share)
ranks its departments. Two estimates of what the chosen rule does on unseen queries:

* k-fold: folds drawn within each dataset; the setting with the best mean accuracy over the
  datasets' training folds is scored on the held-out fold;
* leave-one-dataset-out: the setting best on one dataset is scored on the other (another city).

It also prints the model's training time on each corpus and a reliability table of the top
department's score (is a score of 0.7 right 70% of the time?).
"""

from __future__ import annotations

import argparse
import itertools
import json
import random
import sys
import time
from dataclasses import replace
from pathlib import Path
from typing import Any

import numpy as np

sys.path.insert(0, str(Path(__file__).parent))
from tune_fusion import CachedQueries

from kb.embed.embedder import load_embedder
from kb.evaluation.beir import load_dataset
from kb.evaluation.runner import prepare_index, synonyms_for
from kb.index.folder import IndexFolder
from kb.index.routing import train_routing
from kb.search.config import SearchConfig
from kb.search.departments import rank_departments
from kb.search.searcher import Searcher
from kb.settings import Settings

DISCOUNTS = (0.5, 1.0, 1.5)
MODEL_WEIGHTS = (0.0, 0.25, 0.5, 0.75, 1.0)
BINS = (0.0, 0.3, 0.4, 0.5, 0.6, 0.7, 0.8, 0.9, 1.01)


def collect(path: Path, settings: Settings, embedder: CachedQueries) -> dict[str, Any]:
    """Hits and model probabilities of every query of ``path`` that has a gold department."""
    dataset = load_dataset(path)
    root = prepare_index(dataset, embedder, settings)
    searcher = Searcher.open(root, embedder, synonyms=synonyms_for(settings))
    folder = IndexFolder(searcher.folder)
    t0 = time.perf_counter()
    departments = [list(d) for d in searcher._chunk_departments]
    retrained = train_routing(searcher.vectors, searcher.title_vectors, departments)
    seconds = time.perf_counter() - t0
    model = folder.load_routing()
    rows = []
    for q in dataset.judged_queries():
        if not q.department:
            continue
        per_kind = searcher.retrieve(q.text, k=10, kinds=("faq", "case", "department"))
        analysis, _ = searcher.rewrite(searcher.analyze(q.text))
        qvec = embedder.encode_queries([analysis.text])[0]
        probs = model.probabilities(qvec) if model is not None else None
        rows.append((q.department, per_kind, probs))
    directory = dict(searcher.departments)
    searcher.close()
    return {
        "name": dataset.name,
        "rows": rows,
        "directory": directory,
        "train_seconds": round(seconds, 2),
        "samples": retrained.samples if retrained else 0,
        "same_model": bool(
            model is not None
            and retrained is not None
            and np.array_equal(model.coef, retrained.coef)
        ),
    }


def outcomes(data: dict[str, Any], cfg: SearchConfig) -> list[tuple[bool, float]]:
    """(top department right, its score) per query."""
    out = []
    for gold, per_kind, probs in data["rows"]:
        ranked = rank_departments(per_kind, cfg, data["directory"], (), probs)
        out.append((bool(ranked) and ranked[0].name == gold, ranked[0].score if ranked else 0.0))
    return out


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("datasets", type=Path, nargs="+")
    ap.add_argument("--data-dir", type=Path, default=Path("data"))
    ap.add_argument("--folds", type=int, default=5)
    ap.add_argument("--json", type=Path, default=None)
    args = ap.parse_args()
    settings = Settings(data_dir=args.data_dir)
    embedder = CachedQueries(load_embedder(settings.model, models_dir=settings.models_dir))
    sets = [collect(p, settings, embedder) for p in args.datasets]
    grid = [
        replace(SearchConfig(), evidence_discount=d, department_model_weight=w)
        for d, w in itertools.product(DISCOUNTS, MODEL_WEIGHTS)
    ]
    right = [np.array([[ok for ok, _ in outcomes(s, c)] for c in grid], float) for s in sets]
    print("setting                     " + "  ".join(f"{s['name'][:18]:>18s}" for s in sets))
    for gi, c in enumerate(grid):
        accs = "  ".join(f"{r[gi].mean():18.3f}" for r in right)
        print(f"  discount={c.evidence_discount:.1f} model={c.department_model_weight:.2f}  {accs}")
    # k-fold within each dataset, the setting chosen on all datasets' training folds.
    folds = []
    for r in right:
        order = list(range(r.shape[1]))
        random.Random(0).shuffle(order)
        folds.append([order[i :: args.folds] for i in range(args.folds)])
    cv = [[] for _ in sets]
    picks = []
    for f in range(args.folds):
        train_means = np.mean(
            [np.delete(r, fs[f], axis=1).mean(axis=1) for r, fs in zip(right, folds, strict=True)],
            axis=0,
        )
        best = int(np.argmax(train_means))
        picks.append(best)
        for i, (r, fs) in enumerate(zip(right, folds, strict=True)):
            cv[i].extend(r[best, fs[f]].tolist())
    default = grid.index(replace(SearchConfig(), evidence_discount=0.5, department_model_weight=0))
    chosen = grid.index(SearchConfig()) if SearchConfig() in grid else default
    report: dict[str, Any] = {"datasets": {}}
    for i, s in enumerate(sets):
        other = [j for j in range(len(sets)) if j != i]
        lodo = None
        if other:
            best = int(np.argmax(np.mean([right[j].mean(axis=1) for j in other], axis=0)))
            lodo = float(right[i][best].mean())
        entry = {
            "queries": int(right[i].shape[1]),
            "before (vote only, discount 0.5)": round(float(right[i][default].mean()), 4),
            "after, in-sample (defaults)": round(float(right[i][chosen].mean()), 4),
            f"after, {args.folds}-fold cv": round(float(np.mean(cv[i])), 4),
            "after, chosen on the other dataset(s)": None if lodo is None else round(lodo, 4),
            "model training seconds": s["train_seconds"],
            "model samples": s["samples"],
            "deterministic (retrained == stored)": s["same_model"],
        }
        report["datasets"][s["name"]] = entry
        print(f"\n{s['name']}: " + json.dumps(entry, ensure_ascii=False))
        print("  reliability of the top department's score (defaults):")
        scored = outcomes(s, grid[chosen])
        for lo, hi in itertools.pairwise(BINS):
            inside = [(ok, p) for ok, p in scored if lo <= p < hi]
            if inside:
                mean_p = np.mean([p for _, p in inside])
                acc = np.mean([ok for ok, _ in inside])
                print(f"    [{lo:.1f}, {min(hi, 1.0):.1f})  n={len(inside):3d}  "
                      f"mean score {mean_p:.2f}  right {acc:.2f}")  # fmt: skip
    print("\nfold picks: " + ", ".join(
        f"d={grid[g].evidence_discount} w={grid[g].department_model_weight}" for g in picks
    ))  # fmt: skip
    if args.json:
        args.json.write_text(json.dumps(report, ensure_ascii=False, indent=2), encoding="utf-8")


if __name__ == "__main__":
    main()
