"""The audit log: masked queries, append-only in SQLite itself, a hash chain, exports."""

from __future__ import annotations

import csv
import hashlib
import io
import json
import sqlite3
import threading
import time
from pathlib import Path

import pytest

from kb.errors import AuditError, InputError
from kb.security.audit import GENESIS, AuditLog, export, parse_since
from kb.text.mecab import MeCabTokenizer


@pytest.fixture
def audit(tmp_path: Path, tokenizer: MeCabTokenizer) -> AuditLog:
    from kb.text.masking import mask_personal

    return AuditLog(tmp_path / "audit.sqlite", masker=lambda t: mask_personal(t, tokenizer))


def test_events_are_masked_chained_and_survive_a_restart(tmp_path: Path) -> None:
    log = AuditLog(tmp_path / "audit.sqlite")  # the default masker (mask_personal)
    first = log.append(
        "search",
        actor="desk-1",
        role="staff",
        query="母の電話は090-1234-5678、メールはhanako@example.jp です",
        ids=["faq:F1", "case:C2"],
    )
    assert "090" not in first.query
    assert "hanako@example.jp" not in first.query
    assert "[電話番号]" in first.query
    assert "[メール]" in first.query
    assert first.prev_hash == GENESIS
    log.close()
    reopened = AuditLog(tmp_path / "audit.sqlite")
    second = reopened.append("open", actor="desk-1", role="staff", ids=["case:C2"])
    assert second.id == first.id + 1
    assert second.prev_hash == first.hash
    events = list(reopened.events())
    assert [e.action for e in events] == ["search", "open"]
    assert events[0].ids == ("faq:F1", "case:C2")
    assert events[0].query == first.query
    assert reopened.verify().ok
    assert reopened.verify().head == second.hash


def test_ids_a_client_typed_are_masked_and_kbs_own_detail_kept(audit: AuditLog) -> None:
    # An outside tester put a citizen's name and mobile number in a path id and in a
    # withdrawal's reason: both landed in the never-pruned log as typed.
    reason = "山田太郎様（090-1234-5678、taro@example.com）からの苦情のため"
    event = audit.append(
        "withdraw.start",
        actor="trainer-1",
        role="trainer",
        ids=["faq:山田太郎様090-1234-5678", "09012345678", "x" * 5000, "hanako@gmail.com:x"],
        detail=f"reason: {audit.mask_text(reason)}",
    )
    assert event.ids[:2] == ("faq:[氏名]様[電話番号]", "[電話番号]")
    assert len(event.ids[2]) == 200
    assert event.ids[3] == "[メール]:x"  # no kind of document: masked whole
    for secret in ("090", "taro@", "山田"):
        assert secret not in event.detail
    assert event.detail.startswith("reason: [氏名]様")
    long = audit.append("x", actor="a", role="staff", detail="あ" * 10_000)
    assert len(long.detail) == 2000
    # kb's own detail is written as it is (a build's name read as numbers by the masking).
    built = "built 20261207T083411991118-43e489: 194 chunks"
    assert audit.append("build", actor="a", role="admin", detail=built).detail == built
    # The ids kb stores are never changed: record numbers, manuals' file names with a surname;
    # a manual id with a phone number is.
    kept = ["case:2024040001", "case:desk-R000006", "faq:F0001", "R000006", "manual:手順_鈴木.md#2"]
    assert audit.append("delete", actor="a", role="admin", ids=kept).ids == tuple(kept)
    phoned = audit.append("x", actor="a", role="admin", ids=["manual:090-1234-5678"])
    assert phoned.ids == ("manual:[電話番号]",)
    card = audit.append("x", actor="a", role="staff", ids=["R123456789012"])
    assert card.ids != ("R123456789012",)
    # Numbers of a person's that the masker reads as [番号] are no record number: a card's
    # sixteen digits, a labelled account, a residence card, an address of a computer.
    typed = [
        "4111111111111111",
        "4111-1111-1111-1111",
        "口座1234567",
        "保険証12345678",
        "AB12345678CD",
        "192.168.10.23",
    ]
    # A city's long case numbers are ids (a reviewer saw them masked by the first fix).
    long_ids = ["case:2024040100001", "case:C-2024-000123456"]
    assert audit.append("open", actor="a", role="staff", ids=long_ids).ids == tuple(long_ids)
    logged = audit.append("record.update.start", actor="a", role="staff", ids=typed).ids
    assert len(logged) == len(typed)
    for kept_as in logged:
        assert "[番号]" in kept_as
        for secret in ("1234567", "4111", "192.168"):
            assert secret not in kept_as
    assert audit.verify().ok


