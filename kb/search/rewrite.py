"""Query rewriting with the corpus's own vocabulary: typos mended, unconverted kana to kanji.

The embedding model reads 「こくみんけんこうほけん」 as noise and 「国民健康保険」 as the topic;
MeCab reads 「交交通」 as 交 + 交通. Before a query is embedded and tokenized, this module

1. mends one dropped or doubled character in a word (「交交通」 → 交通, 「再工事」 → 再建工事,
   「ープン」 → オープン): only where MeCab's analysis shows a broken word — a lone kanji or
   katakana, or a word starting with ー, that no known word of the corpus covers — and only
   into a word of the corpus (:class:`~kb.index.readings.Vocabulary`), the most frequent one
   if several fit; a katakana word is mended whole or where the rest of it is corpus words
   (「インスタ」, cut into イン + スタ, never becomes ラインスタ). A lone kanji that the
   corpus never uses as a word of its own, left of a two-kanji word (「免の更新」 for 免許,
   「害の時の避難場所」 for 災害), is one too: among the two-kanji words of the corpus that
   hold it, the one whose chunks best share the query's other words is restored when that
   support is :data:`CONTEXT_RATIO` times the lone kanji's own
   (:meth:`QueryRewriter._restore_pair`); then
2. turns runs of hiragana into the kanji the corpus writes for them
   (:attr:`Vocabulary.conversions <kb.index.readings.Vocabulary.conversions>`), choosing the
   segmentation that converts the most characters, longest words first; and loanwords typed
   in hiragana on a phone (まいなんばーかーど) into the katakana the corpus writes, as whole
   words of the query only. Characters inside a
   word typed with kanji (its okurigana) are left alone, and so is grammar: kana that MeCab
   reads as particles, auxiliaries and light verbs only (「オープンしない」 never becomes
   オープン市内; :func:`kb.text.kana.is_grammar`).

The reading field is matched with the readings of the mended query (before conversion: the
kana as typed is the evidence). Nothing here is tuned on queries; see
:mod:`kb.index.readings` for where the vocabulary comes from.
"""

from __future__ import annotations

import re
from collections import defaultdict
from collections.abc import Callable, Sequence
from dataclasses import dataclass

from kb.index.lexical import LexicalIndex, LexicalScores
from kb.index.readings import Vocabulary, reading_terms
from kb.search.kana_conversion import KanaConverter, Word, located
from kb.text.kana import is_hiragana, is_kanji, is_katakana_word, to_hiragana
from kb.text.mecab import MeCabTokenizer, Reading
from kb.text.romaji import romaji_to_kana

MIN_TYPO_WORD = 3
"""Shortest corpus word a dropped character is restored into: a 2-character word minus one is
a single character, which matches too much."""
TYPO_TARGETS = 50_000
"""The most frequent corpus words a dropped character may be restored into: every one costs
an entry per character in memory (the municipal FAQ has 10,000 of 3 characters or more)."""
PAIR_CANDIDATES = 8
"""The most frequent two-kanji words holding a lone kanji that are weighed as its mending."""
CONTEXT_RATIO = 8.0
"""How much better the corpus's chunks must support a two-kanji word than the lone kanji
typed, for the word to replace it: a typo is rarer than a word typed as meant. Chosen on typos
made in the corpora's own FAQ questions (``eval/tune_typos.py``), not on queries."""
_FUNCTION_POS = frozenset({"助詞", "助動詞"})
_PAIR_POS = frozenset({"名詞", "接頭辞", "接尾辞"})
"""What a lone kanji left of a two-kanji word is read as: a verb stem (「入て」) is a dropped
kana, not a dropped kanji."""
_WINDOW = 3
MIN_CONVERTED = 1 / 3
"""Share of the kana read from romaji, or from katakana typed for its sound, that must turn
into the corpus's words for the query to be read that way: 「kaisha yameta kokuho tetsuzuki」
converts 会社, 国保 and 手続き (11 of 17 kana); 「コロナワクチン」 read as ころなわくちん would
convert only ころ (頃), and stays as typed."""
_KATAKANA_RUN = re.compile("[\u30a1-\u30fa\u30fc]{2,}")
"""A run of katakana (and ー) of two characters or more, as the normalizer leaves it."""
_LOANWORD_MARKS = frozenset("\u30fc\u30a1\u30a3\u30a5\u30a7\u30a9\u30ee\u30f4")
"""ー, small ァィゥェォヮ and ヴ: marks of a loanword; a native word typed in katakana has none."""
LONG_WORD = 3
"""Kana in one converted word that are enough for a katakana reading to be taken, whatever
share of the query it is (a long sentence typed in katakana is mostly grammar)."""
_LONGEST_KATAKANA = 20
"""Longest corpus katakana word tried when a run is split into the corpus's words."""
"""Most words a mended span covers (a compound broken by a typo: 天守 + 再 + 工事)."""


