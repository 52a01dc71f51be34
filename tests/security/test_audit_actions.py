"""Intent and result events: the hook itself, and ``kb ingest`` / ``build`` / ``search`` /
``trainer approve`` from the command line, including a kill in the middle of a build."""

from __future__ import annotations

import getpass
import json
import os
import selectors
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from kb.cli import main
from kb.errors import InputError, TrainerError
from kb.faults import PAUSE_ENV, PAUSE_SECONDS_ENV
from kb.security.audit import AuditEvent, AuditLog
from kb.security.audit_actions import MAX_ERROR_CHARS, audited, error_text

FAQ_CSV = """id,question,answer,department,category,published
F1,住民票の写しはどこで取れますか。,市民課の窓口またはコンビニで取れます。,市民課,届出,true
F2,粗大ごみの出し方を知りたい。,電話で申し込み、処理券を貼って出してください。,ごみ減量推進課,ごみ,true
"""
DEPTS_CSV = """name,duties,phone,location,hours
市民課,住民票・戸籍・転入転出,099-555-1101,本庁舎1階,平日
ごみ減量推進課,ごみの分別・粗大ごみ,099-555-1113,東館1階,平日
"""


def events(data: Path) -> list[AuditEvent]:
    log = AuditLog(data / "audit.sqlite", masker=str)
    try:
        return list(log.events())
    finally:
        log.close()


def test_audited_writes_the_intent_first_and_links_the_result(tmp_path: Path) -> None:
    log = AuditLog(tmp_path / "audit.sqlite", masker=str)
    with audited(log, "delete", actor="ict", role="admin", ids=["case:C1"], detail="asked") as out:
        # The intent is in the log while the work runs (a kill here leaves it).
        assert [e.action for e in log.events()] == ["delete.start"]
        out.detail = "1 document deleted"
    start, done = log.events()
    assert (start.action, start.ids, start.detail) == ("delete.start", ("case:C1",), "asked")
    assert (done.action, done.ids) == ("delete", ("case:C1",))
    assert done.detail == f"1 document deleted (start: event {start.id})"
    assert log.verify().unfinished == ()
    log.close()


def test_audited_records_the_error_masked_and_reraises(tmp_path: Path) -> None:
    log = AuditLog(tmp_path / "audit.sqlite", masker=str)
    with (
        pytest.raises(InputError),
        audited(log, "ingest", actor="ict", role="admin", ids=["faq.csv"]),
    ):
        raise InputError("faq.csv", "bad phone 090-1234-5678", line=3)
    start, failed = log.events()
    assert failed.action == "ingest.failed"
    assert failed.detail == f"faq.csv:3: bad phone [電話番号] (start: event {start.id})"
    log.close()


def test_error_text_is_one_short_line() -> None:
    assert error_text(RuntimeError("disk\nfull")) == "RuntimeError: disk full"
    assert error_text(KeyboardInterrupt()) == "interrupted"
    assert error_text(TrainerError("no candidate 'X'")) == "no candidate 'X'"
    assert len(error_text(ValueError("x" * 5000))) == MAX_ERROR_CHARS


def test_verify_lists_intents_without_a_result(tmp_path: Path) -> None:
    log = AuditLog(tmp_path / "audit.sqlite", masker=str)
    with audited(log, "build", actor="ict", role="admin"):
        pass
    started = log.append("ingest.start", actor="ict", role="admin", ids=["faq.csv"])
    result = log.verify()
    assert result.ok
    assert result.unfinished == (
        f"event {started.id}: ingest.start by ict at {started.created_at} has no result event",
    )
    log.close()


@pytest.fixture
def src(tmp_path: Path) -> Path:
    folder = tmp_path / "src"
    folder.mkdir()
    (folder / "faq.csv").write_text(FAQ_CSV, encoding="utf-8")
    (folder / "departments.csv").write_text(DEPTS_CSV, encoding="utf-8")
    return folder


def kb(data: Path, *args: str) -> int:
    return main(["--data-dir", str(data), "--model", "fake", *args])


