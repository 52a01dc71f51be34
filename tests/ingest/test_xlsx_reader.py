"""Excel workbooks: cells as text, the sheet's row numbers, sheets, zip bombs (xlsx_reader)."""

from __future__ import annotations

import datetime as dt
import re
import zipfile
from collections.abc import Callable
from pathlib import Path

import openpyxl
import pytest

from kb.errors import InputError, SchemaError
from kb.ingest.columns import ColumnMapping
from kb.ingest.limits import InputLimits
from kb.ingest.readers import read_path
from kb.ingest.xlsx_reader import read_sheet, read_xlsx
from kb.messages import language


def _book(path: Path, sheets: dict[str, list[list[object]]]) -> Path:
    book = openpyxl.Workbook()
    first = True
    for title, rows in sheets.items():
        sheet = book.active if first else book.create_sheet()
        sheet.title = title
        first = False
        for row in rows:
            sheet.append(row)
    book.save(path)
    return path


FAQ_ROWS: list[list[object]] = [
    ["番号", "質問", "回答", "公開", "更新日"],
    [1001, "住民票はどこで取れますか", "市民課の窓口で取れます。", True, dt.datetime(2024, 6, 1)],
    [1002.0, "粗大ごみの出し方", "電話で申し込みます。", False, "R6.6.2"],
]


def test_cells_become_text_as_a_csv_export_would_hold_them(tmp_path: Path) -> None:
    path = _book(tmp_path / "faq.xlsx", {"FAQ": FAQ_ROWS})
    result = read_path(path)
    assert result.errors == ()
    first, second = result.documents
    assert (first.doc_id, first.published, first.updated) == ("faq:1001", True, "2024-06-01")
    assert (second.doc_id, second.published, second.updated) == ("faq:1002", False, "2024-06-02")
    assert first.source == f"{path}:2"


def test_line_breaks_in_a_cell_are_plain_line_feeds(tmp_path: Path) -> None:
    # Excel writes a carriage return in a cell as "_x000D_"; a cell pasted from Windows holds
    # CR LF. Either is stored as the LF a CSV export's lines are read as.
    rows: list[list[object]] = [
        ["番号", "質問", "回答"],
        [1, "住民票", "市民課です。_x000D_\n窓口は1階です。"],
        [2, "印鑑登録", "本人が来庁してください。\r\n代理人は委任状が必要です。\r"],
    ]
    result = read_path(_book(tmp_path / "faq.xlsx", {"FAQ": rows}))
    assert result.errors == ()
    answers = [doc.body for doc in result.documents]
    assert answers == [
        "市民課です。\n窓口は1階です。",
        "本人が来庁してください。\n代理人は委任状が必要です。",
    ]


def test_rows_are_named_by_the_sheets_row_numbers(tmp_path: Path) -> None:
    rows: list[list[object]] = [
        ["相談記録一覧"],  # a title above the header, then a blank row
        [],
        ["受付番号", "相談日", "相談内容", "対応内容"],
        ["C1", dt.date(2024, 6, 1), "s", "r"],
        [],
        ["C2", "R6.13.1", "s", "r"],
        ["C3", 45444, "s", "r"],  # a date that lost its format: Excel's day count
        ["C4", "H31.4.30", "s", None],
    ]
    path = _book(tmp_path / "cases.xlsx", {"相談": rows})
    with language("ja"):
        result = read_xlsx(path)
    assert [(d.doc_id, d.date, d.source) for d in result.documents] == [
        ("case:C1", "2024-06-01", f"{path}:4"),
        ("case:C3", "2024-06-01", f"{path}:7"),
    ]
    assert [(e.line, e.field) for e in result.errors] == [(6, "date"), (8, "resolution")]
    assert "列「相談日」: 「R6.13.1」は存在しない日付です" in result.errors[0].message


def test_the_first_sheet_is_read_unless_one_is_named(tmp_path: Path) -> None:
    path = _book(
        tmp_path / "book.xlsx",
        {"表紙": [["令和6年度 相談記録"]], "FAQ": FAQ_ROWS},
    )
    with language("ja"), pytest.raises(InputError) as info:
        read_xlsx(path, mapping=ColumnMapping(sheet="集計"))
    assert "シート「集計」がありません（このブックのシート: 表紙, FAQ）" in info.value.message
    result = read_xlsx(path, mapping=ColumnMapping(sheet="ｆａｑ"))  # width and case ignored
    assert [d.doc_id for d in result.documents] == ["faq:1001", "faq:1002"]
    assert read_sheet(path).name == "表紙"
    # The cover sheet has no header: the error names the sheets, so the fix is obvious.
    with language("ja"), pytest.raises(SchemaError) as columns:
        read_xlsx(path)
    assert "シート「表紙」を読みました。このブックのシート: 表紙, FAQ" in columns.value.message


