"""Readers for tabular sources: CSV (stdlib :mod:`csv`) and JSONL.

Both map their columns/keys with :mod:`kb.ingest.schema`, turn each good row into a
:class:`~kb.types.Document` (FAQ, case) or :class:`~kb.types.Department` (directory), and
collect each bad row as a :class:`~kb.types.RowError` while keeping the good ones. Problems
with the columns themselves (unknown, missing, ambiguous) stop the file with a
:class:`~kb.errors.SchemaError`.

Values are stripped of surrounding whitespace but otherwise kept as written: text
normalisation is a later stage. Ids are the exception, being identifiers rather than text
(see :func:`kb.ingest.schema.parse_id`).
"""

from __future__ import annotations

import csv
import io
import json
import re
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path

from kb.errors import InputError, SchemaError
from kb.ingest.encoding import read_text
from kb.ingest.limits import (
    DEFAULT_LIMITS,
    MAX_JSON_DEPTH,
    InputLimits,
    json_depth_message,
    json_too_deep,
)
from kb.ingest.schema import (
    SPECS,
    check_length,
    detect_kind,
    map_columns,
    parse_channel,
    parse_date,
    parse_id,
    parse_published,
    parse_url,
    split_multi,
)
from kb.types import Department, DocId, DocKind, Document, ParseResult, RowError

RawValue = str | tuple[str, ...]
"""A cell: text, or (JSONL) a list of texts for a multi-valued field."""


def read_csv(
    path: Path, kind: DocKind | None = None, *, limits: InputLimits = DEFAULT_LIMITS
) -> ParseResult:
    """Read a CSV file of FAQ entries, cases or departments.

    Args:
        path: The file (UTF-8, UTF-8 with BOM or CP932; header on line 1).
        kind: The kind of its rows, or ``None`` to detect it from the header.
        limits: The field length limits (``max_record_title_chars``, ``max_record_body_chars``);
            a longer value is a row error.

    Returns:
        The good rows and one error per bad value.

    Raises:
        InputError: The file cannot be read or decoded, or is empty.
        SchemaError: Its columns do not fit the kind.
    """
    return parse_csv(read_text(path), source=str(path), kind=kind, limits=limits)


def read_jsonl(
    path: Path, kind: DocKind | None = None, *, limits: InputLimits = DEFAULT_LIMITS
) -> ParseResult:
    """Read a JSONL file (one JSON object per line) of FAQ entries, cases or departments.

    Args:
        path: The file (UTF-8).
        kind: The kind of its records, or ``None`` to detect it from the first object's keys.
        limits: The field length limits, as for :func:`read_csv`.

    Returns:
        The good records and one error per bad line or value.

    Raises:
        InputError: The file cannot be read or decoded, or is empty.
        SchemaError: An object has an unknown key or lacks a required one.
    """
    return parse_jsonl(read_text(path), source=str(path), kind=kind, limits=limits)


def parse_csv(
    text: str,
    *,
    source: str,
    kind: DocKind | None = None,
    limits: InputLimits = DEFAULT_LIMITS,
) -> ParseResult:
    """Parse decoded CSV text. See :func:`read_csv`.

    Line numbers are physical lines, so a row whose quoted cell spans lines is reported at the
    line it starts on. Blank rows are skipped.
    """
    if not text.strip():
        raise InputError(source, "file is empty")
    rows = _csv_rows(text, source)
    try:
        header_line, header = next(rows)
    except StopIteration:  # only separators, no cell with text
        raise InputError(source, "file is empty") from None
    if isinstance(header, RowError):
        raise SchemaError(source, f"cannot read the header: {header.message}", line=header_line)
    columns = map_columns(
        header, kind or detect_kind(header, source, header_line), source, header_line
    )
    builder = _Builder(source, columns.kind, limits=limits)
    for line, cells in rows:
        if isinstance(cells, RowError):
            builder.errors.append(cells)
            continue
        if len(cells) != len(columns.fields):
            message = f"expected {len(columns.fields)} cells like the header, got {len(cells)}"
            builder.errors.append(RowError(source, line, "", message))
            continue
        pairs = list(zip(columns.fields, cells, strict=True))
        if any(name is None and cell.strip() for name, cell in pairs):
            builder.errors.append(RowError(source, line, "", "value in a column without header"))
        else:
            builder.add(line, {name: cell for name, cell in pairs if name is not None})
    return builder.result()


