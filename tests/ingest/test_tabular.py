from __future__ import annotations

import codecs
import json
from pathlib import Path

import pytest

from kb.errors import InputError, SchemaError
from kb.ingest.jsonl import parse_jsonl, read_jsonl
from kb.ingest.tabular import parse_csv, read_csv
from kb.messages import language
from kb.types import Department, Document, RowError

# These tests match the English messages; tests/ingest/test_messages.py checks Japanese.
pytestmark = pytest.mark.usefixtures("english")

FAQ_CSV = """\
id,question,answer,department,category,published,url
F001,住民票の写しはどこで取れますか,市民課の窓口で取得できます。,市民課,証明書,true,https://example.jp/f1
F002,  ごみの出し方  ,ごみ減量推進課へ,ごみ減量推進課|環境保全課,,0,
F003,"複数行の
質問","回答1行目
回答2行目",市民課、税務課,,,
"""


def write(path: Path, text: str, encoding: str = "utf-8") -> Path:
    path.write_bytes(text.encode(encoding))
    return path


def only_error(errors: tuple[RowError, ...]) -> RowError:
    assert len(errors) == 1, errors
    return errors[0]


# --- CSV: good files ------------------------------------------------------------------------


def test_faq_csv_fields(tmp_path: Path) -> None:
    result = read_csv(write(tmp_path / "faq.csv", FAQ_CSV))
    assert result.errors == ()
    assert [d.doc_id for d in result.documents] == ["faq:F001", "faq:F002", "faq:F003"]
    first, second, third = result.documents
    assert first == Document(
        doc_id="faq:F001",
        kind="faq",
        title="住民票の写しはどこで取れますか",
        body="市民課の窓口で取得できます。",
        departments=("市民課",),
        category="証明書",
        published=True,
        url="https://example.jp/f1",
        source=f"{tmp_path / 'faq.csv'}:2",
    )
    assert second.title == "ごみの出し方"  # stripped
    assert second.departments == ("ごみ減量推進課", "環境保全課")
    assert second.published is False
    # A quoted multi-line cell keeps its line break, and the row is reported where it starts.
    assert third.title == "複数行の\n質問"
    assert third.body == "回答1行目\n回答2行目"
    assert third.departments == ("市民課", "税務課")
    assert third.published is True  # empty published flag: default
    assert third.source.endswith("faq.csv:4")


def test_an_answer_exported_as_html_is_stored_as_its_text(tmp_path: Path) -> None:
    csv_text = (
        "id,question,answer,department\n"
        'F1,転入届&amp;転出届,"<p>転入届は<b>14日以内</b>に。</p><p>市民課&nbsp;1番窓口へ</p>",市民課\n'
        "F2,ごみの出し方,燃やすごみは月・木。1<2 のような記号はそのまま,環境課\n"
    )
    result = read_csv(write(tmp_path / "faq.csv", csv_text))
    assert result.errors == ()
    first, second = result.documents
    assert first.title == "転入届&転出届"
    assert first.body == "転入届は14日以内に。\n市民課 1番窓口へ"
    assert second.body == "燃やすごみは月・木。1<2 のような記号はそのまま"


def test_cp932_csv_with_japanese_headers(tmp_path: Path) -> None:
    text = (
        "FAQ番号,質問,回答,担当課,公開\r\n"
        "1,①の書類は？,髙橋係長が～ｱﾝｹｰﾄで回答,市民課,公開\r\n"
        "2,非公開の質問,回答,税務課,非公開\r\n"
    )
    result = read_csv(write(tmp_path / "faq.csv", text, "cp932"))
    assert result.errors == ()
    first, second = result.documents
    assert first.doc_id == "faq:1"
    assert first.title == "①の書類は？"
    assert first.body == "髙橋係長が～ｱﾝｹｰﾄで回答"  # raw text: no normalisation here
    assert first.published is True
    assert second.published is False


def test_utf8_bom_csv_header_is_recognised(tmp_path: Path) -> None:
    path = tmp_path / "faq.csv"
    path.write_bytes(codecs.BOM_UTF8 + "id,質問,回答\n1,q,a\n".encode())
    result = read_csv(path)
    assert [d.doc_id for d in result.documents] == ["faq:1"]