def test_a_hidden_sheet_is_passed_over_and_other_sheets_are_named(tmp_path: Path) -> None:
    path = _book(
        tmp_path / "book.xlsx",
        {
            "旧版": [["番号", "質問", "回答"], ["1001", "【旧】住民票", "1通250円"]],
            "FAQ": FAQ_ROWS,
            "集計": [["区分", "件数"]],
        },
    )
    book = openpyxl.load_workbook(path)
    book["旧版"].sheet_state = "hidden"
    book.save(path)
    with language("ja"):
        result = read_xlsx(path)
    assert [d.title for d in result.documents] == ["住民票はどこで取れますか", "粗大ごみの出し方"]
    # The rows of the visible sheet not read are not lost without a word.
    (note,) = result.warnings
    assert "シート「FAQ」だけを読みました。ほかのシート（集計）の行は取り込んでいません" in (
        note.message
    )
    # A sheet chosen by name is read, hidden or not, and nothing is said of the others.
    chosen = read_xlsx(path, mapping=ColumnMapping(sheet="旧版"))
    assert [d.title for d in chosen.documents] == ["【旧】住民票"]
    assert chosen.warnings == ()


def test_a_failed_formula_is_an_empty_cell_and_a_bad_update_date_a_warning(
    tmp_path: Path,
) -> None:
    rows: list[list[object]] = [
        ["番号", "質問", "回答", "担当課", "更新日"],
        ["F1", "住民票", "市民課で取れます。", "#N/A", "未定"],
        ["F2", "粗大ごみ", "申し込みます。", "ごみ減量推進課", "2024/4/1"],
    ]
    path = _book(tmp_path / "faq.xlsx", {"FAQ": rows})
    book = openpyxl.load_workbook(path)
    book["FAQ"]["D2"].data_type = "e"  # as Excel stores a VLOOKUP that found nothing
    book.save(path)
    with language("ja"):
        result = read_xlsx(path)
    assert result.errors == ()
    first, second = result.documents
    assert (first.departments, first.updated) == ((), "")
    assert (second.departments, second.updated) == (("ごみ減量推進課",), "2024-04-01")
    (warning,) = result.warnings
    assert (warning.line, warning.field) == (2, "updated")
    assert "行は取り込み、この値は保存していません" in warning.message


def test_formulas_without_a_saved_result_are_named_and_those_with_one_are_read(
    tmp_path: Path,
) -> None:
    # openpyxl, like many programs other than Excel, writes formulas without their results.
    rows: list[list[object]] = [
        ["番号", "質問", "回答"],
        ["F1", "住民票はどこで取れますか", "市民課の窓口で取れます。"],
        ["F2", '="粗大ごみ"&"の出し方"', '=CONCATENATE("電話で","申し込みます。")'],
        ["F3", "=B2", "市民課で取れます。"],
    ]
    path = _book(tmp_path / "faq.xlsx", {"FAQ": rows})
    with language("ja"):
        result = read_xlsx(path)
    assert [d.title for d in result.documents] == ["住民票はどこで取れますか"]
    assert {(e.line, e.field) for e in result.errors} == {
        (3, "question"),
        (3, "answer"),
        (4, "question"),
    }
    (warning,) = result.warnings
    assert warning.line == 0
    assert "数式 3 個（B3, C3, B4）に計算結果が保存されていない" in warning.message

    # Saved by Excel, a result is there (<v>): read as the value, and no longer named.
    _rewrite_sheet(
        path,
        lambda xml: xml.replace(
            '<c r="B4"><f>B2</f><v></v></c>',
            '<c r="B4" t="str"><f>B2</f><v>住民票の写しはどこで取れますか</v></c>',
        ),
    )
    with language("ja"):
        result = read_xlsx(path)
    titles = [d.title for d in result.documents]
    assert titles == ["住民票はどこで取れますか", "住民票の写しはどこで取れますか"]
    (warning,) = result.warnings
    assert "数式 2 個（B3, C3）" in warning.message
    # A formula whose result is "" (=IF(B2="","",B2)), as Excel saves it: t="str", <v/>.
    _rewrite_sheet(
        path,
        lambda xml: re.sub(
            r'<c r="C3"><f>.*?</f><v></v></c>', '<c r="C3" t="str"><f>""</f><v/></c>', xml
        ),
    )
    with language("ja"):
        result = read_xlsx(path)
    (warning,) = result.warnings
    assert "数式 1 個（B3）" in warning.message


