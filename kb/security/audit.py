"""The audit log: who searched what, which records they saw or opened, what admins did.

Append-only, in its own SQLite file (``DATA_DIR/audit.sqlite``):

* triggers make SQLite itself refuse ``UPDATE`` and ``DELETE`` on the table, for every client
  of the file, not only for kb's own code; no API route writes anything but new events;
* every event carries the SHA-256 of the previous event and of its own content (a hash
  chain), so an edit made behind SQLite's back (triggers dropped, file patched) breaks the
  chain at that event and ``kb audit verify`` reports it. Removing events from the *end*
  leaves a shorter valid chain: ``kb audit verify`` prints the head hash so an operator can
  note it elsewhere (a ticket, a printed log) and compare later.

Queries are masked with :func:`kb.text.masking.mask_personal` before they are written: the log
says *that* a counsellor searched for 「[電話番号]に電話した母が…」, not the number itself.
"""

from __future__ import annotations

import csv
import datetime as dt
import hashlib
import json
import sqlite3
import threading
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import TextIO

from kb.errors import InputError
from kb.security._sqlite import connect
from kb.store import while_locked

GENESIS = "0" * 64
"""The ``prev_hash`` of the first event."""

FIELDS = ("id", "created_at", "actor", "role", "action", "query", "ids", "detail", "hash")
"""Columns of an export, in order."""

_SCHEMA = """
CREATE TABLE IF NOT EXISTS audit (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    created_at TEXT NOT NULL,
    actor TEXT NOT NULL,
    role TEXT NOT NULL,
    action TEXT NOT NULL,
    query TEXT NOT NULL DEFAULT '',
    ids TEXT NOT NULL DEFAULT '[]',
    detail TEXT NOT NULL DEFAULT '',
    prev_hash TEXT NOT NULL,
    hash TEXT NOT NULL
);
CREATE INDEX IF NOT EXISTS audit_created_at ON audit (created_at);
CREATE TRIGGER IF NOT EXISTS audit_no_update BEFORE UPDATE ON audit
BEGIN
    SELECT RAISE(ABORT, 'the audit log is append-only: events cannot be changed');
END;
CREATE TRIGGER IF NOT EXISTS audit_no_delete BEFORE DELETE ON audit
BEGIN
    SELECT RAISE(ABORT, 'the audit log is append-only: events cannot be deleted');
END;
"""

Masker = Callable[[str], str]


@dataclass(frozen=True)
class AuditEvent:
    """One line of the audit log."""

    action: str
    """``search``, ``open``, ``keys.create``, ``keys.revoke``, ``ingest``, ``build``,
    ``audit.read``, ``auth.denied``..."""
    actor: str
    """The key's name (``cli:<user>`` for commands run on the server)."""
    role: str
    query: str = ""
    """The search text, masked."""
    ids: tuple[str, ...] = ()
    """Doc ids returned or opened (``case:C0012``...), or the names an admin action touched."""
    detail: str = ""
    created_at: str = ""
    id: int = 0
    prev_hash: str = ""
    hash: str = ""

    def as_dict(self) -> dict[str, object]:
        data = asdict(self)
        data["ids"] = list(self.ids)
        return data


@dataclass(frozen=True)
class Verification:
    """What ``kb audit verify`` found."""

    events: int
    head: str
    """Hash of the last event (``GENESIS`` when empty): note it to detect truncation later."""
    problems: tuple[str, ...] = field(default=())

    @property
    def ok(self) -> bool:
        return not self.problems


def _content_hash(event: AuditEvent, prev_hash: str) -> str:
    payload = json.dumps(
        [
            event.id,
            event.created_at,
            event.actor,
            event.role,
            event.action,
            event.query,
            list(event.ids),
            event.detail,
            prev_hash,
        ],
        ensure_ascii=False,
        separators=(",", ":"),
    )
    return hashlib.sha256(payload.encode("utf-8")).hexdigest()


def _row_event(row: sqlite3.Row) -> AuditEvent:
    return AuditEvent(
        action=row["action"],
        actor=row["actor"],
        role=row["role"],
        query=row["query"],
        ids=tuple(json.loads(row["ids"])),
        detail=row["detail"],
        created_at=row["created_at"],
        id=int(row["id"]),
        prev_hash=row["prev_hash"],
        hash=row["hash"],
    )


def parse_since(text: str) -> str:
    """An ISO 8601 date or date-time as the log's UTC timestamp format (naive = UTC).

    Raises:
        InputError: ``text`` is not an ISO date or date-time.
    """
    try:
        when = dt.datetime.fromisoformat(text.strip())
    except ValueError as exc:
        raise InputError(
            "--since",
            f"{text!r} is not an ISO 8601 date or date-time (e.g. 2026-04-01 or "
            "2026-04-01T09:00+09:00)",
        ) from exc
    if when.tzinfo is None:
        when = when.replace(tzinfo=dt.UTC)
    return when.astimezone(dt.UTC).isoformat(timespec="milliseconds")


def _default_masker() -> Masker:
    from kb.text.masking import mask_personal
    from kb.text.mecab import MeCabTokenizer

    tokenizer = MeCabTokenizer()
    return lambda text: mask_personal(text, tokenizer)


