"""Export consultation records as case rows (CSV or Excel) that ``kb ingest`` reads back.

The columns are ingest's case columns under their Japanese names (:data:`COLUMNS`, aliases of
:data:`kb.ingest.schema.SPECS`), so a city can open the file in Excel or keep it in its own
records system, and the CSV goes through ``kb ingest`` as it is. Texts are the masked texts
the records hold. The 相談番号 is the id of the case a record becomes (``desk-R000001``): read
back into the same kb, a closed record's row is its case (unchanged); ingest refuses that
prefix for any case the store does not hold (:func:`kb.store.records.reserved_case_id`), so
another kb takes the rows only under the city's own numbers.

A cell starting with ``=``, ``+``, ``-``, ``@``, a tab or a carriage return would be read by
Excel as a formula (CSV injection, e.g. ``-2+3+cmd|' /C calc'!A0``): it is written with a
leading ``'`` in the CSV, and as a plain string cell in the workbook.
"""

from __future__ import annotations

import csv
import io
import re
from collections.abc import Iterable, Sequence

from kb.ingest.schema import SPECS
from kb.store.records import ConsultationRecord
from kb.text.cells import formula_safe
from kb.types import DocId

COLUMNS: tuple[tuple[str, str], ...] = (
    ("id", "相談番号"),
    ("date", "相談日"),
    ("channel", "相談経路"),
    ("category", "相談分類"),
    ("summary", "相談内容"),
    ("resolution", "対応内容"),
    ("departments", "担当課"),
    ("status", "状態"),
)
"""(ingest field, column header): every case field, in the schema's order."""
FORMATS = ("csv", "xlsx")
PENDING = "（未記入）"
"""Written for an open record's empty summary or resolution (ingest requires both)."""
_CONTROL = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\x7f\ufffe\uffff\ud800-\udfff]")
"""Control characters, the noncharacters U+FFFE and U+FFFF and lone surrogates: no spreadsheet
cell may hold them (no XML may: one of them in one record made every export fail), none is
text."""


def _check_columns() -> None:
    spec = SPECS["case"]
    for name, header in COLUMNS:
        if spec.resolve(header) != name:  # pragma: no cover - guards a schema change
            raise AssertionError(f"export column {header!r} no longer means {name!r}")


def rows(records: Iterable[ConsultationRecord]) -> list[list[str]]:
    """The header row and one row per record, as ingest's case columns."""
    _check_columns()
    out = [[header for _, header in COLUMNS]]
    for r in records:
        out.append(
            [
                DocId.local_of(r.case_id),
                r.date,
                r.channel,
                r.category,
                r.citizen_words or PENDING,
                r.actions or PENDING,
                "|".join(r.departments),
                r.status,
            ]
        )
    return out


def _safe(cell: str) -> str:
    cell = _CONTROL.sub("", cell)
    return formula_safe(cell)


def to_csv(table: Sequence[Sequence[str]]) -> bytes:
    """The table as UTF-8 CSV with a BOM (Excel opens it as UTF-8), CRLF line ends."""
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\r\n")
    for row in table:
        writer.writerow([_safe(c) for c in row])
    return ("\ufeff" + buffer.getvalue()).encode("utf-8")


def to_xlsx(table: Sequence[Sequence[str]]) -> bytes:
    """The table as an Excel workbook (one sheet, 相談記録)."""
    from openpyxl import Workbook  # type: ignore[import-untyped, unused-ignore]

    book = Workbook()
    sheet = book.active
    assert sheet is not None
    sheet.title = "相談記録"
    for i, row in enumerate(table, start=1):
        for j, value in enumerate(row, start=1):
            cell = sheet.cell(row=i, column=j)
            cell.value = _CONTROL.sub("", value)
            # openpyxl takes a string starting with "=" as a formula: keep it text.
            cell.data_type = "s"
    for column, width in zip("ABCDEFGH", (11, 12, 10, 14, 60, 60, 24, 8), strict=True):
        sheet.column_dimensions[column].width = width
    sheet.freeze_panes = "A2"
    buffer = io.BytesIO()
    book.save(buffer)
    return buffer.getvalue()


def export_bytes(records: Iterable[ConsultationRecord], fmt: str) -> bytes:
    """The records as a ``csv`` or ``xlsx`` file's bytes.

    Raises:
        ValueError: An unknown format.
    """
    table = rows(records)
    if fmt == "csv":
        return to_csv(table)
    if fmt == "xlsx":
        return to_xlsx(table)
    raise ValueError(f"unknown export format {fmt!r} (one of {', '.join(FORMATS)})")
