"""records.sqlite: ids, saving, filters, hand-offs linked to records."""

from __future__ import annotations

import dataclasses
import threading
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
