"""Reader for manuals written as Markdown (``.md``) or plain text (``.txt``).

Markdown sections start at ATX (``## 見出し``) and setext (``===`` / ``---`` underlined)
headings outside fenced code blocks. An optional front matter block sets ``title:`` and
``department:``. A single level-1 heading that comes before every other heading is the
manual's title rather than a section (the usual shape of a Markdown document).

Plain text has no markup: its first non-empty line is the title, and lines that look like
numbered headings (see :func:`kb.ingest.manual.heading_style`) start sections.
"""

from __future__ import annotations

import re
from pathlib import Path

from kb.errors import InputError
from kb.ingest.encoding import read_text
from kb.ingest.manual import Block, Heading, Text, build_manual, heading_style, split_lines
from kb.ingest.schema import header_key, split_multi
from kb.messages import msg
from kb.types import ParseResult

# The closing ``#`` run is stripped in Python (:func:`_heading_text`): a regex that both
# skips it and ends at trailing blanks backtracks in square time over a long run of spaces.
_ATX_RE = re.compile(r" {0,3}(#{1,6})(?:[ \t]+(.*))?$")
_SETEXT_RE = re.compile(r" {0,3}(={2,}|-{2,})[ \t]*$")
_FENCE_RE = re.compile(r" {0,3}(`{3,}|~{3,})")
_FRONT_KEYS = {
    "title": "title",
    "タイトル": "title",
    "表題": "title",
    "department": "department",
    "departments": "department",
    "担当課": "department",
    "所管課": "department",
}


def read_markdown(path: Path) -> ParseResult:
    """Read a Markdown manual.

    Args:
        path: A ``.md`` / ``.markdown`` file (UTF-8 or CP932).

    Returns:
        One document per non-empty section.

    Raises:
        InputError: The file cannot be decoded, is empty or has an unterminated front matter.
    """
    source = str(path)
    return parse_markdown(read_text(path), source=source, stem=path.stem)


def read_plain_text(path: Path) -> ParseResult:
    """Read a plain-text manual.

    Args:
        path: A ``.txt`` file (UTF-8 or CP932).

    Returns:
        One document per non-empty section.

    Raises:
        InputError: The file cannot be decoded or is empty.
    """
    return parse_plain_text(read_text(path), source=str(path), stem=path.stem)


def parse_markdown(text: str, *, source: str, stem: str) -> ParseResult:
    """Split Markdown text into sections.

    Args:
        text: The decoded file, newlines normalised.
        source: The file, for ``Document.source`` and errors.
        stem: The manual's id; also its title when nothing else names it.

    Returns:
        One document per non-empty section.

    Raises:
        InputError: The text is empty or its front matter is not closed.
    """
    if not text.strip():
        raise InputError(source, msg("rows.empty_file"))
    lines = text.split("\n")
    meta, start = _front_matter(lines, source)
    blocks = _markdown_blocks(lines, start)
    title = meta.get("title", "")
    headings = [b for b in blocks if isinstance(b, Heading)]
    top = [h for h in headings if h.level == 1]
    # "# Manual title" followed by "## sections" is how most Markdown documents are written.
    if headings and len(top) == 1 and headings[0] is top[0] and (not title or title == top[0].text):
        title = top[0].text
        blocks = [b for b in blocks if b is not top[0]]
    return build_manual(
        blocks,
        source=source,
        stem=stem,
        doc_title=title or stem,
        departments=split_multi(meta.get("department", "")),
    )


def parse_plain_text(text: str, *, source: str, stem: str) -> ParseResult:
    """Split plain text into sections at lines that look like headings.

    The first non-empty line is the title, unless it itself looks like a heading (then the
    file name is the title).

    Args:
        text: The decoded file, newlines normalised.
        source: The file, for ``Document.source`` and errors.
        stem: The manual's id.

    Returns:
        One document per non-empty section.

    Raises:
        InputError: The text is empty.
    """
    if not text.strip():
        raise InputError(source, msg("rows.empty_file"))
    numbered = list(enumerate(text.split("\n"), start=1))
    first = next(i for i, (_, line) in enumerate(numbered) if line.strip())
    title = stem
    if heading_style(numbered[first][1]) is None:
        title = numbered[first][1].strip()
        numbered = numbered[first + 1 :]
    return build_manual(split_lines(numbered), source=source, stem=stem, doc_title=title)


def _front_matter(lines: list[str], source: str) -> tuple[dict[str, str], int]:
    """Parse a ``---`` front matter block; return its known keys and the first body line."""
    if not lines or lines[0].strip() != "---":
        return {}, 0
    meta: dict[str, str] = {}
    for index in range(1, len(lines)):
        line = lines[index]
        if line.strip() in ("---", "..."):
            return meta, index + 1
        key, sep, value = line.partition(":")
        name = _FRONT_KEYS.get(header_key(key))
        if sep and name:
            meta[name] = _front_value(value)
    raise InputError(source, msg("manual.front_matter"), line=1)


def _front_value(value: str) -> str:
    """A front matter value: unquoted, and a YAML flow list ``[a, b]`` joined with ``|``."""
    text = value.strip()
    if len(text) >= 2 and text[0] == text[-1] and text[0] in "\"'":
        return text[1:-1].strip()
    if text.startswith("[") and text.endswith("]"):
        items = (item.strip().strip("\"'") for item in text[1:-1].split(","))
        return "|".join(item for item in items if item)
    return text


def _markdown_blocks(lines: list[str], start: int) -> list[Block]:
    blocks: list[Block] = []
    fence = ""
    for index in range(start, len(lines)):
        line = lines[index]
        number = index + 1
        if fence:
            if line.strip().startswith(fence):
                fence = ""
            blocks.append(Text(line))
            continue
        if m := _FENCE_RE.match(line):
            fence = m[1][0] * 3
            blocks.append(Text(line))
            continue
        if m := _ATX_RE.match(line):
            if heading := _heading_text(m[2] or ""):
                blocks.append(Heading(len(m[1]), heading, number))
            continue
        if (
            (m := _SETEXT_RE.match(line))
            and blocks
            and isinstance(blocks[-1], Text)
            and blocks[-1].text.strip()
            and _starts_paragraph(lines, index - 1, start)
        ):
            underlined = blocks.pop()
            assert isinstance(underlined, Text)
            level = 1 if m[1][0] == "=" else 2
            blocks.append(Heading(level, underlined.text.strip(), number - 1))
            continue
        blocks.append(Text(line))
    return blocks


def _heading_text(rest: str) -> str:
    """An ATX heading's text: ``rest`` (after the opening ``#`` run) without the optional
    closing run of ``#`` (which must follow a blank, as in ``## 見出し ##``)."""
    text = rest.rstrip(" \t")
    bare = text.rstrip("#")
    if not bare or bare[-1] in " \t":
        text = bare
    return text.strip()


def _starts_paragraph(lines: list[str], index: int, start: int) -> bool:
    """Whether line ``index`` is a one-line paragraph (so a ``---`` under it is a setext
    underline, not a thematic break under running text)."""
    return index == start or not lines[index - 1].strip() or bool(_ATX_RE.match(lines[index - 1]))
