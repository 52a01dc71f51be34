"""Cross-validated check of the lemma field's BM25F constants (k1, b, title weight).

Usage::

    .venv/bin/python eval/variants.py ../shared/eval/municipal-faq-dev --out data/eval-variants/municipal-faq-dev
    .venv/bin/python eval/tune_bm25.py data/eval-variants/municipal-faq-dev

For every setting of a 3 × 3 × 3 grid the lemma field is rebuilt in memory from the index's
own chunks (the reading field and the dense side stay as built) and every query of each
variant file (as written, kana, mixed, typo) is scored, hybrid nDCG@10 of the FAQ pane. Then,
per variant, fold by fold, the setting best on the other folds is applied to the held-out
fold: the cross-validated mean says what choosing the constants from judged queries would
gain on unseen ones. Results: docs/evaluation.md.
"""

from __future__ import annotations

import argparse
import itertools
import json
import random
from pathlib import Path

import numpy as np
from tune_fusion import CachedQueries

from kb.embed.embedder import load_embedder
from kb.evaluation.beir import load_dataset
from kb.evaluation.metrics import ndcg_at_k
from kb.evaluation.runner import prepare_index
from kb.index.lexical import BM25Params, LexicalIndex
from kb.search.searcher import Searcher
from kb.settings import Settings

VARIANTS = ("queries.jsonl", "queries-kana.jsonl", "queries-mixed.jsonl", "queries-typo.jsonl")
SHIPPED = BM25Params()


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("dataset", type=Path, help="a folder written by eval/variants.py")
    ap.add_argument("--data-dir", type=Path, default=Path("data"))
    ap.add_argument("--folds", type=int, default=5)
    args = ap.parse_args()
    settings = Settings(data_dir=args.data_dir)
    dataset = load_dataset(args.dataset)
    embedder = CachedQueries(load_embedder(settings.model, models_dir=settings.models_dir))
    searcher = Searcher.open(prepare_index(dataset, embedder, settings), embedder)
    rows = {r.rowid: r for r in searcher.store.iter_chunks()}
    ordered = [rows[int(i)] for i in searcher.rowids]  # the build's row order
    queries = {}
    for name in VARIANTS:
        lines = (args.dataset / name).read_text(encoding="utf-8").splitlines()
        parsed = [json.loads(line) for line in lines if line.strip()]
        queries[name] = [(q["_id"], q["text"]) for q in parsed if q["_id"] in dataset.qrels]
    grid = [
        BM25Params(k1=k1, b=b, title_weight=tw)
        for k1, b, tw in itertools.product((0.9, 1.2, 1.6), (0.5, 0.75, 0.9), (1.0, 2.0, 3.0))
    ]
    scores = {name: np.zeros((len(grid), len(qs))) for name, qs in queries.items()}
    for gi, params in enumerate(grid):
        searcher.lexical = LexicalIndex.build(
            [r.title_tokens for r in ordered], [r.text_tokens for r in ordered], params
        )
        for name, qs in queries.items():
            for qi, (qid, text) in enumerate(qs):
                hits = searcher.retrieve(text, k=10)["faq"]
                ranked = [h.doc_id.partition(":")[2] for h in hits]
                scores[name][gi, qi] = ndcg_at_k(ranked, dataset.qrels[qid])
        means = " ".join(f"{scores[n][gi].mean():.4f}" for n in queries)
        print(f"k1={params.k1} b={params.b} title={params.title_weight}  {means}", flush=True)
    shipped = grid.index(SHIPPED)
    for name, table in scores.items():
        order = list(range(table.shape[1]))
        random.Random(0).shuffle(order)
        folds = [order[i :: args.folds] for i in range(args.folds)]
        cv = []
        for fold in folds:
            held = set(fold)
            train = [i for i in order if i not in held]
            cv.append(table[int(np.argmax(table[:, train].mean(axis=1))), fold].mean())
        best = int(np.argmax(table.mean(axis=1)))
        print(
            f"{name}: shipped {table[shipped].mean():.4f}, best in-sample {table[best].mean():.4f}"
            f" ({grid[best]}), {args.folds}-fold cv {np.mean(cv):.4f}"
        )


if __name__ == "__main__":
    main()
