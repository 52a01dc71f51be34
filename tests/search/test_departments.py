from __future__ import annotations

from dataclasses import replace

import pytest

from kb.search.config import SearchConfig
from kb.search.departments import DESK_CASE_VOTES, SURE, department_level, rank_departments
from kb.search.feedback import DepartmentVote
from kb.types import Department, DepartmentResult, Hit

DIRECTORY = {
    name: Department(name=name, duties="", phone=f"0000-{i}")
    for i, name in enumerate(["市民課", "税務課", "保険年金課", "福祉課"])
}


def _hit(doc: str, score: float, *departments: str) -> Hit:
    return Hit(
        chunk_id=f"faq:{doc}#0",
        doc_id=f"faq:{doc}",
        kind="faq",
        score=score,
        dense_score=score,
        lexical_score=0.0,
        departments=departments,
    )


HITS = {"faq": [_hit("F1", 1.0, "市民課"), _hit("F2", 0.9, "税務課")]}
MODEL = {"市民課": 0.05, "税務課": 0.9, "保険年金課": 0.05}


def test_without_a_model_the_vote_ranks_and_scores_are_shares() -> None:
    cfg = replace(SearchConfig(), department_k=10)
    ranked = rank_departments(HITS, cfg, DIRECTORY)
    assert [d.name for d in ranked] == ["市民課", "税務課"]
    # Discount 1: rank 0 votes 1.0, rank 1 votes 0.9 / 2.
    assert ranked[0].score == pytest.approx(1.0 / 1.45, abs=1e-4)
    assert sum(d.score for d in ranked) == pytest.approx(1.0, abs=1e-3)
    assert ranked[0].phone == "0000-0"
    assert ranked[0].evidence == ("faq:F1",)


def _case(doc: str, score: float, *departments: str) -> Hit:
    return replace(_hit(doc, score, *departments), chunk_id=f"case:{doc}#0", doc_id=f"case:{doc}")


def test_cases_closed_at_the_desk_vote_a_bounded_number_of_times() -> None:
    cfg = replace(SearchConfig(), department_k=10, directory_weight=0.0)
    archive = [_case(f"C{i}", 0.9, "福祉課") for i in range(4)]
    planted = [_case(f"desk-R00000{i}", 0.99, "税務課") for i in range(8)]
    # One key closed eight records about the question, naming another department: they are
    # the nearest hits, the archive's cases come after them.
    flooded = rank_departments({"case": [*planted, *archive]}, cfg, DIRECTORY)
    assert DESK_CASE_VOTES == 1
    assert flooded[0].name == "福祉課"
    assert flooded[0].evidence == tuple(h.doc_id for h in archive)  # ranks 1-4, not 8-9
    # Were they the archive's own cases, they would have put 税務課 first.
    archived = [replace(h, doc_id=h.doc_id.replace("desk-", "")) for h in planted]
    assert rank_departments({"case": [*archived, *archive]}, cfg, DIRECTORY)[0].name == "税務課"
    # The desk's case still votes like any case.
    one = rank_departments({"case": [planted[0], archive[0]]}, cfg, DIRECTORY)
    assert one[0].name == "税務課"


def test_the_model_weighs_its_share() -> None:
    cfg = replace(SearchConfig(), department_k=10)
    alone = rank_departments(HITS, replace(cfg, department_model_weight=0.0), DIRECTORY, (), MODEL)
    assert alone[0].name == "市民課"
    mixed = rank_departments(HITS, replace(cfg, department_model_weight=0.5), DIRECTORY, (), MODEL)
    assert [d.name for d in mixed] == ["税務課", "市民課", "保険年金課"]
    assert mixed[0].score == pytest.approx(0.5 * 0.45 / 1.45 + 0.5 * 0.9, abs=1e-4)
    assert sum(d.score for d in mixed) == pytest.approx(1.0, abs=1e-3)


def test_the_model_alone_when_no_hit_names_a_department() -> None:
    hits = {"faq": [_hit("F9", 1.0)]}
    ranked = rank_departments(hits, SearchConfig(), DIRECTORY, (), MODEL)
    assert ranked[0].name == "税務課"
    assert ranked[0].score == pytest.approx(0.9, abs=1e-4)
    assert ranked[0].evidence == ()
    assert rank_departments(hits, SearchConfig(), DIRECTORY) == ()


def test_zero_scores_do_not_divide_by_zero() -> None:
    hits = {"faq": [_hit("F1", 0.0, "市民課")]}
    ranked = rank_departments(hits, SearchConfig(), DIRECTORY)
    assert [d.name for d in ranked] == ["市民課"]
    assert ranked[0].score == 0.0


def test_feedback_still_puts_its_department_first() -> None:
    votes = [DepartmentVote("福祉課", 1.0, 2)]
    ranked = rank_departments(HITS, SearchConfig(), DIRECTORY, votes, MODEL)
    assert ranked[0].name == "福祉課"
    assert ranked[0].evidence[0] == "feedback:2"
    assert 0.0 < ranked[0].score < 1.0
    # A vote for a name not in the directory is ignored.
    other = rank_departments(HITS, SearchConfig(), DIRECTORY, [DepartmentVote("X課", 1.0, 1)])
    assert "X課" not in [d.name for d in other]


def _result(score: float) -> DepartmentResult:
    return DepartmentResult(name="市民課", score=score, phone="", location="", hours="")


@pytest.mark.parametrize(
    ("evidence", "score", "level"),
    [
        ("high", SURE, "high"),
        ("high", 0.9, "high"),
        ("high", SURE - 0.01, "low"),
        ("low", 0.9, "low"),
        ("none", 0.9, "none"),
        ("none", 0.1, "none"),
    ],
)
def test_department_level_caps_an_unsure_top_department(
    evidence: str, score: float, level: str
) -> None:
    assert department_level(evidence, [_result(score)]) == level  # type: ignore[arg-type]


def test_department_level_without_departments() -> None:
    assert department_level("high", []) == "low"
    assert department_level("none", []) == "none"
