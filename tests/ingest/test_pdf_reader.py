from __future__ import annotations

from pathlib import Path

import pytest

from kb.errors import InputError
from kb.ingest.pdf_reader import read_pdf, unwrap_lines

from ._builders import make_pdf, raw_unicode_pdf

# These tests match the English messages; tests/ingest/test_messages.py checks Japanese.
pytestmark = pytest.mark.usefixtures("english")


def test_ascii_pdf_sections(tmp_path: Path) -> None:
    path = make_pdf(
        tmp_path / "desk.pdf",
        [
            ["Counter manual", "Read this first.", "1. Reception", "1.1 Listening", "Listen well."],
            ["1.2 Notes", "Write it down.", "2. Handover", "Call the department."],
        ],
    )
    result = read_pdf(path)
    assert result.errors == ()
    docs = result.documents
    assert [d.doc_id for d in docs] == [f"manual:desk#{n}" for n in range(1, 5)]
    assert [(d.title, d.heading_path, d.body) for d in docs] == [
        ("Counter manual", (), "Read this first."),
        ("1.1 Listening", ("1. Reception", "1.1 Listening"), "Listen well."),
        ("1.2 Notes", ("1. Reception", "1.2 Notes"), "Write it down."),
        ("2. Handover", ("2. Handover",), "Call the department."),
    ]
    assert {d.doc_title for d in docs} == {"Counter manual"}
    assert all(d.kind == "manual" and d.source == str(path) for d in docs)


JAPANESE_PAGES = [
    ["総合相談窓口対応マニュアル", "第1章 受付", "■ 声かけ", "来庁者に声をかける。", "- 1 -"],
    ["【傾聴】", "話を最後まで聞く。", "第2章 引継ぎ", "担当課へ①の様式で連絡する。", "- 2 -"],
]
EXPECTED = [
    ("■ 声かけ", ("第1章 受付", "■ 声かけ"), "来庁者に声をかける。"),
    ("【傾聴】", ("第1章 受付", "■ 声かけ", "【傾聴】"), "話を最後まで聞く。"),
    ("第2章 引継ぎ", ("第2章 引継ぎ",), "担当課へ①の様式で連絡する。"),
]


@pytest.mark.parametrize("raw", [False, True], ids=["fpdf2-or-raw", "raw"])
def test_japanese_pdf_sections(tmp_path: Path, raw: bool) -> None:
    # fpdf2 with a Japanese font where installed, otherwise a hand-built PDF: never skipped.
    path = make_pdf(tmp_path / "窓口.pdf", JAPANESE_PAGES, raw=raw)
    docs = read_pdf(path).documents
    assert [(d.title, d.heading_path, d.body) for d in docs] == EXPECTED
    assert {d.doc_title for d in docs} == {"総合相談窓口対応マニュアル"}
    assert docs[0].doc_id == "manual:窓口#1"


def test_a_lone_surrogate_from_a_fonts_map_is_read_as_a_replacement_character(
    tmp_path: Path,
) -> None:
    """pypdf decodes a ToUnicode map that gives U+D800 as it is: the hash, the store and the
    report stopped with a traceback (nothing can write it as UTF-8)."""
    data = raw_unicode_pdf([["■ 受付", "来庁者に声をかけるX。"]])
    assert data.count(b"<0058>") == 1  # X in the font's map: made a lone surrogate below
    path = tmp_path / "surrogate.pdf"
    path.write_bytes(data.replace(b"<0058>", b"<D800>"))
    (doc,) = read_pdf(path).documents
    assert doc.body == "来庁者に声をかける\ufffd。"
    assert doc.body.encode("utf-8")


def test_metadata_title_names_the_manual(tmp_path: Path) -> None:
    path = tmp_path / "raw.pdf"
    path.write_bytes(raw_unicode_pdf(JAPANESE_PAGES, title="窓口の手引き"))
    docs = read_pdf(path).documents
    # The metadata title names the manual; the first line is then ordinary preamble text.
    assert {d.doc_title for d in docs} == {"窓口の手引き"}
    assert docs[0].title == "窓口の手引き"
    assert docs[0].body == "総合相談窓口対応マニュアル"
    assert [(d.title, d.heading_path, d.body) for d in docs[1:]] == EXPECTED


def test_running_headers_and_page_numbers_are_dropped(tmp_path: Path) -> None:
    pages = [
        ["Desk manual", f"{n}. Topic {n}", f"Body of topic {n}.", f"Page {n} / 4"]
        for n in range(1, 5)
    ]
    docs = read_pdf(make_pdf(tmp_path / "m.pdf", pages)).documents
    assert [d.title for d in docs] == ["1. Topic 1", "2. Topic 2", "3. Topic 3", "4. Topic 4"]
    assert [d.body for d in docs] == [f"Body of topic {n}." for n in range(1, 5)]