def test_a_tab_separated_file_named_csv_is_read(tmp_path: Path) -> None:
    # Excel's 「Unicode テキスト」 (UTF-16, tabs), renamed .csv as cities often do.
    path = tmp_path / "faq.csv"
    text = "\nid\t質問\t回答\t担当課\nF1\t住民票, 写し\t市民課で取れます。\t市民課\n"
    path.write_bytes(codecs.BOM_UTF16_LE + text.encode("utf-16-le"))
    result = read_csv(path)
    assert result.errors == ()
    (doc,) = result.documents
    assert (doc.doc_id, doc.title, doc.departments) == ("faq:F1", "住民票, 写し", ("市民課",))
    # A comma in the header keeps the comma: a tab inside a cell is no separator then.
    mixed = parse_csv("id,question,answer\nF1,q\twith a tab,a\n", source="f.csv")
    assert mixed.documents[0].title == "q\twith a tab"


def test_a_failed_formula_saved_into_a_csv_is_an_empty_cell() -> None:
    text = "id,question,answer,department,category\nF1,q,a,#N/A,#REF!\nF2,q,#N/A,市民課,\n"
    result = parse_csv(text, source="faq.csv")
    assert [(d.doc_id, d.departments, d.category) for d in result.documents] == [("faq:F1", (), "")]
    # An answer that is only a failed formula is an empty answer: the row is refused.
    assert [(e.line, e.field) for e in result.errors] == [(3, "answer")]


def test_an_exports_own_lines_above_the_header_are_skipped() -> None:
    text = "出力日：2024/4/1,出力者：広報課\nFAQ一覧,\n\nid,question,answer\nF1,q,a\n"
    result = parse_csv(text, source="faq.csv")
    assert result.errors == ()
    assert [(d.doc_id, d.source) for d in result.documents] == [("faq:F1", "faq.csv:5")]
    (warning,) = result.warnings
    assert warning.line == 4
    assert "line(s) 1、2" in warning.message
    # No header among the next rows either: refused as before, naming the first row's problem.
    with pytest.raises(SchemaError) as info:
        parse_csv("出力日：2024/4/1,出力者：広報課\nx,y\n1,2\n", source="faq.csv")
    assert info.value.line == 1


def test_a_header_below_a_title_line_is_the_one_whose_problem_is_named() -> None:
    # A small town's sheet: a dated line of two cells, then the header with one unknown column.
    # The problem to fix is the header's (row 3), not the title line's.
    text = "令和6年10月1日現在,総務課 情報係 作成\n\nNo.,質問,回答,担当者コード\n1,q,a,x\n"
    with language("ja"), pytest.raises(SchemaError) as info:
        parse_csv(text, source="faq.csv")
    assert info.value.line == 3
    assert "担当者コード" in info.value.message
    # With the column mapped away the same file reads, its header on row 3.
    fixed = text.replace("担当者コード", "備考")
    result = parse_csv(fixed, source="faq.csv")
    assert [(d.doc_id, d.source) for d in result.documents] == [("faq:1", "faq.csv:4")]


def test_a_small_towns_faq_headers_are_known() -> None:
    text = "No.,質問,回答,問い合わせ先,掲載,備考\n7,q,a,住民課,×,見直し予定\n8,q2,a2,住民課,○,\n"
    result = parse_csv(text, source="faq.csv")
    assert result.errors == ()
    assert [(d.doc_id, d.departments, d.published) for d in result.documents] == [
        ("faq:7", ("住民課",), False),
        ("faq:8", ("住民課",), True),
    ]
    # 備考 is the list's own note: read past with a notice, never stored.
    assert all("見直し予定" not in d.body for d in result.documents)
    assert any("備考" in w.message for w in result.warnings)


