"""``kb records ...``: list and export consultation records from the command line.

Both are audited (``record.list`` / ``record.export`` with the record ids, never their text);
records are written in the staff console (``/staff``, 相談記録).
"""

from __future__ import annotations

import argparse
import json
import sys
from dataclasses import asdict
from pathlib import Path
from typing import Any

from kb.desk.export import FORMATS, export_bytes
from kb.errors import DeskError
from kb.ingest.schema import parse_date
from kb.messages import msg
from kb.security.audit_ids import ClientText
from kb.security.commands import cli_audited, private_output
from kb.settings import Settings
from kb.store.records import RECORD_STATUSES, ConsultationRecord, RecordStore


def _out(text: str) -> None:
    print(text, flush=True)


def _date(value: str | None, name: str) -> str:
    if not value:
        return ""
    try:
        return parse_date(value)
    except ValueError as exc:
        raise DeskError(f"{name}: {exc}") from None


def _find(args: argparse.Namespace, settings: Settings) -> list[ConsultationRecord]:
    if not settings.records_path.exists():
        return []
    store = RecordStore(settings.records_path)
    try:
        return store.find(
            status=args.status or "",
            department=args.department or "",
            date_from=_date(args.date_from, "--from"),
            date_to=_date(args.date_to, "--to"),
            limit=getattr(args, "limit", None),
        )
    finally:
        store.close()


def cmd_list(args: argparse.Namespace, settings: Settings) -> int:
    """Print records, newest first (one line each, or ``--json``)."""
    with cli_audited(settings, "record.list") as done:
        found = _find(args, settings)
        done.ids = tuple(r.id for r in found)
        done.detail = f"{len(found)} record(s) listed"
    if args.json:
        _out(json.dumps([asdict(r) for r in found], ensure_ascii=False, indent=2))
        return 0
    if not found:
        _out(msg("desk.none_listed"))
        return 0
    for r in found:
        words = " ".join(r.citizen_words.split())
        words = words if len(words) <= 40 else words[:40] + "…"
        depts = "・".join(r.departments) or "-"
        _out(f"{r.id}  {r.date}  {r.status}  {r.channel or '-':<5}  {depts}  {words}")
    _out(msg("desk.listed", n=len(found)))
    return 0


def cmd_export(args: argparse.Namespace, settings: Settings) -> int:
    """Write records as ingest's case columns (``.csv`` or ``.xlsx``)."""
    out: Path = args.out
    fmt = args.format or out.suffix.lower().lstrip(".")
    if fmt not in FORMATS:
        raise DeskError(msg("desk.export_format", path=out, formats=" / ".join(FORMATS)))
    # The file's name is the operator's to choose (相談記録_山田花子.csv): masked in the log.
    name = ClientText().text(out.name)
    with cli_audited(settings, "record.export", detail=f"{fmt} to {name}") as done:
        found = _find(args, settings)
        data = export_bytes(found, fmt)
        with private_output(out) as partial:
            partial.write_bytes(data)
        done.ids = tuple(r.id for r in found)
        done.detail = f"{len(found)} record(s) as {fmt} to {name}"
    print(msg("desk.exported", n=len(found), path=out), file=sys.stderr, flush=True)
    return 0


def _filters(p: argparse.ArgumentParser) -> None:
    p.add_argument(
        "--status",
        choices=list(RECORD_STATUSES),
        default=None,
        help="対応中 or 完了 (default: both)",
    )
    p.add_argument("--department", default=None, help="only records involving it")
    p.add_argument("--from", dest="date_from", default=None, help="consultation date on or after")
    p.add_argument("--to", dest="date_to", default=None, help="consultation date on or before")


def add_parser(sub: Any) -> None:
    """Add ``kb records`` and its subcommands to the top-level parser's subparsers."""
    p = sub.add_parser("records", help="consultation records (相談記録): list, export")
    rsub = p.add_subparsers(dest="records_command", required=True)

    r = rsub.add_parser("list", help="records, newest first")
    _filters(r)
    r.add_argument("--limit", type=int, default=200, help="at most this many")
    r.add_argument("--json", action="store_true", help="print JSON")
    r.set_defaults(func=cmd_list)

    r = rsub.add_parser("export", help="write records as case rows that `kb ingest` reads")
    r.add_argument("out", type=Path, help="the file to write (.csv or .xlsx)")
    r.add_argument("--format", choices=list(FORMATS), default=None, help="default: from OUT")
    _filters(r)
    r.set_defaults(func=cmd_export)
