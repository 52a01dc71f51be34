"""What the person-name rules read: a text, MeCab's morphemes with their offsets, the word lists.

Shared by :mod:`kb.text.masking.names` (tokens tagged 人名) and :mod:`kb.text.masking.kana`
(names in kana and katakana groups), with the character classes and honorifics they agree on.
"""

from __future__ import annotations

from bisect import bisect_left

from kb.text.masking.words import MaskingWords
from kb.text.mecab import MeCabTokenizer, Morpheme

HONORIFICS = frozenset({"様", "さん", "氏", "さま", "くん", "君", "ちゃん", "殿"})
CHILD_HONORIFICS = frozenset({"くん", "君", "ちゃん"})
"""Honorifics for children and pets: a common noun before them can be a given name (凛ちゃん)."""


def is_kanji(ch: str) -> bool:
    return "\u4e00" <= ch <= "\u9fff" or ch in "々〆ヶ"


def is_hiragana(ch: str) -> bool:
    return "\u3041" <= ch <= "\u3096"


def is_katakana(ch: str) -> bool:
    return "\u30a1" <= ch <= "\u30fa" or ch == "ー"


def is_person(word: Morpheme) -> bool:
    """Whether UniDic tags ``word`` as a person's name (名詞・固有名詞・人名)."""
    return word.pos2 == "固有名詞" and word.pos3 == "人名"


def is_honorific(word: Morpheme) -> bool:
    """Whether ``word`` is an honorific that MeCab split off as a suffix.

    たくさん, 模様 and 氏名 are words of their own: their さん, 様 and 氏 are no honorifics.
    """
    return word.surface in HONORIFICS and word.pos1 == "接尾辞"


class NameContext:
    """A text, its morphemes and their character offsets, and the word lists."""

    def __init__(
        self,
        tokenizer: MeCabTokenizer,
        text: str,
        words: list[Morpheme],
        lists: MaskingWords,
    ) -> None:
        self.tokenizer = tokenizer
        self.text = text
        self.words = words
        self.lists = lists
        self.starts = _offsets(text, words)
        self.ends = [s + len(w.surface) for s, w in zip(self.starts, words, strict=True)]
        self._by_end = {end: k for k, end in enumerate(self.ends)}
        self.start_set = frozenset(self.starts)
        """Where a morpheme starts: a name found by a rule starts at one."""
        self._before = lists.person_before_re

    def end(self, i: int) -> int:
        """Where morpheme ``i`` ends in the text."""
        return self.ends[i]

    def overlapping(self, start: int, end: int) -> list[Morpheme]:
        """The morphemes that overlap ``[start, end)``."""
        k = max(0, bisect_left(self.ends, start + 1))
        out: list[Morpheme] = []
        while k < len(self.words) and self.starts[k] < end:
            if self.ends[k] > start:
                out.append(self.words[k])
            k += 1
        return out

    def ending_at(self, pos: int) -> int | None:
        """The index of the morpheme that ends at ``pos``, if one does."""
        return self._by_end.get(pos)

    def person_before(self, start: int) -> bool:
        """Whether a person noun and a short joint end at ``start`` (妻の|, 名義 |)."""
        return bool(self._before.search(self.text, max(0, start - 12), start))

    def not_name(self, word: Morpheme) -> bool:
        """Whether ``word`` is a family, role or pet word (not a name before an honorific)."""
        lists = self.lists
        return any(w in lists.not_name or w in lists.person for w in (word.surface, word.lemma))

    def honorific_at(self, i: int) -> bool:
        """Whether morpheme ``i`` exists and is an honorific."""
        return i < len(self.words) and is_honorific(self.words[i])


def _offsets(text: str, words: list[Morpheme]) -> list[int]:
    starts: list[int] = []
    pos = 0
    for word in words:
        start = text.find(word.surface, pos)
        if start < 0:
            start = pos
        starts.append(start)
        pos = start + len(word.surface)
    return starts
