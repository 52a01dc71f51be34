"""Typo mending measured on typos made in each corpus's own FAQ questions, not on queries.

Usage::

    .venv/bin/python eval/tune_typos.py eval/datasets/demo ../shared/eval/municipal-faq-dev \\
        [--ratios 1,2,4,8,16,32] [--seeds 1,2,3] [--json OUT]

Every FAQ question (the ``title`` of the dataset's ``corpus.jsonl``) gets one typo per seed,
made exactly as ``eval/variants.py`` makes the typo variant of a query (one character dropped or
doubled in one content word). The query rewriter of that corpus's index (``kb eval``'s cache)
then mends it (:mod:`kb.search.rewrite`, kana conversion off). Two rates per setting:

* **restored**: the mended question has the same index terms (MeCab lemmas) as the question
  before the typo, i.e. the lexical search sees what was meant;
* **damaged**: the rewriter changed the index terms of a question *without* a typo.

Rows: the rewriter without the lexical index (no lone kanji weighed), then each
``context_ratio`` (:data:`kb.search.rewrite.CONTEXT_RATIO`). The chosen ratio is the middle
of the plateau of restored minus damaged over all corpora pooled; the ratio chosen on one
corpus alone is shown applied to the other. No query and no judgment is read.
"""

from __future__ import annotations

import argparse
import json
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).parent))  # variants: eval/ is not a package
from variants import Analyzer, query_rng, typo_variant

from kb.embed.embedder import embedder_from_settings
from kb.evaluation.beir import load_dataset
from kb.evaluation.runner import prepare_index
from kb.index.folder import IndexFolder, IndexRoot
from kb.search.rewrite import CONTEXT_RATIO, QueryRewriter
from kb.settings import Settings
from kb.text.mecab import MeCabTokenizer
from kb.text.normalize import normalize

PLATEAU = 0.001
"""Ratios whose pooled restored-minus-damaged is within this of the best are equally good."""


@dataclass(frozen=True)
class Case:
    clean: str
    typo: str


def cases(titles: list[str], seeds: list[int], analyzer: Analyzer) -> list[Case]:
    out = []
    for seed in seeds:
        for i, title in enumerate(titles):
            typo = typo_variant(title, analyzer(title), query_rng(seed, str(i)))
            if typo != title:
                out.append(Case(normalize(title), normalize(typo)))
    return out


def rates(
    rewriter: QueryRewriter, found: list[Case], tokenizer: MeCabTokenizer
) -> dict[str, float]:
    restored = damaged = 0
    for case in found:
        meant = tokenizer.terms(case.clean)
        restored += tokenizer.terms(rewriter.rewrite(case.typo, convert=False).text) == meant
        damaged += tokenizer.terms(rewriter.rewrite(case.clean, convert=False).text) != meant
    n = len(found) or 1
    return {"restored": restored / n, "damaged": damaged / n, "n": len(found)}


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0] if __doc__ else None)
    ap.add_argument("datasets", type=Path, nargs="+")
    ap.add_argument("--data-dir", type=Path, default=Path("data"))
    ap.add_argument("--ratios", default="1,2,4,8,16,32")
    ap.add_argument("--seeds", default="1,2,3")
    ap.add_argument("--json", type=Path, default=None)
    args = ap.parse_args()
    ratios = [float(r) for r in args.ratios.split(",")]
    seeds = [int(s) for s in args.seeds.split(",")]
    settings = Settings(data_dir=args.data_dir)
    embedder = embedder_from_settings(settings, threads=settings.threads)
    tokenizer = MeCabTokenizer()
    analyzer = Analyzer()
    table: dict[str, dict[str, Any]] = {}
    print("corpus               setting        restored  damaged   (typos)")
    for path in args.datasets:
        dataset = load_dataset(path)
        folder = IndexFolder(IndexRoot(prepare_index(dataset, embedder, settings)).current().path)
        _, vocabulary = folder.load_readings()
        lexical = folder.load_lexical()
        titles = [d.title for d in dataset.corpus if d.title]
        found = cases(titles, seeds, analyzer)
        rows: dict[str, Any] = {}
        settings_tried: list[tuple[str, QueryRewriter]] = [
            ("no lone kanji", QueryRewriter(vocabulary, tokenizer))
        ]
        settings_tried += [
            (f"ratio {r:g}", QueryRewriter(vocabulary, tokenizer, lexical, context_ratio=r))
            for r in ratios
        ]
        for label, rewriter in settings_tried:
            rows[label] = rates(rewriter, found, tokenizer)
            r = rows[label]
            print(
                f"{dataset.name:20s} {label:14s} {r['restored']:8.1%} {r['damaged']:8.2%}"
                f"   ({r['n']})",
                flush=True,
            )
        table[dataset.name] = rows
    report = summarise(table, ratios)
    if args.json:
        args.json.write_text(json.dumps(report, ensure_ascii=False, indent=2), encoding="utf-8")


def summarise(table: dict[str, dict[str, Any]], ratios: list[float]) -> dict[str, Any]:
    def gain(rows: list[dict[str, Any]]) -> float:
        n = sum(r["n"] for r in rows) or 1
        return sum((r["restored"] - r["damaged"]) * r["n"] for r in rows) / n

    def pick(names: list[str]) -> float:
        # The optimum is a plateau: the middle of the ratios within PLATEAU of the best, so
        # that the choice does not sit on the plateau's edge by a handful of typos.
        gains = {r: gain([table[c][f"ratio {r:g}"] for c in names]) for r in ratios}
        top = max(gains.values())
        plateau = sorted(r for r, g in gains.items() if g >= top - PLATEAU)
        return plateau[(len(plateau) - 1) // 2]

    names = sorted(table)
    chosen = pick(names)
    print(f"\nchosen on all corpora pooled: ratio {chosen:g} (shipped: {CONTEXT_RATIO:g})")
    transfer = {}
    for source in names:
        r = pick([source])
        for target in names:
            if target != source:
                row = table[target][f"ratio {r:g}"]
                transfer[f"{source}->{target}"] = {"ratio": r, **row}
                print(
                    f"  chosen on {source} (ratio {r:g}), applied to {target}:"
                    f" restored {row['restored']:.1%}, damaged {row['damaged']:.2%}"
                )
    return {"table": table, "chosen": chosen, "shipped": CONTEXT_RATIO, "across": transfer}


if __name__ == "__main__":
    main()
