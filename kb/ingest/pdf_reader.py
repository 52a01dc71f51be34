"""Reader for PDF manuals: the only module that imports ``pypdf``.

Text is extracted page by page. Page numbers (``- 3 -``, ``3 / 12``) and running headers or
footers (a short line repeated on most pages) are dropped; lines that look like headings
(:func:`kb.ingest.manual.heading_style`: ``1.``, ``1.2``, ``第1章``, ``■``, ``【…】``) start
sections. The title is the PDF's ``/Title`` metadata, else the first line of the first page,
else the file name. A PDF without a text layer (a scan) is refused with a clear error: it
would otherwise be ingested as nothing; so is one whose text is only headings, page numbers or
running heads. A PDF whose only text is one line keeps it as its title and its text.

Before any text is extracted, the object count (``max_pdf_objects``) and page count
(``max_pdf_pages``) are checked, then the size of all pages' drawing instructions
(``max_pdf_content_bytes``); during extraction, the text size (``max_manual_chars``).
"""

from __future__ import annotations

import math
import re
import unicodedata
from collections import Counter
from pathlib import Path
from typing import TYPE_CHECKING

from kb.errors import InputError
from kb.ingest.limits import DEFAULT_LIMITS, InputLimits, text_too_long
from kb.ingest.manual import build_manual, heading_style, split_lines
from kb.ingest.schema import split_multi
from kb.messages import msg
from kb.text.normalize import without_surrogates
from kb.types import ParseResult, RowError

if TYPE_CHECKING:
    from pypdf import PageObject, PdfReader

_PAGE_NUMBER_RE = re.compile(
    r"[-‐−–—ー―(（\s]*(?:p\.?\s*|page\s*)?\d{1,4}(?:\s*/\s*\d{1,4}|\s*ページ)?[-‐−–—ー―)）\s]*",
    re.IGNORECASE,
)
_WORD_TITLE_RE = re.compile(r"^Microsoft (?:Word|PowerPoint|Excel) - |\.(?:docx?|xlsx?|pptx?)$")
MAX_TITLE_CHARS = 60
# Lines starting like this begin a new item even right after a full-width line.
_ITEM_START_RE = re.compile(r"[・•●○◆◇■□※＊*\-–—（(「『]|[0-9０-９]{1,3}[.．)）]|[①-⑳]")  # noqa: RUF001
MIN_WRAP_WIDTH = 40
"""Narrower text (in half-width columns) is never treated as wrapped."""


def read_pdf(path: Path, *, limits: InputLimits = DEFAULT_LIMITS) -> ParseResult:
    """Read a PDF manual and split it into sections at heading-like lines.

    Args:
        path: A ``.pdf`` file.
        limits: The page, object and text limits.

    Returns:
        One document per non-empty section; a page whose text cannot be extracted is reported
        as an error (line 0, the page named in the message) and the other pages are kept.

    Raises:
        InputError: The file is missing, not a PDF or damaged, encrypted with a password, has
            no extractable text at all (a scanned image) or only headings, or exceeds a limit
            (objects, pages, text size).
    """
    source = str(path)
    if not path.is_file():
        raise InputError(source, msg("files.missing"))
    pages, meta_title, departments, errors, first_failure = _extract(path, source, limits)
    if not any(line.strip() for page in pages for line in page):
        if first_failure is not None:
            # Not a scan: the pages could not be read (a damaged stream, a decompression bomb
            # stopped at pypdf's limits). Say so instead of suggesting OCR.
            page, problem = first_failure
            raise InputError(source, msg("manual.pdf_pages_unreadable", page=page, problem=problem))
        raise InputError(source, msg("manual.pdf_no_text"))
    pages = [_drop_page_numbers(page) for page in pages]
    title = meta_title
    first = next((line.strip() for page in pages for line in page if line.strip()), "")
    if (title and first == title) or (
        not title and len(first) <= MAX_TITLE_CHARS and heading_style(first) is None
    ):
        title = first
        rest = _drop_first(pages, first)
        # A one-line PDF is its title and its text: dropping the line would store nothing.
        if any(line.strip() for page in rest for line in page):
            pages = rest
    pages = _drop_running_lines(pages)
    lines = [(0, line) for line in unwrap_lines([line for page in pages for line in page])]
    result = build_manual(
        split_lines(lines),
        source=source,
        stem=path.stem,
        doc_title=title or path.stem,
        departments=departments,
    )
    if not result.documents:
        raise InputError(source, msg("manual.pdf_no_body"))
    if errors:
        return ParseResult(source=result.source, documents=result.documents, errors=tuple(errors))
    return result


