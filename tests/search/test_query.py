"""Query validation lives in the search layer, once."""

from __future__ import annotations

import pytest

from kb.errors import QueryError
from kb.search.query import analyze_query, check_query
from kb.text.mecab import MeCabTokenizer
from kb.text.synonyms import SynonymTable


@pytest.mark.parametrize("query", ["", "   ", "\u3000\n"])
def test_empty_queries_are_refused(query: str) -> None:
    with pytest.raises(QueryError, match="empty"):
        check_query(query, 500)


def test_empty_is_allowed_where_asked() -> None:
    check_query("", 500, allow_empty=True)
    with pytest.raises(QueryError, match="at most 3"):
        check_query("住民票の", 3, allow_empty=True)


def test_over_long_queries_name_both_lengths() -> None:
    check_query("あ" * 10, 10)
    with pytest.raises(QueryError, match="11 characters long; at most 10"):
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
