"""MeCab adapter (fugashi + unidic-lite): the only module that imports fugashi.

The lexical index is built from the lemmas of content words. UniDic lemmas already fold many
表記ゆれ (ゴミ/ごみ → 塵, 一人暮らし/独り暮らし), which is why lemmas beat surface forms here.

No text reaches MeCab whole: every method tags the pieces of
:func:`kb.text.mecab_input.tagger_pieces` (at most :data:`~kb.text.mecab_input.MAX_TAGGER_CHARS`
characters, without NUL or lone surrogates), because one long input crashes the process.
Offsets and surfaces refer to the text as given; an ordinary text is one piece and is tagged
exactly as it would be whole.
"""

from __future__ import annotations

import threading
from dataclasses import dataclass
from functools import lru_cache
from typing import Any, NamedTuple

from kb.text.kana import to_hiragana
from kb.text.mecab_input import Piece, tagger_pieces

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


class Morpheme(NamedTuple):
    """One morpheme as the dictionary tags it: UniDic's part-of-speech levels, unfiltered.

    :class:`Token` is the lexical index's view (its lemma rules, a content flag, an offset);
    this is the dictionary's, for callers with rules of their own (masking's name detection).
    It carries no offset: the same word is the same ``Morpheme`` wherever it occurs.
    """

    surface: str
    pos1: str
    """Top-level part of speech (名詞, 動詞, 接尾辞...)."""
    pos2: str
    """Second level (固有名詞, 普通名詞, 数詞...)."""
    pos3: str
    """Third level (人名, 地名, 一般...)."""
    lemma: str
    """The dictionary form (loanword gloss dropped); the surface when the dictionary has none."""
    unknown: bool
    """Not in the dictionary: MeCab guessed the part of speech from the characters."""
    pos4: str = ""
    """Fourth level: 姓 (surname) or 名 (given name) under 人名; 一般 or ``*`` elsewhere."""


class Reading(NamedTuple):
    """One morpheme with its reading: what the reading index and query rewriting need."""

    surface: str
    kana: str
    """UniDic's reading of the word as written (its ``kana`` field, conjugation included), in
    hiragana as citizens type it; the surface (katakana made hiragana) when the dictionary
    has none (unknown words, symbols)."""
    term: str
    """Its lexical index term, as :meth:`MeCabTokenizer.terms` gives it (``""``: none)."""
    pos1: str
    """Top-level part of speech."""


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
_MORPHEMES: dict[tuple[str, str, bool], Morpheme] = {}
"""``(surface, feature_raw, is_unk)`` → the :class:`Morpheme` of a node."""
_READINGS: dict[tuple[str, str], Reading] = {}
"""``(surface, feature_raw)`` → the :class:`Reading` of a node."""
_UNSEEN = object()
_KANA_FIELD = 17
"""Index of ``kana`` in a unidic-lite feature string."""


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


def _pos4(word: Any, pos3: str) -> str:
    """The fourth part-of-speech level of a fugashi node, read only for names (人名)."""
    return str(word.feature.pos4) if pos3 == "人名" else ""


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


