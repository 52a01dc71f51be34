"""Kana typed without conversion, turned into the corpus's spelling (step 2 of the rewrite).

:class:`KanaConverter` turns runs of hiragana into the kanji the corpus writes for them
(:attr:`Vocabulary.conversions <kb.index.readings.Vocabulary.conversions>`), choosing the
segmentation that converts the most characters, longest words first, and loanwords typed in
hiragana (まいなんばーかーど) into the corpus's katakana, guarded. Grammar is left alone
(:func:`kb.text.kana.is_grammar`). :class:`kb.search.rewrite.QueryRewriter` mends typos first,
then converts with this.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from itertools import accumulate

from kb.index.readings import Vocabulary
from kb.text.kana import (
    has_kanji,
    is_grammar,
    is_hiragana,
    is_katakana_word,
    without_long_vowels,
)
from kb.text.mecab import Reading

MIN_SLIPPED = 5
"""Fewest kana typed that a slipped long vowel is mended in (and, long vowels taken out, in
the reading it is mended into: 4). Shorter pieces meet other words: たいしょ (対処, which the
municipal corpus does not write) became 対象, のきげん (の + 期限) 納期限."""
_LOANWORD_MARKS = frozenset("ーぁぃぅぇぉゎゔ")
"""Kana only loanwords have in hiragana (the long-vowel mark, small vowels)."""
_INFLECTING_POS = frozenset({"動詞", "助動詞", "形容詞"})
"""Grammar that inflects the word before it (し, ない, たい): none at the start of a phrase."""
_PHRASE_BREAKS = frozenset("。、,.!?「『(【[・/")
"""What a phrase starts after, in a normalized query (full-width ASCII is half-width there);
closing brackets are left out: the は of 「(申請)は」 attaches to what they close."""


@dataclass(frozen=True)
class Word:
    """A morpheme of the query and where it starts in the text."""

    start: int
    reading: Reading

    @property
    def end(self) -> int:
        return self.start + len(self.reading.surface)


def located(text: str, readings: Sequence[Reading]) -> list[Word]:
    """Each morpheme with its offset in ``text`` (MeCab drops spaces between them)."""
    out: list[Word] = []
    pos = 0
    for r in readings:
        start = text.find(r.surface, pos)
        if start < 0:  # a replaced character (U+FFFD): keep counting from where we are
            start = pos
        out.append(Word(start, r))
        pos = start + len(r.surface)
    return out


class KanaConverter:
    """Converts the kana of queries with one corpus's vocabulary.

    Args:
        vocabulary: The corpus's conversions and words.
        keep_grammar: Leave grammar unconverted (off only to measure what it takes away).
    """

    def __init__(self, vocabulary: Vocabulary, *, keep_grammar: bool = True) -> None:
        self.keep_grammar = keep_grammar
        self._conversions = vocabulary.conversions
        self._words = vocabulary.words
        self._loanwords = frozenset(k for k, v in self._conversions.items() if is_katakana_word(v))
        """Readings the corpus writes in katakana: converted only as whole words of the query,
        and never where the corpus also writes the word in hiragana (はがき and ハガキ)."""
        self._longest = max((len(k) for k in self._conversions), default=0)
        self._slipped = _slipped_readings(self._conversions, self._words)
        """Readings with their long vowels taken out → the corpus's spelling, where that is
        unique and no word as it stands: a fallback for a long vowel dropped or typed お."""

    def convert(self, text: str, readings: Sequence[Reading]) -> tuple[str, list[tuple[str, str]]]:
        """``text`` with its hiragana runs converted, and the ``(kana, kanji)`` pairs.

        The characters of a word typed with kanji (its okurigana) are left alone, and a word
        the corpus itself writes in kana (ふるさと, ひとり) is converted whole or not at all,
        never in part (not ふる里). Nor is a stretch that MeCab reads wholly as grammar
        (:func:`~kb.text.kana.is_grammar`: 「しない」 in 「オープンしない」, させたい, はまだ,
        いない), however often the corpus writes its reading as a word (市内, 世帯, 浜田, 以内).
        Only the closed class of modern grammar counts: an unconverted word that MeCab cuts
        into pieces has a piece outside it (「せいど」 → せい + ど, 「いいんかい」 → いい + ん
        + か + い) and stays convertible. A verb or auxiliary ending starting a query or a
        phrase that has a word in it has nothing to inflect, and counts as no grammar there:
        「しないの保育園」 and 「…補助金 しないの業者」 are 市内 (「しない」 alone stays).
        """
        if not self._conversions:
            return text, []
        protected = [False] * len(text)
        inside = [False] * (len(text) + 1)
        boundary = [False] * (len(text) + 1)
        grammar = [False] * len(text)
        morphemes = located(text, readings)
        # A query of grammar alone (「しない」, 「ですか」) has no phrase for one to start.
        content = any(r.term for r in readings)
        for k, w in enumerate(morphemes):
            surface = w.reading.surface
            boundary[w.start] = boundary[w.end] = True
            if has_kanji(surface):
                protected[w.start : w.end] = [True] * (w.end - w.start)
            elif surface in self._words and surface not in self._conversions:
                inside[w.start + 1 : w.end] = [True] * (w.end - w.start - 1)
            if (
                self.keep_grammar
                and is_grammar(surface, w.reading.pos1)
                and not (
                    content and w.reading.pos1 in _INFLECTING_POS and _phrase_start(morphemes, k)
                )
            ):
                grammar[w.start : w.end] = [True] * (w.end - w.start)
        # free[i]: characters before i that are no grammar; a piece needs one of its own.
        free = [0, *accumulate(not g for g in grammar)]
        out: list[str] = []
        pairs: list[tuple[str, str]] = []
        i = 0
        while i < len(text):
            ch = text[i]
            if protected[i] or not is_hiragana(ch) or ch == "ー":
                out.append(ch)
                i += 1
                continue
            j = i
            while j < len(text) and not protected[j] and is_hiragana(text[j]):
                j += 1
            # The run's own ends are whole-word ends, whatever MeCab made of the kana.
            whole = [True, *boundary[i + 1 : j], True]
            run = text[i:j]
            out.append(self._convert_run(run, inside[i : j + 1], free[i : j + 1], whole, pairs))
            i = j
        return "".join(out), pairs

    def _convert_run(
        self,
        run: str,
        inside: list[bool],
        free: list[int],
        whole: list[bool],
        pairs: list[tuple[str, str]],
    ) -> str:
        """Convert the pieces of a hiragana run that cover the most characters.

        ``inside[i]``: a piece may not start or end at ``i``, inside a word the corpus writes
        in kana. ``free[i]``: how many characters before ``i`` are no grammar; a piece made
        of grammar alone (no such character) is not converted. ``whole[i]``: MeCab starts or
        ends a word at ``i``. A loanword (a reading the corpus writes in katakana) is left as
        typed where the corpus writes it in hiragana too (はがき: that spelling is the corpus's
        already). One with a mark no native word has (ー, small ぁぃぅぇぉ: かーど, ちぇっく,
        りふぉーむ) is converted wherever it is; others must start and end at a MeCab word
        boundary, since they hide in ordinary kana (ころな in ところなど, べる in しらべる,
        おふ in おふとん), and MeCab cuts unconverted loanwords unpredictably (すまほ in
        とかすまほで stays).
        """
        n = len(run)
        covered = [0] * (n + 1)
        back: list[tuple[int, str | None]] = [(0, None)] * (n + 1)
        for end in range(1, n + 1):
            covered[end], back[end] = covered[end - 1], (end - 1, None)
            # Longest pieces first: on a tie the longer word (fewer pieces) is kept.
            for start in range(max(0, end - self._longest), end - 1):
                kanji = self._conversions.get(run[start:end])
                score = end - start
                if kanji is None and self._slipped and score >= MIN_SLIPPED and whole[start]:
                    # A long vowel slipped (じゅみんひょう), in a piece that starts where MeCab
                    # starts a word (not とかくにん in ちゃんと + かくにん): one character less than
                    # typed right, so words typed as the corpus reads them win a tie.
                    kanji = self._slipped.get(without_long_vowels(run[start:end]))
                    if (
                        kanji is not None
                        and is_katakana_word(kanji)
                        and not (whole[end] or not _LOANWORD_MARKS.isdisjoint(run[start:end]))
                    ):
                        kanji = None  # a loanword hides in ordinary kana: a whole word only
                    score -= 1
                if (
                    kanji is not None
                    and covered[start] + score > covered[end]
                    and not inside[start]
                    and not inside[end]
                    and free[end] > free[start]
                    and (
                        run[start:end] not in self._loanwords
                        or (
                            run[start:end] not in self._words
                            and (
                                (whole[start] and whole[end])
                                or not _LOANWORD_MARKS.isdisjoint(run[start:end])
                            )
                        )
                    )
                ):
                    covered[end], back[end] = covered[start] + score, (start, kanji)
        pieces: list[str] = []
        end = n
        found: list[tuple[str, str]] = []
        while end > 0:
            start, kanji = back[end]
            if kanji is None:
                pieces.append(run[start:end])
            else:
                pieces.append(kanji)
                found.append((run[start:end], kanji))
            end = start
        pairs.extend(found[::-1])
        return "".join(pieces[::-1])


def _slipped_readings(conversions: Mapping[str, str], words: Mapping[str, int]) -> dict[str, str]:
    """:attr:`KanaConverter._slipped`: each reading with a long vowel, of
    ``MIN_SLIPPED - 1`` kana or more without it, keyed without it, unless another reading
    gives the same key (both dropped) or the key is a reading or a word of its own. Loanwords
    too (まいなんばかーど for まいなんばーかーど): :meth:`KanaConverter._convert_run` takes one
    only as a whole word or where the typed kana have a mark only loanwords have."""
    out: dict[str, str | None] = {}
    for reading, spelling in conversions.items():
        key = without_long_vowels(reading)
        if key == reading or len(key) < MIN_SLIPPED - 1 or key in conversions or key in words:
            continue
        out[key] = spelling if out.get(key, spelling) == spelling else None
    return {k: v for k, v in out.items() if v is not None}


def _phrase_start(words: list[Word], k: int) -> bool:
    """Whether word ``k`` starts the text or a phrase (after a space, 、 or an opening bracket)."""
    if k == 0:
        return True
    before = words[k - 1]
    return before.end < words[k].start or before.reading.surface[-1:] in _PHRASE_BREAKS
