"""Procedures (手続き): the fifth source kind, read from CSV, JSONL or xlsx rows.

A procedures file lists what a life event (転入, 死亡...) calls for: one row per procedure with
its department, the life events and conditions it belongs to, its deadline, the documents to
bring, the fee, the counter and (optionally) the wording in やさしい日本語. It is told from the
other tabular kinds by its ``life_events`` column (ライフイベント).

The rules are those of the other kinds: headers match the field names or their Japanese aliases
(NFKC, case-folded), a bad value is a row error naming the file, line and field and never loses
the good rows, a duplicate id is refused, every value is held to the field length limits.
Procedures are public information: nothing is masked.

The fields, life events, conditions and deadline forms are in
:mod:`kb.ingest.procedure_terms`.
"""

from __future__ import annotations

import json
import sys
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path

from kb.errors import InputError, SchemaError
from kb.ingest.limits import (
    DEFAULT_LIMITS,
    MAX_JSON_DEPTH,
    InputLimits,
    json_depth_message,
    json_too_deep,
)
from kb.ingest.procedure_terms import (
    CONDITIONS,
    FIELD_SPECS,
    FIELDS,
    LIFE_EVENTS,
    canonical_condition,
    canonical_event,
    is_procedures_header,
    parse_deadline,
    resolve_header,
)
from kb.ingest.rows import TableRow, table_rows
from kb.ingest.schema import check_length, header_key, parse_id, parse_url, split_multi
from kb.messages import msg
from kb.types import ParseResult, Procedure, RowError

# --- reading -----------------------------------------------------------------------------------


def read_procedures(path: Path, *, limits: InputLimits = DEFAULT_LIMITS) -> ParseResult:
    """Read a procedures file (``.csv``, ``.jsonl`` or ``.xlsx``).

    Args:
        path: The file.
        limits: The field length limits (``max_record_title_chars``, ``max_record_body_chars``).

    Returns:
        The good procedures and one error per bad value.

    Raises:
        InputError: The file cannot be read, or is empty.
        SchemaError: A column is unknown, named twice, or a required one is missing.
    """
    source = str(path)
    if path.suffix.lower() == ".jsonl":
        from kb.ingest.encoding import read_text

        return parse_procedures_jsonl(read_text(path), source=source, limits=limits)
    return parse_procedure_rows(table_rows(path, limits=limits), source=source, limits=limits)


def parse_procedure_rows(
    rows: Iterable[TableRow], *, source: str, limits: InputLimits = DEFAULT_LIMITS
) -> ParseResult:
    """Procedures from a table's rows, the first one the header (see :func:`read_procedures`)."""
    it = iter(rows)
    try:
        header_line, header = next(it)
    except StopIteration:
        raise InputError(source, msg("rows.empty_file")) from None
    if isinstance(header, RowError):
        problem = msg("rows.header_unreadable", problem=header.message)
        raise SchemaError(source, problem, line=header_line)
    columns = map_procedure_columns(header, source, header_line)
    builder = _Builder(source, limits)
    for line, cells in it:
        if isinstance(cells, RowError):
            builder.errors.append(cells)
            continue
        if len(cells) > len(columns):
            extra = [c for c in cells[len(columns) :] if c.strip()]
            if extra:
                message = msg("rows.cell_count", expected=len(columns), got=len(cells))
                builder.errors.append(RowError(source, line, "", message))
                continue
        values: dict[str, str | tuple[str, ...]] = {}
        bad = False
        for name, cell in zip(columns, cells, strict=False):
            if name is None:
                if cell.strip():
                    builder.errors.append(RowError(source, line, "", msg("rows.headerless_value")))
                    bad = True
                continue
            values[name] = cell
        if not bad:
            builder.add(line, values)
    return builder.result()


