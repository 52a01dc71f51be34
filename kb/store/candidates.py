"""``trainer.sqlite``: draft FAQ entries (new ones and revisions) and their approval state."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from kb.store.sqlite import SideDatabase, while_locked, write_transaction
from kb.store.types import FaqCandidate

_COLUMNS: dict[str, type] = {
    "id": str,
    "topic_id": str,
    "question": str,
    "answer": str,
    "department": str,
    "category": str,
    "source_cases": str,
    "status": str,
    "created_at": str,
    "approved_at": str,
    # Added with the FAQ lifecycle (revisions, second approver, rejection): a file written
    # before has these columns added, empty, when it is opened.
    "target": str,
    "url": str,
    "owner": str,
    "updated": str,
    "expires": str,
    "edited_by": str,
    "approvals": str,
    "rejected_by": str,
    "rejected_at": str,
    "reason": str,
}


class FaqCandidateStore(SideDatabase):
    """Draft FAQ entries and their approval state (``DATA_DIR/trainer.sqlite``).

    Args:
        path: Database file; ``None`` for an in-memory database (tests).
    """

    def __init__(self, path: Path | None = None) -> None:
        super().__init__(path, "faq_candidates", dict(_COLUMNS))
        table = self._db.table("faq_candidates")

        def add_missing() -> None:
            present = table.columns_dict
            for name, kind in _COLUMNS.items():
                if name not in present:
                    table.add_column(name, kind)

        while_locked(add_missing)

    @staticmethod
    def _row(c: FaqCandidate) -> dict[str, Any]:
        return {
            "id": c.id,
            "topic_id": c.topic_id,
            "question": c.question,
            "answer": c.answer,
            "department": c.department,
            "category": c.category,
            "source_cases": json.dumps(list(c.source_cases), ensure_ascii=False),
            "status": c.status,
            "created_at": c.created_at,
            "approved_at": c.approved_at,
            "target": c.target,
            "url": c.url,
            "owner": c.owner,
            "updated": c.updated,
            "expires": c.expires,
            "edited_by": c.edited_by,
            "approvals": json.dumps(list(c.approvals), ensure_ascii=False),
            "rejected_by": c.rejected_by,
            "rejected_at": c.rejected_at,
            "reason": c.reason,
        }

    @staticmethod
    def _candidate(r: dict[str, Any]) -> FaqCandidate:
        return FaqCandidate(
            id=r["id"],
            topic_id=r["topic_id"] or "",
            question=r["question"],
            answer=r["answer"],
            department=r["department"] or "",
            category=r["category"] or "",
            source_cases=tuple(json.loads(r["source_cases"] or "[]")),
            status=r["status"],
            created_at=r["created_at"] or "",
            approved_at=r["approved_at"] or "",
            target=r.get("target") or "",
            url=r.get("url") or "",
            owner=r.get("owner") or "",
            updated=r.get("updated") or "",
            expires=r.get("expires") or "",
            edited_by=r.get("edited_by") or "",
            approvals=tuple(json.loads(r.get("approvals") or "[]")),
            rejected_by=r.get("rejected_by") or "",
            rejected_at=r.get("rejected_at") or "",
            reason=r.get("reason") or "",
        )

    def next_id(self) -> str:
        """The id for a new candidate: ``"FC0001"``, ``"FC0002"``...

        One more than the highest id, not than the count: an erasure removes candidates
        (:mod:`kb.index.erase`), and a reused id would overwrite the entry that holds it.
        """
        with self._lock:
            row = self._db.execute(
                "select max(cast(substr(id, 3) as integer)) from faq_candidates where id like 'FC%'"
            ).fetchone()
        return f"FC{int(row[0] or 0) + 1:04d}"

    def save(self, candidate: FaqCandidate) -> FaqCandidate:
        """Insert or replace ``candidate`` (keyed by its id).

        Args:
            candidate: The draft, approved or rejected entry.

        Returns:
            ``candidate``.
        """
        with self._lock, write_transaction(self._db):
            self._db.table("faq_candidates").upsert(self._row(candidate), pk="id")
        return candidate

    def get(self, candidate_id: str) -> FaqCandidate | None:
        """The candidate with id ``candidate_id``, or ``None``."""
        with self._lock:
            rows = list(self._db.query("select * from faq_candidates where id = ?", [candidate_id]))
        return self._candidate(rows[0]) if rows else None

    def open_revision(self, faq_id: str) -> FaqCandidate | None:
        """The draft that revises the FAQ entry ``faq_id`` (a local id), if there is one."""
        with self._lock:
            rows = list(
                self._db.query(
                    "select * from faq_candidates where target = ? and status = 'draft' "
                    "order by id limit 1",
                    [faq_id],
                )
            )
        return self._candidate(rows[0]) if rows else None

    def all(self) -> list[FaqCandidate]:
        """Every candidate, in id order."""
        with self._lock:
            rows = list(self._db.query("select * from faq_candidates order by id"))
        return [self._candidate(r) for r in rows]
