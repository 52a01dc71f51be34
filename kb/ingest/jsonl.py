"""The JSONL reader: one JSON object per line of FAQ entries, cases or departments.

Keys are mapped like CSV columns (:mod:`kb.ingest.columns`, checked on every line) and rows
become records through the same builder as CSV rows (:mod:`kb.ingest.tabular`).
"""

from __future__ import annotations

import json
import re
import sys
from pathlib import Path

from kb.errors import InputError
from kb.ingest.columns import (
    NO_MAPPING,
    ColumnMapping,
    detect_kind,
    joined_field,
    map_columns,
)
from kb.ingest.encoding import read_text
from kb.ingest.header import MAX_HEADER_COLUMNS
from kb.ingest.limits import (
    DEFAULT_LIMITS,
    MAX_JSON_DEPTH,
    InputLimits,
    json_depth_message,
    json_too_deep,
)
from kb.ingest.schema import SPECS
from kb.ingest.tabular import RawValue, _Builder
from kb.messages import msg
from kb.types import DocKind, ParseResult, RowError


def read_jsonl(
    path: Path,
    kind: DocKind | None = None,
    *,
    limits: InputLimits = DEFAULT_LIMITS,
    mapping: ColumnMapping = NO_MAPPING,
) -> ParseResult:
    """Read a JSONL file (one JSON object per line) of FAQ entries, cases or departments.

    Args:
        path: The file (UTF-8).
        kind: The kind of its records, or ``None`` to detect it from the first object's keys.
        limits: The field length limits, as for :func:`kb.ingest.tabular.read_csv`.
        mapping: The city's column mapping (its keys are mapped like CSV headers).

    Returns:
        The good records, one error per bad line or value, and the warnings of kept rows.

    Raises:
        InputError: The file cannot be read or decoded, or is empty.
        SchemaError: An object has unknown keys or lacks required ones (all in one message).
    """
    return parse_jsonl(read_text(path), source=str(path), kind=kind, limits=limits, mapping=mapping)


def parse_jsonl(
    text: str,
    *,
    source: str,
    kind: DocKind | None = None,
    limits: InputLimits = DEFAULT_LIMITS,
    mapping: ColumnMapping = NO_MAPPING,
) -> ParseResult:
    """Parse decoded JSONL text. See :func:`read_jsonl`.

    Blank lines are skipped. A line that is not valid JSON, not an object, or nested deeper
    than :data:`~kb.ingest.limits.MAX_JSON_DEPTH` is a row error. Numbers are read as their
    text (``1`` → ``"1"``), ``null`` as empty, and multi-valued fields may be JSON lists.
    """
    if not text.strip():
        raise InputError(source, msg("rows.empty_file"))
    builder: _Builder | None = None
    errors: list[RowError] = []  # bad lines seen before the kind is known

    def bad_line(line: int, message: str) -> None:
        (builder.errors if builder else errors).append(RowError(source, line, "", message))

    for line, raw in enumerate(text.split("\n"), start=1):
        if not raw.strip():
            continue
        if json_too_deep(raw, MAX_JSON_DEPTH):
            bad_line(line, json_depth_message(MAX_JSON_DEPTH))
            continue
        try:
            obj = json.loads(raw)
        except json.JSONDecodeError as exc:
            problem = _json_problem(exc.msg)
            bad_line(line, msg("rows.invalid_json", problem=problem, column=exc.colno))
            continue
        except RecursionError:  # only if the depth check above and json disagree on a line
            bad_line(line, json_depth_message(MAX_JSON_DEPTH))
            continue
        except ValueError:  # a number longer than Python converts (sys.get_int_max_str_digits)
            bad_line(line, msg("rows.json_number", digits=sys.get_int_max_str_digits()))
            continue
        if _SURROGATE_ESCAPE_RE.search(raw) and _has_lone_surrogate(obj):
            bad_line(line, msg("limits.lone_surrogate"))
            continue
        if not isinstance(obj, dict):
            bad_line(line, msg("rows.not_object", got=_json_type(obj)))
            continue
        if len(obj) > MAX_HEADER_COLUMNS:
            # As a table's header: each unknown key is matched against every field name, and
            # named in the report (200,000 keys took 74 s, 930 MB and a message of megabytes).
            bad_line(line, msg("rows.json_too_many_keys", count=len(obj), limit=MAX_HEADER_COLUMNS))
            continue
        keys = [str(key) for key in obj]
        if builder is None:
            found = kind or detect_kind(keys, source, line, mapping)
            builder = _Builder(source, found, errors=errors, limits=limits, mapping=mapping)
        columns = map_columns(keys, builder.kind, source, line, mapping)
        builder.notice_columns(columns, line)
        spec = SPECS[builder.kind]
        values: dict[str, RawValue] = {}
        bad: list[RowError] = []
        dropped: list[RowError] = []
        for key, value, name in zip(keys, obj.values(), columns.fields, strict=True):
            if name is None:
                continue
            if name == "category" and isinstance(value, dict | list):
                # {"major": "くらし", "minor": "道路"}: the levels of a category tree, as a path.
                value = " > ".join(_leaves(value))
            try:
                read = _json_value(value, spec.field(name).multi)
            except ValueError as exc:
                if spec.field(name).required:
                    bad.append(RowError(source, line, name, str(exc)))
                else:  # an optional field: the row is kept without it
                    problem = msg("rows.optional_dropped", problem=str(exc))
                    dropped.append(RowError(source, line, name, problem))
                continue
            earlier = values.get(name)
            if isinstance(earlier, str) and isinstance(read, str):
                # Several keys the mapping file names for one free-text field (map_columns).
                first = columns.header_of(name) or name
                read = joined_field(name, [(first, earlier), (key, read)])
            values[name] = read
        if bad:
            builder.errors.extend(bad)
        else:
            builder.warnings.extend(dropped)
            builder.add(line, values, columns)
    if builder is None:
        return ParseResult(source=source, errors=tuple(errors))
    return builder.result()


