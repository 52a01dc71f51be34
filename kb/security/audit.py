"""The audit log: who searched what, which records they saw or opened, what admins did.

Append-only, in its own SQLite file (``DATA_DIR/audit.sqlite``), and tamper-evident three ways:

* triggers make SQLite itself refuse ``UPDATE`` and ``DELETE`` on the table, for every client
  of the file, not only for kb's own code; no API route writes anything but new events;
* every event carries an HMAC-SHA256 (:mod:`kb.security.audit_key`, a key kept outside
  ``DATA_DIR``) of its content and of the previous event's hash: an edit made behind SQLite's
  back breaks the chain at that event, and without the key the chain cannot be recomputed;
* every append also writes the new head (sequence number, hash, time) to an append-only
  anchor file outside ``DATA_DIR`` (:mod:`kb.security.audit_anchor`), before the event is
  committed: deleted, inserted or re-chained events and a truncated end show up against it.

``kb audit verify`` (:meth:`AuditLog.verify`) checks all three. Logs written before the key
existed (plain SHA-256, ``chain = 'sha256'``) stay readable and verifiable: their events keep
their hashes, the first keyed event links to the last of them and the anchor records that
head, so the old part cannot be re-chained either once a keyed event follows it.

Queries are masked with :func:`kb.text.masking.mask_personal` before they are written: the log
says *that* a counsellor searched for 「[電話番号]に電話した母が…」, not the number itself.
"""

from __future__ import annotations

import datetime as dt
import json
import logging
import secrets
import sqlite3
import threading
from collections.abc import Callable, Iterator, Sequence
from dataclasses import asdict
from pathlib import Path

from kb.errors import AuditError
from kb.messages import msg
from kb.security._sqlite import connect
from kb.security.audit_anchor import Anchor, compare
from kb.security.audit_chain import (
    CHAIN_HMAC,
    CHAIN_SHA256,
    GENESIS,
    AuditEvent,
    Verification,
    payload,
    unfinished,
    walk,
)
from kb.security.audit_export import FIELDS, export, parse_since
from kb.security.audit_ids import ClientText
from kb.security.audit_key import AuditKey, key_from_value, load_key
from kb.security.audit_rows import lenient_text, row_event, stored_text
from kb.settings import Settings, default_audit_dir
from kb.store import while_locked

__all__ = [
    "CHAIN_HMAC",
    "CHAIN_SHA256",
    "FIELDS",
    "GENESIS",
    "AuditEvent",
    "AuditLog",
    "Verification",
    "export",
    "parse_since",
]

log = logging.getLogger(__name__)

MAX_DETAIL_CHARS = 2000
"""Longest detail an event keeps (a withdrawal's reason is at most 1,000 characters)."""
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
    hash TEXT NOT NULL,
    chain TEXT NOT NULL DEFAULT 'sha256'
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
CREATE TABLE IF NOT EXISTS audit_meta (name TEXT PRIMARY KEY, value TEXT NOT NULL);
CREATE TRIGGER IF NOT EXISTS audit_meta_no_update BEFORE UPDATE ON audit_meta
BEGIN
    SELECT RAISE(ABORT, 'the audit log is append-only: its key id cannot be changed');
END;
CREATE TRIGGER IF NOT EXISTS audit_meta_no_delete BEFORE DELETE ON audit_meta
BEGIN
    SELECT RAISE(ABORT, 'the audit log is append-only: its key id cannot be deleted');
