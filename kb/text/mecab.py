"""MeCab adapter (fugashi + unidic-lite): the only module that imports fugashi.

The lexical index is built from the lemmas of content words. UniDic lemmas already fold many
表記ゆれ (ゴミ/ごみ → 塵, 一人暮らし/独り暮らし), which is why lemmas beat surface forms here.
"""

from __future__ import annotations

import threading
from dataclasses import dataclass
from functools import lru_cache
from typing import Any

TOKENIZER_VERSION = "unidic-lite-lemma-1"

# Parts of speech kept as content words; 助詞/助動詞/代名詞 carry no topic.
_CONTENT_POS1 = {"名詞", "動詞", "形容詞", "形状詞", "副詞", "接尾辞", "記号"}
_SKIP_POS2 = {"数詞"}
# Light verbs, formal nouns and polite fillers (as UniDic lemmas). UniDic marks many real verbs
# (出す, 忘れる) 非自立可能 too, so a lemma list is more precise than that POS flag.
STOP_LEMMAS = frozenset(
    [
        "為る",
        "居る",
        "有る",
        "成る",
        "出来る",
        "来る",
        "行く",
        "見る",
        "置く",
        "仕舞う",
        "上げる",
        "呉れる",
        "貰う",
        "頂く",
        "下さる",
        "致す",
        "思う",
        "言う",
        "無い",
        "良い",
        "欲しい",
        "易い",
        "難い",
        "御座る",
        "参る",
        "申す",
        "存ずる",
        "頂ける",
        "呉れる",
        "遣る",
        "得る",
        "貰える",
        "事",
        "物",
        "為",
        "様",
        "所",
        "方",
        "時",
        "中",
        "等",
        "際",
        "件",
        "訳",
        "筈",
        "的",
        "達",
        "さん",
        "様々",
        "ちょっと",
        "一寸",
        "どう",
        "如何",
        "何",
        "もう",
        "未だ",
        "とても",
        "色々",
        "良く",
        "迚も",
        "矢張り",
        "本当",
        "今",
        "分かる",
        "教える",
        "知る",
        "聞く",
        "尋ねる",
        "付く",
        "つく",
    ]
)


@dataclass(frozen=True)
class Token:
    """One morpheme as the rest of kb sees it."""

    surface: str
    lemma: str
    pos: str
    start: int
    """Character offset of ``surface`` in the analysed text."""
    content: bool


def _clean_lemma(lemma: str, surface: str) -> str:
    # UniDic writes loanword lemmas as "ネット-net"; the part after the hyphen is an English gloss.
    if not lemma or lemma == "*":
        return surface
    head, _, _ = lemma.partition("-")
    return head or surface


class MeCabTokenizer:
    """Thread-safe wrapper around a fugashi ``Tagger`` with the unidic-lite dictionary."""

    version = TOKENIZER_VERSION

    def __init__(self) -> None:
        self._local = threading.local()

    def _tagger(self) -> Any:
        # A Tagger is not safe to share between threads; one per thread is cheap.
        tagger = getattr(self._local, "tagger", None)
        if tagger is None:
            import fugashi

            tagger = fugashi.Tagger()
            self._local.tagger = tagger
        return tagger

    def analyze(self, text: str) -> list[Token]:
        """Split ``text`` into morphemes with lemma, part of speech and offsets."""
        tokens: list[Token] = []
        pos = 0
        for word in self._tagger()(text):
            surface = str(word.surface)
            start = text.find(surface, pos)
            if start < 0:
                start = pos
            pos = start + len(surface)
            feature = word.feature
            pos1 = str(feature.pos1)
            pos2 = str(feature.pos2)
            is_proper = pos2 == "固有名詞"
            # Proper nouns keep their written form: their UniDic lemma is a katakana reading.
            lemma = surface if is_proper else _clean_lemma(str(feature.lemma or ""), surface)
            content = pos1 in _CONTENT_POS1 and pos2 not in _SKIP_POS2
            if pos1 == "記号" and not surface.isalnum():
                content = False
            if pos1 == "接尾辞" and pos2 != "名詞的":
                content = False
            tokens.append(Token(surface, lemma, pos1, start, content))
        return tokens

    def lemmas(self, text: str) -> tuple[str, ...]:
        """Lemmas of the content words of ``text``: the terms of the lexical index."""
        return _cached_lemmas(self, text)


@lru_cache(maxsize=4096)
def _cached_lemmas(tokenizer: MeCabTokenizer, text: str) -> tuple[str, ...]:
    out: list[str] = []
    for token in tokenizer.analyze(text):
        if not token.content:
            continue
        term = token.lemma.strip()
        if term and term not in STOP_LEMMAS and not _is_punct(term):
            out.append(term)
    return tuple(out)


def _is_punct(term: str) -> bool:
    return all(not ch.isalnum() for ch in term)


_HONORIFICS = frozenset({"様", "さん", "氏", "さま", "くん", "君", "ちゃん", "殿"})


def person_name_spans(tokenizer: MeCabTokenizer, text: str) -> list[tuple[int, int]]:
    """Character spans of ``text`` that MeCab reads as people's names.

    A span is a run of tokens tagged 名詞・固有名詞・人名 (姓, 名 or 一般), or a proper noun or
    unknown word directly followed by an honorific (様, さん, 氏...). Used to mask names
    before a query is logged; over-masking a rare word is the lesser harm.

    Args:
        tokenizer: The shared tokenizer (its per-thread tagger is reused).
        text: Any text.

    Returns:
        Sorted, non-overlapping ``(start, end)`` character offsets.
    """
    words = list(tokenizer._tagger()(text))
    spans: list[tuple[int, int]] = []
    pos = 0
    for i, word in enumerate(words):
        surface = str(word.surface)
        start = text.find(surface, pos)
        if start < 0:
            start = pos
        pos = start + len(surface)
        feature = word.feature
        is_name = str(feature.pos2) == "固有名詞" and str(feature.pos3) == "人名"
        if not is_name and i + 1 < len(words) and str(words[i + 1].surface) in _HONORIFICS:
            proper = str(feature.pos1) == "名詞" and str(feature.pos2) == "固有名詞"
            is_name = proper or bool(getattr(word, "is_unk", False))
        if not is_name:
            continue
        if spans and spans[-1][1] == start:
            spans[-1] = (spans[-1][0], pos)
        else:
            spans.append((start, pos))
    return spans
