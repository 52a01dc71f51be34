"""Hypothesis strategies of hostile and messy text, shared by the fuzz tests.

Each text is built from pieces that have broken text handling before or could: long runs of
ASCII letters, digits and symbols (MeCab crashed on 135,000-200,000 of them), NUL (MeCab's C
string ends there), lone surrogates (no UTF-8 for them), combining marks, bidi controls, emoji
with joiners and variation selectors, kana, line and paragraph separators, BOM and zero-width
characters, and the pieces masking looks for (names, honorifics, phone numbers). Runs are a few
thousand characters at most, so a test stays fast while crossing the tagger's piece boundary;
the crash lengths themselves are reproduced in a subprocess (``tests/test_hostile_input.py``).
"""

from __future__ import annotations

from hypothesis import strategies as st

_MARKS = [
    "\x00",
    "\u0301",  # combining acute
    "\u3099",  # combining dakuten
    "\u200b",  # zero-width space
    "\u200d",  # zero-width joiner
    "\u200e",  # left-to-right mark
    "\u200f",  # right-to-left mark
    "\u202e",  # right-to-left override
    "\u2067",  # right-to-left isolate
    "\u2028",  # line separator
    "\ufeff",  # BOM
    "\ufe0f",  # variation selector
    "\U0001f468\u200d\U0001f469\u200d\U0001f467",  # family emoji (ZWJ sequence)
    "\U0001f44d\U0001f3fd",  # thumbs up, skin tone
    "\U0001f600",
    "\r\n",
    "\t",
    "\x1b[31m",
    "𠮟",  # outside the BMP
    "ｶﾞ",  # half-width katakana with a voicing mark
    "①",
    "שלום",  # Hebrew
    "مرحبا",  # Arabic
]
_WORDS = ["山田", "花子", "さん", "様", "090-1234-5678", "転入届", "市民課", "。", "、", " ", "\n"]

_RUN_CHARS = st.sampled_from(["x", "A", "1", "-", "０", "あ", "ア", "漢", "д", "😀", "\u0301", " "])


def _run(max_run: int) -> st.SearchStrategy[str]:
    """A run of one character: how MeCab's crash and quadratic time were found."""
    return st.builds(lambda ch, n: ch * n, _RUN_CHARS, st.integers(min_value=1, max_value=max_run))


def hostile_text(
    *, max_run: int = 3_000, surrogates: bool = True, max_pieces: int = 12
) -> st.SearchStrategy[str]:
    """Text made of hostile pieces (see the module docstring).

    Args:
        max_run: Longest run of one character.
        surrogates: Include lone surrogates (a JSON body can carry them; a file cannot).
        max_pieces: Most pieces joined into one text.
    """
    marks = [*_MARKS, "\ud800", "\udfff", "a\udc00b"] if surrogates else _MARKS
    piece = st.one_of(
        _run(max_run),
        st.sampled_from(marks),
        st.sampled_from(_WORDS),
        st.text(alphabet=st.characters(blacklist_categories=("Cs",)), max_size=20),
    )
    return st.lists(piece, max_size=max_pieces).map("".join)
