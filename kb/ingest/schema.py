"""Field specifications of the tabular kinds and parsing of their values.

This module is the executable form of ``docs/schema.md``: the fields of each kind with their
Japanese aliases, header matching, kind detection from a file's columns, and the parsers for
published flags, dates, channels and multi-valued fields. It reads no files.

Value parsers raise :class:`ValueError` with a message meant for the person who fixes the file;
the readers turn it into a :class:`~kb.types.RowError` that names the file, line and field.
"""

from __future__ import annotations

import datetime as dt
import re
import unicodedata
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from kb.errors import SchemaError
from kb.types import CASE_CHANNELS, DocKind

TABULAR_KINDS: tuple[DocKind, ...] = ("faq", "case", "department")
"""The kinds that come as CSV/JSONL rows (``manual`` has no columns)."""


@dataclass(frozen=True)
class FieldSpec:
    """One field of a tabular kind."""

    name: str
    aliases: tuple[str, ...] = ()
    required: bool = False
    multi: bool = False
    """Multi-valued: ``|``/``、``/``;``-separated in CSV, a string or a list in JSONL."""
    body: bool = False
    """Long free text (answer, resolution, duties), limited by ``max_record_body_chars``; every
    other field by ``max_record_title_chars``."""


@dataclass(frozen=True)
class KindSpec:
    """The fields of one tabular kind."""

    kind: DocKind
    fields: tuple[FieldSpec, ...]

    @property
    def required(self) -> tuple[str, ...]:
        """Names of the required fields, in schema order."""
        return tuple(f.name for f in self.fields if f.required)

    def field(self, name: str) -> FieldSpec:
        """The spec of field ``name`` (a canonical name)."""
        for spec in self.fields:
            if spec.name == name:
                return spec
        raise KeyError(name)

    def resolve(self, header: str) -> str | None:
        """The canonical field name a column header stands for, or ``None`` if unknown."""
        key = header_key(header)
        for spec in self.fields:
            if key == header_key(spec.name) or key in (header_key(a) for a in spec.aliases):
                return spec.name
        return None


SPECS: dict[DocKind, KindSpec] = {
    "faq": KindSpec(
        "faq",
        (
            FieldSpec("id", ("ID", "番号", "FAQ番号"), required=True),
            FieldSpec("question", ("質問", "問い"), required=True),
            FieldSpec("answer", ("回答", "答え"), required=True, body=True),
            FieldSpec("department", ("departments", "担当課", "所管課", "担当"), multi=True),
            FieldSpec("category", ("分類", "カテゴリ")),
            FieldSpec("published", ("公開", "公開フラグ")),
            FieldSpec("url", ("URL", "リンク")),
        ),
    ),
    "case": KindSpec(
        "case",
        (
            FieldSpec("id", ("ID", "番号", "相談番号", "case_id"), required=True),
            FieldSpec("date", ("日付", "相談日", "受付日"), required=True),
            FieldSpec("channel", ("経路", "相談経路", "受付方法")),
            FieldSpec("category", ("分類", "相談分類")),
            FieldSpec("summary", ("相談内容", "概要", "相談概要"), required=True),
            FieldSpec(
                "resolution", ("対応", "対応内容", "対応結果", "解決"), required=True, body=True
            ),
            FieldSpec("departments", ("department", "担当課", "対応課", "引継先"), multi=True),
            FieldSpec("status", ("状態", "ステータス")),
        ),
    ),
    "department": KindSpec(
        "department",
        (
            FieldSpec("name", ("課名", "部署名", "担当課"), required=True),
            FieldSpec("duties", ("業務内容", "所掌事務", "業務"), required=True, body=True),
            FieldSpec("phone", ("電話", "電話番号")),
            FieldSpec("location", ("場所", "窓口", "所在地", "フロア")),
            FieldSpec("hours", ("受付時間", "開庁時間")),
            FieldSpec("aliases", ("別名", "通称"), multi=True),
        ),
    ),
}


