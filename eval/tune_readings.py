"""What each reading technique adds to nDCG@10, and a cross-validated reading-field weight.

Usage::

    .venv/bin/python eval/tune_readings.py data/eval-variants/municipal-faq-dev \\
        --queries queries.jsonl,queries-kana.jsonl,queries-mixed.jsonl,queries-typo.jsonl \\
        [--weights 0,0.05,0.1,0.2,0.3,0.5] [--folds 5] [--json OUT]
    .venv/bin/python eval/tune_readings.py eval/datasets/demo \\
        --queries queries.jsonl,queries-paraphrase.jsonl

Every query of every file is searched (FAQ pane, as ``kb eval`` ranks it) in lexical, dense and
hybrid mode under each technique of issue 16 alone and together (:mod:`kb.index.readings`,
:mod:`kb.search.rewrite`): the reading field (always, or only for queries with a kana content
word, the alternative the issue asked to measure), the conversion of kana to the corpus's kanji,
the mending of typos. The index is ``kb eval``'s (cached), searched with the synonyms ``kb eval``
uses. Then the reading-field weight: the in-sample table over ``--weights`` with everything
else on, and the cross-validated figure, fold by fold choosing the weight with the best mean
hybrid nDCG@10 over all files on the other folds; folds split by query id, so that the
variants of a held-out query are held out with it.
"""

from __future__ import annotations

import argparse
import json
import random
import sys
from collections.abc import Callable
from dataclasses import replace
from pathlib import Path
from typing import Any

import numpy as np

sys.path.insert(0, str(Path(__file__).parent))  # tune_fusion: eval/ is not a package
from tune_fusion import CachedQueries

from kb.embed.embedder import load_embedder
from kb.evaluation.beir import EvalQuery, load_dataset, load_queries
from kb.evaluation.metrics import ndcg_at_k
from kb.evaluation.runner import prepare_index
from kb.search.config import SearchConfig
from kb.search.query import QueryAnalysis
from kb.search.searcher import Searcher
from kb.settings import Settings
from kb.text.kana import has_kanji
from kb.text.synonyms import load_synonyms

MODES = ("lexical", "dense", "hybrid")
OFF = SearchConfig(reading_weight=0.0, mend_typos=False, convert_kana=False)
ON = SearchConfig()


def _gated(searcher: Searcher) -> Callable[[QueryAnalysis], tuple[QueryAnalysis, tuple[str, ...]]]:
    """The searcher's rewrite, with the reading field only for queries with a kana word."""
    rewrite = searcher.rewrite

    def gated(analysis: QueryAnalysis) -> tuple[QueryAnalysis, tuple[str, ...]]:
        out, terms = rewrite(analysis)
        words = searcher.tokenizer.readings(analysis.text)
        kana = any(r.term and not has_kanji(r.surface) for r in words)
        return out, terms if kana else ()

    return gated


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("dataset", type=Path)
    ap.add_argument("--queries", default="queries.jsonl")
    ap.add_argument("--data-dir", type=Path, default=Path("data"))
    ap.add_argument("--weights", default="0,0.05,0.1,0.2,0.3,0.5")
    ap.add_argument("--folds", type=int, default=5)
    ap.add_argument("--json", type=Path, default=None)
    args = ap.parse_args()
    settings = Settings(data_dir=args.data_dir)
    files = args.queries.split(",")
    dataset = load_dataset(args.dataset, files[0])
    embedder = CachedQueries(load_embedder(settings.model, models_dir=settings.models_dir))
    synonyms_file = settings.synonyms_path if settings.synonyms_path.exists() else None
    searcher = Searcher.open(prepare_index(dataset, embedder, settings), embedder)
    searcher.synonyms = load_synonyms(synonyms_file, searcher.tokenizer)
    judged = {q.id for q in dataset.judged_queries()}
    column: list[tuple[str, EvalQuery]] = [
        (f, q) for f in files for q in load_queries(args.dataset / f) if q.id in judged
    ]

    def run(cfg: SearchConfig, mode: str) -> np.ndarray:
        searcher.config = replace(cfg, mode=mode)  # type: ignore[arg-type]
        out = np.zeros(len(column))
        for i, (_, q) in enumerate(column):
            hits = searcher.retrieve(q.text, k=10, kinds=("faq",))["faq"]
            out[i] = ndcg_at_k([h.doc_id.partition(":")[2] for h in hits], dataset.qrels[q.id])
        return out

    in_file = {f: np.array([cf == f for cf, _ in column]) for f in files}

    def row(name: str, scores: dict[str, np.ndarray]) -> dict[str, Any]:
        per = {f: [round(float(scores[m][in_file[f]].mean()), 4) for m in MODES] for f in files}
        cells = "  ".join("/".join(f"{x:.3f}" for x in per[f]) for f in files)
        print(f"{name:34s} {cells}", flush=True)
        return {"technique": name, "files": per}

    print(f"nDCG@10 lexical/dense/hybrid per file: {', '.join(files)}")
    techniques = [
        ("baseline (all off)", OFF),
        ("+ reading field", replace(OFF, reading_weight=ON.reading_weight)),
        ("+ kana conversion", replace(OFF, convert_kana=True)),
        ("+ typo mending", replace(OFF, mend_typos=True)),
        ("conversion + mending", replace(OFF, convert_kana=True, mend_typos=True)),
        ("all (shipped defaults)", ON),
    ]
    report: dict[str, Any] = {"files": files, "techniques": [], "weights": {}}
    for name, cfg in techniques:
        report["techniques"].append(row(name, {m: run(cfg, m) for m in MODES}))
    plain = searcher.rewrite
    searcher.rewrite = _gated(searcher)  # type: ignore[method-assign]
    report["techniques"].append(row("all, reading field kana-only", {m: run(ON, m) for m in MODES}))
    searcher.rewrite = plain  # type: ignore[method-assign]

    weights = [float(w) for w in args.weights.split(",")]
    hybrid = {w: run(replace(ON, reading_weight=w), "hybrid") for w in weights}
    print("\nreading_weight (all on), hybrid nDCG@10 in sample")
    for w, scores in hybrid.items():
        per = [float(scores[in_file[f]].mean()) for f in files]
        report["weights"][str(w)] = per
        print(f"  {w:4.2f}  " + "  ".join(f"{x:.3f}" for x in per))
    ids = sorted(judged)
    random.Random(0).shuffle(ids)
    fold_of = {qid: i % args.folds for i, qid in enumerate(ids)}
    fold = np.array([fold_of[q.id] for _, q in column])
    cv = np.zeros(len(column))
    picks = []
    for k in range(args.folds):
        best = max(weights, key=lambda w: float(hybrid[w][fold != k].mean()))
        picks.append(best)
        cv[fold == k] = hybrid[best][fold == k]
    cv_files = [float(cv[in_file[f]].mean()) for f in files]
    print("  cross-validated  " + "  ".join(f"{x:.3f}" for x in cv_files))
    print("  fold picks: " + ", ".join(str(p) for p in picks))
    report["cross_validated"] = {"files": cv_files, "picks": picks}
    searcher.close()
    if args.json:
        args.json.write_text(json.dumps(report, indent=2, ensure_ascii=False), encoding="utf-8")


if __name__ == "__main__":
    main()