def test_case_csv(tmp_path: Path) -> None:
    text = (
        "相談番号,相談日,経路,相談分類,相談内容,対応内容,対応課,状態\n"
        "C1,令和6年4月1日,ＬＩＮＥ,生活,家賃が払えない,住居確保給付金を案内,生活支援課;市民相談センター,完了\n"
    )
    (doc,) = read_csv(write(tmp_path / "cases.csv", text)).documents
    assert doc.doc_id == "case:C1"
    assert doc.kind == "case"
    assert doc.date == "2024-04-01"
    assert doc.channel == "LINE"
    assert doc.category == "生活"
    assert doc.title == "家賃が払えない"
    assert doc.body == "住居確保給付金を案内"
    assert doc.departments == ("生活支援課", "市民相談センター")
    assert doc.status == "完了"
    assert doc.published is False  # cases are never published


def test_department_csv(tmp_path: Path) -> None:
    text = (
        "課名,業務内容,電話番号,場所,受付時間,別名\n"
        "市民課,住民票・戸籍,0123-45-6789,本庁舎1階,8:30-17:15,住民課|戸籍係\n"
    )
    result = read_csv(write(tmp_path / "departments.csv", text))
    assert result.documents == ()
    assert result.departments == (
        Department(
            name="市民課",
            duties="住民票・戸籍",
            phone="0123-45-6789",
            location="本庁舎1階",
            hours="8:30-17:15",
            aliases=("住民課", "戸籍係"),
            source=f"{tmp_path / 'departments.csv'}:2",
        ),
    )


def test_forced_kind_overrides_detection() -> None:
    # "担当課,業務内容" would be detected as a directory; forcing faq makes the columns wrong.
    with pytest.raises(SchemaError) as info:
        parse_csv("担当課,業務内容\n市民課,住民票\n", source="x.csv", kind="faq")
    assert info.value.field == "業務内容"


def test_blank_lines_are_skipped_but_line_numbers_stay_physical() -> None:
    result = parse_csv("id,question,answer\n\nF1,q,a\n,,\nF2,q,\n", source="f.csv")
    assert [d.doc_id for d in result.documents] == ["faq:F1"]
    assert result.documents[0].source == "f.csv:3"
    assert only_error(result.errors).line == 5


# --- CSV: bad rows --------------------------------------------------------------------------


def test_three_good_rows_and_one_bad_row() -> None:
    text = (
        "id,date,summary,resolution\n"
        "C1,2024-04-01,s1,r1\n"
        "C2,2024-04-31,s2,r2\n"
        "C3,2024/05/01,s3,r3\n"
        "C4,2024年5月2日,s4,r4\n"
    )
    result = parse_csv(text, source="cases.csv")
    assert [d.doc_id for d in result.documents] == ["case:C1", "case:C3", "case:C4"]
    error = only_error(result.errors)
    assert (error.source, error.line, error.field) == ("cases.csv", 3, "date")
    assert "does not exist" in error.message
    assert str(error).startswith("cases.csv:3: date:")


@pytest.mark.parametrize(
    ("row", "field", "message"),
    [
        ("F9,,answer,,", "question", "required value is empty"),
        ("  ,q,a,,", "id", "required value is empty"),
        ("F#9,q,a,,", "id", "must not contain"),
    ],
)
def test_bad_faq_value(row: str, field: str, message: str) -> None:
    text = f"id,question,answer,published,url\nF1,q,a,,\n{row}\n"
    result = parse_csv(text, source="faq.csv")
    assert [d.doc_id for d in result.documents] == ["faq:F1"]
    error = only_error(result.errors)
    assert (error.line, error.field) == (3, field)
    assert message in error.message


@pytest.mark.parametrize(
    ("row", "field", "message", "kept"),
    [
        # An unreadable published flag keeps the entry off the public widget.
        ("F9,q,a,maybe,", "published", "published flag", {"published": False}),
        # A link that is not http(s) is never stored (the console renders it as a link).
        ("F9,q,a,,javascript:alert(1)", "url", "http", {"url": ""}),
    ],
)
def test_bad_optional_faq_value_is_a_warning_and_the_row_is_kept_safely(
    row: str, field: str, message: str, kept: dict[str, object]
) -> None:
    text = f"id,question,answer,published,url\nF1,q,a,,\n{row}\n"
    result = parse_csv(text, source="faq.csv")
    assert result.errors == ()
    assert [d.doc_id for d in result.documents] == ["faq:F1", "faq:F9"]
    for name, value in kept.items():
        assert getattr(result.documents[1], name) == value
    (warning,) = result.warnings
    assert (warning.source, warning.line, warning.field) == ("faq.csv", 3, field)
    assert message in warning.message


