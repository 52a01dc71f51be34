"""Kana and kanji helpers shared by the reading index, query rewriting and suggest.

Readings are compared as hiragana: MeCab gives them in katakana, citizens type them in
hiragana, and a loanword typed in hiragana (「こんびに」) should meet its katakana spelling.
Long vowels are left as the normalizer leaves them (ー after katakana, and so after the
hiragana it becomes).
"""

from __future__ import annotations

_KATA_TO_HIRA = {c: c - 0x60 for c in range(0x30A1, 0x30F7)}  # ァ..ヶ → ぁ..ゖ
_KATA_TO_HIRA.update({0x30FD: 0x309D, 0x30FE: 0x309E})  # ヽヾ → ゝゞ


def to_hiragana(text: str) -> str:
    """Katakana turned into hiragana; everything else (ー, latin, kanji) unchanged."""
    return text.translate(_KATA_TO_HIRA)


def is_kanji(ch: str) -> bool:
    """CJK ideographs (unified, extension A and beyond, compatibility) and 々〆."""
    cp = ord(ch)
    return (
        0x4E00 <= cp <= 0x9FFF
        or 0x3400 <= cp <= 0x4DBF
        or 0xF900 <= cp <= 0xFAFF
        or 0x20000 <= cp <= 0x3FFFF
        or ch in "々〆"
    )


def has_kanji(text: str) -> bool:
    """Whether ``text`` holds at least one kanji."""
    return any(is_kanji(ch) for ch in text)


def is_hiragana(ch: str) -> bool:
    """Hiragana letters and the long-vowel mark (as typed in a hiragana word: 「こーひー」)."""
    return "\u3041" <= ch <= "\u3096" or ch == "ー"


def is_katakana_word(text: str) -> bool:
    """Whether ``text`` is written in katakana only (and ー), and is not empty."""
    return bool(text) and all("\u30a1" <= ch <= "\u30fa" or ch == "ー" for ch in text)


def grams(text: str, n: int) -> list[str]:
    """The character ``n``-grams of ``text`` in order (``text`` itself when shorter)."""
    if len(text) <= n:
        return [text] if text else []
    return [text[i : i + n] for i in range(len(text) - n + 1)]
