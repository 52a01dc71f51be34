"""Bookings files and briefs: a demo day of 10 bookings gives 10 briefs."""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Iterator
from pathlib import Path

import pytest

from kb.desk.bookings import (
    BOOKING_LIMITS,
    Booking,
    parse_bookings,
    parse_when,
    read_bookings,
)
from kb.desk.briefs import Brief, BriefMaker, brief_dict, fit_topic
from kb.embed.embedder import FakeEmbedder
from kb.errors import InputError, SchemaError
from kb.search.searcher import Searcher
from kb.search.service import SearchService
from tests.e2e.demo_index import REPO, build_demo_index

DEMO_DAY = REPO / "eval" / "bookings" / "demo-day.csv"


@pytest.fixture(scope="module")
def searcher(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Searcher]:
    root = build_demo_index(tmp_path_factory.mktemp("briefs"))
    found = SearchService(root, FakeEmbedder(64)).searcher()
    yield found
    found.close()


@pytest.mark.parametrize(
    ("text", "when"),
    [
        ("2026-06-01 09:30", "2026-06-01 09:30"),
        ("2026/6/1 9:05", "2026-06-01 09:05"),
        ("２０２６年６月１日（月） ９時３０分", "2026-06-01 09:30"),
        ("2026-06-01T14:00:00", "2026-06-01 14:00"),
        ("2026/6/1", "2026-06-01"),
    ],
)
def test_booking_times(text: str, when: str) -> None:
    assert parse_when(text) == when


@pytest.mark.parametrize("text", ["あした", "2026/2/30 9:00", "2026/6/1 25:00", ""])
def test_bad_booking_times_are_refused(text: str) -> None:
    with pytest.raises(ValueError, match="予約日時"):
        parse_when(text)


def test_spaces_in_a_booking_time_are_read_as_one() -> None:
    assert parse_when("2026-06-01" + " " * 300 + "9:30") == "2026-06-01 09:30"
    assert parse_when("2026 / 6 / 1 \t 9 : 30") == "2026-06-01 09:30"


def test_a_long_booking_time_is_refused_without_trying_every_split() -> None:
    """A run of spaces before a character that fails made the old pattern backtrack as the
    fourth power of the run (260 spaces: 12 s, the whole server waiting). Now the spaces are
    one, and a value longer than a date is refused as unreadable, its quote cut short."""
    with pytest.raises(ValueError, match="予約日時") as info:
        parse_when("2026-06-01" + " " * 5_000 + "x")
    assert len(str(info.value)) < 200
    with pytest.raises(ValueError, match="予約日時"):
        parse_when("2026-06-01 " + "9" * 60)


def test_a_file_of_bad_rows_is_refused_not_answered_row_by_row() -> None:
    rows = [(1, ["予約日時", "相談内容"])] + [(n, ["x", ""]) for n in range(2, 240_002)]
    with pytest.raises(InputError) as info:
        parse_bookings(rows, source="day.csv")
    assert info.value.source == "day.csv"
    assert "100 行を超えるエラー" in info.value.message
    # A few bad rows are reported beside the good ones, as before.
    few = parse_bookings(
        [(1, ["予約日時", "相談内容"]), (2, ["x", "転入"]), (3, ["2026-06-01 9:00", "転入"])],
        source="day.csv",
    )
    assert len(few.bookings) == 1
    assert [e.line for e in few.errors] == [2]


def test_demo_day_reads_ten_bookings_and_never_the_names() -> None:
    day = read_bookings(DEMO_DAY)
    assert len(day.bookings) == 10
    assert day.errors == ()
    assert day.ignored_columns == ("氏名",)
    assert [b.when for b in day.bookings] == sorted(b.when for b in day.bookings)
    assert {b.channel for b in day.bookings} == {"窓口", "電話", "オンライン"}  # 来庁, リモート
    assert all("桜川 " not in repr(b) for b in day.bookings)


