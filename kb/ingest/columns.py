"""A file's column headers → the fields of its kind: aliases, a city's own mapping, one report.

Headers resolve in this order: the column mapping file (``kb ingest --columns map.toml`` or the
``columns_file`` setting), the fields and Japanese aliases of :data:`kb.ingest.schema.SPECS`,
and last the bookkeeping columns kb has no field for
(:data:`~kb.ingest.schema.NOT_STORED_COLUMNS`, read past with a notice).

Every problem with a file's headers (unknown columns, two columns for one field, missing
required columns) is reported at once, in one :class:`~kb.errors.SchemaError`, before any row
is read: a city export is fixed in one round, not one column per run.

The mapping file is TOML::

    sheet = "相談記録"        # the sheet of an .xlsx workbook (default: the first)

    [case]                    # a table per kind: header as written = field (or "-": not stored)
    受付番号 = "id"
    相談日 = "date"
    相談者メモ = "-"

    [channel]                 # more ways of writing a channel (来庁 → 窓口 is built in)
    訪問 = "窓口"

    [status]                  # a system's codes as the words to store (also [category])
    1 = "受付"
    9 = "完了"
"""

from __future__ import annotations

import dataclasses
import difflib
import re
import tomllib
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

from kb.errors import InputError, SchemaError
from kb.ingest.schema import NOT_STORED_COLUMNS, SPECS, TABULAR_KINDS, KindSpec, header_key
from kb.messages import msg
from kb.text.masking.cells import personal_label
from kb.types import CASE_CHANNELS, DocKind

if TYPE_CHECKING:
    from kb.settings import Settings

NOT_STORED = "-"
"""The mapping target of a column that is read past (a note, a name that must not be kept)."""


@dataclass(frozen=True, eq=False)
class ColumnMapping:
    """A city's own headers and channel spellings, and the sheet of a workbook to read.

    Compared and hashed by identity: one mapping is loaded per run, and it keys the cache of
    header mappings.
    """

    source: str = ""
    """The mapping file, as named in messages."""
    columns: Mapping[str, Mapping[str, str]] = field(default_factory=dict)
    """Per kind: :func:`~kb.ingest.schema.header_key` of a header → field or :data:`NOT_STORED`."""
    channels: Mapping[str, str] = field(default_factory=dict)
    """:func:`~kb.ingest.schema.header_key` of a channel as written → its canonical spelling."""
    sheet: str = ""
    """The sheet of an ``.xlsx`` file to read (default: the first)."""
    values: Mapping[str, Mapping[str, str]] = field(default_factory=dict)
    """Per field (``status``, ``category``): :func:`~kb.ingest.schema.header_key` of a value
    as written (a vendor system's code) → the text to store."""

    def value(self, name: str, written: str) -> str:
        """``written`` as the mapping translates it for field ``name`` (as written if not)."""
        return self.values.get(name, {}).get(header_key(written), written)

    def target(self, kind: DocKind, header: str) -> str | None:
        """What the mapping says column ``header`` of a ``kind`` file is, or ``None``."""
        return self.columns.get(kind, {}).get(header_key(header))


NO_MAPPING = ColumnMapping()
VALUE_SECTIONS = ("status", "category")
"""Fields whose values a mapping file may translate (a vendor system's codes: 1 → 受付)."""


def mapping_from_settings(settings: Settings) -> ColumnMapping:
    """The mapping of the ``columns_file`` setting (and the ``xlsx_sheet`` setting's sheet).

    Raises:
        InputError: The mapping file cannot be read or is wrong (see :func:`load_mapping`).
    """
    mapping = load_mapping(settings.columns_file) if settings.columns_file else NO_MAPPING
    if settings.xlsx_sheet:
        mapping = dataclasses.replace(mapping, sheet=settings.xlsx_sheet)
    return mapping


