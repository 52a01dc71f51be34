"""Erasure matching: which log rows quote an erased document distinctively, or name its id."""

from __future__ import annotations

from kb.index.erase import MIN_QUOTE, QuoteFinder, compact, erase_from_logs
from kb.ingest.chunking import chunk_document
from kb.store import (
    FaqCandidate,
    FaqCandidateStore,
    FeedbackRecord,
    FeedbackStore,
    QueryLogRecord,
    QueryLogStore,
    Store,
)
from kb.text.mecab import MeCabTokenizer
from kb.types import Document

CASE = "相談者は消去確認用ユニーク文字列ＸＹＺについて相談。住民票の写しの取り方を案内した。"


def test_compact_normalizes_width_case_space_and_placeholders() -> None:
    assert compact("ＸＹＺ 文字　列") == "xyz文字列"
    assert compact("[電話番号]に電話") == "\x00に電話"


def test_a_quote_is_found_in_any_width_and_spacing_and_short_overlaps_are_not() -> None:
    finder = QuoteFinder([CASE])
    assert finder.quotes("消去確認用ユニーク文字列xyz を調べたい") == {
        "消去確認用ユニーク文字列xyz"
    }
    assert finder.quotes("消去 確認用 ユニーク") == {"消去確認用ユニーク"}
    assert finder.quotes("住民票の写し") == set()  # 6 characters: not a quote
    assert len("住民票の写しの取") == MIN_QUOTE
    assert finder.quotes("住民票の写しの取り方は") == {"住民票の写しの取り方"}


def test_a_placeholder_never_makes_a_quote() -> None:
    finder = QuoteFinder(["[電話番号]に電話して[氏名]さんに伝えた"])
    assert finder.quotes("[電話番号]に電話して[氏名]") == set()


def test_erase_removes_rows_quoting_distinctive_text_or_naming_the_id(
    tokenizer: MeCabTokenizer,
) -> None:
    store = Store(None)
    faq = Document("faq:F1", "faq", "住民票の写しの取り方", "市民課で取れます。", published=True)
    store.upsert([(faq, chunk_document(faq, tokenizer))])
    log = QueryLogStore(None)
    rows = log.add_many(
        [
            QueryLogRecord("public", "消去確認用ユニーク文字列xyzとは"),  # distinctive: goes
            QueryLogRecord("public", "住民票の写しの取り方"),  # the FAQ's words too: stays
            QueryLogRecord("public", "粗大ごみ", result_ids=("case:R6-001",)),  # by id: goes
            QueryLogRecord("staff", "介護保険の申請"),  # unrelated: stays
        ]
    )
    feedback = FeedbackStore(None)
    kept = feedback.add(FeedbackRecord("staff", "介護", shown=("faq:F1",)))
    feedback.add(FeedbackRecord("staff", "相談", shown=("case:R6-001",)))
    feedback.add(FeedbackRecord("public", "消去確認用ユニーク文字列ＸＹＺ", helpful=False))
    drafts = FaqCandidateStore(None)
    drafts.save(FaqCandidate("FC0001", "all-01", "問い", "答え", "", source_cases=("case:R6-001",)))
    drafts.save(
        FaqCandidate("FC0002", "all-02", "住民票", "市民課", "", source_cases=("case:R6-9",))
    )

    erased = erase_from_logs(
        store,
        ["case:R6-001"],
        [CASE],
        query_log=log,
        feedback=feedback,
        candidates=drafts,
    )

    assert (erased.query_rows, erased.feedback_rows, erased.drafts) == (2, 2, 1)
    assert [r.id for r in log.records()] == [rows[1].id, rows[3].id]
    assert [r.id for r in feedback.recent()] == [kept.id]
    assert [c.id for c in drafts.all()] == ["FC0002"]
    assert drafts.next_id() == "FC0003"  # an erased draft's id is never reused