def test_department_cells_as_city_exports_write_them() -> None:
    text = (
        "id,question,answer,department\n"
        "F1,q,a,市民課 住民記録係（内線1234）\n"
        "F2,q,a,市民課 住民記録係（内線1234）\n"
        'F3,q,a,"税務課（電話：0123-45-6709 内線2009）"\n'
        'F4,q,a,"市民課\n保険年金課"\n'
        "F5,q,a,市民課・保険年金課\n"
        "F6,q,a,子ども・子育て支援課\n"
        "F7,q,a,福祉部 障害福祉課\n"
        "F8,q,a,市民課\n"
    )
    result = parse_csv(text, source="faq.csv")
    assert result.errors == ()
    # A section or a division stays until the directory is matched (kb.ingest.departments).
    assert [d.departments for d in result.documents] == [
        ("市民課 住民記録係",),
        ("市民課 住民記録係",),
        ("税務課",),
        ("市民課", "保険年金課"),
        ("市民課", "保険年金課"),
        ("子ども・子育て支援課",),  # one department with a ・ in its name
        ("福祉部 障害福祉課",),
        ("市民課",),
    ]
    # One notice per spelling, with its first line and its rows; none for F6, F7 and F8.
    notices = [(w.line, w.field, w.message) for w in result.warnings]
    assert notices[0] == (
        2,
        "department",
        "department '市民課 住民記録係（内線1234）' was read as '市民課 住民記録係' (2 row(s))",
    )
    # F4 (lines 5-6) and F5 are two spellings of one pair of departments: one notice.
    assert [line for line, _, _ in notices] == [2, 4, 5]
    assert notices[2][2] == (
        "2 spellings of a department ('市民課 保険年金課', '市民課・保険年金課') were read as "
        "'市民課、保険年金課' (2 row(s))"
    )


def test_bad_update_date_is_a_warning_but_a_bad_deadline_an_error() -> None:
    text = "id,question,answer,updated,expires\nF1,q,a,未定,\nF2,q,a,,未定\n"
    result = parse_csv(text, source="faq.csv")
    assert [(d.doc_id, d.updated) for d in result.documents] == [("faq:F1", "")]
    assert [(w.line, w.field) for w in result.warnings] == [(2, "updated")]
    assert "the row was stored without this value" in result.warnings[0].message
    # Ignoring a 公開期限 kb cannot read could publish the entry past its deadline.
    assert [(e.line, e.field) for e in result.errors] == [(3, "expires")]


def test_bad_case_channel_is_a_warning_but_an_empty_date_an_error() -> None:
    text = "id,date,channel,summary,resolution\nC1,,FAX,s,r\nC2,2024-04-01,FAX,s,r\n"
    result = parse_csv(text, source="c.csv")
    assert [(d.doc_id, d.channel) for d in result.documents] == [("case:C2", "FAX")]
    assert [(e.line, e.field) for e in result.errors] == [(2, "date")]
    # The skipped row's channel is not reported again: only the kept row's.
    assert [(w.line, w.field) for w in result.warnings] == [(3, "channel")]
    assert "channel 'FAX' is not one of" in result.warnings[0].message


@pytest.mark.parametrize(("row", "count"), [("F2,q", 2), ("F2,q,a,extra", 4)])
def test_wrong_cell_count_is_a_row_error(row: str, count: int) -> None:
    result = parse_csv(f"id,question,answer\nF1,q,a\n{row}\nF3,q,a\n", source="f.csv")
    assert [d.doc_id for d in result.documents] == ["faq:F1", "faq:F3"]
    error = only_error(result.errors)
    assert error.line == 3
    assert f"expected 3 cells like the header, got {count}" in error.message


def test_value_under_a_headerless_column_is_a_row_error() -> None:
    result = parse_csv("id,question,answer,\nF1,q,a,\nF2,q,a,stray\n", source="f.csv")
    assert [d.doc_id for d in result.documents] == ["faq:F1"]
    assert only_error(result.errors).line == 3


