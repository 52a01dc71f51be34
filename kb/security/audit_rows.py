"""Reading a stored audit row back as an event (:mod:`kb.security.audit`): a row edited
outside kb (a number or bytes where text was, ids that are no JSON list, text that is no
UTF-8) still reads, so that verify reports it changed instead of crashing."""

from __future__ import annotations

import json
import sqlite3

from kb.errors import AuditError
from kb.messages import msg
from kb.security.audit_chain import AuditEvent


def row_event(row: sqlite3.Row) -> AuditEvent:
    """The event of a stored row. A row edited outside kb (a number or bytes where text was,
    ids that are no JSON list) still reads as an event, whose hash then tells it changed."""
    try:
        return AuditEvent(
            action=stored_text(row["action"]),
            actor=stored_text(row["actor"]),
            role=stored_text(row["role"]),
            query=stored_text(row["query"]),
            ids=_ids(row["ids"]),
            detail=stored_text(row["detail"]),
            created_at=stored_text(row["created_at"]),
            id=int(row["id"]),
            prev_hash=stored_text(row["prev_hash"]),
            hash=stored_text(row["hash"]),
            chain=stored_text(row["chain"]),
        )
    except (IndexError, KeyError, TypeError, ValueError) as exc:
        # A column renamed or dropped, an id that is no number: no event can be read.
        problem = f"{type(exc).__name__}: {exc}"
        raise AuditError(msg("audit.damaged_table", problem=problem)) from exc


def stored_text(value: object) -> str:
    """A stored text value as text; anything else written differently from any text kb
    stores (bytes as ``0x…``), so that the event's hash no longer matches."""
    if isinstance(value, str):
        return value
    if isinstance(value, bytes):
        return "0x" + value.hex()
    return "" if value is None else repr(value)


def _ids(value: object) -> tuple[str, ...]:
    """The stored JSON list of ids; a value that is none as one text (its hash then fails)."""
    try:
        ids = json.loads(value) if isinstance(value, str) else None
    except ValueError:
        ids = None
    if isinstance(ids, list) and all(isinstance(i, str) for i in ids):
        return tuple(ids)
    return (stored_text(value),)


def lenient_text(data: bytes) -> str:
    """SQLite text as Python text, bytes that are not UTF-8 replaced (an edited row)."""
    return data.decode("utf-8", "replace")