def header_key(header: str) -> str:
    """The form in which column headers are compared: NFKC, case-folded, stripped.

    A UTF-8 BOM or zero-width space left in front of the first header is dropped too.
    """
    text = unicodedata.normalize("NFKC", header).casefold()
    return text.strip().strip("\ufeff\u200b").strip()


@dataclass(frozen=True)
class ColumnMap:
    """How the columns of one file map to the fields of its kind."""

    kind: DocKind
    fields: tuple[str | None, ...]
    """The canonical field of each column, ``None`` for a column without a header."""


def map_columns(headers: Sequence[str], kind: DocKind, source: str, line: int = 1) -> ColumnMap:
    """Map a file's column headers to the fields of ``kind``.

    Columns with an empty header are tolerated (spreadsheets often export a trailing empty
    column); the reader rejects values in them.

    Args:
        headers: The header cells, as written in the file.
        kind: A tabular kind.
        source: The file, for error messages.
        line: The line of the header (1 for CSV, the object's line for JSONL).

    Returns:
        The canonical field name of each column.

    Raises:
        SchemaError: A header is unknown for ``kind``, two headers name the same field, or a
            required field has no column.
    """
    # JSONL repeats the same keys on every line: a mapping that succeeded once is reused.
    key = (kind, tuple(headers))
    found = _COLUMN_MAPS.get(key)
    if found is not None:
        return found
    spec = _spec(kind, source)
    fields: list[str | None] = []
    seen: dict[str, str] = {}
    for header in headers:
        if not header_key(header):
            fields.append(None)
            continue
        name = spec.resolve(header)
        if name is None:
            known = ", ".join(f.name for f in spec.fields)
            raise SchemaError(
                source,
                f"unknown column for kind '{kind}' (known: {known}, or their Japanese aliases)",
                line=line,
                field=header.strip(),
            )
        if name in seen:
            raise SchemaError(
                source,
                f"columns '{seen[name]}' and '{header.strip()}' both mean '{name}'",
                line=line,
                field=header.strip(),
            )
        seen[name] = header.strip()
        fields.append(name)
    for name in spec.required:
        if name not in seen:
            raise SchemaError(
                source, f"missing required column for kind '{kind}'", line=line, field=name
            )
    columns = ColumnMap(kind, tuple(fields))
    if len(_COLUMN_MAPS) < 1024:
        _COLUMN_MAPS[key] = columns
    return columns


_COLUMN_MAPS: dict[tuple[DocKind, tuple[str, ...]], ColumnMap] = {}
"""Successful header mappings (errors are not cached: they name the file and line)."""


def detect_kind(headers: Iterable[str], source: str, line: int = 1) -> DocKind:
    """Tell the kind of a tabular file from its column headers.

    The kind whose fields explain the most headers wins; a kind is only a candidate if it
    explains the distinctive columns of no other kind better. Its required columns are
    checked later by :func:`map_columns`, so a FAQ file that lacks ``answer`` is reported as
    exactly that, not as an undetectable file.

    Args:
        headers: The header cells (CSV) or keys of the first object (JSONL).
        source: The file, for error messages.
        line: Where the headers are.

    Returns:
        ``"faq"``, ``"case"`` or ``"department"``.

    Raises:
        SchemaError: No kind or more than one kind fits equally well.
    """
    keys = [h for h in headers if header_key(h)]
    scores: dict[DocKind, tuple[int, int]] = {}
    for kind in TABULAR_KINDS:
        spec = SPECS[kind]
        names = {spec.resolve(h) for h in keys} - {None}
        # Required fields found weigh more than optional ones: ``担当課`` alone fits every kind.
        required = sum(1 for name in spec.required if name in names)
        scores[kind] = (required, len(names))
    best = max(scores.values())
    winners = [kind for kind, score in scores.items() if score == best]
    if best[0] == 0 or len(winners) > 1:
        shown = ", ".join(keys) or "(none)"
        what = "cannot tell" if best[0] == 0 else f"columns fit {' and '.join(winners)} equally;"
        raise SchemaError(
            source,
            f"{what} which kind of file this is from its columns ({shown}); "
            "use the documented column names or give the kind explicitly (--kind)",
            line=line,
        )
    return winners[0]


