"""Two `kb` writers at once: the second waits, nothing already stored stops being served.

The finding this guards against: `kb ingest A` starts its build and is held up; meanwhile
`kb ingest B` stores B, builds and switches ``CURRENT``; A's build then finishes and switches
back to its older snapshot, so B stays stored but is no longer served. The subprocesses run with
the fake embedder and stop at a fault-injection point (:mod:`kb.faults`) inside the build, so
the overlap happens every time rather than by luck of timing.
"""

from __future__ import annotations

import json
import os
import selectors
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from kb.embed.embedder import FakeEmbedder
from kb.faults import PAUSE_ENV, PAUSE_SECONDS_ENV
from kb.index.folder import IndexRoot
from kb.index.lock import writer_holder
from kb.search.searcher import Searcher
from kb.settings import Settings
from kb.text.mecab import MeCabTokenizer

RUN_KB = "import sys; from kb.cli import main; sys.exit(main(sys.argv[1:]))"
FAQ_A = """id,question,answer,department,category,published
A1,住民票の写しはどこで取れますか,市民課の窓口で請求できます,市民課,届出,true
"""
FAQ_B = """id,question,answer,department,category,published
B1,粗大ごみの出し方を教えてください,電話で申し込み処理券を貼って出してください,環境課,ごみ,true
"""


def _kb(
    data: Path, *args: str, pause: str = "", pause_s: float = 120, env: dict[str, str] | None = None
) -> subprocess.Popen[str]:
    environ = {k: v for k, v in os.environ.items() if not k.startswith("KB_")}
    environ["KB_LANG"] = "en"  # these tests read the English report
    if pause:
        environ[PAUSE_ENV] = pause
        environ[PAUSE_SECONDS_ENV] = str(pause_s)
    environ.update(env or {})
    return subprocess.Popen(
        [sys.executable, "-c", RUN_KB, "--data-dir", str(data), "--model", "fake", *args],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env=environ,
    )


def _wait_for(proc: subprocess.Popen[str], marker: str, timeout: float = 120) -> str:
    """Read ``proc``'s stderr (from the raw descriptor) until ``marker`` appears."""
    assert proc.stderr is not None
    fd = proc.stderr.fileno()
    sel = selectors.DefaultSelector()
    sel.register(fd, selectors.EVENT_READ)
    received = b""
    deadline = time.monotonic() + timeout
    try:
        while time.monotonic() < deadline:
            if not sel.select(timeout=1.0):
                continue
            block = os.read(fd, 65536)
            if not block:
                pytest.fail(f"kb exited before {marker!r}: {received.decode()}")
            received += block
            if marker.encode() in received:
                return received.decode()
        pytest.fail(f"kb never printed {marker!r}: {received.decode()}")
    finally:
        sel.close()


def _finish(proc: subprocess.Popen[str], timeout: float = 120) -> tuple[int, str, str]:
    out, err = proc.communicate(timeout=timeout)
    return proc.returncode, out, err


def _served_faqs(data: Path) -> set[str]:
    searcher = Searcher.open(data / "indexes", FakeEmbedder(64), MeCabTokenizer())
    try:
        found = set()
        for q in ("住民票の写し", "粗大ごみの出し方"):
            found |= {f.id for f in searcher.search(q, k=5, mode="lexical").faqs}
        return found
    finally:
        searcher.close()


@pytest.fixture
def sources(tmp_path: Path) -> tuple[Path, Path]:
    a, b = tmp_path / "a.csv", tmp_path / "b.csv"
    a.write_text(FAQ_A, encoding="utf-8")
    b.write_text(FAQ_B, encoding="utf-8")
    return a, b


def test_a_second_ingest_waits_for_the_first_and_both_are_served(
    tmp_path: Path, sources: tuple[Path, Path]
) -> None:
    data = tmp_path / "data"
    a, b = sources
    first = _kb(data, "ingest", str(a), pause="build.embedded", pause_s=5)
    second = None
    try:
        _wait_for(first, "kb: paused at build.embedded")
        # Frozen, holding the lock, until the second is seen waiting for it (however slowly
        # that one starts); its pause then runs out and its build resumes.
        first.send_signal(signal.SIGSTOP)
        second = _kb(data, "ingest", str(b))
        waited = _wait_for(second, "waiting for another ingest/build")
        assert f"(pid {first.pid}, ingest, since " in waited
        first.send_signal(signal.SIGCONT)
        code, _, err = _finish(first)
        assert code == 0, err
        code, out, err = _finish(second)
        assert code == 0, err
        assert "1 added" in out
    finally:
        for proc in (first, second):
            if proc is not None and proc.poll() is None:
                proc.send_signal(signal.SIGCONT)
                proc.kill()
                proc.wait()
    # B's build came second and snapshotted A's entry too: both are served.
    assert _served_faqs(data) == {"A1", "B1"}
    manifest = IndexRoot(data / "indexes").current().manifest()
    assert manifest.generation >= 2
    assert not list((data / "indexes").glob(".building-*"))


def test_a_writer_that_cannot_wait_longer_gives_up_clearly(
    tmp_path: Path, sources: tuple[Path, Path]
) -> None:
    data = tmp_path / "data"
    a, b = sources
    first = _kb(data, "ingest", str(a), pause="build.embedded")
    try:
        _wait_for(first, "kb: paused at build.embedded")
        second = _kb(data, "ingest", str(b), env={"KB_WRITER_LOCK_WAIT": "1"})
        code, out, err = _finish(second)
        assert code == 2
        assert f"waiting for another ingest/build (pid {first.pid}, ingest, since" in err
        assert "still running after 1 s" in err
        assert "KB_WRITER_LOCK_WAIT" in err
        assert "Traceback" not in err
        assert "ingested" not in out  # it stored nothing
        code, out, err = _finish(_kb(data, "status"))
        assert code == 0, err
        assert json.loads(out)["writer"].startswith(f"pid {first.pid}, ingest, since ")
    finally:
        first.send_signal(signal.SIGKILL)
        first.wait(30)
    assert writer_holder(Settings(data_dir=data)) is None  # the kernel let the lock go
    # The killed build left its folder; the next ingest removes it (and a stray upload).
    assert list((data / "indexes").glob(".building-*"))
    stray = data / "uploads" / "0011223344556677"
    stray.mkdir(parents=True)
    (stray / "cases.csv").write_text("相談者 山田太郎", encoding="utf-8")
    code, out, err = _finish(_kb(data, "ingest", str(b)))
    assert code == 0, err
    assert "removed 1 abandoned index build(s) and 1 upload folder(s)" in err
    assert not list((data / "indexes").glob(".building-*"))
    assert not stray.exists()
    assert _served_faqs(data) == {"A1", "B1"}
