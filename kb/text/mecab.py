"""MeCab adapter (fugashi + unidic-lite): the only module that imports fugashi.

The lexical index is built from the lemmas of content words. UniDic lemmas already fold many
表記ゆれ (ゴミ/ごみ → 塵, 一人暮らし/独り暮らし), which is why lemmas beat surface forms here.
"""

from __future__ import annotations

import threading
from dataclasses import dataclass
from functools import lru_cache
from typing import Any, NamedTuple

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


Features = tuple[str, str, str, str]
"""``(pos1, pos2, pos3, lemma)`` of a MeCab node."""

# Everything kb reads from a node depends only on its surface and its raw feature string, and a
# corpus has a few tens of thousands of distinct ones: reading each once, then a dict lookup per
# node, makes the Python side of tokenizing several times cheaper than MeCab itself. Bounded so
# that a stream of unknown words cannot grow them without limit (past it, nodes are read anew).
_CACHE_LIMIT = 500_000
_FEATURES: dict[str, Features] = {}
_RAW_TERMS: dict[str, str | None] = {}
"""``feature_raw`` → the index term of the node (``""``: none; ``None``: see :data:`_TERMS`)."""
_TERMS: dict[tuple[str, str], str] = {}
"""``(surface, feature_raw)`` → the term of a node whose term depends on its surface."""
_UNSEEN = object()


def _features(word: Any, raw: str) -> Features:
    """``(pos1, pos2, pos3, lemma)`` of a fugashi node whose raw feature string is ``raw``.

    Splitting the first fields off the raw CSV is several times faster than fugashi's
    ``feature`` (a named tuple of 29 fields built for every word) and gives the same strings;
    unknown words (fewer fields) and quoted fields go through ``feature``. Memoised per ``raw``.
    """
    found = _FEATURES.get(raw)
    if found is None:
        head = raw.split(",", 8)
        if len(head) > 8 and not any(f.startswith('"') for f in head[:8]):
            found = (head[0], head[1], head[2], head[7])
        else:
            feature = word.feature
            found = (
                str(feature.pos1),
                str(feature.pos2),
                str(feature.pos3),
                str(feature.lemma or ""),
            )
        if len(_FEATURES) < _CACHE_LIMIT:
            _FEATURES[raw] = found
    return found


def _fields(word: Any) -> tuple[str, str, str]:
    """``(pos1, pos2, lemma)`` of a fugashi node."""
    pos1, pos2, _, lemma = _features(word, str(word.feature_raw))
    return pos1, pos2, lemma


def _read(surface: str, features: Features) -> tuple[str, bool]:
    """``(lemma, content)`` of a node: the rules of the lexical index, in one place."""
    pos1, pos2, _, raw_lemma = features
    # Proper nouns keep their written form: their UniDic lemma is a katakana reading.
    lemma = surface if pos2 == "固有名詞" else _clean_lemma(raw_lemma, surface)
    content = pos1 in _CONTENT_POS1 and pos2 not in _SKIP_POS2
    if pos1 == "記号" and not surface.isalnum():
        content = False
    if pos1 == "接尾辞" and pos2 != "名詞的":
        content = False
    return lemma, content