def test_duplicate_id_reports_the_later_row() -> None:
    result = parse_csv("id,question,answer\nF1,first,a\nF2,q,a\nＦ1,second,a\n", source="f.csv")
    assert [(d.doc_id, d.title) for d in result.documents] == [("faq:F1", "first"), ("faq:F2", "q")]
    error = only_error(result.errors)
    assert (error.line, error.field) == (4, "id")
    assert "first on line 2" in error.message


def test_a_row_exported_twice_is_stored_once_with_a_notice() -> None:
    text = "id,question,answer\nF1,q,a\nF2,q2,a2\nF1,q,a\n"
    result = parse_csv(text, source="f.csv")
    assert [d.doc_id for d in result.documents] == ["faq:F1", "faq:F2"]
    assert result.errors == ()
    (notice,) = result.warnings
    assert (notice.line, notice.field) == (4, "id")
    assert "repeats line 2 exactly" in notice.message
    # A later row that differs is still refused: which one is right is the city's to say.
    changed = parse_csv("id,question,answer\nF1,q,a\nF1,q,a (revised)\n", source="f.csv")
    assert only_error(changed.errors).line == 3


def test_duplicate_department_name() -> None:
    result = parse_csv("name,duties\n市民課,a\n市民課,b\n", source="d.csv")
    assert len(result.departments) == 1
    assert (only_error(result.errors).line, result.errors[0].field) == (3, "name")


def test_stray_quote_is_a_row_error_and_later_rows_survive() -> None:
    result = parse_csv('id,question,answer\nF1,"q"x,a\nF2,q,a\n', source="f.csv")
    assert [d.doc_id for d in result.documents] == ["faq:F2"]
    error = only_error(result.errors)
    assert error.line == 2
    assert "malformed CSV" in error.message


def test_a_stray_quote_is_explained_in_the_staffs_words() -> None:
    """Python's csv error (',' expected after '"') was shown as it is."""
    with language("ja"):
        result = parse_csv('id,question,answer\nF1,"転入届"について,a\n', source="f.csv")
        tabbed = parse_csv('id\tquestion\tanswer\nF1\t"q"x\ta\n', source="f.csv")
    message = only_error(result.errors).message
    assert "区切り文字（,）がありません" in message
    assert '""' in message
    assert "expected" not in message
    assert "区切り文字（TAB）" in only_error(tabbed.errors).message


@pytest.mark.parametrize(
    ("line", "said"),
    [
        ('{"id": "F1" "question": "q"}', "項目の間に「,」がありません"),
        ('{"id": "F1", "question": "q", "answer": "a"} x', "JSON が 1 つより多く"),
        ('{id: "F1"}', '項目名が「"」で囲まれていません'),
        ('{"id": }', "値がありません"),
        ('{"id": "F1', "文字列が閉じられていません"),
        ('{"id" "F1"}', "「:」がありません"),
        ('{"id": "F\\q1"}', "「\\」の後の文字が正しくありません"),
    ],
)
def test_broken_json_is_explained_in_the_staffs_words(line: str, said: str) -> None:
    with language("ja"):
        result = parse_jsonl(line + "\n", source="f.jsonl")
    message = only_error(result.errors).message
    assert message.startswith("JSON として正しくありません: ")
    assert said in message
    assert not any(word in message for word in ("Expecting", "Extra", "Unterminated", "Invalid"))


def test_a_json_line_with_more_keys_than_a_header_has_columns_is_a_row_error() -> None:
    """Each unknown key was matched against every field and named: 200,000 keys on one line
    took 74 s, 930 MB and a message of megabytes. The other lines are stored."""
    wide = {"id": "F1", "question": "q", "answer": "a", **{f"k{i}": 1 for i in range(5000)}}
    text = jsonl(wide, {"id": "F2", "question": "q", "answer": "a"})
    with language("ja"):
        result = parse_jsonl(text, source="f.jsonl")
    assert [d.doc_id for d in result.documents] == ["faq:F2"]
    error = only_error(result.errors)
    assert error.line == 1
    assert "5,003 個" in error.message
    assert "1,000 個" in error.message
    assert len(error.message) < 200


