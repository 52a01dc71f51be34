"""Request and response schemas of the trainer API (``/api/v1/trainer``)."""

from __future__ import annotations

from dataclasses import asdict
from typing import Any

from pydantic import BaseModel, Field

from kb.search.expiry import is_expired
from kb.store import FaqCandidate
from kb.trainer.corpus import TrainerCorpus
from kb.trainer.gaps import GapReport
from kb.trainer.lifecycle import FaqEdit
from kb.trainer.topics import TopicSet, trend
from kb.types import DocId, Document


class CaseRefOut(BaseModel):
    id: str
    summary: str
    resolution: str
    date: str
    channel: str
    departments: list[str]


class TopicOut(BaseModel):
    id: str
    department: str
    label: str
    keywords: list[str]
    size: int
    channel: str
    channels: dict[str, int]
    departments: dict[str, int]
    monthly: dict[str, int]
    trend: float = Field(description="Cases per month in the last 3 months over the mean.")
    representative: list[CaseRefOut]


class TopicsOut(BaseModel):
    department: str
    months: list[str]
    topics: list[TopicOut]

    @classmethod
    def build(cls, topic_set: TopicSet, corpus: TrainerCorpus) -> TopicsOut:
        cases = {c.doc_id: c for c in corpus.cases}
        out = []
        for t in topic_set.topics:
            refs = [
                CaseRefOut(
                    id=DocId.local_of(c.doc_id),
                    summary=c.title,
                    resolution=c.body,
                    date=c.date,
                    channel=c.channel,
                    departments=list(c.departments),
                )
                for c in (cases[i] for i in t.representative if i in cases)
            ]
            out.append(
                TopicOut(
                    id=t.id,
                    department=t.department,
                    label=t.label,
                    keywords=list(t.keywords),
                    size=t.size,
                    channel=t.channel,
                    channels=dict(t.channels),
                    departments=dict(t.departments),
                    monthly=dict(t.monthly),
                    trend=trend(t),
                    representative=refs,
                )
            )
        return cls(department=topic_set.department, months=list(topic_set.months), topics=out)


class GapTopicOut(BaseModel):
    topic_id: str
    label: str
    size: int
    coverage: float
    best_faq: str
    best_faq_question: str


class GapQueryOut(BaseModel):
    query: str
    count: int
    zero_hits: int
    best_score: float | None
    last_seen: str


class PeriodRateOut(BaseModel):
    period: str
    searches: int
    zero_hit: int
    low_score: int
    zero_hit_rate: float
    low_score_rate: float


class HelpRateOut(BaseModel):
    faq_id: str
    question: str
    helped: int
    not_helped: int
    rate: float | None


class GapsOut(BaseModel):
    low_score: float
    topic_low_score: float
    searches: int
    topics: list[GapTopicOut]
    queries: list[GapQueryOut]
    rates: list[PeriodRateOut]
    helped: list[HelpRateOut]

    @classmethod
    def build(cls, report: GapReport) -> GapsOut:
        return cls(
            low_score=report.low_score,
            topic_low_score=report.topic_low_score,
            searches=report.searches,
            topics=[
                GapTopicOut(
                    topic_id=g.topic.id,
                    label=g.topic.label,
                    size=g.topic.size,
                    coverage=g.coverage,
                    best_faq=g.best_faq,
                    best_faq_question=g.best_faq_question,
                )
                for g in report.topics
            ],
            queries=[
                GapQueryOut(
                    query=q.query,
                    count=q.count,
                    zero_hits=q.zero_hits,
                    best_score=q.best_score,
                    last_seen=q.last_seen,
                )
                for q in report.queries
            ],
            rates=[
                PeriodRateOut(
                    period=r.period,
                    searches=r.searches,
                    zero_hit=r.zero_hit,
                    low_score=r.low_score,
                    zero_hit_rate=round(r.zero_hit_rate, 4),
                    low_score_rate=round(r.low_score_rate, 4),
                )
                for r in report.rates
            ],
            helped=[
                HelpRateOut(
                    faq_id=h.faq_id,
                    question=h.question,
                    helped=h.helped,
                    not_helped=h.not_helped,
                    rate=None if h.rate is None else round(h.rate, 4),
                )
                for h in report.helped
            ],
        )


class DashboardOut(BaseModel):
    department: str
    departments: list[str]
    html: str = Field(description="Server-rendered HTML fragment with inline SVG charts.")


class CandidateIn(BaseModel):
    topic_id: str = Field(
        min_length=1, max_length=200, description="e.g. 'all-03' (at most 200 characters)."
    )


_DATE = "ISO date (2025-03-31), 2025/3/31 or 令和7年3月31日; empty: none."


class FaqFieldsIn(BaseModel):
    """The fields of an FAQ entry as a trainer edits them; a field left out is kept."""

    question: str | None = Field(
        default=None,
        max_length=500,
        description="The FAQ question as it will be published (at most 500 characters).",
    )
    answer: str | None = Field(
        default=None,
        max_length=4000,
        description="The FAQ answer as it will be published (at most 4,000 characters).",
    )
    department: str | None = Field(
        default=None,
        max_length=200,
        description="担当課, several separated by 、: the first is the contact the widget shows.",
    )
    category: str | None = Field(default=None, max_length=200, description="分類 (category).")
    url: str | None = Field(default=None, max_length=200, description="http(s) only.")
    owner: str | None = Field(default=None, max_length=200, description="所管課.")
    updated: str | None = Field(default=None, max_length=200, description="更新日: " + _DATE)
    expires: str | None = Field(
        default=None,
        max_length=200,
        description="公開期限, the last public day: " + _DATE,
    )

    def edit(self) -> FaqEdit:
        # An empty question or answer keeps it, as the first version of this route did.
        values = self.model_dump()
        for name in ("question", "answer"):
            if not (values[name] or "").strip():
                values[name] = None
        return FaqEdit(**values)