def parse_jsonl(
    text: str,
    *,
    source: str,
    kind: DocKind | None = None,
    limits: InputLimits = DEFAULT_LIMITS,
) -> ParseResult:
    """Parse decoded JSONL text. See :func:`read_jsonl`.

    Blank lines are skipped. A line that is not valid JSON, not an object, or nested deeper
    than :data:`~kb.ingest.limits.MAX_JSON_DEPTH` is a row error. Numbers are read as their
    text (``1`` → ``"1"``), ``null`` as empty, and multi-valued fields may be JSON lists.
    """
    if not text.strip():
        raise InputError(source, "file is empty")
    builder: _Builder | None = None
    errors: list[RowError] = []  # bad lines seen before the kind is known
    for line, raw in enumerate(text.split("\n"), start=1):
        if not raw.strip():
            continue
        if json_too_deep(raw, MAX_JSON_DEPTH):
            message = json_depth_message(MAX_JSON_DEPTH)
            (builder.errors if builder else errors).append(RowError(source, line, "", message))
            continue
        try:
            obj = json.loads(raw)
        except json.JSONDecodeError as exc:
            message = f"invalid JSON: {exc.msg} (column {exc.colno})"
            (builder.errors if builder else errors).append(RowError(source, line, "", message))
            continue
        except RecursionError:  # only if the depth check above and json disagree on a line
            message = json_depth_message(MAX_JSON_DEPTH)
            (builder.errors if builder else errors).append(RowError(source, line, "", message))
            continue
        if _SURROGATE_ESCAPE_RE.search(raw) and _has_lone_surrogate(obj):
            (builder.errors if builder else errors).append(
                RowError(source, line, "", _LONE_SURROGATE_MESSAGE)
            )
            continue
        if not isinstance(obj, dict):
            message = f"expected a JSON object, got {_json_type(obj)}"
            (builder.errors if builder else errors).append(RowError(source, line, "", message))
            continue
        keys = [str(key) for key in obj]
        if builder is None:
            found = kind or detect_kind(keys, source, line)
            builder = _Builder(source, found, errors=errors, limits=limits)
        columns = map_columns(keys, builder.kind, source, line)
        spec = SPECS[builder.kind]
        values: dict[str, RawValue] = {}
        bad: list[RowError] = []
        for value, name in zip(obj.values(), columns.fields, strict=True):
            if name is None:
                continue
            try:
                values[name] = _json_value(value, spec.field(name).multi)
            except ValueError as exc:
                bad.append(RowError(source, line, name, str(exc)))
        if bad:
            builder.errors.extend(bad)
        else:
            builder.add(line, values)
    if builder is None:
        return ParseResult(source=source, errors=tuple(errors))
    return builder.result()


# --- rows -----------------------------------------------------------------------------------


def _csv_rows(text: str, source: str) -> Iterator[tuple[int, list[str] | RowError]]:
    """Yield ``(first line, cells)`` per non-blank record, or a RowError for a broken one."""
    # strict=True turns a stray quote into an error for that record instead of silently
    # merging cells; the reader recovers at the next line.
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
            elif "field larger than field limit" in message:
                message = (
                    f"a cell is longer than {csv.field_size_limit():,} characters "
                    "(a quote never closed?); row skipped"
                )
            yield start, RowError(source, start, "", f"malformed CSV: {message}")
            continue
        end = reader.line_num
        if any(cell.strip() for cell in cells):
            yield start, cells


_SURROGATE_ESCAPE_RE = re.compile(r"\\u[dD][89a-fA-F]")
_LONE_SURROGATE_MESSAGE = (
    "JSON に対になっていないサロゲート（\\ud800 のような不正な文字）があります。"
    "行をスキップしました"
)


def _has_lone_surrogate(obj: object) -> bool:
    """Whether a decoded JSON value holds a lone surrogate (``"\\ud800"`` decodes to one).

    Such a string cannot be written as UTF-8: storing, hashing or printing it would fail.
    """
    try:
        json.dumps(obj, ensure_ascii=False).encode()
    except UnicodeEncodeError:
        return True
    return False


def _json_value(value: object, multi: bool) -> RawValue:
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, str | int | float):
        return str(value)
    if isinstance(value, list) and multi:
        items: list[str] = []
        for item in value:
            if not isinstance(item, str | int):
                raise ValueError(f"list items must be strings, got {_json_type(item)}")
            items.append(str(item))
        return tuple(items)
    raise ValueError(f"expected a string, got {_json_type(value)}")


def _json_type(value: object) -> str:
    return {dict: "an object", list: "a list", str: "a string", bool: "a boolean"}.get(
        type(value), "a number" if isinstance(value, int | float) else "null"
    )