def test_unclosed_quote_is_reported_where_it_starts() -> None:
    result = parse_csv('id,question,answer\nF1,q,a\nF2,"q,a\nF3,q,a\n', source="f.csv")
    assert [d.doc_id for d in result.documents] == ["faq:F1"]
    error = only_error(result.errors)
    assert error.line == 3
    assert "never closed" in error.message
    # What it swallowed is said: the summary counts one row, the lines are two.
    assert "lines 3-4 (2 lines) were not stored" in error.message


# --- CSV: bad files -------------------------------------------------------------------------


@pytest.mark.parametrize("text", ["", "   \n\n", ",,,\n"])
def test_empty_csv(tmp_path: Path, text: str) -> None:
    with pytest.raises(InputError, match="file is empty") as info:
        read_csv(write(tmp_path / "empty.csv", text))
    assert info.value.source == str(tmp_path / "empty.csv")


def test_missing_column(tmp_path: Path) -> None:
    path = write(tmp_path / "faq.csv", "id,question,category\nF1,q,c\n")
    with pytest.raises(SchemaError) as info:
        read_csv(path)
    assert (info.value.source, info.value.line, info.value.field) == (str(path), 1, "answer")


def test_unknown_column(tmp_path: Path) -> None:
    path = write(tmp_path / "faq.csv", "id,question,answer,anser2\nF1,q,a,x\n")
    with pytest.raises(SchemaError) as info:
        read_csv(path)
    assert (info.value.line, info.value.field) == (1, "anser2")
    assert f"{path}:1: anser2:" in str(info.value)


def test_header_only_file_has_no_records() -> None:
    result = parse_csv("id,question,answer\n", source="f.csv")
    assert result == type(result)(source="f.csv")


# --- JSONL ----------------------------------------------------------------------------------


def jsonl(*objects: object) -> str:
    return "\n".join(
        o if isinstance(o, str) else json.dumps(o, ensure_ascii=False) for o in objects
    )


def test_jsonl_faq(tmp_path: Path) -> None:
    text = jsonl(
        {"id": 1, "質問": "q1", "回答": "a1", "担当課": ["市民課", "税務課"], "公開": False},
        "",
        {
            "id": "F2",
            "question": "q2",
            "answer": "a2",
            "department": "市民課|保険年金課",
            "url": None,
        },
    )
    result = read_jsonl(write(tmp_path / "faq.jsonl", text))
    assert result.errors == ()
    first, second = result.documents
    assert (first.doc_id, first.departments, first.published) == (
        "faq:1",
        ("市民課", "税務課"),
        False,
    )
    assert second.departments == ("市民課", "保険年金課")
    assert second.published is True
    assert second.source == f"{tmp_path / 'faq.jsonl'}:3"


def test_jsonl_bad_lines_are_row_errors_and_good_lines_kept() -> None:
    text = jsonl(
        "not json",
        {"id": "C1", "date": "2024-04-01", "summary": "s", "resolution": "r"},
        "[1, 2]",
        '{"id": "C2", "date": "2024-04-01", "summary": "s",',
        {"id": "C3", "date": "2024-99-01", "summary": "s", "resolution": "r"},
        {"id": "C4", "date": "2024-04-02", "summary": {"x": 1}, "resolution": "r"},
        {"id": "C5", "date": "2024-04-03", "summary": "s", "resolution": "r"},
        {"id": "C1", "date": "2024-04-03", "summary": "s", "resolution": "r"},
    )
    result = parse_jsonl(text, source="cases.jsonl")
    assert [d.doc_id for d in result.documents] == ["case:C1", "case:C5"]
    assert [(e.line, e.field) for e in result.errors] == [
        (1, ""),
        (3, ""),
        (4, ""),
        (5, "date"),
        (6, "summary"),
        (8, "id"),
    ]
    assert "invalid JSON" in result.errors[0].message
    assert "expected a JSON object, got a list" in result.errors[1].message


