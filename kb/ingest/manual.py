"""Splitting a manual into sections by its headings, shared by the Markdown/text, DOCX and PDF
readers.

A reader turns its file into a flat sequence of :class:`Heading` and :class:`Text` blocks; this
module turns that into one :class:`~kb.types.Document` per non-empty section, each with its
heading path. It also holds the heading heuristics for formats without heading markup (plain
text, PDF).
"""

from __future__ import annotations

import itertools
import re
import unicodedata
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from kb.types import DocId, Document, ParseResult


@dataclass(frozen=True)
class Heading:
    """A heading of ``level`` 1 (top) and deeper."""

    level: int
    text: str
    line: int = 0
    """Line in the source file, when the format has lines (Markdown, plain text)."""


@dataclass(frozen=True)
class Text:
    """Body text belonging to the section opened by the last heading."""

    text: str


Block = Heading | Text


MAX_TITLE_CHARS = 200
"""The longest heading or manual title: each section repeats its title and heading path."""


@dataclass
class _Section:
    title: str
    path: tuple[str, ...]
    line: int
    lines: list[str]


def build_manual(
    blocks: Iterable[Block],
    *,
    source: str,
    stem: str,
    doc_title: str,
    departments: Sequence[str] = (),
) -> ParseResult:
    """Split a manual into one :class:`~kb.types.Document` per non-empty section.

    Text before the first heading becomes a section titled ``doc_title`` with an empty heading
    path. Sections without body text (a heading directly followed by a sub-heading) are
    dropped, and the remaining ones are numbered ``manual:<stem>#1``, ``#2``... A heading or
    title longer than :data:`MAX_TITLE_CHARS` is body text instead (the title is then ``stem``).

    Args:
        blocks: The headings and text of the manual, in reading order.
        source: The file, for ``Document.source``.
        stem: The manual's id (its file name without extension).
        doc_title: The manual's title.
        departments: Departments responsible for the manual (Markdown front matter).

    Returns:
        The sections as documents; manuals are never published.
    """
    blocks = iter(blocks)
    if len(doc_title) > MAX_TITLE_CHARS:
        # Every section carries the title: a paragraph taken for it stays body text instead.
        blocks = itertools.chain([Text(doc_title)], blocks)
        doc_title = stem
    sections: list[_Section] = [_Section(doc_title, (), 0, [])]
    stack: list[Heading] = []
    for block in blocks:
        if isinstance(block, Heading) and len(block.text) > MAX_TITLE_CHARS:
            # Every section under a heading carries it in its path: a paragraph marked as a
            # heading would be copied into each of them (a 100,000-character one exhausted
            # memory), so it is body text of the section it stands in.
            sections[-1].lines.append(block.text)
        elif isinstance(block, Heading):
            while stack and stack[-1].level >= block.level:
                stack.pop()
            stack.append(block)
            sections.append(_Section(block.text, tuple(h.text for h in stack), block.line, []))
        else:
            sections[-1].lines.append(block.text)
    documents: list[Document] = []
    for section in sections:
        body = _join(section.lines)
        if not body:
            continue
        documents.append(
            Document(
                doc_id=DocId.of("manual", f"{stem}#{len(documents) + 1}"),
                kind="manual",
                title=section.title,
                body=body,
                departments=tuple(departments),
                published=False,
                doc_title=doc_title,
                heading_path=section.path,
                source=f"{source}:{section.line}" if section.line else source,
            )
        )
    return ParseResult(source=source, documents=tuple(documents))


def _join(lines: list[str]) -> str:
    """Join body lines, trimming blank lines at both ends and collapsing runs of them."""
    out: list[str] = []
    for line in "\n".join(lines).split("\n"):
        stripped = line.rstrip()
        if not stripped.strip():
            if out and out[-1]:
                out.append("")
            continue
        out.append(stripped)
    while out and not out[-1]:
        out.pop()
    return "\n".join(out)


# --- heading heuristics for plain text and PDF ---------------------------------------------

MAX_HEADING_CHARS = 40
"""Longer lines are body text, whatever they start with."""

