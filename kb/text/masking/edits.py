"""Placeholders written into a text: edits applied, tabs and line breaks kept, spans joined.

The rules find spans on a view of the text (folded, or full width for MeCab) and hand
``(start, end, placeholder)`` edits on the original text to :func:`apply_edits`.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterable

from kb.text.masking.fold import BREAKS_RE, FORMAT_CHAR_RE
from kb.text.masking.placeholders import PLACEHOLDERS


def full_width_view(text: str) -> tuple[str, list[int], list[int]]:
    """``text`` with half-width katakana made full width (ﾀﾞ → ダ, one character) and invisible
    format characters left out, and where each character of that view starts and ends in
    ``text``."""
    out: list[str] = []
    starts: list[int] = []
    ends: list[int] = []
    i = 0
    while i < len(text):
        if FORMAT_CHAR_RE.match(text, i):
            i += 1
            continue
        j = i + 2 if text[i + 1 : i + 2] in ("ﾞ", "ﾟ") else i + 1  # ﾀﾞ is one character
        piece = unicodedata.normalize("NFKC", text[i:j]) or text[i:j]
        out.append(piece)
        starts.extend([i] * len(piece))
        ends.extend([j] * len(piece))
        i = j
    return "".join(out), starts, ends


def merged_spans(spans: list[tuple[int, int]]) -> list[tuple[int, int]]:
    """``spans`` sorted, overlapping ones joined (so their ends are sorted too)."""
    out: list[tuple[int, int]] = []
    for start, end in sorted(spans):
        if out and start < out[-1][1]:
            out[-1] = (out[-1][0], max(out[-1][1], end))
        else:
            out.append((start, end))
    return out


def occurrences(text: str, words: Iterable[str]) -> list[tuple[int, int]]:
    out: list[tuple[int, int]] = []
    for word in words:
        start = text.find(word)
        while start >= 0:
            out.append((start, start + len(word)))
            start = text.find(word, start + 1)
    return out


def apply_edits(text: str, edits: list[tuple[int, int, str]]) -> str:
    """Replace non-overlapping spans (the first of overlapping ones wins)."""
    if not edits:
        return text
    edits.sort(key=lambda e: (e[0], -e[1]))
    parts: list[str] = []
    tail = ""  # the last non-empty part: joining all parts at each edit would be quadratic
    pos = 0
    for start, end, placeholder in edits:
        if start < pos:
            continue
        between = text[pos:start]
        if between:
            parts.append(between)
            tail = between
        replacement = keeping_breaks(text[start:end], placeholder)
        # Adjacent identical placeholders merge, so re-masking cannot grow the text.
        if not between and tail.endswith(placeholder) and replacement.startswith(placeholder):
            replacement = replacement[len(placeholder) :]
        if replacement:
            parts.append(replacement)
            tail = replacement
        pos = end
    parts.append(text[pos:])
    return "".join(parts)


def keeping_breaks(span: str, placeholder: str) -> str:
    """``placeholder`` for ``span``, keeping the tabs and line breaks inside it.

    A rule may match across a column or line break (an address, then a building in the next
    column); the masked text keeps the table's shape: each piece between breaks that holds
    anything but spaces becomes the placeholder.
    """
    if not BREAKS_RE.search(span):
        return placeholder
    return "".join(
        piece if BREAKS_RE.fullmatch(piece) or not piece.strip() else placeholder
        for piece in BREAKS_RE.split(span)
    )


_PLACEHOLDER_RE = re.compile("|".join(re.escape(p) for p in PLACEHOLDERS))


def strip_placeholders(text: str) -> str:
    """``text`` with the masking placeholders blanked out (for the lexical index)."""
    return _PLACEHOLDER_RE.sub(" ", text)


_BIDI_RE = re.compile("[\u202a-\u202e\u2066-\u2069]")
_OPENS = frozenset("\u202a\u202b\u202d\u202e\u2066\u2067\u2068")
_CLOSES = frozenset("\u202c\u2069")
_RLO = "\u202e"


def display_order(text: str) -> str:
    """``text`` as a browser shows it, without its direction controls (U+202A-202E,
    U+2066-2069): what a right-to-left override (U+202E) holds, up to its pop (U+202C) or the
    line's end, is shown reversed, an override or embedding inside it as one piece (so
    ``\u202emoc.liamg@okanah\u202c`` reads ``hanako@gmail.com`` on screen while every rule
    would read it backwards, and so does a nested ``\u202e...\u202d...\u202c...\u202c``).
    Other controls only move runs of right-to-left script, which Japanese text has none of:
    they are dropped."""
    if not _BIDI_RE.search(text):
        return text
    return "\n".join(_shown(line) for line in text.split("\n"))


def _shown(line: str) -> str:
    # Each open control starts a piece; a pop ends the innermost (the line's end, all).
    stack: list[tuple[str, list[str]]] = [("", [])]
    for ch in line:
        if ch in _OPENS:
            stack.append((ch, []))
        elif ch in _CLOSES:
            if len(stack) > 1:
                kind, parts = stack.pop()
                stack[-1][1].append(_piece(kind, parts))
        else:
            stack[-1][1].append(ch)
    while len(stack) > 1:
        kind, parts = stack.pop()
        stack[-1][1].append(_piece(kind, parts))
    return "".join(stack[0][1])


def _piece(kind: str, parts: list[str]) -> str:
    """A piece as shown: reversed, piece by piece, inside a right-to-left override."""
    return "".join(reversed(parts)) if kind == _RLO else "".join(parts)
