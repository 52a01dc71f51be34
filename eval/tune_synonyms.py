"""The synonym dictionary's effect on nDCG@10, and a cross-validated choice of its settings.

Usage::

    .venv/bin/python eval/tune_synonyms.py data/eval-variants/municipal-faq-dev \\
        --queries queries.jsonl,queries-kana.jsonl,queries-mixed.jsonl,queries-typo.jsonl \\
        [--city old=FILE] [--weights 0.1,0.2,0.3,0.5,0.7,1] [--folds 5] [--json OUT]

Every query of every file is scored once per synonym table (none; SudachiDict's dictionary
under each scope; each ``--city`` file alone and on top of the dictionary) and per
``synonym_weight``, in lexical and hybrid mode, on the index ``kb eval`` builds (cached). Then,
fold by fold, the (table, weight) with the best mean nDCG@10 over all files on the other folds
is applied to the held-out fold; folds split by query id, so that the kana/typo variants of a
held-out query are held out with it. The cross-validated mean estimates what the chosen rule
achieves on unseen queries; the in-sample table shows how flat the optimum is.
"""

from __future__ import annotations

import argparse
import json
import random
import sys
from pathlib import Path
from typing import Any

import numpy as np

sys.path.insert(0, str(Path(__file__).parent))  # tune_fusion: eval/ is not a package
from tune_fusion import CachedQueries

from kb.embed.embedder import load_embedder
from kb.evaluation.beir import load_dataset, load_queries
from kb.evaluation.metrics import ndcg_at_k
from kb.evaluation.runner import prepare_index
from kb.search.config import SearchConfig
from kb.search.searcher import Searcher
from kb.settings import Settings
from kb.text.mecab import MeCabTokenizer
from kb.text.synonym_dictionary import SCOPES, load_dictionary
from kb.text.synonyms import SynonymTable, load_synonyms


def tables(settings: Settings, cities: list[str], only: list[str]) -> dict[str, SynonymTable]:
    tokenizer = MeCabTokenizer()
    assert settings.synonym_dictionary is not None, "set KB_SYNONYM_DICTIONARY"
    dictionary = load_dictionary(settings.synonym_dictionary, tokenizer)
    out = {"none": SynonymTable()}
    out.update({s: load_synonyms(None, tokenizer, dictionary, s) for s in SCOPES})
    for spec in cities:
        name, _, path = spec.partition("=")
        out[name] = load_synonyms(Path(path), tokenizer)
        for scope in SCOPES:
            out[f"{scope}+{name}"] = load_synonyms(Path(path), tokenizer, dictionary, scope)
    return {k: v for k, v in out.items() if not only or k in only}


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("dataset", type=Path)
    ap.add_argument("--queries", default="queries.jsonl")
    ap.add_argument("--data-dir", type=Path, default=Path("data"))
    ap.add_argument("--city", action="append", default=[], help="NAME=FILE, a city synonym file")
    ap.add_argument("--tables", default="", help="comma-separated: only these tables")
    ap.add_argument("--weights", default="0.1,0.2,0.3,0.5,0.7,1")
    ap.add_argument("--folds", type=int, default=5)
    ap.add_argument("--json", type=Path, default=None)
    args = ap.parse_args()
    settings = Settings(data_dir=args.data_dir)
    files = args.queries.split(",")
    dataset = load_dataset(args.dataset, files[0])
    embedder = CachedQueries(load_embedder(settings.model, models_dir=settings.models_dir))
    searcher = Searcher.open(prepare_index(dataset, embedder, settings), embedder)
    weights = [float(w) for w in args.weights.split(",")]
    named = tables(settings, args.city, [t for t in args.tables.split(",") if t])
    grid = [(name, w) for name in named for w in weights]
    judged = {q.id for q in dataset.judged_queries()}
    queries = {f: [q for q in load_queries(args.dataset / f) if q.id in judged] for f in files}
    ids = sorted(judged)
    random.Random(0).shuffle(ids)
    fold_of = {qid: i % args.folds for i, qid in enumerate(ids)}
    report: dict[str, Any] = {"files": files, "weights": weights, "modes": {}}
    for mode in ("lexical", "hybrid"):
        # scores[g][file] = nDCG@10 per query of that file, for grid setting g
        scores = np.zeros((len(grid), sum(len(v) for v in queries.values())))
        column = [(f, q) for f in files for q in queries[f]]
        for gi, (name, w) in enumerate(grid):
            if name == "none" and w != weights[0]:
                scores[gi] = scores[grid.index(("none", weights[0]))]
                continue
            searcher.synonyms = named[name]
            searcher.config = SearchConfig(mode=mode, synonym_weight=w)
            for ci, (_, q) in enumerate(column):
                ranked = [
                    h.doc_id.partition(":")[2] for h in searcher.retrieve(q.text, k=10)["faq"]
                ]
                scores[gi, ci] = ndcg_at_k(ranked, dataset.qrels[q.id])
        fold = np.array([fold_of[q.id] for _, q in column])
        in_file = {f: np.array([cf == f for cf, _ in column]) for f in files}
        cv = np.zeros(len(column))
        picks = []
        for k in range(args.folds):
            best = int(np.argmax(scores[:, fold != k].mean(axis=1)))
            picks.append(grid[best])
            cv[fold == k] = scores[best, fold == k]
        print(f"\n== {mode}: mean nDCG@10 in sample (per file, then all files) ==")
        print(f"{'table':16s} {'w':>4s} " + " ".join(f"{f[:14]:>14s}" for f in files) + "     all")
        rows = []
        for gi, (name, w) in enumerate(grid):
            per = [float(scores[gi, in_file[f]].mean()) for f in files]
            rows.append({"table": name, "weight": w, "files": per, "all": float(scores[gi].mean())})
            if name == "none" and w != weights[0]:
                continue
            print(
                f"{name:16s} {w:4.2f} "
                + " ".join(f"{x:14.4f}" for x in per)
                + f"  {scores[gi].mean():.4f}"
            )
        cv_files = [float(cv[in_file[f]].mean()) for f in files]
        print("cross-validated " + " ".join(f"{x:14.4f}" for x in cv_files) + f"  {cv.mean():.4f}")
        print("fold picks: " + ", ".join(f"{n}@{w}" for n, w in picks))
        report["modes"][mode] = {
            "grid": rows,
            "cv": {"files": cv_files, "all": float(cv.mean())},
            "picks": [list(p) for p in picks],
        }
    searcher.close()
    if args.json:
        args.json.write_text(json.dumps(report, indent=2, ensure_ascii=False))


if __name__ == "__main__":
    main()
