"""Japanese typed in Latin letters, the IME left off: 「juuminhyou toritai」 → じゅうみんひょう.

The adapter to ``jaconv`` (its ``alphabet2kana``). ``jaconv`` turns any letters into kana, an
English word too (「want」 → わんっ), so a text is taken for romaji only when each of its words
is made of the syllables of Hepburn or kunrei-shiki romanisation alone (「ka」, 「shi」, 「kyo」,
「n」, a doubled consonant for っ, 「-」 for ー). Whether such a text is Japanese at all
(「take me home」 is valid romaji) is for the search to decide, by whether the corpus knows the
words it spells (:meth:`kb.search.searcher.Searcher.rewrite`).
"""

from __future__ import annotations

import re

_SYLLABLE = (
    r"(?:"
    r"(?:[kgsztdnhbpmr]y|sh|ch|ts|j|f|v|w|y|[kgsztdnhbpmr])?[aiueo]"
    r"|n'?(?![aiueoy])"
    r"|n'"
    r"|([kgstdhbpmrjfcz])(?=\1)"
    r"|t(?=ch)"
    r"|-"
    r")"
)
_WORD = re.compile(rf"(?:{_SYLLABLE})+")
_LETTERS = re.compile(r"[A-Za-z][A-Za-z'\-]*")
_OTHER = re.compile(r"[\s0-9.,!?()\u3000]*")
"""What may stand between the words of a romaji text: spaces, digits, punctuation."""
_RENDAKU = (("tsuzu", "tsudu"), ("chiji", "chidi"))
"""Hepburn writes づ and ぢ as zu and ji; after つ and ち they are the voiced つ and ち
(つづき, ちぢむ), which is how the corpus's readings spell them."""


def romaji_to_kana(text: str) -> str | None:
    """``text`` in hiragana if it is written in romaji, else ``None``.

    Every run of letters must be romaji syllables (case is ignored); spaces, digits and
    punctuation are kept as they are. A text without letters is not romaji.
    """
    words = list(_LETTERS.finditer(text))
    if not words:
        return None
    out: list[str] = []
    pos = 0
    for match in words:
        between = text[pos : match.start()]
        word = match.group().lower()
        if not _OTHER.fullmatch(between) or not _WORD.fullmatch(word):
            return None
        out.append(between)
        out.append(_kana(word))
        pos = match.end()
    if not _OTHER.fullmatch(text[pos:]):
        return None
    out.append(text[pos:])
    return "".join(out)


def _kana(word: str) -> str:
    import jaconv

    for hepburn, kunrei in _RENDAKU:
        word = word.replace(hepburn, kunrei)
    # n' ends a syllable (kon'ya, han'i): each part is converted on its own.
    return "".join(str(jaconv.alphabet2kana(part)) for part in word.split("'"))
