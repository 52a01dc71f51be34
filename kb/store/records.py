"""``records.sqlite``: consultation records (相談記録) and their hand-off sheets (引継ぎ票).

Everything stored here has been masked by :mod:`kb.desk.records` before it arrives: the free
text of a record or a hand-off holds placeholders (``[氏名]``, ``[電話番号]``), never the
citizen's personal data. A citizen's name and phone number put on a printed hand-off sheet
are never written here (they travel in the print request only).

Record ids are ``R000001``, ``R000002``...; hand-off ids ``H000001``... (the integer key of
the row, so two servers writing at once never hand out the same id). A number is never handed
out twice: one removed (erasure, retention) stays retired, so the audit log's ids keep meaning
one consultation each.

A closed record becomes the case document ``case:desk-R000001`` of the knowledge base: the
``desk-`` prefix (:data:`CASE_PREFIX`) keeps the desk's cases apart from the case ids of a
city's own files (``R000001`` is a plausible city number), and ingest refuses it for a case
that the store does not hold already (:func:`reserved_case_id`).
"""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Sequence
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

from kb.store.records_removal import CLOSED as CLOSED
from kb.store.records_removal import RecordRemoval, ids_of, record_number
from kb.store.sqlite import SideDatabase, while_locked, write_transaction

OPEN = "対応中"
CASE_PREFIX = "desk-"
"""The local id of a case made from a record: ``desk-R000001`` (``case:desk-R000001``)."""
RECORD_STATUSES: tuple[str, ...] = (OPEN, CLOSED)
URGENCIES: tuple[str, ...] = ("通常", "至急", "緊急")
"""How soon the receiver must act: normal, within the day, at once."""


@dataclass(frozen=True)
class ConsultationRecord:
    """One consultation as the counsellor recorded it (every text already masked)."""

    id: str
    """``R000001``: also the local id of the case document it becomes when closed."""
    status: str
    """:data:`OPEN` or :data:`CLOSED`."""
    date: str
    """The consultation's date, ``YYYY-MM-DD``."""
    channel: str = ""
    """One of :data:`kb.types.CASE_CHANNELS`, or empty."""
    category: str = ""
    citizen_words: str = ""
    """What the citizen said: the case's summary (相談内容)."""
    notes: str = ""
    """The counsellor's notes (a phone call's transcript may be long); not part of the case."""
    actions: str = ""
    """What was done: the case's resolution (対応内容)."""
    departments: tuple[str, ...] = ()
    """Departments involved (names of the directory)."""
    queries: tuple[str, ...] = ()
    """The searches made during the consultation, oldest first."""
    created_by: str = ""
    """The key name of the counsellor who started it."""
    created_at: str = ""
    updated_at: str = ""
    closed_at: str = ""
    updated_by: str = ""
    """The key name that last changed it (empty for a record from before it was kept)."""
    closed_by: str = ""
    """The key name that closed it."""

    @property
    def closed(self) -> bool:
        return self.status == CLOSED

    @property
    def case_id(self) -> str:
        """The id of the case document a closed record is stored as (``case:desk-R000001``)."""
        return case_id_of(self.id)


@dataclass(frozen=True)
class Handoff:
    """A hand-off sheet for a receiving department or outside body (every text masked)."""

    id: str
    """``H000001``."""
    record_id: str = ""
    """The record it was written from; empty when written from a search alone."""
    to_department: str = ""
    """A department of the directory (its contact comes from the directory)."""
    to_outside: str = ""
    """Or an outside body (地域包括支援センター, 社会福祉協議会...) with its contact."""
    urgency: str = URGENCIES[0]
    summary: str = ""
    """The consultation in the counsellor's words."""
    heard: str = ""
    """What was heard (聞き取った内容)."""
    done: str = ""
    """What was done already (対応済みの内容)."""
    bring: str = ""
    """What the citizen brings to the receiver (持参するもの)."""
    case_ids: tuple[str, ...] = ()
    """Similar closed cases that apply (doc ids)."""
    manual_ids: tuple[str, ...] = ()
    """Manual sections that apply (doc ids)."""
    created_by: str = ""
    created_at: str = ""


