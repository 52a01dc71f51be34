"""Removing consultation records: erasure (:mod:`kb.index.remove`) and retention (``kb prune``).

A mixin of :class:`kb.store.records.RecordStore`, kept apart so that the store's everyday
reads and writes stay short. Removed rows are zeroed in the file (the connection deletes with
``secure_delete``); the caller truncates the write-ahead log after (:meth:`compact`). A removed
number is *retired*: the store never hands it out again (``retired`` table), so an id in the
audit log keeps naming one consultation.
"""

from __future__ import annotations

import contextlib
import json
import sqlite3
import threading
from collections.abc import Iterator, Sequence
from typing import Any

from kb.store.sqlite import write_transaction

CLOSED = "完了"
"""A closed record's status (:data:`kb.store.records.CLOSED`)."""


def ids_of(value: str | None) -> tuple[str, ...]:
    """A JSON list of ids as stored in a column."""
    return tuple(json.loads(value or "[]"))


def record_number(record_id: str) -> int | None:
    """The row key of ``R000001`` (1), or ``None`` when it is no record id."""
    if (
        len(record_id) == 7
        and record_id[0] == "R"
        and record_id[1:].isascii()
        and record_id[1:].isdigit()
    ):
        return int(record_id[1:])
    return None


class RecordRemoval:
    """Removal of records and hand-offs (mixed into :class:`~kb.store.records.RecordStore`)."""

    _db: Any
    _lock: threading.Lock

    @contextlib.contextmanager
    def _immediate(self) -> Iterator[sqlite3.Connection]:
        """One ``BEGIN IMMEDIATE`` transaction (see :meth:`_write`) around several statements."""
        with self._lock, write_transaction(self._db):
            yield self._db.conn

    @staticmethod
    def _retire(conn: sqlite3.Connection, table: str, numbers: Sequence[int]) -> None:
        if numbers:
            conn.execute(
                "insert into retired (name, n) values (?, ?) "
                "on conflict(name) do update set n = max(n, excluded.n)",
                [table, max(numbers)],
            )

    def remove_records(self, record_ids: Sequence[str]) -> tuple[int, int]:
        """Remove records and the hand-offs written from them, in one transaction.

        The rows are zeroed in the file (``secure_delete``); their numbers are never handed out
        again. Call :meth:`compact` after, so the write-ahead log keeps no copy either.

        Args:
            record_ids: ``R000001``...; unknown ones are ignored.

        Returns:
            How many records and hand-offs were removed.
        """
        numbers = [n for n in map(record_number, record_ids) if n is not None]
        if not numbers:
            return 0, 0
        marks = ",".join("?" * len(numbers))
        ids = [f"R{n:06d}" for n in numbers]
        with self._immediate() as conn:
            found = [
                r[0] for r in conn.execute(f"select n from records where n in ({marks})", numbers)
            ]
            sheets = [
                r[0]
                for r in conn.execute(f"select n from handoffs where record_id in ({marks})", ids)
            ]
            conn.execute(f"delete from records where n in ({marks})", numbers)
            conn.execute(f"delete from handoffs where record_id in ({marks})", ids)
            self._retire(conn, "records", found)
            self._retire(conn, "handoffs", sheets)
        return len(found), len(sheets)

    def search_handoff_texts(self) -> list[tuple[str, tuple[str, ...]]]:
        """The hand-offs written from a search alone (no record): ``(id, their texts)``."""
        with self._lock:
            rows = self._db.conn.execute(
                "select n, summary, heard, done, bring from handoffs where record_id = ''"
            ).fetchall()
        return [(f"H{n:06d}", tuple(t for t in texts if t)) for n, *texts in rows]

    def remove_handoffs(self, handoff_ids: Sequence[str]) -> int:
        """Remove hand-offs by id (``H000001``), their numbers retired; how many went."""
        numbers = [
            int(h[1:]) for h in handoff_ids if len(h) == 7 and h[1:].isascii() and h[1:].isdigit()
        ]
        if not numbers:
            return 0
        marks = ",".join("?" * len(numbers))
        with self._immediate() as conn:
            found = [
                r[0] for r in conn.execute(f"select n from handoffs where n in ({marks})", numbers)
            ]
            conn.execute(f"delete from handoffs where n in ({marks})", numbers)
            self._retire(conn, "handoffs", found)
        return len(found)

    def forget_cases(self, case_ids: Sequence[str]) -> int:
        """Take erased case ids off the hand-offs that listed them as similar cases.

        Returns:
            How many hand-offs named one of them.
        """
        gone = set(case_ids)
        if not gone:
            return 0
        changed = 0
        with self._immediate() as conn:
            rows = conn.execute("select n, case_ids from handoffs where case_ids != '[]'")
            for n, value in rows.fetchall():
                kept = [i for i in ids_of(value) if i not in gone]
                if len(kept) != len(ids_of(value)):
                    conn.execute(
                        "update handoffs set case_ids = ? where n = ?",
                        [json.dumps(kept, ensure_ascii=False), n],
                    )
                    changed += 1
        return changed

    def prune_closed(self, cutoff: str, *, dry_run: bool = False) -> tuple[list[str], int]:
        """Retention: remove the 完了 records closed before ``cutoff`` and their hand-offs.

        Open records are never pruned (the consultation is not over); hand-offs written from
        a search alone (no record) go when they were written before ``cutoff``.

        Args:
            cutoff: ISO 8601 UTC time (``closed_at`` / ``created_at`` are compared with it).
            dry_run: Only find them.

        Returns:
            The ids of the records removed (or that would be), and how many hand-offs.
        """
        old = "status = ? and closed_at != '' and closed_at < ?"
        with self._immediate() as conn:
            numbers = [
                r[0] for r in conn.execute(f"select n from records where {old}", [CLOSED, cutoff])
            ]
            ids = [f"R{n:06d}" for n in numbers]
            marks = ",".join("?" * len(ids))
            sheets_where = "(record_id = '' and created_at < ?)" + (
                f" or record_id in ({marks})" if ids else ""
            )
            sheets = [
                r[0]
                for r in conn.execute(
                    f"select n from handoffs where {sheets_where}", [cutoff, *ids]
                )
            ]
            if not dry_run:
                conn.execute(f"delete from records where {old}", [CLOSED, cutoff])
                conn.execute(f"delete from handoffs where {sheets_where}", [cutoff, *ids])
                self._retire(conn, "records", numbers)
                self._retire(conn, "handoffs", sheets)
        return ids, len(sheets)