@dataclass
class _Row:
    """The values of one row, read field by field; problems are collected, not raised."""

    source: str
    line: int
    values: Mapping[str, RawValue]
    kind: DocKind
    limits: InputLimits
    errors: list[RowError] = field(default_factory=list)

    def text(self, name: str, *, required: bool = False) -> str:
        raw = self.values.get(name, "")
        value = (raw if isinstance(raw, str) else "|".join(raw)).strip()
        if not self.short_enough(name, value):
            return ""
        if required and not value:
            self.error(name, "required value is empty")
        return value

    def parsed(self, name: str, parse: Callable[[str], str], *, required: bool = False) -> str:
        value = self.text(name, required=required)
        if not value:
            return ""
        try:
            return parse(value)
        except ValueError as exc:
            self.error(name, str(exc))
            return ""

    def flag(self, name: str, parse: Callable[[str], bool]) -> bool:
        try:
            return parse(self.text(name))
        except ValueError as exc:
            self.error(name, str(exc))
            return False

    def multi(self, name: str) -> tuple[str, ...]:
        raw = self.values.get(name, "")
        if not self.short_enough(name, raw if isinstance(raw, str) else "|".join(raw)):
            return ()
        return split_multi(raw)

    def short_enough(self, name: str, value: str) -> bool:
        """Whether ``value`` is within its field's length limit (else a row error)."""
        if SPECS[self.kind].field(name).body:
            limit, setting = self.limits.max_record_body_chars, "max_record_body_chars"
        else:
            limit, setting = self.limits.max_record_title_chars, "max_record_title_chars"
        try:
            check_length(value, limit, setting)
        except ValueError as exc:
            self.error(name, str(exc))
            return False
        return True

    def error(self, name: str, message: str) -> None:
        self.errors.append(RowError(self.source, self.line, name, message))


def _record(kind: DocKind, row: _Row) -> tuple[str, Document | Department]:
    """Build the record of a row; return its key (id or name) and the record."""
    where = f"{row.source}:{row.line}"
    if kind == "department":
        name = row.text("name", required=True)
        return name, Department(
            name=name,
            duties=row.text("duties", required=True),
            phone=row.text("phone"),
            location=row.text("location"),
            hours=row.text("hours"),
            aliases=row.multi("aliases"),
            source=where,
        )
    key = row.parsed("id", parse_id, required=True)
    if kind == "faq":
        return key, Document(
            doc_id=DocId.of("faq", key),
            kind="faq",
            title=row.text("question", required=True),
            body=row.text("answer", required=True),
            departments=row.multi("department"),
            category=row.text("category"),
            published=row.flag("published", parse_published),
            url=row.parsed("url", parse_url),
            source=where,
        )
    return key, Document(
        doc_id=DocId.of("case", key),
        kind="case",
        title=row.text("summary", required=True),
        body=row.text("resolution", required=True),
        departments=row.multi("departments"),
        category=row.text("category"),
        date=row.parsed("date", parse_date, required=True),
        published=False,
        channel=row.parsed("channel", parse_channel),
        status=row.text("status"),
        source=where,
    )


@dataclass
class _Builder:
    """Collects the records of one file, its row errors, and rejects duplicate keys."""

    source: str
    kind: DocKind
    documents: list[Document] = field(default_factory=list)
    departments: list[Department] = field(default_factory=list)
    errors: list[RowError] = field(default_factory=list)
    seen: dict[str, int] = field(default_factory=dict)
    limits: InputLimits = DEFAULT_LIMITS

    def add(self, line: int, values: Mapping[str, RawValue]) -> None:
        row = _Row(self.source, line, values, self.kind, self.limits)
        key, record = _record(self.kind, row)
        if row.errors:
            self.errors.extend(row.errors)
            return
        key_field = "name" if self.kind == "department" else "id"
        if key in self.seen:
            self.errors.append(
                RowError(
                    self.source,
                    line,
                    key_field,
                    f"duplicate {key_field} '{key}' (first on line {self.seen[key]}); row skipped",
                )
            )
            return
        self.seen[key] = line
        if isinstance(record, Department):
            self.departments.append(record)
        else:
            self.documents.append(record)

    def result(self) -> ParseResult:
        return ParseResult(
            source=self.source,
            documents=tuple(self.documents),
            departments=tuple(self.departments),
            # Errors are found in file order except for JSONL lines read before the kind was
            # known; a stable sort keeps several errors of one line in field order.
            errors=tuple(sorted(self.errors, key=lambda e: e.line)),
        )
