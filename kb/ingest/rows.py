"""The rows of a table file as text cells: CSV (any accepted encoding) or xlsx (first sheet).

Every table reader gets its rows as ``(line, cells)`` from here, the line being the CSV's
physical line or the sheet's row number, so their errors point where a person looks: the search
kinds through :func:`csv_rows` (:mod:`kb.ingest.tabular`), the readers whose records are not the
search kinds' (procedures, a day's bookings) through :func:`table_rows`, mapping the header
themselves.
"""

from __future__ import annotations

import csv
import dataclasses
import io
import re
import unicodedata
from collections.abc import Iterator, Sequence
from pathlib import Path

from kb.errors import InputError
from kb.ingest.limits import DEFAULT_LIMITS, InputLimits
from kb.messages import msg
from kb.types import RowError

EXCEL_ERRORS = frozenset(
    {"#N/A", "#REF!", "#VALUE!", "#DIV/0!", "#NAME?", "#NUM!", "#NULL!", "#SPILL!", "#CALC!"}
)
"""What a failed formula leaves as its value (in a workbook, and in the CSV Excel saves from
it): read as an empty cell, never as the error's text."""
TableRow = tuple[int, list[str] | RowError]
"""A non-blank row of a table: its line (CSV) or row number (XLSX) and its cells, or the error
that broke it."""

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

    A stray quote breaks only its record (a :class:`RowError`); reading resumes after it. Cells
    are separated by commas, or by tabs when the first line has tabs and no comma: Excel's
    「Unicode テキスト」 and many exports are tab-separated, and are often named ``.csv``.
    """
    first = _first_line(text)
    delimiter = "\t" if "\t" in first and "," not in first else ","
    # strict=True turns a stray quote into an error for that record instead of silently
    # merging cells; the reader recovers at the next line.
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=delimiter, strict=True)
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
                message = msg("rows.unclosed_quote", first=start, last=end, lines=end - start + 1)
            elif "field larger than field limit" in message:
                message = msg("rows.cell_too_long", limit=csv.field_size_limit())
            elif message.endswith(" expected after '\"'"):  # strict: "a"b,c
                message = msg("rows.csv_after_quote", delimiter="TAB" if delimiter == "\t" else ",")
            yield start, RowError(source, start, "", msg("rows.malformed_csv", problem=message))
            continue
        end = reader.line_num
        if any(cell.strip() for cell in cells):
            yield start, cells


def _xlsx_rows(path: Path, limits: InputLimits) -> Iterator[TableRow]:
    """The first sheet's rows, read by kb's one openpyxl reader (zip limits checked first)."""
    from kb.ingest.xlsx_reader import read_sheet

    if not path.is_file():
        raise InputError(str(path), "no such file")
    return iter(read_sheet(path, limits=limits).rows)


def _first_line(text: str) -> str:
    """The first line of ``text`` that is not blank (without reading the rest)."""
    start = 0
    while start < len(text):
        end = text.find("\n", start)
        if end < 0:
            end = len(text)
        if text[start:end].strip():
            return text[start:end]
        start = end + 1
    return ""


# --- rows that are no records -----------------------------------------------------------

_TOTALS = frozenset({"合計", "総計", "小計", "計", "合計件数", "件数", "件数計", "total", "sum"})


# An export's count line in one cell: 出力件数：80件, 件数 80, 合計 12件.
_COUNT_LINE_RE = re.compile(r"(?:出力)?(?:総?件数|合計|総計)(?:計)?\s*[:=]?\s*[0-9,]+\s*件?")


def totals_row(cells: Sequence[str]) -> bool:
    """Whether a row is the export's totals line (合計 | 80件 | =COUNTA(...), or 出力件数：80件 in
    one cell): its first filled cell is 合計, 総計, 小計... or a count, and at most half of its
    cells are filled."""
    filled = [c.strip() for c in cells if c.strip()]
    if not filled:
        return False
    first = unicodedata.normalize("NFKC", filled[0]).casefold()
    return (first.rstrip(":") in _TOTALS or bool(_COUNT_LINE_RE.fullmatch(first))) and len(
        filled
    ) * 2 <= len(cells)


_NOTE_MARKS = ("※", "*", "注", "(注", "【注", "出典", "以上")
"""How a note starts, as NFKC writes it (a full-width asterisk or bracket included)."""
_SENTENCE_END_RE = re.compile(r"(?:。|ました|です|ます|ください)\s*$")


def note_row(cells: Sequence[str], columns: int) -> bool:
    """Whether a row is a note written below (or between) the records, not a record: one
    filled cell in a table of three columns or more, which starts as a note does (※, 注,
    出典, 以上) or is a sentence of fifteen characters or more (※このシートは広報広聴課FAQシステム
    から出力しました). A record with one field filled is still a record with errors."""
    filled = [c.strip() for c in cells if c.strip()]
    if len(filled) != 1 or columns < 3:
        return False
    text = unicodedata.normalize("NFKC", filled[0])
    return text.startswith(_NOTE_MARKS) or (len(text) >= 15 and bool(_SENTENCE_END_RE.search(text)))


_CANCELLED = frozenset({"取消", "取り消し", "取消し", "取消済", "取消済み", "誤登録", "誤入力"})
"""Statuses of a case entered in error (not 取下げ: an application withdrawn is an outcome)."""


def cancelled(status: str) -> bool:
    """Whether a case's status says it was entered in error (:data:`_CANCELLED`)."""
    return unicodedata.normalize("NFKC", status).strip() in _CANCELLED


def line_list(lines: Sequence[int]) -> str:
    """``3, 7, 12 行目`` (``3, 7, 12``) for a message naming rows: the first ten, then how
    many more (``… 85 行目ほか 1 行``)."""
    shown = ", ".join(str(n) for n in lines[:10])
    if len(lines) <= 10:
        return msg("rows.lines", lines=shown)
    return msg("rows.more_lines", lines=shown, count=len(lines) - 10)


def once_per_message(warnings: list[RowError]) -> list[RowError]:
    """One warning for the rows that got the same one (列「更新日」:「未定」… on 17 rows: an
    outside clerk read it 17 times), at its first row, naming the others."""
    rows: dict[tuple[str, str], list[int]] = {}
    first: dict[tuple[str, str], RowError] = {}
    for warning in warnings:
        key = (warning.field, warning.message)
        rows.setdefault(key, []).append(warning.line)
        first.setdefault(key, warning)
    out: list[RowError] = []
    for key, warning in first.items():
        lines = rows[key]
        if len(lines) > 1:
            more = msg("rows.same_warning", lines=line_list(lines), count=len(lines))
            warning = dataclasses.replace(warning, message=warning.message + more)
        out.append(warning)
    return out
