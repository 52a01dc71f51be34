"""The feedback-loop measurement: corrected queries help their other phrasings."""

from __future__ import annotations

from pathlib import Path

import pytest

from kb.errors import InputError
from kb.search.searcher import Searcher
from kb.trainer.feedback_eval import (
    LabelledQuery,
    evaluate_feedback_loop,
    evaluate_paraphrases,
    load_labelled_queries,
    top_department,
)

QUERY = "夫の物忘れがひどく一人で介護するのが不安"


def test_paraphrases_of_corrected_queries_move_to_the_right_department(
    searcher: Searcher,
) -> None:
    result = searcher.search(QUERY, k=5)
    wrong, right = result.departments[0].name, result.departments[1].name
    assert top_department(searcher, QUERY) == wrong
    queries = [
        LabelledQuery("Q1", QUERY, right),  # the service gets this one wrong
        LabelledQuery("Q2", "粗大ごみの出し方を知りたい", "ごみ減量推進課"),
    ]
    assert top_department(searcher, queries[1].text) == "ごみ減量推進課"
    paraphrases = [LabelledQuery("Q1", "一人で介護するのが不安、夫の物忘れがひどい", right)]
    report = evaluate_paraphrases(searcher, queries, paraphrases)
    assert report.feedback == 1
    assert report.paraphrases_before == 0.0
    assert report.paraphrases_after == 1.0
    assert report.others == 1
    assert report.others_before == report.others_after == 1.0
    assert searcher.department_feedback is None  # restored


def test_folds_report_and_restore(searcher: Searcher) -> None:
    queries = [
        LabelledQuery("Q1", QUERY, "介護保険課"),
        LabelledQuery("Q2", QUERY + "。", "介護保険課"),
        LabelledQuery("Q3", "粗大ごみの出し方を知りたい", "ごみ減量推進課"),
        LabelledQuery("Q4", "粗大ごみを出したい", "ごみ減量推進課"),
    ]
    report = evaluate_feedback_loop(searcher, queries, folds=2)
    assert report.queries == 4
    assert 0.0 <= report.before <= 1.0
    assert report.after >= report.before
    assert searcher.department_feedback is None


def test_load_labelled_queries_names_the_bad_line(tmp_path: Path) -> None:
    good = '{"_id": "Q1", "text": "住民票", "department": "市民課"}\n{"_id": "Q2", "text": "x"}\n'
    path = tmp_path / "q.jsonl"
    path.write_text(good, encoding="utf-8")
    assert load_labelled_queries(path) == [LabelledQuery("Q1", "住民票", "市民課")]
    path.write_text(good + "{not json\n", encoding="utf-8")
    with pytest.raises(InputError, match=r"q.jsonl:3"):
        load_labelled_queries(path)


def test_a_missing_or_undecodable_queries_file_is_an_input_error(tmp_path: Path) -> None:
    # An outside tester: a missing file (the default path is relative) was a traceback.
    with pytest.raises(InputError, match=r"none\.jsonl"):
        load_labelled_queries(tmp_path / "none.jsonl")
    (tmp_path / "q.jsonl").write_bytes(b"\xff\xfe")
    with pytest.raises(InputError, match=r"q\.jsonl"):
        load_labelled_queries(tmp_path / "q.jsonl")