def test_pdf_without_text(tmp_path: Path) -> None:
    from fpdf import FPDF

    pdf = FPDF()
    pdf.add_page()
    pdf.rect(20, 20, 100, 60, style="F")  # a drawing, as a scanned page has an image
    path = tmp_path / "scan.pdf"
    pdf.output(str(path))
    with pytest.raises(InputError) as info:
        read_pdf(path)
    assert info.value.source == str(path)
    assert "no extractable text" in info.value.message


@pytest.mark.parametrize(
    "data",
    [b"not a pdf at all", b"%PDF-1.4\n1 0 obj\n<< /Type /Catalog", b""],
)
def test_corrupt_pdf(tmp_path: Path, data: bytes) -> None:
    path = tmp_path / "broken.pdf"
    path.write_bytes(data)
    with pytest.raises(InputError) as info:
        read_pdf(path)
    assert info.value.source == str(path)
    assert "PDF" in info.value.message


def test_truncated_pdf(tmp_path: Path) -> None:
    good = make_pdf(tmp_path / "good.pdf", [["Title", "1. A", "text"]]).read_bytes()
    path = tmp_path / "cut.pdf"
    path.write_bytes(good[: len(good) // 3])
    with pytest.raises(InputError, match=r"cut\.pdf"):
        read_pdf(path)


def test_missing_pdf(tmp_path: Path) -> None:
    with pytest.raises(InputError, match="no such file"):
        read_pdf(tmp_path / "nope.pdf")


WRAPPED = [
    "この手引きは、消費者トラブルや借金の相談を受けたときに、消費生活センターと市民相談センター",
    "の相談員、総合相談窓口の職員が共通して使うものです。相談員は事業者との間に入ってあっせんを",
    "行うことがあります。",
    "1. 定期購入",
    "「初回500円」「お試し価格」という広告を見て健康食品や化粧品を注文したところ、実際には数か月",
    "分の購入が条件の定期購入契約だったという相談が多く寄せられています。",
    "・ 注文したサイトの名称、商品名、注文日、支払方法（クレジットカード、後払い、代金引換など）",
    "・ 注文時の画面の表示",
]


def test_unwrap_joins_lines_wrapped_at_the_margin() -> None:
    assert unwrap_lines(WRAPPED) == [
        "この手引きは、消費者トラブルや借金の相談を受けたときに、消費生活センターと市民相談センター"
        "の相談員、総合相談窓口の職員が共通して使うものです。相談員は事業者との間に入ってあっせんを"
        "行うことがあります。",
        "1. 定期購入",  # a heading is never joined to the line above
        "「初回500円」「お試し価格」という広告を見て健康食品や化粧品を注文したところ、実際には数か月"
        "分の購入が条件の定期購入契約だったという相談が多く寄せられています。",
        # a bullet starts a new line even after a full-width line
        WRAPPED[6],
        "・ 注文時の画面の表示",
    ]


def test_unwrap_joins_latin_text_with_a_space() -> None:
    lines = ["x" * 60 + " end of", "next line", "y" * 70, "z" * 68, "short"]
    assert unwrap_lines(lines) == [
        "x" * 60 + " end of next line",
        "y" * 70 + " " + "z" * 68 + " short",
    ]


def test_unwrap_leaves_short_lines_and_tables_alone() -> None:
    table = [
        "機関 内容 連絡先",
        "消費生活センター 悪質商法 099-555-1115",
        "納税課 分納 099-555-1104",
    ]
    assert unwrap_lines(table) == table


@pytest.mark.parametrize("raw", [False, True], ids=["fpdf2-or-raw", "raw"])
def test_wrapped_pdf_paragraph_becomes_one_line(tmp_path: Path, raw: bool) -> None:
    path = make_pdf(tmp_path / "wrapped.pdf", [["消費者相談の手引き", *WRAPPED]], raw=raw)
    docs = read_pdf(path).documents
    assert [d.heading_path for d in docs] == [(), ("1. 定期購入",)]
    assert docs[0].body.count("\n") == 0
    assert docs[0].body.endswith("入ってあっせんを行うことがあります。")
    assert (
        docs[1]
        .body.split("\n")[0]
        .endswith("数か月分の購入が条件の定期購入契約だったという相談が多く寄せられています。")
    )
