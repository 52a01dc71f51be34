"""Measure the feedback loop: department accuracy before and after replaying feedback.

The measurement staff would make: feedback recorded on some queries (「正しい担当課は…」 where
the top department was wrong) must improve department ranking for *other*, similar queries.
Two measurements:

* :func:`evaluate_paraphrases`: staff correct the queries the service got wrong; accuracy is
  measured on *other phrasings* of those questions (``queries-paraphrase.jsonl``, written by
  hand, never in the feedback), and on every other query (the vote must not break them);
* :func:`evaluate_feedback_loop`: held-out folds of the eval queries. The demo queries are all
  different questions, so this one mostly shows that the vote does no harm.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from kb.errors import InputError
from kb.messages import msg
from kb.search.feedback import DepartmentFeedback
from kb.search.searcher import Searcher


@dataclass(frozen=True)
class LabelledQuery:
    """A query with the department that should come first."""

    id: str
    text: str
    department: str


@dataclass(frozen=True)
class FeedbackEvalReport:
    """Department accuracy@1 on held-out queries, before and after replaying feedback."""

    queries: int
    feedback: int
    """Feedback records replayed (summed over folds)."""
    before: float
    after: float
    seen_after: float
    """Accuracy on the queries the feedback was given for (memorisation, for reference)."""


def load_labelled_queries(path: Path) -> list[LabelledQuery]:
    """Queries with a ``department`` from a BEIR ``queries.jsonl``.

    Raises:
        InputError: A line is not JSON or lacks ``_id`` / ``text`` (file and line named).
    """
    out = []
    try:
        lines = path.read_text(encoding="utf-8").splitlines()
    except (OSError, UnicodeDecodeError) as exc:
        # A missing file (the default dataset is relative to the repository) or another one.
        raise InputError(str(path), msg("files.unreadable", problem=exc)) from exc
    for n, line in enumerate(lines, start=1):
        if not line.strip():
            continue
        try:
            row = json.loads(line)
            if row.get("department"):
                out.append(LabelledQuery(str(row["_id"]), row["text"], row["department"]))
        except (ValueError, KeyError, AttributeError) as exc:
            raise InputError(str(path), f"not a query with _id and text ({exc})", n) from exc
    return out


def top_department(searcher: Searcher, query: str) -> str:
    result = searcher.search(query, k=5)
    return result.departments[0].name if result.departments else ""


def accuracy(searcher: Searcher, queries: Sequence[LabelledQuery]) -> float:
    """Share of ``queries`` whose top department is the labelled one."""
    if not queries:
        return 0.0
    hits = sum(top_department(searcher, q.text) == q.department for q in queries)
    return hits / len(queries)


def feedback_log(searcher: Searcher, queries: Sequence[LabelledQuery]) -> list[tuple[str, str]]:
    """The feedback staff would give: ``(query, right department)`` where the top one is wrong."""
    return [
        (q.text, q.department) for q in queries if top_department(searcher, q.text) != q.department
    ]


def evaluate_feedback_loop(
    searcher: Searcher, queries: Sequence[LabelledQuery], folds: int = 2
) -> FeedbackEvalReport:
    """Two-fold (or ``folds``-fold) before/after measurement of the feedback vote.

    The searcher's own ``department_feedback`` is restored afterwards.
    """
    saved = searcher.department_feedback
    parts = [list(queries[i::folds]) for i in range(folds)]
    before_hits = after_hits = seen_hits = seen_n = replayed = 0
    try:
        searcher.department_feedback = None
        for i, held_out in enumerate(parts):
            train = [q for j, part in enumerate(parts) if j != i for q in part]
            searcher.department_feedback = None
            before_hits += round(accuracy(searcher, held_out) * len(held_out))
            log = feedback_log(searcher, train)
            votes = DepartmentFeedback()
            votes.add(searcher.embedder, [(n, q, d) for n, (q, d) in enumerate(log)])
            replayed += len(log)
            searcher.department_feedback = votes
            after_hits += round(accuracy(searcher, held_out) * len(held_out))
            seen_hits += round(accuracy(searcher, train) * len(train))
            seen_n += len(train)
    finally:
        searcher.department_feedback = saved
    n = len(queries) or 1
    return FeedbackEvalReport(
        queries=len(queries),
        feedback=replayed,
        before=round(before_hits / n, 4),
        after=round(after_hits / n, 4),
        seen_after=round(seen_hits / (seen_n or 1), 4),
    )


@dataclass(frozen=True)
class ParaphraseReport:
    """Department accuracy@1 before and after replaying feedback on the misranked queries."""

    feedback: int
    """Queries the service got wrong and staff corrected (the replayed feedback log)."""
    paraphrases: int
    paraphrases_before: float
    paraphrases_after: float
    """On other phrasings of the corrected questions (never in the feedback)."""
    others: int
    others_before: float
    others_after: float
    """On all the other queries: the vote must not break what was right."""


def evaluate_paraphrases(
    searcher: Searcher,
    queries: Sequence[LabelledQuery],
    paraphrases: Sequence[LabelledQuery],
) -> ParaphraseReport:
    """Replay 「正しい担当課は…」 for the queries whose top department is wrong, then measure.

    Args:
        searcher: The searcher to measure; its ``department_feedback`` is restored afterwards.
        queries: Labelled queries (the eval set).
        paraphrases: Other phrasings, with the same ``id`` as the query they rephrase.
    """
    saved = searcher.department_feedback
    rephrased = {p.id for p in paraphrases}
    originals = [q for q in queries if q.id in rephrased]
    others = [q for q in queries if q.id not in rephrased]
    try:
        searcher.department_feedback = None
        log = feedback_log(searcher, originals)
        para_before = accuracy(searcher, paraphrases)
        others_before = accuracy(searcher, others)
        votes = DepartmentFeedback()
        votes.add(searcher.embedder, [(n, q, d) for n, (q, d) in enumerate(log)])
        searcher.department_feedback = votes
        para_after = accuracy(searcher, paraphrases)
        others_after = accuracy(searcher, others)
    finally:
        searcher.department_feedback = saved
    return ParaphraseReport(
        feedback=len(log),
        paraphrases=len(paraphrases),
        paraphrases_before=round(para_before, 4),
        paraphrases_after=round(para_after, 4),
        others=len(others),
        others_before=round(others_before, 4),
        others_after=round(others_after, 4),
    )
