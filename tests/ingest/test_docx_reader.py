from __future__ import annotations

import zipfile
from pathlib import Path

import docx
import pytest
from docx.enum.style import WD_STYLE_TYPE

from kb.errors import InputError
from kb.ingest.docx_reader import read_docx

# These tests match the English messages; tests/ingest/test_messages.py checks Japanese.
pytestmark = pytest.mark.usefixtures("english")


def make_manual(path: Path, *, core_title: str = "", with_title: bool = True) -> Path:
    document = docx.Document()
    document.core_properties.title = core_title
    if with_title:
        document.add_paragraph("総合相談窓口対応マニュアル", style="Title")
    document.add_paragraph("本書は窓口職員のための手引きです。")
    document.add_heading("1. 受付", level=1)
    document.add_heading("1.1 傾聴", level=2)
    document.add_paragraph("相談者の話を最後まで聞く。")
    table = document.add_table(rows=2, cols=3)
    for row, values in zip(
        table.rows, [("書類", "窓口", "備考"), ("住民票", "市民課", "")], strict=True
    ):
        for cell, value in zip(row.cells, values, strict=True):
            cell.text = value
    document.add_heading("2. 引継ぎ", level=1)
    # A Japanese-named custom heading style, as some templates define.
    style = document.styles.add_style("見出し 2", WD_STYLE_TYPE.PARAGRAPH)
    document.add_paragraph("2.1 連絡", style=style)
    document.add_paragraph("担当課に電話で連絡する。")
    document.add_heading("3. 空の節", level=1)
    document.save(str(path))
    return path


def test_docx_sections_heading_paths_and_tables(tmp_path: Path) -> None:
    path = make_manual(tmp_path / "desk.docx")
    result = read_docx(path)
    docs = result.documents
    assert [d.doc_id for d in docs] == ["manual:desk#1", "manual:desk#2", "manual:desk#3"]
    assert [(d.title, d.heading_path) for d in docs] == [
        ("総合相談窓口対応マニュアル", ()),
        ("1.1 傾聴", ("1. 受付", "1.1 傾聴")),
        ("2.1 連絡", ("2. 引継ぎ", "2.1 連絡")),
    ]
    assert docs[0].body == "本書は窓口職員のための手引きです。"
    # Table rows follow the section's text, one line per row; empty cells stay as columns.
    assert docs[1].body == "相談者の話を最後まで聞く。\n書類 | 窓口 | 備考\n住民票 | 市民課 |"
    assert docs[2].body == "担当課に電話で連絡する。"
    assert {d.doc_title for d in docs} == {"総合相談窓口対応マニュアル"}
    assert all(d.kind == "manual" and d.source == str(path) for d in docs)


def test_core_title_wins_and_title_paragraph_is_not_a_section(tmp_path: Path) -> None:
    docs = read_docx(make_manual(tmp_path / "m.docx", core_title="窓口の手引き")).documents
    assert {d.doc_title for d in docs} == {"窓口の手引き"}
    assert "総合相談窓口対応マニュアル" not in " ".join(d.body for d in docs)


def test_without_any_title_the_stem_is_used(tmp_path: Path) -> None:
    docs = read_docx(make_manual(tmp_path / "desk_v2.docx", with_title=False)).documents
    assert {d.doc_title for d in docs} == {"desk_v2"}
    assert docs[0].title == "desk_v2"


def test_merged_cells_are_read_once(tmp_path: Path) -> None:
    document = docx.Document()
    document.add_heading("表", level=1)
    document.add_heading("料金", level=2)
    table = document.add_table(rows=1, cols=3)
    merged = table.cell(0, 0).merge(table.cell(0, 1))
    merged.text = "住民票"
    table.cell(0, 2).text = "300円"
    path = tmp_path / "t.docx"
    document.save(str(path))
    (doc,) = read_docx(path).documents
    assert doc.body == "住民票 | 300円"


def test_corrupt_docx(tmp_path: Path) -> None:
    path = tmp_path / "broken.docx"
    path.write_bytes(b"this is not a zip archive at all")
    with pytest.raises(InputError) as info:
        read_docx(path)
    assert info.value.source == str(path)
    assert "not a readable Word .docx file" in info.value.message


def test_zip_that_is_not_a_word_document(tmp_path: Path) -> None:
    path = tmp_path / "fake.docx"
    with zipfile.ZipFile(path, "w") as archive:
        archive.writestr("hello.txt", "hi")
    with pytest.raises(InputError, match="not a readable Word"):
        read_docx(path)


def test_truncated_docx(tmp_path: Path) -> None:
    good = make_manual(tmp_path / "good.docx").read_bytes()
    path = tmp_path / "truncated.docx"
    path.write_bytes(good[: len(good) // 2])
    with pytest.raises(InputError, match=r"truncated\.docx"):
        read_docx(path)


def test_docx_without_text(tmp_path: Path) -> None:
    path = tmp_path / "blank.docx"
    document = docx.Document()
    document.add_heading("見出しだけ", level=1)
    document.save(str(path))
    with pytest.raises(InputError, match="contains no text"):
        read_docx(path)
