"""What is built from the corpus's readings: a lexical field over them and the corpus's own words.

Citizens type 「こくみんけんこうほけん」 unconverted, convert half of it (「こくみん健康ほけん」),
drop or double a character (「国民年金金」). Two things built here from the chunks' MeCab
readings (:meth:`kb.text.mecab.MeCabTokenizer.readings`) let the search meet them:

* **A reading field**: the hiragana reading of each chunk, cut into character bigrams, scored
  with the same BM25 as the lemmas (:class:`~kb.index.lexical.LexicalIndex`). A kana query is
  often segmented by MeCab quite differently from the kanji text it stands for, so whole words
  rarely match; reading bigrams do, whatever the segmentation.
* **A vocabulary**: the corpus's content words and compounds of up to :data:`MAX_RUN` words
  with their frequencies, and for each hiragana reading the written form the corpus uses for
  it *at least as often as not* (counted against every occurrence of that kana string in the
  corpus's readings, so 「して」, which is mostly a verb ending, never becomes 指定 and 「とし」
  never 都市). The query side (:mod:`kb.search.rewrite`) turns kana back into kanji and
  mends typos with it, so the embedding model sees 国民健康保険 and not the kana.

Nothing here is tuned on queries: the vocabulary and the conversion rule come from the corpus.
"""

from __future__ import annotations

import json
import re
from array import array
from collections import Counter, defaultdict
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import TYPE_CHECKING

from kb.errors import IndexError_
from kb.index.lexical import BM25Params, LexicalIndex
from kb.store import text_hash
from kb.text.kana import grams, has_kanji, is_hiragana, is_katakana_word
from kb.text.masking import strip_placeholders
from kb.text.mecab import TOKENIZER_VERSION, Reading

if TYPE_CHECKING:
    from kb.store.readings_cache import ReadingsCache
    from kb.text.mecab import MeCabTokenizer

READINGS_VERSION = "1"
"""Bump when the reading field or the vocabulary changes: older index folders are refused."""
GRAM = 2
"""Reading bigrams: trigrams on top doubled the field's size for no steadier gain."""
MAX_RUN = 3
"""Longest compound (in words) the vocabulary records: 国民 + 健康 + 保険."""
MIN_READING = 2
"""Shortest reading converted to kanji: one kana (し, き) is too ambiguous."""
CONVERT_SHARE = 0.5
"""A reading is converted when the corpus writes that kana string as this word at least as
often as not. Kana says nothing to the embedding model, so a conversion that is right at
least half the time is worth making; below that, 「して」 would become 指定."""
MIN_WORD_COUNT = 2
"""Compounds seen once are left out of the vocabulary (a typo target should recur)."""
MAX_WORDS = 200_000
"""The most frequent words kept in the vocabulary (the municipal FAQ has 14,000): a case
archive of a million chunks must not load millions into every worker."""
MAX_CONVERSIONS = 200_000
"""The readings kept for conversion, most often written first (the municipal FAQ has 23,000)."""
OCCURRENCE_SAMPLE = 4000
"""Chunks whose readings are scanned to count how often each kana string occurs: a share needs
a sample, not the whole corpus, and the scan is the slow part of a large build."""
MAX_COUNTED = 10
"""Longer readings are not counted in the sample: they occur as that word or not at all."""

_SEPARATORS = frozenset({"補助記号", "空白"})
_AFFIXES = frozenset({"接頭辞", "接尾辞"})


def reading_segments(readings: Sequence[Reading]) -> list[str]:
    """The hiragana reading of a text, cut at punctuation and spaces.

    Every morpheme counts, particles included: a kana query is one unsegmented string, and
    its reading must be cut the same way as the documents'.
    """
    out: list[str] = []
    current: list[str] = []
    for r in readings:
        if r.pos1 in _SEPARATORS:
            if current:
                out.append("".join(current))
                current = []
            continue
        current.append(r.kana)
    if current:
        out.append("".join(current))
    return out


def reading_terms(readings: Sequence[Reading]) -> list[str]:
    """The terms of the reading field: bigrams of :func:`reading_segments`."""
    return [g for segment in reading_segments(readings) for g in grams(segment, GRAM)]


@lru_cache(maxsize=1 << 16)
def _is_reading(text: str) -> bool:
    return bool(text) and all(is_hiragana(ch) for ch in text)


