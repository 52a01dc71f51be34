"""Input bombs: zip and PDF limits, chunk caps and deep JSON, each refused with a clear error."""

from __future__ import annotations

import json
import zipfile
from pathlib import Path

import docx
import pytest
from hypothesis import given
from hypothesis import strategies as st

from kb.errors import InputError, SchemaError
from kb.ingest.chunking import chunk_document
from kb.ingest.docx_reader import read_docx
from kb.ingest.jsonl import parse_jsonl
from kb.ingest.limits import InputLimits, check_zip, chunk_count, json_too_deep, limit_chunks
from kb.ingest.pdf_reader import read_pdf
from kb.ingest.readers import read_path
from kb.messages import language
from kb.settings import Settings
from kb.text.mecab import MeCabTokenizer
from kb.types import Document, ParseResult

from ._builders import make_pdf, zip_bomb_docx

# These tests match the English messages; tests/ingest/test_messages.py checks Japanese.
pytestmark = pytest.mark.usefixtures("english")

# --- zip containers ---------------------------------------------------------------------------


def _refuse_docx_open(monkeypatch: pytest.MonkeyPatch) -> None:
    """Fail the test if python-docx is asked to open anything."""

    def opened(*args: object, **kwargs: object) -> None:
        raise AssertionError("python-docx opened a file that should have been refused first")

    monkeypatch.setattr(docx, "Document", opened)


