"""Dates in every form a city writes, the era boundaries, Excel day counts (kb.ingest.dates)."""

from __future__ import annotations

import datetime as dt
import itertools

import pytest

from kb.ingest.dates import ACCEPTED_FORMS, ERAS, excel_serial_date, parse_date, read_date
from kb.ingest.tabular import parse_csv
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
    ("value", "expected", "read_as", "ended"),
    [
        # 平成 ended on 2019-04-30, but forms printed 平成31年 went on being filled in.
        ("平成31年5月10日", "2019-05-10", "令和元年5月10日", "平成31年4月30日"),
        ("H31.5.10", "2019-05-10", "令和元年5月10日", "平成31年4月30日"),
        ("H31.5.1", "2019-05-01", "令和元年5月1日", "平成31年4月30日"),
        ("㍻31年12月31日", "2019-12-31", "令和元年12月31日", "平成31年4月30日"),
        ("Ｈ３１．６．３", "2019-06-03", "令和元年6月3日", "平成31年4月30日"),
        ("S64.1.8", "1989-01-08", "平成元年1月8日", "昭和64年1月7日"),  # 昭和 ended 1989-01-07
        ("T15.12.25", "1926-12-25", "昭和元年12月25日", "大正15年12月24日"),
    ],
)
def test_an_old_era_on_a_form_filled_in_after_it_ended_is_read_with_a_note(
    value: str, expected: str, read_as: str, ended: str
) -> None:
    with language("ja"):
        reading = read_date(value, today=TODAY)
    assert reading.iso == expected
    assert f"「{value}」は{read_as}として読みました" in reading.note
    assert expected in reading.note
    assert f"{ended}まで" in reading.note
    assert parse_date(value, today=TODAY) == expected
    with language("en"):
        english = read_date(value, today=TODAY).note
    assert f"date '{value}' was read as {read_as} ({expected};" in english


@pytest.mark.parametrize(
    "value", ["H31.4.30", "平成31年4月30日", "令和元年5月1日", "R6.6.1", "S64.1.7", "2019-05-10"]
)
def test_a_date_written_in_its_own_era_has_no_note(value: str) -> None:
    assert read_date(value, today=TODAY).note == ""


@pytest.mark.parametrize(
    ("value", "suggestion"),
    [
        ("R1.4.30", "平成31年4月30日"),  # 令和 began on 2019-05-01: no form said 令和 before it
        ("令和元年4月1日", "平成31年4月1日"),
        ("H1.1.7", "昭和64年1月7日"),  # 平成 began on 1989-01-08
        ("S1.12.24", "大正15年12月24日"),
    ],
)
def test_a_date_before_its_era_began_is_refused_and_the_right_era_is_named(
    value: str, suggestion: str
) -> None:
    with language("ja"), pytest.raises(ValueError, match="と書いてください") as info:
        parse_date(value, today=TODAY)
    message = str(info.value)
    assert f"「{value}」" in message
    assert f"{suggestion}と書いてください" in message


@pytest.mark.parametrize(
    ("value", "fragment"),
    [
        ("平成32年1月1日", "平成32年はありません（平成は元年〜31年）"),
        ("H32.5.1", "平成32年はありません"),  # the year after the era's last year never was
        ("S65.1.1", "昭和65年はありません（昭和は元年〜64年）"),
        ("H0.4.1", "平成0年はありません"),
        ("H31.2.30", "存在しない日付"),
        ("H31.13.1", "存在しない日付"),
        ("R6.2.30", "存在しない日付"),
        ("2023年2月29日", "存在しない日付"),
        ("R6.13.1", "存在しない日付"),
        ("令和99年1月1日", "2117年です"),
    ],
)
def test_impossible_era_dates(value: str, fragment: str) -> None:
    with language("ja"), pytest.raises(ValueError, match=fragment):
        parse_date(value, today=TODAY)


@pytest.mark.parametrize("value", ["yesterday", "R6", "6/1", "2024061", "令和6年", "X6.6.1"])
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


def test_a_row_with_a_heisei_date_after_the_era_ended_is_kept_with_a_japanese_warning() -> None:
    text = "受付番号,相談日,相談内容,対応内容\nC1,平成31年5月10日,s,r\n"
    with language("ja"):
        result = parse_csv(text, source="相談記録.csv")
    assert [d.date for d in result.documents] == ["2019-05-10"]
    assert result.errors == ()
    (warning,) = result.warnings
    assert (warning.source, warning.line, warning.field) == ("相談記録.csv", 2, "date")
    assert "列「相談日」" in warning.message
    assert "「平成31年5月10日」は令和元年5月10日として読みました" in warning.message
    assert "行は取り込みました" in warning.message
