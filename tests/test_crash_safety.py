"""SIGKILL during `kb ingest` and `kb build`: nothing is lost or half-written, the old index serves.

The ``kb`` subprocesses run with the fake embedder (``--model fake``) and a fault-injection
point (:mod:`kb.faults`): they stop at a known place *inside* the work (the ingest transaction
half written; a new build embedded but not switched to) and announce it on stderr, and only
then does the test kill them, so the kill lands midway every time.
"""

from __future__ import annotations

import os
import selectors
import signal
import sqlite3
import subprocess
import sys
import time
from pathlib import Path

import pytest

from kb.embed.embedder import FakeEmbedder
from kb.faults import PAUSE_ENV, PAUSE_SECONDS_ENV
from kb.index.folder import current_index
from kb.search.searcher import Searcher
from kb.text.mecab import MeCabTokenizer

RUN_KB = "import sys; from kb.cli import main; sys.exit(main(sys.argv[1:]))"
QUERIES = ("住民票の写しが欲しい", "粗大ごみを出したい", "介護保険の申請", "児童手当の手続き")
TOPICS = [
    ("住民票の写しの取り方", "市民課の窓口かコンビニで取れます。", "市民課"),
    ("粗大ごみの出し方", "電話で申し込み、処理券を貼って出してください。", "ごみ減量推進課"),
    ("介護保険の申請", "高齢者支援課で要介護認定を申請してください。", "高齢者支援課"),
    ("児童手当の手続き", "子育て支援課で認定請求をしてください。", "子育て支援課"),
]
DEPTS = """name,duties,phone,location,hours
市民課,住民票・戸籍・転入転出,099-555-1101,本庁舎1階,平日
ごみ減量推進課,ごみの分別・粗大ごみ,099-555-1113,東館1階,平日
高齢者支援課,介護保険・高齢者の相談,099-555-1108,本庁舎2階,平日
子育て支援課,児童手当・保育,099-555-1120,本庁舎2階,平日
"""


def _faq_csv(n: int, prefix: str) -> str:
    lines = ["id,question,answer,department,category,published"]
    for i in range(n):
        question, answer, dept = TOPICS[i % len(TOPICS)]
        lines.append(
            f"{prefix}{i:04d},{question}（{i}）,{answer} 問い合わせ番号{i}。,{dept},一般,true"
        )
    return "\n".join(lines) + "\n"


def _kb(data: Path, *args: str, pause: str = "") -> subprocess.Popen[str]:
    env = dict(os.environ)
    env.pop(PAUSE_ENV, None)
    env["KB_LANG"] = "en"  # these tests read the English report
    if pause:
        env[PAUSE_ENV] = pause
        env[PAUSE_SECONDS_ENV] = "120"
    return subprocess.Popen(
        [sys.executable, "-c", RUN_KB, "--data-dir", str(data), "--model", "fake", *args],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env=env,
    )


def _run_kb(data: Path, *args: str) -> str:
    proc = _kb(data, *args)
    out, err = proc.communicate(timeout=300)
    assert proc.returncode == 0, (out, err)
    return out


def _kill_at_pause(proc: subprocess.Popen[str], point: str, timeout: float = 180) -> None:
    """Wait until ``proc`` says it paused at ``point``, then SIGKILL it.

    stderr is read from the raw file descriptor, not with ``readline()``: a buffered reader can
    take the announcement into its buffer together with an earlier line, after which ``select``
    sees nothing new on the descriptor until the process has slept out its pause and exited.
    """
    assert proc.stderr is not None
    fd = proc.stderr.fileno()
    sel = selectors.DefaultSelector()
    sel.register(fd, selectors.EVENT_READ)
    deadline = time.monotonic() + timeout
    received = b""
    marker = f"kb: paused at {point}".encode()
    try:
        while time.monotonic() < deadline:
            if not sel.select(timeout=1.0):
                assert proc.poll() is None, f"kb exited early: {received.decode()}"
                continue
            block = os.read(fd, 65536)
            if not block:
                pytest.fail(f"kb exited before pausing at {point}: {received.decode()}")
            received += block
            if marker in received:
                assert proc.poll() is None, f"kb ran past {point}: {received.decode()}"
                proc.send_signal(signal.SIGKILL)
                proc.wait(timeout=30)
                assert proc.returncode == -signal.SIGKILL
                return
        pytest.fail(f"kb never paused at {point}: {received.decode()}")
    finally:
        sel.close()
        if proc.poll() is None:
            proc.kill()
            proc.wait()


