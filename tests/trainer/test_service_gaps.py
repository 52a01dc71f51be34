"""The gap report of a data directory: a bounded window of the logs, one report at a time."""

from __future__ import annotations

import pytest

from kb.store import FeedbackRecord, QueryLogRecord
from kb.trainer import gaps as gaps_module
from kb.trainer import service
from kb.trainer.service import Trainer


def _search(query: str) -> QueryLogRecord:
    return QueryLogRecord(source="public", query=query, result_ids=(), scores=(), zero_hit=True)


def test_the_report_reads_only_the_latest_window(
    trainer: Trainer, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(service, "GAP_WINDOW", 3)
    log = trainer.query_log()
    log.add_many([_search(q) for q in ("古い質問", "二番目", "三番目", "四番目")])
    feedback = trainer.feedback()
    for helpful in (True, True, False, False):
        feedback.add(
            FeedbackRecord(
                source="public", query="", shown=("faq:F1",), helped_id="faq:F1", helpful=helpful
            )
        )
    report = trainer.gaps()
    assert report.searches == 3
    assert {g.query for g in report.queries} == {"二番目", "三番目", "四番目"}
    (rate,) = report.helped
    assert (rate.helped, rate.not_helped) == (1, 2)  # the first answer is out of the window


def test_a_report_is_reused_until_a_log_grows(
    trainer: Trainer, monkeypatch: pytest.MonkeyPatch
) -> None:
    trainer.query_log().add(_search("粗大ごみの予約"))
    calls: list[int] = []
    real = service.gap_report

    def counted(*args: object, **kwargs: object) -> object:
        calls.append(1)
        return real(*args, **kwargs)  # type: ignore[arg-type]

    monkeypatch.setattr(service, "gap_report", counted)
    first = trainer.gaps()
    assert trainer.gaps() is first
    assert len(calls) == 1
    trainer.query_log().add(_search("犬の登録"))
    second = trainer.gaps()
    assert len(calls) == 2
    assert {g.query for g in second.queries} == {"粗大ごみの予約", "犬の登録"}


def test_the_report_lists_the_most_frequent_gap_queries_only(
    trainer: Trainer, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(gaps_module, "MAX_GAP_QUERIES", 2)
    queries = ["多い質問"] * 3 + ["次の質問"] * 2 + ["一度だけ"]
    trainer.query_log().add_many([_search(q) for q in queries])
    assert [g.query for g in trainer.gaps().queries] == ["多い質問", "次の質問"]
