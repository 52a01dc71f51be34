"""Readers for tabular sources: CSV (stdlib :mod:`csv`), and the records of every table file.

CSV, JSONL (:mod:`kb.ingest.jsonl`) and XLSX (:mod:`kb.ingest.xlsx_reader`) files map their
columns with :mod:`kb.ingest.columns`, turn each good row into a :class:`~kb.types.Document`
(FAQ, case) or :class:`~kb.types.Department` (directory), and collect each bad row as a
:class:`~kb.types.RowError` while keeping the good ones. Problems with the columns themselves
(unknown, missing, ambiguous) stop the file with one :class:`~kb.errors.SchemaError` that lists
all of them.

An unreadable value in an optional field is a warning, and the row is kept: a channel kb does
not know is stored as written, a published flag it cannot read makes the entry not published,
a URL that is not http(s) is left out. A channel written another known way (``来庁``) is read as
its channel (``窓口``), with one notice per file and spelling.

Values are stripped of surrounding whitespace but otherwise kept as written: text
normalisation is a later stage. Ids are the exception, being identifiers rather than text
(see :func:`kb.ingest.schema.parse_id`).
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path

from kb.errors import InputError
from kb.ingest.columns import NO_MAPPING, ColumnMap, ColumnMapping, joined_field
from kb.ingest.departments import read_as
from kb.ingest.encoding import read_text
from kb.ingest.header import find_header
from kb.ingest.limits import DEFAULT_LIMITS, InputLimits
from kb.ingest.rows import (
    EXCEL_ERRORS,
    TableRow,
    cancelled,
    csv_rows,
    line_list,
    note_row,
    once_per_message,
    totals_row,
)
from kb.ingest.schema import (
    SPECS,
    DateReading,
    channel_synonym,
    check_length,
    department_names,
    header_key,
    masked_trailing_person,
    parse_channel,
    parse_id,
    parse_published,
    parse_url,
    read_date,
    read_faq_date,
    split_multi,
    without_trailing_person,
)
from kb.messages import msg
from kb.text.markup import html_to_text, looks_like_html
from kb.types import Department, DocId, DocKind, Document, ParseResult, RowError

RawValue = str | tuple[str, ...]
"""A cell: text, or (JSONL) a list of texts for a multi-valued field."""

CellFix = Callable[[str, str], str]
"""How a reader turns a cell of a field into text ``(field, cell) → text`` (XLSX dates)."""


def read_csv(
    path: Path,
    kind: DocKind | None = None,
    *,
    limits: InputLimits = DEFAULT_LIMITS,
    mapping: ColumnMapping = NO_MAPPING,
) -> ParseResult:
    """Read a CSV file of FAQ entries, cases or departments.

    Args:
        path: The file (UTF-8, UTF-8 with BOM or CP932; the header is the first row with at
            least two cells, so a title line above it is skipped).
        kind: The kind of its rows, or ``None`` to detect it from the header.
        limits: The field length limits (``max_record_title_chars``, ``max_record_body_chars``);
            a longer value is a row error.
        mapping: The city's column mapping (its own headers, channel spellings).

    Returns:
        The good rows, one error per bad value and the warnings of the rows kept.

    Raises:
        InputError: The file cannot be read or decoded, or is empty.
        SchemaError: Its columns do not fit the kind (every problem in one message).
    """
    return parse_csv(read_text(path), source=str(path), kind=kind, limits=limits, mapping=mapping)


def parse_csv(
    text: str,
    *,
    source: str,
    kind: DocKind | None = None,
    limits: InputLimits = DEFAULT_LIMITS,
    mapping: ColumnMapping = NO_MAPPING,
) -> ParseResult:
    """Parse decoded CSV text. See :func:`read_csv`.

    Line numbers are physical lines, so a row whose quoted cell spans lines is reported at the
    line it starts on. Blank rows are skipped.
    """
    if not text.strip():
        raise InputError(source, msg("rows.empty_file"))
    return parse_table(
        csv_rows(text, source), source=source, kind=kind, limits=limits, mapping=mapping
    )


def parse_table(
    rows: Iterable[TableRow],
    *,
    source: str,
    kind: DocKind | None = None,
    limits: InputLimits = DEFAULT_LIMITS,
    mapping: ColumnMapping = NO_MAPPING,
    fix: CellFix | None = None,
) -> ParseResult:
    """Turn the rows of a table (CSV, XLSX) into records, row errors and warnings.

    The header is found by :func:`kb.ingest.header.find_header` (lines skipped above it are
    named in a warning); every row after it must have its number of cells.

    Args:
        rows: The non-blank rows, in order.
        source: The file, for messages.
        kind: The kind of its rows, or ``None`` to detect it from the header.
        limits: The field length limits.
        mapping: The city's column mapping.
        fix: Turns a cell of a field into text before it is parsed (XLSX date serials).

    Raises:
        InputError: No rows.
        SchemaError: The header cannot be read or its columns do not fit the kind.
    """
    header = find_header(rows, source=source, kind=kind, mapping=mapping)
    columns = header.columns
    builder = _Builder(source, columns.kind, limits=limits, mapping=mapping)
    if header.skipped:
        lines = "、".join(str(n) for n in header.skipped)
        builder.warnings.append(
            RowError(source, header.line, "", msg("rows.preamble_skipped", lines=lines))
        )
    builder.notice_columns(columns, header.line)
    for line, cells in header.rest:
        if isinstance(cells, RowError):
            builder.errors.append(cells)
            continue
        if totals_row(cells):
            builder.warnings.append(RowError(source, line, "", msg("rows.totals_skipped")))
            continue
        if note_row(cells, len(columns.fields)):
            builder.warnings.append(RowError(source, line, "", msg("rows.note_skipped")))
            continue
        if len(cells) != len(columns.fields):
            message = msg("rows.cell_count", expected=len(columns.fields), got=len(cells))
            builder.errors.append(RowError(source, line, "", message))
            continue
        pairs = list(zip(columns.fields, cells, strict=True))
        stray = (i for i, (name, cell) in enumerate(pairs) if name is None and cell.strip())
        if any(not _not_stored(columns, i) for i in stray):
            builder.errors.append(RowError(source, line, "", msg("rows.headerless_value")))
            continue
        cells_of: dict[str, list[tuple[str, str]]] = {}
        for column, (name, cell) in enumerate(pairs):
            if name is not None:
                title = columns.headers[column] if column < len(columns.headers) else name
                cells_of.setdefault(name, []).append((title, fix(name, cell) if fix else cell))
        values: dict[str, RawValue] = {
            name: cells[0][1] if len(cells) == 1 else joined_field(name, cells)
            for name, cells in cells_of.items()
        }
        builder.add(line, values, columns)
    return builder.result()


def _not_stored(columns: ColumnMap, index: int) -> bool:
    """Whether column ``index`` has a header (one that is read past) rather than none."""
    return index < len(columns.headers) and bool(header_key(columns.headers[index]))


@dataclass
class _Row:
    """The values of one row, read field by field; problems are collected, not raised."""

    source: str
    line: int
    values: Mapping[str, RawValue]
    kind: DocKind
    limits: InputLimits
    columns: ColumnMap | None = None
    mapping: ColumnMapping = NO_MAPPING
    errors: list[RowError] = field(default_factory=list)
    warnings: list[RowError] = field(default_factory=list)
    channels: list[tuple[str, str]] = field(default_factory=list)
    """Channels read through a synonym: ``(as written, channel)``."""
    rewritten: list[tuple[str, str]] = field(default_factory=list)
    """Department cells read as other names: ``(as written, as stored)``."""

    def text(self, name: str, *, required: bool = False) -> str:
        raw = self.values.get(name, "")
        value = (raw if isinstance(raw, str) else "|".join(raw)).strip()
        if "\r" in value:  # a line break from Windows (CR LF) or an old Mac (CR) in a cell
            value = value.replace("\r\n", "\n").replace("\r", "\n")
        if value in EXCEL_ERRORS:
            value = ""  # a formula that failed when Excel saved the CSV (#N/A of a lookup)
        if looks_like_html(value):
            # An answer exported from the city's web CMS: its text, not its tags and entities.
            value = html_to_text(value)
        if not self.short_enough(name, value):
            return ""
        if required and not value:
            self.error(name, msg("value.required"))
        return value

    def parsed(
        self,
        name: str,
        parse: Callable[[str], str | DateReading],
        *,
        required: bool = False,
        optional_value: bool = False,
    ) -> str:
        """The field read by ``parse``: a date it read with a note is kept with a warning.

        A value ``parse`` refuses is a row error; with ``optional_value`` (a field whose loss
        harms nothing, such as 更新日) a warning, and the row is stored without it.
        """
        value = self.text(name, required=required)
        if not value:
            return ""
        try:
            read = parse(value)
        except ValueError as exc:
            if optional_value:
                self.warn(name, msg("warn.value_left_out", problem=str(exc)))
            else:
                self.error(name, str(exc))
            return ""
        if isinstance(read, str):
            return read
        if read.note:
            self.warn(name, read.note)
        return read.iso

    def flag(self, name: str, parse: Callable[[str], bool]) -> bool:
        """An optional flag; one that cannot be read is a warning and ``False`` (not public)."""
        try:
            return parse(self.text(name))
        except ValueError as exc:
            self.warn(name, msg("warn.published_kept", problem=str(exc)))
            return False

    def coded(self, name: str) -> str:
        """An optional text field, translated by the mapping file's ``[status]`` or
        ``[category]`` section where it names the value (a system's code: 1 → 受付)."""
        return self.mapping.value(name, self.text(name))

    def channel(self) -> str:
        """The channel, read through a synonym (来庁 → 窓口) or kept as written with a warning."""
        value = self.text("channel")
        if not value:
            return ""
        try:
            return parse_channel(value)
        except ValueError as exc:
            mapped = channel_synonym(value, self.mapping.channels)
            if mapped is not None:
                self.channels.append((value, mapped))
                return mapped
            self.warn("channel", msg("warn.channel_kept", problem=str(exc), value=value))
            return value

    def url(self) -> str:
        """The URL; one that is not http(s) is left out with a warning."""
        value = self.text("url")
        try:
            return parse_url(value)
        except ValueError as exc:
            self.warn("url", msg("warn.url_dropped", problem=str(exc)))
            return ""

    def multi(self, name: str) -> tuple[str, ...]:
        raw = self.values.get(name, "")
        if not self.short_enough(name, raw if isinstance(raw, str) else "|".join(raw)):
            return ()
        return split_multi(raw)

    def departments(self, name: str) -> tuple[str, ...]:
        """The departments of a department cell (:func:`kb.ingest.schema.department_names`);
        one read other than as written is noticed once per file and spelling."""
        raw = self.values.get(name, "")
        if isinstance(raw, str) and raw.strip() in EXCEL_ERRORS:
            return ()
        if not self.short_enough(name, raw if isinstance(raw, str) else "|".join(raw)):
            return ()
        names = department_names(raw)
        if names != split_multi(raw):
            written = raw if isinstance(raw, str) else "|".join(raw)
            # Not the person after a department (健康推進課 栗原): never stored, never repeated
            # (kb.ingest.departments), not even in the cell quoted as written.
            shown = "、".join(without_trailing_person(n) for n in names)
            quoted = masked_trailing_person(" ".join(written.split()), names)
            self.rewritten.append((quoted, shown))
        return names

    def short_enough(self, name: str, value: str) -> bool:
        """Whether ``value`` is within its field's length limit (else a row error)."""
        try:
            check_length(value, self.limits, body=SPECS[self.kind].field(name).body)
        except ValueError as exc:
            self.error(name, str(exc))
            return False
        return True

    def error(self, name: str, message: str) -> None:
        self.errors.append(RowError(self.source, self.line, name, self._named(name, message)))

    def warn(self, name: str, message: str) -> None:
        self.warnings.append(RowError(self.source, self.line, name, self._named(name, message)))

    def _named(self, name: str, message: str) -> str:
        """``message``, naming the column as the file does when its header is not ``name``."""
        header = self.columns.header_of(name) if self.columns is not None else ""
        if header and header_key(header) != header_key(name):
            return msg("value.in_column", header=header, message=message)
        return message


def _record(kind: DocKind, row: _Row) -> tuple[str, Document | Department]:
    """Build the record of a row; return its key (id or name) and the record."""
    where = f"{row.source}:{row.line}"
    if kind == "department":
        name, section = row.text("name", required=True), row.text("section")
        aliases = row.multi("aliases")
        if section and name:
            # 住民福祉課 | 保険年金係: the entry is the section, found by its own name too.
            name = f"{name} {section}"
            aliases = tuple(dict.fromkeys((*aliases, section)))
        return name, Department(
            name=name,
            duties=row.text("duties", required=True),
            phone=row.text("phone"),
            location=row.text("location"),
            hours=row.text("hours"),
            aliases=aliases,
            source=where,
        )
    key = row.parsed("id", parse_id, required=True)
    if kind == "faq":
        owner = row.text("owner")
        return key, Document(
            doc_id=DocId.of("faq", key),
            kind="faq",
            title=row.text("question", required=True),
            body=row.text("answer", required=True),
            departments=row.departments("department") or ((owner,) if owner else ()),
            category=row.coded("category"),
            published=row.flag("published", parse_published),
            url=row.url(),
            source=where,
            owner=owner,
            updated=row.parsed("updated", read_faq_date, optional_value=True),
            expires=row.parsed("expires", read_faq_date),
        )
    return key, Document(
        doc_id=DocId.of("case", key),
        kind="case",
        title=row.text("summary", required=True),
        body=row.text("resolution", required=True),
        departments=row.departments("departments"),
        category=row.coded("category"),
        date=row.parsed("date", read_date, required=True),
        published=False,
        channel=row.channel(),
        status=row.coded("status"),
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
    mapping: ColumnMapping = NO_MAPPING
    warnings: list[RowError] = field(default_factory=list)
    channels: dict[tuple[str, str], list[int]] = field(default_factory=dict)
    """Channels read through a synonym: ``(as written, channel)`` → ``[first line, rows]``."""
    rewritten: dict[tuple[str, str], list[int]] = field(default_factory=dict)
    """Department cells read as other names: ``(as written, as stored)`` → ``[line, rows]``."""
    noticed: set[str] = field(default_factory=set)
    cancelled: list[int] = field(default_factory=list)
    """Lines of cases whose status says they were cancelled (取消), left out."""
    kept: dict[str, Document | Department] = field(default_factory=dict)
    """The record stored for each key, to tell a copy of its row from a conflicting one."""

    def notice_columns(self, columns: ColumnMap, line: int) -> None:
        """One warning per column read past (JSONL repeats its keys: noticed once)."""
        for header, by_mapping in columns.not_stored:
            if header in self.noticed:
                continue
            self.noticed.add(header)
            if by_mapping:
                message = msg(
                    "warn.column_mapped_ignored", header=header, mapping=self.mapping.source
                )
            else:
                message = msg("warn.column_ignored", header=header)
            self.warnings.append(RowError(self.source, line, header, message))

    def add(
        self, line: int, values: Mapping[str, RawValue], columns: ColumnMap | None = None
    ) -> None:
        row = _Row(self.source, line, values, self.kind, self.limits, columns, self.mapping)
        key, record = _record(self.kind, row)
        if row.errors:  # the row is skipped: its warnings no longer matter
            self.errors.extend(row.errors)
            return
        if isinstance(record, Document) and record.kind == "case" and cancelled(record.status):
            # A record entered in error and cancelled (状態 取消) is no case to learn from.
            self.cancelled.append(line)
            return
        key_field = "name" if self.kind == "department" else "id"
        if key in self.seen:
            first = self.seen[key]
            earlier = self.kept.get(key)
            if (
                earlier is not None
                and dataclasses.replace(record, source=earlier.source) == earlier
            ):
                # The same row exported twice: one record, and a notice rather than an error.
                message = msg("rows.duplicate_copy", field=key_field, key=key, first=first)
                self.warnings.append(RowError(self.source, line, key_field, message))
                return
            message = msg("rows.duplicate", field=key_field, key=key, first=first)
            self.errors.append(RowError(self.source, line, key_field, message))
            return
        self.seen[key] = line
        self.kept[key] = record
        self.warnings.extend(row.warnings)
        for value, channel in row.channels:
            self.channels.setdefault((value, channel), [line, 0])[1] += 1
        for written, stored in row.rewritten:
            self.rewritten.setdefault((written, stored), [line, 0])[1] += 1
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
            warnings=tuple(
                sorted([*once_per_message(self.warnings), *self._notices()], key=lambda w: w.line)
            ),
        )

    def _notices(self) -> list[RowError]:
        """One notice per value read as another (a channel, a department cell) and one for
        the cancelled cases, each at its first line."""

        def notice(line: int, field: str, text: str) -> RowError:
            return RowError(self.source, line, field, text)

        notices = [
            notice(first, "channel", msg("warn.channel_mapped", value=v, channel=c, rows=rows))
            for (v, c), (first, rows) in self.channels.items()
        ]
        spellings = [(w, s, first, rows) for (w, s), (first, rows) in self.rewritten.items()]
        notices += [notice(line, "department", text) for line, text in read_as(spellings)]
        if self.cancelled:
            lines, count = line_list(self.cancelled), len(self.cancelled)
            text = msg("rows.cancelled", lines=lines, count=count)
            notices.append(notice(self.cancelled[0], "status", text))
        return notices
