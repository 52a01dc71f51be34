"""The searcher meets kana, half-converted and mistyped queries (reading field + rewriting)."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

import pytest

from kb.embed.embedder import FakeEmbedder
from kb.errors import IndexError_
from kb.index.folder import IndexRoot
from kb.search.config import SearchConfig
from kb.search.searcher import Searcher
from kb.text.mecab import MeCabTokenizer
from kb.types import Hit


def _top(searcher: Searcher, query: str, mode: str) -> list[str]:
    hits = searcher.retrieve(query, k=3, kinds=("faq",), mode=mode)  # type: ignore[arg-type]
    return [h.doc_id for h in hits["faq"]]


def _best_lexical(searcher: Searcher, query: str, config: SearchConfig) -> Hit:
    searcher.config = config
    return searcher.retrieve(query, k=1, kinds=("faq",), mode="lexical")["faq"][0]


def test_a_kana_query_is_rewritten_into_the_corpus_kanji(searcher: Searcher) -> None:
    analysis, reading_terms = searcher.rewrite(searcher.analyze("じゅうみんひょうのうつしがほしい"))
    assert "住民票" in analysis.text
    assert "住民" in analysis.terms
    assert reading_terms[:2] == ("じゅ", "ゅう")


@pytest.mark.parametrize("mode", ["lexical", "dense", "hybrid"])
@pytest.mark.parametrize(
    ("query", "expected"),
    [
        ("じゅうみんひょうのうつしはどこでとれますか", "faq:F1"),
        ("そだいごみのだしかたをしりたい", "faq:F6"),
        ("ようかいごにんていをしんせいしたい", "faq:F3"),
        ("粗大ごごみの出し方", "faq:F6"),
    ],
)
def test_kana_and_mistyped_queries_find_their_faq(
    searcher: Searcher, mode: str, query: str, expected: str
) -> None:
    assert _top(searcher, query, mode)[0] == expected


def test_each_piece_finds_what_a_kana_query_lost(searcher: Searcher) -> None:
    query = "ようかいごにんていをしんせいしたい"
    off = replace(searcher.config, reading_weight=0.0, convert_kana=False, mend_typos=False)
    searcher.config = off
    assert _top(searcher, query, "lexical")[:1] != ["faq:F3"]
    assert _top(searcher, query, "dense")[:1] != ["faq:F3"]
    # The reading field alone finds it lexically, whatever MeCab made of the kana ...
    searcher.config = replace(off, reading_weight=0.3)
    assert _top(searcher, query, "lexical")[0] == "faq:F3"
    # ... and the conversion to kanji is what the embedding needs.
    searcher.config = replace(off, convert_kana=True)
    assert _top(searcher, query, "dense")[0] == "faq:F3"


def test_the_reading_field_adds_to_the_lemma_score(searcher: Searcher) -> None:
    query = "住民票の写し"
    plain = SearchConfig(reading_weight=0.0)
    without = _best_lexical(searcher, query, plain)
    with_readings = _best_lexical(searcher, query, replace(plain, reading_weight=0.3))
    assert with_readings.doc_id == without.doc_id == "faq:F1"
    assert with_readings.lexical_score > without.lexical_score


def test_reading_bigrams_in_more_chunks_than_the_bound_are_not_scored(searcher: Searcher) -> None:
    query = "住民票の写し"
    plain = SearchConfig(reading_weight=0.0)
    without = _best_lexical(searcher, query, plain)
    unbound = _best_lexical(searcher, query, replace(plain, reading_weight=0.3))
    # A bound of 3 chunks (of 17): the rare bigrams (じゅ, うみ...) count, ょう and ゅう do not.
    bounded = replace(plain, reading_weight=0.3, reading_max_postings=3)
    tight = _best_lexical(searcher, query, bounded)
    none = _best_lexical(searcher, query, replace(bounded, reading_max_postings=0))
    assert none.lexical_score == pytest.approx(without.lexical_score)
    assert without.lexical_score < tight.lexical_score < unbound.lexical_score


def test_lemmas_in_more_chunks_than_the_bound_are_not_scored(searcher: Searcher) -> None:
    query = "住民票の写し"
    plain = SearchConfig(reading_weight=0.0)
    unbound = _best_lexical(searcher, query, plain)
    terms = [t for t in dict.fromkeys(searcher.analyze(query).terms) if t in searcher.lexical.vocab]
    counts = {t: searcher.lexical.terms([t]).postings for t in terms}
    assert len(set(counts.values())) > 1
    # A bound under the commonest lemma's chunks drops it; the rarer ones still count.
    bound = max(counts.values()) - 1
    tight = _best_lexical(searcher, query, replace(plain, lemma_max_postings=bound))
    assert 0 < tight.lexical_score < unbound.lexical_score
    searcher.config = replace(plain, lemma_max_postings=0)
    assert searcher.retrieve(query, k=1, kinds=("faq",), mode="lexical")["faq"] == []


def test_other_languages_are_not_rewritten(searcher: Searcher) -> None:
    analysis = searcher.analyze("where can I get a residence certificate")
    assert searcher.rewrite(analysis) == (analysis, ())


def test_an_index_without_readings_is_refused_with_a_clear_message(
    index_root: Path, fake_embedder: FakeEmbedder, tokenizer: MeCabTokenizer
) -> None:
    folder = IndexRoot(index_root).current()
    (folder.path / "readings.npz").unlink()
    with pytest.raises(IndexError_, match="kb build"):
        Searcher.open(index_root, fake_embedder, tokenizer)


@pytest.mark.parametrize("query", ["juuminhyou no utsushi", "ジュウミンヒョウノウツシ"])
def test_romaji_and_katakana_queries_are_searched_as_the_japanese_they_spell(
    searcher: Searcher, query: str
) -> None:
    analysis, _ = searcher.rewrite(searcher.analyze(query))
    assert analysis.japanese
    assert "住民票" in analysis.text
    assert _top(searcher, query, "hybrid")[0] == "faq:F1"


def test_english_is_not_read_as_romaji(searcher: Searcher) -> None:
    analysis, reading_terms = searcher.rewrite(searcher.analyze("take me home"))
    assert not analysis.japanese
    assert reading_terms == ()