def test_cli_ingest_build_and_search_are_audited(
    src: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    data = tmp_path / "data"
    assert kb(data, "ingest", str(src)) == 0
    assert kb(data, "build") == 0
    capsys.readouterr()
    assert kb(data, "search", "090-1234-5678 の母が住民票を取りたい", "--json") == 0
    printed = capsys.readouterr().out
    log = events(data)
    actor = f"cli:{getpass.getuser()}"
    assert [(e.action, e.actor, e.role) for e in log] == [
        ("ingest.start", actor, "cli"),
        ("ingest", actor, "cli"),
        ("build.start", actor, "cli"),
        ("build", actor, "cli"),
        ("search", actor, "cli"),
    ]
    ingest_start, ingest, build_start, build, search = log
    assert ingest_start.ids == (str(src),)
    assert "kind detected, build True" in ingest_start.detail
    assert "2 documents, 2 departments (4 added, 0 updated" in ingest.detail
    assert "built " in ingest.detail
    assert ingest.detail.endswith(f"(start: event {ingest_start.id})")
    assert build.detail.startswith("built ")
    assert build.detail.endswith(f"(start: event {build_start.id})")
    assert "090-1234-5678" not in search.query
    assert "[電話番号]" in search.query
    shown = json.loads(printed)
    panes = (
        [f"department:{d['name']}" for d in shown["departments"]]
        + [f"faq:{f['id']}" for f in shown["faqs"]]
        + [f"case:{c['id']}" for c in shown["cases"]]
        + [f"manual:{m['id']}" for m in shown["manuals"]]
    )
    evidence = [e for d in shown["departments"] for e in d["evidence"]]
    assert panes
    assert list(search.ids) == list(dict.fromkeys(panes + evidence))


def test_cli_ingest_that_fails_is_recorded(
    src: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from kb.index import update

    def broken(*args: object, **kwargs: object) -> None:
        raise InputError(str(src / "faq.csv"), "not UTF-8 or Shift_JIS", line=7)

    monkeypatch.setattr(update, "ingest_and_build", broken)
    data = tmp_path / "data"
    assert kb(data, "ingest", str(src)) == 2
    start, failed = events(data)
    assert (start.action, start.ids) == ("ingest.start", (str(src),))
    assert failed.action == "ingest.failed"
    assert failed.detail == (
        f"{src / 'faq.csv'}:7: not UTF-8 or Shift_JIS (start: event {start.id})"
    )


def test_cli_approve_is_audited_also_when_it_fails(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    from kb.trainer.service import Trainer

    def refuse(self: Trainer, candidate_id: str, *args: object, **kwargs: object) -> None:
        raise TrainerError(f"no FAQ candidate {candidate_id!r}")

    monkeypatch.setattr(Trainer, "approve", refuse)
    data = tmp_path / "data"
    assert kb(data, "trainer", "approve", "FC0404") == 2
    start, failed = events(data)
    assert (start.action, start.ids, start.role) == ("approve.start", ("faq:FC0404",), "cli")
    assert failed.action == "approve.failed"
    assert failed.detail == f"no FAQ candidate 'FC0404' (start: event {start.id})"


def test_a_kill_during_the_build_leaves_the_intent_recorded(src: Path, tmp_path: Path) -> None:
    data = tmp_path / "data"
    env = dict(os.environ)
    env[PAUSE_ENV] = "build.embedded"
    env[PAUSE_SECONDS_ENV] = "120"
    code = "import sys; from kb.cli import main; sys.exit(main(sys.argv[1:]))"
    args = ["--data-dir", str(data), "--model", "fake", "ingest", str(src)]
    proc = subprocess.Popen(
        [sys.executable, "-c", code, *args],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        env=env,
    )
    assert proc.stderr is not None
    received = b""
    sel = selectors.DefaultSelector()
    sel.register(proc.stderr.fileno(), selectors.EVENT_READ)
    deadline = time.monotonic() + 180
    try:
        while b"kb: paused at build.embedded" not in received:
            assert time.monotonic() < deadline, received.decode()
            if sel.select(timeout=1.0):
                block = os.read(proc.stderr.fileno(), 65536)
                assert block, f"kb exited before the pause: {received.decode()}"
                received += block
        proc.send_signal(signal.SIGKILL)
        proc.wait(timeout=30)
    finally:
        sel.close()
        if proc.poll() is None:
            proc.kill()
            proc.wait()
    log = events(data)
    assert [e.action for e in log] == ["ingest.start"]  # stored, not built: the intent stays
    result = AuditLog(data / "audit.sqlite", masker=str).verify()
    assert result.ok, result.problems
    assert len(result.unfinished) == 1
    assert "ingest.start" in result.unfinished[0]