def parse_procedures_jsonl(
    text: str, *, source: str, limits: InputLimits = DEFAULT_LIMITS
) -> ParseResult:
    """Procedures from JSONL text: one object per line, multi-valued fields as lists or text."""
    if not text.strip():
        raise InputError(source, msg("rows.empty_file"))
    builder = _Builder(source, limits)
    for line, raw in enumerate(text.split("\n"), start=1):
        if not raw.strip():
            continue
        if json_too_deep(raw, MAX_JSON_DEPTH):
            builder.errors.append(RowError(source, line, "", json_depth_message(MAX_JSON_DEPTH)))
            continue
        try:
            obj = json.loads(raw)
        except (json.JSONDecodeError, RecursionError) as exc:
            problem, column = getattr(exc, "msg", "too deep"), getattr(exc, "colno", 1)
            message = msg("rows.invalid_json", problem=problem, column=column)
            builder.errors.append(RowError(source, line, "", message))
            continue
        except ValueError:  # a number longer than Python converts (sys.get_int_max_str_digits)
            message = msg("rows.json_number", digits=sys.get_int_max_str_digits())
            builder.errors.append(RowError(source, line, "", message))
            continue
        if not isinstance(obj, dict):
            builder.errors.append(RowError(source, line, "", msg("procedures.not_object")))
            continue
        columns = map_procedure_columns([str(k) for k in obj], source, line)
        values: dict[str, str | tuple[str, ...]] = {}
        bad = False
        for name, value in zip(columns, obj.values(), strict=True):
            if name is None:
                continue
            try:
                values[name] = _json_value(value, FIELD_SPECS[name].multi)
            except ValueError as exc:
                builder.errors.append(RowError(source, line, name, str(exc)))
                bad = True
        if not bad:
            builder.add(line, values)
    return builder.result()


def map_procedure_columns(headers: Sequence[str], source: str, line: int) -> list[str | None]:
    """The procedure field of each column (``None`` for a column without a header).

    Raises:
        SchemaError: Unknown columns (all of them named at once), a field named twice, or a
            required field missing.
    """
    fields: list[str | None] = []
    seen: dict[str, str] = {}
    unknown: list[str] = []
    for header in headers:
        if not header_key(header):
            fields.append(None)
            continue
        name = resolve_header(header)
        if name is None:
            unknown.append(header.strip())
            fields.append(None)
            continue
        if name in seen:
            raise SchemaError(
                source,
                msg(
                    "procedures.duplicate_column",
                    first=seen[name],
                    second=header.strip(),
                    field=name,
                ),
                line=line,
                field=header.strip(),
            )
        seen[name] = header.strip()
        fields.append(name)
    if unknown:
        known = ", ".join(f"{s.name} ({'/'.join(s.aliases[-2:])})" for s in FIELDS)
        raise SchemaError(
            source,
            msg("procedures.unknown_columns", columns=", ".join(unknown), known=known),
            line=line,
            field=unknown[0],
        )
    for spec in FIELDS:
        if spec.required and spec.name not in seen:
            raise SchemaError(
                source,
                msg("procedures.missing_column", field=spec.name),
                line=line,
                field=spec.name,
            )
    return fields


def _json_value(value: object, multi: bool) -> str | tuple[str, ...]:
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, str | int | float):
        return str(value)
    if isinstance(value, list) and multi and all(isinstance(v, str | int) for v in value):
        return tuple(str(v) for v in value)
    raise ValueError(msg("procedures.not_text_or_list" if multi else "procedures.not_text"))


@dataclass
class _Builder:
    """Collects the procedures of one file and its row errors; refuses duplicate ids."""

    source: str
    limits: InputLimits
    procedures: list[Procedure] = field(default_factory=list)
    errors: list[RowError] = field(default_factory=list)
    seen: dict[str, int] = field(default_factory=dict)

    def add(self, line: int, values: Mapping[str, str | tuple[str, ...]]) -> None:
        row = _Row(self.source, line, values, self.limits)
        procedure = row.procedure()
        if row.errors:
            self.errors.extend(row.errors)
            return
        if procedure.id in self.seen:
            first = self.seen[procedure.id]
            message = msg("rows.duplicate", field="id", key=procedure.id, first=first)
            self.errors.append(RowError(self.source, line, "id", message))
            return
        self.seen[procedure.id] = line
        self.procedures.append(procedure)

    def result(self) -> ParseResult:
        return ParseResult(
            source=self.source,
            procedures=tuple(self.procedures),
            errors=tuple(sorted(self.errors, key=lambda e: e.line)),
        )


