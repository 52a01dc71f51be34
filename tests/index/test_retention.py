"""kb prune --older-than: query log, feedback and old builds go; serving build and audit stay."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest

from kb.embed.embedder import FakeEmbedder
from kb.errors import InputError
from kb.index.folder import IndexRoot
from kb.index.retention import parse_age, prune
from kb.index.update import rebuild
from kb.settings import Settings
from kb.store import FeedbackRecord, FeedbackStore, QueryLogRecord, QueryLogStore, Store

NOW = dt.datetime(2026, 6, 1, tzinfo=dt.UTC)


def test_ages_in_days_and_weeks_are_read_and_others_refused() -> None:
    assert parse_age("90d") == dt.timedelta(days=90)
    assert parse_age("12w") == dt.timedelta(weeks=12)
    assert parse_age(" 30 ") == dt.timedelta(days=30)
    assert parse_age("90日") == dt.timedelta(days=90)
    for bad in ("0d", "3m", "-1d", "soon", ""):
        with pytest.raises(InputError, match="90d"):
            parse_age(bad)
    # An age whose cut-off would fall before year 1 (OverflowError in prune) is refused too.
    assert parse_age("36500d") == dt.timedelta(days=36_500)
    for huge in ("800000d", "99999999999d", "5300w", "9" * 5000 + "d"):
        with pytest.raises(InputError, match="36,500"):
            parse_age(huge)


def test_prune_removes_old_rows_and_builds_keeps_the_serving_build(tmp_path: Path) -> None:
    settings = Settings(data_dir=tmp_path / "data")
    log = QueryLogStore(settings.query_log_path)
    log.add_many(
        [
            QueryLogRecord("public", "古い", created_at="2026-01-01T00:00:00.000+00:00"),
            QueryLogRecord("public", "新しい", created_at="2026-05-30T00:00:00.000+00:00"),
        ]
    )
    log.close()
    feedback = FeedbackStore(settings.feedback_path)
    feedback.add(FeedbackRecord("public", "古い", created_at="2026-02-01T00:00:00.000+00:00"))
    feedback.close()
    store = Store(settings.store_path)
    try:
        # Three builds, named by the real clock: none is 90 days old at NOW (in the past);
        # 200 days from now, every one but the serving one is.
        for _ in range(3):
            rebuild(settings, store=store, embedder=FakeEmbedder(64))
    finally:
        store.close()
    root = IndexRoot(settings.index_root)
    serving = root.current()
    # A build's age is its name's UTC time stamp.
    assert abs(root.built_at(serving) - dt.datetime.now(dt.UTC)) < dt.timedelta(minutes=5)
    later = dt.datetime.now(dt.UTC) + dt.timedelta(days=200)

    dry = prune(settings, dt.timedelta(days=90), dry_run=True, now=NOW)
    assert (dry.query_rows, dry.feedback_rows, dry.builds) == (1, 1, ())
    assert QueryLogStore(settings.query_log_path).count() == 2  # a dry run removes nothing

    done = prune(settings, dt.timedelta(days=90), now=later)
    assert done.query_rows == 2
    assert done.feedback_rows == 1
    assert len(done.builds) == 2
    assert root.current() == serving
    assert root.old_builds() == []

    kept = prune(settings, dt.timedelta(days=90), now=NOW)
    assert (kept.query_rows, kept.builds) == (0, ())


def test_records_are_kept_unless_asked_then_only_closed_ones_before_the_cutoff(
    tmp_path: Path,
) -> None:
    import dataclasses

    from kb.store.records import CLOSED, ConsultationRecord, Handoff, RecordStore

    settings = Settings(data_dir=tmp_path / "data")
    records = RecordStore(settings.records_path)
    try:
        old = records.add(ConsultationRecord(id="", status="対応中", date="2025-01-01"))
        records.save(dataclasses.replace(old, status=CLOSED, closed_at="2025-01-02T09:00:00+00:00"))
        records.add_handoff(Handoff(id="", record_id=old.id, summary="引継ぎ"))
        recent = records.add(ConsultationRecord(id="", status="対応中", date="2026-05-01"))
        records.save(
            dataclasses.replace(recent, status=CLOSED, closed_at="2026-05-02T09:00:00+00:00")
        )
        still_open = records.add(ConsultationRecord(id="", status="対応中", date="2024-01-01"))
    finally:
        records.close()

    kept = prune(settings, dt.timedelta(days=90), now=NOW)
    assert (kept.records, kept.records_asked) == ((), False)
    dry = prune(settings, dt.timedelta(days=90), now=NOW, records=True, dry_run=True)
    assert (dry.records, dry.handoffs) == ((old.id,), 1)
    done = prune(settings, dt.timedelta(days=90), now=NOW, records=True)
    assert (done.records, done.handoffs) == ((old.id,), 1)
    records = RecordStore(settings.records_path)
    try:
        assert records.get(old.id) is None
        assert records.handoffs([old.id]) == []
        assert records.get(recent.id) is not None
        assert records.get(still_open.id) is not None  # open: never pruned, however old
    finally:
        records.close()