def test_a_category_merged_down_its_block_reaches_every_row(tmp_path: Path) -> None:
    rows: list[list[object]] = [
        ["よくある質問（みどり野市）"],  # a title merged across the columns: not copied
        [],
        ["番号", "カテゴリ", "質問", "回答"],
        ["F1", "ごみ・リサイクル", "粗大ごみ", "申し込みます。"],
        ["F2", None, "資源ごみ", "水曜日です。"],
        [],  # a blank row inside the block
        ["F3", None, "生ごみ", "月・木です。"],
        ["F4", "届出", "転入", "14日以内です。"],
        ["F5", None, "転出", "市民課です。"],
        ["F6", None, "婚姻届", "24時間受け付けます。"],
    ]
    path = _book(tmp_path / "faq.xlsx", {"FAQ": rows})
    book = openpyxl.load_workbook(path)
    sheet = book["FAQ"]
    sheet.merge_cells("A1:D1")
    sheet.merge_cells("B4:B7")
    sheet.merge_cells("B8:B9")  # F6 (row 10) is outside the merge: it stays empty
    book.save(path)
    result = read_xlsx(path)
    assert result.errors == ()
    assert [(d.doc_id, d.category) for d in result.documents] == [
        ("faq:F1", "ごみ・リサイクル"),
        ("faq:F2", "ごみ・リサイクル"),
        ("faq:F3", "ごみ・リサイクル"),
        ("faq:F4", "届出"),
        ("faq:F5", "届出"),
        ("faq:F6", ""),
    ]


def test_hidden_rows_are_not_stored_and_are_named(tmp_path: Path) -> None:
    rows: list[list[object]] = [
        ["番号", "カテゴリ", "質問", "回答"],
        ["F1", "健康", "健診", "毎年6月です。"],
        ["F2", None, "コロナワクチン集団接種", "終了しました（旧）。"],  # hidden: withdrawn
        ["F3", None, "予防接種", "保健センターです。"],
        [],
        ["F4", "税", "給付金", "令和2年の給付金です。"],  # hidden too
    ]
    path = _book(tmp_path / "faq.xlsx", {"FAQ": rows})
    book = openpyxl.load_workbook(path)
    sheet = book["FAQ"]
    sheet.merge_cells("B2:B4")  # the hidden row sits inside a merged category block
    sheet.row_dimensions[3].hidden = True
    sheet.row_dimensions[6].hidden = True
    sheet.row_dimensions[5].hidden = True  # a blank hidden row is not worth a word
    book.save(path)
    with language("ja"):
        result = read_xlsx(path)
    assert result.errors == ()
    assert [(d.doc_id, d.category) for d in result.documents] == [
        ("faq:F1", "健康"),
        ("faq:F3", "健康"),
    ]
    (note,) = [w for w in result.warnings if "非表示" in w.message]
    assert "3, 6 行目" in note.message


def _rewrite_sheet(path: Path, edit: Callable[[str], str]) -> None:
    """Rewrite the first worksheet's XML of a workbook (other writers' spellings)."""
    with zipfile.ZipFile(path) as book:
        parts = {info.filename: book.read(info) for info in book.infolist()}
    part = "xl/worksheets/sheet1.xml"
    parts[part] = edit(parts[part].decode("utf-8")).encode("utf-8")
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as book:
        for name, data in parts.items():
            book.writestr(name, data)


@pytest.mark.parametrize(
    "spelling",
    ["single quotes", "no row numbers", "zero height", "space before"],
)
def test_hidden_rows_are_found_however_the_writer_spells_them(
    tmp_path: Path, spelling: str
) -> None:
    rows: list[list[object]] = [
        ["番号", "質問", "回答"],
        ["F1", "健診", "6月です。"],
        ["F2", "旧ワクチン", "終了しました。"],  # hidden
        ["F3", "予防接種", "保健センターです。"],
    ]
    path = _book(tmp_path / "faq.xlsx", {"FAQ": rows})
    book = openpyxl.load_workbook(path)
    book["FAQ"].row_dimensions[3].hidden = True
    book.save(path)

    def edit(xml: str) -> str:
        if spelling == "single quotes":
            return xml.replace(' hidden="1"', " hidden='1'")
        if spelling == "no row numbers":
            return re.sub(r'(<row[^>]*?) r="[0-9]+"', r"\1", xml)
        if spelling == "zero height":
            return xml.replace(' hidden="1"', ' ht="0" customHeight="1"')
        return xml.replace(' hidden="1"', '\n hidden = "1"')

    _rewrite_sheet(path, edit)
    with language("ja"):
        result = read_xlsx(path)
    assert [d.doc_id for d in result.documents] == ["faq:F1", "faq:F3"]
    assert any("3 行目" in w.message and "非表示" in w.message for w in result.warnings)