def _spec(kind: DocKind, source: str) -> KindSpec:
    try:
        return SPECS[kind]
    except KeyError:
        raise SchemaError(source, f"kind '{kind}' has no columns (manuals are documents)") from None


# --- values -------------------------------------------------------------------------------

_TRUE = frozenset({"true", "1", "yes", "y", "公開", "はい", "○", "〇", "◯"})  # noqa: RUF001
_FALSE = frozenset({"false", "0", "no", "n", "非公開", "いいえ", "×", "✕", "✗"})  # noqa: RUF001


def parse_published(value: str) -> bool:
    """Parse a published flag; empty means published (the default of FAQ entries).

    Raises:
        ValueError: Not one of the documented spellings.
    """
    key = header_key(value)
    if not key or key in _TRUE:
        return True
    if key in _FALSE:
        return False
    raise ValueError(
        f"published flag '{value}' is not one of true/false, 1/0, yes/no, 公開/非公開, "
        "はい/いいえ, ○/×"  # noqa: RUF001
    )


_ISO_RE = re.compile(r"(\d{4})[-/.](\d{1,2})[-/.](\d{1,2})")
_KANJI_RE = re.compile(r"(\d{4})年(\d{1,2})月(\d{1,2})日")
_ERA_RE = re.compile(
    r"(令和|平成|昭和|大正|R|H|S|T)(\d{1,2}|元)年(\d{1,2})月(\d{1,2})日", re.IGNORECASE
)


@dataclass(frozen=True)
class _Era:
    name: str
    start: int
    """Western year of era year 1 (令和元年 = 2019)."""
    last: int | None
    """The era's last year number (平成31年), ``None`` for the current era."""


_ERAS = {
    era.name: era
    for era in (
        _Era("令和", 2019, None),
        _Era("平成", 1989, 31),
        _Era("昭和", 1926, 64),
        _Era("大正", 1912, 15),
    )
}
_ERA_LETTERS = {"r": "令和", "h": "平成", "s": "昭和", "t": "大正"}
EARLIEST_CASE_YEAR = 1900
"""Case dates before this year are typing errors (``1024-04-01``), not old records."""
# Spreadsheets write a date cell as "2024/4/1 0:00"; the time carries no meaning for a case.
_TIME_SUFFIX_RE = re.compile(r"(?:\s+|T)\d{1,2}:\d{2}(?::\d{2}(?:\.\d+)?)?$")


def parse_date(value: str, *, today: dt.date | None = None) -> str:
    """Parse a case date into ISO ``YYYY-MM-DD``.

    Accepts ``YYYY-MM-DD``, ``YYYY/MM/DD`` (month and day may have one digit),
    ``YYYY年M月D日`` and Japanese era dates (``令和6年4月1日``, ``令和元年…``, ``平成…``,
    ``昭和…``, ``大正…``, or ``R6年…``, ``H31年…``), with full-width digits too, and ignores a
    trailing time of day as spreadsheets write it.

    The date must exist in the calendar, an era year must lie within its era (平成 1-31,
    昭和 1-64, 大正 1-15) and the year within :data:`EARLIEST_CASE_YEAR` .. next year: a case
    dated 9999-12-31 or 令和99年 is a typing error that would otherwise sort first in every
    date filter. Within an era's last year the day is not checked against the day the era
    ended, because pre-printed forms went on being dated 平成31年5月 after 令和 began.

    Args:
        value: The cell as written.
        today: The current date, for the upper end of the window (default: the system's).

    Raises:
        ValueError: Not a date in one of those forms, not a real calendar date, an era year
            outside its era, or a year outside the window.
    """
    text = unicodedata.normalize("NFKC", value).strip()
    text = _TIME_SUFFIX_RE.sub("", text)
    year: int
    if (m := _ISO_RE.fullmatch(text)) or (m := _KANJI_RE.fullmatch(text)):
        year, month, day = int(m[1]), int(m[2]), int(m[3])
    elif m := _ERA_RE.fullmatch(text):
        era = _ERAS[_ERA_LETTERS.get(m[1].casefold(), m[1])]
        era_year = 1 if m[2] == "元" else int(m[2])
        if era_year < 1 or (era.last is not None and era_year > era.last):
            span = f"1-{era.last}" if era.last is not None else "from 1"
            raise ValueError(f"date '{value}': {era.name}{era_year}年 does not exist ({span})")
        year, month, day = era.start + era_year - 1, int(m[3]), int(m[4])
    else:
        raise ValueError(f"date '{value}' is not YYYY-MM-DD, YYYY/MM/DD or YYYY年M月D日")
    try:
        date = dt.date(year, month, day)
    except ValueError:
        raise ValueError(f"date '{value}' does not exist") from None
    latest = (today or dt.date.today()).year + 1
    if not EARLIEST_CASE_YEAR <= year <= latest:
        raise ValueError(
            f"date '{value}' is in {year}; a case date must lie between {EARLIEST_CASE_YEAR} "
            f"and {latest}"
        )
    return date.isoformat()