_FOREIGN_ORIGINS = frozenset({"外", "固"})
"""UniDic's word origins (語種) of loanwords and proper names."""
LOANWORD_MIN_CHARS = 3
"""Shortest word :meth:`MeCabTokenizer.loanwords` takes for a loanword: MeCab cuts katakana it
cannot read into short ones (トリ, タイ, エル, トレ)."""


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
        """Split ``text`` into morphemes with lemma, part of speech and offsets.

        Args:
            text: Any text, of any length.

        Returns:
            The morphemes in order; ``text[t.start : t.start + len(t.surface)] == t.surface``.
        """
        tokens: list[Token] = []
        tagger = self._tagger()
        for piece in tagger_pieces(text):
            pos = 0
            # Each piece's nodes are read before the next call: fugashi reuses the lattice.
            for word in tagger(piece.text):
                surface = str(word.surface)
                start = piece.text.find(surface, pos)
                if start < 0:
                    start = pos
                pos = start + len(surface)
                features = _features(word, str(word.feature_raw))
                lemma, content = _read(surface, features)
                if piece.altered:  # the text's own characters (a lone surrogate, not U+FFFD)
                    at = piece.start + start
                    surface = text[at : at + len(surface)]
                tokens.append(Token(surface, lemma, features[0], piece.start + start, content))
        return tokens

    def morphemes(self, text: str) -> list[Morpheme]:
        """Split ``text`` into morphemes as the dictionary tags them.

        Args:
            text: Any text.

        Returns:
            Every morpheme of ``text`` in order, punctuation and particles included.
        """
        out: list[Morpheme] = []
        known = _MORPHEMES
        tagger = self._tagger()
        for piece in tagger_pieces(text):
            if piece.altered:
                out.extend(_altered_morphemes(tagger, text, piece))
                continue
            for word in tagger(piece.text):
                key = (word.surface, word.feature_raw, word.is_unk)
                morpheme = known.get(key)
                if morpheme is None:
                    surface = str(word.surface)
                    pos1, pos2, pos3, lemma = _features(word, str(word.feature_raw))
                    lemma = _clean_lemma(lemma, surface)
                    morpheme = Morpheme(
                        surface, pos1, pos2, pos3, lemma, bool(word.is_unk), _pos4(word, pos3)
                    )
                    if len(known) < _CACHE_LIMIT:
                        known[key] = morpheme
                out.append(morpheme)
        return out

    def readings(self, text: str) -> list[Reading]:
        """Every morpheme of ``text`` with its kana reading and its index term, in order.

        Args:
            text: Normalized text, of any length.

        Returns:
            One :class:`Reading` per morpheme, particles and punctuation included (a replaced
            character is U+FFFD in its surface, as in every index term).
        """
        out: list[Reading] = []
        known = _READINGS
        tagger = self._tagger()
        for piece in tagger_pieces(text):
            for word in tagger(piece.text):
                key = (word.surface, word.feature_raw)
                found = known.get(key)
                if found is None:
                    surface, raw = str(key[0]), str(key[1])
                    features = _features(word, raw)
                    found = Reading(
                        surface,
                        to_hiragana(_kana(word, raw) or surface),
                        _term(*_read(surface, features)),
                        features[0],
                    )
                    if len(known) < _CACHE_LIMIT:
                        known[key] = found
                out.append(found)
        return out

    def loanwords(self, text: str) -> bool:
        """Whether MeCab reads ``text`` as dictionary words that are all loanwords or names.

        UniDic's word origin (語種) is 外 or 固 for each, and each is of
        :data:`LOANWORD_MIN_CHARS` characters at least: ネットショッピング, コロナワクチン,
        ヤマダ. A native word spelled in katakana is not (サギ for 詐欺 is 漢), nor a string the
        dictionary does not know (カゼイショウメイショガホシイ), nor kana that MeCab can only cut
        into short loanwords (トリタイ as トリ + タイ, モラエル as モラ + エル).
        """
        tagger = self._tagger()
        for piece in tagger_pieces(text):
            for word in tagger(piece.text):
                if (
                    word.is_unk
                    or word.feature.goshu not in _FOREIGN_ORIGINS
                    or len(word.surface) < LOANWORD_MIN_CHARS
                ):
                    return False
        return True

    def lemmas(self, text: str) -> tuple[str, ...]:
        """Lemmas of the content words of ``text``: the terms of the lexical index."""
        return _cached_lemmas(self, text)

    def terms(self, text: str) -> tuple[str, ...]:
        """:meth:`lemmas` without the per-text memo (for ingest, where texts rarely repeat).

        Builds no :class:`Token`: one lookup per node in a memo keyed by its raw features (or,
        for the few nodes whose term depends on the surface, by surface and features).
        """
        out: list[str] = []
        tagger = self._tagger()
        for piece in tagger_pieces(text):
            # A replaced character stays U+FFFD here: an index term never holds a surrogate.
            _piece_terms(tagger, piece.text, out)
        return tuple(out)


def _piece_terms(tagger: Any, text: str, out: list[str]) -> None:
    """Append the index terms of ``text`` (one tagger call) to ``out``."""
    by_raw = _RAW_TERMS
    by_surface = _TERMS
    for word in tagger(text):
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


def _altered_morphemes(tagger: Any, text: str, piece: Piece) -> list[Morpheme]:
    """The morphemes of a piece in which characters were replaced, with the text's surfaces.

    Lemmas are read from the replaced characters (U+FFFD, never a lone surrogate), like every
    lemma and index term; the memo is bypassed, as its key is the replaced surface.
    """
    out: list[Morpheme] = []
    pos = 0
    for word in tagger(piece.text):
        tagged = str(word.surface)
        start = piece.text.find(tagged, pos)
        if start < 0:
            start = pos
        pos = start + len(tagged)
        pos1, pos2, pos3, lemma = _features(word, str(word.feature_raw))
        at = piece.start + start
        surface = text[at : at + len(tagged)]
        lemma = _clean_lemma(lemma, tagged)
        out.append(Morpheme(surface, pos1, pos2, pos3, lemma, bool(word.is_unk), _pos4(word, pos3)))
    return out


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


def _kana(word: Any, raw: str) -> str:
    """The ``kana`` field of a node (``""`` when it has none: unknown words, most symbols)."""
    head = raw.split(",", _KANA_FIELD + 1)
    if len(head) > _KANA_FIELD + 1 and not any(f.startswith('"') for f in head[: _KANA_FIELD + 1]):
        kana = head[_KANA_FIELD]
    else:
        kana = str(getattr(word.feature, "kana", "") or "") if len(head) > _KANA_FIELD else ""
    return "" if kana == "*" else kana


@lru_cache(maxsize=4096)
def _cached_lemmas(tokenizer: MeCabTokenizer, text: str) -> tuple[str, ...]:
    return tokenizer.terms(text)


def _is_punct(term: str) -> bool:
    return all(not ch.isalnum() for ch in term)
