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


def _fields(word: Any) -> tuple[str, str, str]:
    """``(pos1, pos2, lemma)`` of a fugashi node.

    Splitting the first fields off the raw CSV is several times faster than fugashi's
    ``feature`` (a named tuple of 29 fields built for every word) and gives the same strings;
    unknown words (fewer fields) and quoted fields go through ``feature``.
    """
    head = str(word.feature_raw).split(",", 8)
    if len(head) > 8 and not any(f.startswith('"') for f in head[:8]):
        return head[0], head[1], head[7]
    feature = word.feature
    return str(feature.pos1), str(feature.pos2), str(feature.lemma or "")


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
            pos1, pos2, raw_lemma = _fields(word)
            is_proper = pos2 == "固有名詞"
            # Proper nouns keep their written form: their UniDic lemma is a katakana reading.
            lemma = surface if is_proper else _clean_lemma(raw_lemma, surface)
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
# A "name" followed by one of these is a place or an organization: 桜川市, 中村橋, 鈴木病院.
_PLACE_SUFFIXES = frozenset(
    [
        "市",
        "町",
        "村",
        "区",
        "郡",
        "県",
        "都",
        "府",
        "駅",
        "局",
        "署",
        "館",
        "園",
        "校",
        "橋",
        "川",
        "山",
        "台",
        "通り",
        "病院",
        "医院",
        "クリニック",
        "小学校",
        "中学校",
        "高校",
        "学園",
        "公園",
        "団地",
        "地区",
        "商店",
        "工務店",
        "会",
        "社",
        "屋",
        "家",
        "線",
        "式",
        "法",
        "賞",
    ]
)
# Titles after a bare surname (鈴木係長): the surname is still a name.
_TITLE_HEADS = frozenset(
    [
        "係",
        "係長",
        "課長",
        "部長",
        "主任",
        "主査",
        "主事",
        "先生",
        "医師",
        "議員",
        "委員",
        "保健師",
        "相談員",
        "社長",
        "所長",
        "院長",
        "室長",
        "局長",
        "副",
        "課",
        "部",
        "さん",
        "様",
        "氏",
        "一家",
        "家族",
        "宅",
        "方",
    ]
)
# Role words that take さん: not names.
_ROLE_WORDS = frozenset(
    [
        "ケアマネ",
        "ケアマネージャー",
        "ヘルパー",
        "ドライバー",
        "ボランティア",
        "オーナー",
        "スタッフ",
        "ママ",
        "パパ",
    ]
)


def person_name_spans(
    tokenizer: MeCabTokenizer, text: str, *, honorific_only: bool = False
) -> list[tuple[int, int]]:
    """Character spans of ``text`` that MeCab reads as people's names.

    A span is a run of tokens tagged 名詞・固有名詞・人名 (姓, 名 or 一般), or a proper noun,
    unknown word or katakana word directly followed by an honorific (様, さん, 氏...). Tokens
    followed by a place or organization suffix (桜川市, 鈴木病院) are not names. Two name
    tokens separated by spaces form one span (山田 太郎). Used to mask names before text is
    stored or logged; over-masking a rare word is the lesser harm.

    Args:
        tokenizer: The shared tokenizer (its per-thread tagger is reused).
        text: Any text.
        honorific_only: Only names directly followed by an honorific (for published text,
            where bare surnames are more often places or officials).

    Returns:
        Sorted, non-overlapping ``(start, end)`` character offsets.
    """
    words = [
        _Word(str(w.surface), w.feature, bool(getattr(w, "is_unk", False)))
        for w in tokenizer._tagger()(text)
    ]
    starts: list[int] = []
    pos = 0
    for word in words:
        start = text.find(word.surface, pos)
        if start < 0:
            start = pos
        starts.append(start)
        pos = start + len(word.surface)
    flags = [_is_name_token(words, i) for i in range(len(words))]
    spans: list[tuple[int, int]] = []
    i = 0
    while i < len(words):
        if not flags[i]:
            i += 1
            continue
        j = i
        while j + 1 < len(words) and flags[j + 1]:
            j += 1
        nxt = words[j + 1].surface if j + 1 < len(words) else ""
        if nxt in _PLACE_SUFFIXES or (honorific_only and nxt not in _HONORIFICS):
            i = j + 1
            continue
        if nxt not in _HONORIFICS and not _plausible_bare_name(words, i, j):
            i = j + 1
            continue
        start, end = starts[i], starts[j] + len(words[j].surface)
        if spans and not text[spans[-1][1] : start].strip():
            spans[-1] = (spans[-1][0], end)
        else:
            spans.append((start, end))
        i = j + 1
    return spans


@dataclass(frozen=True)
class _Word:
    """A MeCab node read once (fugashi parses its feature string on every access)."""

    surface: str
    feature: Any
    is_unk: bool


def _plausible_bare_name(words: list[_Word], i: int, j: int) -> bool:
    """Whether tokens ``i..j`` tagged 人名 without an honorific are really a name.

    UniDic tags many short words 人名 (マイナ in マイナ保険証, 日影 in 日影規制): a lone katakana
    token or a one-character token is not taken as a name, nor is a surname glued to a common
    noun other than a title (日影規制, but 鈴木係長 is a name).
    """
    if i == j:
        surface = words[i].surface
        if len(surface) < 2 or not all(_is_kanji(ch) for ch in surface):
            return False
    if j + 1 < len(words):
        nxt = words[j + 1]
        feature = nxt.feature
        if (
            str(feature.pos1) == "名詞"
            and str(feature.pos2) == "普通名詞"
            and nxt.surface not in _TITLE_HEADS
        ):
            return False
    return True


def _is_kanji(ch: str) -> bool:
    return "\u4e00" <= ch <= "\u9fff" or ch in "々〆ヶ"


def _is_name_token(words: list[_Word], i: int) -> bool:
    word = words[i]
    feature = word.feature
    surface = word.surface
    pos2 = str(feature.pos2)
    if pos2 == "固有名詞" and str(feature.pos3) == "人名":
        return True
    if i + 1 >= len(words) or words[i + 1].surface not in _HONORIFICS:
        return False
    if surface in _ROLE_WORDS or not surface.isalnum():
        return False
    if str(feature.pos1) == "名詞" and pos2 == "固有名詞":
        return str(feature.pos3) != "地名"
    if word.is_unk:
        return True
    return len(surface) >= 2 and all("\u30a1" <= ch <= "\u30fa" or ch == "ー" for ch in surface)