def _extract(
    path: Path, source: str, limits: InputLimits
) -> tuple[list[list[str]], str, tuple[str, ...], list[RowError], tuple[int, str] | None]:
    """Lines of each page, the metadata title and subject (departments), page errors, and the
    first page that could not be read with its problem."""
    import pypdf  # keep ``import kb.ingest`` cheap

    try:
        reader = pypdf.PdfReader(str(path), strict=False)
        # Counted from the cross-reference table before any object is parsed; there cannot be
        # more pages than objects, so this also bounds flattening the page tree below.
        objects = _object_count(reader)
        if objects > limits.max_pdf_objects:
            raise InputError(
                source, msg("limits.pdf_objects", count=objects, limit=limits.max_pdf_objects)
            )
        if reader.is_encrypted and not reader.decrypt(""):
            raise InputError(source, msg("manual.pdf_password"))
        page_list = list(reader.pages)
        if len(page_list) > limits.max_pdf_pages:
            raise InputError(
                source, msg("limits.pdf_pages", count=len(page_list), limit=limits.max_pdf_pages)
            )
        # Before any page is read: text extraction parses every drawing instruction, about a
        # second per megabyte, and a stream shared by 2,000 pages is parsed 2,000 times.
        _check_content(page_list, source, limits.max_pdf_content_bytes)
        meta_title = _meta_title(reader)
        departments = _meta_departments(reader)
    except InputError:
        raise
    except Exception as exc:  # damaged files raise many kinds of errors
        problem = f"{type(exc).__name__}: {exc}"
        raise InputError(source, msg("manual.pdf_unreadable", problem=problem)) from None
    pages: list[list[str]] = []
    errors: list[RowError] = []
    first_failure: tuple[int, str] | None = None
    chars = 0
    for number, page in enumerate(page_list, start=1):
        try:
            # A font's ToUnicode map may give a lone surrogate (pypdf decodes it as it is).
            text = without_surrogates(page.extract_text() or "")
        except Exception as exc:  # one bad content stream should not lose the other pages
            problem = f"{type(exc).__name__}: {exc}"[:200]
            errors.append(
                RowError(source, 0, "", msg("manual.pdf_page", page=number, problem=problem))
            )
            first_failure = first_failure or (number, problem)
            text = ""
        chars += len(text)
        if chars > limits.max_manual_chars:
            where = msg("limits.page", page=number)
            raise text_too_long(source, chars, limits.max_manual_chars, where)
        pages.append(text.replace("\r\n", "\n").replace("\r", "\n").split("\n"))
    return pages, meta_title, departments, errors, first_failure


def _check_content(pages: list[PageObject], source: str, limit: int) -> None:
    """Raise :class:`InputError` once the pages' content streams pass ``limit`` bytes."""
    content = 0
    sizes: dict[int, int] = {}
    for number, page in enumerate(pages, start=1):
        content += _content_bytes(page, sizes)
        if content > limit:
            raise InputError(
                source, msg("limits.pdf_content", page=number, size=content, limit=limit)
            )


def _content_bytes(page: PageObject, sizes: dict[int, int]) -> int:
    """Decoded bytes of ``page``'s content streams; ``sizes`` keeps each stream's size by object
    number, so a shared stream is decoded once. A stream that cannot be decoded counts 0 (its
    page's extraction reports it)."""
    try:
        contents = page.get("/Contents")
        if contents is None:
            return 0
        parts = contents.get_object()
        streams = list(parts) if isinstance(parts, list) else [contents]
    except Exception:  # a damaged page: its extraction says what is wrong
        return 0
    total = 0
    for ref in streams:
        key = getattr(ref, "idnum", None)
        if key is not None and key in sizes:
            total += sizes[key]
            continue
        try:
            stream = ref.get_object()
            size = len(stream.get_data()) if hasattr(stream, "get_data") else 0
        except Exception:  # as above
            size = 0
        if key is not None:
            sizes[key] = size
        total += size
    return total


