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


def test_a_log_write_waits_for_another_process_writer_instead_of_failing(tmp_path: Path) -> None:
    # Two `kb serve` workers (or Ray replicas) log searches into one query log. A deferred
    # transaction that read before another connection committed cannot write any more:
    # SQLite says "database is locked" at once, whatever the busy timeout (seen in bench/ray.py).
    import sqlite3
    import threading
    import time

    from kb.store import QueryLogStore
    from kb.store.types import QueryLogRecord

    path = tmp_path / "query_log.sqlite"
    log = QueryLogStore(path)
    log.add(QueryLogRecord("staff", "住民票"))
    other = sqlite3.connect(path, timeout=30, isolation_level=None)
    other.execute("BEGIN IMMEDIATE")
    other.execute("insert into queries (created_at, source, query) values ('x', 'staff', '転入')")
    errors: list[str] = []

    def add() -> None:
        try:
            log.add(QueryLogRecord("public", "粗大ごみ"))
        except sqlite3.Error as exc:
            errors.append(str(exc))

    writer = threading.Thread(target=add)
    writer.start()
    time.sleep(0.5)  # the log's write now waits for the other writer
    other.execute("COMMIT")
    other.close()
    writer.join(30)
    assert not writer.is_alive()
    assert errors == []
    assert sorted(r.query for r in log.records()) == sorted(["住民票", "転入", "粗大ごみ"])
    log.close()
