"""What serving the adapted model costs per search: base model, adapted model, adapted + judge.

Usage::

    .venv/bin/python bench/adapted.py [DATASET ...] [--rounds 2] [--json PATH]

For each BEIR dataset (default: the demo eval set and ``../shared/eval/municipal-faq-dev``) the
model is adapted to its corpus as a city's kb adapts it (:func:`kb.evaluation.runner.
adapted_model_for`, cached), and the dataset's queries go through the staff search
(``Searcher.search``, every pane, k=10; each query once per round, a fresh searcher
each round) three ways, with the service's thread settings:

- ``base``: the base model ranks and judges "no answer" (``KB_ADAPT=false``);
- ``adapted``: the adapted model alone;
- ``adapted+judge``: as the service serves an adapted model: it ranks, the base model judges
  (:mod:`kb.search.judge`; the query is embedded by both).

Prints p50 / p95 wall time and the mean CPU time per search (what bounds throughput on a
busy 2-core machine), also as JSON. The queries' answers are not compared: ``kb eval --adapt``
and ``eval/no_answer.py --adapted`` measure the quality.
"""

from __future__ import annotations

import argparse
import json
import statistics
import time
from collections.abc import Callable
from functools import partial
from pathlib import Path
from typing import Any

from kb.embed.embedder import Embedder, embedder_from_settings
from kb.evaluation.beir import load_dataset
from kb.evaluation.metrics import percentile
from kb.evaluation.runner import adapted_model_for, prepare_index
from kb.search.judge import judge_embedder
from kb.search.searcher import Searcher
from kb.settings import Settings

REPO = Path(__file__).resolve().parent.parent
DEFAULT = [REPO / "eval/datasets/demo", REPO.parent / "shared/eval/municipal-faq-dev"]


WARM_UP = ["転入届はどこで出しますか", "粗大ごみの出し方", "how do I register a move"]
"""Searched before timing (sessions opened, buffers sized); not among the timed queries."""


def time_searches(
    open_searcher: Callable[[], Searcher], queries: list[str], rounds: int
) -> dict[str, float]:
    """Each round opens the searcher afresh: nothing cached from the round before (the judge
    keeps its recent query vectors, and a second pass would find them all)."""
    wall: list[float] = []
    cpu: list[float] = []
    for _ in range(rounds):
        searcher = open_searcher()
        try:
            for q in WARM_UP:
                searcher.search(q, k=10)
            for q in queries:
                t, c = time.perf_counter(), time.process_time()
                searcher.search(q, k=10)
                wall.append((time.perf_counter() - t) * 1000)
                cpu.append((time.process_time() - c) * 1000)
        finally:
            searcher.close()
    return {
        "searches": len(wall),
        "p50_ms": round(percentile(wall, 50), 2),
        "p95_ms": round(percentile(wall, 95), 2),
        "cpu_ms_mean": round(statistics.fmean(cpu), 2),
    }


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("datasets", nargs="*", type=Path, default=DEFAULT)
    ap.add_argument("--rounds", type=int, default=2)
    ap.add_argument("--json", type=Path, default=None)
    args = ap.parse_args()
    settings = Settings().model_copy(update={"adapt": False})

    def embedder(model: str) -> Embedder:
        used = settings.model_copy(update={"model": model})
        return embedder_from_settings(
            used, threads=settings.query_threads, solo_threads=settings.solo_query_threads
        )

    base = embedder(settings.model)
    judge = judge_embedder(settings)  # as the service loads it beside an adapted model
    out: dict[str, Any] = {
        "query_threads": settings.query_threads,
        "solo_query_threads": settings.solo_query_threads,
        "base_backend": getattr(base, "backend", "?"),
        "datasets": {},
    }
    for folder in args.datasets:
        if not (folder / "corpus.jsonl").is_file():
            print(f"{folder}: not a BEIR dataset, skipped")
            continue
        dataset = load_dataset(folder)
        queries = [q.text for q in dataset.judged_queries()]
        adapted_folder, record = adapted_model_for(dataset, settings)
        row: dict[str, Any] = {"queries": len(queries), "adaptation_kept": record.get("kept")}
        cache = settings.data_dir / "embeddings.sqlite"
        runs: list[tuple[str, Embedder, Embedder | None]] = [("base", base, None)]
        if adapted_folder is not None:
            adapted = embedder(str(adapted_folder))
            row["adapted_backend"] = getattr(adapted, "backend", "?")
            runs += [("adapted", adapted, None), ("adapted+judge", adapted, judge)]
        for name, model, judging in runs:
            index = prepare_index(dataset, model, settings)
            opener = partial(Searcher.open, index, model, judge=judging, embedding_cache=cache)
            row[name] = time_searches(opener, queries, args.rounds)
            print(f"{dataset.name} {name}: {row[name]}", flush=True)
        out["datasets"][dataset.name] = row
    print(json.dumps(out, indent=2, ensure_ascii=False))
    if args.json:
        args.json.parent.mkdir(parents=True, exist_ok=True)
        args.json.write_text(json.dumps(out, indent=2, ensure_ascii=False) + "\n", "utf-8")


if __name__ == "__main__":
    main()
