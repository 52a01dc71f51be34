"""The department pane: departments ranked from the FAQ, case and directory hits of a query,
the department model learned at build time (:mod:`kb.index.routing`), and the 「正しい担当課」
votes of staff feedback on rephrasings of it (:mod:`kb.search.feedback`).

The hits' votes are turned into a distribution (each department's share of the vote) and mixed
with the model's probabilities, ``w·p_model + (1-w)·p_vote``; feedback then adds its votes in
units of the best department's share, and the result is normalised again. So a department's
score is a probability: on the municipal benchmark the top department was right 88-100% of the
time when it scored 0.6 or more and about half the time below 0.5 (docs/evaluation.md), which is
what :func:`department_level` reads for the console's low-confidence badge.
"""

from __future__ import annotations

import threading
from collections import defaultdict
from collections.abc import Callable, Mapping, Sequence
from typing import TYPE_CHECKING

import numpy as np

from kb.search.feedback import DepartmentFeedback, DepartmentVote
from kb.store.records import CASE_PREFIX
from kb.types import ConfidenceLevel, Department, DepartmentResult, DocId, DocKind, Hit

SURE = 0.5
"""Below this probability the top department is more likely wrong than right: the pane is at
most ``low`` (:func:`department_level`). Not tuned: the point where a guess turns into a bet."""

if TYPE_CHECKING:
    from kb.index.routing import RoutingModel
    from kb.search.config import SearchConfig


class DepartmentRanker:
    """One index's department pane: :func:`rank_departments` with the index's department model
    and staff feedback, whose similarity floor is calibrated on this corpus on first use.

    Args:
        routing: The index's department model (``None``: the hits' vote alone).
        directory: The department directory by name.
        reference: Embeds the corpus's reference questions
            (:func:`~kb.search.feedback.reference_titles`): called once, when feedback first
            needs calibrating.
    """

    def __init__(
        self,
        routing: RoutingModel | None,
        directory: Mapping[str, Department],
        reference: Callable[[], np.ndarray],
    ) -> None:
        self.routing = routing
        self.directory = directory
        self._reference = reference
        self._reference_vectors: np.ndarray | None = None
        self._lock = threading.Lock()

    def rank(
        self,
        per_kind: Mapping[DocKind, Sequence[Hit]],
        config: SearchConfig,
        feedback: DepartmentFeedback | None,
        qvec: np.ndarray | None = None,
    ) -> tuple[DepartmentResult, ...]:
        """The departments for a query's hits (and its vector, for the model and feedback)."""
        votes = self._feedback_votes(feedback, qvec) if qvec is not None else []
        model = None
        if self.routing is not None and qvec is not None and self.routing.dim == len(qvec):
            model = self.routing.probabilities(qvec)
        return rank_departments(per_kind, config, self.directory, votes, model)

    def _feedback_votes(
        self, feedback: DepartmentFeedback | None, qvec: np.ndarray
    ) -> list[DepartmentVote]:
        """Votes of similar past feedback, its floor calibrated on this corpus on first use."""
        if feedback is None or not len(feedback):
            return []
        if not feedback.calibrated:
            with self._lock:
                if self._reference_vectors is None:
                    self._reference_vectors = self._reference()
            feedback.calibrate(self._reference_vectors)
        return feedback.votes(qvec)


DESK_CASE_VOTES = 1
"""Most cases closed at the desk (``case:desk-R…``) that vote among a query's hits: one staff
key closing a run of records about a question must not move every counsellor's department
pane (an outside attacker moved 「母が認知症で一人暮らしが心配」 to 選挙管理委員会事務局 with 8).
Such a case is nobody's review yet; the cases pane still shows every one of them."""


def _bounded_desk_cases(hits: Sequence[Hit]) -> list[Hit]:
    """``hits`` with the desk's cases after the first :data:`DESK_CASE_VOTES` left out, so
    that the archive's cases keep their ranks."""
    out: list[Hit] = []
    desk = 0
    for hit in hits:
        if DocId.local_of(hit.doc_id).startswith(CASE_PREFIX):
            desk += 1
            if desk > DESK_CASE_VOTES:
                continue
        out.append(hit)
    return out


