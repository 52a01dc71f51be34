"""``kb backup DEST`` and ``kb restore SRC``: the command-line side of :mod:`kb.ops`."""

from __future__ import annotations

import argparse
from pathlib import Path

from kb.errors import BackupError
from kb.messages import msg
from kb.settings import Settings


def cmd_backup(args: argparse.Namespace, settings: Settings) -> int:
    """Back up the data folder; recorded in the audit log (``backup.start`` / ``backup``)."""
    from kb.ops.backup import create_backup, describe
    from kb.security.commands import cli_audited

    if not settings.data_dir.is_dir():  # before the audit log would create the folder
        raise BackupError(msg("backup.no_data", data_dir=settings.data_dir.absolute()))
    dest = Path(args.dest)
    asked = "with models" if args.with_models else "without models"
    with cli_audited(settings, "backup", ids=[str(dest)], detail=asked) as done:
        report = create_backup(settings, dest, with_models=args.with_models)
        m = report.manifest
        done.detail = (
            f"{len(m.files)} files, {m.size} bytes, index {m.index or '-'}, "
            f"store generation {m.store_generation}"
        )
    for line in describe(report):
        print(line, flush=True)
    return 0


def cmd_restore(args: argparse.Namespace, settings: Settings) -> int:
    """Restore a backup into the data folder (recorded in the restored audit log)."""
    from kb.ops.restore import describe, restore_backup

    report = restore_backup(
        settings,
        Path(args.src),
        force=args.force,
        allow_model_change=args.allow_model_change,
    )
    for line in describe(report):
        print(line, flush=True)
    return 0


def add_parsers(sub: argparse._SubParsersAction) -> None:  # type: ignore[type-arg]
    """Register ``kb backup`` and ``kb restore`` on the main parser's subcommands."""
    p = sub.add_parser(
        "backup",
        help="copy every database, the serving index and the audit anchor (safe while serving)",
    )
    p.add_argument("dest", help="a new folder for the backup, outside the data folder")
    p.add_argument(
        "--with-models",
        action="store_true",
        help="also copy the model cache (about 1.8 GB for the default model; rebuilt otherwise)",
    )
    p.set_defaults(func=cmd_backup)

    p = sub.add_parser("restore", help="check a backup and put it in place of the data folder")
    p.add_argument("src", help="a folder written by `kb backup`")
    p.add_argument(
        "--force",
        action="store_true",
        help="replace a data folder that is not empty (kept as DATA.before-restore-TIME)",
    )
    p.add_argument(
        "--allow-model-change",
        action="store_true",
        help="restore a backup made with another model (then run `kb build`)",
    )
    p.set_defaults(func=cmd_restore)


__all__ = ["add_parsers", "cmd_backup", "cmd_restore"]
