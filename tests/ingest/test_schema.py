from __future__ import annotations

import pytest

from kb.errors import SchemaError
from kb.ingest.columns import detect_kind, map_columns
from kb.ingest.schema import (
    SPECS,
    department_names,
    header_key,
    main_department,
    parse_channel,
    parse_date,
    parse_id,
    parse_published,
    parse_url,
    split_multi,
)

# These tests match the English messages; tests/ingest/test_messages.py checks Japanese.
pytestmark = pytest.mark.usefixtures("english")


def test_header_key_folds_width_case_and_space() -> None:
    assert header_key("  ＩＤ ") == "id"
    assert header_key("\ufeffQuestion") == "question"
    assert header_key("ＦＡＱ番号") == header_key("faq番号")


@pytest.mark.parametrize(
    ("kind", "header", "field"),
    [
        ("faq", "質問", "question"),
        ("faq", "問い", "question"),
        ("faq", "回答", "answer"),
        ("faq", "担当課", "department"),
        ("faq", "departments", "department"),
        ("faq", "公開フラグ", "published"),
        ("faq", "ＵＲＬ", "url"),
        ("case", "相談番号", "id"),
        ("case", "case_id", "id"),
        ("case", "受付日", "date"),
        ("case", "相談経路", "channel"),
        ("case", "相談概要", "summary"),
        ("case", "対応結果", "resolution"),
        ("case", "引継先", "departments"),
        ("case", "department", "departments"),
        ("case", "ステータス", "status"),
        ("department", "担当課", "name"),
        ("department", "所掌事務", "duties"),
        ("department", "電話番号", "phone"),
        ("department", "フロア", "location"),
        ("department", "開庁時間", "hours"),
        ("department", "通称", "aliases"),
    ],
)
def test_japanese_aliases_resolve(kind: str, header: str, field: str) -> None:
    assert SPECS[kind].resolve(header) == field  # type: ignore[index]


def test_map_columns_keeps_order_and_empty_headers() -> None:
    columns = map_columns(["番号", "質問", "回答", ""], "faq", "f.csv")
    assert columns.fields == ("id", "question", "answer", None)


def test_unknown_column_names_file_line_and_column() -> None:
    with pytest.raises(SchemaError) as info:
        map_columns(["id", "question", "answer", "anwser_note"], "faq", "faq.csv")
    assert info.value.source == "faq.csv"
    assert info.value.line == 1
    assert info.value.field == "anwser_note"
    assert "unknown column" in info.value.message


def test_repeated_headers_map_alike_and_errors_keep_their_line() -> None:
    # JSONL repeats its keys on every line: the mapping is reused, an error is not.
    first = map_columns(["id", "question", "answer"], "faq", "a.jsonl", line=1)
    assert map_columns(["id", "question", "answer"], "faq", "b.jsonl", line=7) == first
    for line in (3, 9):
        with pytest.raises(SchemaError) as info:
            map_columns(["id", "question"], "faq", "b.jsonl", line=line)
        assert (info.value.source, info.value.line, info.value.field) == ("b.jsonl", line, "answer")


def test_missing_required_column_names_the_field() -> None:
    with pytest.raises(SchemaError) as info:
        map_columns(["id", "question", "category"], "faq", "faq.csv")
    assert info.value.field == "answer"
    assert info.value.line == 1
    assert "missing required column" in str(info.value)


def test_two_headers_for_one_field_are_refused() -> None:
    with pytest.raises(SchemaError, match="both mean 'department'"):
        map_columns(["id", "question", "answer", "担当課", "担当"], "faq", "faq.csv")


@pytest.mark.parametrize(
    ("headers", "kind"),
    [
        (["id", "question", "answer"], "faq"),
        (["FAQ番号", "質問", "回答", "担当課", "公開"], "faq"),
        (["相談番号", "相談日", "経路", "相談内容", "対応内容", "対応課"], "case"),
        (["id", "date", "summary", "resolution"], "case"),
        (["課名", "業務内容", "電話番号"], "department"),
        (["担当課", "業務内容"], "department"),
        # 担当課 fits every kind, but is only required (as the name) in the directory.
        (["担当課"], "department"),
        # A FAQ file that lacks 'answer' is still a FAQ file (reported as missing 'answer').
        (["id", "question", "department", "category"], "faq"),
    ],
)
def test_detect_kind(headers: list[str], kind: str) -> None:
    assert detect_kind(headers, "f.csv") == kind


@pytest.mark.parametrize("headers", [["foo", "bar"], ["category"], ["id"], []])
def test_undetectable_kind_is_a_schema_error(headers: list[str]) -> None:
    with pytest.raises(SchemaError) as info:
        detect_kind(headers, "f.csv")
    assert "--kind" in info.value.message
    assert info.value.line == 1


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("", True),
        ("true", True),
        ("TRUE", True),
        ("1", True),
        ("yes", True),
        ("公開", True),
        ("はい", True),
        ("○", True),
        ("false", False),
        ("0", False),
        ("No", False),
        ("非公開", False),
        ("いいえ", False),
        ("×", False),
        ("１", True),
        # as web CMS and float exports write it
        ("公開中", True),
        ("掲載", True),
        ("表示", True),
        ("1.0", True),
        ("下書き", False),
        ("非表示", False),
        ("掲載終了", False),
        ("0.0", False),
    ],
)
def test_parse_published(value: str, expected: bool) -> None:
    assert parse_published(value) is expected