def test_sqlite_itself_refuses_updates_and_deletes(audit: AuditLog, tmp_path: Path) -> None:
    audit.append("search", actor="desk-1", role="staff", query="粗大ごみ")
    db = sqlite3.connect(tmp_path / "audit.sqlite", isolation_level=None)
    with pytest.raises(sqlite3.DatabaseError, match="append-only"):
        db.execute("UPDATE audit SET actor = 'someone-else'")
    with pytest.raises(sqlite3.DatabaseError, match="append-only"):
        db.execute("DELETE FROM audit")
    db.close()
    assert [e.actor for e in audit.events()] == ["desk-1"]


def _tamper(path: Path, sql: str) -> None:
    """What someone with the file could do: drop the triggers and edit."""
    db = sqlite3.connect(path)
    db.execute("DROP TRIGGER audit_no_update")
    db.execute("DROP TRIGGER audit_no_delete")
    db.execute(sql)
    db.commit()
    db.close()


def test_verify_finds_an_edited_event(audit: AuditLog, tmp_path: Path) -> None:
    for q in ("住民票", "児童手当", "介護保険"):
        audit.append("search", actor="desk-1", role="staff", query=q)
    assert audit.verify().ok
    _tamper(tmp_path / "audit.sqlite", "UPDATE audit SET actor = 'nobody' WHERE id = 2")
    result = AuditLog(tmp_path / "audit.sqlite").verify()
    assert not result.ok
    assert result.problems == ("event 2: content does not match its hash (altered)",)


@pytest.mark.parametrize(
    "edit",
    [
        # An outside tester's edits: each was a traceback of verify, export or the next append.
        "UPDATE audit SET ids = 'not json' WHERE id = 2",
        "UPDATE audit SET ids = '123' WHERE id = 2",
        "UPDATE audit SET ids = CAST(X'FFFE' AS TEXT) WHERE id = 2",
        "UPDATE audit SET query = CAST(X'C3' AS TEXT) WHERE id = 2",
        "UPDATE audit SET detail = X'0001' WHERE id = 2",
        "UPDATE audit SET prev_hash = X'00' WHERE id = 2",
        "UPDATE audit SET hash = X'00' WHERE id = 3",
    ],
)
def test_an_event_edited_into_other_types_is_reported_not_a_crash(
    audit: AuditLog, tmp_path: Path, edit: str
) -> None:
    for q in ("住民票", "児童手当", "介護保険"):
        audit.append("search", actor="desk-1", role="staff", query=q)
    _tamper(tmp_path / "audit.sqlite", edit)
    reopened = AuditLog(tmp_path / "audit.sqlite")
    result = reopened.verify()
    assert not result.ok
    assert any(p.startswith(("event 2:", "event 3:", "event 4:")) for p in result.problems)
    out = io.StringIO()
    assert export(reopened.events(), "jsonl", out) == 3
    assert all(json.loads(line) for line in out.getvalue().splitlines())
    # The service goes on recording (the next event links to the edited head as it reads).
    reopened.append("search", actor="desk-1", role="staff", query="ごみ")
    assert reopened.count() == 4


def test_a_damaged_table_is_a_clear_error(audit: AuditLog, tmp_path: Path) -> None:
    audit.append("search", actor="desk-1", role="staff", query="住民票")
    _tamper(tmp_path / "audit.sqlite", "ALTER TABLE audit RENAME COLUMN ids TO idz")
    with pytest.raises(AuditError, match="監査ログの表の形が壊れて"):
        AuditLog(tmp_path / "audit.sqlite").verify()