@lru_cache(maxsize=1 << 16)
def _has_kanji(text: str) -> bool:
    return has_kanji(text)


@lru_cache(maxsize=1 << 16)
def _is_katakana(text: str) -> bool:
    return is_katakana_word(text)


@dataclass(frozen=True)
class Vocabulary:
    """The corpus's own words, for query rewriting (see the module docstring)."""

    conversions: Mapping[str, str]
    """Hiragana reading → the written form the corpus uses for it at least as often as not."""
    words: Mapping[str, int]
    """Content words and compounds of the corpus (as written) → how often they occur."""

    def save(self, path: Path) -> None:
        """Write the vocabulary as JSON to ``path`` (the index folder names the file)."""
        data = {
            "version": READINGS_VERSION,
            "conversions": dict(self.conversions),
            "words": dict(self.words),
        }
        path.write_text(json.dumps(data, ensure_ascii=False), encoding="utf-8")

    @classmethod
    def load(cls, path: Path) -> Vocabulary:
        """Read what :meth:`save` wrote.

        Raises:
            IndexError_: There is none (an index built by an older kb), or of another version.
        """
        try:
            data = json.loads(path.read_text(encoding="utf-8"))
        except (OSError, ValueError) as exc:
            raise IndexError_(
                f"index {path.parent} has no readings vocabulary ({exc}): it was built by an"
                " older kb; run `kb build`"
            ) from exc
        if not isinstance(data, dict) or data.get("version") != READINGS_VERSION:
            found = data.get("version") if isinstance(data, dict) else None
            raise IndexError_(
                f"index {path.parent} has readings version {found!r} (this kb reads"
                f" {READINGS_VERSION}); run `kb build`"
            )
        conversions, words = data.get("conversions"), data.get("words")
        if not isinstance(conversions, dict) or not isinstance(words, dict):
            raise IndexError_(f"index {path.parent}: {path.name} is damaged; run `kb build`")
        return cls(conversions, words)


@dataclass(frozen=True)
class TextReadings:
    """What a build takes from one text's readings (:func:`text_readings`).

    It depends on the text alone, so it is what the readings cache keeps (:class:`CachedReadings`):
    the costly part of a build (MeCab, and the walk over the compounds) is done once per text.
    """

    segments: tuple[str, ...]
    """:func:`reading_segments` of the text."""
    words: tuple[str, ...]
    """Its words and compounds as written, in order, once per occurrence."""
    spellings: tuple[tuple[str, str], ...]
    """``(kana reading, written form)`` of those read all in kana, in order; the form is
    ``""`` where it is written in hiragana (counts against converting the reading). A word in
    katakana is a written form like one with kanji: a query typed on a phone without
    conversion has its loanwords in hiragana too (まいなんばーかーど for マイナンバーカード)."""


def text_readings(readings: Sequence[Reading]) -> TextReadings:
    """The segments, words and spellings of one text's readings."""
    words: list[str] = []
    spellings: list[tuple[str, str]] = []
    run: list[Reading] = []
    for r in [*readings, None]:
        if r is not None and (r.term or r.pos1 in _AFFIXES):
            run.append(r)
            continue
        _compounds(run, words, spellings)
        run = []
    return TextReadings(tuple(reading_segments(readings)), tuple(words), tuple(spellings))


def _compounds(run: list[Reading], words: list[str], spellings: list[tuple[str, str]]) -> None:
    """The words and compounds (up to :data:`MAX_RUN` words) of a run of words."""
    if not run:
        return
    kana_ok = [_is_reading(r.kana) for r in run]
    kanji = [_has_kanji(r.surface) for r in run]
    katakana = [_is_katakana(r.surface) for r in run]
    for i in range(len(run)):
        surface = reading = ""
        has_term, all_kana, any_kanji, all_katakana = False, True, False, True
        for j in range(i, min(len(run), i + MAX_RUN)):
            r = run[j]
            surface += r.surface
            reading += r.kana
            has_term = has_term or bool(r.term)
            all_kana = all_kana and kana_ok[j]
            any_kanji = any_kanji or kanji[j]
            all_katakana = all_katakana and katakana[j]
            if not has_term:
                continue
            words.append(surface)
            if all_kana and len(reading) >= MIN_READING:
                # Written in hiragana in the corpus (""): counts against converting it.
                written = any_kanji or all_katakana
                spellings.append((reading, surface if written else ""))


