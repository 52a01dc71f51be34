"""Backups taken while ingests, builds and searches write to the data folder: each restores
into a folder whose databases check out, whose index serves the same answers as the original
build, and whose audit log verifies (kb.ops)."""

from __future__ import annotations

import dataclasses
import os
import selectors
import sqlite3
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest

from kb.embed.embedder import FakeEmbedder
from kb.faults import PAUSE_ENV, PAUSE_SECONDS_ENV
from kb.index.folder import IndexRoot
from kb.index.lock import writer_holder, writer_lock
from kb.index.update import ingest_and_build, rebuild
from kb.ops.backup import create_backup
from kb.ops.restore import describe, restore_backup
from kb.search.searcher import Searcher
from kb.security.audit import AuditLog
from kb.store import Store
from kb.store.backup import integrity_check, is_sqlite_file
from kb.text.mecab import MeCabTokenizer
from tests.ops.conftest import demo_queries, keyed, settings_for

FAQ = "id,question,answer,department,category,published\n{id},{q},{a},市民課,届出,true\n"
RUN_KB = "import sys; from kb.cli import main; sys.exit(main(sys.argv[1:]))"


def _load(
    data: Path, stop: threading.Event, rounds: list[int], errors: list[BaseException]
) -> None:
    """Ingest-and-build one new FAQ entry after another, and audit searches, until stopped."""
    settings = settings_for(data)
    extra = sqlite3.connect(data / "desk.sqlite", check_same_thread=False)
    extra.execute("PRAGMA journal_mode=WAL")
    extra.execute("CREATE TABLE IF NOT EXISTS notes (n INTEGER, text TEXT)")
    log = AuditLog.from_settings(settings, masker=lambda query: query)
    try:
        n = 0
        while not stop.is_set():
            source = data.parent / f"load-{n}.csv"
            text = FAQ.format(id=f"L{n}", q=f"負荷テスト{n}の質問", a=f"負荷テスト{n}の回答です")
            source.write_text(text, encoding="utf-8")
            with writer_lock(settings, "ingest", wait=60):
                ingest_and_build(settings, [source])
            for i in range(5):
                log.append("search", actor="staff-1", role="staff", query=f"負荷 {n}-{i}")
                extra.execute("INSERT INTO notes VALUES (?, ?)", (n, "相談メモ" * 20))
                extra.commit()
            n += 1
            rounds.append(n)
    except BaseException as exc:
        errors.append(exc)
    finally:
        log.close()
        extra.close()


def _search(index: Path, queries: list[str]) -> list[dict[str, object]]:
    searcher = Searcher(index, FakeEmbedder(64), MeCabTokenizer())
    try:
        out = []
        for query in queries:
            result = dataclasses.asdict(searcher.search(query, k=5))
            result.pop("took_ms")
            out.append(result)
        return out
    finally:
        searcher.close()


def test_backups_taken_while_ingests_run_restore_whole(
    data: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Keep every build of the original, so each backup's build can be compared with it.
    monkeypatch.setattr(IndexRoot, "prune", lambda self, keep: None)
    stop = threading.Event()
    rounds: list[int] = []
    errors: list[BaseException] = []
    load = threading.Thread(target=_load, args=(data, stop, rounds, errors))
    load.start()
    backups = []
    try:
        deadline = time.monotonic() + 60
        while not rounds and time.monotonic() < deadline:
            time.sleep(0.05)
        assert rounds, "the load never got going"
        for i in range(3):
            backups.append(create_backup(settings_for(data), tmp_path / f"backup-{i}"))
        # The load loops without pause: still running now, it wrote during every backup.
        assert load.is_alive(), errors
    finally:
        stop.set()
        load.join()
    assert not errors, errors
    queries = [*demo_queries(30), "負荷テスト1の質問"]
    for i, report in enumerate(backups):
        target = tmp_path / f"restored-{i}" / "data"
        restored = restore_backup(keyed(target, data), report.path)
        for path in sorted(target.rglob("*")):
            if path.is_file() and is_sqlite_file(path):
                assert integrity_check(path) == "ok", path
        store = Store(target / "kb.sqlite")
        try:
            assert store.generation() == report.manifest.store_generation
            assert store.counts()["faq"] >= 1
        finally:
            store.close()
        assert report.manifest.index_generation <= report.manifest.store_generation
        assert restored.audit is not None
        assert restored.audit.problems == ()
        name = report.manifest.index
        original = _search(data / "indexes" / name, queries)
        assert _search(target / "indexes" / name, queries) == original
        assert IndexRoot(target / "indexes").current().name == name


def _wait_for(proc: subprocess.Popen[str], marker: str, timeout: float = 120) -> None:
    assert proc.stderr is not None
    sel = selectors.DefaultSelector()
    sel.register(proc.stderr.fileno(), selectors.EVENT_READ)
    received = b""
    deadline = time.monotonic() + timeout
    try:
        while marker.encode() not in received:
            assert time.monotonic() < deadline, received.decode()
            if sel.select(timeout=1.0):
                block = os.read(proc.stderr.fileno(), 65536)
                assert block, f"kb exited: {received.decode()}"
                received += block
    finally:
        sel.close()


def test_a_backup_does_not_wait_for_a_running_ingest(data: Path, tmp_path: Path) -> None:
    # `kb ingest` has stored a new entry and holds the writer lock, its build not yet
    # published: the backup runs at once, with the store one generation ahead of the index.
    source = tmp_path / "new.csv"
    source.write_text(FAQ.format(id="N1", q="新しい質問です", a="新しい回答です"), "utf-8")
    env = {k: v for k, v in os.environ.items() if not k.startswith("KB_")}
    env |= {PAUSE_ENV: "build.embedded", PAUSE_SECONDS_ENV: "120"}
    ingest = subprocess.Popen(
        [sys.executable, "-c", RUN_KB, "--data-dir", str(data), "--model", "fake", "ingest",
         str(source)],
        stderr=subprocess.PIPE,
        stdout=subprocess.DEVNULL,
        text=True,
        env=env,
    )  # fmt: skip
    try:
        _wait_for(ingest, "kb: paused at build.embedded")
        settings = settings_for(data)
        assert writer_holder(settings) is not None
        started = time.monotonic()
        report = create_backup(settings, tmp_path / "backup")
        assert time.monotonic() - started < 30
    finally:
        ingest.kill()
        ingest.wait()
    manifest = report.manifest
    assert manifest.store_generation == manifest.index_generation + 1
    target = tmp_path / "restored" / "data"
    restored = restore_backup(keyed(target, data), report.path)
    assert any("kb build" in line for line in describe(restored))
    settings = keyed(target, data)
    before = _search(IndexRoot(target / "indexes").current().path, ["新しい質問"])[0]["faqs"]
    assert "N1" not in [f["id"] for f in before]  # stored, not yet indexed
    rebuild(settings)
    found = _search(IndexRoot(target / "indexes").current().path, ["新しい質問"])[0]["faqs"]
    assert "N1" in [f["id"] for f in found]
