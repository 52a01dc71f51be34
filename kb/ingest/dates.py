"""Case dates in every form Japanese city staff write them, read into ISO ``YYYY-MM-DD``.

Western dates (``2024-06-01``, ``2024/6/1``, ``2024.6.1``, ``2024年6月1日``, ``20240601``, and
an ISO date and time with its zone, ``2025-04-01T08:45:00+09:00`` or ``...Z``, as the day in
Japan) and 和暦
(``令和6年6月1日``, ``令和元年5月1日``, ``R6.6.1``, ``R6/6/1``, ``H31.4.30``, ``S64.1.7``), with
full-width digits, kanji numerals (``令和六年六月一日``), the era ligatures (``㋿``, ``㍻``), a
weekday in brackets (``(土)``) and a time of day as spreadsheets append it. Excel stores a date
cell as a day count (:func:`excel_serial_date`).

The eras are a table of five rows rather than a dependency: the libraries on PyPI
(``japanera``, ``jeraconv``) convert era years but parse only through per-form format strings
or not at all, and none checks the days on which an era began and ended. Here every era has
its first and last day. Printed forms kept their old era after a change (平成31年5月10日 on a
form filled in under 令和), so a date in an era's last year after its last day is read as the
same calendar day with a note naming the new era's form (:attr:`DateReading.note`: ingest
makes it a warning and keeps the row). A date before an era began (``R1.4.30``: 令和 began on
2019-05-01) cannot be a leftover form and is refused with the date it should have been.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import re
import unicodedata
from dataclasses import dataclass

from kb.messages import msg

ACCEPTED_FORMS = (
    "2024-06-01, 2024/6/1, 2024.6.1, 2024年6月1日, 令和6年6月1日, 令和元年5月1日, "
    "R6.6.1, R6/6/1, H31.4.30"
)
"""The forms named in every error, so that whoever fixes the file knows what works."""

EARLIEST_CASE_YEAR = 1900
"""Case dates before this year are typing errors (``1024-04-01``), not old records."""


@dataclass(frozen=True)
class Era:
    """One Japanese era: its name, its letter and the days it began and ended."""

    name: str
    letter: str
    first: dt.date
    last: dt.date | None
    """The era's last day, ``None`` for the current era."""

    @property
    def last_year(self) -> int | None:
        """The era year of the last day (平成31年), ``None`` for the current era."""
        return None if self.last is None else self.last.year - self.first.year + 1

    def year(self, era_year: int) -> int:
        """The western year of ``era_year`` (令和元年 = 2019)."""
        return self.first.year + era_year - 1

    def holds(self, date: dt.date) -> bool:
        """Whether ``date`` lies within the era."""
        return self.first <= date and (self.last is None or date <= self.last)

    def written(self, date: dt.date) -> str:
        """``date`` written in this era: ``令和元年5月1日``."""
        era_year = date.year - self.first.year + 1
        shown = "元" if era_year == 1 else str(era_year)
        return f"{self.name}{shown}年{date.month}月{date.day}日"


ERAS: tuple[Era, ...] = (
    Era("令和", "R", dt.date(2019, 5, 1), None),
    Era("平成", "H", dt.date(1989, 1, 8), dt.date(2019, 4, 30)),
    Era("昭和", "S", dt.date(1926, 12, 25), dt.date(1989, 1, 7)),
    Era("大正", "T", dt.date(1912, 7, 30), dt.date(1926, 12, 24)),
    Era("明治", "M", dt.date(1868, 10, 23), dt.date(1912, 7, 29)),
)
_BY_NAME = {e.name: e for e in ERAS} | {e.letter.casefold(): e for e in ERAS}