class CandidateEditIn(FaqFieldsIn):
    pass


class RejectIn(BaseModel):
    reason: str = Field(
        min_length=1, max_length=1000, description="Why (却下の理由), kept and shown."
    )


class WithdrawIn(BaseModel):
    reason: str = Field(default="", max_length=1000, description="Why; written to the audit log.")


class CandidateOut(BaseModel):
    id: str
    topic_id: str
    question: str
    answer: str
    department: str
    category: str
    source_cases: list[str]
    status: str = Field(description="draft, approved or rejected.")
    created_at: str
    approved_at: str
    target: str = Field(description="The FAQ id a revision replaces; empty for a new entry.")
    faq_id: str = Field(description="The FAQ id it is published as.")
    url: str
    owner: str
    updated: str
    expires: str
    edited_by: str = Field(description="Who drafted or last edited it.")
    approvals: list[str] = Field(description="Who approved it so far (承認1, 承認2...).")
    rejected_by: str
    rejected_at: str
    reason: str

    @classmethod
    def of(cls, c: FaqCandidate) -> CandidateOut:
        data = asdict(c)
        data["source_cases"] = list(c.source_cases)
        data["approvals"] = list(c.approvals)
        return cls(faq_id=c.faq_id, **data)


class CandidateListOut(BaseModel):
    candidates: list[CandidateOut]
    approvers: int = Field(description="Approvals that publish a candidate (KB_FAQ_APPROVERS).")


class ApprovalOut(BaseModel):
    candidate: CandidateOut
    published: bool = Field(description="false: an approval was recorded, more are needed.")
    approvals: int
    needed: int
    seconds: float = Field(description="From the request to the new index serving.")
    index: str = ""
    embedded: int = 0
    cached: int = 0


class FaqEntryOut(BaseModel):
    id: str
    question: str
    answer: str
    departments: list[str]
    category: str
    url: str
    owner: str
    updated: str
    expires: str
    published: bool = Field(description="false: withdrawn (公開停止) or never published.")
    expired: bool = Field(description="Its 公開期限 has passed: not in the widget (期限切れ).")
    revision: str = Field(description="The open draft revising it, if any.")

    @classmethod
    def of(cls, doc: Document, revision: str = "") -> FaqEntryOut:
        return cls(
            id=DocId.local_of(doc.doc_id),
            question=doc.title,
            answer=doc.body,
            departments=list(doc.departments),
            category=doc.category,
            url=doc.url,
            owner=doc.owner,
            updated=doc.updated,
            expires=doc.expires,
            published=doc.published,
            expired=is_expired(doc.expires),
            revision=revision,
        )


class FaqListOut(BaseModel):
    total: int = Field(description="Entries matching the filter (the page holds at most limit).")
    faqs: list[FaqEntryOut]


class FaqChangeOut(BaseModel):
    faq: FaqEntryOut
    seconds: float
    index: str
    embedded: int
    cached: int


class ModelValidationOut(BaseModel):
    queries: int = Field(description="Held-out FAQ/case questions scored (never search queries).")
    candidates: int = Field(description="Answers each question was ranked against.")
    mrr_at_10: float
    recall_at_1: float
    recall_at_10: float


class ModelStatusOut(BaseModel):
    """The embedding model that serves, and its adaptation to the city's FAQ and cases."""

    enabled: bool = Field(description="KB_ADAPT: adaptation runs after builds that change enough.")
    base_model: str
    adapted: bool = Field(description="The adapted model serves (else the base model).")
    folder: str = ""
    adopted_at: str = Field(default="", description="When the adapted model began to serve.")
    running: bool = Field(description="An adaptation runs in the background now.")
    last_finished_at: str = ""
    last_kept: bool | None = None
    last_reason: str = ""
    pairs: int = Field(default=0, description="FAQ/case pairs of the latest attempt.")
    train_pairs: int = 0
    heldout_pairs: int = 0
    cpu_seconds: float = 0.0
    base: ModelValidationOut | None = None
    adapted_validation: ModelValidationOut | None = None

    @classmethod
    def build(cls, status: dict[str, Any]) -> ModelStatusOut:
        """From :func:`kb.index.adapt.adaptation_status`."""
        adapted = status.get("adapted") or {}
        last = status.get("last_attempt") or {}
        validation = last.get("validation") or {}
        return cls(
            enabled=status["enabled"],
            base_model=status["base_model"],
            adapted=bool(adapted),
            folder=adapted.get("folder", ""),
            adopted_at=adapted.get("adopted_at", ""),
            running=status["running"],
            last_finished_at=last.get("finished_at", ""),
            last_kept=last.get("kept"),
            last_reason=last.get("reason", ""),
            pairs=last.get("pairs", 0),
            train_pairs=last.get("train_pairs", 0),
            heldout_pairs=last.get("heldout_pairs", 0),
            cpu_seconds=last.get("cpu_seconds", 0.0),
            base=validation.get("base"),
            adapted_validation=validation.get("adapted"),
        )
