"""records.sqlite: ids, saving, filters, hand-offs linked to records."""

from __future__ import annotations

import dataclasses
import sqlite3
import threading
from contextlib import closing
from pathlib import Path

import pytest

from kb.store.records import CLOSED, OPEN, ConsultationRecord, Handoff, RecordStore


def record(date: str = "2025-04-01", **fields: object) -> ConsultationRecord:
    return ConsultationRecord(id="", status=OPEN, date=date, **fields)  # type: ignore[arg-type]


def test_ids_times_and_round_trip() -> None:
    store = RecordStore(None)
    first = store.add(record(citizen_words="相談", departments=("市民課",), queries=("a", "b")))
    second = store.add(record())
    assert (first.id, second.id) == ("R000001", "R000002")
    assert first.created_at
    assert first.created_at == first.updated_at
    assert store.get("R000001") == first
    assert first.departments == ("市民課",)
    assert first.queries == ("a", "b")
    assert first.case_id == "case:desk-R000001"
    changed = store.save(dataclasses.replace(first, status=CLOSED, actions="案内した"))
    assert changed.closed
    assert changed.actions == "案内した"
    assert changed.created_at == first.created_at
    for bad in ("R1", "X000001", "R00000a", "", "R000009"):
        assert store.get(bad) is None
    with pytest.raises(KeyError):
        store.save(dataclasses.replace(first, id="R000009"))


def test_find_filters_and_orders_newest_first() -> None:
    store = RecordStore(None)
    a = store.add(record("2025-04-01", departments=("市民課", "税務課")))
    b = store.add(record("2025-05-01", departments=("税務課",)))
    c = store.add(record("2025-05-01"))
    store.save(dataclasses.replace(a, status=CLOSED))
    assert [r.id for r in store.find()] == [c.id, b.id, a.id]
    assert [r.id for r in store.find(status=CLOSED)] == [a.id]
    assert [r.id for r in store.find(department="税務課")] == [b.id, a.id]
    assert [r.id for r in store.find(department="市民")] == []  # names, not substrings
    assert [r.id for r in store.find(date_from="2025-04-15")] == [c.id, b.id]
    assert [r.id for r in store.find(date_to="2025-04-30")] == [a.id]
    assert [r.id for r in store.find(limit=1)] == [c.id]


def test_handoffs_are_linked_to_their_record() -> None:
    store = RecordStore(None)
    r = store.add(record())
    h = store.add_handoff(
        Handoff(id="", record_id=r.id, to_department="市民課", case_ids=("case:C0001",))
    )
    loose = store.add_handoff(Handoff(id="", to_outside="社会福祉協議会"))
    assert (h.id, loose.id) == ("H000001", "H000002")
    assert store.handoff("H000001") == h
    assert h.case_ids == ("case:C0001",)
    assert h.created_at
    assert store.handoffs([r.id]) == [h]
    assert store.handoffs([]) == []
    assert store.handoff("H9") is None


def test_two_writers_never_share_an_id(tmp_path: Path) -> None:
    """Two stores on one file (two server workers) hand out distinct ids."""
    stores = [RecordStore(tmp_path / "records.sqlite") for _ in range(2)]
    ids: list[str] = []

    def add(store: RecordStore) -> None:
        for _ in range(20):
            ids.append(store.add(record()).id)

    threads = [threading.Thread(target=add, args=(s,)) for s in stores]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert len(ids) == len(set(ids)) == 40
    for s in stores:
        s.close()


def _filled(store: RecordStore) -> list[str]:
    """Three records (two closed long ago and recently, one open) with hand-offs."""
    ids = []
    for closed_at in ("2024-01-01T00:00:00+00:00", "2026-05-30T00:00:00+00:00", ""):
        r = store.add(ConsultationRecord(id="", status="対応中", date="2024-01-01"))
        if closed_at:
            r = store.save(dataclasses.replace(r, status=CLOSED, closed_at=closed_at))
        store.add_handoff(Handoff(id="", record_id=r.id, summary=f"{r.id}の引継ぎ"))
        ids.append(r.id)
    store.add_handoff(Handoff(id="", summary="検索だけから", case_ids=("case:desk-R000001",)))
    return ids


def test_removed_records_take_their_handoffs_and_their_numbers_are_never_reused(
    tmp_path: Path,
) -> None:
    store = RecordStore(tmp_path / "records.sqlite")
    try:
        ids = _filled(store)
        assert store.remove_records([ids[2], "R999999", "bad"]) == (1, 1)
        assert store.get(ids[2]) is None
        assert store.handoffs([ids[2]]) == []
        # R000003 and H000003 stay retired: the audit log's ids keep naming one consultation.
        again = store.add(ConsultationRecord(id="", status="対応中", date="2024-01-01"))
        assert again.id == "R000004"
        sheet = store.add_handoff(Handoff(id=""))
        assert sheet.id == "H000005"
        assert store.forget_cases(["case:desk-R000001"]) == 1
        assert all(not h.case_ids for h in store.handoffs([""]))
    finally:
        store.close()


def test_retention_prunes_only_records_closed_before_the_cutoff(tmp_path: Path) -> None:
    store = RecordStore(tmp_path / "records.sqlite")
    try:
        ids = _filled(store)
        cutoff = "2025-01-01T00:00:00+00:00"
        # The stand-alone hand-off was written today: it stays.
        assert store.prune_closed(cutoff, dry_run=True) == ([ids[0]], 1)
        assert store.get(ids[0]) is not None  # a dry run removes nothing
        assert store.prune_closed(cutoff) == ([ids[0]], 1)
        assert store.get(ids[0]) is None
        assert store.get(ids[1]) is not None  # closed after the cutoff
        assert store.get(ids[2]) is not None  # open: never pruned
        # The other closed one and the stand-alone hand-off; the open record's sheet stays.
        assert store.prune_closed("2099-01-01T00:00:00+00:00") == ([ids[1]], 2)
        assert len(store.handoffs([ids[2]])) == 1
        assert store.get(ids[2]) is not None
    finally:
        store.close()


def test_a_file_from_before_who_changed_it_was_kept_gains_the_columns(tmp_path: Path) -> None:
    path = tmp_path / "records.sqlite"
    with closing(sqlite3.connect(path)) as db:
        db.execute(
            "create table records (n integer primary key, status text, date text, channel text,"
            " category text, citizen_words text, notes text, actions text, departments text,"
            " queries text, created_by text, created_at text, updated_at text, closed_at text)"
        )
        db.execute(
            "insert into records (n, status, date, created_by) values (1, ?, '2025-04-01', 'a')",
            (OPEN,),
        )
        db.commit()
    store = RecordStore(path)
    try:
        old = store.get("R000001")
        assert old is not None
        assert (old.created_by, old.updated_by, old.closed_by) == ("a", "", "")
        saved = store.save(dataclasses.replace(old, updated_by="b"))
        assert saved.updated_by == "b"
    finally:
        store.close()
