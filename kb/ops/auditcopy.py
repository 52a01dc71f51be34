"""The audit log in a backup: its anchor cut at the copied log's head, and its key.

The log itself (``audit.sqlite``) is one of the databases a backup copies. Beside it a backup
carries the anchor (``<DATA_DIR>-audit/audit.anchor``) cut at the copied log's last event:
events appended after the log was copied would otherwise show up in the restored folder as
"anchored but missing from the end of the log". So a restored log verifies (``kb audit
verify``) exactly as the live one did at the moment of the backup.

The HMAC key is **never** in a backup. It lives outside ``DATA_DIR`` so that whoever holds a
copy of the data cannot re-sign an edited log, and a backup is such a copy. A backup records
the key's public id; a restore checks that the key configured where it restores
(``KB_AUDIT_KEY`` / ``KB_AUDIT_KEY_FILE``) has that id before it writes anything, and says
where to put the key kept apart (a password safe, a sealed envelope) when it is missing.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
import re
import sqlite3
from pathlib import Path

from kb.errors import AuditError, BackupError
from kb.messages import msg
from kb.ops.layout import AuditHead, private_dir
from kb.security.audit import AuditLog, Verification
from kb.security.audit_key import AuditKey, key_from_value, read_key_file
from kb.settings import Settings

_SEQ = re.compile(rb"^(\d+) ")


def audit_head(database: Path) -> AuditHead:
    """How far the (copied) audit log goes, read-only: events, last hash, key id."""
    conn = sqlite3.connect(f"file:{database}?mode=ro", uri=True)
    try:
        try:
            events = int(conn.execute("SELECT count(*) FROM audit").fetchone()[0])
            last = conn.execute("SELECT hash FROM audit ORDER BY id DESC LIMIT 1").fetchone()
        except sqlite3.OperationalError:  # no table yet: an empty log
            return AuditHead(events=0, head="", key_id="")
        try:
            row = conn.execute("SELECT value FROM audit_meta WHERE name = 'key_id'").fetchone()
        except sqlite3.OperationalError:  # a log from before the key
            row = None
        return AuditHead(
            events=events, head=str(last[0]) if last else "", key_id=str(row[0]) if row else ""
        )
    finally:
        conn.close()


def last_event(database: Path) -> int:
    """The sequence number of the copied log's last event (0: none)."""
    conn = sqlite3.connect(f"file:{database}?mode=ro", uri=True)
    try:
        row = conn.execute("SELECT coalesce(max(id), 0) FROM audit").fetchone()
        return int(row[0])
    except sqlite3.OperationalError:
        return 0
    finally:
        conn.close()


def deleted_after(database: Path, head: AuditHead | None) -> tuple[str, ...]:
    """The ids a data folder's audit log records as deleted after a backup's last event.

    Only when the log continues the backup's (its event at the backup's last has the same
    hash): a folder with another history tells nothing about that backup. Read-only.
    """
    if head is None or not head.head or not database.is_file():
        return ()
    try:
        conn = sqlite3.connect(f"file:{database}?mode=ro", uri=True)
        try:
            row = conn.execute("SELECT hash FROM audit WHERE id = ?", (head.events,)).fetchone()
            if row is None or row[0] != head.head:
                return ()
            rows = conn.execute(
                "SELECT ids FROM audit WHERE id > ? AND action = 'delete' ORDER BY id",
                (head.events,),
            ).fetchall()
        finally:
            conn.close()
    except sqlite3.Error:
        return ()
    ids: dict[str, None] = {}
    for (text,) in rows:
        with contextlib.suppress(ValueError, TypeError):
            ids.update(dict.fromkeys(str(i) for i in json.loads(text)))
    return tuple(ids)


def copy_anchor(anchor: Path, target: Path, up_to: int) -> tuple[int, str, int]:
    """Copy the anchor's lines up to event ``up_to`` into ``target`` (0600).

    Comment lines and lines that are not anchor lines are kept as they are (``kb audit
    verify`` names the latter, in the copy as in the original); lines of later events are
    left out.

    Returns:
        Bytes written, their SHA-256, and the last event anchored in the copy.
    """
    private_dir(target.parent)
    digest = hashlib.sha256()
    size = anchored = 0
    with anchor.open("rb") as src:
        fd = os.open(target, os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_CLOEXEC, 0o600)
        try:
            for line in src:
                match = _SEQ.match(line)
                if match is not None:
                    seq = int(match[1])
                    if seq > up_to:
                        continue
                    anchored = max(anchored, seq)
                if not line.endswith(b"\n"):
                    continue  # a line being written right now belongs to a later event
                digest.update(line)
                size += len(line)
                os.write(fd, line)
            os.fsync(fd)
        finally:
            os.close(fd)
    return size, digest.hexdigest(), anchored


def configured_key(settings: Settings, key_id: str) -> AuditKey:
    """The audit key configured for ``settings``, checked against the backup's ``key_id``.

    Raises:
        BackupError: No usable key is configured, or it is another key than the one that
            signed the backed-up log.
    """
    try:
        if settings.audit_key is not None:
            key = key_from_value(settings.audit_key.get_secret_value())
        else:
            key = read_key_file(settings.audit_key_path)
    except AuditError as exc:
        raise BackupError(
            msg("restore.key_missing", key_id=key_id, path=settings.audit_key_path, error=exc)
        ) from exc
    if key.key_id != key_id:
        raise BackupError(
            msg("restore.key_mismatch", key_id=key_id, source=key.source, found=key.key_id)
        )
    return key


def verify_copy(database: Path, anchor: Path | None, key: AuditKey | None) -> Verification:
    """``kb audit verify`` of a restored log against its restored anchor, before it serves."""
    log = AuditLog(database, key=key, anchor=anchor)
    try:
        return log.verify()
    finally:
        log.close()


__all__ = ["audit_head", "configured_key", "copy_anchor", "last_event", "verify_copy"]