class AuditLog:
    """The append-only audit log.

    Args:
        path: Database file; ``None`` for an in-memory log (tests).
        masker: Turns a query into what may be stored; default
            :func:`kb.text.masking.mask_personal` with its own MeCab tokenizer (made on first use).
    """

    def __init__(self, path: Path | None = None, *, masker: Masker | None = None) -> None:
        self.path = path
        self._masker = masker
        self._lock = threading.Lock()
        # Every search appends an event: NORMAL keeps an append at ~0.2 ms instead of an fsync
        # each (p95 12 ms on a busy 2-core box, serialized across requests). A killed process
        # loses nothing; a power cut may lose the last events before a WAL checkpoint.
        self._db = connect(path, synchronous="NORMAL")
        with self._lock:
            # Every worker of `kb serve --workers N` may open a fresh file at once.
            while_locked(lambda: self._db.executescript(_SCHEMA))

    def _mask(self, text: str) -> str:
        if not text:
            return ""
        if self._masker is None:
            self._masker = _default_masker()
        return self._masker(text)

    def append(
        self,
        action: str,
        *,
        actor: str,
        role: str,
        query: str = "",
        ids: Sequence[str] = (),
        detail: str = "",
    ) -> AuditEvent:
        """Write one event (its query masked) and return it as stored."""
        masked = self._mask(query)
        with self._lock:
            # IMMEDIATE takes the write lock first, so the server and the CLI never chain two
            # events onto the same predecessor.
            self._db.execute("BEGIN IMMEDIATE")
            try:
                last = self._db.execute(
                    "SELECT id, hash FROM audit ORDER BY id DESC LIMIT 1"
                ).fetchone()
                prev_hash = last["hash"] if last else GENESIS
                seq = self._db.execute(
                    "SELECT seq FROM sqlite_sequence WHERE name = 'audit'"
                ).fetchone()
                event = AuditEvent(
                    action=action,
                    actor=actor,
                    role=role,
                    query=masked,
                    ids=tuple(ids),
                    detail=detail,
                    created_at=dt.datetime.now(dt.UTC).isoformat(timespec="milliseconds"),
                    id=(int(seq["seq"]) if seq else 0) + 1,
                    prev_hash=prev_hash,
                )
                digest = _content_hash(event, prev_hash)
                self._db.execute(
                    "INSERT INTO audit (id, created_at, actor, role, action, query, ids, detail,"
                    " prev_hash, hash) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                    (
                        event.id,
                        event.created_at,
                        event.actor,
                        event.role,
                        event.action,
                        event.query,
                        json.dumps(list(event.ids), ensure_ascii=False),
                        event.detail,
                        prev_hash,
                        digest,
                    ),
                )
                self._db.execute("COMMIT")
            except BaseException:
                self._db.execute("ROLLBACK")
                raise
        return AuditEvent(**{**asdict(event), "ids": event.ids, "hash": digest})

    def events(
        self, *, since: str = "", until: str = "", limit: int | None = None
    ) -> Iterator[AuditEvent]:
        """Events in order, from ``since`` (inclusive) to ``until`` (exclusive), UTC ISO."""
        sql = "SELECT * FROM audit WHERE created_at >= ?"
        params: list[object] = [since]
        if until:
            sql += " AND created_at < ?"
            params.append(until)
        sql += " ORDER BY id"
        if limit is not None:
            sql += " LIMIT ?"
            params.append(limit)
        with self._lock:
            rows = self._db.execute(sql, params).fetchall()
        for row in rows:
            yield _row_event(row)

    def count(self) -> int:
        with self._lock:
            return int(self._db.execute("SELECT count(*) FROM audit").fetchone()[0])

    def verify(self) -> Verification:
        """Walk the hash chain; report every event whose hash or link does not match."""
        problems: list[str] = []
        prev = GENESIS
        expected_id = 1
        count = 0
        with self._lock:
            rows = self._db.execute("SELECT * FROM audit ORDER BY id").fetchall()
        for row in rows:
            event = _row_event(row)
            count += 1
            if event.id != expected_id:
                problems.append(
                    f"event {event.id}: expected event {expected_id} here (events missing)"
                )
            if event.prev_hash != prev:
                problems.append(f"event {event.id}: does not link to the event before it")
            if _content_hash(event, event.prev_hash) != event.hash:
                problems.append(f"event {event.id}: content does not match its hash (altered)")
            prev = event.hash
            expected_id = event.id + 1
        return Verification(events=count, head=prev, problems=tuple(problems))

    def close(self) -> None:
        with self._lock:
            self._db.close()


def _cell(value: object) -> str:
    """A CSV cell that a spreadsheet will not run as a formula (CSV injection)."""
    text = str(value)
    return "'" + text if text[:1] in ("=", "+", "-", "@", "\t", "\r") else text


def export(events: Iterable[AuditEvent], fmt: str, out: TextIO) -> int:
    """Write ``events`` as ``csv`` or ``jsonl`` to ``out``; returns how many were written.

    CSV cells starting with ``=``, ``+``, ``-`` or ``@`` get a leading ``'`` so that a query
    typed as ``=HYPERLINK(...)`` stays text when the export is opened in a spreadsheet.
    """
    n = 0
    if fmt == "jsonl":
        for event in events:
            row = {k: v for k, v in event.as_dict().items() if k in FIELDS}
            out.write(json.dumps(row, ensure_ascii=False) + "\n")
            n += 1
        return n
    if fmt != "csv":
        raise InputError("--format", f"unknown format {fmt!r}; use csv or jsonl")
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(FIELDS)
    for event in events:
        writer.writerow(
            [
                _cell(v)
                for v in (
                    event.id,
                    event.created_at,
                    event.actor,
                    event.role,
                    event.action,
                    event.query,
                    " ".join(event.ids),
                    event.detail,
                    event.hash,
                )
            ]
        )
        n += 1
    return n