@dataclass
class _Row:
    source: str
    line: int
    values: Mapping[str, str | tuple[str, ...]]
    limits: InputLimits
    errors: list[RowError] = field(default_factory=list)

    def error(self, name: str, message: str) -> None:
        self.errors.append(RowError(self.source, self.line, name, message))

    def text(self, name: str, *, required: bool = False) -> str:
        raw = self.values.get(name, "")
        value = (raw if isinstance(raw, str) else "|".join(raw)).strip()
        try:
            check_length(value, self.limits, body=FIELD_SPECS[name].body)
        except ValueError as exc:
            self.error(name, str(exc))
            return ""
        if required and not value:
            self.error(name, msg("value.required"))
        return value

    def vocabulary(
        self,
        name: str,
        canonical: Callable[[str], str | None],
        table: Mapping[str, tuple[str, ...]],
        what: str,
    ) -> list[str]:
        """The canonical terms of field ``name``; a value not in ``table`` is an error."""
        out: list[str] = []
        for value in split_multi(self.text(name)):
            found = canonical(value)
            if found is None:
                known = msg("columns.alias_separator").join(table)
                self.error(
                    name, msg("procedures.unknown_value", what=what, value=value, known=known)
                )
            elif found not in out:
                out.append(found)
        return out

    def procedure(self) -> Procedure:
        key = self.text("id", required=True)
        if key:
            try:
                key = parse_id(key)
            except ValueError as exc:
                self.error("id", str(exc))
        events = self.vocabulary(
            "life_events", canonical_event, LIFE_EVENTS, msg("procedures.life_event")
        )
        if not events and not any(e.field == "life_events" for e in self.errors):
            self.error("life_events", msg("value.required"))
        deadline = self.text("deadline")
        days: int | None = None
        try:
            days = parse_deadline(deadline)
        except ValueError as exc:
            self.error("deadline", str(exc))
        url = self.text("url")
        try:
            url = parse_url(url)
        except ValueError as exc:
            self.error("url", str(exc))
        return Procedure(
            id=key,
            name=self.text("name", required=True),
            department=self.text("department", required=True),
            life_events=tuple(events),
            conditions=tuple(
                self.vocabulary(
                    "conditions", canonical_condition, CONDITIONS, msg("procedures.condition")
                )
            ),
            deadline=deadline,
            deadline_days=days,
            documents=split_multi(self.text("documents")),
            fee=self.text("fee"),
            where=self.text("where"),
            easy=self.text("easy"),
            note=self.text("note"),
            url=url,
            source=f"{self.source}:{self.line}",
        )


def is_procedures_file(path: Path, *, limits: InputLimits = DEFAULT_LIMITS) -> bool:
    """Whether ``path`` (CSV, JSONL or xlsx) is a procedures file, from its header alone.

    Reads only the start of a CSV or JSONL file (a case archive is not decoded twice); a file
    that cannot be read is not one (its own reader reports why).
    """
    suffix = path.suffix.lower()
    try:
        if suffix == ".xlsx":
            first = next(table_rows(path, limits=limits), None)
            return (
                first is not None
                and not isinstance(first[1], RowError)
                and (is_procedures_header(first[1]))
            )
        with path.open("rb") as f:
            head = f.read(_PEEK_BYTES)
    except (OSError, InputError):
        return False
    text = _peek_text(head)
    line = next((ln for ln in text.splitlines() if ln.strip()), "")
    if suffix == ".jsonl":
        return "life_event" in line.casefold() or any(
            alias in line for alias in FIELD_SPECS["life_events"].aliases if not alias.isascii()
        )
    import csv

    try:
        header = next(csv.reader([line]), [])
    except csv.Error:
        return False
    return is_procedures_header(header)


_PEEK_BYTES = 16 * 1024


def _peek_text(data: bytes) -> str:
    """The start of a text file, decoded well enough to read its header line."""
    for codec in ("utf-8-sig", "cp932"):
        try:
            return data.decode(codec)
        except UnicodeDecodeError as exc:
            if exc.start > len(data) - 4:  # the peek cut a character in two
                return data[: exc.start].decode(codec, errors="ignore")
    return data.decode("utf-8", errors="ignore")
