"""``kb prune --older-than``: how long the query log, the feedback log and old builds are kept.

The query log and the feedback log grow with every search and every click, and hold what
residents typed (masked); old index builds hold the store as it was. Rows and builds older than
the cut-off go; the serving build always stays. The **audit log is never pruned**: it is the
accountability record (who searched, opened, changed or deleted what), append-only and
hash-chained, and a gap in it would be indistinguishable from tampering.

**Consultation records** (``records.sqlite``) are official records (公文書) with a retention
period of the city's own, so they are left alone unless ``records`` is asked
(``kb prune --records``); then the 完了 records closed before the cut-off go, with the hand-off
sheets written from them (and those written from a search alone before it). Open records never
go. The cases they became stay searchable: erasing one is ``kb delete case:desk-R000001``.
"""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass
from pathlib import Path

from kb.errors import InputError
from kb.index.folder import IndexRoot
from kb.messages import msg
from kb.settings import Settings
from kb.store import FeedbackStore, QueryLogStore
from kb.store.records import RecordStore

_AGE_RE = re.compile(r"^\s*(\d+)\s*([dw日週]?)\s*$")
_UNIT_DAYS = {"": 1, "d": 1, "日": 1, "w": 7, "週": 7}
MAX_AGE_DAYS = 36_500
"""The longest age ``--older-than`` takes: a hundred years is older than any record."""


def parse_age(text: str) -> dt.timedelta:
    """``90d`` / ``12w`` / ``90`` (days) / ``90日`` as a duration.

    Raises:
        InputError: Not of that form, zero, or more than :data:`MAX_AGE_DAYS`.
    """
    match = _AGE_RE.match(text.lower())
    if match is None or not match.group(1).strip("0"):
        raise InputError("--older-than", msg("prune.bad_age", value=text))
    # More digits than any age has: refused as too long, not given to int() (Python refuses
    # 4,300 digits with its own message).
    digits = match.group(1).lstrip("0")
    days = int(digits) * _UNIT_DAYS[match.group(2)] if len(digits) <= 12 else MAX_AGE_DAYS + 1
    if days > MAX_AGE_DAYS:  # the cut-off date would fall before year 1 (OverflowError)
        raise InputError("--older-than", msg("prune.age_too_long", value=text, limit=MAX_AGE_DAYS))
    return dt.timedelta(days=days)


@dataclass(frozen=True)
class PruneReport:
    """What :func:`prune` removed (or, in a dry run, would remove)."""

    cutoff: str
    """Rows and builds older than this (UTC, ISO 8601) go."""
    query_rows: int
    feedback_rows: int
    builds: tuple[str, ...]
    """Index builds (folder names) removed; the serving one never is."""
    dry_run: bool
    records: tuple[str, ...] = ()
    """Consultation records removed (only with ``records``), by id."""
    handoffs: int = 0
    """Hand-off sheets removed with them."""
    records_asked: bool = False
    """``records`` was given (otherwise records were not looked at)."""


def prune(
    settings: Settings,
    older_than: dt.timedelta,
    *,
    dry_run: bool = False,
    now: dt.datetime | None = None,
    records: bool = False,
) -> PruneReport:
    """Remove query-log and feedback rows and index builds older than ``older_than``.

    Call it under the writer lock (:func:`kb.index.lock.writer_lock`): it removes builds.

    Args:
        settings: The data folder.
        older_than: The age past which they go.
        dry_run: Only count them.
        now: The current time (tests).
        records: Also remove the 完了 consultation records closed before the cut-off, with
            their hand-offs (see the module docstring).
    """
    cut = (now or dt.datetime.now(dt.UTC)) - older_than
    cutoff = cut.astimezone(dt.UTC).isoformat(timespec="milliseconds")
    counts = [
        _prune_log(path, kind, cutoff, dry_run)
        for path, kind in (
            (settings.query_log_path, QueryLogStore),
            (settings.feedback_path, FeedbackStore),
        )
    ]
    root = IndexRoot(settings.index_root)
    old = [f for f in root.old_builds() if root.built_at(f) < cut]
    if not dry_run:
        for folder in old:
            root.remove_build(folder)
    pruned: tuple[list[str], int] = ([], 0)
    if records and settings.records_path.exists():
        store = RecordStore(settings.records_path)
        try:
            # The records' times are ISO 8601 to the second: compare in that form.
            pruned = store.prune_closed(
                cut.astimezone(dt.UTC).isoformat(timespec="seconds"), dry_run=dry_run
            )
            if pruned[0] or pruned[1]:
                store.compact()
        finally:
            store.close()
    return PruneReport(
        cutoff,
        counts[0],
        counts[1],
        tuple(f.name for f in old),
        dry_run,
        records=tuple(pruned[0]),
        handoffs=pruned[1],
        records_asked=records,
    )


def _prune_log(
    path: Path, kind: type[QueryLogStore] | type[FeedbackStore], cutoff: str, dry_run: bool
) -> int:
    if not path.exists():
        return 0
    log = kind(path)
    try:
        n = log.prune_before(cutoff, dry_run=dry_run)
        if n and not dry_run:
            log.compact()
        return n
    finally:
        log.close()


__all__ = ["PruneReport", "parse_age", "prune"]