def _store_state(data: Path) -> tuple[dict[str, str], dict[str, str], int]:
    """Doc and chunk content hashes and the department count, after an integrity check."""
    with sqlite3.connect(data / "kb.sqlite") as conn:
        assert conn.execute("pragma integrity_check").fetchone()[0] == "ok"
        docs = dict(conn.execute("select doc_id, content_hash from documents"))
        chunks = dict(conn.execute("select chunk_id, content_hash from chunks"))
        depts = conn.execute("select count(*) from departments").fetchone()[0]
        orphans = conn.execute(
            "select count(*) from chunks where doc_id not in (select doc_id from documents)"
        ).fetchone()[0]
        chunkless = conn.execute(
            "select count(*) from documents where doc_id not in (select doc_id from chunks)"
        ).fetchone()[0]
    assert orphans == 0
    assert chunkless == 0
    return docs, chunks, int(depts)


def _answers(data: Path) -> dict[str, list[str]]:
    searcher = Searcher.open(data / "indexes", FakeEmbedder(64), MeCabTokenizer())
    try:
        return {q: [f.id for f in searcher.search(q, k=5).faqs] for q in QUERIES}
    finally:
        searcher.close()


@pytest.fixture
def data(tmp_path: Path) -> Path:
    src = tmp_path / "v1"
    src.mkdir()
    (src / "departments.csv").write_text(DEPTS, encoding="utf-8")
    (src / "faq.csv").write_text(_faq_csv(120, "A"), encoding="utf-8")
    data = tmp_path / "data"
    _run_kb(data, "ingest", str(src))
    return data


def _second_batch(tmp_path: Path) -> Path:
    src = tmp_path / "v2"
    src.mkdir()
    # 120 new entries and a changed answer for every tenth old one.
    (src / "faq-new.csv").write_text(_faq_csv(120, "B"), encoding="utf-8")
    old = _faq_csv(120, "A").splitlines()
    changed = [old[0]] + [
        line.replace("問い合わせ番号", "改訂版 問い合わせ番号") if i % 10 == 0 else line
        for i, line in enumerate(old[1:])
    ]
    (src / "faq-changed.csv").write_text("\n".join(changed) + "\n", encoding="utf-8")
    return src


def test_kill_during_ingest(data: Path, tmp_path: Path) -> None:
    before = _store_state(data)
    serving = current_index(data / "indexes")
    answers = _answers(data)
    src = _second_batch(tmp_path)

    _kill_at_pause(_kb(data, "ingest", str(src), pause="ingest.store"), "ingest.store")

    # The half-written transaction is gone: the store is exactly as before, and consistent.
    assert _store_state(data) == before
    assert current_index(data / "indexes") == serving
    assert _answers(data) == answers

    out = _run_kb(data, "ingest", str(src))
    assert "120 added, 12 updated" in out
    docs, _, _ = _store_state(data)
    assert len(docs) == len(before[0]) + 120
    assert current_index(data / "indexes") != serving


def test_kill_during_build(data: Path, tmp_path: Path) -> None:
    serving = current_index(data / "indexes")
    answers = _answers(data)
    src = _second_batch(tmp_path)
    out = _run_kb(data, "ingest", "--no-build", str(src))
    assert "120 added, 12 updated" in out
    stored = _store_state(data)

    _kill_at_pause(_kb(data, "build", pause="build.embedded"), "build.embedded")

    # The new build was never switched to: the previous index still serves the same answers.
    assert current_index(data / "indexes") == serving
    assert _answers(data) == answers
    assert _store_state(data) == stored
    leftovers = list((data / "indexes").glob(".building-*"))
    assert leftovers  # the kill really landed inside the build

    _run_kb(data, "build")
    rebuilt = current_index(data / "indexes")
    assert rebuilt != serving
    assert _store_state(data) == stored
    searcher = Searcher.open(data / "indexes", FakeEmbedder(64), MeCabTokenizer())
    try:
        hits = searcher.search("住民票の写しの取り方", k=50, mode="lexical").faqs
        assert any(h.id.startswith("B") for h in hits)
        assert searcher.search("改訂版", k=5, mode="lexical").faqs
    finally:
        searcher.close()


def test_kill_at_pause_sees_an_announcement_behind_earlier_output() -> None:
    """The announcement arrives in one write with an earlier line: the kill still lands."""
    child = (
        "import sys, time; "
        "sys.stderr.write('warning: something\\nkb: paused at here\\n'); sys.stderr.flush(); "
        "time.sleep(20)"
    )
    proc = subprocess.Popen(
        [sys.executable, "-c", child], stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True
    )
    started = time.monotonic()
    _kill_at_pause(proc, "here", timeout=15)
    assert proc.returncode == -signal.SIGKILL
    assert time.monotonic() - started < 15