def test_bad_rows_name_file_line_and_column(tmp_path: Path) -> None:
    path = tmp_path / "day.csv"
    path.write_text(
        "相談内容,予約日時,相談方法\n父が亡くなった,2026/6/1 9:00,窓口\n,2026/6/1 9:30,電話\n"
        "引っ越し,いつか,窓口\n",
        encoding="utf-8",
    )
    day = read_bookings(path)
    assert [b.topic for b in day.bookings] == ["父が亡くなった"]
    assert [(e.source, e.line, e.field) for e in day.errors] == [
        (str(path), 3, "相談内容"),
        (str(path), 4, "予約日時"),
    ]
    path.write_text("相談方法,氏名\n窓口,桜川 一郎\n", encoding="utf-8")
    with pytest.raises(SchemaError, match="予約日時"):
        read_bookings(path)
    path.write_text("", encoding="utf-8")
    with pytest.raises(InputError):
        read_bookings(path)


def test_xlsx_bookings_with_date_cells(tmp_path: Path) -> None:
    import openpyxl

    book = openpyxl.Workbook()
    sheet = book.active
    sheet.append(["予約日時", "相談方法", "相談内容", "電話番号"])
    sheet.append([dt.datetime(2026, 6, 1, 10, 30), "電話", "赤ちゃんが生まれた", "090-0000-0000"])
    sheet.append(["2026/6/1 9:00", "窓口", "父が亡くなった", ""])
    sheet.append([dt.datetime(2026, 6, 1, 11, 0), "窓口", None, ""])
    path = tmp_path / "day.xlsx"
    book.save(path)
    day = read_bookings(path)
    assert [(b.when, b.topic) for b in day.bookings] == [
        ("2026-06-01 09:00", "父が亡くなった"),
        ("2026-06-01 10:30", "赤ちゃんが生まれた"),
    ]
    assert day.ignored_columns == ("電話番号",)
    assert [(e.line, e.field) for e in day.errors] == [(4, "相談内容")]


def test_a_sheet_far_larger_than_a_day_is_refused_while_it_is_read(tmp_path: Path) -> None:
    # One tiny cell a row compresses well: an ingest's sheet limit (5 million cells) let a
    # 135 KB bookings file hold the search pool for 14 s before its header was looked at.
    import openpyxl

    book = openpyxl.Workbook(write_only=True)
    sheet = book.create_sheet()
    sheet.append(["予約日時", "相談内容"])
    for _ in range(20_000):
        sheet.append(["x"])
    path = tmp_path / "day.xlsx"
    book.save(path)
    with pytest.raises(InputError, match=f"{BOOKING_LIMITS.max_sheet_cells:,}"):
        read_bookings(path)


def test_a_string_table_far_larger_than_a_day_is_refused_before_it_is_read(
    tmp_path: Path,
) -> None:
    # Two rows of cells, but a shared-string table of 300,000 strings (2.4 MB unpacked from a
    # small file): openpyxl parses it whole, on the search pool (3 million took minutes).
    import zipfile

    import openpyxl

    book = openpyxl.Workbook()
    book.active.append(["予約日時", "相談内容"])
    book.active.append(["2026-06-01 09:30", "母が認知症"])
    plain = tmp_path / "plain.xlsx"
    book.save(plain)
    path = tmp_path / "day.xlsx"
    table = b'<sst xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main">'
    with zipfile.ZipFile(plain) as src, zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as out:
        for info in src.infolist():
            out.writestr(info.filename, src.read(info.filename))
        out.writestr("xl/sharedStrings.xml", table + b"<si><t>a</t></si>" * 300_000 + b"</sst>")
    with pytest.raises(InputError, match=f"{BOOKING_LIMITS.max_xml_part_bytes:,}"):
        read_bookings(path)
    assert len(read_bookings(plain).bookings) == 1


