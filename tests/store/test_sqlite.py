"""Opening the store's SQLite files (:mod:`kb.store.sqlite`)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from kb.store import FeedbackStore


def _open_feedback_store(path: str, barrier: Any, results: Any) -> None:
    try:
        barrier.wait(30)
        FeedbackStore(Path(path)).close()
        results.put("ok")
    except Exception as exc:  # reported to the test
        results.put(f"{type(exc).__name__}: {exc}")


def test_processes_opening_a_fresh_side_database_together_all_succeed(tmp_path: Path) -> None:
    # `kb serve --workers 2` opens feedback.sqlite in every worker at the same moment; SQLite
    # refuses some of those first statements at once ("database is locked").
    import multiprocessing

    ctx = multiprocessing.get_context("fork")
    outcomes: list[str] = []
    for round_ in range(8):
        path = tmp_path / f"feedback-{round_}.sqlite"
        barrier, results = ctx.Barrier(4), ctx.Queue()
        procs = [
            ctx.Process(target=_open_feedback_store, args=(str(path), barrier, results))
            for _ in range(4)
        ]
        for proc in procs:
            proc.start()
        for proc in procs:
            proc.join(60)
        outcomes += [results.get(timeout=10) for _ in procs]
    assert outcomes == ["ok"] * 32