def test_a_docx_zip_bomb_is_refused_before_python_docx_opens_it(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # The reproduction: about 30 KB on disk, 30 MB of document.xml (36 s of CPU and +380 MB
    # in python-docx before this check).
    path = zip_bomb_docx(tmp_path / "bomb.docx", 30 * 1024 * 1024)
    assert path.stat().st_size < 100_000
    _refuse_docx_open(monkeypatch)
    with pytest.raises(InputError) as info:
        read_docx(path)
    error = info.value
    assert error.source == str(path)
    assert "word/document.xml" in error.message
    assert "max_zip_ratio" in error.message
    assert "limit of 100 (max_zip_ratio" in error.message


def test_the_bomb_is_reported_as_a_failed_file_and_the_other_files_are_read(
    tmp_path: Path,
) -> None:
    zip_bomb_docx(tmp_path / "bomb.docx", 30 * 1024 * 1024)
    faq = tmp_path / "faq.csv"
    faq.write_text("id,question,answer\nF1,住民票は？,市民課です。\n", encoding="utf-8")
    assert read_path(faq).documents
    with pytest.raises(InputError, match="a zip bomb"):
        read_path(tmp_path / "bomb.docx")


def test_a_small_bomb_that_would_make_thousands_of_chunks_is_refused(tmp_path: Path) -> None:
    # 3,000 paragraphs of 400 characters: a few tens of KB, 3,000 chunks to embed.
    document = docx.Document()
    for _ in range(3000):
        document.add_paragraph("窓口の案内です。" * 50)
    path = tmp_path / "repeat.docx"
    document.save(str(path))
    assert path.stat().st_size < 100_000
    with pytest.raises(InputError, match="max_zip_ratio"):
        read_docx(path)


def test_total_unpacked_size_is_limited(tmp_path: Path) -> None:
    path = tmp_path / "photos.docx"
    with zipfile.ZipFile(path, "w", zipfile.ZIP_STORED) as archive:
        archive.writestr("word/media/image1.png", bytes(range(256)) * 4096)  # 1 MiB, ratio 1
        archive.writestr("word/media/image2.png", bytes(range(256)) * 4096)
    with pytest.raises(InputError) as info:
        check_zip(path, max_unpacked=1_500_000, max_ratio=100)
    assert "unpacks to 2,097,152 bytes" in info.value.message
    assert "limit of 1,500,000 bytes (max_zip_unpacked_bytes" in info.value.message
    check_zip(path, max_unpacked=3_000_000, max_ratio=100)  # under the limit: no error


def test_an_xml_part_parsed_whole_is_limited_but_not_a_streamed_sheet(tmp_path: Path) -> None:
    # 170 MB of document.xml (ratio 43, within the ratio and total limits) took 3.3 GB and
    # 260 s to parse before this limit; a worksheet is read as a stream, bounded by its cells.
    path = tmp_path / "big.xlsx"
    with zipfile.ZipFile(path, "w", zipfile.ZIP_STORED) as archive:
        archive.writestr("xl/worksheets/sheet1.xml", "<c/>" * 500_000)  # 2 MB, streamed
        archive.writestr("xl/media/image1.png", bytes(2_000_000))  # not XML
        archive.writestr("xl/sharedStrings.xml", "<si/>" * 300_000)  # 1.5 MB
    with pytest.raises(InputError) as info:
        check_zip(path, max_unpacked=10**9, max_ratio=100, max_part=1_000_000)
    assert "'xl/sharedStrings.xml' unpacks to 1,500,000 bytes" in info.value.message
    assert "(max_xml_part_bytes)" in info.value.message
    check_zip(path, max_unpacked=10**9, max_ratio=100, max_part=1_600_000)
    check_zip(path, max_unpacked=10**9, max_ratio=100)


def test_a_docx_whose_text_part_is_too_large_is_refused_before_it_is_parsed(
    tmp_path: Path,
) -> None:
    path = zip_bomb_docx(tmp_path / "long.docx", 3_000_000)
    with pytest.raises(InputError, match="max_xml_part_bytes"):
        read_docx(path, limits=InputLimits(max_xml_part_bytes=2_000_000))


def test_member_count_is_limited(tmp_path: Path) -> None:
    path = tmp_path / "many.docx"
    with zipfile.ZipFile(path, "w") as archive:
        for n in range(30):
            archive.writestr(f"part{n}.xml", "<x/>")
    with pytest.raises(InputError, match="holds 30 entries"):
        check_zip(path, max_unpacked=10**9, max_ratio=100, max_members=20)
    check_zip(path, max_unpacked=10**9, max_ratio=100, max_members=30)


def test_small_members_are_not_ratio_checked(tmp_path: Path) -> None:
    # Word's styles.xml compresses 30:1 and more; a small part is never a bomb.
    path = tmp_path / "styles.docx"
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("word/styles.xml", "<w:style/>" * 50_000)  # 500 KB, ratio > 100
    check_zip(path, max_unpacked=10**9, max_ratio=100)


def test_an_unreadable_archive_is_left_to_the_format_reader(tmp_path: Path) -> None:
    path = tmp_path / "broken.docx"
    path.write_bytes(b"PK\x03\x04 not really a zip")
    check_zip(path, max_unpacked=1, max_ratio=1)
    with pytest.raises(InputError, match="not a readable Word"):
        read_docx(path)


def test_an_ordinary_docx_passes_the_zip_check(tmp_path: Path) -> None:
    document = docx.Document()
    document.add_heading("受付", level=1)
    document.add_paragraph("相談者の話を最後まで聞く。")
    path = tmp_path / "ok.docx"
    document.save(str(path))
    (doc,) = read_docx(path).documents
    assert doc.body == "相談者の話を最後まで聞く。"


def test_docx_text_is_capped_while_reading(tmp_path: Path) -> None:
    document = docx.Document()
    for n in range(20):
        document.add_paragraph(f"{n}番目の段落です。" * 10)
    path = tmp_path / "long.docx"
    document.save(str(path))
    with pytest.raises(InputError, match=r"limit of 500 \(max_manual_chars\)"):
        read_docx(path, limits=InputLimits(max_manual_chars=500))


# --- PDF --------------------------------------------------------------------------------------


def test_pdf_page_limit(tmp_path: Path) -> None:
    path = make_pdf(tmp_path / "long.pdf", [[f"Page {n} text."] for n in range(5)])
    with pytest.raises(InputError) as info:
        read_pdf(path, limits=InputLimits(max_pdf_pages=3))
    assert "has 5 pages" in info.value.message
    assert "max_pdf_pages" in info.value.message
    assert read_pdf(path, limits=InputLimits(max_pdf_pages=5)).documents


def _pdf_file(objects: list[bytes]) -> bytes:
    """A PDF of ``objects`` (numbered from 1, the first the catalog) with its xref table."""
    out = b"%PDF-1.4\n"
    offsets = []
    for number, body in enumerate(objects, start=1):
        offsets.append(len(out))
        out += b"%d 0 obj\n" % number + body + b"\nendobj\n"
    xref = len(out)
    out += b"xref\n0 %d\n0000000000 65535 f \n" % (len(objects) + 1)
    out += b"".join(b"%010d 00000 n \n" % offset for offset in offsets)
    out += b"trailer\n<< /Size %d /Root 1 0 R >>\nstartxref\n%d\n%%%%EOF\n" % (
        len(objects) + 1,
        xref,
    )
    return out


def _flate_bomb_pdf(unpacked: int) -> bytes:
    """A one-page PDF whose content stream is a few hundred KB packed, ``unpacked`` bytes open."""
    import zlib

    packer = zlib.compressobj(9)
    parts = [packer.compress(b"BT /F1 12 Tf 72 712 Td (Counter manual) Tj ET\n")]
    block = b" " * 1_000_000
    parts += [packer.compress(block) for _ in range(unpacked // len(block))]
    stream = b"".join(parts) + packer.flush()
    objects = [
        b"<< /Type /Catalog /Pages 2 0 R >>",
        b"<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
        b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 612 792] /Contents 4 0 R "
        b"/Resources << /Font << /F1 5 0 R >> >> >>",
        b"<< /Length %d /Filter /FlateDecode >>\nstream\n" % len(stream) + stream + b"\nendstream",
        b"<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica >>",
    ]
    return _pdf_file(objects)


def test_a_decompression_bomb_page_is_refused_and_named_not_taken_for_a_scan(
    tmp_path: Path,
) -> None:
    path = tmp_path / "bomb.pdf"
    path.write_bytes(_flate_bomb_pdf(200_000_000))
    assert path.stat().st_size < 1_000_000
    with pytest.raises(InputError) as info:
        read_pdf(path)
    assert info.value.source == str(path)
    assert "page 1" in info.value.message
    assert "LimitReachedError" in info.value.message  # pypdf stopped inflating it
    assert "scanned" not in info.value.message
    # The same page, unpacking to a few MB, is read: the refusal is the size, not the layout.
    path.write_bytes(_flate_bomb_pdf(2_000_000))
    assert "Counter manual" in read_pdf(path).documents[0].title


def _shared_stream_pdf(pages: int, operators: int) -> bytes:
    """A PDF of ``pages`` pages that all show one content stream of ``operators`` drawing
    instructions (14 bytes each), then a line of their own."""
    shared = b"0 0 m 1 1 l S\n" * operators
    objects = [
        b"<< /Type /Catalog /Pages 2 0 R >>",
        b"<< /Type /Pages /Kids [%s] /Count %d >>"
        % (b" ".join(b"%d 0 R" % (5 + 2 * n) for n in range(pages)), pages),
        b"<< /Length %d >>\nstream\n" % len(shared) + shared + b"\nendstream",
        b"<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica >>",
    ]
    for n in range(pages):
        own = b"BT /F1 12 Tf 72 712 Td (Counter manual step %d of the desk.) Tj ET\n" % n
        objects.append(
            b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 612 792] /Contents [3 0 R %d 0 R] "
            b"/Resources << /Font << /F1 4 0 R >> >> >>" % (6 + 2 * n)
        )
        objects.append(b"<< /Length %d >>\nstream\n" % len(own) + own + b"\nendstream")
    return _pdf_file(objects)


def test_drawing_instructions_shown_on_every_page_are_counted_before_any_text_is_read(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # An outside tester: one 1 MB stream shown on 2,000 pages of a 1 MB file kept ingest
    # parsing for an hour (pypdf reads a stream again for every page that shows it).
    import pypdf

    path = tmp_path / "shared.pdf"
    path.write_bytes(_shared_stream_pdf(20, 1_000))
    stream = 14 * 1_000 + 80  # the shared stream and one page's own (66 bytes), at most
    extracted: list[int] = []
    original = pypdf.PageObject.extract_text

    def extract(self: pypdf.PageObject, *args: object, **kwargs: object) -> str:
        extracted.append(1)
        return original(self, *args, **kwargs)  # type: ignore[arg-type]

    monkeypatch.setattr(pypdf.PageObject, "extract_text", extract)
    with pytest.raises(InputError) as info:
        read_pdf(path, limits=InputLimits(max_pdf_content_bytes=10 * stream))
    assert info.value.source == str(path)
    assert "by page 11" in info.value.message
    assert "max_pdf_content_bytes" in info.value.message
    assert extracted == []
    # Within the limit every page is read.
    assert read_pdf(path, limits=InputLimits(max_pdf_content_bytes=20 * stream)).documents
    assert len(extracted) == 20


def test_pdf_object_limit_is_checked_before_pages_are_read(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import pypdf

    path = make_pdf(tmp_path / "objects.pdf", [["Counter manual", "Read this first."]])
    flattened: list[bool] = []
    original = pypdf.PdfReader._flatten

    def flatten(self: pypdf.PdfReader, *args: object, **kwargs: object) -> None:
        flattened.append(True)
        original(self, *args, **kwargs)  # type: ignore[arg-type]

    monkeypatch.setattr(pypdf.PdfReader, "_flatten", flatten)
    with pytest.raises(InputError, match=r"max_pdf_objects"):
        read_pdf(path, limits=InputLimits(max_pdf_objects=3))
    assert not flattened


def test_pdf_text_is_capped_during_extraction(tmp_path: Path) -> None:
    pages = [[f"Line {n} of page {p}, with some words in it." for n in range(10)] for p in range(4)]
    path = make_pdf(tmp_path / "text.pdf", pages)
    with pytest.raises(InputError) as info:
        read_pdf(path, limits=InputLimits(max_manual_chars=600))
    assert "by page 2," in info.value.message
    assert "max_manual_chars" in info.value.message


def test_a_one_line_pdf_becomes_one_document(tmp_path: Path) -> None:
    path = make_pdf(tmp_path / "memo.pdf", [["住民票の写しは市民課で発行します"]])
    (doc,) = read_pdf(path).documents
    assert doc.title == doc.doc_title == "住民票の写しは市民課で発行します"
    assert doc.body == "住民票の写しは市民課で発行します"


def test_a_one_line_pdf_whose_line_is_its_metadata_title(tmp_path: Path) -> None:
    path = make_pdf(tmp_path / "memo.pdf", [["Office hours"]], title="Office hours")
    (doc,) = read_pdf(path).documents
    assert doc.body == "Office hours"


def test_a_pdf_of_headings_only_is_an_error_not_nothing(tmp_path: Path) -> None:
    path = make_pdf(tmp_path / "toc.pdf", [["1. Reception", "2. Handover"]])
    with pytest.raises(InputError, match="no body text"):
        read_pdf(path)


# --- chunks -----------------------------------------------------------------------------------


def _manual(tmp_path: Path, sections: int) -> Path:
    document = docx.Document()
    for n in range(sections):
        document.add_heading(f"第{n + 1}節", level=1)
        document.add_paragraph("相談者の話を最後まで聞く。")
    path = tmp_path / "sections.docx"
    document.save(str(path))
    return path


def test_a_manual_over_the_chunk_limit_is_refused(tmp_path: Path) -> None:
    path = _manual(tmp_path, 10)
    with pytest.raises(InputError) as info:
        read_path(path, limits=InputLimits(max_chunks_per_file=5))
    assert info.value.source == str(path)
    assert "makes 10 search chunks" in info.value.message
    assert "limit of 5 (max_chunks_per_file)" in info.value.message
    assert len(read_path(path, limits=InputLimits(max_chunks_per_file=10)).documents) == 10


def test_a_record_over_the_chunk_limit_is_a_row_error_and_the_others_stay(
    tmp_path: Path,
) -> None:
    long_answer = "市民課で手続きができます。" * 1000  # 13,000 characters: 36 chunks
    path = tmp_path / "faq.csv"
    path.write_text(
        f"id,question,answer\nF1,住民票は？,市民課です。\nF2,長い,{long_answer}\nF3,印鑑は？,市民課。\n",
        encoding="utf-8",
    )
    result = read_path(path)
    assert [d.doc_id for d in result.documents] == ["faq:F1", "faq:F3"]
    (error,) = result.errors
    assert (error.source, error.line, error.field) == (str(path), 3, "answer")
    assert "makes 36 search chunks" in error.message
    assert "max_chunks_per_record" in error.message


def test_a_long_department_duties_row_is_a_row_error(tmp_path: Path) -> None:
    path = tmp_path / "departments.csv"
    path.write_text(
        f"name,duties\n市民課,住民票\n長い課,{'業務の説明です。' * 2000}\n", encoding="utf-8"
    )
    result = read_path(path)
    assert [d.name for d in result.departments] == ["市民課"]
    assert [(e.line, e.field) for e in result.errors] == [(3, "duties")]


def _doc(body: str) -> Document:
    return Document(doc_id="faq:X", kind="faq", title="t", body=body, source="f.csv:7")


@pytest.mark.parametrize(
    "body",
    [
        "",
        "短い。",
        "あ" * 401,
        "文です。" * 300,
        "一行目\n二行目\n" * 200,
        "\ufdfa" * 40,  # NFKC writes this one character as 18
        "ｱｲｳ　ＡＢＣ！？" * 100,
    ],
)
def test_chunk_count_agrees_with_chunking(body: str, tokenizer: MeCabTokenizer) -> None:
    doc = _doc(body)
    assert chunk_count(doc) == len(chunk_document(doc, tokenizer))


def test_text_that_grows_when_normalised_is_still_counted() -> None:
    # 600 characters on the page, 10,800 after NFKC: 27 chunks, over the limit of 25.
    doc = _doc("\ufdfa" * 600)
    result = limit_chunks(
        ParseResult(source="f.csv", documents=(doc,)), InputLimits(), manual=False
    )
    assert result.documents == ()
    assert [(e.line, e.field) for e in result.errors] == [(7, "answer")]


def test_limits_come_from_the_settings(tmp_path: Path) -> None:
    settings = Settings(
        data_dir=tmp_path, max_zip_ratio=20, max_pdf_pages=7, max_chunks_per_record=3
    )
    limits = InputLimits.from_settings(settings)
    assert (limits.max_zip_ratio, limits.max_pdf_pages, limits.max_chunks_per_record) == (
        20,
        7,
        3,
    )
    assert InputLimits.from_settings(Settings(data_dir=tmp_path)) == InputLimits()


# --- JSON -------------------------------------------------------------------------------------


def test_a_line_nested_100000_deep_is_a_row_error_and_the_good_lines_stay() -> None:
    good = {"id": "C1", "date": "2024-04-01", "summary": "s", "resolution": "r"}
    later = {"id": "C2", "date": "2024-04-02", "summary": "s", "resolution": "r"}
    deep = "[" * 100_000 + "]" * 100_000
    text = "\n".join([json.dumps(good), '{"id": "C9", "summary": ' + deep + "}", json.dumps(later)])
    result = parse_jsonl(text, source="cases.jsonl")
    assert [d.doc_id for d in result.documents] == ["case:C1", "case:C2"]
    (error,) = result.errors
    assert (error.line, error.field) == (2, "")
    assert "deeper than 64 levels" in error.message


def test_a_deep_first_line_does_not_stop_kind_detection() -> None:
    deep = '{"a": ' * 5000 + "1" + "}" * 5000
    good = {"id": "F1", "question": "q", "answer": "a"}
    result = parse_jsonl(deep + "\n" + json.dumps(good), source="faq.jsonl")
    assert [d.doc_id for d in result.documents] == ["faq:F1"]
    assert [e.line for e in result.errors] == [1]


@pytest.mark.parametrize(
    ("text", "too_deep"),
    [
        ("[" * 64 + "]" * 64, False),
        ("[" * 65 + "]" * 65, True),
        ('{"a": "' + "[" * 500 + '"}', False),  # brackets inside a string do not nest
        ('{"a": "\\"' + "[" * 500 + '"}', False),  # nor after an escaped quote
        ('{"a": "x\\\\", "b": ' + "[" * 70 + "]" * 70 + "}", True),
        ("[]" * 500, False),  # many brackets, never deep
        ("{" * 100, True),  # unbalanced: still refused before json sees it
    ],
)
def test_json_too_deep(text: str, too_deep: bool) -> None:
    assert json_too_deep(text, 64) is too_deep


@pytest.mark.parametrize(
    ("name", "text"),
    [
        ("title.md", "# 住民票\n"),
        ("line.txt", "住民票の写しは市民課で発行します\n"),
        ("toc.txt", "1. 受付\n"),
    ],
)
def test_a_text_manual_without_body_text_is_an_error_not_nothing(
    tmp_path: Path, name: str, text: str
) -> None:
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    with pytest.raises(InputError, match="no body text found") as info:
        read_path(path)
    assert info.value.source == str(path)


def test_a_text_file_too_large_to_be_under_the_limit_is_refused_unread(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import kb.ingest.markdown

    path = tmp_path / "huge.md"
    path.write_text("# 手引き\n" + "本文です。\n" * 500, encoding="utf-8")

    def unread(*args: object) -> None:
        raise AssertionError("the file was read")

    monkeypatch.setattr(kb.ingest.markdown, "read_markdown", unread)
    with pytest.raises(InputError, match=r"limit of 100 characters \(max_manual_chars\)"):
        read_path(path, limits=InputLimits(max_manual_chars=100))


def test_a_text_manual_over_the_character_limit_is_refused_after_reading(tmp_path: Path) -> None:
    path = tmp_path / "long.md"
    path.write_text("# 手引き\n" + "本文です。" * 240 + "\n", encoding="utf-8")  # 1,200 characters
    assert path.stat().st_size < 4 * 1000
    with pytest.raises(InputError, match=r"reached 1,200 characters, more than the limit of 1,000"):
        read_path(path, limits=InputLimits(max_manual_chars=1000))
    assert read_path(path, limits=InputLimits(max_manual_chars=1200)).documents


def _depth(value: object) -> int:
    if isinstance(value, list):
        return 1 + max((_depth(v) for v in value), default=0)
    if isinstance(value, dict):
        return 1 + max((_depth(v) for v in value.values()), default=0)
    return 0


_tricky = st.text(alphabet='[]{}"\\\\ あa', max_size=8)
_json = st.recursive(
    st.none() | st.integers() | _tricky,
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(_tricky, inner, max_size=3),
    max_leaves=30,
)


@given(value=_json, limit=st.integers(min_value=0, max_value=8), ascii_only=st.booleans())
def test_json_too_deep_agrees_with_the_real_depth(
    value: object, limit: int, ascii_only: bool
) -> None:
    text = json.dumps(value, ensure_ascii=ascii_only)
    assert json_too_deep(text, limit) is (_depth(value) > limit)


def test_a_zip64_member_count_is_read_before_zipfile_opens_the_archive(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    path = tmp_path / "zip64.docx"
    monkeypatch.setattr(zipfile, "ZIP_FILECOUNT_LIMIT", 5)  # write the ZIP64 end records
    with zipfile.ZipFile(path, "w") as archive:
        for n in range(12):
            archive.writestr(f"part{n}.xml", "<x/>")
    data = bytearray(path.read_bytes())
    at = data.rfind(b"PK\x05\x06")
    data[at + 8 : at + 12] = b"\xff\xff\xff\xff"  # as ZIP64 writers leave the classic counts
    path.write_bytes(bytes(data))
    monkeypatch.undo()
    assert len(zipfile.ZipFile(path).infolist()) == 12  # still a valid archive

    def unopened(*args: object, **kwargs: object) -> None:
        raise AssertionError("zipfile read the directory before the count was checked")

    monkeypatch.setattr("kb.ingest.limits.zipfile.ZipFile", unopened)
    with pytest.raises(InputError, match="holds 12 entries"):
        check_zip(path, max_unpacked=10**9, max_ratio=100, max_members=10)


def test_a_header_of_too_many_columns_is_refused_before_mapping(tmp_path: Path) -> None:
    """Each unknown column was matched against every field name for the report (100,000
    columns: 49 s and a 4.6 MB message); past 1,000 named columns the file is refused."""
    path = tmp_path / "wide.csv"
    extra = ",".join(f"c{i}" for i in range(1_200))
    path.write_text(f"ID,質問,回答,担当課,{extra}\nX3,q,a,市民課\n", encoding="utf-8")
    with language("ja"), pytest.raises(SchemaError) as info:
        read_path(path)
    assert info.value.source == str(path)
    assert "1,204 列" in info.value.message
    assert "何も保存されません" in info.value.message
    # A wide file within the limit is read as before: its unknown columns are reported.
    path.write_text("ID,質問,回答,担当課,備考1\nX3,q,a,市民課,x\n", encoding="utf-8")
    with pytest.raises(SchemaError, match="備考1"):
        read_path(path)
