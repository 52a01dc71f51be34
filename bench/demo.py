"""Benchmark on the demo corpus: ingest + build time, in-process search latency.

Usage::

    .venv/bin/python bench/demo.py [--model MODEL] [--threads N] [--queries 200] [--json PATH]

Ingests ``corpus/`` into a fresh temporary data directory (no embedding cache: every chunk is
embedded), builds the index, then runs the demo evaluation queries through the staff search
(all four panes) and prints the figures, also as JSON.
"""

from __future__ import annotations

import argparse
import json
import statistics
import tempfile
import time
from pathlib import Path

from kb.embed.embedder import load_embedder
from kb.evaluation.metrics import percentile
from kb.index.builder import build_index
from kb.ingest.pipeline import ingest
from kb.search.service import SearchService
from kb.settings import Settings
from kb.store import EmbeddingCache, Store

REPO = Path(__file__).resolve().parent.parent


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--model", default=None)
    ap.add_argument("--threads", type=int, default=0)
    ap.add_argument("--queries", type=int, default=200)
    ap.add_argument("--models-dir", type=Path, default=REPO / "data" / "models")
    ap.add_argument("--json", type=Path, default=None)
    args = ap.parse_args()
    settings = Settings(threads=args.threads, model_cache_dir=args.models_dir,
                        **({"model": args.model} if args.model else {}))  # fmt: skip
    t0 = time.perf_counter()
    embedder = load_embedder(settings.model, models_dir=settings.models_dir, threads=args.threads)
    load_s = time.perf_counter() - t0
    with tempfile.TemporaryDirectory() as tmp:
        data = Path(tmp)
        store = Store(data / "kb.sqlite")
        t0 = time.perf_counter()
        report = ingest([REPO / "corpus"], store)
        ingest_s = time.perf_counter() - t0
        t0 = time.perf_counter()
        build = build_index(store, embedder, data / "indexes", cache=EmbeddingCache(data / "e.db"))
        build_s = time.perf_counter() - t0
        store.close()
        service = SearchService(data / "indexes", embedder)
        searcher = service.searcher()
        queries = [
            json.loads(line)["text"]
            for line in (REPO / "eval/datasets/demo/queries.jsonl").read_text("utf-8").splitlines()
        ][: args.queries]
        for q in queries[:5]:
            searcher.search(q)  # warm-up
        latencies = []
        for q in queries:
            t = time.perf_counter()
            searcher.search(q, k=5)
            latencies.append((time.perf_counter() - t) * 1000)
    out = {
        "model": embedder.model_id,
        "threads": args.threads,
        "model_load_s": round(load_s, 2),
        "documents": report.documents + report.departments,
        "chunks": build.chunks,
        "ingest_s": round(ingest_s, 2),
        "ingest_parse_s": round(report.parse_seconds, 2),
        "ingest_tokenize_s": round(report.tokenize_seconds, 2),
        "ingest_store_s": round(report.store_seconds, 2),
        "build_s": round(build_s, 2),
        "build_embed_s": round(build.embed_seconds, 2),
        "ingest_plus_build_s": round(ingest_s + build_s, 2),
        "queries": len(latencies),
        "search_p50_ms": round(percentile(latencies, 50), 2),
        "search_p95_ms": round(percentile(latencies, 95), 2),
        "search_mean_ms": round(statistics.fmean(latencies), 2),
    }
    print(json.dumps(out, indent=2, ensure_ascii=False))
    if args.json:
        args.json.write_text(json.dumps(out, indent=2), encoding="utf-8")


if __name__ == "__main__":
    main()
