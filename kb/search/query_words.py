"""What a query's own words say against a pane's best hits, for the no-answer decision
(:mod:`kb.search.confidence`): a word in common (:func:`shares_words`), a subject the corpus's
titles are about (:func:`titled`), a term only the corpus's own texts use (:func:`specific`),
and another city named as the owner of what is asked (:func:`names_elsewhere`).

Words, not the lexical score: kana bigrams of the reading field match nearly any text.
"""

from __future__ import annotations

from collections.abc import Callable, Container, Sequence
from itertools import pairwise

from kb.text.mecab import Morpheme


def shares_words(
    terms: Sequence[str], texts: Sequence[str], lemmas: Callable[[str], Sequence[str]]
) -> bool:
    """Whether one of ``texts`` has a word of the query.

    Args:
        terms: The query's lexical terms (MeCab lemmas, synonyms included).
        texts: The texts of a pane's best hits (title, then body).
        lemmas: The tokenizer's lemmas (the same function the terms came from).
    """
    wanted = set(terms)
    return bool(wanted) and any(wanted.intersection(lemmas(text)) for text in texts)


TITLED_HITS = 2
"""How many of a pane's best hits must have every word of the query in their title for the
query to be a subject of the corpus (:func:`titled`)."""


def titled(
    words: Sequence[str], texts: Sequence[str], lemmas: Callable[[str], Sequence[str]]
) -> bool:
    """Whether the titles of :data:`TITLED_HITS` of ``texts`` (:func:`hit_text`) each hold
    every one of ``words``: a subject the corpus's questions are about, not one question that
    happens to use the query's words (「今何時」 in 「今何時まで開いていますか」).

    Args:
        words: The query's own content lemmas (not its synonyms or rewrites).
        texts: The texts of a pane's best hits, as :func:`hit_text` writes them.
        lemmas: The tokenizer's lemmas.
    """
    wanted = set(words)
    held = sum(wanted <= set(lemmas(text.partition("\n")[0])) for text in texts)
    return bool(wanted) and held >= TITLED_HITS


RARE_CHUNKS = 5
"""A word held by at most this many chunks (or :data:`RARE_SHARE` of them, whichever is
more) is rare in an index (:func:`specific`)."""
RARE_SHARE = 0.002
"""See :data:`RARE_CHUNKS`: 5 chunks of the municipal FAQ's 2,506, 2,000 of a million."""


def specific(
    words: Sequence[str],
    compounds: Sequence[str],
    texts: Sequence[str],
    lemmas: Callable[[str], Sequence[str]],
    frequency: Callable[[str], int],
    chunks: int,
) -> bool:
    """Whether one of ``texts`` (a pane's best hits, :func:`hit_text`) holds every one of the
    query's own ``words`` and, written as the query writes it, one of its compound nouns of
    :data:`COMPOUND_CHARS` characters or more with a word held by few chunks of the index (at
    most :data:`RARE_CHUNKS`, or :data:`RARE_SHARE` of ``chunks``): the query names a thing
    only the corpus's own texts speak of (「限度額適用認定証」, 「おくやみコーナー」 in an
    answer). Everyday words the corpus happens to lack (「元気ですか」, 「月までの距離」) are
    short and appear in no text as written; words spread over several hits do not count.

    Args:
        words: The query's own content lemmas (not its synonyms or rewrites).
        compounds: Its runs of nouns as written (:func:`noun_compounds`).
        texts: The texts of a pane's best hits.
        lemmas: The tokenizer's lemmas.
        frequency: How many chunks of the index hold a lemma.
        chunks: How many chunks the index has.
    """
    wanted = set(words)
    rare = max(RARE_CHUNKS, int(RARE_SHARE * chunks))
    named = [
        c
        for c in compounds
        if len(c) >= COMPOUND_CHARS and any(0 < frequency(w) <= rare for w in lemmas(c))
    ]
    if not wanted or not named:
        return False
    return any(wanted <= set(lemmas(text)) and any(c in text for c in named) for text in texts)


COMPOUND_CHARS = 4
"""The shortest compound noun that :func:`specific` takes as a term of the corpus's trade."""


def noun_compounds(words: Sequence[Morpheme]) -> tuple[str, ...]:
    """The runs of nouns, prefixes and suffixes of a query as written (限度額適用認定証,
    おくやみコーナー), numbers left out."""
    runs: list[str] = []
    current = ""
    for word in words:
        if word.pos1 in ("名詞", "接頭辞", "接尾辞") and word.pos2 != "数詞":
            current += word.surface
            continue
        if current:
            runs.append(current)
        current = ""
    if current:
        runs.append(current)
    return tuple(runs)


_PLACE_SUFFIXES = frozenset("市区町村都道府県")
_OFFICES = frozenset({"役所", "役場", "庁", "都庁", "道庁", "府庁", "県庁", "庁舎"})


def names_elsewhere(words: Sequence[Morpheme], known: Container[str]) -> bool:
    """Whether a query opens by naming a place the corpus never names as the owner of what it
    asks: 「大阪市の粗大ごみの料金」, 「横浜市役所 住民票」, 「大阪市役所の電話番号」,
    「東京都庁の電話」, 「大阪市で粗大ごみを出したい」.

    Asked of another city's FAQ, such a question is answered by its own city hall; this
    corpus's answer is confidently wrong (another city's fees and forms). A proper noun or
    unknown word, then 市, 区, 町, 村, 都, 道, 府 or 県, then の, its 役所, 役場 or 庁, or で and
    a thing that is then done (で…を), as the query's first words, with the place not among
    the corpus's terms (``known``: the lexical index's vocabulary, where a place is its
    surface). The corpus's own city and the places it names pass (尼崎市の図書館), so does a
    place said any other way (大阪市から転入した, 大阪市に引っ越す, 大阪市 転出, 大阪市在住の母の
    介護, 東京の大学), where something happened (横浜市で母が亡くなった, つくば市で働いています),
    and a question that names the corpus's own city as well (水戸市で働いていますが保育園は
    桜川市で申し込めますか).
    """
    if len(words) < 2:
        return False
    place, suffix = words[0], words[1]
    if not (place.pos2 == "固有名詞" or place.unknown) or place.surface in known:
        return False
    if any(w.surface in known and n.surface in _PLACE_SUFFIXES for w, n in pairwise(words[2:])):
        return False  # the corpus's own city is named too
    if suffix.surface in _OFFICES:
        return _asks_the_office(words, 2)  # 東京都庁の電話
    if suffix.surface not in _PLACE_SUFFIXES or len(words) < 3:
        return False
    after = words[2]
    if after.surface in _OFFICES:
        return _asks_the_office(words, 3)  # 横浜市役所 住民票
    if after.pos1 != "助詞":
        return False
    if after.surface == "の":
        return True
    if after.surface != "で":
        return False
    # で, then nouns, then を: a thing done there (粗大ごみを出したい, 住民票を取りたい).
    for word in words[3:]:
        if word.pos1 == "名詞" or word.pos1 == "接頭辞" or word.pos1 == "接尾辞":
            continue
        return word.surface == "を" and word.pos1 == "助詞" and word is not words[3]
    return False


def _asks_the_office(words: Sequence[Morpheme], i: int) -> bool:
    """Whether the city hall named before ``words[i]`` is what is asked about (its 電話番号,
    its 住民票), not where someone is (つくば市役所に勤めています)."""
    if i >= len(words):
        return True
    return words[i].pos1 != "助詞" or words[i].surface == "の"