_SURROGATE_ESCAPE_RE = re.compile(r"\\u[dD][89a-fA-F]")


_JSON_PROBLEMS = {
    "Expecting value": "json.expecting_value",
    "Expecting ',' delimiter": "json.expecting_comma",
    "Expecting ':' delimiter": "json.expecting_colon",
    "Expecting property name enclosed in double quotes": "json.expecting_key",
    "Extra data": "json.extra_data",
    "Unterminated string starting at": "json.unterminated",
    "Invalid control character at": "json.control_character",
    "Invalid \\escape": "json.escape",
    "Invalid \\uXXXX escape": "json.escape",
}
"""The json module's messages (English), as kb says them."""


def _json_problem(problem: str) -> str:
    """``problem`` as kb says it; one the table does not know, as the json module wrote it."""
    key = _JSON_PROBLEMS.get(problem) or next(
        (k for p, k in _JSON_PROBLEMS.items() if problem.startswith(p)), None
    )
    return msg(key) if key else problem


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
                raise ValueError(msg("rows.list_items", got=_json_type(item)))
            items.append(str(item))
        return tuple(items)
    raise ValueError(msg("rows.not_string", got=_json_type(value)))


def _leaves(value: object) -> list[str]:
    """The strings and numbers of a nested JSON value, in order (at most 8 levels deep)."""
    out: list[str] = []

    def walk(item: object, depth: int) -> None:
        if depth > 8:
            return
        if isinstance(item, dict):
            for child in item.values():
                walk(child, depth + 1)
        elif isinstance(item, list):
            for child in item:
                walk(child, depth + 1)
        elif (
            isinstance(item, str | int | float) and not isinstance(item, bool) and str(item).strip()
        ):
            out.append(str(item).strip())

    walk(value, 0)
    return out


def _json_type(value: object) -> str:
    if isinstance(value, bool):
        return msg("json.boolean")
    if isinstance(value, int | float):
        return msg("json.number")
    if isinstance(value, dict):
        return msg("json.object")
    if isinstance(value, list):
        return msg("json.list")
    return msg("json.string" if isinstance(value, str) else "json.null")
