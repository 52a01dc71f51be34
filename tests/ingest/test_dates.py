"""Case dates: real calendar dates, era years within their era, a plausible year window."""

from __future__ import annotations

import datetime as dt

import pytest

from kb.ingest.schema import parse_date
from kb.ingest.tabular import parse_csv

# These tests match the English messages; tests/ingest/test_messages.py checks Japanese.
pytestmark = pytest.mark.usefixtures("english")

TODAY = dt.date(2025, 6, 1)


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("昭和64年1月7日", "1989-01-07"),
        ("平成元年1月8日", "1989-01-08"),
        ("S50年4月1日", "1975-04-01"),
        ("大正15年12月24日", "1926-12-24"),
        ("令和7年4月1日", "2025-04-01"),
        ("令和8年3月31日", "2026-03-31"),  # next year is still inside the window
        ("1900-01-01", "1900-01-01"),
        ("2026-12-31", "2026-12-31"),
        # As newer systems export them: with a zone (the day in Japan), or without separators.
        ("2025-04-01T08:45:00+09:00", "2025-04-01"),
        ("2025-03-31T23:30:00Z", "2025-04-01"),
        ("2025-03-31T14:59:59.5Z", "2025-03-31"),
        ("20250401", "2025-04-01"),
    ],
)
def test_dates_within_range(value: str, expected: str) -> None:
    assert parse_date(value, today=TODAY) == expected


@pytest.mark.parametrize(
    ("value", "fragment"),
    [
        ("令和99年4月1日", "2117"),
        ("令和9年1月1日", "2027"),
        ("9999-12-31", "9999"),
        ("2027-01-01", "between 1900 and 2026"),
        ("1899-12-31", "1899"),
        ("1024-04-01", "1024"),
        ("平成32年1月1日", "平成32年 does not exist (1-31)"),
        ("昭和65年1月1日", "昭和65年 does not exist (1-64)"),
        ("大正16年1月1日", "大正16年 does not exist (1-15)"),
        ("令和0年4月1日", "令和0年 does not exist"),
        ("H0年4月1日", "平成0年 does not exist"),
    ],
)
def test_dates_out_of_range(value: str, fragment: str) -> None:
    with pytest.raises(ValueError, match="date '") as info:
        parse_date(value, today=TODAY)
    assert fragment in str(info.value)
    assert value in str(info.value)


def test_the_window_follows_the_current_year() -> None:
    next_year = dt.date.today().year + 1
    assert parse_date(f"{next_year}-01-01") == f"{next_year}-01-01"
    with pytest.raises(ValueError, match="a case date must lie between"):
        parse_date(f"{next_year + 1}-01-01")


def test_an_implausible_case_date_is_a_row_error_naming_line_and_field() -> None:
    text = (
        "id,date,summary,resolution\n"
        "C1,2024-04-01,s,r\n"
        "C2,令和99年4月1日,s,r\n"
        "C3,9999-12-31,s,r\n"
        "C4,2024-02-30,s,r\n"
        "C5,2024-04-02,s,r\n"
    )
    result = parse_csv(text, source="cases.csv")
    assert [d.doc_id for d in result.documents] == ["case:C1", "case:C5"]
    assert [(e.source, e.line, e.field) for e in result.errors] == [
        ("cases.csv", 3, "date"),
        ("cases.csv", 4, "date"),
        ("cases.csv", 5, "date"),
    ]
    assert "2117" in result.errors[0].message
    assert "does not exist" in result.errors[2].message


def test_a_heisei_date_after_the_era_ended_is_stored_with_a_warning_naming_the_reiwa_form() -> None:
    # City forms went on printing 平成31年 after 令和 began on 2019-05-01: the day is real.
    text = (
        "受付番号,相談日,summary,resolution\n"
        "C1,平成31年4月30日,s,r\n"
        "C2,平成31年5月10日,s,r\n"
        "C3,R1.4.30,s,r\n"
        "C4,H31.5.1,s,r\n"
    )
    result = parse_csv(text, source="cases.csv")
    stored = {d.doc_id: d.date for d in result.documents}
    assert stored == {"case:C1": "2019-04-30", "case:C2": "2019-05-10", "case:C4": "2019-05-01"}
    # 令和元年4月30日 never was: refused, naming the date it should have been.
    assert [(e.source, e.line, e.field) for e in result.errors] == [("cases.csv", 4, "date")]
    assert "平成31年4月30日" in result.errors[0].message
    assert [(w.source, w.line, w.field) for w in result.warnings] == [
        ("cases.csv", 3, "date"),
        ("cases.csv", 5, "date"),
    ]
    first = str(result.warnings[0])
    assert first.startswith("cases.csv:3: date: column '相談日': ")
    assert "date '平成31年5月10日' was read as 令和元年5月10日 (2019-05-10;" in first
    assert "平成 ended on 平成31年4月30日" in first
    assert "was read as 令和元年5月1日 (2019-05-01;" in str(result.warnings[1])


def test_an_faq_date_after_the_era_ended_is_kept_with_a_warning() -> None:
    text = "id,question,answer,更新日,公開期限\nF1,q,a,H31.5.7,R8.3.31\n"
    result = parse_csv(text, source="faq.csv")
    assert [(d.updated, d.expires) for d in result.documents] == [("2019-05-07", "2026-03-31")]
    assert result.errors == ()
    assert [(w.line, w.field) for w in result.warnings] == [(2, "updated")]
    assert "was read as 令和元年5月7日" in result.warnings[0].message


def test_an_excel_day_number_in_a_csv_is_read_as_its_date_with_a_warning() -> None:
    # A workbook's date column saved as CSV keeps Excel's day counts (45444 = 2024-06-01).
    text = "受付番号,相談日,summary,resolution\nC1,45444,s,r\nC2,45444.75,s,r\nC3,12345,s,r\n"
    result = parse_csv(text, source="cases.csv")
    assert {d.doc_id: d.date for d in result.documents} == {
        "case:C1": "2024-06-01",
        "case:C2": "2024-06-01",
    }
    assert [(w.line, w.field) for w in result.warnings] == [(2, "date"), (3, "date")]
    assert "read '45444' as an Excel day number: 2024-06-01" in result.warnings[0].message
    assert [(e.line, e.field) for e in result.errors] == [(4, "date")]  # 12345 is no date