def load_mapping(path: Path) -> ColumnMapping:
    """Read a column mapping file (TOML; see the module docstring).

    Raises:
        InputError: The file cannot be read, is not TOML, or names a section, field or channel
            that does not exist; the message names the file, the line and the key.
    """
    source = str(path)
    try:
        text = path.read_text(encoding="utf-8-sig")
    except (OSError, UnicodeDecodeError) as exc:
        problem = exc.strerror if isinstance(exc, OSError) and exc.strerror else str(exc)
        raise InputError(source, msg("mapping.unreadable", problem=problem)) from None
    try:
        data = tomllib.loads(_quote_japanese_keys(text))
    except tomllib.TOMLDecodeError as exc:
        # tomllib's message is English and says "at line N, column M": the line goes where kb's
        # messages put it (file:line), the hint in Japanese says how a line is written.
        at = _TOML_AT_RE.search(str(exc))
        problem = _TOML_AT_RE.sub("", str(exc)).strip()
        raise InputError(
            source, msg("mapping.toml", problem=problem), line=int(at[1]) if at else 0
        ) from None
    except RecursionError:  # arrays nested thousands deep: tomllib recurses once per level
        raise InputError(source, msg("mapping.toml", problem="nested too deeply")) from None
    columns: dict[str, dict[str, str]] = {}
    channels: dict[str, str] = {}
    values: dict[str, dict[str, str]] = {}
    sheet = ""
    for section, value in data.items():
        line = _line_of(text, section, section=True)
        if section == "sheet":
            if not isinstance(value, str):
                raise InputError(source, msg("mapping.sheet"), line=line, field=section)
            sheet = value.strip()
            continue
        if section not in (*TABULAR_KINDS, "channel", *VALUE_SECTIONS):
            raise InputError(source, msg("mapping.section"), line=line, field=section)
        if not isinstance(value, dict):
            raise InputError(
                source, msg("mapping.not_table", section=section), line=line, field=section
            )
        for key, target in value.items():
            where = (_line_of(text, key), f"[{section}] {key}")
            if not isinstance(target, str):
                raise InputError(source, msg("mapping.not_text"), *where)
            if section == "channel":
                channels[header_key(key)] = _channel(source, target, where)
            elif section in VALUE_SECTIONS:
                values.setdefault(section, {})[header_key(key)] = target.strip()
            else:
                kind: DocKind = section  # type: ignore[assignment]  # checked above
                columns.setdefault(kind, {})[header_key(key)] = _field(source, kind, target, where)
    return ColumnMapping(source, columns, channels, sheet, values)


def _field(source: str, kind: DocKind, target: str, where: tuple[int, str]) -> str:
    if target.strip() == NOT_STORED:
        return NOT_STORED
    name = SPECS[kind].resolve(target)
    if name is None:
        fields = ", ".join(f.name for f in SPECS[kind].fields)
        raise InputError(
            source,
            msg("mapping.target", target=target, kind=kind, fields=fields),
            *where,
        )
    return name


def _channel(source: str, target: str, where: tuple[int, str]) -> str:
    for channel in CASE_CHANNELS:
        if header_key(channel) == header_key(target):
            return channel
    raise InputError(
        source,
        msg("mapping.channel", target=target, known=", ".join(CASE_CHANNELS)),
        *where,
    )


# A key outside quotes, as far as its "=": TOML 1.0 allows only ASCII in such (bare) keys.
_BARE_KEY_RE = re.compile(r"^([ \t]*)([^\s\"'\[#=][^=\"'#\n]*?)([ \t]*=)", re.MULTILINE)
_TOML_BARE_KEY_RE = re.compile(r"[A-Za-z0-9_-]+")
_TOML_AT_RE = re.compile(r"\s*\(at line ([0-9]+), column [0-9]+\)")


def _quote_japanese_keys(text: str) -> str:
    """``受付番号 = "id"`` as TOML 1.0 reads it: ``"受付番号" = "id"``.

    City staff write headers as they are; TOML 1.0 (:mod:`tomllib`) wants keys other than
    ASCII letters, digits, ``_`` and ``-`` quoted (``No.`` would be a dotted key). Line numbers
    do not change.
    """

    def quote(match: re.Match[str]) -> str:
        key = match[2]
        if _TOML_BARE_KEY_RE.fullmatch(key):
            return match[0]
        escaped = key.replace("\\", "\\\\").replace('"', '\\"')
        return f'{match[1]}"{escaped}"{match[3]}'

    return _BARE_KEY_RE.sub(quote, text)


def _line_of(text: str, key: str, *, section: bool = False) -> int:
    """The line on which ``key`` (or ``[key]``) is written, 0 if it cannot be told."""
    for number, raw in enumerate(text.splitlines(), start=1):
        line = raw.strip()
        if section and line.strip("[] ") == key and line.startswith("["):
            return number
        name = line.partition("=")[0].strip().strip("\"'")
        if "=" in line and name == key:
            return number
    return 0


# --- mapping a file's headers ---------------------------------------------------------------


@dataclass(frozen=True)
class ColumnMap:
    """How the columns of one file map to the fields of its kind."""

    kind: DocKind
    fields: tuple[str | None, ...]
    """The canonical field of each column, ``None`` for a column without a header or one that
    is not stored."""
    headers: tuple[str, ...] = ()
    """The headers as written (stripped), for messages that name a column as the file does."""
    not_stored: tuple[tuple[str, bool], ...] = ()
    """The headers read past: ``(header, True)`` when the mapping file said so, ``False`` for a
    known bookkeeping column."""

    def header_of(self, name: str) -> str:
        """The header as written of field ``name`` (``""`` if the file has no such column)."""
        for header, field_name in zip(self.headers, self.fields, strict=False):
            if field_name == name:
                return header
        return ""


