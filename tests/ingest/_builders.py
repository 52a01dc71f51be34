"""Builders of DOCX and PDF test files (generated per test; no binary fixtures in the repo),
and a folder that cannot be listed."""

from __future__ import annotations

import os
import shutil
import subprocess
from pathlib import Path

import pytest

_FONT_CANDIDATES = (
    "/usr/share/fonts/opentype/ipaexfont-gothic/ipaexg.ttf",
    "/usr/share/fonts/truetype/fonts-japanese-gothic.ttf",
    "/usr/share/fonts/opentype/ipafont-gothic/ipag.ttf",
    "/usr/share/fonts/truetype/takao-gothic/TakaoGothic.ttf",
)


def japanese_font() -> Path | None:
    """A TrueType font with Japanese glyphs, if this machine has one."""
    for candidate in _FONT_CANDIDATES:
        if Path(candidate).is_file():
            return Path(candidate)
    if shutil.which("fc-list"):
        out = subprocess.run(
            ["fc-list", ":lang=ja", "file"], capture_output=True, text=True, check=False
        ).stdout
        for line in out.splitlines():
            path = line.split(":")[0].strip()
            if path.endswith(".ttf"):
                return Path(path)
    return None


def make_pdf(path: Path, pages: list[list[str]], *, title: str = "", raw: bool = False) -> Path:
    """Write a PDF with one text line per entry, page by page.

    ASCII text is written with fpdf2's core font. Japanese text uses fpdf2 with a Japanese
    TrueType font when the machine has one, and otherwise a hand-built PDF whose font is not
    embedded but carries a ToUnicode map, which is all text extraction needs. Either way the
    test runs: it never depends on the font being installed. ``raw=True`` forces the hand-built
    PDF.
    """
    ascii_only = all(line.isascii() for page in pages for line in page)
    font = None if ascii_only or raw else japanese_font()
    if raw or (not ascii_only and font is None):
        path.write_bytes(raw_unicode_pdf(pages, title=title))
        return path
    from fpdf import FPDF

    pdf = FPDF()
    if title:
        pdf.set_title(title)
    if font is None:
        pdf.set_font("Helvetica", size=12)
    else:
        pdf.add_font("jp", fname=str(font))
        pdf.set_font("jp", size=12)
    for lines in pages:
        pdf.add_page()
        for line in lines:
            pdf.cell(0, 8, line, new_x="LMARGIN", new_y="NEXT")
    pdf.output(str(path))
    return path