_CHANNELS = {header_key(c): c for c in CASE_CHANNELS}


def parse_channel(value: str) -> str:
    """Parse a case channel into its canonical spelling; empty stays empty.

    Matching ignores width and case (full-width or lower-case ``line`` is ``LINE``).

    Raises:
        ValueError: Not one of 窓口, 電話, メール, LINE, オンライン.
    """
    key = header_key(value)
    if not key:
        return ""
    try:
        return _CHANNELS[key]
    except KeyError:
        raise ValueError(f"channel '{value}' is not one of {', '.join(CASE_CHANNELS)}") from None


MULTI_SEPARATORS = "|\uff5c、､;\uff1b"
"""Separators of multi-valued fields (``|``, ``、``, ``､``, ``;`` and their full-width forms)."""
_MULTI_RE = re.compile(f"[{re.escape(MULTI_SEPARATORS)}]")


def split_multi(value: str | Iterable[str]) -> tuple[str, ...]:
    """Split a multi-valued field into stripped, non-empty values, without duplicates.

    Args:
        value: The cell text, or (JSONL) a list of values, each of which may be split again.
    """
    parts = (
        _MULTI_RE.split(value)
        if isinstance(value, str)
        else [part for item in value for part in _MULTI_RE.split(item)]
    )
    return tuple(dict.fromkeys(p.strip() for p in parts if p.strip()))


def parse_id(value: str) -> str:
    """Parse a record id: NFKC-normalised (a full-width ``F0001`` is ``F0001``).

    Raises:
        ValueError: Empty, or containing whitespace or ``#`` (which separates chunk ordinals).
    """
    text = unicodedata.normalize("NFKC", value).strip()
    if not text:
        raise ValueError("required value is empty")
    if "#" in text or any(ch.isspace() or not ch.isprintable() for ch in text):
        raise ValueError(f"id '{value}' must not contain spaces, control characters or '#'")
    return text


def check_length(value: str, limit: int, setting: str) -> None:
    """Refuse a value longer than ``limit`` characters.

    Args:
        value: The value as read (stripped).
        limit: The most characters allowed.
        setting: The setting that raises the limit, named in the message.

    Raises:
        ValueError: ``value`` is longer; the message gives its length and the limit.
    """
    if len(value) > limit:
        raise ValueError(
            f"値が {len(value):,} 文字あり、上限 {limit:,} 文字 ({setting}) を超えています。"
            "行をスキップしました"
        )


def parse_url(value: str) -> str:
    """Check that a link is an ``http(s)`` URL; empty stays empty.

    The staff console and public pages render it as a link, so other schemes
    (``javascript:``, ``file:``) are refused.

    Raises:
        ValueError: Not an http or https URL.
    """
    text = value.strip()
    if text and not re.match(r"https?://[^\s]+$", text, re.IGNORECASE):
        raise ValueError(f"url '{value}' is not an http:// or https:// address")
    return text
