"""Measure each choice of fast adaptation: held-out corpus validation and CPU cost.

Usage::

    .venv/bin/python eval/tune_adapt.py ../shared/eval/municipal-faq-dev \
        --variant default --variant layers=2 --variant hard_batches=false --json out.jsonl

Each ``--variant`` is ``name`` or ``key=value[,key=value...]`` over
:class:`kb.embed.adapt_config.FastTuneConfig` (``default`` alone: the defaults). Only the
dataset's corpus is used (FAQ question → answer pairs, 10% of the questions held out by
:func:`kb.embed.adapt.split_pairs`), never its queries or judgments. Prints one JSON line per
variant: validation of the base and the adapted model (MRR@10, R@1, R@10 of each held-out
question's own answer among all answers), wall seconds and process CPU seconds; CPU / 2 is the
time on an idle 2-core machine. ``--save DIR`` keeps the last variant's model (for `kb eval`).
"""

from __future__ import annotations

import argparse
import json
import os
import sys
from dataclasses import fields, replace
from pathlib import Path

from kb.embed.adapt import split_pairs
from kb.embed.adapt_config import FastTuneConfig
from kb.embed.adapt_train import fast_tune
from kb.embed.tune import base_model_path
from kb.embed.tune_pairs import pairs_from_documents
from kb.evaluation.beir import load_dataset
from kb.settings import Settings


def parse_variant(text: str) -> FastTuneConfig:
    config = FastTuneConfig()
    if text == "default":
        return config
    types = {f.name: f.type for f in fields(FastTuneConfig)}
    updates: dict[str, object] = {}
    for part in text.split(","):
        key, _, value = part.partition("=")
        key = {"layers": "train_layers"}.get(key.strip(), key.strip())
        if key not in types:
            raise SystemExit(f"unknown setting {key!r}; known: {sorted(types)}")
        kind = str(types[key])
        if kind == "bool":
            updates[key] = value.strip().lower() in ("1", "true", "yes")
        elif kind == "float":
            updates[key] = float(value)
        elif kind == "str":
            updates[key] = value.strip()
        else:
            updates[key] = int(value)
    return replace(config, **updates)  # type: ignore[arg-type]


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("dataset", type=Path)
    parser.add_argument("--variant", action="append", default=None)
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--json", type=Path, default=None, help="append the results here")
    parser.add_argument("--save", type=Path, default=None, help="keep the last variant's model")
    args = parser.parse_args()
    settings = Settings()
    dataset = load_dataset(args.dataset)
    pairs = pairs_from_documents(dataset.corpus)
    train, heldout = split_pairs(pairs)
    base = base_model_path(settings.model, settings.models_dir)
    variants = args.variant or ["default"]
    for n, name in enumerate(variants):
        config = parse_variant(name)
        out = args.save if args.save is not None and n == len(variants) - 1 else None
        report = fast_tune(
            base, train, out, heldout=heldout, config=config, threads=args.threads,
            base_id=settings.model,
        )  # fmt: skip
        row = {
            "variant": name,
            "train_pairs": report.train_pairs,
            "heldout": report.heldout_pairs,
            "steps": report.steps,
            "base_mrr10": report.base.mrr_at_10 if report.base else None,
            "adapted_mrr10": report.adapted.mrr_at_10 if report.adapted else None,
            "base_r1": report.base.recall_at_1 if report.base else None,
            "adapted_r1": report.adapted.recall_at_1 if report.adapted else None,
            "adapted_r10": report.adapted.recall_at_10 if report.adapted else None,
            "wall_s": report.seconds,
            "cpu_s": report.cpu_seconds,
            "two_core_s": round(report.cpu_seconds / 2, 1),
            "loss": [report.first_loss, report.final_loss],
            "load": os.getloadavg()[0],
        }
        line = json.dumps(row, ensure_ascii=False)
        print(line, flush=True)
        if args.json:
            with args.json.open("a", encoding="utf-8") as fh:
                fh.write(line + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
