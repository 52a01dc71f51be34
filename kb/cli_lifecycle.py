"""``kb delete``, ``kb prune`` and what ``kb ingest --sync`` / ``--dry-run`` print.

The work is :mod:`kb.index.remove`, :mod:`kb.index.sync` and :mod:`kb.index.retention`; this
module parses the arguments, takes the writer lock (waiting up to ``KB_WRITER_LOCK_WAIT``),
records the command in the audit log and prints what was done, in Japanese (``KB_LANG=en``:
English).
"""

from __future__ import annotations

import argparse
import json
import sys
from typing import TYPE_CHECKING, Any

from kb.messages import msg
from kb.settings import Settings

if TYPE_CHECKING:
    from kb.index.remove import RemoveReport
    from kb.index.update import UpdateReport


def _print(line: str) -> None:
    print(line, flush=True)


def print_removal(report: RemoveReport) -> None:
    """What a removal did (``kb delete``, ``kb ingest --sync``)."""
    _print(msg("delete.deleted", n=len(report.removed), ids=", ".join(report.removed)))
    _print(
        msg(
            "delete.purged",
            cache=report.cache_rows,
            raw=report.raw_rows,
            dirs=report.directory_entries,
            builds=report.builds_removed,
        )
    )
    if report.records or report.handoffs:
        _print(msg("delete.records", records=report.records, handoffs=report.handoffs))
    if report.erased:
        logs = report.logs
        _print(msg("delete.erased", q=logs.query_rows, f=logs.feedback_rows, d=logs.drafts))
        if logs.audit_mentions:
            _print(msg("delete.audit_mentions", n=logs.audit_mentions))
    if report.retired_models:
        _print(msg("delete.retired_models", models=", ".join(report.retired_models)))
    if report.build is not None:
        b = report.build
        _print(msg("delete.built", index=b.path.name, chunks=b.chunks, embedded=b.embedded))
    if not report.wal_truncated:
        _print(msg("delete.wal_busy"))


def print_sync(update: UpdateReport, *, dry_run: bool) -> bool:
    """What ``--dry-run`` and ``--sync`` found; ``False`` when ``--sync`` refused to remove."""
    from kb.index.sync import describe_plan

    report = update.ingest
    if dry_run:
        s = report.stats
        _print(msg("sync.dry_run", a=s.added, u=s.updated, s=s.unchanged))
        for err in report.errors:
            _print(msg("report.error", problem=err))
        for line in describe_plan(report, update.sync):
            _print(line)
    plan = update.sync
    if plan is None:
        return True
    if plan.kinds:
        will = msg(
            "sync.would_have" if plan.refused else "sync.will_remove" if dry_run else "sync.removed"
        )
        _print(msg("sync.kinds", kinds=", ".join(plan.kinds), n=len(plan.remove), will=will))
    if plan.refused:
        _print(msg("sync.refused", why=plan.refused))
        return False
    if update.removed is not None:
        print_removal(update.removed)
    return True


def cmd_delete(args: argparse.Namespace, settings: Settings) -> int:
    from kb.cli_common import Progress
    from kb.index.lock import LockHolder, waiting_message
    from kb.index.remove import parse_ids, remove_documents
    from kb.security.commands import cli_actor

    def waiting(holder: LockHolder | None) -> None:
        message = waiting_message(holder, settings.writer_lock_wait)
        print(f"kb: {message}", file=sys.stderr, flush=True)

    ids = parse_ids(args.ids)
    progress = Progress(sys.stderr.isatty())
    try:
        report = remove_documents(
            settings,
            ids,
            actor=cli_actor(),
            role="cli",
            erase=args.erase,
            wait=settings.writer_lock_wait,
            on_wait=waiting,
            progress=progress,
        )
    finally:
        progress.close()
    if args.json:
        _print(json.dumps(report.to_json(), ensure_ascii=False, indent=2, default=str))
    else:
        print_removal(report)
    return 0


def cmd_prune(args: argparse.Namespace, settings: Settings) -> int:
    from kb.cli_common import writer_lock_waiting
    from kb.index.retention import parse_age, prune
    from kb.security.commands import cli_audited

    age = parse_age(args.older_than)
    asked = f"older than {args.older_than}" + (", records" if args.records else "")
    with writer_lock_waiting(settings, "prune"):
        if args.dry_run:
            report = prune(settings, age, dry_run=True, records=args.records)
        else:
            with cli_audited(settings, "prune", detail=asked) as done:
                report = prune(settings, age, records=args.records)
                # Which records went is part of the accountability record (ids, never text).
                done.ids = report.records
                done.detail = (
                    f"before {report.cutoff}: {report.query_rows} query-log row(s), "
                    f"{report.feedback_rows} feedback row(s), {len(report.builds)} build(s)"
                    + (
                        f", {len(report.records)} consultation record(s) and "
                        f"{report.handoffs} hand-off(s)"
                        if args.records
                        else ""
                    )
                )
    verb = msg("prune.verb_dry" if report.dry_run else "prune.verb")
    when = report.cutoff[:19].replace("T", " ") + " UTC"
    q, f, b = report.query_rows, report.feedback_rows, len(report.builds)
    _print(msg("prune.done", when=when, verb=verb, q=q, f=f, b=b))
    if report.records_asked:
        r, h = len(report.records), report.handoffs
        _print(msg("prune.records", when=when, verb=verb, r=r, h=h))
    else:
        _print(msg("prune.records_kept"))
    _print(msg("prune.audit_kept"))
    return 0


def add_parsers(sub: Any) -> None:
    """``kb delete`` and ``kb prune``."""
    p = sub.add_parser(
        "delete",
        help="delete documents everywhere: store, caches, index (cases: also erased from logs)",
        description="Delete documents from the store, the embedding cache, the raw text and "
        "every index build, and serve an index without them. A case is always erased: "
        "query-log, feedback and FAQ-draft rows quoting it or naming it go too.",
    )
    p.add_argument(
        "ids",
        nargs="+",
        metavar="ID",
        help="document ids: faq:F0001, case:R6-001, case:desk-R000001 (a closed consultation "
        "record: the record and its hand-offs go too), procedure:P001...",
    )
    p.add_argument(
        "--erase",
        action="store_true",
        help="also erase FAQ/manual/department text from the logs (always done for cases)",
    )
    p.add_argument("--json", action="store_true", help="print the report as JSON")
    p.set_defaults(func=cmd_delete)

    p = sub.add_parser(
        "prune",
        help="remove query-log and feedback rows and old index builds past an age",
        description="Retention: remove query-log and feedback rows and index builds older "
        "than AGE (the serving build always stays). The audit log is never pruned.",
    )
    p.add_argument(
        "--older-than",
        required=True,
        metavar="AGE",
        help="age in days or weeks: 90d, 12w (required)",
    )
    p.add_argument("--dry-run", action="store_true", help="only count what would go")
    p.add_argument(
        "--records",
        action="store_true",
        help="also remove 完了 consultation records closed before AGE, with their hand-off "
        "sheets (official records: left alone without it; their cases stay)",
    )
    p.set_defaults(func=cmd_prune)


__all__ = ["add_parsers", "cmd_delete", "cmd_prune", "print_removal", "print_sync"]