def now() -> str:
    """The current UTC time as the records store it (ISO 8601, seconds)."""
    return dt.datetime.now(dt.UTC).isoformat(timespec="seconds")


def case_id_of(record_id: str) -> str:
    """The case document id of the record ``record_id`` (``case:desk-R000001``)."""
    return f"case:{CASE_PREFIX}{record_id}"


def record_of_case(doc_id: str) -> str | None:
    """The record a desk case id names (``case:desk-R000001`` → ``R000001``), else ``None``."""
    kind, _, local = doc_id.partition(":")
    if kind != "case" or not local.startswith(CASE_PREFIX):
        return None
    record_id = local[len(CASE_PREFIX) :]
    return record_id if RecordStore.record_number(record_id) is not None else None


def reserved_case_id(local_id: str) -> bool:
    """Whether a case id read from a file is in the desk's namespace (``desk-...``).

    Ingest takes such a case only when the store holds it already (the desk's own export
    read back); any other is refused, so a city's file can never overwrite or pre-empt a
    case the desk closes.
    """
    return local_id.casefold().startswith(CASE_PREFIX)


_ids = ids_of


class RecordStore(RecordRemoval, SideDatabase):
    """Consultation records and hand-off sheets (``DATA_DIR/records.sqlite``).

    Args:
        path: Database file; ``None`` for an in-memory database (tests).
    """

    def __init__(self, path: Path | None = None) -> None:
        super().__init__(
            path,
            "records",
            {
                "n": int,
                "status": str,
                "date": str,
                "channel": str,
                "category": str,
                "citizen_words": str,
                "notes": str,
                "actions": str,
                "departments": str,
                "queries": str,
                "created_by": str,
                "created_at": str,
                "updated_at": str,
                "closed_at": str,
                "updated_by": str,
                "closed_by": str,
            },
            pk="n",
            index=("date",),
        )

        def handoffs() -> None:
            self._db.table("handoffs").create(
                {
                    "n": int,
                    "record_id": str,
                    "to_department": str,
                    "to_outside": str,
                    "urgency": str,
                    "summary": str,
                    "heard": str,
                    "done": str,
                    "bring": str,
                    "case_ids": str,
                    "manual_ids": str,
                    "created_by": str,
                    "created_at": str,
                },
                pk="n",
                if_not_exists=True,
            )
            self._db.table("handoffs").create_index(["record_id"], if_not_exists=True)
            # The highest number removed per table: never handed out again.
            self._db.table("retired").create({"name": str, "n": int}, pk="name", if_not_exists=True)

        while_locked(handoffs)

    # --- writing: one IMMEDIATE transaction each --------------------------------------------

    def _write(self, sql: str, params: Sequence[Any]) -> int:
        """Run one write in its own transaction that takes the write lock first
        (:func:`kb.store.sqlite.write_transaction`); returns the row id."""
        with self._lock, write_transaction(self._db):
            cursor = self._db.conn.execute(sql, list(params))
        return int(cursor.lastrowid or 0)

    def _insert(
        self, table: str, row: dict[str, Any], *, only_if: tuple[str, list[Any]] | None = None
    ) -> int | None:
        """Insert ``row`` with the next number: past every row's and every removed one's.

        Args:
            only_if: A condition (SQL and its parameters) checked in the same transaction:
                nothing is inserted, and ``None`` returned, when it does not hold.
        """
        columns = ", ".join(row)
        marks = ", ".join("?" * len(row))
        number = (
            f"max(coalesce((select max(n) from {table}), 0), "
            f"coalesce((select n from retired where name = '{table}'), 0)) + 1"
        )
        sql = f"insert into {table} (n, {columns}) select {number}, {marks}"
        params = list(row.values())
        if only_if is not None:
            sql += f" where {only_if[0]}"
            params += only_if[1]
        with self._lock, write_transaction(self._db):
            cursor = self._db.conn.execute(sql, params)
        return int(cursor.lastrowid or 0) if cursor.rowcount else None

    # --- records --------------------------------------------------------------------------

    @staticmethod
    def record_number(record_id: str) -> int | None:
        """The row key of ``R000001`` (1), or ``None`` when it is no record id."""
        return record_number(record_id)

    @staticmethod
    def _record_row(r: ConsultationRecord) -> dict[str, Any]:
        return {
            "status": r.status,
            "date": r.date,
            "channel": r.channel,
            "category": r.category,
            "citizen_words": r.citizen_words,
            "notes": r.notes,
            "actions": r.actions,
            "departments": json.dumps(list(r.departments), ensure_ascii=False),
            "queries": json.dumps(list(r.queries), ensure_ascii=False),
            "created_by": r.created_by,
            "created_at": r.created_at,
            "updated_at": r.updated_at,
            "closed_at": r.closed_at,
            "updated_by": r.updated_by,
            "closed_by": r.closed_by,
        }

    @staticmethod
    def _record(row: dict[str, Any]) -> ConsultationRecord:
        return ConsultationRecord(
            id=f"R{row['n']:06d}",
            status=row["status"],
            date=row["date"] or "",
            channel=row["channel"] or "",
            category=row["category"] or "",
            citizen_words=row["citizen_words"] or "",
            notes=row["notes"] or "",
            actions=row["actions"] or "",
            departments=_ids(row["departments"]),
            queries=_ids(row["queries"]),
            created_by=row["created_by"] or "",
            created_at=row["created_at"] or "",
            updated_at=row["updated_at"] or "",
            closed_at=row["closed_at"] or "",
            updated_by=row.get("updated_by") or "",
            closed_by=row.get("closed_by") or "",
        )

    def add(self, record: ConsultationRecord) -> ConsultationRecord:
        """Store a new record; its ``id`` (ignored here) and times are given by the store.

        Returns:
            The record as stored, with its new id.
        """
        stamp = now()
        row = self._record_row(replace(record, created_at=stamp, updated_at=stamp))
        n = self._insert("records", row)
        assert n is not None  # unconditional
        found = self.get(f"R{n:06d}")
        assert found is not None
        return found

    def replace_if(
        self, expected: ConsultationRecord, record: ConsultationRecord
    ) -> ConsultationRecord | None:
        """Replace the stored record with ``record`` (its ``updated_at`` set now) only if it is
        still ``expected``, in one transaction: ``None`` when another writer changed or removed
        it meanwhile (read again, apply the change again).

        A change is read, changed and written back: without the check, two staff saving one
        record at once lost the first one's fields, and a closing lost an edit made while its
        case was indexed."""
        n = self.record_number(record.id)
        if n is None:
            return None
        row = self._record_row(replace(record, updated_at=now()))
        sets = ", ".join(f"{k} = ?" for k in row)
        with self._lock, write_transaction(self._db):
            rows = list(self._db.query("select * from records where n = ?", [n]))
            if not rows or self._record(rows[0]) != expected:
                return None
            self._db.conn.execute(f"update records set {sets} where n = ?", [*row.values(), n])
        return self.get(record.id)

    def save(self, record: ConsultationRecord) -> ConsultationRecord:
        """Replace the stored record with the same id (its ``updated_at`` set now), whatever it
        holds now (an import or a test; a change made by staff goes through :meth:`replace_if`).

        Raises:
            KeyError: No record has that id.
        """
        n = self.record_number(record.id)
        if n is None or self.get(record.id) is None:
            raise KeyError(record.id)
        row = self._record_row(replace(record, updated_at=now()))
        sets = ", ".join(f"{k} = ?" for k in row)
        self._write(f"update records set {sets} where n = ?", [*row.values(), n])
        found = self.get(record.id)
        assert found is not None
        return found

    def get(self, record_id: str) -> ConsultationRecord | None:
        """The record ``R000001``, or ``None``."""
        n = self.record_number(record_id)
        if n is None:
            return None
        with self._lock:
            rows = list(self._db.query("select * from records where n = ?", [n]))
        return self._record(rows[0]) if rows else None

    def find(
        self,
        *,
        status: str = "",
        department: str = "",
        date_from: str = "",
        date_to: str = "",
        limit: int | None = None,
    ) -> list[ConsultationRecord]:
        """Records matching every filter given, newest first.

        Args:
            status: :data:`OPEN` or :data:`CLOSED`; empty: both.
            department: Only records involving this department.
            date_from: Consultation date on or after ``YYYY-MM-DD``.
            date_to: Consultation date on or before ``YYYY-MM-DD``.
            limit: At most this many (after filtering).
        """
        where: list[str] = []
        params: list[Any] = []
        if status:
            where.append("status = ?")
            params.append(status)
        if date_from:
            where.append("date >= ?")
            params.append(date_from)
        if date_to:
            where.append("date <= ?")
            params.append(date_to)
        if department:
            where.append("exists (select 1 from json_each(records.departments) where value = ?)")
            params.append(department)
        sql = "select * from records"
        if where:
            sql += " where " + " and ".join(where)
        sql += " order by date desc, n desc"
        if limit is not None:
            sql += " limit ?"
            params.append(limit)
        with self._lock:
            rows = list(self._db.query(sql, params))
        return [self._record(r) for r in rows]

    # --- hand-offs ------------------------------------------------------------------------

    @staticmethod
    def _handoff(row: dict[str, Any]) -> Handoff:
        return Handoff(
            id=f"H{row['n']:06d}",
            record_id=row["record_id"] or "",
            to_department=row["to_department"] or "",
            to_outside=row["to_outside"] or "",
            urgency=row["urgency"] or URGENCIES[0],
            summary=row["summary"] or "",
            heard=row["heard"] or "",
            done=row["done"] or "",
            bring=row["bring"] or "",
            case_ids=_ids(row["case_ids"]),
            manual_ids=_ids(row["manual_ids"]),
            created_by=row["created_by"] or "",
            created_at=row["created_at"] or "",
        )

    def add_handoff(self, handoff: Handoff) -> Handoff:
        """Store a new hand-off; its id and time are given by the store.

        Raises:
            KeyError: Its record is not (or no longer) stored.
        """
        row = {
            "record_id": handoff.record_id,
            "to_department": handoff.to_department,
            "to_outside": handoff.to_outside,
            "urgency": handoff.urgency,
            "summary": handoff.summary,
            "heard": handoff.heard,
            "done": handoff.done,
            "bring": handoff.bring,
            "case_ids": json.dumps(list(handoff.case_ids), ensure_ascii=False),
            "manual_ids": json.dumps(list(handoff.manual_ids), ensure_ascii=False),
            "created_by": handoff.created_by,
            "created_at": now(),
        }
        # A sheet of a record only while the record is there: a removal (erasure) between the
        # caller's read and this write would leave the sheet and its text behind.
        number = self.record_number(handoff.record_id) if handoff.record_id else None
        if handoff.record_id and number is None:
            raise KeyError(handoff.record_id)
        only_if = ("exists (select 1 from records where n = ?)", [number]) if number else None
        n = self._insert("handoffs", row, only_if=only_if)
        if n is None:
            raise KeyError(handoff.record_id)
        found = self.handoff(f"H{n:06d}")
        assert found is not None
        return found

    def handoff(self, handoff_id: str) -> Handoff | None:
        """The hand-off ``H000001``, or ``None``."""
        if not (
            len(handoff_id) == 7
            and handoff_id[0] == "H"
            and handoff_id[1:].isascii()
            and handoff_id[1:].isdigit()
        ):
            return None
        with self._lock:
            rows = list(self._db.query("select * from handoffs where n = ?", [int(handoff_id[1:])]))
        return self._handoff(rows[0]) if rows else None

    def handoffs(self, record_ids: Sequence[str]) -> list[Handoff]:
        """The hand-offs written from these records, oldest first."""
        if not record_ids:
            return []
        marks = ",".join("?" * len(record_ids))
        with self._lock:
            rows = list(
                self._db.query(
                    f"select * from handoffs where record_id in ({marks}) order by n",
                    list(record_ids),
                )
            )
        return [self._handoff(r) for r in rows]