def test_jsonl_unknown_key_names_the_line() -> None:
    text = jsonl(
        {"id": "F1", "question": "q", "answer": "a"},
        {"id": "F2", "question": "q", "answer": "a", "colour": "red"},
    )
    with pytest.raises(SchemaError) as info:
        parse_jsonl(text, source="faq.jsonl")
    assert (info.value.line, info.value.field) == (2, "colour")


def test_jsonl_missing_required_key_names_the_line() -> None:
    text = jsonl({"id": "F1", "question": "q", "answer": "a"}, {"id": "F2", "question": "q"})
    with pytest.raises(SchemaError) as info:
        parse_jsonl(text, source="faq.jsonl")
    assert (info.value.line, info.value.field) == (2, "answer")


def test_jsonl_null_required_value_is_a_row_error() -> None:
    text = jsonl(
        {"id": "F1", "question": "q", "answer": None}, {"id": "F2", "question": "q", "answer": "a"}
    )
    result = parse_jsonl(text, source="faq.jsonl")
    assert [d.doc_id for d in result.documents] == ["faq:F2"]
    assert (only_error(result.errors).line, result.errors[0].field) == (1, "answer")


def test_jsonl_list_in_a_single_valued_field_is_a_row_error() -> None:
    result = parse_jsonl(
        jsonl({"id": "F1", "question": ["a", "b"], "answer": "a"}), source="f.jsonl"
    )
    assert result.documents == ()
    assert only_error(result.errors).field == "question"


@pytest.mark.parametrize("text", ["", "\n \n"])
def test_empty_jsonl(tmp_path: Path, text: str) -> None:
    with pytest.raises(InputError, match="file is empty"):
        read_jsonl(write(tmp_path / "empty.jsonl", text))


def test_jsonl_with_only_bad_lines_returns_their_errors() -> None:
    result = parse_jsonl("oops\n[]\n", source="f.jsonl")
    assert result.documents == ()
    assert [e.line for e in result.errors] == [1, 2]


def test_jsonl_number_too_long_for_python_is_a_row_error() -> None:
    # Python refuses to convert an integer of more than sys.get_int_max_str_digits() digits
    # (a ValueError, not a JSONDecodeError): the line is refused, the file is not.
    text = (
        '{"id": "F1", "question": "q", "answer": ' + "9" * 5000 + "}\n"
        '{"id": "F2", "question": "q", "answer": "a"}\n'
    )
    result = parse_jsonl(text, source="faq.jsonl")
    assert [d.doc_id for d in result.documents] == ["faq:F2"]
    assert [(e.line, e.field) for e in result.errors] == [(1, "")]
    assert "more than 4,300 digits" in result.errors[0].message


def test_the_totals_row_of_an_export_is_skipped_with_a_notice() -> None:
    text = (
        "id,date,summary,resolution\n"
        "C1,2024-04-01,転入の相談,市民課で受付\n"
        "C2,2024-04-02,児童手当の相談,子育て支援課で受付\n"
        "合計,2件,,\n"
    )
    result = parse_csv(text, source="cases.csv", kind="case")
    assert [d.doc_id for d in result.documents] == ["case:C1", "case:C2"]
    assert result.errors == ()
    (notice,) = result.warnings
    assert notice.line == 4
    assert "totals row" in notice.message  # this file's tests read English
    # A case whose id is 計 (filled like any other row) is not a totals row.
    kept = parse_csv(
        "id,date,summary,resolution\n計,2024-04-01,計算方法の相談,税務課で説明\n",
        source="cases.csv",
        kind="case",
    )
    assert [d.doc_id for d in kept.documents] == ["case:計"]


