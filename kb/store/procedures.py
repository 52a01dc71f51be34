"""The ``procedures`` table of ``kb.sqlite``: the life-event procedures (手続き), keyed by id.

Procedures sit beside the documents in the same file, so an index build's snapshot carries
the procedures that were stored with the documents it indexed; they are not chunked or
embedded. :class:`~kb.store.Store` calls these functions with its own connection.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from typing import Any

from kb.types import Procedure

TABLE = "procedures"
_LISTS = ("life_events", "conditions", "documents")
ID_PREFIX = "procedure:"
"""How ``kb delete``, the admin API and ``kb ingest --sync`` name a procedure: ``procedure:P001``
(procedures are not documents: :class:`kb.types.DocId` has no such kind)."""


def procedure_ref(procedure_id: str) -> str:
    """The name of a procedure among document ids (``procedure:P001``)."""
    return ID_PREFIX + procedure_id


def procedure_of(ref: str) -> str | None:
    """The procedure id of ``procedure:P001`` (``P001``), or ``None`` for any other id."""
    kind, sep, local = ref.partition(":")
    return local if sep and local and kind == ID_PREFIX[:-1] else None


def create_procedures_table(db: Any) -> None:
    """Create the ``procedures`` table if it is missing (``db``: a ``sqlite_utils.Database``)."""
    db[TABLE].create(
        {
            "id": str,
            "name": str,
            "department": str,
            "life_events": str,
            "conditions": str,
            "deadline": str,
            "deadline_days": int,
            "documents": str,
            "fee": str,
            "place": str,
            "easy": str,
            "note": str,
            "url": str,
            "source": str,
        },
        pk="id",
        if_not_exists=True,
    )


def procedure_row(p: Procedure) -> dict[str, Any]:
    """The table row of ``p``."""
    return {
        "id": p.id,
        "name": p.name,
        "department": p.department,
        "life_events": json.dumps(list(p.life_events), ensure_ascii=False),
        "conditions": json.dumps(list(p.conditions), ensure_ascii=False),
        "deadline": p.deadline,
        "deadline_days": p.deadline_days,
        "documents": json.dumps(list(p.documents), ensure_ascii=False),
        "fee": p.fee,
        "place": p.where,
        "easy": p.easy,
        "note": p.note,
        "url": p.url,
        "source": p.source,
    }


def row_procedure(row: dict[str, Any]) -> Procedure:
    """The procedure a table row holds."""
    lists = {name: tuple(json.loads(row[name] or "[]")) for name in _LISTS}
    return Procedure(
        id=row["id"],
        name=row["name"] or "",
        department=row["department"] or "",
        life_events=lists["life_events"],
        conditions=lists["conditions"],
        deadline=row["deadline"] or "",
        deadline_days=row["deadline_days"],
        documents=lists["documents"],
        fee=row["fee"] or "",
        where=row["place"] or "",
        easy=row["easy"] or "",
        note=row["note"] or "",
        url=row["url"] or "",
        source=row["source"] or "",
    )


def write_procedures(db: Any, procedures: Sequence[Procedure]) -> int:
    """Insert or replace ``procedures``; return how many were new or different.

    The caller holds the transaction. The ``source`` column (which file and line) is not
    compared: re-reading an unchanged file from another folder changes nothing.
    """
    rows = [procedure_row(p) for p in procedures]
    old: dict[str, dict[str, Any]] = {}
    ids = [r["id"] for r in rows]
    for start in range(0, len(ids), 500):
        part = ids[start : start + 500]
        marks = ",".join("?" * len(part))
        for row in db.query(f"select * from {TABLE} where id in ({marks})", part):
            old[row["id"]] = row

    def same(row: dict[str, Any]) -> bool:
        before = old.get(row["id"])
        return before is not None and all(before[k] == v for k, v in row.items() if k != "source")

    changed = [r for r in rows if not same(r)]
    db[TABLE].upsert_all(rows, pk="id")
    return len(changed)


def read_procedures(db: Any) -> list[Procedure]:
    """Every stored procedure, by id; none from a store written before procedures existed."""
    if TABLE not in db.table_names():
        return []
    return [row_procedure(row) for row in db.query(f"select * from {TABLE} order by id")]


def delete_procedures(db: Any, ids: Sequence[str]) -> int:
    """Remove the procedures ``ids`` (unknown ones are ignored); the caller holds the transaction.

    Returns:
        How many were stored.
    """
    if TABLE not in db.table_names():
        return 0
    return sum(int(db.execute(f"delete from {TABLE} where id = ?", [i]).rowcount) for i in ids)