@dataclass(frozen=True)
class QueryRewrite:
    """A query as the corpus would write it."""

    text: str
    """The mended, converted query: what is embedded and tokenized for the lemma index."""
    reading_terms: tuple[str, ...]
    """Its terms in the reading field (:func:`kb.index.readings.reading_terms`)."""
    corrections: tuple[tuple[str, str], ...] = ()
    """``(typed, replaced)`` pairs in the order they were made: mended typos first."""

    @property
    def changed(self) -> bool:
        return bool(self.corrections)


class QueryRewriter:
    """Rewrites queries with one index's vocabulary.

    Args:
        vocabulary: The vocabulary built with the index.
        tokenizer: The MeCab tokenizer shared with the searcher.
        lexical: The index's lemma BM25 index: where a lone kanji's two-kanji words are weighed
            (without it, lone kanji are left as typed).
        context_ratio: :data:`CONTEXT_RATIO` (evaluation grids vary it).
        keep_grammar: Never convert kana that is grammar (:meth:`convert`); off only to
            measure what that rule changes (``eval/grammar_kana.py``).
    """

    def __init__(
        self,
        vocabulary: Vocabulary,
        tokenizer: MeCabTokenizer,
        lexical: LexicalIndex | None = None,
        *,
        context_ratio: float = CONTEXT_RATIO,
        keep_grammar: bool = True,
    ) -> None:
        self.vocabulary = vocabulary
        self.tokenizer = tokenizer
        self.lexical = lexical
        self.context_ratio = context_ratio
        self.keep_grammar = keep_grammar
        self._converter = KanaConverter(vocabulary, keep_grammar=keep_grammar)
        self._words = vocabulary.words
        deletions: dict[str, list[str]] = defaultdict(list)
        targets = [
            w for w in self._words if len(w) >= MIN_TYPO_WORD and not all(map(is_hiragana, w))
        ]
        if len(targets) > TYPO_TARGETS:
            targets = sorted(targets, key=lambda w: (-self._words[w], w))[:TYPO_TARGETS]
        for word in targets:
            for i in range(len(word)):
                deletions[word[:i] + word[i + 1 :]].append(word)
        self._deletions = {k: tuple(v) for k, v in deletions.items()}
        pairs: dict[str, list[str]] = defaultdict(list)
        for word in self._words:
            if len(word) == 2 and is_kanji(word[0]) and is_kanji(word[1]):
                pairs[word[0]].append(word)
                if word[1] != word[0]:
                    pairs[word[1]].append(word)
        self._pairs = {
            k: tuple(sorted(v, key=lambda w: (-self._words[w], w))[:PAIR_CANDIDATES])
            for k, v in pairs.items()
        }
        self._pair_terms: dict[str, tuple[str, ...]] = {}

    def rewrite(self, text: str, *, mend: bool = True, convert: bool = True) -> QueryRewrite:
        """Mend typos in, and convert the kana of, a normalized Japanese query.

        Args:
            text: The normalized query.
            mend: Mend typos (:meth:`mend`).
            convert: Convert kana (:meth:`convert`).
        """
        plain = self._rewrite(text, mend=mend, convert=convert)
        spelled = self._katakana_as_hiragana(text) if convert else []
        if not spelled:
            return plain
        kana = self._rewrite(_hiragana_runs(text, spelled), mend=mend, convert=convert)
        typed_kana = sum(b - a for a, b in spelled)
        words = [len(typed) for typed, new in kana.corrections if any(map(is_kanji, new))]
        if sum(words) < MIN_CONVERTED * typed_kana and max(words, default=0) < LONG_WORD:
            return plain
        typed = tuple((text[a:b], to_hiragana(text[a:b])) for a, b in spelled)
        return QueryRewrite(kana.text, kana.reading_terms, (*typed, *kana.corrections))

    def rewrite_romaji(self, text: str, *, mend: bool = True) -> QueryRewrite | None:
        """A query typed in Latin letters as the Japanese it spells, or ``None``.

        「juuminhyou toritai」 (the IME left off) is read as じゅうみんひょう とりたい
        (:func:`kb.text.romaji.romaji_to_kana`) and rewritten like any kana. It is taken for
        Japanese only when the corpus's words cover at least :data:`MIN_CONVERTED` of
        its kana: English that happens to be valid romaji (「take me home」) spells little
        the corpus writes, and stays a query in English.
        """
        kana = romaji_to_kana(text)
        if kana is None:
            return None
        rewritten = self.rewrite(kana, mend=mend)
        letters = sum(map(is_hiragana, kana))
        if not letters or _converted(rewritten, to_kanji=False) < MIN_CONVERTED * letters:
            return None
        return rewritten

    def _rewrite(self, text: str, *, mend: bool, convert: bool) -> QueryRewrite:
        readings = self.tokenizer.readings(text)
        mended, fixes = self.mend(text, readings) if mend else (text, [])
        if fixes:
            readings = self.tokenizer.readings(mended)
        converted, conversions = self.convert(mended, readings) if convert else (mended, [])
        return QueryRewrite(converted, tuple(reading_terms(readings)), (*fixes, *conversions))

    # --- katakana typed for the sound ---------------------------------------------------

    def _katakana_as_hiragana(self, text: str) -> list[tuple[int, int]]:
        """The katakana runs of ``text`` that spell words by their sound, not loanwords.

        Some citizens type in katakana only (a half-width keyboard, an old phone, a habit):
        「ｶｾﾞｲｼｮｳﾒｲｼｮｶﾞﾎｼｲ」, 「ﾚｲｿﾞｳｺの処分方法」. Such a run is read as unconverted kana
        (in hiragana) unless it has a mark only loanwords have (ー, small ァィゥェォ, ヴ:
        シングルマザー), is made of the corpus's own katakana words of two characters or more
        (マイナンバー + カード), or is loanwords and names to MeCab's dictionary
        (:meth:`~kb.text.mecab.MeCabTokenizer.loanwords`: ネットショッピング; サギ, 詐欺
        spelled in katakana, is not). The query is taken in that reading
        only if the runs' kana then turn into kanji words of the corpus, :data:`MIN_CONVERTED`
        of them or one word of :data:`LONG_WORD` kana at least (:meth:`rewrite`), so a
        loanword the corpus does not know stays as typed (コロナワクチン would give 頃なワクチン).
        """
        return [m.span() for m in _KATAKANA_RUN.finditer(text) if self._spelled(m.group())]

    def _spelled(self, run: str) -> bool:
        """Whether a katakana run spells words by their sound (:meth:`_katakana_as_hiragana`)."""
        return not (
            _LOANWORD_MARKS.intersection(run)
            or self._katakana_words(run)
            or self.tokenizer.loanwords(run)
        )

    def _katakana_words(self, run: str) -> bool:
        """Whether ``run`` is a sequence of the corpus's katakana words (2 characters or more)."""
        reachable = [True] + [False] * len(run)
        for end in range(2, len(run) + 1):
            reachable[end] = any(
                reachable[start] and run[start:end] in self._words
                for start in range(max(0, end - _LONGEST_KATAKANA), end - 1)
            )
        return reachable[-1]

    # --- typos --------------------------------------------------------------------------

    def mend(self, text: str, readings: Sequence[Reading]) -> tuple[str, list[tuple[str, str]]]:
        """``text`` with broken words mended, and the ``(typed, mended)`` pairs."""
        words = located(text, readings)
        usable = [
            w.reading.pos1 not in _FUNCTION_POS
            and (w.reading.pos1 != "補助記号" or w.reading.surface == "ー")
            for w in words
        ]
        edits: list[tuple[int, int, str]] = []
        used: set[int] = set()
        kept = self._katakana_kept(words)
        for i in range(len(words)):
            if i in used or not usable[i] or not self._broken(words, usable, i):
                continue
            found = self._mend_around(words, usable, used, i, kept)
            if found is None:
                found = self._restore_pair(words, i)
            if found is not None:
                edits.append(found[0])
                used.update(found[1])
        out = text
        fixes: list[tuple[str, str]] = []
        for start, end, word in sorted(edits, reverse=True):
            fixes.append((out[start:end], word))
            out = out[:start] + word + out[end:]
        return out, fixes[::-1]

    def _broken(self, words: list[Word], usable: list[bool], i: int) -> bool:
        """Whether word ``i`` looks like a piece of a word a typo broke."""
        surface = words[i].reading.surface
        if len(surface) == 1:
            suspicious = is_kanji(surface) or is_katakana_word(surface)
        else:
            # A katakana fragment (イレ of トイレ) is no word of the corpus.
            suspicious = surface.startswith("ー") or (
                is_katakana_word(surface) and surface not in self._words
            )
        if not suspicious:
            return False
        # A lone kanji inside a known compound (世帯 + 主) is no typo.
        for size in range(2, _WINDOW + 1):
            for first in range(max(0, i - size + 1), i + 1):
                last = first + size
                if last > len(words) or not all(usable[first:last]):
                    continue
                if _joined(words, first, last) in self._words:
                    return False
        return True

    def _mend_around(
        self,
        words: list[Word],
        usable: list[bool],
        used: set[int],
        i: int,
        kept: Callable[[int, int], bool],
    ) -> tuple[tuple[int, int, str], range] | None:
        for size in range(_WINDOW, 0, -1):
            for first in range(max(0, i - size + 1), i + 1):
                last = first + size
                span = range(first, last)
                if last > len(words) or not all(usable[first:last]) or used.intersection(span):
                    continue
                if not kept(first, last):
                    continue
                typed = _joined(words, first, last)
                if len(typed) < 2 or typed in self._words:
                    continue
                word = self._nearest(typed)
                if word is not None:
                    return (words[first].start, words[last - 1].end, word), span
        return None

    def _katakana_kept(self, words: list[Word]) -> Callable[[int, int], bool]:
        """Whether mending words ``first:last`` leaves whole words of a katakana word around it.

        MeCab cuts a katakana word it does not know into pieces (インスタ → イン + スタ);
        mending one piece into a corpus word (イン → ライン) leaves the other a fragment
        (ラインスタ). A span may end inside a katakana word only where the rest of that word
        is corpus words (マイ + ナンバー + カド: マイナンバー is one, カド is mended).

        Worked out once per query for every boundary (a forward and a backward pass over each
        run of joined katakana words), so a long katakana run costs linear time, not the run's
        length for every candidate span (500 katakana took 2 s before).
        """
        n = len(words)
        joined = [
            words[a].end == words[a + 1].start
            and is_katakana_word(words[a].reading.surface)
            and is_katakana_word(words[a + 1].reading.surface)
            for a in range(n - 1)
        ]
        # left[b]: where the run ends that boundary b leaves on its left; can the words from
        # there to b be grouped into corpus words? right[b]: the same for the words after b.
        run_start = list(range(n + 1))
        for b in range(1, n + 1):
            if b < n and joined[b - 1]:
                run_start[b] = run_start[b - 1]
        left = [True] * (n + 1)
        for b in range(1, n + 1):
            s0 = run_start[b]
            if s0 != b:
                left[b] = any(
                    left[a] and _joined(words, a, b) in self._words
                    for a in range(max(s0, b - _WINDOW), b)
                )
        run_end = list(range(n + 1))
        for b in range(n - 1, 0, -1):
            if joined[b - 1]:
                run_end[b] = run_end[b + 1]
        right = [True] * (n + 1)
        for b in range(n - 1, -1, -1):
            e0 = run_end[b]
            if e0 != b:
                right[b] = any(
                    right[c] and _joined(words, b, c) in self._words
                    for c in range(b + 1, min(e0, b + _WINDOW) + 1)
                )

        def kept(first: int, last: int) -> bool:
            return left[first] and right[last]

        return kept

    def _nearest(self, typed: str) -> str | None:
        """The corpus word ``typed`` is one doubled or one dropped character away from."""
        for k in range(1, len(typed)):
            if typed[k] == typed[k - 1]:
                single = typed[:k] + typed[k + 1 :]
                if single in self._words:
                    return single
        candidates = self._deletions.get(typed)
        if not candidates:
            return None
        return max(candidates, key=lambda w: (self._words[w], w))

    def _restore_pair(self, words: list[Word], i: int) -> tuple[tuple[int, int, str], range] | None:
        """The two-kanji word lone kanji ``i`` is left of, if the corpus says so.

        Each candidate (the most frequent two-kanji words holding the kanji) and the kanji as
        typed are weighed by their *support*: the lexical score of the query's other words
        summed over the chunks that hold the candidate (the chunk count when the query has no
        other word). The best candidate replaces the kanji when its support is
        ``context_ratio`` times the kanji's own. Only a kanji the corpus never uses as a word
        of its own is weighed: one it does use (家, 母, 隣, 話) was most likely typed as meant,
        and so was a word that is no index term (時, 際, 第, 等).
        """
        reading = words[i].reading
        candidates = self._pairs.get(reading.surface) if self.lexical is not None else None
        if (
            not candidates
            or not reading.term
            or reading.pos1 not in _PAIR_POS
            or reading.surface in self._words
        ):
            return None
        context = self._context(words, range(i, i + 1))
        own = self._support((reading.term,), context)
        best, _, word = max(
            (self._support(self._terms(w), context), self._words[w], w) for w in candidates
        )
        if best <= 0 or best < self.context_ratio * own:
            return None
        return (words[i].start, words[i].end, word), range(i, i + 1)

    def _context(self, words: list[Word], span: range) -> LexicalScores | None:
        """The lexical score of the query's words outside ``span`` (``None``: there are none)."""
        assert self.lexical is not None
        others = [w.reading.term for j, w in enumerate(words) if j not in span and w.reading.term]
        return self.lexical.terms(others).scores() if others else None

    def _support(self, terms: Sequence[str], context: LexicalScores | None) -> float:
        # From the posting lists where they are short (kb.index.lexical): up to nine candidates
        # per lone kanji, each a pass over every chunk otherwise.
        assert self.lexical is not None
        if not terms:
            return 0.0
        holding, _ = self.lexical.terms(terms).scores().matches()
        if context is None:
            return float(holding.size)
        return float(context.at(holding).sum())

    def _terms(self, word: str) -> tuple[str, ...]:
        terms = self._pair_terms.get(word)
        if terms is None:
            terms = self._pair_terms[word] = self.tokenizer.terms(word)
        return terms

    # --- kana to kanji ------------------------------------------------------------------

    def convert(self, text: str, readings: Sequence[Reading]) -> tuple[str, list[tuple[str, str]]]:
        """Kana converted to the corpus's spelling (:meth:`KanaConverter.convert`)."""
        return self._converter.convert(text, readings)


def _joined(words: list[Word], first: int, last: int) -> str:
    return "".join(w.reading.surface for w in words[first:last])


def _converted(rewrite: QueryRewrite, *, to_kanji: bool) -> int:
    """How many typed characters a rewrite replaced (only by words with kanji: ``to_kanji``)."""
    return sum(
        len(typed)
        for typed, new in rewrite.corrections
        if new != typed and (not to_kanji or any(map(is_kanji, new)))
    )


def _hiragana_runs(text: str, spans: Sequence[tuple[int, int]]) -> str:
    """``text`` with the katakana of each ``(start, end)`` span in hiragana."""
    out = list(text)
    for start, end in spans:
        out[start:end] = to_hiragana(text[start:end])
    return "".join(out)