def test_a_merge_that_starts_on_a_hidden_row_gives_nothing(tmp_path: Path) -> None:
    rows: list[list[object]] = [
        ["番号", "カテゴリ", "質問", "回答"],
        ["F1", "旧制度の内部メモ", "旧", "旧"],  # hidden: its category must not spread
        ["F2", None, "新", "新しい回答です。"],
    ]
    path = _book(tmp_path / "faq.xlsx", {"FAQ": rows})
    book = openpyxl.load_workbook(path)
    book["FAQ"].merge_cells("B2:B3")
    book["FAQ"].row_dimensions[2].hidden = True
    book.save(path)
    result = read_xlsx(path)
    assert [(d.doc_id, d.category) for d in result.documents] == [("faq:F2", "")]


def test_a_hidden_column_is_read_and_named(tmp_path: Path) -> None:
    # A hidden No. column is common (kept off the printout): it is read, and said.
    rows: list[list[object]] = [
        ["番号", "質問", "回答", "分類"],
        ["F1", "健診", "6月です。", "健康"],
    ]
    path = _book(tmp_path / "faq.xlsx", {"FAQ": rows})
    book = openpyxl.load_workbook(path)
    book["FAQ"].column_dimensions["D"].hidden = True
    book.save(path)
    with language("ja"):
        result = read_xlsx(path)
    assert [(d.doc_id, d.category) for d in result.documents] == [("faq:F1", "健康")]
    assert any("非表示の列（D 列）" in w.message for w in result.warnings)


def test_a_cell_past_the_header_is_a_row_error(tmp_path: Path) -> None:
    rows: list[list[object]] = [
        ["id", "question", "answer"],
        ["F1", "q", "a"],
        ["F2", "q", "a", None, "stray"],
    ]
    result = read_xlsx(_book(tmp_path / "faq.xlsx", {"FAQ": rows}))
    assert [d.doc_id for d in result.documents] == ["faq:F1"]
    assert [(e.line, e.field) for e in result.errors] == [(3, "")]


def test_a_zip_bomb_workbook_is_refused_before_it_is_opened(tmp_path: Path) -> None:
    path = _book(tmp_path / "bomb.xlsx", {"FAQ": FAQ_ROWS})
    # Add a member that inflates 1000:1; openpyxl would never be reached.
    with zipfile.ZipFile(path, "a", zipfile.ZIP_DEFLATED, compresslevel=9) as book:
        book.writestr("xl/media/padding.xml", b"<a/>" * 2_000_000)
    with language("ja"), pytest.raises(InputError) as info:
        read_path(path, limits=InputLimits(max_zip_ratio=100.0))
    assert info.value.source == str(path)
    assert "zip 爆弾の疑い" in info.value.message
    assert "max_zip_ratio" in info.value.message
    with pytest.raises(InputError, match="max_zip_unpacked_bytes"):
        read_path(path, limits=InputLimits(max_zip_ratio=1e9, max_zip_unpacked_bytes=1_000_000))


def test_an_entity_bomb_in_a_workbook_part_is_refused_unexpanded(tmp_path: Path) -> None:
    """A few hundred bytes of nested XML entities (billion laughs) would expand to 3 GB.

    The zip limits cannot see it (the part itself is small): the XML parser must refuse it.
    openpyxl parses through defusedxml (a declared dependency), which refuses entity
    declarations; the parsers below it also stop at their amplification limits.
    """
    plain = _book(tmp_path / "plain.xlsx", {"FAQ": FAQ_ROWS})
    entities = '<!ENTITY l0 "lollollollol">' + "".join(
        f'<!ENTITY l{i} "{f"&l{i - 1};" * 10}">' for i in range(1, 10)
    )
    path = tmp_path / "laughs.xlsx"
    with zipfile.ZipFile(plain) as source, zipfile.ZipFile(path, "w") as book:
        for name in source.namelist():
            data = source.read(name)
            if name == "xl/worksheets/sheet1.xml":
                body = data.decode("utf-8").split("?>", 1)[-1]
                data = f'<?xml version="1.0"?><!DOCTYPE worksheet [{entities}]>{body}'.encode()
                data = data.replace(
                    b"</sheetData>",
                    b'<row r="9"><c r="A9" t="inlineStr">'
                    b"<is><t>&l9;</t></is></c></row></sheetData>",
                )
            book.writestr(name, data)
    assert path.stat().st_size < 20_000
    with language("ja"), pytest.raises(InputError) as info:
        read_path(path)
    assert info.value.source == str(path)
    assert "Excel ブック (.xlsx) として読めません" in info.value.message


