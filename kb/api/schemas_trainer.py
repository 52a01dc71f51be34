"""Request and response schemas of the trainer API (``/api/v1/trainer``)."""

from __future__ import annotations

from pydantic import BaseModel, Field

from kb.trainer.corpus import TrainerCorpus
from kb.trainer.gaps import GapReport
from kb.trainer.topics import TopicSet, trend
from kb.types import DocId


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


class CandidateEditIn(BaseModel):
    question: str = Field(
        default="",
        max_length=500,
        description="The FAQ question as it will be published (at most 500 characters).",
    )
    answer: str = Field(
        default="",
        max_length=4000,
        description="The FAQ answer as it will be published (at most 4,000 characters).",
    )


class CandidateOut(BaseModel):
    id: str
    topic_id: str
    question: str
    answer: str
    department: str
    category: str
    source_cases: list[str]
    status: str
    created_at: str
    approved_at: str


class CandidateListOut(BaseModel):
    candidates: list[CandidateOut]


class ApprovalOut(BaseModel):
    candidate: CandidateOut
    seconds: float = Field(description="From the request to the new index serving.")
    index: str
    embedded: int
    cached: int
