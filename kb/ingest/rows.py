"""The rows of a table file as text cells: CSV (any accepted encoding) or xlsx (first sheet).

For readers whose records are not the search kinds' (procedures, a day's bookings): they map
the header themselves and get every row as ``(line, cells)``, the line being the CSV's
physical line or the sheet's row number, so their errors point where a person looks.
"""

from __future__ import annotations

import csv
import datetime as dt
import io
from collections.abc import Iterator
from pathlib import Path

from kb.errors import InputError
from kb.ingest.limits import DEFAULT_LIMITS, InputLimits, check_zip
from kb.types import RowError

TableRow = tuple[int, list[str] | RowError]
"""One non-blank row: its line (or sheet row) and its cells, or the error that broke it."""

TABLE_SUFFIXES = (".csv", ".xlsx")


def table_rows(path: Path, *, limits: InputLimits = DEFAULT_LIMITS) -> Iterator[TableRow]:
    """The non-blank rows of a ``.csv`` or ``.xlsx`` file, header first.

    Args:
        path: The file.
        limits: The zip limits an xlsx file is checked against before it is opened.

    Raises:
        InputError: Another file type, a file that cannot be read, or an xlsx over the zip
            limits.
    """
    suffix = path.suffix.lower()
    if suffix == ".csv":
        from kb.ingest.encoding import read_text

        return csv_rows(read_text(path), str(path))
    if suffix == ".xlsx":
        return _xlsx_rows(path, limits)
    raise InputError(
        str(path), f"unsupported file type '{path.suffix}' (supported: {', '.join(TABLE_SUFFIXES)})"
    )


def csv_rows(text: str, source: str) -> Iterator[TableRow]:
    """The non-blank records of decoded CSV text with the physical line each starts on.

    A stray quote breaks only its record (a :class:`RowError`); reading resumes after it.
    """
    reader = csv.reader(io.StringIO(text, newline=""), strict=True)
    end = 0
    while True:
        start = end + 1
        try:
            cells = next(reader)
        except StopIteration:
            return
        except csv.Error as exc:
            end = reader.line_num
            message = str(exc)
            if "unexpected end of data" in message:
                message = "a quoted cell is never closed (it runs to the end of the file)"
            yield start, RowError(source, start, "", f"malformed CSV: {message}")
            continue
        end = reader.line_num
        if any(cell.strip() for cell in cells):
            yield start, cells


def _xlsx_rows(path: Path, limits: InputLimits) -> Iterator[TableRow]:
    source = str(path)
    if not path.is_file():
        raise InputError(source, "no such file")
    check_zip(path, max_unpacked=limits.max_zip_unpacked_bytes, max_ratio=limits.max_zip_ratio)
    try:
        import openpyxl
    except ImportError:  # pragma: no cover - a dependency of kb
        raise InputError(source, "xlsx needs openpyxl: .venv/bin/pip install openpyxl") from None
    try:
        book = openpyxl.load_workbook(path, read_only=True, data_only=True)
    except Exception as exc:  # openpyxl raises many types for a broken file
        message = f"not a readable Excel .xlsx file ({type(exc).__name__})"
        raise InputError(source, message) from None
    try:
        sheet = book.worksheets[0]
        rows: list[TableRow] = []
        for number, values in enumerate(sheet.iter_rows(values_only=True), start=1):
            cells = [_cell_text(v) for v in values]
            while cells and not cells[-1].strip():
                cells.pop()
            if cells:
                rows.append((number, cells))
    finally:
        book.close()
    return iter(rows)


def _cell_text(value: object) -> str:
    """A cell as the text a CSV export would hold (a date cell as ``YYYY-MM-DD HH:MM``)."""
    if value is None:
        return ""
    if isinstance(value, dt.datetime):
        return value.strftime("%Y-%m-%d %H:%M") if value.time() != dt.time() else str(value.date())
    if isinstance(value, dt.date | dt.time):
        return value.isoformat()
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value)
