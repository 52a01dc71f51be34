"""A day's bookings (事前予約) from the booking system's export: CSV or xlsx.

Columns: ``datetime`` (予約日時), ``channel`` (相談方法) and ``topic`` (相談内容), in any order,
with an optional ``id`` (予約番号). Other columns (氏名, 電話番号... which booking systems
export too) are never read: they are named in :attr:`BookingFile.ignored_columns` so staff
see what was left out. A bad row is a :class:`~kb.types.RowError` naming the file, line and
column; the good rows are kept.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, replace
from pathlib import Path

from kb.errors import InputError, SchemaError
from kb.ingest.limits import DEFAULT_LIMITS
from kb.ingest.rows import TableRow, table_rows
from kb.ingest.schema import header_key
from kb.messages import msg
from kb.types import RowError

COLUMNS: dict[str, tuple[str, ...]] = {
    "datetime": ("予約日時", "日時", "予約日", "date", "日付"),
    "channel": ("相談方法", "方法", "予約種別", "経路"),
    "topic": ("相談内容", "内容", "相談概要", "ご相談内容", "要件", "用件"),
    "id": ("予約番号", "番号", "受付番号", "ID"),
}
"""Booking columns: canonical name → Japanese (and other) spellings."""
_KEYS = {header_key(a): name for name, aliases in COLUMNS.items() for a in (name, *aliases)}
REQUIRED = ("datetime", "topic")
MAX_BOOKINGS = 200
"""The most bookings one file may hold: a desk's day, with room to spare."""
MAX_BOOKING_ERRORS = 100
"""Rows with errors before a file is refused whole: a file of a million bad rows would answer
with a million errors (66 MB of JSON for 960 KB of CSV)."""
BOOKING_CELLS = (MAX_BOOKINGS + 10) * 100
BOOKING_STRING_BYTES = (MAX_BOOKINGS + 10) * 50 * 200
"""XML of a workbook's parts parsed whole (its shared strings): 200 bytes for each cell of
210 rows of 50 columns; 200 bookings with five columns of 100-character notes take about
0.3 MB there."""
BOOKING_LIMITS = replace(
    DEFAULT_LIMITS,
    max_sheet_cells=BOOKING_CELLS,
    max_xml_part_bytes=BOOKING_STRING_BYTES,
)
"""A day's bookings fill a few hundred rows: a workbook sheet with more cells than 210 rows of
100 columns (a booking system's export carries many columns kb reads past) is refused while
it is read, before its rows are held or parsed (the limit of an ingest's sheet, 5 million,
took a small compressed file 14 s on the search pool), and a workbook whose shared strings
unpack to more than 2.1 MB is refused before it is opened (3 million one-letter strings,
51 MB unpacked from a 730 KB file, held the search pool for minutes; 2.1 MB of them take about
1.5 s)."""

CHANNELS: dict[str, str] = {
    "窓口": "窓口",
    "来庁": "窓口",
    "対面": "窓口",
    "電話": "電話",
    "オンライン": "オンライン",
    "リモート": "オンライン",
    "web": "オンライン",
    "ビデオ通話": "オンライン",
    "zoom": "オンライン",
    "メール": "メール",
    "line": "LINE",
}
"""Channel spellings → the canonical one; another value is shown as written."""


@dataclass(frozen=True)
class Booking:
    """One booked consultation: when, how, and what about (the citizen's words)."""

    when: str
    """``YYYY-MM-DD HH:MM`` (``YYYY-MM-DD`` when no time was given)."""
    channel: str
    topic: str
    id: str = ""
    source: str = ""
    """``file:line`` for a booking read from a file."""


@dataclass(frozen=True)
class BookingFile:
    """What a bookings file gave: the good bookings, the bad rows, the unread columns."""

    source: str
    bookings: tuple[Booking, ...]
    errors: tuple[RowError, ...] = ()
    ignored_columns: tuple[str, ...] = ()


# Each stretch of spaces is matched by one \s* only: with two in a row (\s*(?:T|\s)?\s*) a run
# of spaces before a character that fails made the match backtrack as its fourth power (260
# spaces held the server for 12 s).
_DATE_TIME_RE = re.compile(
    r"(\d{4}) ?[-/.年] ?(\d{1,2}) ?[-/.月] ?(\d{1,2}) ?日?"
    r"(?: ?(?:\([^)]{0,8}\) ?)?(?:T ?)?(\d{1,2}) ?[:時] ?(?:(\d{1,2}) ?)?分?(?::\d{2})?)?"
)
_SPACES_RE = re.compile(r"\s+")
MAX_WHEN_CHARS = 40
"""A booking's 予約日時 longer than this is no date (the JSON routes' limit too)."""