def test_rows_too_wide_to_be_a_header_are_not_mapped_below_the_first(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    # Each unknown column of a candidate header is matched for a hint: 5 rows of 40,000 columns
    # under a first row that is no header took 29 s. They are passed over unmapped.
    import kb.ingest.header as header
    from kb.ingest.columns import map_columns as real

    widths: list[int] = []

    def counting(cells: list[str], *args: object, **kwargs: object) -> object:
        widths.append(len(cells))
        return real(cells, *args, **kwargs)  # type: ignore[arg-type]

    monkeypatch.setattr(header, "map_columns", counting)
    wide = ",".join(f"x{i}" for i in range(header.MAX_HEADER_COLUMNS + 5))
    with pytest.raises(SchemaError) as info:
        parse_csv("a,b\n" + "\n".join([wide] * 5) + "\n", source="w.csv", kind="faq")
    assert info.value.line == 1
    assert max(widths) <= header.MAX_HEADER_COLUMNS


def test_an_exports_count_line_is_skipped_like_a_totals_row() -> None:
    text = "id,date,summary,resolution\nC1,R6.4.1,相談,案内\n出力件数：1件,,,\n"
    result = parse_csv(text, source="c.csv")
    assert result.errors == ()
    assert [d.doc_id for d in result.documents] == ["case:C1"]
    assert [w.line for w in result.warnings] == [3]


def test_a_note_below_the_records_is_skipped_with_a_notice_not_an_error() -> None:
    # A web CMS's export ends with 「※このシートは…出力しました」: every run exited 1 on it.
    text = (
        "番号,質問,回答,担当課\n"
        "A1,住民票の写しは？,市民課で交付します。,市民課\n"
        "※このシートは広報広聴課FAQシステムから出力しました,,,\n"
        "注：内線番号は変わることがあります,,,\n"
    )
    result = parse_csv(text, source="faq.csv", kind="faq")
    assert result.errors == ()
    assert [d.doc_id for d in result.documents] == ["faq:A1"]
    (notice,) = result.warnings  # the same notice for both lines, once
    assert notice.line == 3
    assert "note below the table" in notice.message
    assert "lines 3, 4" in notice.message
    # A record with one field filled is still a record, with its errors.
    short = parse_csv("番号,質問,回答\nA2,,\n", source="faq.csv", kind="faq")
    assert [e.line for e in short.errors] == [2, 2]


def test_a_repeated_warning_names_its_lines_once_in_japanese() -> None:
    # It read 「… 85 ほか 1 行 行目」 before.
    text = "番号,質問,回答,更新日\n" + "".join(f"A{i},問{i},答{i},未定\n" for i in range(1, 13))
    with language("ja"):
        result = parse_csv(text, source="faq.csv", kind="faq")
    (warning,) = result.warnings
    assert warning.message.endswith(
        "（同じ警告が 12 行: 2, 3, 4, 5, 6, 7, 8, 9, 10, 11 行目ほか 2 行）"
    ), warning.message


def test_a_nested_optional_value_is_left_out_and_a_nested_category_is_a_path() -> None:
    line = (
        '{"id": "J1", "date": "2024-04-01", "summary": "s", "resolution": "r",'
        ' "category": {"major": "くらし", "minor": "道路"}, "status": {"code": 1}}\n'
    )
    with language("ja"):
        result = parse_jsonl(line, source="o.jsonl")
    assert result.errors == ()
    assert [(d.category, d.status) for d in result.documents] == [("くらし > 道路", "")]
    (warning,) = result.warnings
    assert warning.field == "status"
    assert "行は取り込みました" in warning.message
    # A required field that is not text still refuses the row.
    bad = '{"id": "J2", "date": "2024-04-01", "summary": {"a": "s"}, "resolution": "r"}\n'
    assert [e.field for e in parse_jsonl(bad, source="o.jsonl").errors] == ["summary"]


def test_cases_cancelled_as_entered_in_error_are_left_out_with_a_notice() -> None:
    # 取消 / 誤登録: a record entered in error is no case to learn from; 取下げ (an application
    # withdrawn) is an outcome and is stored.
    text = (
        "id,date,summary,resolution,status\n"
        "C1,R6.4.1,相談,案内,完了\nC2,R6.4.2,誤り,取消,取消\n"
        "C3,R6.4.3,申請,取下げ,取下げ\nC4,R6.4.4,重複入力,-,誤登録\n"
    )
    with language("ja"):
        result = parse_csv(text, source="c.csv")
    assert result.errors == ()
    assert [d.doc_id for d in result.documents] == ["case:C1", "case:C3"]
    (notice,) = [w for w in result.warnings if w.field == "status"]
    assert notice.line == 3
    assert "3, 5 行目、2 件" in notice.message
