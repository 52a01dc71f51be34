"""Attacks on the audit log by someone who can write ``audit.sqlite`` but holds neither the key
nor the anchor: each is done with plain ``sqlite3``, and ``verify`` must name the events."""

from __future__ import annotations

import hashlib
import hmac
import json
import os
import shutil
import sqlite3
from collections.abc import Callable
from pathlib import Path

import pytest

from kb.cli import main
from kb.errors import AuditError
from kb.security.audit import GENESIS, AuditLog

Sign = Callable[[bytes], str]


def plain(payload: bytes) -> str:
    return hashlib.sha256(payload).hexdigest()


def rechain(path: Path, *statements: str, sign: Sign = plain, chain: str | None = None) -> None:
    """The attack as reported: drop the triggers, edit, recompute every hash, recreate them."""
    db = sqlite3.connect(path)
    triggers = db.execute("SELECT name, sql FROM sqlite_master WHERE type = 'trigger'").fetchall()
    for name, _ in triggers:
        db.execute(f"DROP TRIGGER {name}")
    for statement in statements:
        db.execute(statement)
    if chain is not None:
        db.execute("UPDATE audit SET chain = ?", (chain,))
    rows = db.execute(
        "SELECT id, created_at, actor, role, action, query, ids, detail FROM audit ORDER BY id"
    ).fetchall()
    prev = GENESIS
    for id_, created, actor, role, action, query, ids, detail in rows:
        payload = json.dumps(
            [id_, created, actor, role, action, query, json.loads(ids), detail, prev],
            ensure_ascii=False,
            separators=(",", ":"),
        ).encode("utf-8")
        digest = sign(payload)
        db.execute("UPDATE audit SET prev_hash = ?, hash = ? WHERE id = ?", (prev, digest, id_))
        prev = digest
    db.execute("UPDATE sqlite_sequence SET seq = (SELECT max(id) FROM audit) WHERE name = 'audit'")
    for _, sql in triggers:
        db.execute(sql)
    db.commit()
    db.close()


@pytest.fixture
def log_path(tmp_path: Path) -> Path:
    """``DATA_DIR/audit.sqlite`` with five events; key and anchor in ``<DATA_DIR>-audit/``."""
    data = tmp_path / "data"
    data.mkdir()
    log = AuditLog(data / "audit.sqlite", masker=str)
    for q in ("住民票", "児童手当", "介護保険", "粗大ごみ", "国民健康保険"):
        log.append("search", actor="desk-1", role="staff", query=q, ids=["faq:F1"])
    assert log.verify().ok
    log.close()
    return data / "audit.sqlite"


def verify(path: Path) -> tuple[str, ...]:
    log = AuditLog(path, masker=str)
    try:
        return log.verify().problems
    finally:
        log.close()


def test_every_append_writes_one_anchor_line_outside_the_data_dir(log_path: Path) -> None:
    anchor = log_path.parent.parent / "data-audit" / "audit.anchor"
    key = log_path.parent.parent / "data-audit" / "audit.key"
    assert anchor.stat().st_mode & 0o777 == 0o600
    assert key.stat().st_mode & 0o777 == 0o600
    assert (key.parent.stat().st_mode & 0o777) == 0o700
    lines = anchor.read_text(encoding="utf-8").splitlines()
    assert lines[0].startswith("# kb audit anchor of ")
    log = AuditLog(log_path, masker=str)
    events = list(log.events())
    log.close()
    assert [line.split()[:2] for line in lines[1:]] == [[str(e.id), e.hash] for e in events]
    assert all(e.chain == "hmac-sha256" for e in events)
    # An HMAC, not a plain SHA-256 of the content: a copy of the file cannot be re-chained.
    assert all(len(e.hash) == 64 for e in events)