JOINABLE: dict[DocKind, frozenset[str]] = {
    "case": frozenset({"summary", "resolution"}),
    "faq": frozenset({"answer"}),
}
"""Free-text fields that several columns may fill when the mapping file names each of them
(対応経過, 備考 and メモ all as ``resolution``): the values are joined in column order, each
after the first under its header (【備考】…). Without the mapping file two such columns stay an
error: a second 回答 column is more often an old copy than a note."""


def joined_field(name: str, values: Sequence[tuple[str, str]]) -> str:
    """The cells of the columns that fill field ``name``, ``(header, cell)`` in column order:
    the levels of a category tree as a path (``戸籍・住民票 > 住民票``), free text
    :func:`joined`."""
    if name == "category":
        return " > ".join(cell.strip() for _, cell in values if cell.strip())
    return joined(values)


def joined(values: Sequence[tuple[str, str]]) -> str:
    """The cells of the columns that fill one field, ``(header, cell)`` in column order: the
    first column's cell as written, each later non-empty one on a line of its own after its
    header. A first column of personal data (相談者, 氏名) keeps its header too: a name alone
    at the top of a summary says nothing to staff, and the masking reads a name by its label
    (【相談者】纐纈 源五郎) where it cannot by its words."""
    parts: list[str] = []
    for i, (header, cell) in enumerate(values):
        text = cell.strip()
        if text:
            labelled = i or personal_label(header)
            parts.append(f"\u3010{header}\u3011{text}" if labelled else text)
    return "\n".join(parts)


def resolve(kind: DocKind, header: str, mapping: ColumnMapping = NO_MAPPING) -> str | None:
    """The field ``header`` stands for in a ``kind`` file, :data:`NOT_STORED`, or ``None``."""
    target = mapping.target(kind, header)
    if target is not None:
        return target
    name = SPECS[kind].resolve(header)
    if name is not None:
        return name
    key = header_key(header)
    if any(key == header_key(c) for c in NOT_STORED_COLUMNS.get(kind, ())):
        return NOT_STORED
    return None


def map_columns(
    headers: Sequence[str],
    kind: DocKind,
    source: str,
    line: int = 1,
    mapping: ColumnMapping = NO_MAPPING,
) -> ColumnMap:
    """Map a file's column headers to the fields of ``kind``, reporting every problem at once.

    Columns with an empty header are tolerated (spreadsheets often export a trailing empty
    column); the reader rejects values in them.

    Args:
        headers: The header cells, as written in the file.
        kind: A tabular kind.
        source: The file, for error messages.
        line: The line of the header (1 for CSV, the object's line for JSONL).
        mapping: The city's column mapping.

    Returns:
        The canonical field name of each column.

    Raises:
        SchemaError: Headers unknown for ``kind``, two headers for the same field, required
            fields without a column: all of them in one message, which also lists the accepted
            names. ``field`` names the first problem's column.
    """
    # JSONL repeats the same keys on every line: a mapping that succeeded once is reused.
    key = (kind, tuple(headers), mapping)
    found = _COLUMN_MAPS.get(key)
    if found is not None:
        return found
    spec = _spec(kind, source)
    fields: list[str | None] = []
    seen: dict[str, str] = {}
    not_stored: list[tuple[str, bool]] = []
    problems: list[tuple[str, str]] = []  # (column, message line)
    unknown: list[tuple[int, str]] = []  # (column number, header)
    for column, raw in enumerate(headers, start=1):
        header = raw.strip()
        if not header_key(header):
            fields.append(None)
            continue
        name = resolve(kind, header, mapping)
        if name == NOT_STORED:
            not_stored.append((header, mapping.target(kind, header) == NOT_STORED))
            fields.append(None)
            continue
        if name is None:
            unknown.append((column, header))
            problems.append((header, ""))  # its line is written once every column is known
            fields.append(None)
            continue
        if name in seen and not (
            name == "category"  # the levels of a category tree (CATEGORY_LEVEL_RE)
            or (
                name in JOINABLE.get(kind, ())
                and mapping.target(kind, header) is not None
                and mapping.target(kind, seen[name]) is not None
            )
        ):
            problems.append(
                (header, msg("columns.duplicate", first=seen[name], second=header, field=name))
            )
        seen.setdefault(name, header)
        fields.append(name)
    # A hint never names a field that another column already gives (部名 is not 部署名 when
    # 課名 is there: taking it would make two name columns).
    lines = {
        header: msg(
            "columns.unknown", header=header, column=column, hint=_close_name(spec, header, seen)
        )
        for column, header in unknown
    }
    problems = [(header, text or lines[header]) for header, text in problems]
    for name in spec.required:
        if name not in seen:
            aliases = msg("columns.alias_separator").join(spec.field(name).aliases) or name
            problems.append((name, msg("columns.missing", field=name, aliases=aliases)))
    if problems:
        raise SchemaError(
            source,
            msg(
                "columns.problems",
                count=len(problems),
                problems="\n".join(text for _, text in problems),
                kind=kind,
                accepted=accepted_names(spec),
            ),
            line=line,
            field=problems[0][0],
        )
    columns = ColumnMap(kind, tuple(fields), tuple(h.strip() for h in headers), tuple(not_stored))
    if len(_COLUMN_MAPS) < 1024:
        _COLUMN_MAPS[key] = columns
    return columns


