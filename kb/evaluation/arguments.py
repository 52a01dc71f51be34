"""The arguments of ``kb eval``: light, so that ``kb --help`` does not load the searcher."""

from __future__ import annotations

import argparse
from pathlib import Path

EVAL_MODE_NAMES = ("lexical", "dense", "hybrid", "hybrid-rrf")
"""The retrieval modes ``kb eval --modes`` accepts (:data:`kb.evaluation.runner.EVAL_MODES`)."""


def add_arguments(p: argparse.ArgumentParser) -> None:
    p.add_argument("dataset", type=Path, help="BEIR-layout folder")
    p.add_argument(
        "--modes",
        default="lexical,dense,hybrid",
        help=f"comma-separated, of: {', '.join(EVAL_MODE_NAMES)}",
    )
    p.add_argument(
        "--queries",
        default="queries.jsonl",
        help="queries file(s) in the dataset, comma-separated: all scored on one index and "
        "reported side by side (e.g. queries.jsonl,queries-kana.jsonl)",
    )
    p.add_argument("--json", type=Path, default=None, help="write the metrics as JSON here")
    p.add_argument("--report", type=Path, default=None, help="write a report folder here")
    p.add_argument(
        "--adapt",
        dest="adapt",
        action="store_true",
        default=None,
        help="also score the model adapted to the dataset's corpus as a city's kb adapts it, "
        "beside the base model (cached; default: KB_ADAPT, on)",
    )
    p.add_argument(
        "--no-adapt",
        dest="adapt",
        action="store_false",
        default=None,
        help="score the base model only, whatever KB_ADAPT says",
    )
    p.add_argument(
        "--tune",
        action="store_true",
        help="kept for older scripts: the same as --adapt",
    )
