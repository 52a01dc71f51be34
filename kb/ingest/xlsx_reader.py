"""Excel workbooks (``.xlsx``) of FAQ entries, cases or departments, read with openpyxl.

This module is kb's one reader of openpyxl. A workbook is a zip archive, so it is checked
against the zip limits (:func:`kb.ingest.limits.check_zip`) before openpyxl opens it: a zip
bomb is refused without being inflated. It is then opened read-only with cached formula
values, and one sheet is read: the first that is not hidden, or the one the column mapping
(``sheet = "..."``) or ``--sheet`` names; other visible sheets are named in a warning, since
their rows are not stored. A cell whose formula failed (``#N/A``) is read as empty, and a cell
merged down one column gives its value to every row it covers.

Cells become the text a CSV export would hold (a date cell ``YYYY-MM-DD``, a whole number
without ``.0``), and rows go through the same mapping and validation as CSV rows
(:func:`kb.ingest.tabular.parse_table`). Errors name the sheet's own row numbers. A number in a
date column is an Excel day count (a date cell that lost its format): ``45444`` is 2024-06-01.
"""

from __future__ import annotations

import datetime as dt
import re
import unicodedata
from bisect import bisect_left
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

from kb.errors import InputError, SchemaError
from kb.ingest.columns import NO_MAPPING, ColumnMapping
from kb.ingest.dates import excel_serial_date
from kb.ingest.limits import DEFAULT_LIMITS, InputLimits, check_zip
from kb.ingest.rows import EXCEL_ERRORS, TableRow, line_list
from kb.ingest.tabular import parse_table
from kb.messages import msg
from kb.text.normalize import without_surrogates
from kb.types import DocKind, ParseResult, RowError

DATE_FIELDS = frozenset({"date", "updated", "expires"})
"""Fields whose numbers are Excel day counts."""


@dataclass(frozen=True)
class Sheet:
    """The rows of one worksheet, as text."""

    name: str
    names: tuple[str, ...]
    """Every worksheet of the workbook, in order."""
    unread: tuple[str, ...]
    """The other visible worksheets, not read (a workbook of several sheets)."""
    date1904: bool
    """The workbook counts days from 1904 (old Mac Excel) instead of 1900."""
    rows: tuple[TableRow, ...]
    """The non-blank rows with their row numbers, all as wide as the widest."""
    hidden: tuple[int, ...] = ()
    """The non-blank rows hidden in Excel (非表示), not in :attr:`rows`."""
    hidden_columns: tuple[int, ...] = ()
    """The columns hidden in Excel that hold data (1-based); they are read."""
    uncomputed: tuple[str, ...] = ()
    """The cells holding a formula without a saved result (``B3``), read as empty."""


def read_xlsx(
    path: Path,
    kind: DocKind | None = None,
    *,
    limits: InputLimits = DEFAULT_LIMITS,
    mapping: ColumnMapping = NO_MAPPING,
) -> ParseResult:
    """Read one sheet of an Excel workbook of FAQ entries, cases or departments.

    Args:
        path: The ``.xlsx`` file.
        kind: The kind of its rows, or ``None`` to detect it from the header.
        limits: Zip limits (checked before the workbook is opened) and field length limits.
        mapping: The city's column mapping; its ``sheet`` names the sheet to read.

    Returns:
        The good rows, one error per bad value and the warnings of the rows kept.

    Raises:
        InputError: Over the zip limits, not a readable workbook, no such sheet, or empty.
        SchemaError: Its columns do not fit the kind (every problem in one message; with
            several sheets, the message names them).
    """
    source = str(path)
    sheet = read_sheet(path, limits=limits, sheet=mapping.sheet)

    def fix(name: str, cell: str) -> str:
        if name in DATE_FIELDS and _NUMBER_RE.fullmatch(cell):
            try:
                return excel_serial_date(float(cell), date1904=sheet.date1904)
            except ValueError:
                return cell  # reported by the date parser, with the accepted forms
        return cell

    if not sheet.rows:
        raise InputError(source, msg("xlsx.empty", sheet=sheet.name))
    try:
        result = parse_table(
            sheet.rows, source=source, kind=kind, limits=limits, mapping=mapping, fix=fix
        )
    except SchemaError as exc:
        if len(sheet.names) < 2:
            raise
        hint = msg("xlsx.sheets_hint", sheet=sheet.name, sheets=", ".join(sheet.names))
        raise SchemaError(exc.source, f"{exc.message}\n{hint}", exc.line, exc.field) from None
    if sheet.hidden:
        lines = line_list(sheet.hidden)
        note = RowError(source, 0, "", msg("xlsx.hidden_rows", sheet=sheet.name, lines=lines))
        result = replace(result, warnings=(note, *result.warnings))
    if sheet.uncomputed:
        # A workbook written by a program, not Excel, keeps formulas without their results:
        # the cells read as empty, and a required one as "missing", which would mislead.
        cells = ", ".join(sheet.uncomputed[:5]) + (" …" if len(sheet.uncomputed) > 5 else "")
        count = len(sheet.uncomputed)
        shown = msg("xlsx.uncomputed", sheet=sheet.name, count=count, cells=cells)
        result = replace(result, warnings=(RowError(source, 0, "", shown), *result.warnings))
    if sheet.hidden_columns:
        from openpyxl.utils import get_column_letter  # type: ignore[import-untyped, unused-ignore]

        letters = ", ".join(get_column_letter(c) for c in sheet.hidden_columns[:10])
        shown = msg("xlsx.hidden_columns", sheet=sheet.name, columns=letters)
        note = RowError(source, 0, "", shown)
        result = replace(result, warnings=(note, *result.warnings))
    if sheet.unread and not mapping.sheet:
        # Rows on the other sheets are not stored: say so, or they are lost without a word.
        others = "、".join(sheet.unread)
        note = RowError(source, 0, "", msg("xlsx.other_sheets", sheet=sheet.name, sheets=others))
        result = replace(result, warnings=(note, *result.warnings))
    return result


