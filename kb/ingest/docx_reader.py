"""Word (``.docx``) reader: manuals, split into sections at their headings (python-docx).

The trainer writes its manual drafts in the same structure with
:func:`kb.trainer.docx_writer.write_docx`.

Paragraphs styled ``Heading 1``..``Heading 9`` (Word's built-in heading styles, shown as
``見出し 1``.. in Japanese Word) start sections, as do custom styles based on them or named
``見出し N``. The title is the document's core ``title`` property, else its first ``Title``
paragraph, else a lone ``Heading 1`` that precedes all other headings, else the file name.
Tables are read row by row into the current section, cells separated by `` | ``.

The archive is checked against the zip limits (:func:`kb.ingest.limits.check_zip`) before
python-docx opens it, and the text read is capped at ``max_manual_chars``: a crafted file of a
few kilobytes could otherwise unpack to hundreds of megabytes of XML.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING

from kb.errors import InputError
from kb.ingest.limits import DEFAULT_LIMITS, InputLimits, check_zip, text_too_long
from kb.ingest.manual import Block, Heading, Text, build_manual
from kb.ingest.schema import split_multi
from kb.messages import msg
from kb.types import ParseResult

if TYPE_CHECKING:
    from docx.document import Document as DocxDocument
    from docx.styles.style import ParagraphStyle
    from docx.table import Table

_HEADING_RE = re.compile(r"(?:heading|見出し)\s*([1-9])")
_TITLE_STYLES = frozenset({"title", "表題"})


def read_docx(path: Path, *, limits: InputLimits = DEFAULT_LIMITS) -> ParseResult:
    """Read a Word manual and split it into sections at its headings.

    Args:
        path: A ``.docx`` file.
        limits: The zip and text limits.

    Returns:
        One document per non-empty section.

    Raises:
        InputError: The file is missing, not a ``.docx`` (an old ``.doc``, a renamed file,
            a damaged archive), contains no text, or exceeds a limit (unpacked size,
            compression ratio, text size).
    """
    source = str(path)
    if not path.is_file():
        raise InputError(source, msg("files.missing"))
    check_zip(
        path,
        max_unpacked=limits.max_zip_unpacked_bytes,
        max_ratio=limits.max_zip_ratio,
        max_members=limits.max_zip_members,
        max_part=limits.max_xml_part_bytes,
        source=source,
    )
    import docx  # python-docx imports lxml; only pay for it when reading a .docx

    try:
        document = docx.Document(str(path))
        core_title = (document.core_properties.title or "").strip()
        # The Subject property names the responsible department(s), as the schema documents.
        departments = split_multi(document.core_properties.subject or "")
        blocks = list(_capped(_blocks(document), source, limits.max_manual_chars))
    except InputError:
        raise
    except Exception as exc:  # python-docx raises many types for damaged files
        problem = f"{type(exc).__name__}: {exc}"
        raise InputError(source, msg("manual.docx_unreadable", problem=problem)) from None
    title = core_title
    titles = [b for b in blocks if isinstance(b, Heading) and b.level == 0]
    if titles and not title:
        title = titles[0].text
    # The first Title paragraph names the manual; any later one is kept as text.
    blocks = [
        Text(b.text) if isinstance(b, Heading) and b.level == 0 else b
        for b in blocks
        if not (titles and b is titles[0])
    ]
    headings = [b for b in blocks if isinstance(b, Heading)]
    top = [h for h in headings if h.level == 1]
    if (
        not titles
        and headings
        and len(top) == 1
        and headings[0] is top[0]
        and (not title or title == top[0].text)
    ):
        title = top[0].text
        blocks = [b for b in blocks if b is not top[0]]
    if not any(isinstance(b, Text) and b.text.strip() for b in blocks):
        raise InputError(source, msg("manual.docx_empty"))
    return build_manual(
        blocks,
        source=source,
        stem=path.stem,
        doc_title=title or path.stem,
        departments=departments,
    )


def _capped(blocks: Iterator[Block], source: str, max_chars: int) -> Iterator[Block]:
    """``blocks``, failing as soon as their text passes ``max_chars`` characters."""
    chars = 0
    for block in blocks:
        chars += len(block.text)
        if chars > max_chars:
            raise text_too_long(source, chars, max_chars)
        yield block


def _blocks(document: DocxDocument) -> Iterator[Block]:
    """Headings (level 0 = Title) and text of a python-docx ``Document``, in reading order."""
    from docx.table import Table
    from docx.text.paragraph import Paragraph

    for item in document.iter_inner_content():
        if isinstance(item, Paragraph):
            text = item.text.strip()
            if not text:
                continue
            level = _heading_level(item.style)
            yield Text(text) if level is None else Heading(level, text)
        elif isinstance(item, Table):
            yield from _table_rows(item)


def _heading_level(style: ParagraphStyle | None) -> int | None:
    """0 for a Title style, N for a heading style (or one based on it), else ``None``."""
    seen = 0
    while style is not None and seen < 10:  # base-style chains are short; guard cycles
        name = unicodedata.normalize("NFKC", style.name or "").strip().casefold()
        if name in _TITLE_STYLES:
            return 0
        if m := _HEADING_RE.fullmatch(name):
            return int(m[1])
        style = style.base_style
        seen += 1
    return None


def _table_rows(table: Table) -> Iterator[Text]:
    for row in table.rows:
        cells: list[str] = []
        previous: object = None
        for cell in row.cells:
            # A merged cell is returned once per grid column it spans.
            if cell._tc is previous:
                continue
            previous = cell._tc
            cells.append(" ".join(cell.text.split()))
        if any(cells):
            yield Text(" | ".join(cells))