@pytest.mark.parametrize("value", ["maybe", "2", "公開予定"])
def test_bad_published_flag(value: str) -> None:
    with pytest.raises(ValueError, match="published flag"):
        parse_published(value)


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("2024-04-01", "2024-04-01"),
        ("2024/4/1", "2024-04-01"),
        ("2024/04/01 0:00", "2024-04-01"),
        ("2024-04-01T09:30:00", "2024-04-01"),
        ("2024年4月1日", "2024-04-01"),
        ("２０２４年１２月３１日", "2024-12-31"),
        ("令和6年4月1日", "2024-04-01"),
        ("令和元年5月1日", "2019-05-01"),
        ("平成31年4月30日", "2019-04-30"),
        ("R6年4月1日", "2024-04-01"),
    ],
)
def test_parse_date(value: str, expected: str) -> None:
    assert parse_date(value) == expected


@pytest.mark.parametrize("value", ["2024-13-01", "2024/02/30", "2023年2月29日"])
def test_impossible_dates(value: str) -> None:
    with pytest.raises(ValueError, match="does not exist"):
        parse_date(value)


@pytest.mark.parametrize("value", ["yesterday", "04/01/2024", "2024-4", "2024041"])
def test_malformed_dates(value: str) -> None:
    with pytest.raises(ValueError, match="is not YYYY-MM-DD"):
        parse_date(value)


@pytest.mark.parametrize(
    ("value", "expected"),
    [("窓口", "窓口"), ("電話", "電話"), ("line", "LINE"), ("ＬＩＮＥ", "LINE"), ("", "")],
)
def test_parse_channel(value: str, expected: str) -> None:
    assert parse_channel(value) == expected


def test_unknown_channel() -> None:
    with pytest.raises(ValueError, match="channel 'FAX'"):
        parse_channel("FAX")


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("市民課|税務課", ("市民課", "税務課")),
        ("市民課、税務課", ("市民課", "税務課")),
        ("市民課､税務課", ("市民課", "税務課")),
        ("市民課; 税務課;", ("市民課", "税務課")),
        ("市民課｜税務課", ("市民課", "税務課")),
        (" 市民課 | 市民課 ", ("市民課",)),
        ("", ()),
        (["市民課", "税務課|納税課"], ("市民課", "税務課", "納税課")),
    ],
)
def test_split_multi(value: str | list[str], expected: tuple[str, ...]) -> None:
    assert split_multi(value) == expected


def test_parse_id() -> None:
    assert parse_id(" Ｆ０００１ ") == "F0001"
    with pytest.raises(ValueError, match="empty"):
        parse_id("  ")
    with pytest.raises(ValueError, match="must not contain"):
        parse_id("F1#2")
    with pytest.raises(ValueError, match="must not contain"):
        parse_id("F 1")


def test_parse_url_refuses_other_schemes() -> None:
    assert parse_url("https://www.city.example.jp/faq/1") == "https://www.city.example.jp/faq/1"
    assert parse_url("") == ""
    with pytest.raises(ValueError, match="http"):
        parse_url("javascript:alert(1)")


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("市民課", ("市民課",)),
        ("市民課 住民記録係（内線1234）", ("市民課",)),
        ("ごみ減量推進課 TEL 0123-45-6789", ("ごみ減量推進課",)),
        ("介護保険課 (直通 0120-00-0000)", ("介護保険課",)),
        ("環境課\u3000環境保全係", ("環境課",)),
        ("保健センター 母子保健係", ("保健センター",)),
        ("福祉部 障害福祉課", ("障害福祉課",)),
        ("健康福祉部 保険年金課 国保係", ("保険年金課",)),
        ("市民部　市民課　住民記録係（内線2101）", ("市民課",)),
        ("教育委員会 学校教育課", ("学校教育課",)),
        ("選挙管理委員会 事務局", ("選挙管理委員会 事務局",)),
        ("市民部 地域 振興係", ("市民部 地域 振興係",)),
        ("市民課／保険年金課", ("市民課", "保険年金課")),
        ("0301,0302", ("0301", "0302")),  # a newer system's codes, comma-separated
        ("市民課，税務課", ("市民課", "税務課")),
        ("市民課（内線1234, 1235）", ("市民課",)),
        ("市民課\n保険年金課", ("市民課", "保険年金課")),
        ("市民課・保険年金課", ("市民課", "保険年金課")),
        ("子ども・子育て支援課", ("子ども・子育て支援課",)),
        ("市民課、税務課|市民課", ("市民課", "税務課")),
        ("市民課→社会福祉課", ("市民課", "社会福祉課")),  # a hand-off (引継ぎ)
        ("市民課 -> 福祉課", ("市民課", "福祉課")),
        ("  ", ()),
    ],
)
def test_department_names(value: str, expected: tuple[str, ...]) -> None:
    # Read as the cell writes it (a section stays: a town's directory may list it), then cut
    # to the department where the directory does not (kb.ingest.departments).
    assert tuple(dict.fromkeys(main_department(n) for n in department_names(value))) == expected


def test_a_section_or_a_division_stays_until_the_directory_is_matched() -> None:
    assert department_names("住民福祉課 保険年金係（内線125） TEL 0299-55-1125") == (
        "住民福祉課 保険年金係",
    )
    assert department_names("健康福祉部\u3000保険年金課\u3000国保係") == (
        "健康福祉部 保険年金課 国保係",
    )
