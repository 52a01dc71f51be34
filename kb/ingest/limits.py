"""Limits on hostile or runaway input: zip bombs, PDF bombs, deep JSON, oversized texts.

A source file is small on disk but may expand enormously when read: a DOCX is a zip archive
whose ``document.xml`` can inflate a thousandfold, a PDF can declare millions of objects or
pages, a JSONL line can nest ten thousand arrays, and a manual of a few kilobytes can become
thousands of chunks to embed. The readers check these limits *before* the expensive step
(:func:`check_zip` before python-docx opens an archive, the object and page counts before PDF
text extraction, :func:`json_too_deep` before :func:`json.loads`) and during it (extracted
text size), and :func:`limit_chunks` caps what reaches the embedding model.

Every refusal names the file (and line, for a row), the number found, the limit and the setting
that raises it, for the city staff who read the ingest report: in Japanese, or English with
``KB_LANG=en`` (:mod:`kb.messages`). The limits come from :class:`~kb.settings.Settings`
through :meth:`InputLimits.from_settings`; the defaults are far above any real city document.
"""

from __future__ import annotations

import dataclasses
import re
import zipfile
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from kb.errors import InputError
from kb.messages import msg
from kb.types import Department, Document, ParseResult, RowError

if TYPE_CHECKING:
    from kb.settings import Settings

MIB = 1024 * 1024
RATIO_FLOOR_BYTES = MIB
"""Members smaller than this unpacked are not ratio-checked: small XML parts of ordinary
Office files compress 30:1 and more, and cannot be a bomb at that size."""
MAX_ZIP_MEMBERS = 10_000
"""A Word or Excel file has a few dozen parts; tens of thousands mean a crafted archive."""
STREAMED_PARTS = ("xl/worksheets/",)
"""Zip members read as a stream, not parsed whole (openpyxl's read-only worksheets): their cost
is bounded by the cell limit, not by :attr:`InputLimits.max_xml_part_bytes`."""
_XML_SUFFIXES = (".xml", ".rels", ".vml")
MAX_JSON_DEPTH = 64
"""A record is an object of strings and lists (depth 2); 64 leaves room for any real use."""

_BODY_FIELD = {"faq": "answer", "case": "resolution", "department": "duties", "manual": ""}


@dataclass(frozen=True)
class InputLimits:
    """The limits one ingest run applies to every file it reads (see the module docstring)."""

    max_zip_unpacked_bytes: int = 200 * MIB
    """Total unpacked size of a zip container (DOCX)."""
    max_zip_ratio: float = 100.0
    """Largest compression ratio of one member of at least :data:`RATIO_FLOOR_BYTES`."""
    max_xml_part_bytes: int = 32 * MIB
    """Unpacked size of one XML part that is parsed whole (:data:`STREAMED_PARTS` aside)."""
    max_zip_members: int = MAX_ZIP_MEMBERS
    max_sheet_cells: int = 5_000_000
    """Cells of one workbook sheet, rows times columns as padded (refused while it is read)."""
    max_pdf_pages: int = 2_000
    max_pdf_objects: int = 1_000_000
    max_pdf_content_bytes: int = 32 * MIB
    """Page content streams of one PDF, decoded, each page's counted (a stream shared by every
    page is read for every page): text extraction reads about a megabyte a second."""
    max_manual_chars: int = 2_000_000
    """Characters of text extracted from one manual file (DOCX, PDF, Markdown, text)."""
    max_chunks_per_file: int = 3_000
    """Chunks of one manual file, all its sections together."""
    max_chunks_per_record: int = 25
    """Chunks of one FAQ entry, case or department row (25 chunks ≈ 10,000 characters)."""
    max_record_title_chars: int = 2_000
    """Characters of a row's question, summary or name, and of each other short field."""
    max_record_body_chars: int = 20_000
    """Characters of a row's answer, resolution or duties."""

    @classmethod
    def from_settings(cls, settings: Settings) -> InputLimits:
        """The limits configured in ``settings`` (``KB_MAX_ZIP_RATIO``...)."""
        return cls(
            max_zip_unpacked_bytes=settings.max_zip_unpacked_bytes,
            max_zip_ratio=settings.max_zip_ratio,
            max_xml_part_bytes=settings.max_xml_part_bytes,
            max_sheet_cells=settings.max_sheet_cells,
            max_pdf_pages=settings.max_pdf_pages,
            max_pdf_objects=settings.max_pdf_objects,
            max_pdf_content_bytes=settings.max_pdf_content_bytes,
            max_manual_chars=settings.max_manual_chars,
            max_chunks_per_file=settings.max_chunks_per_file,
            max_chunks_per_record=settings.max_chunks_per_record,
            max_record_title_chars=settings.max_record_title_chars,
            max_record_body_chars=settings.max_record_body_chars,
        )


DEFAULT_LIMITS = InputLimits()