_NUMBER_RE = re.compile(r"\d{1,7}(?:\.\d+)?")


def read_sheet(path: Path, *, limits: InputLimits = DEFAULT_LIMITS, sheet: str = "") -> Sheet:
    """The non-blank rows of one worksheet, as text, with the sheet's row numbers.

    Args:
        path: The ``.xlsx`` file.
        limits: The zip limits it is checked against before it is opened.
        sheet: The sheet to read (compared ignoring width and case); ``""``: the first.

    Raises:
        InputError: Over the zip limits, not a readable workbook, or no such sheet.
    """
    source = str(path)
    check_zip(
        path,
        max_unpacked=limits.max_zip_unpacked_bytes,
        max_ratio=limits.max_zip_ratio,
        max_members=limits.max_zip_members,
        max_part=limits.max_xml_part_bytes,
        source=source,
    )
    import openpyxl  # type: ignore[import-untyped, unused-ignore]

    try:
        book = openpyxl.load_workbook(path, read_only=True, data_only=True)
    except Exception as exc:  # openpyxl raises many types for a broken or foreign file
        problem = f"{type(exc).__name__}: {exc}"[:200]
        raise InputError(source, msg("xlsx.unreadable", problem=problem)) from None
    try:
        worksheets = list(book.worksheets)
        names = tuple(str(ws.title) for ws in worksheets)
        chosen, name = _choose(worksheets, names, sheet, source)
        unread = tuple(
            n for ws, n in zip(worksheets, names, strict=True) if _visible(ws) and ws is not chosen
        )
        date1904 = book.epoch.year == 1904
        # A row hidden in Excel is most often one withdrawn or kept for reference (an old
        # answer, a campaign that ended): it must not be published as if it were current.
        layout = _layout(chosen)
        rows, hidden = _rows(
            chosen, name=name, source=source, max_cells=limits.max_sheet_cells, layout=layout
        )
        # A hidden column is read (a hidden No. column is common), but said: it may be notes.
        # Only the sheet's own width is looked at (a <col> may hide all 16,384 columns).
        width = len(rows[0][1]) if rows else 0
        columns = tuple(
            c
            for c in sorted(layout.hidden_columns)
            if c <= width and any(r[1][c - 1] for r in rows)
        )
    except InputError:
        raise
    except Exception as exc:  # a damaged sheet part: a file error, not a crash
        problem = f"{type(exc).__name__}: {exc}"[:200]
        raise InputError(source, msg("xlsx.unreadable", problem=problem)) from None
    finally:
        book.close()
    return Sheet(
        name=name,
        names=names,
        unread=unread,
        date1904=date1904,
        rows=tuple(rows),
        hidden=hidden,
        hidden_columns=columns,
        uncomputed=layout.uncomputed,
    )


def _choose(
    worksheets: list[Any], names: tuple[str, ...], sheet: str, source: str
) -> tuple[Any, str]:
    """The worksheet named ``sheet`` and its name as written; without a name, the first sheet
    that is not hidden (a hidden sheet is most often an old version or a lookup list)."""
    if not worksheets:
        raise InputError(source, msg("xlsx.empty", sheet=sheet or "-"))
    if not sheet:
        for ws, name in zip(worksheets, names, strict=True):
            if _visible(ws):
                return ws, name
        return worksheets[0], names[0]
    wanted = _key(sheet)
    for ws, name in zip(worksheets, names, strict=True):
        if _key(name) == wanted:
            return ws, name
    raise InputError(source, msg("xlsx.no_sheet", sheet=sheet, sheets=", ".join(names)))