_COLUMN_MAPS: dict[tuple[DocKind, tuple[str, ...], ColumnMapping], ColumnMap] = {}
"""Successful header mappings (errors are not cached: they name the file and line)."""


def accepted_names(spec: KindSpec) -> str:
    """The fields of a kind with their aliases, as an error lists them: ``id（ID, 番号…）``."""
    sep = msg("columns.alias_separator")
    return ", ".join(
        msg("columns.accepted", name=f.name, aliases=sep.join(f.aliases)) if f.aliases else f.name
        for f in spec.fields
    )


def _close_name(spec: KindSpec, header: str, given: Mapping[str, str]) -> str:
    """A hint naming the accepted header closest to a misspelled one, or ``""``.

    Never the id's name for a longer header that holds it: 郵便番号, 電話番号 and 口座番号 are
    other columns, not 番号 misspelled, and taking the hint would store a phone number as each
    record's id, which is never masked. Nor any name for a column of personal data (担当者 is
    one letter from 担当課: taking that hint would route by staff names; 生年月日 is close to
    相談年月日, which would store every birth date as the consultation's date). Nor a field
    that another column already gives (``given``: field → header).
    """
    key = header_key(header)
    if personal_label(header) or "者" in key:
        return ""  # 担当者, 入力者, 相談者区分, 生年月日: personal data; no field should hold it
    names = [
        n
        for f in spec.fields
        if f.name not in given or f.name == "category"
        for n in (f.name, *f.aliases)
        if not (f.name == "id" and header_key(n) != key and header_key(n) in key)
    ]
    by_key = {header_key(n): n for n in names}
    close = difflib.get_close_matches(key, list(by_key), n=1, cutoff=0.6)
    return msg("columns.unknown_hint", close=by_key[close[0]]) if close else ""


def detect_kind(
    headers: Iterable[str], source: str, line: int = 1, mapping: ColumnMapping = NO_MAPPING
) -> DocKind:
    """Tell the kind of a tabular file from its column headers.

    The kind whose fields explain the most headers wins; a kind is only a candidate if it
    explains the distinctive columns of no other kind better. Its required columns are
    checked later by :func:`map_columns`, so a FAQ file that lacks ``answer`` is reported as
    exactly that, not as an undetectable file. The mapping's headers count for their kind.

    Args:
        headers: The header cells (CSV, XLSX) or keys of the first object (JSONL).
        source: The file, for error messages.
        line: Where the headers are.
        mapping: The city's column mapping.

    Returns:
        ``"faq"``, ``"case"`` or ``"department"``.

    Raises:
        SchemaError: No kind or more than one kind fits equally well.
    """
    keys = [h for h in headers if header_key(h)]
    scores: dict[DocKind, tuple[int, int]] = {}
    for kind in TABULAR_KINDS:
        spec = SPECS[kind]
        names = {resolve(kind, h, mapping) for h in keys} - {None, NOT_STORED}
        # Required fields found weigh more than optional ones: ``担当課`` alone fits every kind.
        required = sum(1 for name in spec.required if name in names)
        scores[kind] = (required, len(names))
    best = max(scores.values())
    winners = [kind for kind, score in scores.items() if score == best]
    if best[0] == 0 or len(winners) > 1:
        shown = ", ".join(k.strip() for k in keys) or msg("columns.none")
        if best[0] == 0:
            message = msg("columns.kind_unknown", headers=shown)
        else:
            message = msg("columns.kind_tie", headers=shown, kinds=" / ".join(winners))
        raise SchemaError(source, message, line=line)
    return winners[0]


def _spec(kind: DocKind, source: str) -> KindSpec:
    try:
        return SPECS[kind]
    except KeyError:
        raise SchemaError(source, msg("columns.no_kind", kind=kind)) from None