_SEP = r"\s*([-/.])\s*"
_WESTERN_RE = re.compile(rf"(\d{{4}}){_SEP}(\d{{1,2}})\s*\2\s*(\d{{1,2}})")
_WESTERN_KANJI_RE = re.compile(r"(\d{4})\s*年\s*(\d{1,2})\s*月\s*(\d{1,2})\s*日")
_ERA = r"(令和|平成|昭和|大正|明治|[RHSTM])\s*\.?\s*(\d{1,2}|元)"
_ERA_RE = re.compile(rf"{_ERA}{_SEP}(\d{{1,2}})\s*\3\s*(\d{{1,2}})", re.IGNORECASE)
_ERA_KANJI_RE = re.compile(rf"{_ERA}\s*年\s*(\d{{1,2}})\s*月\s*(\d{{1,2}})\s*日", re.IGNORECASE)
# A date and time with its zone, as newer systems export it (ISO 8601: Z or an offset).
_ZONED_RE = re.compile(
    r"\d{4}-\d{2}-\d{2}[T ]\d{2}:\d{2}(?::\d{2}(?:\.\d{1,6})?)?(?:Z|[+-]\d{2}:?\d{2})"
)
_SERIAL_TEXT_RE = re.compile(r"[2-7][0-9]{4}(?:\.[0-9]+)?")
"""An Excel day count as a CSV keeps it: 20000 (1954) to 79999 (2119); the year window
refuses the ends no case has."""
_COMPACT_RE = re.compile(r"(?:19|20)\d{2}(?:0[1-9]|1[0-2])(?:0[1-9]|[12]\d|3[01])")
_JST = dt.timezone(dt.timedelta(hours=9))
# Spreadsheets write a date cell as "2024/4/1 0:00"; the time carries no meaning for a case.
_TIME_SUFFIX_RE = re.compile(r"(?:\s+|T)\d{1,2}:\d{2}(?::\d{2}(?:\.\d+)?)?$")
# "2024年6月1日(土)", "令和6年6月1日（土曜日）": NFKC has made the brackets ASCII.
_WEEKDAY_SUFFIX_RE = re.compile(r"\s*\(\s*[月火水木金土日](?:曜日?)?\s*\)$")
_KANJI_DIGITS = {c: i for i, c in enumerate("〇一二三四五六七八九")}
_KANJI_NUMBER_RE = re.compile(r"[〇一二三四五六七八九十]+(?=\s*[年月日])")


@dataclass(frozen=True)
class DateReading:
    """A date as read: ISO ``YYYY-MM-DD``, and a note when it was not read as written."""

    iso: str
    note: str = ""
    """Why the date is not quite what the cell says (平成31年5月10日 read as 令和元年5月10日),
    for a warning; empty when it is."""


def parse_date(value: str, *, today: dt.date | None = None) -> str:
    """Parse a case date into ISO ``YYYY-MM-DD`` (see :func:`read_date`)."""
    return read_date(value, today=today).iso


def read_date(value: str, *, today: dt.date | None = None) -> DateReading:
    """Read a case date: ISO ``YYYY-MM-DD``, with a note when its era was carried over.

    Args:
        value: The cell as written (see the module docstring for the forms).
        today: The current date, for the upper end of the year window (default: the system's).

    Returns:
        The date, and for a date in an era's last year after the era ended (平成31年5月10日,
        H31.5.1, S64.1.8) the note that it was read as the next era's date (令和元年5月10日).

    Raises:
        ValueError: Not a date in one of the accepted forms (the message names them), not a
            real calendar date, an era year the era never had (平成32年, 昭和65年, 令和0年), a
            date before its era began (R1.4.30, H1.1.7), or a year outside
            :data:`EARLIEST_CASE_YEAR` .. next year (9999-12-31 and 令和99年 are typing errors
            that would otherwise sort first in every date filter).
    """
    text = unicodedata.normalize("NFKC", value).strip()
    if _ZONED_RE.fullmatch(text):  # 2025-04-01T08:45:00+09:00, ...Z: the day in Japan
        with contextlib.suppress(ValueError):  # 2025-02-30T...: refused below, as any other
            moment = dt.datetime.fromisoformat(text.replace(" ", "T", 1))
            text = moment.astimezone(_JST).date().isoformat()
    elif _COMPACT_RE.fullmatch(text):  # 20250401, as systems write a date without separators
        text = f"{text[:4]}-{text[4:6]}-{text[6:]}"
    text = _TIME_SUFFIX_RE.sub("", text)
    text = _WEEKDAY_SUFFIX_RE.sub("", text)
    text = _KANJI_NUMBER_RE.sub(lambda m: str(_kanji_number(m[0])), text)
    note = ""
    if _SERIAL_TEXT_RE.fullmatch(text):
        # 45444: a date column of a workbook saved as CSV keeps Excel's day count.
        iso = excel_serial_date(float(text))
        date = dt.date.fromisoformat(iso)
        note = msg("date.serial_read", value=value, date=iso)
    elif (m := _WESTERN_RE.fullmatch(text)) or (m := _WESTERN_KANJI_RE.fullmatch(text)):
        groups = [g for g in m.groups() if g not in ("-", "/", ".")]
        date = _calendar_date(value, int(groups[0]), int(groups[1]), int(groups[2]))
    elif (m := _ERA_RE.fullmatch(text)) or (m := _ERA_KANJI_RE.fullmatch(text)):
        groups = [g for g in m.groups() if g not in ("-", "/", ".")]
        era = _BY_NAME[groups[0].casefold()]
        date = _era_date(value, era, groups[1], groups[2], groups[3])
        note = _carried_over(value, era, date)
    else:
        raise ValueError(msg("date.unreadable", value=value, forms=ACCEPTED_FORMS))
    latest = (today or dt.date.today()).year + 1
    if not EARLIEST_CASE_YEAR <= date.year <= latest:
        raise ValueError(
            msg(
                "date.window",
                value=value,
                year=date.year,
                earliest=EARLIEST_CASE_YEAR,
                latest=latest,
            )
        )
    return DateReading(date.isoformat(), note)