def _term(lemma: str, content: bool) -> str:
    """The index term of a node (``""``: none): content words minus stop lemmas and punctuation."""
    if not content:
        return ""
    term = lemma.strip()
    if term and term not in STOP_LEMMAS and not _is_punct(term):
        return term
    return ""


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
            features = _features(word, str(word.feature_raw))
            lemma, content = _read(surface, features)
            tokens.append(Token(surface, lemma, features[0], start, content))
        return tokens

    def lemmas(self, text: str) -> tuple[str, ...]:
        """Lemmas of the content words of ``text``: the terms of the lexical index."""
        return _cached_lemmas(self, text)

    def terms(self, text: str) -> tuple[str, ...]:
        """:meth:`lemmas` without the per-text memo (for ingest, where texts rarely repeat).

        Builds no :class:`Token`: one lookup per node in a memo keyed by its raw features (or,
        for the few nodes whose term depends on the surface, by surface and features).
        """
        out: list[str] = []
        by_raw = _RAW_TERMS
        by_surface = _TERMS
        for word in self._tagger()(text):
            raw = word.feature_raw
            found = by_raw.get(raw, _UNSEEN)
            if isinstance(found, str):
                term = found
            elif found is None:
                key = (word.surface, raw)
                known = by_surface.get(key)
                if known is None:
                    known = _term(*_read(key[0], _features(word, raw)))
                    if len(by_surface) < _CACHE_LIMIT:
                        by_surface[key] = known
                term = known
            else:
                features = _features(word, raw)
                if _surface_free(features):
                    # Any surface gives the same term: read it with a placeholder surface.
                    term = _term(*_read("", features))
                    if len(by_raw) < _CACHE_LIMIT:
                        by_raw[raw] = term
                else:
                    term = _term(*_read(word.surface, features))
                    if len(by_raw) < _CACHE_LIMIT:
                        by_raw[raw] = None
            if term:
                out.append(term)
        return tuple(out)


def _surface_free(features: Features) -> bool:
    """Whether the term of a node with ``features`` is the same whatever its surface.

    The surface matters for proper nouns (kept as written), for symbols (kept when
    alphanumeric) and for lemmas missing from the dictionary (the surface stands in), unless
    the part of speech alone already rules the node out.
    """
    pos1, pos2, _, lemma = features
    if pos1 not in _CONTENT_POS1 or pos2 in _SKIP_POS2:
        return True
    if pos1 == "接尾辞" and pos2 != "名詞的":
        return True
    if pos2 == "固有名詞" or pos1 == "記号":
        return False
    return bool(lemma) and lemma != "*" and bool(lemma.partition("-")[0])


@lru_cache(maxsize=4096)
def _cached_lemmas(tokenizer: MeCabTokenizer, text: str) -> tuple[str, ...]:
    return tokenizer.terms(text)


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
    honorific = any(h in text for h in _HONORIFICS)
    if honorific_only and not honorific:
        # Every span then needs an honorific token after it: none can be found.
        return []
    nodes = tokenizer._tagger()(text)
    if not honorific and not any(_is_person(_features(w, w.feature_raw)) for w in nodes):
        # Without an honorific only a token tagged 人名 starts a span: most texts have none.
        return []
    words = [
        _Word(str(w.surface), *_features(w, str(w.feature_raw))[:3], bool(w.is_unk)) for w in nodes
    ]
    flags = [_is_name_token(words, i) for i in range(len(words))]
    if not any(flags):
        return []
    starts: list[int] = []
    pos = 0
    for word in words:
        start = text.find(word.surface, pos)
        if start < 0:
            start = pos
        starts.append(start)
        pos = start + len(word.surface)
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


class _Word(NamedTuple):
    """A MeCab node read once (fugashi parses its feature string on every access)."""

    surface: str
    pos1: str
    pos2: str
    pos3: str
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
        if nxt.pos1 == "名詞" and nxt.pos2 == "普通名詞" and nxt.surface not in _TITLE_HEADS:
            return False
    return True


def _is_kanji(ch: str) -> bool:
    return "\u4e00" <= ch <= "\u9fff" or ch in "々〆ヶ"


def _is_person(features: Features) -> bool:
    return features[1] == "固有名詞" and features[2] == "人名"


def _is_name_token(words: list[_Word], i: int) -> bool:
    word = words[i]
    surface = word.surface
    pos2 = word.pos2
    if pos2 == "固有名詞" and word.pos3 == "人名":
        return True
    if i + 1 >= len(words) or words[i + 1].surface not in _HONORIFICS:
        return False
    if surface in _ROLE_WORDS or not surface.isalnum():
        return False
    if word.pos1 == "名詞" and pos2 == "固有名詞":
        return word.pos3 != "地名"
    if word.is_unk:
        return True
    return len(surface) >= 2 and all("\u30a1" <= ch <= "\u30fa" or ch == "ー" for ch in surface)