END;
"""

Masker = Callable[[str], str]


def _default_masker() -> Masker:
    from kb.text.masking import mask_personal
    from kb.text.mecab import MeCabTokenizer

    tokenizer = MeCabTokenizer()
    return lambda text: mask_personal(text, tokenizer)


def _inside(path: Path, folder: Path) -> bool:
    return path.expanduser().resolve().is_relative_to(folder.expanduser().resolve())


class AuditLog:
    """The append-only audit log.

    Args:
        path: Database file; ``None`` for an in-memory log (tests).
        masker: Turns a query into what may be stored; default
            :func:`kb.text.masking.mask_personal` with its own MeCab tokenizer (made on first use).
        key: The HMAC key itself (``KB_AUDIT_KEY``); default: read from ``key_file``. An
            in-memory log without one gets a random key of its own.
        key_file: The key file (default ``<DATA_DIR>-audit/audit.key`` beside the database's
            folder), created on first use while the log holds no keyed event.
        anchor: The anchor file (default ``<DATA_DIR>-audit/audit.anchor``; an in-memory log
            has none unless given).
        syslog: Also send the head to syslog at every append.
    """

    def __init__(
        self,
        path: Path | None = None,
        *,
        masker: Masker | None = None,
        key: str | AuditKey | None = None,
        key_file: Path | None = None,
        anchor: Path | None = None,
        syslog: bool = False,
    ) -> None:
        self.path = path
        self._masker = masker
        self._client = ClientText()
        self._lock = threading.Lock()
        if isinstance(key, str):
            key = key_from_value(key)
        if key is None and path is None:
            key = AuditKey(secrets.token_bytes(32), "in-memory")
        self._key: AuditKey | None = key
        self._key_checked = False
        audit_dir = default_audit_dir(path.parent) if path is not None else None
        self.key_file = key_file or (audit_dir / "audit.key" if audit_dir else None)
        anchor_path = anchor or (audit_dir / "audit.anchor" if audit_dir else None)
        self.anchor = (
            Anchor(anchor_path, log_path=path, syslog=syslog) if anchor_path is not None else None
        )
        # Every search appends an event: NORMAL keeps an append at ~0.2 ms instead of an fsync
        # each (p95 12 ms on a busy 2-core box, serialized across requests). A killed process
        # loses nothing; a power cut may lose the last events before a WAL checkpoint.
        self._db = connect(path, synchronous="NORMAL")
        # A value edited outside kb may not be UTF-8: read, so that verify reports it.
        self._db.text_factory = lenient_text
        with self._lock:
            # Every worker of `kb serve --workers N` may open a fresh file at once.
            while_locked(self._create_or_upgrade)

    @classmethod
    def from_settings(cls, settings: Settings, *, masker: Masker | None = None) -> AuditLog:
        """The log of ``settings.data_dir`` with its configured key and anchor, key loaded.

        Raises:
            AuditError: The key file lies inside ``DATA_DIR``, or the key is missing,
                unreadable, too loose, or not the key the log was written with.
        """
        secret = settings.audit_key.get_secret_value() if settings.audit_key else None
        if secret is None and _inside(settings.audit_key_path, settings.data_dir):
            raise AuditError(
                f"{settings.audit_key_path}: the audit key file must not be inside the data "
                f"directory {settings.data_dir} (a copy of it would carry the key); move it and "
                "set KB_AUDIT_KEY_FILE"
            )
        if _inside(settings.audit_anchor_path, settings.data_dir):
            log.warning(
                "the audit anchor %s is inside the data directory: keep it elsewhere "
                "(KB_AUDIT_ANCHOR) so that whoever can rewrite DATA_DIR cannot rewrite it too",
                settings.audit_anchor_path,
            )
        audit = cls(
            settings.audit_path,
            masker=masker,
            key=secret,
            key_file=settings.audit_key_path,
            anchor=settings.audit_anchor_path,
            syslog=settings.audit_syslog,
        )
        try:
            audit.ensure_key()
        except BaseException:
            audit.close()
            raise
        return audit

    def _create_or_upgrade(self) -> None:
        self._db.executescript(_SCHEMA)
        columns = {row[1] for row in self._db.execute("PRAGMA table_info(audit)")}
        if "chain" not in columns:
            # A log from before the key: its events keep their plain SHA-256 hashes.
            self._db.execute("BEGIN IMMEDIATE")
            try:
                columns = {row[1] for row in self._db.execute("PRAGMA table_info(audit)")}
                if "chain" not in columns:
                    self._db.execute(
                        "ALTER TABLE audit ADD COLUMN chain TEXT NOT NULL DEFAULT 'sha256'"
                    )
                self._db.execute("COMMIT")
            except BaseException:
                self._db.execute("ROLLBACK")
                raise

    def _stored_key_id(self) -> str:
        row = self._db.execute("SELECT value FROM audit_meta WHERE name = 'key_id'").fetchone()
        return str(row["value"]) if row else ""

    def ensure_key(self) -> AuditKey:
        """The HMAC key, loaded (or, for a log without keyed events, created) on first use.

        Raises:
            AuditError: No key is configured, the key file is missing although keyed events
                exist, unusable, or holds another key than the one the log was written with.
        """
        with self._lock:
            return self._ensure_key()

    def _ensure_key(self) -> AuditKey:
        if self._key is not None and self._key_checked:
            return self._key
        key = self._load_key()
        stored = self._stored_key_id()
        if stored and stored != key.key_id:
            raise AuditError(
                f"the audit key from {key.source} (id {key.key_id}) is not the key "
                f"{self.path} was written with (id {stored}): point KB_AUDIT_KEY_FILE or "
                "KB_AUDIT_KEY at the right key"
            )
        self._key_checked = True
        return key

    def _load_key(self) -> AuditKey:
        """The configured key, created only for a log that has never had one."""
        if self._key is None:
            stored = self._stored_key_id()
            if self.key_file is None:
                raise AuditError("no audit key configured (KB_AUDIT_KEY or KB_AUDIT_KEY_FILE)")
            keyed = self._db.execute(
                "SELECT count(*) FROM audit WHERE chain = ?", (CHAIN_HMAC,)
            ).fetchone()[0]
            if not self.key_file.exists() and (stored or keyed):
                raise AuditError(
                    msg(
                        "audit.key_missing_signed",
                        path=self.key_file,
                        keyed=keyed,
                        log=self.path,
                        key_id=stored or "?",
                    )
                )
            self._key = load_key(self.key_file, create=True)
        return self._key

    def mask_text(self, text: str) -> str:
        """``text`` with personal data masked, its wording kept: what a client wrote for an
        event's detail (a withdrawal's reason)."""
        return self._client.text(text)

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
        """Write one event, anchor it, and return it as stored.

        Its query is masked, and so is an id that holds personal data: an id a client typed in
        a path lands here before anything checks it, and the log is never pruned. The ids kb
        stores never change so (an id with personal data is refused at ingest; a record number
        is no phone number), nor do the staff surnames of manuals' file names. Detail is kb's
        own text (a build's name, a file's): callers mask what a client wrote in it
        (:meth:`mask_text`); it is cut at :data:`MAX_DETAIL_CHARS`.

        Raises:
            AuditError: The key is unusable or the anchor cannot be written; nothing is stored.
        """
        masked = self._mask(query)
        ids = tuple(self._client.doc_id(i) for i in ids)
        detail = detail[:MAX_DETAIL_CHARS]
        with self._lock:
            key = self._ensure_key()
            # IMMEDIATE takes the write lock first, so the server and the CLI never chain two
            # events onto the same predecessor, and write their anchor lines in chain order.
            self._db.execute("BEGIN IMMEDIATE")
            # Under the write lock no other writer can extend the anchor file: its size now is
            # where a failed append cuts it back to, so an anchored event whose commit then
            # fails (a full disk) leaves no line that a later event would contradict.
            anchored = self.anchor.size() if self.anchor is not None else 0
            try:
                event = self._insert(key, action, actor, role, masked, ids, detail)
                self._db.execute("COMMIT")
            except BaseException as exc:
                if self.anchor is not None:
                    self.anchor.cut(anchored)
                if self._db.in_transaction:  # a failed COMMIT may have rolled back already
                    self._db.execute("ROLLBACK")
                if isinstance(exc, sqlite3.Error):
                    raise AuditError(
                        f"{self.path}: cannot write the audit log ({exc}); nothing was recorded. "
                        "Check the disk"
                    ) from exc
                raise
        if self.anchor is not None:
            self.anchor.to_syslog(event.id, event.hash)
        return event

    def _insert(
        self,
        key: AuditKey,
        action: str,
        actor: str,
        role: str,
        query: str,
        ids: tuple[str, ...],
        detail: str,
    ) -> AuditEvent:
        """Insert the next event and anchor it, inside the caller's write transaction."""
        last = self._db.execute(
            "SELECT id, hash, chain, created_at FROM audit ORDER BY id DESC LIMIT 1"
        ).fetchone()
        seq = self._db.execute("SELECT seq FROM sqlite_sequence WHERE name = 'audit'").fetchone()
        if not self._stored_key_id():
            self._db.execute(
                "INSERT INTO audit_meta (name, value) VALUES ('key_id', ?)", (key.key_id,)
            )
        if last is not None and last["chain"] != CHAIN_HMAC and self.anchor is not None:
            # The first keyed event after an old plain SHA-256 log: anchor the old head too.
            self.anchor.append(
                int(last["id"]), stored_text(last["hash"]), stored_text(last["created_at"])
            )
        prev_hash = stored_text(last["hash"]) if last else GENESIS
        event = AuditEvent(
            action=action,
            actor=actor,
            role=role,
            query=query,
            ids=ids,
            detail=detail,
            created_at=dt.datetime.now(dt.UTC).isoformat(timespec="milliseconds"),
            id=(int(seq["seq"]) if seq else 0) + 1,
            prev_hash=prev_hash,
        )
        digest = key.sign(payload(event, prev_hash))
        self._db.execute(
            "INSERT INTO audit (id, created_at, actor, role, action, query, ids, detail,"
            " prev_hash, hash, chain) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
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
                CHAIN_HMAC,
            ),
        )
        if self.anchor is not None:
            # Before COMMIT: an event that is not anchored never counts as written.
            self.anchor.append(event.id, digest, event.created_at)
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
            yield row_event(row)

    def count(self) -> int:
        with self._lock:
            return int(self._db.execute("SELECT count(*) FROM audit").fetchone()[0])

    def verify(self, *, anchor: Path | None = None) -> Verification:
        """Check the chain, the HMACs and the anchor; name every event that does not match.

        Args:
            anchor: Compare with this anchor file instead of the configured one (a backup
                copy, or lines collected from syslog).

        Raises:
            AuditError: The log has keyed events and the key is missing or unusable.
        """
        checked = Anchor(anchor) if anchor is not None else self.anchor
        with self._lock:
            # The head and the anchor's length under the write lock, which every append holds
            # while it writes its anchor line: the two then describe the same moment, and
            # events appended while this runs are left out of both.
            self._db.execute("BEGIN IMMEDIATE")
            try:
                last = int(self._db.execute("SELECT coalesce(max(id), 0) FROM audit").fetchone()[0])
                size = checked.size() if checked is not None and anchor is None else None
            finally:
                self._db.execute("COMMIT")
            rows = self._db.execute(
                "SELECT * FROM audit WHERE id <= ? ORDER BY id", (last,)
            ).fetchall()
            stored_key_id = self._stored_key_id()
            keyed_seqs = [int(row["id"]) for row in rows if row["chain"] == CHAIN_HMAC]
            key = self._load_key() if keyed_seqs or stored_key_id else self._key
        events = [row_event(row) for row in rows]
        problems: list[str] = []
        if key is not None and stored_key_id and stored_key_id != key.key_id:
            problems.append(
                f"the log was written with the key id {stored_key_id}, but the key from "
                f"{key.source} has the id {key.key_id}: the wrong key is configured, or the "
                "log was replaced"
            )
        problems.extend(walk(events, key))
        anchored = 0
        if checked is not None:
            read = checked.read(limit=size)
            anchored = max((e.seq for e in read.entries), default=0)
            if not checked.exists() and keyed_seqs:
                problems.append(
                    f"{checked.path}: the anchor file is missing, so deleted or truncated events "
                    f"cannot be ruled out for the {len(keyed_seqs)} keyed event(s); restore it "
                    "from its backup"
                )
            else:
                hashes = {e.id: e.hash for e in events}
                # A copy (a backup's, the off-site one) vouches for the log up to its last
                # line; the events after it are not covered by it, not inserted.
                covered = keyed_seqs if anchor is None else [s for s in keyed_seqs if s <= anchored]
                problems.extend(compare(hashes, covered, read, checked.path))
        return Verification(
            events=len(events),
            head=events[-1].hash if events else GENESIS,
            problems=tuple(problems),
            keyed=len(keyed_seqs),
            key_id=key.key_id if key is not None else "",
            anchor=str(checked.path) if checked is not None else "",
            anchored=anchored,
            unfinished=unfinished(events),
        )

    def close(self) -> None:
        with self._lock:
            self._db.close()
