"""``kb ingest``, ``kb build`` and ``kb status``: the store and the index it serves."""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Sequence
from dataclasses import asdict
from pathlib import Path
from typing import TYPE_CHECKING, Any

from kb.cli_common import Progress, clean_leftovers_noting, say, writer_lock_waiting
from kb.errors import IndexError_
from kb.messages import msg
from kb.settings import Settings

if TYPE_CHECKING:
    from kb.index.builder import BuildReport
    from kb.index.update import UpdateReport


def cmd_ingest(args: argparse.Namespace, settings: Settings) -> int:
    from kb.index.update import ingest_and_build
    from kb.ingest.pipeline import IngestReport

    progress = Progress(sys.stderr.isatty())

    def ingested(report: IngestReport) -> None:
        from kb.ingest.summary import summary_lines

        progress.close()
        for line in summary_lines(report):
            say(line)

    if getattr(args, "columns", None) is not None:
        settings = settings.model_copy(update={"columns_file": args.columns})
    if getattr(args, "sheet", None) is not None:
        settings = settings.model_copy(update={"xlsx_sheet": args.sheet})

    from kb.cli_lifecycle import print_sync
    from kb.security.commands import cli_audited

    with writer_lock_waiting(settings, "ingest") as held:
        clean_leftovers_noting(settings, held)
        asked = f"kind {args.kind or 'detected'}, build {not args.no_build}"
        asked += ", sync" * args.sync + ", dry run" * args.dry_run + ", force" * args.force
        with cli_audited(settings, "ingest", ids=_file_labels(args.paths), detail=asked) as done:
            update = ingest_and_build(
                settings,
                [Path(p) for p in args.paths],
                kind=args.kind,
                build=not args.no_build,
                progress=progress,
                on_ingested=None if args.dry_run else ingested,
                sync=args.sync,
                dry_run=args.dry_run,
                force=args.force,
            )
            done.ids = tuple(update.ingest.files)
            done.detail = _update_summary(update)
    progress.close()
    synced = print_sync(update, dry_run=args.dry_run)
    if update.build is not None and update.removed is None:
        _print_build(update.build)
    return 0 if update.ingest.ok and synced else 1


def _file_labels(paths: Sequence[str]) -> list[str]:
    """The paths as the audit log may name them: personal data masked, as ingest labels files."""
    from kb.ingest.redact import Redactor
    from kb.text.masking import Masker

    redactor = Redactor(Masker())
    return [redactor.file_label(p) for p in paths]


def _update_summary(update: UpdateReport) -> str:
    """What an ingest did, for its audit event."""
    report = update.ingest
    s = report.stats
    built = f"; {_build_summary(update.build)}" if update.build is not None else ""
    return (
        f"{report.documents} documents, {report.departments} departments ({s.added} added, "
        f"{s.updated} updated, {s.unchanged} unchanged), {len(report.errors)} row error(s)" + built
    )


def _build_summary(report: BuildReport) -> str:
    """What a build did, for its audit event."""
    if report.discarded:
        return f"build discarded: {report.path.name} was built meanwhile from newer data"
    return f"built {report.path.name}: {report.chunks} chunks ({report.embedded} embedded)"


def cmd_build(args: argparse.Namespace, settings: Settings) -> int:
    from kb.index.update import rebuild
    from kb.security.commands import cli_audited

    progress = Progress(sys.stderr.isatty())
    with writer_lock_waiting(settings, "build") as held:
        clean_leftovers_noting(settings, held)
        with cli_audited(settings, "build") as done:
            if getattr(args, "ray", None) is not None:
                from kb.scale.commands import build as build_on_ray

                report = build_on_ray(args, settings, progress, say)
            else:
                report = rebuild(settings, progress=progress)
            done.detail = _build_summary(report)
    progress.close()
    _print_build(report)
    return 0


def _print_build(report: BuildReport) -> None:
    if report.discarded:
        say(msg("cli.build_discarded", generation=report.generation, index=report.path.name))
        return
    say(
        msg(
            "cli.built",
            index=report.path.name,
            chunks=report.chunks,
            embedded=report.embedded,
            cached=report.cached,
            dense=report.dense_kind,
            seconds=f"{report.seconds:.1f}",
            embed_seconds=f"{report.embed_seconds:.1f}",
        )
    )


def cmd_status(args: argparse.Namespace, settings: Settings) -> int:
    from kb.index.folder import IndexRoot
    from kb.store import Store

    out: dict[str, Any] = {"data_dir": str(settings.data_dir), "model": settings.model}
    if settings.store_path.exists():
        store = Store(settings.store_path)
        out["store"] = store.counts()
        store.close()
    try:
        folder = IndexRoot(settings.index_root).current()
        out["index"] = {"folder": folder.name, **asdict(folder.manifest())}
    except IndexError_ as exc:
        out["index"] = str(exc)
    from kb.index.lock import writer_holder

    holder = writer_holder(settings)
    out["writer"] = holder.describe() if holder is not None else "idle"
    from kb.index.adapt import adaptation_status

    out["adaptation"] = adaptation_status(settings)
    say(json.dumps(out, ensure_ascii=False, indent=2))
    return 0


def add_parsers(sub: Any) -> None:
    """``kb ingest`` and ``kb build``."""
    p = sub.add_parser("ingest", help="read FAQ, cases, manuals, departments; update the index")
    p.add_argument("paths", nargs="+", help="files or folders")
    p.add_argument(
        "--kind",
        choices=["faq", "case", "manual", "department"],
        default=None,
        help="what the files hold (default: detected from each file's name and columns)",
    )
    p.add_argument("--no-build", action="store_true", help="only update the store")
    p.add_argument(
        "--sync",
        action="store_true",
        help="the files are the truth for their kinds: stored documents of those kinds that "
        "they lack are deleted (never after a row error; see kb delete)",
    )
    p.add_argument(
        "--dry-run",
        action="store_true",
        help="write nothing: list what would be added, changed and (with --sync) deleted",
    )
    p.add_argument(
        "--force",
        action="store_true",
        help="with --sync: delete even every document of a kind, or most of a large one",
    )
    p.add_argument(
        "--columns",
        type=Path,
        default=None,
        metavar="MAP.toml",
        help="column mapping file (TOML) for the city's own headers such as 受付番号 "
        "(default: KB_COLUMNS_FILE, else none; see docs/schema.md)",
    )
    p.add_argument(
        "--sheet",
        default=None,
        metavar="NAME",
        help="sheet of .xlsx files to read (default: KB_XLSX_SHEET, else the first sheet)",
    )
    p.set_defaults(func=cmd_ingest)

    p = sub.add_parser("build", help="(re)build the index from the store")
    from kb.scale.commands import add_build_options

    add_build_options(p)
    p.set_defaults(func=cmd_build)


def add_status_parser(sub: Any) -> None:
    """``kb status``."""
    p = sub.add_parser("status", help="what is stored and which index serves")
    p.set_defaults(func=cmd_status)