def test_the_reported_rechain_attack_is_caught(
    log_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    rechain(log_path, "UPDATE audit SET actor = 'nobody', query = '住民票の写し' WHERE id = 2")
    db = sqlite3.connect(log_path)
    triggers = {r[0] for r in db.execute("SELECT name FROM sqlite_master WHERE type='trigger'")}
    db.close()
    assert {"audit_no_update", "audit_no_delete"} <= triggers  # put back, as the attacker did
    problems = verify(log_path)
    for n in range(1, 6):
        assert f"event {n}: content does not match its hash (altered)" in problems
        assert any(
            p.startswith(f"event {n}: its hash is not the one anchored at") for p in problems
        )
    assert any("re-chained by someone without the audit key" in p for p in problems)
    assert main(["--data-dir", str(log_path.parent), "audit", "verify"]) == 1
    out = capsys.readouterr().out
    assert "tampered: event 2: content does not match its hash" in out
    assert "audit log NOT ok" in out


def test_a_copy_rechained_with_another_key_is_caught(log_path: Path) -> None:
    other = os.urandom(32)
    rechain(
        log_path,
        "DELETE FROM audit WHERE id = 3",
        "UPDATE audit SET id = -id WHERE id > 3",
        "UPDATE audit SET id = -id - 1 WHERE id < 0",
        sign=lambda p: hmac.new(other, p, hashlib.sha256).hexdigest(),
    )
    problems = verify(log_path)
    assert "event 3: content does not match its hash (altered)" in problems
    assert "event 4: content does not match its hash (altered)" in problems
    assert any(p.startswith("event 3: its hash is not the one anchored") for p in problems)
    assert any(
        p.startswith("event 5: anchored but missing from the end of the log (truncated")
        for p in problems
    )


def test_a_log_rewritten_as_an_old_unkeyed_one_is_caught(log_path: Path) -> None:
    """Everything turned into a plain SHA-256 'old' log, key id removed: the anchor disagrees."""
    rechain(
        log_path,
        "DELETE FROM audit_meta",
        "UPDATE audit SET detail = 'x' WHERE id = 4",
        chain="sha256",
    )
    problems = verify(log_path)
    assert not any("content does not match" in p for p in problems)  # a valid plain chain...
    for n in range(1, 6):  # ...whose every hash differs from the one anchored
        assert any(p.startswith(f"event {n}: its hash is not the one anchored") for p in problems)


def test_deletion_without_rechaining(log_path: Path) -> None:
    rechain_free = sqlite3.connect(log_path)
    rechain_free.execute("DROP TRIGGER audit_no_delete")
    rechain_free.execute("DELETE FROM audit WHERE id = 3")
    rechain_free.commit()
    rechain_free.close()
    problems = verify(log_path)
    assert "event 4: expected event 3 here (events missing)" in problems
    assert "event 4: does not link to the event before it" in problems
    assert "event 3: anchored but missing from the log (deleted)" in problems


def test_insertion_is_caught(log_path: Path) -> None:
    rechain(
        log_path,
        "UPDATE audit SET id = -id WHERE id >= 2",
        "UPDATE audit SET id = -id + 1 WHERE id < 0",
        "INSERT INTO audit (id, created_at, actor, role, action, prev_hash, hash, chain) "
        "VALUES (2, '2026-01-01T00:00:00.000+00:00', 'desk-9', 'staff', 'search', '', '', "
        "'hmac-sha256')",
    )
    problems = verify(log_path)
    assert any(p.startswith("event 2: its hash is not the one anchored") for p in problems)
    assert any(p.startswith("event 6: not in the anchor") for p in problems)


def test_truncation_is_caught_although_the_chain_is_valid(log_path: Path) -> None:
    db = sqlite3.connect(log_path)
    db.execute("DROP TRIGGER audit_no_delete")
    db.execute("DELETE FROM audit WHERE id > 3")
    db.commit()
    db.close()
    problems = verify(log_path)
    assert problems == (
        "events 4-5: anchored but missing from the end of the log (truncated, or kb was "
        "stopped between anchoring an event and storing it: the log ends at event 3, the "
        "anchor at event 5)",
    )


def test_truncation_then_new_events_under_the_old_numbers_is_caught(log_path: Path) -> None:
    rechain(log_path, "DELETE FROM audit WHERE id > 3")  # sqlite_sequence set back to 3 too
    log = AuditLog(log_path, masker=str)
    log.append("search", actor="desk-1", role="staff", query="新しい検索")
    log.close()
    problems = verify(log_path)
    assert any(p.startswith("event 4: anchored twice with different hashes") for p in problems)


def test_a_replaced_database_and_a_lost_anchor(log_path: Path, tmp_path: Path) -> None:
    anchor = tmp_path / "data-audit" / "audit.anchor"
    backup = tmp_path / "anchor.backup"
    shutil.copy(anchor, backup)
    anchor.unlink()
    problems = verify(log_path)
    assert len(problems) == 1
    assert "the anchor file is missing" in problems[0]
    log = AuditLog(log_path, masker=str)
    # The backup copy can be checked against; it says the log is intact.
    assert log.verify(anchor=backup).ok
    log.close()
    # Deleting the whole database: the anchor (restored) names every event as missing.
    shutil.copy(backup, anchor)
    log_path.unlink()
    for extra in ("-wal", "-shm"):
        log_path.with_name(log_path.name + extra).unlink(missing_ok=True)
    problems = verify(log_path)
    assert any(p.startswith("events 1-5: anchored but missing from the end") for p in problems)


def test_an_older_copy_of_the_anchor_vouches_up_to_its_last_line(
    log_path: Path, tmp_path: Path
) -> None:
    # An outside probe checked the log against last week's off-site copy of the anchor: the
    # events written since were reported "inserted behind kb's back".
    copy = tmp_path / "anchor.offsite"
    shutil.copy(tmp_path / "data-audit" / "audit.anchor", copy)
    log = AuditLog(log_path, masker=str)
    try:
        for q in ("転入", "転出"):
            log.append("search", actor="desk-1", role="staff", query=q)
        checked = log.verify(anchor=copy)
        assert checked.ok, checked.problems
        assert checked.anchored == 5
        assert checked.events == 7
        assert log.verify().ok  # the live anchor covers all seven
    finally:
        log.close()
    # Within what the copy covers, a change is still found.
    rechain(log_path, "UPDATE audit SET query = '改ざん' WHERE id = 3")
    log = AuditLog(log_path, masker=str)
    try:
        assert any("event 3" in p for p in log.verify(anchor=copy).problems)
    finally:
        log.close()


def test_unreadable_anchor_lines_are_named(log_path: Path, tmp_path: Path) -> None:
    anchor = tmp_path / "data-audit" / "audit.anchor"
    with anchor.open("a", encoding="utf-8") as f:
        f.write("6 not-a-hash now\n")
    problems = verify(log_path)
    lines = anchor.read_text(encoding="utf-8").splitlines()
    assert problems == (
        f"{anchor}:{len(lines)}: not an anchor line (SEQ HASH TIME): '6 not-a-hash now'",
    )


def test_an_unwritable_anchor_stores_nothing(log_path: Path, tmp_path: Path) -> None:
    anchor_dir = tmp_path / "elsewhere"
    anchor_dir.mkdir()
    (anchor_dir / "audit.anchor").mkdir()  # a folder where the file should be: open fails
    log = AuditLog(log_path, masker=str, anchor=anchor_dir / "audit.anchor")
    with pytest.raises(AuditError, match="cannot write the audit anchor"):
        log.append("search", actor="desk-1", role="staff", query="住民票")
    assert log.count() == 5
    log.close()


class _FullDisk:
    """A connection whose COMMIT fails as SQLite's does on a full disk (after the anchor)."""

    def __init__(self, db: sqlite3.Connection) -> None:
        self._db = db

    def execute(self, sql: str, *args: object) -> sqlite3.Cursor:
        if sql == "COMMIT":
            raise sqlite3.OperationalError("database or disk is full")
        return self._db.execute(sql, *args)

    def __getattr__(self, name: str) -> object:
        return getattr(self._db, name)


def test_an_event_whose_commit_fails_leaves_no_anchor_line(log_path: Path) -> None:
    # An outside probe filled the disk under a serving kb: each failed search left the anchor
    # line of an event that was never stored, and once space was freed the next events were
    # "anchored twice with different hashes" -- a log nobody touched, reported as tampered.
    anchor = log_path.parent.parent / "data-audit" / "audit.anchor"
    before = anchor.read_bytes()
    log = AuditLog(log_path, masker=str)
    real = log._db
    log._db = _FullDisk(real)  # type: ignore[assignment]
    with pytest.raises(AuditError, match="database or disk is full"):
        log.append("search", actor="desk-1", role="staff", query="住民票")
    log._db = real
    assert anchor.read_bytes() == before
    assert log.count() == 5
    log.append("search", actor="desk-1", role="staff", query="児童手当")
    log.close()
    assert verify(log_path) == ()


def test_syslog_gets_the_head(
    log_path: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import syslog

    sent: list[tuple[int, str]] = []
    monkeypatch.setattr(syslog, "syslog", lambda priority, msg: sent.append((priority, msg)))
    log = AuditLog(log_path, masker=str, syslog=True)
    event = log.append("search", actor="desk-1", role="staff", query="住民票")
    log.close()
    assert len(sent) == 1
    assert f"seq={event.id} hash={event.hash}" in sent[0][1]
    assert sent[0][0] & 7 == syslog.LOG_INFO
