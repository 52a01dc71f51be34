"""Word (``.docx``) writer for the trainer's manual drafts (python-docx).

The drafts use Word's built-in heading styles and the Subject property the way city manuals
do, so a draft saved here reads back through :mod:`kb.ingest.docx_reader` section by section.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

WordBlock = tuple[str, int, "str | tuple[tuple[str, ...], ...]"]
"""``("heading", level, text)``, ``("paragraph", 0, text)``, ``("bullet", level, text)`` or
``("table", 0, rows)`` (the first row is the header)."""


def write_docx(path: Path, title: str, blocks: list[WordBlock], *, subject: str = "") -> Path:
    """Write ``blocks`` as a Word document with built-in heading and list styles.

    The headings use Word's ``Heading N`` styles, so :func:`kb.ingest.docx_reader.read_docx`
    (and Word's navigation pane) sees the same sections. ``title`` goes into the core
    properties and a ``Title`` paragraph; ``subject`` into the Subject property (department
    names, as manuals use it).

    Args:
        path: The ``.docx`` file to write (its folder is created if missing).
        title: The document title.
        blocks: The content, in order.
        subject: The Subject property: the responsible department(s).

    Returns:
        ``path``.

    Raises:
        ValueError: A block of an unknown kind.
    """
    document = _document(title, blocks, subject)
    path.parent.mkdir(parents=True, exist_ok=True)
    document.save(str(path))
    return path


def docx_bytes(title: str, blocks: list[WordBlock], *, subject: str = "") -> bytes:
    """:func:`write_docx` into memory: for a document that must never touch the disk (a
    hand-off sheet with a citizen's name on it)."""
    import io

    buffer = io.BytesIO()
    _document(title, blocks, subject).save(buffer)
    return buffer.getvalue()


def _document(title: str, blocks: list[WordBlock], subject: str) -> Any:
    import docx

    document = docx.Document()
    document.core_properties.title = title
    document.core_properties.subject = subject
    document.add_heading(title, level=0)
    for kind, level, content in blocks:
        if kind == "heading":
            document.add_heading(str(content), level=max(1, min(level, 9)))
        elif kind == "paragraph":
            document.add_paragraph(str(content))
        elif kind == "bullet":
            style = "List Bullet" if level <= 1 else "List Bullet 2"
            document.add_paragraph(str(content), style=style)
        elif kind == "table":
            rows = [tuple(r) for r in content] if not isinstance(content, str) else []
            if not rows:
                continue
            table = document.add_table(rows=len(rows), cols=len(rows[0]))
            table.style = "Table Grid"
            for i, row in enumerate(rows):
                for j, cell in enumerate(row):
                    table.cell(i, j).text = cell
        else:
            raise ValueError(f"unknown block kind {kind!r}")
    return document
