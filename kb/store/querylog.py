"""``querylog.sqlite``: the append-only log of searches (masked queries and their results)."""

from __future__ import annotations

import json
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from kb.store.sqlite import SideDatabase, while_locked, write_transaction
from kb.store.types import QueryLogRecord


class QueryLogStore(SideDatabase):
    """Append-only log of searches in its own SQLite file (``DATA_DIR/querylog.sqlite``).

    Args:
        path: Database file; ``None`` for an in-memory database (tests).
    """

    def __init__(self, path: Path | None = None) -> None:
        super().__init__(
            path,
            "queries",
            {
                "id": int,
                "created_at": str,
                "source": str,
                "query": str,
                "result_ids": str,
                "scores": str,
                "top_faq_score": float,
                "zero_hit": int,
                "filtered": int,
                "answered": int,
            },
            index=["created_at"],
        )
        self._add_missing_columns()

    def _add_missing_columns(self) -> None:
        """Columns added since the file was created (``filtered``, ``answered``)."""
        import sqlite3

        table = self._db.table("queries")
        for name in ("filtered", "answered"):
            if name in table.columns_dict:
                continue

            def add(column: str = name) -> None:
                table.add_column(column, int)

            try:
                while_locked(add)
            except sqlite3.OperationalError as exc:
                # Another process (`kb serve --workers N`) added it first.
                if "duplicate column" not in str(exc):
                    raise

    def add(self, record: QueryLogRecord) -> QueryLogRecord:
        """Append ``record``; returns it with its id and time filled in.

        Args:
            record: The search; its ``id`` is ignored, an empty ``created_at`` means now.

        Returns:
            The record as stored.
        """
        return self.add_many([record])[0]

    def add_many(self, records: Sequence[QueryLogRecord]) -> list[QueryLogRecord]:
        """Append several records in one transaction (replays, imports).

        Args:
            records: The searches, as :meth:`add` takes them.

        Returns:
            The records as stored, in the same order.
        """
        import dataclasses
        import datetime as dt

        out: list[QueryLogRecord] = []
        with self._lock, write_transaction(self._db):
            for record in records:
                created = record.created_at or dt.datetime.now(dt.UTC).isoformat(
                    timespec="milliseconds"
                )
                table = self._db.table("queries").insert(
                    {
                        "created_at": created,
                        "source": record.source,
                        "query": record.query,
                        "result_ids": json.dumps(list(record.result_ids), ensure_ascii=False),
                        "scores": json.dumps([round(s, 4) for s in record.scores]),
                        "top_faq_score": record.top_faq_score,
                        "zero_hit": int(record.zero_hit),
                        "filtered": int(record.filtered),
                        "answered": None if record.answered is None else int(record.answered),
                    }
                )
                rowid = int(table.last_rowid or 0)
                out.append(dataclasses.replace(record, created_at=created, id=rowid))
        return out

    def records(
        self, *, since: str = "", sources: Sequence[str] = (), latest: int = 0
    ) -> list[QueryLogRecord]:
        """Logged searches in time order, optionally from ``since`` (ISO) and some sources.

        Args:
            since: Only searches at or after this UTC time (ISO 8601); ``""`` for all.
            sources: Only searches from these sources; empty for all.
            latest: Only the latest this many (0: all).

        Returns:
            The records, oldest first.
        """
        sql = "select * from queries where created_at >= ?"
        params: list[Any] = [since]
        if sources:
            sql += f" and source in ({','.join('?' * len(sources))})"
            params.extend(sources)
        with self._lock:
            if latest > 0:
                sql += " order by created_at desc, id desc limit ?"
                rows = list(self._db.query(sql, [*params, latest]))[::-1]
            else:
                rows = list(self._db.query(sql + " order by created_at, id", params))
        return [
            QueryLogRecord(
                source=r["source"],
                query=r["query"],
                result_ids=tuple(json.loads(r["result_ids"] or "[]")),
                scores=tuple(json.loads(r["scores"] or "[]")),
                top_faq_score=r["top_faq_score"],
                zero_hit=bool(r["zero_hit"]),
                filtered=bool(r["filtered"]),
                answered=None if r["answered"] is None else bool(r["answered"]),
                created_at=r["created_at"],
                id=int(r["id"]),
            )
            for r in rows
        ]

    def max_id(self) -> int:
        """The id of the latest logged search (0 when none): changes with every search."""
        with self._lock:
            return int(self._db.execute("select coalesce(max(id), 0) from queries").fetchone()[0])

    def count(self) -> int:
        """How many searches are logged."""
        with self._lock:
            return int(self._db.execute("select count(*) from queries").fetchone()[0])
