"""Reading the audit log out: the ``--since`` / ``--until`` format and CSV / JSONL exports."""

from __future__ import annotations

import csv
import datetime as dt
import json
from collections.abc import Iterable
from typing import TYPE_CHECKING, TextIO

from kb.errors import InputError
from kb.text.cells import formula_safe

if TYPE_CHECKING:
    from kb.security.audit_chain import AuditEvent

FIELDS = ("id", "created_at", "actor", "role", "action", "query", "ids", "detail", "hash")
"""Columns of an export, in order."""


def parse_since(text: str) -> str:
    """An ISO 8601 date or date-time as the log's UTC timestamp format (naive = UTC).

    Raises:
        InputError: ``text`` is not an ISO date or date-time.
    """
    try:
        when = dt.datetime.fromisoformat(text.strip())
    except ValueError as exc:
        raise InputError(
            "--since",
            f"{text!r} is not an ISO 8601 date or date-time (e.g. 2026-04-01 or "
            "2026-04-01T09:00+09:00)",
        ) from exc
    if when.tzinfo is None:
        when = when.replace(tzinfo=dt.UTC)
    return when.astimezone(dt.UTC).isoformat(timespec="milliseconds")


def _cell(value: object) -> str:
    """A CSV cell that a spreadsheet will not run as a formula (CSV injection)."""
    return formula_safe(str(value))


def export(events: Iterable[AuditEvent], fmt: str, out: TextIO) -> int:
    """Write ``events`` as ``csv`` or ``jsonl`` to ``out``; returns how many were written.

    CSV cells starting with ``=``, ``+``, ``-`` or ``@`` get a leading ``'`` so that a query
    typed as ``=HYPERLINK(...)`` stays text when the export is opened in a spreadsheet.
    """
    n = 0
    if fmt == "jsonl":
        for event in events:
            row = {k: v for k, v in event.as_dict().items() if k in FIELDS}
            out.write(json.dumps(row, ensure_ascii=False) + "\n")
            n += 1
        return n
    if fmt != "csv":
        raise InputError("--format", f"unknown format {fmt!r}; use csv or jsonl")
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(FIELDS)
    for event in events:
        writer.writerow(
            [
                _cell(v)
                for v in (
                    event.id,
                    event.created_at,
                    event.actor,
                    event.role,
                    event.action,
                    event.query,
                    " ".join(event.ids),
                    event.detail,
                    event.hash,
                )
            ]
        )
        n += 1
    return n