def _object_count(reader: PdfReader) -> int:
    """Objects in the cross-reference table(s), including those inside object streams."""
    xref: dict[int, dict[int, object]] = getattr(reader, "xref", {}) or {}
    in_streams: dict[int, object] = getattr(reader, "xref_objStm", {}) or {}
    return sum(len(table) for table in xref.values()) + len(in_streams)


def _meta_departments(reader: PdfReader) -> tuple[str, ...]:
    try:
        metadata = reader.metadata
        subject = str(metadata.subject or "") if metadata is not None else ""
        subject = without_surrogates(subject)
    except Exception:  # unreadable metadata is not worth failing the file for
        return ()
    return split_multi(subject)


def _meta_title(reader: PdfReader) -> str:
    try:
        metadata = reader.metadata
        title = without_surrogates(str(metadata.title or "") if metadata is not None else "")
    except Exception:  # unreadable metadata is not worth failing the file for
        return ""
    title = _WORD_TITLE_RE.sub("", title.strip()).strip()
    return title if len(title) <= MAX_TITLE_CHARS * 2 else ""


def _edges(page: list[str]) -> set[int]:
    """Indexes of the first and last two non-empty lines: where headers and footers sit."""
    filled = [index for index, line in enumerate(page) if line.strip()]
    return set(filled[:2] + filled[-2:])


def _drop_page_numbers(page: list[str]) -> list[str]:
    edges = _edges(page)
    return [
        line
        for index, line in enumerate(page)
        if not (index in edges and _PAGE_NUMBER_RE.fullmatch(line))
    ]


def _drop_first(pages: list[list[str]], line: str) -> list[list[str]]:
    out = [list(page) for page in pages]
    for page in out:
        for index, text in enumerate(page):
            if text.strip() == line:
                del page[index]
                return out
    return out


def _drop_running_lines(pages: list[list[str]]) -> list[list[str]]:
    """Drop short lines repeated at the top or bottom of most pages (running heads/feet)."""
    if len(pages) < 3:
        return pages
    edge_lines = [{page[index].strip() for index in _edges(page)} for page in pages]
    counts = Counter(text for lines in edge_lines for text in lines)
    threshold = max(3, math.ceil(len(pages) * 0.6))
    running = {t for t, n in counts.items() if n >= threshold and len(t) <= MAX_TITLE_CHARS}
    return [
        [
            line
            for index, line in enumerate(page)
            if not (index in edges and line.strip() in running)
        ]
        for page, edges in ((page, _edges(page)) for page in pages)
    ]


def unwrap_lines(lines: list[str]) -> list[str]:
    """Re-join lines that the PDF layout wrapped in the middle of a paragraph.

    Text extraction returns one line per printed line, so a sentence wrapped at the right margin
    arrives as ``数か月`` / ``分の購入が…``. A line as wide as the widest lines of the document
    (within a few columns) is taken to be wrapped, and joined with the next line unless that one
    is a heading or starts a new item (``・``, ``1.``, ``（``...). Japanese is joined without a
    space, Latin text with one. Documents with few such full lines (lists, tables, short test
    files) are left as they are.

    Args:
        lines: The lines of the whole document, in reading order.

    Returns:
        The lines, with wrapped ones joined.
    """
    widths = sorted(_width(line.strip()) for line in lines if line.strip())
    if len(widths) < 3:
        return lines
    full = widths[int(len(widths) * 0.9)] - 4
    if full < MIN_WRAP_WIDTH or sum(1 for w in widths if w >= full) < 3:
        return lines
    out: list[str] = []
    wrapped = False
    for line in lines:
        text = line.strip()
        if wrapped and text and heading_style(text) is None and not _ITEM_START_RE.match(text):
            previous = out[-1].rstrip()
            space = " " if previous[-1:].isascii() and text[:1].isascii() else ""
            out[-1] = previous + space + text
        else:
            out.append(line)
        wrapped = bool(text) and _width(text) >= full and heading_style(text) is None
    return out


def _width(text: str) -> int:
    """Printed width in half-width columns (CJK characters count two)."""
    return sum(2 if unicodedata.east_asian_width(ch) in "WF" else 1 for ch in text)
