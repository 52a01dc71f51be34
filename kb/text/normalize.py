"""Japanese text normalization, shared by documents and queries so the two cannot drift.

The rules are conservative: each one maps only variants that never change meaning in municipal
text. Bump :data:`NORMALIZER_VERSION` whenever a rule changes, because indexes record it in their
manifest and refuse to load under another version.
"""

from __future__ import annotations

import re
import unicodedata

NORMALIZER_VERSION = "1"

# Dash-like characters that NFKC leaves alone. After katakana they are a long-vowel mark
# (ｰ, ―, ‐ typed instead of ー); between digits/latin they are a hyphen (099‐555‐1101).
_DASHES = "\u2010\u2011\u2012\u2013\u2014\u2015\u2212\u30fc\uff70\u2500\u2501"
_LONG_VOWEL_RE = re.compile(rf"(?<=[\u30a1-\u30fa\u30fc])[{_DASHES}]+")
_HYPHEN_RE = re.compile(rf"(?<=[0-9A-Za-z])[{_DASHES}](?=[0-9A-Za-z])")
# Wave dash and tilde variants (〜 U+301C, ～ U+FF5E → "~" after NFKC, 〰).
_WAVE_RE = re.compile("[\u301c\u3030\uff5e]")
_SPACE_RE = re.compile(r"[\s\u3000\u200b\ufeff]+")
# Control characters other than newline/tab, which survive copy-paste from PDFs and Excel.
_CONTROL_RE = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")


_SURROGATE_RE = re.compile("[\ud800-\udfff]")


def without_surrogates(text: str) -> str:
    """``text`` with each lone surrogate replaced by U+FFFD, one character for one.

    A Python string can hold one (Excel's escape ``_xD800_``, a PDF font's ToUnicode map), but
    it cannot be written as UTF-8: not to SQLite, a hash, a log or the terminal."""
    if not _SURROGATE_RE.search(text):
        return text
    return _SURROGATE_RE.sub("\ufffd", text)


def normalize(text: str, *, keep_newlines: bool = False) -> str:
    """Normalize Japanese text for indexing and querying.

    Applies NFKC (full-width ASCII and digits to half-width, half-width katakana to full-width,
    compatibility characters such as ① to their plain form), lower-cases Latin letters, unifies
    long-vowel marks after katakana, hyphens between alphanumerics and wave dashes, removes
    control characters and collapses whitespace.

    Args:
        text: Any text.
        keep_newlines: Keep single line breaks (collapsing other whitespace); used for
            document bodies whose line structure matters for chunking.

    Returns:
        The normalized text; normalizing it again returns it unchanged.
    """
    text = _CONTROL_RE.sub(" ", text)
    text = unicodedata.normalize("NFKC", text)
    text = _WAVE_RE.sub("~", text)
    text = _LONG_VOWEL_RE.sub("ー", text)
    text = _HYPHEN_RE.sub("-", text)
    text = text.lower()
    if keep_newlines:
        lines = (_SPACE_RE.sub(" ", line).strip() for line in text.splitlines())
        return "\n".join(line for line in lines if line)
    return _SPACE_RE.sub(" ", text).strip()
