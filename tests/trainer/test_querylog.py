"""The query log: masked before it is written; the best published FAQ's dense score."""

from __future__ import annotations

import pytest

from kb.search.searcher import Searcher
from kb.search.suggest import suggester_for
from kb.store import QueryLogRecord, QueryLogStore
from kb.text.mecab import MeCabTokenizer
from kb.trainer.querylog import log_record
from kb.types import Filters


def test_record_is_masked_and_scored(searcher: Searcher, tokenizer: MeCabTokenizer) -> None:
    query = "住民票の写しがほしい。090-1234-5678 taro@example.jp"
    result = searcher.search(query, k=5)
    published = suggester_for(searcher).published_ids
    record = log_record("staff", query, result, published, tokenizer)
    assert "090-1234-5678" not in record.query
    assert "taro@example.jp" not in record.query
    assert "[電話番号]" in record.query
    assert "住民票" in record.query
    assert record.source == "staff"
    assert record.result_ids[0] == f"faq:{result.faqs[0].id}"
    assert len(record.scores) == len(record.result_ids)
    # The best dense score over *published* FAQ hits (F9 is unpublished).
    expected = max(
        h.dense_score
        for h in result.hits
        if h.kind == "faq" and h.doc_id != "faq:F9" and h.dense_score is not None
    )
    assert record.top_faq_score == pytest.approx(expected, abs=1e-4)
    assert not record.zero_hit


def test_no_faq_and_zero_hit(searcher: Searcher, tokenizer: MeCabTokenizer) -> None:
    result = searcher.search("転入", k=5, filters=Filters(kinds=("case",)))
    record = log_record("public", "転入", result, {"F1"}, tokenizer)
    assert record.top_faq_score is None
    assert record.result_ids == ()
    assert not record.zero_hit  # a case came back
    with pytest.raises(ValueError, match="source"):
        log_record("suggest", "x", result, set(), tokenizer)


@pytest.mark.parametrize(
    "filters",
    [
        Filters(kinds=("department",)),
        Filters(kinds=("faq", "case", "manual")),
        Filters(departments=("市民課",)),
        Filters(categories=("存在しない分類",)),
        Filters(date_from="2099-01-01"),
    ],
)
def test_a_filtered_search_is_logged_as_such_never_as_zero_hit(
    searcher: Searcher, tokenizer: MeCabTokenizer, filters: Filters
) -> None:
    result = searcher.search("転入", k=5, filters=filters)
    record = log_record("staff", "転入", result, {"F1"}, tokenizer)
    assert record.filtered
    assert not record.zero_hit


def test_an_unfiltered_search_that_finds_nothing_is_zero_hit(
    searcher: Searcher, tokenizer: MeCabTokenizer
) -> None:
    for filters in (Filters(), Filters(kinds=("department", "faq", "case", "manual"))):
        result = searcher.search("転入", k=5, filters=filters)
        assert not result.filtered
        empty = type(result)(result.query, result.took_ms, confidence=result.confidence)
        record = log_record("staff", "転入", empty, {"F1"}, tokenizer)
        assert record.zero_hit
        assert not record.filtered


def test_the_faq_decision_is_logged(searcher: Searcher, tokenizer: MeCabTokenizer) -> None:
    question = "粗大ごみを出したい"
    answered = log_record("public", question, searcher.search(question), {"F6"})
    assert answered.answered is True
    refused = log_record("public", "zzzzzz", searcher.search("zzzzzz"), {"F6"})
    assert refused.answered is False
    cases_only = searcher.search("転入", filters=Filters(kinds=("case",)))
    assert log_record("staff", "転入", cases_only, {"F1"}).answered is None


def test_a_log_from_before_the_new_columns_is_upgraded(tmp_path) -> None:  # type: ignore[no-untyped-def]
    import sqlite3

    path = tmp_path / "querylog.sqlite"
    old = sqlite3.connect(path)
    old.execute(
        "create table queries (id integer primary key, created_at text, source text, query text,"
        " result_ids text, scores text, top_faq_score float, zero_hit integer)"
    )
    old.execute(
        "insert into queries values (1, '2026-01-01T00:00', 'public', 'a', '[]', '[]', null, 1)"
    )
    old.commit()
    old.close()
    log = QueryLogStore(path)
    (before,) = log.records()
    assert before.zero_hit
    assert not before.filtered
    assert before.answered is None
    log.add(QueryLogRecord("staff", "b", filtered=True, answered=False))
    after = log.records()[1]
    assert after.filtered
    assert after.answered is False
    log.close()
    assert QueryLogStore(path).count() == 2  # opening it again adds nothing twice


def test_store_round_trip_and_filters(tmp_path) -> None:  # type: ignore[no-untyped-def]
    log = QueryLogStore(tmp_path / "querylog.sqlite")
    log.add(QueryLogRecord("staff", "a", ("faq:F1",), (0.9,), 0.9, created_at="2026-01-01T00:00"))
    log.add_many(
        [
            QueryLogRecord("public", "b", zero_hit=True, created_at="2026-02-01T00:00"),
            QueryLogRecord("public", "c"),
        ]
    )
    assert log.count() == 3
    records = log.records()
    assert [r.query for r in records] == ["a", "b", "c"]
    assert records[0].result_ids == ("faq:F1",)
    assert records[0].top_faq_score == 0.9
    assert records[1].zero_hit
    assert records[2].created_at > "2026-02"  # filled in with the current time
    assert [r.query for r in log.records(since="2026-01-15")] == ["b", "c"]
    assert [r.query for r in log.records(sources=["staff"])] == ["a"]
    log.close()
    reopened = QueryLogStore(tmp_path / "querylog.sqlite")
    assert reopened.count() == 3
    reopened.close()