class ReadingsBuilder:
    """Collects the readings of every chunk, then builds the reading field and the vocabulary.

    Args:
        chunks: How many chunks will be added; every n-th one goes into the occurrence sample,
            so that the sample spreads over the whole corpus.
    """

    def __init__(self, chunks: int) -> None:
        self._spellings: dict[str, Counter[str]] = defaultdict(Counter)
        self._words: Counter[str] = Counter()
        self._streams: list[str] = []
        self._stride = max(1, -(-chunks // OCCURRENCE_SAMPLE))
        # Each chunk's bigrams as ids (4 bytes each): as lists of strings, a million chunks'
        # bigrams took more than 20 GB before the field was built.
        self._ids: dict[str, int] = {}
        self._names: list[str] = []
        self._titles: list[array[int]] = []
        self._texts: list[array[int]] = []

    def add(self, title: Sequence[Reading], text: Sequence[Reading]) -> None:
        """Record one chunk's title and text readings."""
        self.add_texts(text_readings(title), text_readings(text))

    def add_texts(self, title: TextReadings, text: TextReadings) -> None:
        """Record one chunk's title and text, as :func:`text_readings` gives them."""
        sampled = len(self._titles) % self._stride == 0
        self._titles.append(self._record(title, sampled))
        self._texts.append(self._record(text, sampled))

    def _record(self, readings: TextReadings, sampled: bool) -> array[int]:
        if sampled:
            self._streams.extend(readings.segments)
        self._words.update(readings.words)
        spellings = self._spellings
        for reading, surface in readings.spellings:
            spellings[reading][surface] += 1
        ids, names = self._ids, self._names
        out = array("I")
        for segment in readings.segments:
            for g in grams(segment, GRAM):
                found = ids.get(g)
                if found is None:
                    found = ids[g] = len(names)
                    names.append(g)
                out.append(found)
        return out

    def build(self, params: BM25Params | None = None) -> tuple[LexicalIndex, Vocabulary]:
        """The reading field (aligned with the chunks added) and the vocabulary."""
        field = LexicalIndex.build(self._titles, self._texts, params, names=self._names)
        return field, Vocabulary(self._conversions(), self._common_words())

    def _conversions(self) -> dict[str, str]:
        # Candidates: written with kanji at least half the times it is a word of its own.
        candidates: dict[str, tuple[str, int]] = {}
        for reading, spellings in self._spellings.items():
            surface, count = spellings.most_common(1)[0]
            if surface and count >= CONVERT_SHARE * sum(spellings.values()):
                candidates[reading] = (surface, count)
        counted = [k for k in candidates if len(k) <= MAX_COUNTED]
        occurrences = _occurrences(self._streams, counted)
        # The sample holds 1 chunk in ``stride``: scale its counts to the whole corpus.
        scale = self._stride
        kept: list[tuple[int, str, str]] = []
        for reading, (surface, count) in candidates.items():
            total = max(occurrences.get(reading, 0) * scale, sum(self._spellings[reading].values()))
            if count >= CONVERT_SHARE * total:
                kept.append((count, reading, surface))
        kept.sort(key=lambda c: (-c[0], c[1]))
        return {reading: surface for _, reading, surface in kept[:MAX_CONVERSIONS]}

    def _common_words(self) -> dict[str, int]:
        common = [(n, w) for w, n in self._words.items() if n >= MIN_WORD_COUNT]
        common.sort(key=lambda c: (-c[0], c[1]))
        return {w: n for n, w in common[:MAX_WORDS]}


def _occurrences(streams: Iterable[str], keys: Iterable[str]) -> dict[str, int]:
    """How often each of ``keys`` occurs as a substring of ``streams`` (overlaps counted)."""
    wanted = set(keys)
    # The lengths of the keys starting with each pair of kana: a position is only tried at
    # the lengths some key starting there has.
    heads: dict[str, set[int]] = defaultdict(set)
    for key in wanted:
        heads[key[:2]].add(len(key))
    lengths = {head: sorted(found) for head, found in heads.items()}
    counts: Counter[str] = Counter()
    for stream in streams:
        n = len(stream)
        for i in range(n - 1):
            for length in lengths.get(stream[i : i + 2], ()):
                if i + length > n:
                    break
                piece = stream[i : i + length]
                if piece in wanted:
                    counts[piece] += 1
    return counts


# --- the readings cache ------------------------------------------------------------------------

CACHE_FORMAT = "2"
"""Bump when :class:`TextReadings`, its encoding, or the text handed to MeCab changes (older
rows are then ignored). :data:`READINGS_VERSION` and the tokenizer's version are part of the
key already."""
_GROUP, _ITEM, _FIELD = "\x1d", "\x1e", "\x1f"
_SEPARATOR = re.compile("[\x1d\x1e\x1f]")


def cache_version() -> str:
    """The version the readings cache keys its rows with."""
    return f"{TOKENIZER_VERSION}+r{READINGS_VERSION}+c{CACHE_FORMAT}"


def encode_text_readings(found: TextReadings) -> str:
    """``found`` as one string for the readings cache (lossless, for a text without the ASCII
    separators U+001D-U+001F: :class:`CachedReadings` never caches one that has them)."""
    spellings = [f"{reading}{_FIELD}{surface}" for reading, surface in found.spellings]
    # Each item after a separator: an empty list and a list of one empty string differ.
    return _GROUP.join(
        "".join(_ITEM + x for x in items) for items in (found.segments, found.words, spellings)
    )


def decode_text_readings(data: str) -> TextReadings:
    """What :func:`encode_text_readings` wrote.

    Raises:
        ValueError: ``data`` is no such encoding (a damaged row).
    """
    groups = data.split(_GROUP)
    if len(groups) != 3:
        raise ValueError("not encoded readings")
    segments, words, spellings = (g.split(_ITEM)[1:] for g in groups)
    pairs = [tuple(x.split(_FIELD)) for x in spellings]
    if any(len(pair) != 2 for pair in pairs):
        raise ValueError("not encoded readings")
    return TextReadings(tuple(segments), tuple(words), tuple(pairs))  # type: ignore[arg-type]


class CachedReadings:
    """The :class:`TextReadings` of chunk titles and texts, from the cache where a text is known.

    The cache holds what MeCab and :func:`text_readings` made of the text, losslessly, keyed by
    the hash of the text as stored: a build is the same, byte for byte, whether it came from
    the cache or not. Texts are looked up one batch at a time (:meth:`prefetch`), so a large
    corpus never holds all of them in memory.

    Args:
        tokenizer: MeCab, for the texts the cache does not hold.
        cache: The readings cache (``None``: MeCab for every text).
    """

    def __init__(self, tokenizer: MeCabTokenizer, cache: ReadingsCache | None) -> None:
        self.tokenizer = tokenizer
        self.cache = cache
        self.version = cache_version()
        self.computed = 0
        """Texts read by MeCab (not in the cache)."""
        self.reused = 0
        """Texts that came from the cache."""
        self._found: dict[str, str] = {}
        self._fresh: list[tuple[str, str]] = []
        self._last: tuple[str, TextReadings] | None = None

    def prefetch(self, texts: Sequence[str]) -> None:
        """Look up the cached readings of ``texts`` (the next batch), forgetting the last."""
        self._found = {}
        if self.cache is not None:
            self._found = self.cache.get(self.version, [text_hash(t) for t in texts])

    def __call__(self, text: str) -> TextReadings:
        """What the build takes from ``text`` (a chunk's title or text, as stored)."""
        if self._last is not None and self._last[0] == text:
            return self._last[1]  # a document's chunks share their title
        key = text_hash(text)
        data = self._found.get(key)
        found: TextReadings | None = None
        if data is not None:
            try:
                found = decode_text_readings(data)
                self.reused += 1
            except ValueError:
                found = None  # a damaged row: read the text again, and replace the row
        if found is None:
            # Placeholders of masked personal data are no search terms (as for the lemmas).
            found = text_readings(self.tokenizer.readings(strip_placeholders(text)))
            self.computed += 1
            if self.cache is not None and not _SEPARATOR.search(text):
                encoded = encode_text_readings(found)
                self._found[key] = encoded
                self._fresh.append((key, encoded))
        self._last = (text, found)
        return found

    def save(self) -> None:
        """Write what MeCab read since the last call to the cache."""
        if self.cache is not None and self._fresh:
            self.cache.put(self.version, self._fresh)
        self._fresh = []
