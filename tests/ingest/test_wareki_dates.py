"""Dates in every form a city writes, the era boundaries, Excel day counts (kb.ingest.dates)."""

from __future__ import annotations

import datetime as dt
import itertools

import pytest

from kb.ingest.dates import ACCEPTED_FORMS, ERAS, excel_serial_date, parse_date
from kb.messages import language

TODAY = dt.date(2025, 6, 1)


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("2024-06-01", "2024-06-01"),
        ("2024/6/1", "2024-06-01"),
        ("2024.6.1", "2024-06-01"),
        ("2024年6月1日", "2024-06-01"),
        ("2024 年 6 月 1 日", "2024-06-01"),
        ("R6.6.1", "2024-06-01"),
        ("R6/6/1", "2024-06-01"),
        ("R6-6-1", "2024-06-01"),
        ("r6.6.1", "2024-06-01"),
        ("R06.06.01", "2024-06-01"),
        ("R.6.6.1", "2024-06-01"),
        ("令和6年6月1日", "2024-06-01"),
        ("令和6.6.1", "2024-06-01"),
        ("R6年6月1日", "2024-06-01"),
        ("令和元年5月1日", "2019-05-01"),
        ("R1.5.1", "2019-05-01"),
        ("H31.4.30", "2019-04-30"),
        ("平成31年4月30日", "2019-04-30"),
        ("平成元年1月8日", "1989-01-08"),
        ("H1.1.8", "1989-01-08"),
        ("S64.1.7", "1989-01-07"),
        ("昭和64年1月7日", "1989-01-07"),
        ("昭和元年12月25日", "1926-12-25"),
        ("T15.12.24", "1926-12-24"),
        ("明治45年7月29日", "1912-07-29"),
        ("M33.1.1", "1900-01-01"),
        # Full-width digits, letters and separators, as a Japanese IME types them.
        ("２０２４年６月１日", "2024-06-01"),
        ("Ｒ６．６．１", "2024-06-01"),
        ("令和６年６月１日", "2024-06-01"),
        ("２０２４／６／１", "2024-06-01"),
        # Kanji numerals, the era ligatures, a weekday, a time of day.
        ("令和六年六月一日", "2024-06-01"),
        ("令和六年十二月三十一日", "2024-12-31"),
        ("二〇二四年六月一日", "2024-06-01"),
        ("㋿6年6月1日", "2024-06-01"),
        ("㍻31年4月30日", "2019-04-30"),
        ("2024年6月1日(土)", "2024-06-01"),
        ("令和6年6月1日（土曜日）", "2024-06-01"),
        ("2024/6/1 9:30", "2024-06-01"),
    ],
)
def test_every_form_a_city_writes(value: str, expected: str) -> None:
    assert parse_date(value, today=TODAY) == expected


@pytest.mark.parametrize(
    ("value", "suggestion"),
    [
        ("H31.5.1", "令和元年5月1日"),  # 平成 ended on 2019-04-30
        ("平成31年5月10日", "令和元年5月10日"),
        ("R1.4.30", "平成31年4月30日"),  # 令和 began on 2019-05-01
        ("令和元年4月1日", "平成31年4月1日"),
        ("S64.1.8", "平成元年1月8日"),  # 昭和 ended on 1989-01-07
        ("H1.1.7", "昭和64年1月7日"),
        ("T15.12.25", "昭和元年12月25日"),
        ("S1.12.24", "大正15年12月24日"),
    ],
)
def test_era_boundaries_are_checked_and_the_right_era_is_named(value: str, suggestion: str) -> None:
    with language("ja"), pytest.raises(ValueError, match="と書いてください") as info:
        parse_date(value, today=TODAY)
    message = str(info.value)
    assert f"「{value}」" in message
    assert f"{suggestion}と書いてください" in message


@pytest.mark.parametrize(
    ("value", "fragment"),
    [
        ("平成32年1月1日", "平成32年はありません（平成は元年〜31年）"),
        ("H0.4.1", "平成0年はありません"),
        ("R6.2.30", "存在しない日付"),
        ("2023年2月29日", "存在しない日付"),
        ("R6.13.1", "存在しない日付"),
        ("令和99年1月1日", "2117年です"),
    ],
)
def test_impossible_era_dates(value: str, fragment: str) -> None:
    with language("ja"), pytest.raises(ValueError, match=fragment):
        parse_date(value, today=TODAY)


@pytest.mark.parametrize("value", ["yesterday", "R6", "6/1", "20240601", "令和6年", "X6.6.1"])
def test_an_unreadable_date_names_the_value_and_the_accepted_forms(value: str) -> None:
    with language("ja"), pytest.raises(ValueError, match="日付として読めません") as info:
        parse_date(value, today=TODAY)
    assert f"「{value}」は日付として読めません" in str(info.value)
    assert ACCEPTED_FORMS in str(info.value)
    with language("en"), pytest.raises(ValueError, match="accepted form") as info:
        parse_date(value, today=TODAY)
    assert f"date '{value}'" in str(info.value)
    assert ACCEPTED_FORMS in str(info.value)


def test_the_era_table_is_contiguous() -> None:
    # Each era begins the day after the one before it ended: no date falls between two eras.
    for newer, older in itertools.pairwise(ERAS):
        assert older.last is not None
        assert newer.first == older.last + dt.timedelta(days=1)


@pytest.mark.parametrize(
    ("serial", "expected"),
    [
        (1, "1900-01-01"),
        (59, "1900-02-28"),
        (61, "1900-03-01"),  # Excel's 1900-02-29 (serial 60) never was
        (45444, "2024-06-01"),
        (45444.75, "2024-06-01"),  # the time of day is dropped
        (43586, "2019-05-01"),
    ],
)
def test_excel_serial_dates(serial: float, expected: str) -> None:
    assert excel_serial_date(serial) == expected


def test_excel_serial_dates_of_the_1904_system_and_out_of_range() -> None:
    assert excel_serial_date(43982, date1904=True) == "2024-06-01"
    for bad in (0, -5, 60, 3_000_000):
        with pytest.raises(ValueError, match=r"1900-02-29|Excel"):
            excel_serial_date(bad)