def test_demo_day_gives_ten_briefs(searcher: Searcher) -> None:
    briefs = BriefMaker(searcher).briefs(read_bookings(DEMO_DAY).bookings)
    assert len(briefs) == 10
    assert all(b.departments for b in briefs)
    death = briefs[0]
    assert death.life_events == ("死亡",)
    assert "死亡届・火葬許可申請" in [p.name for p in death.procedures]
    assert "死亡診断書（死体検案書）" in [i.item for i in death.bring]
    assert any(b.invite for b in briefs)
    for b in briefs:
        if b.invite:
            assert len(b.invite) >= 2
    data = json.loads(json.dumps([brief_dict(b) for b in briefs], ensure_ascii=False))
    search_keys = {"departments", "faqs", "cases", "manuals"}
    assert search_keys | {"bring", "invite", "procedures", "booking"} <= set(data[0])
    # Departments are shaped like the search JSON's.
    assert set(data[0]["departments"][0]) == {
        "name", "score", "phone", "location", "hours", "evidence"
    }  # fmt: skip
    assert all("resolution" in c for b in data for c in b["cases"])


def test_bring_comes_from_faq_answers_without_a_life_event(searcher: Searcher) -> None:
    brief = BriefMaker(searcher).brief(Booking("2026-06-01 10:00", "窓口", "借金の返済が苦しい"))
    assert brief.life_events == ()
    assert any(i.source.startswith("faq:") for i in brief.bring)


def test_a_topic_naming_a_procedure_brings_its_documents(searcher: Searcher) -> None:
    brief = BriefMaker(searcher).brief(
        Booking("2026-06-01 10:00", "窓口", "児童手当の申請をしたい")
    )
    assert brief.procedures[0].name == "児童手当の認定請求"
    assert brief.bring[0].source == f"procedure:{brief.procedures[0].id}"


def test_shown_ids_cover_every_pane(searcher: Searcher) -> None:
    brief: Brief = BriefMaker(searcher).brief(Booking("2026-06-01", "", "母が認知症で心配"))
    ids = brief.shown_ids()
    assert {i.split(":")[0] for i in ids} >= {"department", "faq", "case"}


def test_a_long_topic_is_briefed_on_its_first_sentences(searcher: Searcher) -> None:
    topic = "父が亡くなりました。" + "いろいろと心配なことがあって眠れません。" * 100
    brief = BriefMaker(searcher).brief(Booking("2026-06-01 10:00", "窓口", topic))
    assert brief.life_events == ("死亡",)
    assert brief.departments
    assert fit_topic(topic, 500).endswith("。")
    assert len(fit_topic(topic, 500)) <= 500
    assert fit_topic("あ" * 600, 500) == "あ" * 500


def test_a_bad_booking_time_is_quoted_masked() -> None:
    # An outside tester: a name and a phone typed into 予約日時 were quoted whole on stderr.
    day = parse_bookings(
        [
            (1, ["予約日時", "相談内容"]),
            (2, ["山田花子 090-1234-5678", "転入"]),
            (3, ["いつか", "転入"]),
        ],
        source="day.csv",
    )
    assert [e.line for e in day.errors] == [2, 3]
    assert "090-1234-5678" not in day.errors[0].message
    assert "山田" not in day.errors[0].message
    assert "[電話番号]" in day.errors[0].message
    assert "予約日時「いつか」を読み取れません" in day.errors[1].message


def test_a_booking_export_with_many_columns_is_read(tmp_path: Path) -> None:
    # An outside tester: 180 bookings of a 60-column export were refused as a crafted file.
    import openpyxl

    book = openpyxl.Workbook(write_only=True)
    sheet = book.create_sheet()
    sheet.append(["予約日時", "相談内容", *[f"項目{n}" for n in range(58)]])
    for n in range(180):
        sheet.append([f"2026-06-01 {9 + n % 8:02d}:{n % 60:02d}", "転入の相談", *["-"] * 58])
    path = tmp_path / "day.xlsx"
    book.save(path)
    day = read_bookings(path)
    assert len(day.bookings) == 180
    assert day.errors == ()
