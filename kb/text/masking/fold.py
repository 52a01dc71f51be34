"""The folded view of a text: what the masking rules match on (:mod:`kb.text.masking.patterns`).

NFKC, kanji numerals 〇一二…九 as digits, every dash as ``-`` (ー as a long vowel only after
katakana), the dots that show as ・ as ・, every Unicode space as a space, and invisible
characters dropped, so that full-width digits, kanji numerals (〇九〇ー一二三四ー五六七八) and
numbers split by look-alike separators are caught like ``090-1234-5678``; :class:`Folded` maps
each folded character back to the original text, which is what the rules edit.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass
from functools import lru_cache

# Kanji numerals fold to ASCII digits, every dash to "-" (ー after katakana stays ー).
KANJI_DIGITS = {c: str(i) for i, c in enumerate("〇一二三四五六七八九")}
KANJI_DIGITS["零"] = "0"
# Typed between digits too: the hyphen bullet, box and heavy dashes, two- and three-em dashes,
# the katakana double hyphen and the wavy dash.
DASH_CHARS = set(
    "-\u2010\u2011\u2012\u2013\u2014\u2015\u2212\u30fc\uff0d\uff70\u2500\u2501"
    "\u2043\u2574\u2796\u2e3a\u2e3b\u30a0\u3030"
)
# Dots that show as ・: the middle dot U+00B7, bullets, the hyphenation point, dot operators.
DOT_CHARS = set("\u00b7\u2022\u2027\u2219\u22c5")


@dataclass(frozen=True)
class Folded:
    """The folded view of a text and, for each of its characters, the original offset."""

    text: str
    origin: tuple[int, ...] | None
    """``None`` when every character folds to one character (the offsets are the same)."""
    origin_end: tuple[int, ...] | None = None
    """Where each folded character's original ends, when one folded character stands for
    several (ｻﾞ → ザ); ``None``: one past its origin."""

    def span(self, start: int, end: int) -> tuple[int, int]:
        """The original span of folded ``[start, end)``."""
        if self.origin is None:
            return start, end
        o_start = self.origin[start]
        if end <= start:
            return o_start, o_start
        if self.origin_end is not None:
            return o_start, self.origin_end[end - 1]
        return o_start, self.origin[end - 1] + 1


def _fold_char(ch: str) -> str:
    """What one character folds to; ー and ｰ are settled by :func:`fold` (they need context).

    An invisible format character (:data:`FORMAT_CHAR_RE`) folds to nothing, so that
    ``090<ZWSP>1234<ZWSP>5678`` is matched as the number it shows.
    """
    if FORMAT_CHAR_RE.match(ch):
        return ""
    if ch in KANJI_DIGITS:
        return KANJI_DIGITS[ch]
    if not ch.isascii() and unicodedata.decimal(ch, None) is not None:
        return str(unicodedata.decimal(ch))  # ٠٩٠, ०९० (digits of other scripts)
    if ch in DASH_CHARS:
        return "ー" if ch in "\u30fc\uff70" else "-"
    if ch in DOT_CHARS:
        return "・"
    if unicodedata.category(ch) in ("Zs", "Zl", "Zp") or ch == "\u2800":
        return " "  # every Unicode space (U+1680 too), line separators, the braille blank
    out = unicodedata.normalize("NFKC", ch)
    if out in ("\uff5e", "\u301c"):
        out = "~"
    if any(c in DASH_CHARS for c in out):
        out = "".join("-" if c in DASH_CHARS else c for c in out)
    return out or " "


BREAKS_RE = re.compile(r"([\t\r\n]+)")
"""Tabs and line breaks: what separates the columns and lines of a table. No masked span joins
two pieces across them (the group keeps them in :func:`re.split`)."""

FORMAT_CHAR_RE = re.compile(
    "[\u00ad\u061c\u180e\u200b-\u200f\u202a-\u202e\u2060-\u2064\u2066-\u206f\ufeff"
    "\ufff9-\ufffb\U0001d173-\U0001d17a\U000e0001\U000e0020-\U000e007f"
    "\u034f\u115f\u1160\u17b4\u17b5\u180b-\u180d\u180f\u3164\ufe00-\ufe0f\uffa0"
    "\U000e0100-\U000e01ef"
    # Combining marks (not the kana voicing marks U+3099/309A): 0\u0301 9 0 shows as a digit.
    "\u0300-\u036f\u1ab0-\u1aff\u1dc0-\u1dff\u20d0-\u20ff\ufe20-\ufe2f]"
)
"""Invisible characters that a text may carry between the characters of a number or a name;
the folded view drops them. The format characters (Unicode category Cf: zero-width space and
joiners, word joiner, soft hyphen, byte order mark, direction marks and isolates, tag
characters), and marks and letters that show as nothing: the combining grapheme joiner,
variation selectors (a kanji's IVS too: the name without it is the name), the Mongolian
free variation selectors, the Hangul fillers and Khmer's inherent vowels, and the combining
marks, which show on the character before them (a zero with an acute accent is still a zero;
Nguyễn written decomposed is read as Nguyen)."""


class _FoldTable(dict[int, str]):
    """``str.translate`` table that folds each new character once, then looks it up."""

    def __missing__(self, code: int) -> str:
        out = _fold_char(chr(code))
        self[code] = out
        return out


_FOLD_TABLE = _FoldTable()
# ー and ｰ (both translated to ー) are a long vowel after katakana, elsewhere a dash.
_DASH_VOWEL_RE = re.compile("(?<![\u30a1-\u30fc])ー+")


@lru_cache(maxsize=256)
def fold(text: str) -> Folded:
    """The folded view of ``text`` (see the module docstring).

    Args:
        text: Any text.

    Returns:
        The folded text, with the original offset of each of its characters.
    """
    # Cached: most rules leave a text unchanged, so the next rule folds the same text again.
    # str.translate folds character by character in C; only a text with a character that
    # folds to several (㈱ → (株)) needs the offsets mapped one by one.
    folded = text.translate(_FOLD_TABLE)
    if _VOICED_MARK_RE.search(folded):
        return _fold_voiced(text)
    if "ー" in folded:
        folded = _DASH_VOWEL_RE.sub(lambda m: "-" * len(m.group(0)), folded)
    # Equal lengths mean one character for one, unless a dropped format character made room.
    if len(folded) == len(text) and not FORMAT_CHAR_RE.search(text):
        return Folded(folded, None)
    origin: list[int] = []
    for i, ch in enumerate(text):
        origin.extend([i] * len(_FOLD_TABLE[ord(ch)]))
    return Folded(folded, tuple(origin))


# Half-width ﾞ and ﾟ fold to combining marks (ｻﾞ → サ + U+3099): composed with the kana
# before them (ザ), so that ﾄｳｻﾞ reads as トウザ and ﾊﾟｽﾎﾟｰﾄ as パスポート.
_VOICED_MARK_RE = re.compile("[\u3099\u309a]")


def _fold_voiced(text: str) -> Folded:
    chars: list[str] = []
    origin: list[int] = []
    origin_end: list[int] = []
    for i, ch in enumerate(text):
        for out in _FOLD_TABLE[ord(ch)]:
            if out in "\u3099\u309a" and chars:
                composed = unicodedata.normalize("NFC", chars[-1] + out)
                if len(composed) == 1:
                    chars[-1] = composed
                    origin_end[-1] = i + 1
                    continue
            chars.append(out)
            origin.append(i)
            origin_end.append(i + 1)
    folded = "".join(chars)
    if "ー" in folded:
        folded = _DASH_VOWEL_RE.sub(lambda m: "-" * len(m.group(0)), folded)
    return Folded(folded, tuple(origin), tuple(origin_end))