def rank_departments(
    per_kind: Mapping[DocKind, Sequence[Hit]],
    config: SearchConfig,
    directory: Mapping[str, Department],
    votes: Sequence[DepartmentVote] = (),
    model: Mapping[str, float] | None = None,
) -> tuple[DepartmentResult, ...]:
    """The ``config.department_k`` best departments for a query's hits, scored 0-1.

    Args:
        per_kind: The query's hits per kind, best first (FAQ, cases and the directory vote).
        config: Evidence depth, discount and weights.
        directory: The department directory by name (contact details; votes for a name not
            in it are ignored).
        votes: Feedback votes for this query (:meth:`DepartmentFeedback.votes`).
        model: The department model's probabilities for the query
            (:meth:`kb.index.routing.RoutingModel.probabilities`); ``None``: votes alone.
    """
    cfg = config
    scores: dict[str, float] = defaultdict(float)
    evidence: dict[str, list[str]] = defaultdict(list)
    for kind in ("faq", "case"):
        hits = per_kind.get(kind, [])
        if kind == "case":
            hits = _bounded_desk_cases(hits)
        hits = hits[: cfg.evidence_depth]
        if not hits:
            continue
        top = max(h.score for h in hits) or 1.0
        for rank, hit in enumerate(hits):
            names = hit.departments
            if not names:
                continue
            # Rank-discounted vote; a case handled by several departments splits its
            # vote but its first (lead) department keeps the largest share.
            weight = (hit.score / top) / (1.0 + rank) ** cfg.evidence_discount
            shares = [2.0] + [1.0] * (len(names) - 1)
            total = sum(shares)
            for name, share in zip(names, shares, strict=True):
                scores[name] += (1.0 - cfg.directory_weight) * weight * share / total
                if len(evidence[name]) < 5:
                    evidence[name].append(hit.doc_id)
    dir_hits = per_kind.get("department", [])
    if dir_hits:
        top = max(h.score for h in dir_hits) or 1.0
        for rank, hit in enumerate(dir_hits[:5]):
            # A directory entry's department is itself (its title).
            name = hit.departments[0] if hit.departments else DocId.local_of(hit.doc_id)
            scores[name] += cfg.directory_weight * (hit.score / top) / (1.0 + rank)
            evidence[name].insert(0, hit.doc_id)
    scores = _mix(scores, model, cfg.department_model_weight)
    voted: dict[str, float] = {}
    if cfg.feedback_weight > 0:
        # Staff said "the right department was X" for a rephrasing of this query: a vote as
        # sure as the query itself weighs as much as the best department's evidence.
        top = max(scores.values(), default=0.0) or 1.0
        for vote in votes:
            if vote.department in directory:
                voted[vote.department] = cfg.feedback_weight * min(1.0, vote.weight) * top
                scores[vote.department] += voted[vote.department]
                evidence[vote.department].insert(0, f"feedback:{vote.neighbours}")
    total = sum(scores.values()) or 1.0
    ranked = sorted(scores.items(), key=lambda kv: (-kv[1], -voted.get(kv[0], 0.0)))
    out = []
    for name, score in ranked[: cfg.department_k]:
        d = directory.get(name)
        out.append(
            DepartmentResult(
                name=name,
                score=round(score / total, 4),
                phone=d.phone if d else "",
                location=d.location if d else "",
                hours=d.hours if d else "",
                evidence=tuple(dict.fromkeys(evidence[name])),
            )
        )
    return tuple(out)


def _mix(
    scores: Mapping[str, float], model: Mapping[str, float] | None, weight: float
) -> defaultdict[str, float]:
    """The hits' vote as shares, mixed with the model's probabilities (``weight`` of them)."""
    total = sum(scores.values())
    mixed: defaultdict[str, float] = defaultdict(float)
    if model is None or weight <= 0:
        weight = 0.0
    elif total <= 0:
        weight = 1.0  # no hit names a department: the model alone
    for name, score in scores.items():
        mixed[name] += (1.0 - weight) * score / (total or 1.0)
    if weight > 0 and model is not None:
        for name, p in model.items():
            mixed[name] += weight * p
    return mixed


def department_level(
    evidence: ConfidenceLevel, departments: Sequence[DepartmentResult]
) -> ConfidenceLevel:
    """The department pane's confidence: its evidence's level, at most ``low`` when the top
    department's probability is under :data:`SURE`."""
    if evidence == "high" and (not departments or departments[0].score < SURE):
        return "low"
    return evidence