def _visible(ws: Any) -> bool:
    return getattr(ws, "sheet_state", "visible") == "visible"


def _key(name: str) -> str:
    return unicodedata.normalize("NFKC", name).strip().casefold()


def _rows(
    ws: Any, *, name: str, source: str, max_cells: int, layout: _Layout
) -> tuple[list[tuple[int, list[str]]], tuple[int, ...]]:
    """The non-blank rows not hidden in ``layout``, each padded to the widest row's width, and
    the numbers of the non-blank hidden rows left out.

    The cells are counted as they are read, padding included: a few KB of XML can put a value
    in column XFD (16,384) on every row, which padded would be gigabytes. Past ``max_cells``
    the sheet is refused before its rows are held. Hidden rows go before merged cells are
    filled: a merge that starts on a hidden row gives nothing to the visible rows under it.
    """
    # Read-only sheets trust the size the writing program declared, which some programs get
    # wrong (A1:A1): forget it and read every row as stored.
    ws.reset_dimensions()
    found: list[tuple[int, list[str]]] = []
    left_out: list[int] = []
    width = 0
    for number, values in enumerate(ws.iter_rows(values_only=True), start=1):
        if number > _MAX_ROWS:
            # openpyxl yields an empty row for every number skipped: a few bytes of XML
            # (<row r="2000000000">) would keep this loop busy for half an hour.
            raise InputError(source, msg("xlsx.row_beyond", sheet=name, limit=_MAX_ROWS))
        cells = [_cell_text(v) for v in values]
        while cells and not cells[-1].strip():
            cells.pop()
        if cells and number in layout.hidden_rows:
            left_out.append(number)
        elif cells:
            found.append((number, cells))
            width = max(width, len(cells))
            if width * len(found) > max_cells:
                raise InputError(
                    source,
                    msg(
                        "limits.sheet_cells",
                        sheet=name,
                        row=number,
                        count=width * len(found),
                        limit=max_cells,
                    ),
                )
    padded = [(number, cells + [""] * (width - len(cells))) for number, cells in found]
    _fill_merged_down(padded, layout.merges, sheet=name, source=source, max_cells=max_cells)
    return list(padded), tuple(left_out)


def _fill_merged_down(
    rows: list[tuple[int, list[str]]],
    merges: tuple[tuple[int, int, int], ...],
    *,
    sheet: str,
    source: str,
    max_cells: int,
) -> None:
    """Give every row of a cell merged down a column the merged cell's value.

    Excel keeps the value of a merged cell in its top cell only: a category written once for a
    block of rows (セルの結合) would reach the first row of the block and leave the others empty.
    Only merges within one column are given (:func:`_layout`): a merge across columns is a
    title or a wide answer, whose copies would land in other fields. The cells filled are
    counted against the same budget as the cells read.
    """
    if not rows or not merges:
        return
    numbers = [number for number, _ in rows]
    width = len(rows[0][1])
    filled = 0
    for column, first_row, last_row in merges:
        if column > width:
            continue
        top = bisect_left(numbers, first_row)
        if top == len(numbers) or numbers[top] != first_row:
            continue  # the merged cell's row is blank: nothing to give
        value = rows[top][1][column - 1]
        k = top + 1
        while k < len(numbers) and numbers[k] <= last_row:
            cells = rows[k][1]
            if not cells[column - 1]:
                cells[column - 1] = value
                filled += 1
                if filled > max_cells:
                    raise InputError(
                        source,
                        msg(
                            "limits.sheet_cells",
                            sheet=sheet,
                            row=numbers[k],
                            count=filled,
                            limit=max_cells,
                        ),
                    )
            k += 1


@dataclass(frozen=True)
class _Layout:
    """What the sheet's XML says beside its cells (a read-only sheet of openpyxl does not give
    it)."""

    hidden_rows: frozenset[int] = frozenset()
    hidden_columns: frozenset[int] = frozenset()
    merges: tuple[tuple[int, int, int], ...] = ()
    """Cells merged down one column: ``(column, first row, last row)``, 1-based."""
    uncomputed: tuple[str, ...] = ()
    """Cells with a formula and no saved result (``B3``), in sheet order."""