_NUM = r"[0-9]+|[一二三四五六七八九十百〇]+"
_CHAPTER_RE = re.compile(rf"第(?:{_NUM})([部編章節款])(?:\s*|[.:：、])(\S.*)?$")
_DECIMAL_RE = re.compile(r"([0-9]{1,3}(?:\.[0-9]{1,3})*)(\.)?\s*(\S.*)$")
_SYMBOL_RE = re.compile(r"([■◆▼◎])\s*(\S.*)$")
_BRACKET_RE = re.compile(r"【[^】]{1,30}】$")
# Sentences end in these; a numbered line that does is a list item, not a heading.
_SENTENCE_END = ("。", ".", "：", ":", "、", ",", "，")
_CHAPTER_RANK = {"部": 0, "編": 0, "章": 1, "節": 2, "款": 3}


@dataclass(frozen=True)
class HeadingStyle:
    """What kind of heading a line is: its family and its depth within the family."""

    family: str
    depth: int = 1


def heading_style(line: str) -> HeadingStyle | None:
    """Tell whether a line of plain text looks like a heading, and of which style.

    Recognised: ``第1章`` / ``第2節`` (also with kanji numerals), decimal numbers ``1.``,
    ``1.2``, ``1.2.3`` followed by text, ``■ …`` (also ◆ ▼ ◎) and a line that is only
    ``【…】``. The line must be short (at most :data:`MAX_HEADING_CHARS` characters) and must
    not end like a sentence (``。``), so numbered procedure steps stay body text.

    Args:
        line: One line, as extracted.

    Returns:
        The style, or ``None`` for body text.
    """
    text = unicodedata.normalize("NFKC", line).strip()
    if not text or len(text) > MAX_HEADING_CHARS or text.endswith(_SENTENCE_END):
        return None
    if m := _CHAPTER_RE.match(text):
        return HeadingStyle("chapter", _CHAPTER_RANK[m[1]] + 1)
    if m := _DECIMAL_RE.match(text):
        number, dot, rest = m[1], m[2], m[3]
        parts = number.split(".")
        # "1 件目" or "2024年度" are not headings: a single number needs its dot ("1."),
        # and the title must not start with a digit or unit-like character.
        if (len(parts) == 1 and not dot) or rest[0].isdigit() or len(rest) < 2:
            return None
        return HeadingStyle("decimal", len(parts))
    if m := _SYMBOL_RE.match(text):
        return HeadingStyle(m[1])
    if _BRACKET_RE.match(text):
        return HeadingStyle("bracket")
    return None


def assign_levels(styles: Sequence[HeadingStyle]) -> list[int]:
    """Turn heading styles into levels, by the order in which families first appear.

    The first family seen is the top level; a family seen later nests below all earlier ones.
    Within the decimal and chapter families, depth adds levels (``1.2`` is one deeper than
    ``1.``), so ``第1章`` → ``1.`` → ``1.1`` → ``■`` nest as written.

    Args:
        styles: The styles of a document's headings, in reading order.

    Returns:
        A level (1 = top) for each heading.
    """
    order: list[str] = []
    span: dict[str, int] = {}
    low: dict[str, int] = {}
    for style in styles:
        if style.family not in order:
            order.append(style.family)
        span[style.family] = max(span.get(style.family, 0), style.depth)
        low[style.family] = min(low.get(style.family, style.depth), style.depth)
    base: dict[str, int] = {}
    level = 0
    for family in order:
        base[family] = level - low[family] + 1
        level += span[family] - low[family] + 1
    return [base[s.family] + s.depth for s in styles]


def split_lines(lines: Sequence[tuple[int, str]]) -> list[Block]:
    """Turn lines of plain text into blocks, detecting headings with :func:`heading_style`.

    Args:
        lines: ``(line number, text)`` pairs in reading order.

    Returns:
        Headings (levels from :func:`assign_levels`) and text lines.
    """
    styles = [heading_style(text) for _, text in lines]
    levels = iter(assign_levels([s for s in styles if s is not None]))
    blocks: list[Block] = []
    for (number, text), style in zip(lines, styles, strict=True):
        if style is None:
            blocks.append(Text(text))
        else:
            blocks.append(Heading(next(levels), text.strip(), number))
    return blocks