# --- zip containers -------------------------------------------------------------------------


def check_zip(
    path: Path,
    *,
    max_unpacked: int,
    max_ratio: float,
    max_members: int = MAX_ZIP_MEMBERS,
    max_part: int | None = None,
    source: str | None = None,
) -> None:
    """Refuse a zip container (DOCX, XLSX) that would unpack to too much, before it is opened.

    Only the archive's directory is read, never a member's data. The sizes it declares are
    binding: :mod:`zipfile` (which python-docx and openpyxl use) stops inflating a member at its
    declared size and then fails its CRC check, so a member that lies about its size cannot
    unpack to more than the directory says.

    An archive that :mod:`zipfile` cannot open at all passes: the format's reader then reports
    it in its own words ("not a readable Word .docx file").

    Args:
        path: The file.
        max_unpacked: Largest total unpacked size in bytes (``max_zip_unpacked_bytes``).
        max_ratio: Largest unpacked/compressed ratio of a member of at least
            :data:`RATIO_FLOOR_BYTES` (``max_zip_ratio``).
        max_members: Largest number of members.
        max_part: Largest unpacked size of one XML part parsed whole (``max_xml_part_bytes``;
            ``None``: no limit). A Word document's text or a workbook's shared strings is
            parsed into a tree of about 20 times its size: 170 MB of ``document.xml``, within
            the ratio and total limits, took 3.3 GB and 260 s before this limit.
        source: The file as named in messages (default: ``path``).

    Raises:
        InputError: A limit is exceeded; the message names the number and the limit.
    """
    source = source or str(path)
    declared = _declared_members(path)
    if declared is not None and declared > max_members:
        raise InputError(source, msg("limits.zip_members", count=declared, limit=max_members))
    try:
        with zipfile.ZipFile(path) as archive:
            members = archive.infolist()
    except (zipfile.BadZipFile, zipfile.LargeZipFile, OSError, ValueError, EOFError):
        return
    if len(members) > max_members:
        raise InputError(source, msg("limits.zip_members", count=len(members), limit=max_members))
    total = 0
    for member in members:
        total += member.file_size
        if (
            max_part is not None
            and member.file_size > max_part
            and member.filename.lower().endswith(_XML_SUFFIXES)
            and not member.filename.startswith(STREAMED_PARTS)
        ):
            raise InputError(
                source,
                msg(
                    "limits.zip_part",
                    member=member.filename,
                    unpacked=member.file_size,
                    limit=max_part,
                ),
            )
        ratio = member.file_size / max(member.compress_size, 1)
        if member.file_size >= RATIO_FLOOR_BYTES and ratio > max_ratio:
            raise InputError(
                source,
                msg(
                    "limits.zip_ratio",
                    member=member.filename,
                    ratio=ratio,
                    packed=member.compress_size,
                    unpacked=member.file_size,
                    limit=max_ratio,
                ),
            )
    if total > max_unpacked:
        raise InputError(source, msg("limits.zip_total", total=total, limit=max_unpacked))


_EOCD = b"PK\x05\x06"
_EOCD_SIZE = 22
_MAX_COMMENT = 0xFFFF
_ZIP64_LOCATOR = b"PK\x06\x07"
_ZIP64_EOCD = b"PK\x06\x06"


def _declared_members(path: Path) -> int | None:
    """The member count in the end-of-central-directory record, read without :mod:`zipfile`.

    :class:`zipfile.ZipFile` builds an object per member as it opens an archive, so a crafted
    directory of millions of entries costs memory before any limit could be checked. A ZIP64
    archive stores ``0xFFFF`` in the classic record and its real count in the ZIP64 one.
    ``None``: no such record (not a zip: the format reader reports it).
    """
    try:
        with path.open("rb") as handle:
            size = handle.seek(0, 2)
            start = max(0, size - _EOCD_SIZE - _MAX_COMMENT)
            handle.seek(start)
            tail = handle.read()
            at = tail.rfind(_EOCD)
            if at < 0 or len(tail) - at < _EOCD_SIZE:
                return None
            count = int.from_bytes(tail[at + 10 : at + 12], "little")
            locator = tail[at - 20 : at] if at >= 20 else b""
            if count != 0xFFFF or not locator.startswith(_ZIP64_LOCATOR):
                return count
            handle.seek(int.from_bytes(locator[8:16], "little"))
            record = handle.read(56)
    except (OSError, ValueError):
        return None
    if not record.startswith(_ZIP64_EOCD) or len(record) < 40:
        return count
    return int.from_bytes(record[32:40], "little")


# --- JSON -------------------------------------------------------------------------------------

_JSON_TOKEN_RE = re.compile(r'"(?:[^"\\]|\\.)*"|[\[\]{}]', re.DOTALL)