def test_verify_finds_a_deleted_event(audit: AuditLog, tmp_path: Path) -> None:
    for q in ("住民票", "児童手当", "介護保険"):
        audit.append("search", actor="desk-1", role="staff", query=q)
    _tamper(tmp_path / "audit.sqlite", "DELETE FROM audit WHERE id = 2")
    result = AuditLog(tmp_path / "audit.sqlite").verify()
    assert not result.ok
    assert any("event 3: expected event 2" in p for p in result.problems)
    assert any("event 3: does not link" in p for p in result.problems)


def test_concurrent_appends_from_two_connections_keep_one_chain(tmp_path: Path) -> None:
    logs = [AuditLog(tmp_path / "audit.sqlite", masker=str) for _ in range(2)]

    def write(log: AuditLog, who: str) -> None:
        for i in range(25):
            log.append("search", actor=who, role="staff", query=f"q{i}")

    threads = [threading.Thread(target=write, args=(log, f"w{n}")) for n, log in enumerate(logs)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    result = logs[0].verify()
    assert result.ok, result.problems
    assert result.events == 50


def test_since_filter_and_exports(audit: AuditLog) -> None:
    a = audit.append("search", actor="desk-1", role="staff", query="=HYPERLINK(1)", ids=["faq:F1"])
    time.sleep(0.005)  # timestamps have millisecond resolution
    b = audit.append("keys.create", actor="cli:root", role="admin", ids=["desk-2"])
    assert [e.id for e in audit.events(since=b.created_at)] == [b.id]
    assert [e.id for e in audit.events(until=b.created_at)] == [a.id]
    out = io.StringIO()
    assert export(audit.events(), "csv", out) == 2
    rows = list(csv.DictReader(io.StringIO(out.getvalue())))
    assert rows[0]["query"].lower() == "'=hyperlink(1)"  # a spreadsheet will not run it
    assert rows[0]["ids"] == "faq:F1"
    assert rows[1]["action"] == "keys.create"
    out = io.StringIO()
    assert export(audit.events(), "jsonl", out) == 2
    lines = [json.loads(line) for line in out.getvalue().splitlines()]
    assert lines[0]["query"].lower() == "=hyperlink(1)"
    assert lines[1]["ids"] == ["desk-2"]
    assert lines[1]["hash"] == b.hash
    with pytest.raises(InputError, match="unknown format"):
        export(audit.events(), "xml", io.StringIO())


def test_parse_since_accepts_dates_and_zones() -> None:
    assert parse_since("2026-04-01") == "2026-04-01T00:00:00.000+00:00"
    assert parse_since("2026-04-01T09:00+09:00") == "2026-04-01T00:00:00.000+00:00"
    with pytest.raises(InputError, match="not an ISO 8601"):
        parse_since("yesterday")


OLD_SCHEMA = """
CREATE TABLE audit (
    id INTEGER PRIMARY KEY AUTOINCREMENT, created_at TEXT NOT NULL, actor TEXT NOT NULL,
    role TEXT NOT NULL, action TEXT NOT NULL, query TEXT NOT NULL DEFAULT '',
    ids TEXT NOT NULL DEFAULT '[]', detail TEXT NOT NULL DEFAULT '',
    prev_hash TEXT NOT NULL, hash TEXT NOT NULL
);
CREATE TRIGGER audit_no_update BEFORE UPDATE ON audit
BEGIN SELECT RAISE(ABORT, 'the audit log is append-only: events cannot be changed'); END;
CREATE TRIGGER audit_no_delete BEFORE DELETE ON audit
BEGIN SELECT RAISE(ABORT, 'the audit log is append-only: events cannot be deleted'); END;
"""


def _old_log(path: Path, n: int) -> list[str]:
    """A log as kb wrote it before the key: plain SHA-256 chain, no ``chain`` column."""
    db = sqlite3.connect(path)
    db.executescript(OLD_SCHEMA)
    prev = GENESIS
    hashes = []
    for i in range(1, n + 1):
        row = [i, f"2025-01-0{i}T00:00:00.000+00:00", "desk-1", "staff", "search", f"q{i}"]
        payload = json.dumps(
            [*row, ["faq:F1"], "", prev], ensure_ascii=False, separators=(",", ":")
        )
        digest = hashlib.sha256(payload.encode("utf-8")).hexdigest()
        db.execute(
            "INSERT INTO audit (id, created_at, actor, role, action, query, ids, detail, "
            "prev_hash, hash) VALUES (?, ?, ?, ?, ?, ?, '[\"faq:F1\"]', '', ?, ?)",
            (*row, prev, digest),
        )
        prev = digest
        hashes.append(digest)
    db.commit()
    db.close()
    return hashes


def test_an_old_unkeyed_log_still_verifies_and_continues_keyed(tmp_path: Path) -> None:
    data = tmp_path / "data"
    data.mkdir()
    path = data / "audit.sqlite"
    old = _old_log(path, 3)
    log = AuditLog(path, masker=str)
    before = log.verify()
    assert before.ok, before.problems
    assert (before.events, before.keyed, before.head) == (3, 0, old[-1])
    assert [e.chain for e in log.events()] == ["sha256"] * 3
    new = log.append("search", actor="desk-2", role="staff", query="住民票")
    assert (new.id, new.prev_hash, new.chain) == (4, old[-1], "hmac-sha256")
    after = log.verify()
    assert after.ok, after.problems
    assert (after.events, after.keyed, after.anchored) == (4, 1, 4)
    log.close()
    anchor = (tmp_path / "data-audit" / "audit.anchor").read_text(encoding="utf-8")
    # The old head is anchored when the first keyed event follows it.
    assert [line.split()[:2] for line in anchor.splitlines()[1:]] == [
        ["3", old[-1]],
        ["4", new.hash],
    ]


def test_the_old_part_cannot_be_rechained_once_a_keyed_event_follows(tmp_path: Path) -> None:
    data = tmp_path / "data"
    data.mkdir()
    path = data / "audit.sqlite"
    _old_log(path, 3)
    log = AuditLog(path, masker=str)
    log.append("search", actor="desk-2", role="staff", query="住民票")
    log.close()
    # Rewrite event 2 and recompute the plain chain of the old part, as its format allows.
    db = sqlite3.connect(path)
    db.execute("DROP TRIGGER audit_no_update")
    db.execute("UPDATE audit SET query = 'changed' WHERE id = 2")
    prev = db.execute("SELECT hash FROM audit WHERE id = 1").fetchone()[0]
    for i in (2, 3):
        row = db.execute(
            "SELECT id, created_at, actor, role, action, query FROM audit WHERE id = ?", (i,)
        ).fetchone()
        payload = json.dumps(
            [*row, ["faq:F1"], "", prev], ensure_ascii=False, separators=(",", ":")
        )
        digest = hashlib.sha256(payload.encode("utf-8")).hexdigest()
        db.execute("UPDATE audit SET prev_hash = ?, hash = ? WHERE id = ?", (prev, digest, i))
        prev = digest
    db.commit()
    db.close()
    problems = AuditLog(path, masker=str).verify().problems
    assert "event 4: does not link to the event before it" in problems
    assert any(p.startswith("event 3: its hash is not the one anchored") for p in problems)


def test_an_unkeyed_event_after_keyed_ones_is_reported(tmp_path: Path) -> None:
    data = tmp_path / "data"
    data.mkdir()
    log = AuditLog(data / "audit.sqlite", masker=str)
    for q in ("a", "b"):
        log.append("search", actor="desk-1", role="staff", query=q)
    log.close()
    db = sqlite3.connect(data / "audit.sqlite")
    db.execute("DROP TRIGGER audit_no_update")
    db.execute("UPDATE audit SET chain = 'sha256' WHERE id = 2")
    db.commit()
    db.close()
    problems = AuditLog(data / "audit.sqlite", masker=str).verify().problems
    assert any(p.startswith("event 2: not signed with the key although") for p in problems)