def parse_when(value: str) -> str:
    """A booking's date and time as ``YYYY-MM-DD HH:MM`` (or ``YYYY-MM-DD``).

    Accepts ``2026-06-01 09:30``, ``2026/6/1 9:30``, ``2026年6月1日 9時30分``,
    ``2026年6月1日(月) 9:30`` and ISO ``2026-06-01T09:30``.

    Raises:
        ValueError: None of those forms, or not a real date or time.
    """
    import datetime as dt

    text = _SPACES_RE.sub(" ", unicodedata.normalize("NFKC", value)).strip()
    # Quoted as read (spaces as one), cut short: the message names the cell, not a page of it.
    quoted = text if len(text) <= MAX_WHEN_CHARS else text[:MAX_WHEN_CHARS] + "…"
    m = _DATE_TIME_RE.fullmatch(text) if len(text) <= MAX_WHEN_CHARS else None
    if m is None:
        raise ValueError(msg("desk.booking_unreadable", value=quoted))
    try:
        day = dt.date(int(m[1]), int(m[2]), int(m[3]))
        if m[4] is None:
            return day.isoformat()
        at = dt.time(int(m[4]), int(m[5] or 0))
    except ValueError:
        raise ValueError(msg("desk.booking_not_real", value=quoted)) from None
    return f"{day.isoformat()} {at.strftime('%H:%M')}"


def parse_channel(value: str) -> str:
    """The canonical spelling of a channel (来庁 → 窓口); another value as written."""
    text = unicodedata.normalize("NFKC", value).strip()
    return CHANNELS.get(text.casefold(), text)


def read_bookings(path: Path) -> BookingFile:
    """Read a day's bookings from a ``.csv`` or ``.xlsx`` file.

    Raises:
        InputError: The file cannot be read, is empty, or holds more than
            :data:`MAX_BOOKINGS` bookings.
        SchemaError: The ``datetime`` or ``topic`` column is missing.
    """
    return parse_bookings(table_rows(path, limits=BOOKING_LIMITS), source=str(path))


def parse_bookings(rows: Iterable[TableRow], *, source: str) -> BookingFile:
    """Bookings from a table's rows, the first one the header (see :func:`read_bookings`)."""
    it = iter(rows)
    first = next(it, None)
    if first is None:
        raise InputError(source, msg("rows.empty_file"))
    header_line, header = first
    if isinstance(header, RowError):
        problem = msg("rows.header_unreadable", problem=header.message)
        raise SchemaError(source, problem, line=header_line)
    columns, ignored = _map(header, source, header_line)
    bookings: list[Booking] = []
    errors: list[RowError] = []
    mask: Callable[[str], str] | None = None
    for line, cells in it:
        if len(errors) > MAX_BOOKING_ERRORS:
            raise InputError(
                source, msg("desk.too_many_booking_errors", limit=MAX_BOOKING_ERRORS, line=line)
            )
        if isinstance(cells, RowError):
            errors.append(cells)
            continue
        values = {name: cell.strip() for name, cell in zip(columns, cells, strict=False) if name}
        problems: list[RowError] = []
        when = ""
        try:
            when = parse_when(values.get("datetime", ""))
        except ValueError as exc:
            # The cell is quoted: a name or a phone typed into the wrong column stays masked.
            if mask is None:
                from kb.text.masking import Masker

                mask = Masker().mask
            shown = _shown(header, columns, "datetime")
            problems.append(RowError(source, line, shown, mask(str(exc))))
        topic = values.get("topic", "")
        if not topic:
            problems.append(
                RowError(
                    source, line, _shown(header, columns, "topic"), msg("desk.booking_no_topic")
                )
            )
        if problems:
            errors.extend(problems)
            continue
        bookings.append(
            Booking(
                when=when,
                channel=parse_channel(values.get("channel", "")),
                topic=topic,
                id=values.get("id", ""),
                source=f"{source}:{line}",
            )
        )
        if len(bookings) > MAX_BOOKINGS:
            raise InputError(source, msg("desk.too_many_bookings", limit=MAX_BOOKINGS))
    bookings.sort(key=lambda b: (b.when, b.source))
    return BookingFile(source, tuple(bookings), tuple(errors), ignored)


def _map(header: Sequence[str], source: str, line: int) -> tuple[list[str | None], tuple[str, ...]]:
    columns: list[str | None] = []
    ignored: list[str] = []
    seen: set[str] = set()
    for cell in header:
        name = _KEYS.get(header_key(cell))
        if name is None or name in seen:
            columns.append(None)
            if cell.strip():
                ignored.append(cell.strip())
            continue
        seen.add(name)
        columns.append(name)
    for name in REQUIRED:
        if name not in seen:
            aliases = msg("columns.alias_separator").join(COLUMNS[name][:2])
            problem = msg("desk.booking_column", name=name, aliases=aliases)
            raise SchemaError(source, problem, line=line, field=name)
    return columns, tuple(ignored)


def _shown(header: Sequence[str], columns: Sequence[str | None], name: str) -> str:
    """The column as the file names it (``予約日時``), for the error message."""
    for cell, column in zip(header, columns, strict=False):
        if column == name:
            return cell.strip()
    return name
