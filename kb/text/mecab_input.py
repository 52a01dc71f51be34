"""What MeCab is given: bounded pieces of text without NUL or lone surrogates.

MeCab (through fugashi, with unidic-lite) crashes the whole process on one long input: a
segmentation fault at 135,000 ASCII symbols (``-``; 120,000 pass), between 150,000 and 200,000
ASCII or full-width letters, 200,000 and 300,000 Cyrillic letters, 400,000 and 1,000,000
characters of ordinary Japanese sentences (``bench/mecab_limits.py``). Its time also grows with
the square of a run of one character class (32,000 ASCII letters take about a second), because
every position of the run scans the run to its end. A NUL ends its input early
(the rest of the text is silently lost) and a lone surrogate cannot be encoded for it at all.

:func:`tagger_pieces` therefore cuts every text into pieces of at most
:data:`MAX_TAGGER_CHARS` characters, at the best boundary it finds (a sentence end, a space, a
comma, a change of script, or a hard cut that does not separate a character from its combining
marks), and replaces NUL with a space and each lone surrogate with U+FFFD, one character for
one, so every offset in a piece is an offset in the text. A text that fits and holds neither,
which is every ordinary text, is one piece: it is tagged exactly as before.

This module imports nothing of fugashi; :mod:`kb.text.mecab` calls it before every tagger call.
"""

from __future__ import annotations

import re
import unicodedata
from typing import NamedTuple

MAX_TAGGER_CHARS = 1_000
"""Most characters of one MeCab call: 135 times below the smallest crash measured (see the
module docstring; ``tests/test_hostile_input.py`` reproduces the crashes), and about 3 ms for
the worst text (a run of one character class; 6 ms at 2,000, 25-46 ms at 16,000) against about
1.7 ms for ordinary Japanese of that length. Cutting the 151,233 characters of the demo
corpus's bodies into pieces of 500 to 4,000 characters changes no token."""

_CLASS_LOOKBACK = 64
"""How far back from the end of a window a change of character class is looked for."""

# Boundaries in order of preference: where a cut changes the tagging least.
_BOUNDARY_TIERS = (
    "。\uff0e！？!?\n\r",
    " \u3000\t\x00",
    "、，,;\uff1b",
)
_UNSAFE_RE = re.compile("[\x00\ud800-\udfff]")
_SAFE = {0: " ", **dict.fromkeys(range(0xD800, 0xE000), "\ufffd")}
"""NUL (which ends MeCab's input) to a space; lone surrogates (which cannot be encoded as UTF-8
for MeCab) to U+FFFD: one character for one, so offsets do not move."""
_JOINING = frozenset({"Mn", "Mc", "Me", "Cf", "Sk"})
"""Categories of characters that belong to the character before them (combining marks,
variation selectors, zero-width joiners and bidi controls, emoji skin-tone modifiers)."""


class Piece(NamedTuple):
    """One tagger call's worth of a text."""

    start: int
    """Offset of the piece in the text."""
    text: str
    """What MeCab is given: the text's characters, NUL and lone surrogates replaced."""
    altered: bool
    """Whether a character was replaced: surfaces must then be read back from the text."""


def tagger_pieces(text: str, limit: int = MAX_TAGGER_CHARS) -> list[Piece]:
    """Cut ``text`` into pieces MeCab can take one at a time (see the module docstring).

    Args:
        text: Any text, of any length.
        limit: Most characters of one piece.

    Returns:
        Consecutive pieces covering ``text`` (none for an empty text), each at most ``limit``
        characters and as long as ``text`` from its ``start``.
    """
    if len(text) <= limit and _UNSAFE_RE.search(text) is None:
        return [Piece(0, text, False)] if text else []
    pieces: list[Piece] = []
    start = 0
    size = len(text)
    while start < size:
        end = size if size - start <= limit else _cut(text, start, start + limit)
        part = text[start:end]
        if _UNSAFE_RE.search(part) is None:
            pieces.append(Piece(start, part, False))
        else:
            pieces.append(Piece(start, part.translate(_SAFE), True))
        start = end
    return pieces


def _cut(text: str, start: int, end: int) -> int:
    """Where to end the piece that starts at ``start`` and may end at ``end`` (< len(text)).

    A boundary is looked for in the second half of the window, so no piece is shorter than half
    the limit unless it is the last one.
    """
    floor = start + (end - start) // 2
    for chars in _BOUNDARY_TIERS:
        found = max(text.rfind(ch, floor, end) for ch in chars)
        if found >= 0:
            return found + 1
    stop = max(floor, end - _CLASS_LOOKBACK)
    at = end
    while at > stop:
        if _char_class(text[at - 1]) != _char_class(text[at]) and not _joins(text, at):
            return at
        at -= 1
    at = end
    while at > stop and _joins(text, at):
        at -= 1
    return at if at > stop else end


def _joins(text: str, at: int) -> bool:
    """Whether the character at ``at`` belongs to the one before it (no cut between them)."""
    return text[at - 1] == "\u200d" or unicodedata.category(text[at]) in _JOINING


def _char_class(ch: str) -> int:
    """A coarse version of MeCab's character categories (``char.def``)."""
    code = ord(ch)
    if 0x3041 <= code <= 0x309F:
        return 1  # hiragana
    if 0x30A0 <= code <= 0x30FF or 0x31F0 <= code <= 0x31FF or 0xFF66 <= code <= 0xFF9F:
        return 2  # katakana, full and half width
    if (
        0x4E00 <= code <= 0x9FFF
        or 0x3400 <= code <= 0x4DBF
        or 0xF900 <= code <= 0xFAFF
        or 0x20000 <= code <= 0x3FFFF
        or ch in "々〆"
    ):
        return 3  # kanji
    if ch.isdigit():
        return 4
    if ch.isalpha():
        return 5  # Latin, Greek, Cyrillic, Hangul...: letters MeCab groups into one word
    if ch.isspace():
        return 6
    return 7  # symbols, punctuation, emoji
