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

from kb.messages import current_language
from kb.settings import Settings

if TYPE_CHECKING:
    from kb.index.remove import RemoveReport
    from kb.index.update import UpdateReport

_TEXT = {
    "deleted": (
        "{n} 件の文書を削除しました: {ids}",
        "deleted {n} document(s): {ids}",
    ),
    "purged": (
        "  埋め込みキャッシュ {cache} 件、原文 {raw} 件、担当課名簿 {dirs} 件、"
        "古い索引 {builds} 個を削除",
        "  removed {cache} cached vector(s), {raw} raw text(s), {dirs} directory entr(y/ies), "
        "{builds} old index build(s)",
    ),
    "erased": (
        "  消去: 検索ログ {q} 件、フィードバック {f} 件、FAQ下書き {d} 件を削除しました",
        "  erased {q} query-log row(s), {f} feedback row(s), {d} FAQ draft(s)",
    ),
    "audit_mentions": (
        "  注意: 監査ログの検索語 {n} 件にこの文言が含まれます。監査ログは改ざん防止のため"
        "削除できません（記録は伏字処理済みの検索語です）",
        "  note: {n} audit event(s) record a search that quotes it; the audit log is "
        "append-only and is never changed (its queries are masked)",
    ),
    "built": (
        "  索引 {index} を作成しました（{chunks} チャンク、新たな埋め込み {embedded} 件）",
        "  built index {index}: {chunks} chunks ({embedded} embedded)",
    ),
    "wal_busy": (
        "  注意: 使用中のデータベースがあり、WAL（書き込みログ）の切り詰めが完了しませんでした。"
        "古いページは次のチェックポイントで消えます",
        "  note: a database was in use and its write-ahead log could not be truncated yet; "
        "it is at the next checkpoint",
    ),
    "dry_run": (
        "試行（--dry-run）: 何も書き込んでいません。追加 {a} 件、変更 {u} 件、変更なし {s} 件",
        "dry run: nothing was written; {a} to add, {u} to change, {s} unchanged",
    ),
    "sync_kinds": (
        "--sync の対象: {kinds}。このファイルにない {n} 件を削除{will}",
        "--sync for {kinds}: {n} stored document(s) missing from the files {will}",
    ),
    "will_remove": ("します", "would be removed"),
    "would_have": ("するところでした", "would have been removed"),
    "removed": ("しました", "were removed"),
    "refused": ("削除しません: {why}", "nothing removed: {why}"),
    "pruned": (
        "{when} より前のものを{verb}: 検索ログ {q} 件、フィードバック {f} 件、古い索引 {b} 個",
        "{verb} what is older than {when}: {q} query-log row(s), {f} feedback row(s), "
        "{b} old index build(s)",
    ),
    "prune_verb": ("削除しました", "removed"),
    "prune_verb_dry": ("削除します（--dry-run: まだ何も削除していません）", "would remove"),
    "audit_kept": (
        "監査ログは削除しません（誰が何を検索・閲覧・変更・削除したかの記録です）",
        "the audit log is never pruned: it is the record of who searched, opened, changed "
        "or deleted what",
    ),
}


def _t(key: str, **params: object) -> str:
    ja, en = _TEXT[key]
    return (en if current_language() == "en" else ja).format(**params)


def _print(msg: str) -> None:
    print(msg, flush=True)


def print_removal(report: RemoveReport) -> None:
    """What a removal did (``kb delete``, ``kb ingest --sync``)."""
    _print(_t("deleted", n=len(report.removed), ids=", ".join(report.removed)))
    _print(
        _t(
            "purged",
            cache=report.cache_rows,
            raw=report.raw_rows,
            dirs=report.directory_entries,
            builds=report.builds_removed,
        )
    )
    if report.erased:
        logs = report.logs
        _print(_t("erased", q=logs.query_rows, f=logs.feedback_rows, d=logs.drafts))
        if logs.audit_mentions:
            _print(_t("audit_mentions", n=logs.audit_mentions))
    if report.build is not None:
        b = report.build
        _print(_t("built", index=b.path.name, chunks=b.chunks, embedded=b.embedded))
    if not report.wal_truncated:
        _print(_t("wal_busy"))


def print_sync(update: UpdateReport, *, dry_run: bool) -> bool:
    """What ``--dry-run`` and ``--sync`` found; ``False`` when ``--sync`` refused to remove."""
    from kb.index.sync import describe_plan

    report = update.ingest
    if dry_run:
        s = report.stats
        _print(_t("dry_run", a=s.added, u=s.updated, s=s.unchanged))
        for err in report.errors:
            _print(f"  skipped: {err}")
        for line in describe_plan(report, update.sync):
            _print(line)
    plan = update.sync
    if plan is None:
        return True
    if plan.kinds:
        will = _t("would_have" if plan.refused else "will_remove" if dry_run else "removed")
        _print(_t("sync_kinds", kinds=", ".join(plan.kinds), n=len(plan.remove), will=will))
    if plan.refused:
        _print(_t("refused", why=plan.refused))
        return False
    if update.removed is not None:
        print_removal(update.removed)
    return True


def cmd_delete(args: argparse.Namespace, settings: Settings) -> int:
    from kb.cli import _Progress
    from kb.index.lock import LockHolder, waiting_message
    from kb.index.remove import parse_ids, remove_documents
    from kb.security.commands import cli_actor

    def waiting(holder: LockHolder | None) -> None:
        message = waiting_message(holder, settings.writer_lock_wait)
        print(f"kb: {message}", file=sys.stderr, flush=True)

    ids = parse_ids(args.ids)
    progress = _Progress(sys.stderr.isatty())
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
    from kb.cli import _writer_lock
    from kb.index.retention import parse_age, prune
    from kb.security.commands import cli_audited

    age = parse_age(args.older_than)
    with _writer_lock(settings, "prune"):
        if args.dry_run:
            report = prune(settings, age, dry_run=True)
        else:
            with cli_audited(settings, "prune", detail=f"older than {args.older_than}") as done:
                report = prune(settings, age)
                done.detail = (
                    f"before {report.cutoff}: {report.query_rows} query-log row(s), "
                    f"{report.feedback_rows} feedback row(s), {len(report.builds)} build(s)"
                )
    verb = _t("prune_verb_dry" if report.dry_run else "prune_verb")
    when = report.cutoff[:19].replace("T", " ") + " UTC"
    q, f, b = report.query_rows, report.feedback_rows, len(report.builds)
    _print(_t("pruned", when=when, verb=verb, q=q, f=f, b=b))
    _print(_t("audit_kept"))
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
    p.add_argument("ids", nargs="+", metavar="ID", help="document ids: faq:F0001, case:R6-001...")
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
    p.set_defaults(func=cmd_prune)


__all__ = ["add_parsers", "cmd_delete", "cmd_prune", "print_removal", "print_sync"]