def _layout(ws: Any) -> _Layout:
    """The rows and columns hidden in Excel and the cells merged down a column, in one pass
    over the sheet's XML (none when a byte scan finds neither).

    A row is hidden by ``hidden="1"`` (in any quoting) or a zero height (``ht="0"``); a row
    without ``r`` is numbered after the one before it; a column by ``<col min max
    hidden="1">``. The rows read past are dropped as the pass goes: it holds no more than a few.
    """
    from openpyxl.utils import range_boundaries  # type: ignore[import-untyped, unused-ignore]
    from openpyxl.xml.constants import SHEET_MAIN_NS  # type: ignore[import-untyped, unused-ignore]
    from openpyxl.xml.functions import iterparse  # type: ignore[import-untyped, unused-ignore]

    if not _xml_has(ws, (b"hidden", b"ht=", b"mergeCell ", b"<f>", b"<f ", b":f>", b":f ")):
        return _Layout()
    row_tag, col_tag = f"{{{SHEET_MAIN_NS}}}row", f"{{{SHEET_MAIN_NS}}}col"
    merge_tag, data_tag = f"{{{SHEET_MAIN_NS}}}mergeCell", f"{{{SHEET_MAIN_NS}}}sheetData"
    cell_tag, formula_tag = f"{{{SHEET_MAIN_NS}}}c", f"{{{SHEET_MAIN_NS}}}f"
    value_tag = f"{{{SHEET_MAIN_NS}}}v"
    rows: set[int] = set()
    columns: set[int] = set()
    merges: list[tuple[int, int, int]] = []
    uncomputed: list[str] = []
    number = 0
    data = None
    with ws._get_source() as xml:  # the sheet's part of the archive, as openpyxl opens it
        for event, element in iterparse(xml, events=("start", "end")):
            if event == "start":
                if element.tag == data_tag:
                    data = element
            elif element.tag == cell_tag and element.find(formula_tag) is not None:
                # No <v>, or an empty one on a cell not typed as text: no result was saved.
                # Excel saves a formula whose result is "" as t="str" with an empty <v/>.
                value = element.find(value_tag)
                text_result = (element.get("t") or "").strip() in ("str", "inlineStr")
                if value is None or (not value.text and not text_result):
                    uncomputed.append((element.get("r") or "?").strip())
            elif element.tag == row_tag:
                r = (element.get("r") or "").strip()
                number = int(r) if r.isdigit() else number + 1
                if _true(element.get("hidden")) or _zero(element.get("ht")):
                    rows.add(number)
                if data is not None and len(data) > 64:
                    data.clear()  # the rows' cells were read by _rows
            elif element.tag == col_tag and _true(element.get("hidden")):
                first, last = _int(element.get("min")), _int(element.get("max"))
                columns.update(range(max(first, 1), min(last, _MAX_COLUMNS) + 1))
            elif element.tag == merge_tag:
                first_col, first_row, last_col, last_row = range_boundaries(element.get("ref"))
                if first_col == last_col and last_row > first_row:
                    merges.append((first_col, first_row, last_row))
    return _Layout(frozenset(rows), frozenset(columns), tuple(merges), tuple(uncomputed))


_MAX_COLUMNS = 16_384
"""Excel's last column (XFD)."""
_MAX_ROWS = 1_048_576
"""Excel's last row."""


def _true(value: str | None) -> bool:
    return (value or "").strip().lower() in ("1", "true")


def _zero(value: str | None) -> bool:
    try:
        return value is not None and float(value) == 0
    except ValueError:
        return False


def _int(value: str | None) -> int:
    text = (value or "").strip()
    return int(text) if text.isdigit() else 0


def _xml_has(ws: Any, needles: tuple[bytes, ...]) -> bool:
    """Whether the sheet's XML holds one of ``needles`` (a merged cell, a hidden row, a
    formula): a byte scan, far cheaper than parsing it."""
    keep = max(len(n) for n in needles)
    tail = b""
    with ws._get_source() as xml:
        while chunk := xml.read(1 << 20):
            if any(n in tail + chunk for n in needles):
                return True
            tail = chunk[-keep:]
    return False


def _cell_text(value: object) -> str:
    """A cell as the text a CSV export would hold."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, dt.datetime):
        if value.time() == dt.time():
            return value.date().isoformat()
        return value.strftime("%Y-%m-%d %H:%M")
    if isinstance(value, dt.date):
        return value.isoformat()
    if isinstance(value, dt.time):
        return value.strftime("%H:%M")
    if isinstance(value, float):
        return str(int(value)) if value.is_integer() else f"{value:.15g}"
    text = str(value)
    if "_x" in text:
        # Excel writes a carriage return in a cell (a line pasted from Windows) as "_x000D_",
        # which openpyxl leaves as written; the CR LF it stands for is read as a CSV's is.
        from openpyxl.utils.escape import unescape  # type: ignore[import-untyped, unused-ignore]

        # _xD800_ unescapes to a lone surrogate, which nothing can write as UTF-8.
        text = without_surrogates(unescape(text))
    text = text.strip()
    if text in EXCEL_ERRORS:
        return ""  # a formula that failed (#N/A of a lookup): no value, never the error's text
    return text
