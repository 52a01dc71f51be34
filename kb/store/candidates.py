"""``trainer.sqlite``: draft FAQ entries and their approval state."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from kb.store.sqlite import SideDatabase
from kb.store.types import FaqCandidate


class FaqCandidateStore(SideDatabase):
    """Draft FAQ entries and their approval state (``DATA_DIR/trainer.sqlite``).

    Args:
        path: Database file; ``None`` for an in-memory database (tests).
    """

    def __init__(self, path: Path | None = None) -> None:
        super().__init__(
            path,
            "faq_candidates",
            {
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
            },
        )

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
        }

    def next_id(self) -> str:
        """The id for a new candidate: ``"FC0001"``, ``"FC0002"``..."""
        with self._lock:
            n = int(self._db.execute("select count(*) from faq_candidates").fetchone()[0])
        return f"FC{n + 1:04d}"

    def save(self, candidate: FaqCandidate) -> FaqCandidate:
        """Insert or replace ``candidate`` (keyed by its id).

        Args:
            candidate: The draft or approved entry.

        Returns:
            ``candidate``.
        """
        with self._lock, self._db.atomic():
            self._db.table("faq_candidates").upsert(self._row(candidate), pk="id")
        return candidate

    def get(self, candidate_id: str) -> FaqCandidate | None:
        """The candidate with id ``candidate_id``, or ``None``."""
        return next((c for c in self.all() if c.id == candidate_id), None)

    def all(self) -> list[FaqCandidate]:
        """Every candidate, in id order."""
        with self._lock:
            rows = list(self._db.query("select * from faq_candidates order by id"))
        return [
            FaqCandidate(
                id=r["id"],
                topic_id=r["topic_id"],
                question=r["question"],
                answer=r["answer"],
                department=r["department"] or "",
                category=r["category"] or "",
                source_cases=tuple(json.loads(r["source_cases"] or "[]")),
                status=r["status"],
                created_at=r["created_at"] or "",
                approved_at=r["approved_at"] or "",
            )
            for r in rows
        ]