def json_too_deep(text: str, max_depth: int = MAX_JSON_DEPTH) -> bool:
    """Whether ``text`` (one JSON value) nests arrays and objects deeper than ``max_depth``.

    Checked by scanning, without recursion and without parsing, so that :func:`json.loads`
    never sees a line deep enough to exhaust the interpreter's stack (a ``RecursionError``
    would otherwise end the whole file). Brackets inside strings do not count.

    Args:
        text: The line.
        max_depth: The deepest nesting accepted (1: a flat object).
    """
    if text.count("[") + text.count("{") <= max_depth:
        return False  # the common case: too few brackets to nest that deep
    depth = 0
    for match in _JSON_TOKEN_RE.finditer(text):
        token = match[0]
        if token in "[{":
            depth += 1
            if depth > max_depth:
                return True
        elif token in "]}":
            depth = max(0, depth - 1)
    return False


def json_depth_message(max_depth: int) -> str:
    """The row error for a line refused by :func:`json_too_deep`."""
    return msg("limits.json_depth", depth=max_depth)


# --- text and chunks --------------------------------------------------------------------------


def text_too_long(source: str, chars: int, max_chars: int, where: str = "") -> InputError:
    """The error refusing a manual whose extracted text passed ``max_manual_chars``.

    Args:
        source: The file.
        chars: Characters extracted when the limit was passed (reading stops there).
        max_chars: The limit.
        where: How far reading got (``msg("limits.page", page=3)``), if the format has pages.
    """
    if where:
        return InputError(
            source, msg("limits.text_too_long_at", where=where, chars=chars, limit=max_chars)
        )
    return InputError(source, msg("limits.text_too_long", chars=chars, limit=max_chars))


def chunk_count(doc: Document) -> int:
    """How many chunks :func:`kb.ingest.chunking.chunk_document` makes of ``doc``.

    The same normalisation and splitting without tokenizing, so it is cheap enough to check
    every record before any of them is tokenized or embedded.
    """
    from kb.ingest.chunking import split_text  # chunking pulls in the tokenizer adapter
    from kb.text.normalize import normalize

    body = normalize(doc.body, keep_newlines=True)
    return len(split_text(body)) if body else 1


def limit_chunks(result: ParseResult, limits: InputLimits, *, manual: bool) -> ParseResult:
    """Apply the chunk limits to what a reader produced from one file.

    Args:
        result: The reader's result.
        limits: The limits.
        manual: ``True`` for a manual file (its sections count together against
            ``max_chunks_per_file``); ``False`` for a CSV/JSONL file, whose records each count
            against ``max_chunks_per_record``.

    Returns:
        ``result``, or for a tabular file the result without its over-long records, each
        reported as a row error naming its line and body field.

    Raises:
        InputError: A manual file makes more chunks than ``max_chunks_per_file``.
    """
    if manual:
        total = sum(chunk_count(doc) for doc in result.documents)
        if total > limits.max_chunks_per_file:
            raise InputError(
                result.source,
                msg("limits.chunks_per_file", count=total, limit=limits.max_chunks_per_file),
            )
        return result
    limit = limits.max_chunks_per_record
    errors: list[RowError] = []
    documents: list[Document] = []
    for doc in result.documents:
        count = _record_chunks(doc, limit)
        if count > limit:
            errors.append(_record_error(result.source, doc.source, doc.kind, count, limit))
        else:
            documents.append(doc)
    departments: list[Department] = []
    if result.departments:
        from kb.ingest.chunking import department_document

        for dept in result.departments:
            count = _record_chunks(department_document(dept), limit)
            if count > limit:
                errors.append(_record_error(result.source, dept.source, "department", count, limit))
            else:
                departments.append(dept)
    if not errors:
        return result
    return dataclasses.replace(
        result,
        documents=tuple(documents),
        departments=tuple(departments),
        errors=tuple(sorted((*result.errors, *errors), key=lambda e: e.line)),
    )


# Normalising can lengthen a text (NFKC turns one character into at most 18, lower-casing one
# into 2) and packing adds at most one newline per character; two neighbouring chunks hold at
# least MAX_CHARS (400) characters together. A body of L characters thus makes at most
# 72·L/400 + 1 chunks, and most records are too short to need counting.
_EXPANSION = 72


def _record_chunks(doc: Document, limit: int) -> int:
    """The chunk count of ``doc``, or 0 when it is too short to reach ``limit``."""
    from kb.ingest.chunking import MAX_CHARS

    if len(doc.body) * _EXPANSION <= (limit - 1) * MAX_CHARS:
        return 0
    return chunk_count(doc)


def _record_error(source: str, where: str, kind: str, count: int, limit: int) -> RowError:
    head, _, tail = where.rpartition(":")
    line = int(tail) if head and tail.isdigit() else 0
    return RowError(
        source,
        line,
        _BODY_FIELD.get(kind, ""),
        msg("limits.chunks_per_record", count=count, limit=limit),
    )
