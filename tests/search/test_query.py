"""Query validation lives in the search layer, once."""

from __future__ import annotations

import pytest

from kb.errors import QueryError
from kb.search.query import analyze_query, check_query, fit_query
from kb.text.mecab import MeCabTokenizer
from kb.text.synonyms import SynonymTable


@pytest.mark.parametrize("query", ["", "   ", "\u3000\n"])
def test_empty_queries_are_refused(query: str) -> None:
    with pytest.raises(QueryError, match="検索する言葉を入力してください"):
        check_query(query, 500)


def test_empty_is_allowed_where_asked() -> None:
    check_query("", 500, allow_empty=True)
    with pytest.raises(QueryError, match="（3 文字まで）"):
        check_query("住民票の", 3, allow_empty=True)


def test_over_long_queries_name_both_lengths() -> None:
    check_query("あ" * 10, 10)
    with pytest.raises(QueryError, match="11 文字あります（10 文字まで）"):
        check_query("あ" * 11, 10)


def test_analysis_checks_then_extracts_terms(tokenizer: MeCabTokenizer) -> None:
    with pytest.raises(QueryError):
        analyze_query(" ", tokenizer, SynonymTable(), max_chars=100, synonym_weight=0.3)
    analysis = analyze_query(
        "住民票を取りたい", tokenizer, SynonymTable(), max_chars=100, synonym_weight=0.3
    )
    assert analysis.japanese
    assert {"住民", "票", "取る"} <= set(analysis.terms)
    assert analysis.weights == (1.0,) * len(analysis.terms)
    english = analyze_query(
        "residence certificate", tokenizer, SynonymTable(), max_chars=100, synonym_weight=0.3
    )
    assert not english.japanese
    assert english.terms == ()


def test_a_short_enough_query_is_searched_as_written() -> None:
    assert fit_query("住民票の写しが欲しい", 200, hard_max=500) == "住民票の写しが欲しい"
    assert fit_query("あ" * 200, 200, hard_max=500) == "あ" * 200


def test_a_long_query_is_cut_after_its_last_sentence_end_within_the_limit() -> None:
    first = "来月、隣の市から引っ越してきます。"  # 17 characters
    second = "転入届と一緒に子どもの転校の手続きもできますか！"
    rest = "それから国民健康保険と児童手当のことも知りたいです。" * 5
    query = first * 4 + second + rest
    cut = fit_query(query, 100, hard_max=500)
    assert cut == first * 4 + second
    assert len(cut) <= 100
    # A line break ends a sentence too; half the limit is the least kept.
    assert fit_query("あ" * 60 + "\n" + "い" * 80, 100, hard_max=500) == "あ" * 60


@pytest.mark.parametrize(
    "query",
    [
        "あ" * 101,  # nowhere to cut
        "あ" * 30 + "。" + "い" * 80,  # the only cut would keep less than half
    ],
)
def test_a_long_query_with_nowhere_sensible_to_cut_is_refused(query: str) -> None:
    with pytest.raises(QueryError, match=f"{len(query)} 文字あります（100 文字まで）"):
        fit_query(query, 100, hard_max=500)


def test_the_hard_limit_and_emptiness_are_checked_first() -> None:
    with pytest.raises(QueryError, match="（500 文字まで）"):
        fit_query("あ。" * 300, 100, hard_max=500)
    with pytest.raises(QueryError, match="検索する言葉を入力してください"):
        fit_query("  ", 100, hard_max=500)