def raw_unicode_pdf(pages: list[list[str]], *, title: str = "") -> bytes:
    """A minimal PDF whose text is any Unicode, via a Type0 font with a ToUnicode CMap."""
    chars = sorted({ch for page in pages for line in page for ch in line})
    cid = {ch: index + 1 for index, ch in enumerate(chars)}
    objects: list[bytes] = []

    def add(body: bytes) -> int:
        objects.append(body)
        return len(objects)

    def stream(data: bytes, extra: bytes = b"") -> bytes:
        return b"<< /Length %d %s>>\nstream\n%s\nendstream" % (len(data), extra, data)

    catalog = add(b"")  # filled in below
    pages_id = add(b"")
    cmap_lines = [
        b"/CIDInit /ProcSet findresource begin 12 dict begin begincmap",
        b"/CIDSystemInfo << /Registry (Adobe) /Ordering (UCS) /Supplement 0 >> def",
        b"/CMapName /KB-UCS def /CMapType 2 def",
        b"1 begincodespacerange <0000> <FFFF> endcodespacerange",
    ]
    items = list(cid.items())
    for start in range(0, len(items), 100):
        block = items[start : start + 100]
        cmap_lines.append(b"%d beginbfchar" % len(block))
        for ch, code in block:
            utf16 = ch.encode("utf-16-be").hex().upper().encode()
            cmap_lines.append(b"<%04X> <%s>" % (code, utf16))
        cmap_lines.append(b"endbfchar")
    cmap_lines.append(b"endcmap CMapName currentdict /CMap defineresource pop end end")
    to_unicode = add(stream(b"\n".join(cmap_lines)))
    descriptor = add(
        b"<< /Type /FontDescriptor /FontName /KBGothic /Flags 4 /FontBBox [0 -120 1000 880]"
        b" /ItalicAngle 0 /Ascent 880 /Descent -120 /CapHeight 700 /StemV 80 >>"
    )
    descendant = add(
        b"<< /Type /Font /Subtype /CIDFontType2 /BaseFont /KBGothic /CIDSystemInfo"
        b" << /Registry (Adobe) /Ordering (Identity) /Supplement 0 >>"
        b" /FontDescriptor %d 0 R /DW 1000 >>" % descriptor
    )
    font = add(
        b"<< /Type /Font /Subtype /Type0 /BaseFont /KBGothic /Encoding /Identity-H"
        b" /DescendantFonts [%d 0 R] /ToUnicode %d 0 R >>" % (descendant, to_unicode)
    )
    page_ids = []
    for lines in pages:
        ops = [b"BT /F1 12 Tf 16 TL 50 800 Td"]
        for line in lines:
            ops.append(b"<%s> Tj T*" % "".join(f"{cid[ch]:04X}" for ch in line).encode())
        ops.append(b"ET")
        content = add(stream(b"\n".join(ops)))
        page_ids.append(
            add(
                b"<< /Type /Page /Parent %d 0 R /MediaBox [0 0 595 842]"
                b" /Resources << /Font << /F1 %d 0 R >> >> /Contents %d 0 R >>"
                % (pages_id, font, content)
            )
        )
    kids = b" ".join(b"%d 0 R" % p for p in page_ids)
    objects[pages_id - 1] = b"<< /Type /Pages /Kids [%s] /Count %d >>" % (kids, len(page_ids))
    objects[catalog - 1] = b"<< /Type /Catalog /Pages %d 0 R >>" % pages_id
    info = (
        add(b"<< /Title <%s> >>" % ("\ufeff" + title).encode("utf-16-be").hex().encode())
        if title
        else 0
    )
    out = bytearray(b"%PDF-1.7\n%\xe2\xe3\xcf\xd3\n")
    offsets = []
    for number, body in enumerate(objects, start=1):
        offsets.append(len(out))
        out += b"%d 0 obj\n%s\nendobj\n" % (number, body)
    xref = len(out)
    out += b"xref\n0 %d\n0000000000 65535 f \n" % (len(objects) + 1)
    for offset in offsets:
        out += b"%010d 00000 n \n" % offset
    trailer = b"/Size %d /Root %d 0 R" % (len(objects) + 1, catalog)
    if info:
        trailer += b" /Info %d 0 R" % info
    out += b"trailer\n<< %s >>\nstartxref\n%d\n%%%%EOF\n" % (trailer, xref)
    return bytes(out)


def zip_bomb_docx(path: Path, unpacked: int) -> Path:
    """A valid DOCX whose ``word/document.xml`` inflates to about ``unpacked`` bytes.

    The paragraphs repeat, so deflate packs them about 1,000:1 (its maximum): a 30 MB
    document.xml takes about 30 KB on disk, the size of the zip bomb the issue reproduced.
    """
    import io
    import zipfile

    import docx

    blank = io.BytesIO()
    docx.Document().save(blank)
    paragraph = f"<w:p><w:r><w:t>{'あ' * 20_000}</w:t></w:r></w:p>".encode()
    block = paragraph * 16
    with (
        zipfile.ZipFile(blank) as template,
        zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED, compresslevel=9) as out,
    ):
        for info in template.infolist():
            data = template.read(info.filename)
            if info.filename != "word/document.xml":
                out.writestr(info.filename, data)
                continue
            head, opening, _ = data.partition(b"<w:body>")
            member = zipfile.ZipInfo("word/document.xml")
            member.compress_type = zipfile.ZIP_DEFLATED
            with out.open(member, "w", force_zip64=True) as stream:
                stream.write(head + opening)
                written = 0
                while written < unpacked:
                    stream.write(block)
                    written += len(block)
                stream.write(b"</w:body></w:document>")
    return path


def deny_listing(monkeypatch: pytest.MonkeyPatch, name: str) -> None:
    """Make every folder called ``name`` unlistable (``os.scandir`` raises EACCES), as a
    folder without read permission is even to root-run tests."""
    listing = os.scandir

    def denied(path: object = ".") -> object:
        if Path(str(path)).name == name:
            raise PermissionError(13, "Permission denied", str(path))
        return listing(path)  # type: ignore[arg-type]

    monkeypatch.setattr(os, "scandir", denied)