def _far_column_book(path: Path, rows: int) -> Path:
    """A sheet whose every row has a value in column XFD (16,384): a few KB on disk."""
    book = openpyxl.Workbook(write_only=True)
    sheet = book.create_sheet("FAQ")
    sheet.append(["question", "answer"])
    for i in range(rows):
        row: list[str | None] = [None] * 16_384
        row[0], row[-1] = f"q{i}", "x"
        sheet.append(row)
    book.save(path)
    return path


def test_a_sheet_padded_to_a_far_column_is_refused_while_it_is_read(tmp_path: Path) -> None:
    """Padded to the widest row, 400 such rows would hold 6.5 million cells (the reader held
    2 GB for 16,000 rows of a 127 KB upload before): refused at the limit, naming the sheet,
    the row and the limit."""
    path = _far_column_book(tmp_path / "far.xlsx", 400)
    assert path.stat().st_size < 60_000
    with language("ja"), pytest.raises(InputError) as info:
        read_sheet(path)
    assert info.value.source == str(path)
    assert "シート「FAQ」" in info.value.message
    assert "max_sheet_cells" in info.value.message
    assert "何も保存されません" in info.value.message
    # The same shape within the limit is read, every row padded alike.
    sheet = read_sheet(_far_column_book(tmp_path / "few.xlsx", 3))
    assert [len(cells) for _, cells in sheet.rows] == [16_384] * 4


@pytest.mark.parametrize("content", [b"", b"PK\x03\x04 not a zip", b"id,question,answer\n"])
def test_a_file_that_is_not_a_workbook_is_a_clear_error(tmp_path: Path, content: bytes) -> None:
    path = tmp_path / "faq.xlsx"
    path.write_bytes(content)
    with language("ja"), pytest.raises(InputError) as info:
        read_path(path)
    assert info.value.source == str(path)
    assert "Excel ブック (.xlsx) として読めません" in info.value.message


def test_a_row_numbered_past_excels_last_row_is_refused_naming_the_sheet(tmp_path: Path) -> None:
    """openpyxl yields an empty row for every number skipped: a 2 KB file with row 2,000,000,000
    kept ingest busy for half an hour. Row 1,048,576 (Excel's last) is read."""
    rows: list[list[object]] = [["番号", "質問", "回答"], ["F1", "転入届", "市民課へ"]]
    last = _book(tmp_path / "last.xlsx", {"FAQ": rows})
    _rewrite_sheet(last, lambda xml: xml.replace('r="2"', 'r="1048576"').replace("A2", "A1048576"))
    assert [number for number, _ in read_sheet(last).rows] == [1, 1_048_576]
    far = _book(tmp_path / "far.xlsx", {"FAQ": rows})
    _rewrite_sheet(far, lambda xml: xml.replace('r="2"', 'r="2000000000"'))
    with language("ja"), pytest.raises(InputError) as info:
        read_sheet(far)
    assert "シート「FAQ」" in info.value.message
    assert "1,048,576 行目" in info.value.message


def test_a_lone_surrogate_escaped_in_a_cell_is_read_as_a_replacement_character(
    tmp_path: Path,
) -> None:
    """Excel's escape _xD800_ unescapes to a lone surrogate, which cannot be written as UTF-8:
    the hash, the store and the report stopped with a traceback."""
    rows: list[list[object]] = [["番号", "質問", "回答"], ["F1", "転入届について", "市民課へ"]]
    path = _book(tmp_path / "faq.xlsx", {"FAQ": rows})
    word = "転入届".encode("ascii", "xmlcharrefreplace").decode()  # as openpyxl writes it
    _rewrite_sheet(path, lambda xml: xml.replace(word, word + "_xD800_"))
    result = read_xlsx(path)
    assert [d.title for d in result.documents] == ["転入届\ufffdについて"]
    assert result.documents[0].title.encode("utf-8")
