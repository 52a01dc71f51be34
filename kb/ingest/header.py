"""Where a table's header is: the row whose cells name the columns, above the records.

The header is the first row with at least two filled cells: rows above it with one cell at
most (a title such as ``相談記録一覧 令和6年度``) are skipped; without such a row the first row
is the header. When that row is no header (an export's own lines such as
``出力日：2024/4/1,出力者：広報課``), the header is the first of the next :data:`PREAMBLE_ROWS`
rows that is one, and :attr:`Header.skipped` names the lines passed over.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from itertools import chain, islice

from kb.errors import InputError, SchemaError
from kb.ingest.columns import (
    NOT_STORED,
    ColumnMap,
    ColumnMapping,
    detect_kind,
    map_columns,
    resolve,
)
from kb.ingest.rows import TableRow
from kb.ingest.schema import TABULAR_KINDS
from kb.messages import msg
from kb.types import DocKind, RowError

MAX_HEADER_COLUMNS = 1_000
"""Named columns of a table's header; a wider file is refused before its columns are mapped."""
PREAMBLE_ROWS = 5
"""Rows after a first row that is no header among which the header may still be found."""


@dataclass(frozen=True)
class Header:
    """A table's header, its columns mapped, and the rows after it."""

    line: int
    columns: ColumnMap
    skipped: list[int]
    """Lines of two cells or more above the header that were no header."""
    rest: Iterable[TableRow]


def find_header(
    rows: Iterable[TableRow], *, source: str, kind: DocKind | None, mapping: ColumnMapping
) -> Header:
    """The header of ``rows`` (see the module docstring), its columns mapped to ``kind``.

    Raises:
        InputError: No rows.
        SchemaError: The header cannot be read, is too wide, or its columns do not fit the
            kind (the first candidate's problem, when no later row is a header either).
    """
    iterator = iter(rows)
    titles: list[TableRow] = []
    first: tuple[int, list[str]] | None = None
    for line, cells in iterator:
        if isinstance(cells, RowError):
            problem = msg("rows.header_unreadable", problem=cells.message)
            raise SchemaError(source, problem, line=line)
        if sum(1 for cell in cells if cell.strip()) >= 2:
            first = (line, cells)
            break
        titles.append((line, cells))
    rest: Iterable[TableRow] = iterator
    if first is None:  # no row of two cells: the first row is the header, as written
        if not titles:
            raise InputError(source, msg("rows.empty_file"))
        first_line, first_cells = titles[0]
        first = (first_line, first_cells if isinstance(first_cells, list) else [])
        rest = titles[1:]
    line, cells = first
    width = sum(1 for cell in cells if cell.strip())
    if width > MAX_HEADER_COLUMNS:
        # Each unknown column is matched against every field name for the report: a header of
        # 100,000 columns took 49 s and a 4.6 MB message.
        raise SchemaError(
            source, msg("columns.too_many", count=width, limit=MAX_HEADER_COLUMNS), line=line
        )
    try:
        found = kind or detect_kind(cells, source, line, mapping)
        return Header(line, map_columns(cells, found, source, line, mapping), [], rest)
    except SchemaError as first_problem:
        # Lines of an export's own above the header (出力日：…,出力者：…): the header may be
        # one of the next few rows. Refused as before when none of them is one.
        later = _later_header(iterator, kind, source, mapping, _known(cells, kind, mapping))
        if later is None:
            raise first_problem from None
        if isinstance(later, SchemaError):
            # A later row names more of the kind's columns than this one (a title line
            # 「令和6年10月1日現在 | 総務課作成」 above the header): its problem is the one to fix.
            raise later from None
        return Header(later.line, later.columns, [line, *later.skipped], later.rest)


def _later_header(
    rows: Iterator[TableRow],
    kind: DocKind | None,
    source: str,
    mapping: ColumnMapping,
    known: int,
) -> Header | SchemaError | None:
    """The first of the next :data:`PREAMBLE_ROWS` rows whose cells are a header; else the
    problem of the row that names the most known columns, more than ``known`` (the first
    row's) and at least two; else ``None``. The rows read are then lost, which does not
    matter: the file is refused."""
    seen: list[TableRow] = list(islice(rows, PREAMBLE_ROWS))
    best: tuple[int, SchemaError] | None = None
    for k, (line, cells) in enumerate(seen):
        if isinstance(cells, RowError):
            continue
        filled = sum(1 for c in cells if c.strip())
        if filled < 2 or filled > MAX_HEADER_COLUMNS:
            continue  # too wide to map (each unknown column is matched for a hint): no header
        try:
            found = kind or detect_kind(cells, source, line, mapping)
            columns = map_columns(cells, found, source, line, mapping)
        except SchemaError as problem:
            score = _known(cells, kind, mapping)
            if score >= 2 and score > known and (best is None or score > best[0]):
                best = (score, problem)
            continue
        return Header(line, columns, [n for n, _ in seen[:k]], chain(seen[k + 1 :], rows))
    return None if best is None else best[1]


def _known(cells: list[str], kind: DocKind | None, mapping: ColumnMapping) -> int:
    """How many of ``cells`` name a stored column of ``kind`` (of the best kind if ``None``)."""
    kinds = (kind,) if kind else TABULAR_KINDS
    return max(
        sum(1 for cell in cells if resolve(k, cell, mapping) not in (None, NOT_STORED))
        for k in kinds
    )
