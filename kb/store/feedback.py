"""``feedback.sqlite``: the append-only log of staff and citizen feedback."""

from __future__ import annotations

import json
from pathlib import Path

from kb.store.sqlite import SideDatabase, write_transaction
from kb.store.types import FeedbackRecord


class FeedbackStore(SideDatabase):
    """Append-only feedback log in its own SQLite file (``DATA_DIR/feedback.sqlite``).

    It lives apart from ``kb.sqlite`` so that ingests and index snapshots never copy or lock
    it, and rows are only ever inserted: the trainer and analytics read a faithful history.

    Args:
        path: Database file; ``None`` for an in-memory database (tests).
    """

    def __init__(self, path: Path | None = None) -> None:
        super().__init__(
            path,
            "feedback",
            {
                "id": int,
                "created_at": str,
                "source": str,
                "query": str,
                "shown": str,
                "helped_id": str,
                "right_department": str,
                "helpful": int,
                "actor": str,
            },
            index=["created_at"],
        )
        # The department vote reads the 「正しい担当課」 records alone, and the widget's
        # anonymous 「役に立った」 records may be most of the table: read them by this index.
        with self._lock, write_transaction(self._db):
            self._db.execute(
                "create index if not exists feedback_right_department on feedback(id) "
                "where right_department != ''"
            )

    def add(self, record: FeedbackRecord) -> FeedbackRecord:
        """Append ``record``; returns it with its id and time filled in.

        Args:
            record: The feedback; its ``id`` is ignored, an empty ``created_at`` means now.

        Returns:
            The record as stored.
        """
        import datetime as dt

        created = record.created_at or dt.datetime.now(dt.UTC).isoformat(timespec="milliseconds")
        row = {
            "created_at": created,
            "source": record.source,
            "query": record.query,
            "shown": json.dumps(list(record.shown), ensure_ascii=False),
            "helped_id": record.helped_id,
            "right_department": record.right_department,
            "helpful": None if record.helpful is None else int(record.helpful),
            "actor": record.actor,
        }
        with self._lock, write_transaction(self._db):
            table = self._db.table("feedback").insert(row)
            rowid = int(table.last_rowid or 0)
        return FeedbackRecord(
            source=record.source,
            query=record.query,
            shown=record.shown,
            helped_id=record.helped_id,
            right_department=record.right_department,
            helpful=record.helpful,
            created_at=created,
            id=rowid,
            actor=record.actor,
        )

    def recent(self, limit: int = 100) -> list[FeedbackRecord]:
        """The latest ``limit`` records, newest first.

        Args:
            limit: How many records at most.

        Returns:
            The records.
        """
        with self._lock:
            rows = list(self._db.query("select * from feedback order by id desc limit ?", [limit]))
        return [
            FeedbackRecord(
                source=r["source"],
                query=r["query"],
                shown=tuple(json.loads(r["shown"] or "[]")),
                helped_id=r["helped_id"] or "",
                right_department=r["right_department"] or "",
                helpful=None if r["helpful"] is None else bool(r["helpful"]),
                created_at=r["created_at"],
                id=int(r["id"]),
                actor=r.get("actor") or "",
            )
            for r in rows
        ]

    def count(self) -> int:
        """How many records there are."""
        with self._lock:
            return int(self._db.execute("select count(*) from feedback").fetchone()[0])

    def max_id(self) -> int:
        """The id of the latest record (0 when empty): a cheap "anything new?" check."""
        with self._lock:
            return int(self._db.execute("select coalesce(max(id), 0) from feedback").fetchone()[0])

    def department_labels(
        self, after_id: int = 0, up_to_id: int | None = None
    ) -> list[tuple[int, str, str, str]]:
        """``(id, query, right department, actor)`` of 「正しい担当課は…」 records after
        ``after_id`` (the actor is empty for records from before it was kept).

        Args:
            after_id: Only records with a larger id.
            up_to_id: Only records with this id or a smaller one (``None``: every later one).

        Returns:
            The tuples in id order.
        """
        with self._lock:
            rows = self._db.execute(
                "select id, query, right_department, actor from feedback indexed by "
                "feedback_right_department where id > ? and id <= ? and right_department != '' "
                "order by id",
                [after_id, up_to_id if up_to_id is not None else 2**62],
            ).fetchall()
        return [(int(r[0]), str(r[1]), str(r[2]), str(r[3] or "")) for r in rows]