def _calendar_date(value: str, year: int, month: int, day: int) -> dt.date:
    try:
        return dt.date(year, month, day)
    except ValueError:
        raise ValueError(msg("date.not_in_calendar", value=value)) from None


def _era_date(value: str, era: Era, era_year_text: str, month: str, day: str) -> dt.date:
    era_year = 1 if era_year_text == "元" else int(era_year_text)
    last = era.last_year
    if era_year < 1 or (last is not None and era_year > last):
        span = msg("date.era_span", last=last) if last is not None else msg("date.era_open")
        raise ValueError(msg("date.era_year", value=value, era=era.name, year=era_year, span=span))
    date = _calendar_date(value, era.year(era_year), int(month), int(day))
    # A day after the era ended, in its last year, is an old form filled in: read as is.
    if not era.holds(date) and not (era.last is not None and date > era.last):
        actual = next((e for e in ERAS if e.holds(date)), None)
        raise ValueError(
            msg(
                "date.era_days" if era.last is not None else "date.era_days_open",
                value=value,
                era=era.name,
                first=era.written(era.first),
                last=era.written(era.last) if era.last is not None else "",
                iso=date.isoformat(),
                actual=actual.written(date) if actual is not None else date.isoformat(),
            )
        )
    return date


def _carried_over(value: str, era: Era, date: dt.date) -> str:
    """The note for an era date written after the era ended (平成31年5月10日), else ``""``."""
    if era.last is None or date <= era.last:
        return ""
    actual = next(e for e in ERAS if e.holds(date))
    return msg(
        "date.era_carried_over",
        value=value,
        actual=actual.written(date),
        iso=date.isoformat(),
        era=era.name,
        last=era.written(era.last),
    )


def _kanji_number(text: str) -> int:
    """``六`` → 6, ``十二`` → 12, ``三十一`` → 31, ``二〇二四`` → 2024."""
    if "十" not in text:
        return int("".join(str(_KANJI_DIGITS[c]) for c in text))
    tens, _, ones = text.partition("十")
    return (_KANJI_DIGITS.get(tens[-1:], 1) if tens else 1) * 10 + (
        _KANJI_DIGITS[ones[-1]] if ones else 0
    )


_EXCEL_EPOCH = dt.date(1899, 12, 30)
_EXCEL_1904_EPOCH = dt.date(1904, 1, 1)
_EXCEL_MAX_SERIAL = 2_958_465
"""9999-12-31, the last day Excel shows."""


def excel_serial_date(serial: float, *, date1904: bool = False) -> str:
    """The date of an Excel day count, as ``YYYY-MM-DD`` (the time of day is dropped).

    A date cell without a date format (or one read back from a CSV export) shows the count
    instead of the date: ``45444`` is 2024-06-01. Excel counts 1900 as a leap year, so counts
    from 61 on are offset from 1899-12-30; a workbook may use the 1904 date system instead.

    Args:
        serial: The cell's number.
        date1904: The workbook uses the 1904 date system (old Mac Excel).

    Raises:
        ValueError: Not a count Excel shows as a date.
    """
    if not 1 <= serial <= _EXCEL_MAX_SERIAL:
        raise ValueError(msg("date.serial", value=_number_text(serial), forms=ACCEPTED_FORMS))
    days = int(serial)
    if date1904:
        return (_EXCEL_1904_EPOCH + dt.timedelta(days=days)).isoformat()
    if days == 60:  # 1900-02-29, which never was
        raise ValueError(msg("date.not_in_calendar", value="1900-02-29"))
    if days < 60:
        days += 1
    return (_EXCEL_EPOCH + dt.timedelta(days=days)).isoformat()


def _number_text(number: float) -> str:
    return str(int(number)) if float(number).is_integer() else str(number)
