"""Request and response schemas of the HTTP API (pydantic lives only here, at the edge)."""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import BaseModel, Field, model_validator

from kb.api.limits import (
    HIGHLIGHT_MAX_TEXTS,
    HIGHLIGHT_TEXT_MAX_CHARS,
    HIGHLIGHT_TOTAL_MAX_CHARS,
)
from kb.settings import Settings
from kb.types import SearchResult

Level = Literal["high", "low", "none"]


class DepartmentOut(BaseModel):
    name: str
    score: float
    phone: str
    location: str
    hours: str
    evidence: list[str] = Field(description="Doc ids (FAQ / cases / directory) pointing here.")


class FaqOut(BaseModel):
    id: str
    question: str
    answer: str
    department: str
    score: float
    category: str = ""
    url: str = ""
    expires: str = Field(default="", description="公開期限 (ISO date), or empty.")
    expired: bool = Field(
        default=False, description="Past its 公開期限: no longer in the public widget (期限切れ)."
    )


class CaseOut(BaseModel):
    id: str
    summary: str
    resolution: str
    department: str
    date: str
    score: float
    channel: str = ""
    category: str = ""


class ManualOut(BaseModel):
    id: str
    title: str
    heading: str
    text: str
    score: float


class ConfidenceOut(BaseModel):
    """How sure the search is of each pane's best hit; ``null``: the pane was not searched."""

    faq: Level | None = None
    case: Level | None = None
    manual: Level | None = None
    department: Level | None = Field(
        default=None,
        description="As sure as the surest of the FAQ, case and directory hits it is ranked "
        "from; below high, the console offers the general contact instead of a guess.",
    )


class ContactOut(BaseModel):
    """The city's general contact (settings ``contact_*``), for questions with no answer."""

    name: str
    phone: str
    hours: str
    url: str
    form_url: str

    @classmethod
    def from_settings(cls, settings: Settings) -> ContactOut:
        return cls(
            name=settings.contact_name,
            phone=settings.contact_phone,
            hours=settings.contact_hours,
            url=settings.contact_url,
            form_url=settings.contact_form_url,
        )


class SearchOut(BaseModel):
    query: str
    took_ms: float
    answered: bool = Field(description="Whether a pane shown found an answer (high or low).")
    confidence: ConfidenceOut
    contact: ContactOut | None = Field(
        default=None, description="The city's general contact (the staff search sets it)."
    )
    departments: list[DepartmentOut]
    faqs: list[FaqOut]
    cases: list[CaseOut]
    manuals: list[ManualOut]

    @classmethod
    def from_result(cls, result: SearchResult, contact: ContactOut | None = None) -> SearchOut:
        return cls(
            query=result.query,
            took_ms=result.took_ms,
            answered=result.answered,
            confidence=ConfidenceOut(**result.confidence.__dict__),
            contact=contact,
            departments=[
                DepartmentOut(
                    name=d.name,
                    score=d.score,
                    phone=d.phone,
                    location=d.location,
                    hours=d.hours,
                    evidence=list(d.evidence),
                )
                for d in result.departments
            ],
            faqs=[FaqOut(**f.__dict__) for f in result.faqs],
            cases=[CaseOut(**c.__dict__) for c in result.cases],
            manuals=[ManualOut(**m.__dict__) for m in result.manuals],
        )


class ErrorOut(BaseModel):
    detail: str


class HealthOut(BaseModel):
    status: str


class ReadyOut(BaseModel):
    status: str
    model: str | None = None
    error: str | None = None


# --- staff console ------------------------------------------------------------------------


class DirectoryEntryOut(BaseModel):
    """A department of the directory (the console's feedback picker and contact cards)."""

    name: str
    duties: str
    phone: str
    location: str
    hours: str


class DirectoryOut(BaseModel):
    departments: list[DirectoryEntryOut]


class RelatedOut(BaseModel):
    """Items found by searching with a document's own text (the document itself dropped)."""

    faqs: list[FaqOut]
    cases: list[CaseOut]
    manuals: list[ManualOut]


class FaqDetailOut(BaseModel):
    id: str
    question: str
    answer: str
    departments: list[str]
    category: str
    url: str
    published: bool
    expires: str = ""
    expired: bool = False
    related: RelatedOut


class CaseDetailOut(BaseModel):
    id: str
    summary: str
    resolution: str
    departments: list[str]
    date: str
    channel: str
    category: str
    status: str
    related: RelatedOut


class ManualDetailOut(BaseModel):
    id: str
    title: str
    heading: str
    text: str
    departments: list[str]
    related: RelatedOut


class HighlightIn(BaseModel):
    q: str = Field(
        min_length=1, max_length=500, description="The query as typed (at most 500 characters)."
    )
    texts: list[Annotated[str, Field(max_length=HIGHLIGHT_TEXT_MAX_CHARS)]] = Field(
        max_length=HIGHLIGHT_MAX_TEXTS,
        description=(
            f"Texts as displayed: at most {HIGHLIGHT_MAX_TEXTS}, each at most "
            f"{HIGHLIGHT_TEXT_MAX_CHARS:,} characters, {HIGHLIGHT_TOTAL_MAX_CHARS:,} in all."
        ),
    )

    @model_validator(mode="after")
    def _bounded_work(self) -> HighlightIn:
        total = sum(len(text) for text in self.texts)
        if total > HIGHLIGHT_TOTAL_MAX_CHARS:
            raise ValueError(
                f"texts の合計が {total:,} 文字で、上限 {HIGHLIGHT_TOTAL_MAX_CHARS:,} 文字を"
                "超えています"
            )
        return self


class HighlightOut(BaseModel):
    terms: list[str] = Field(description="The query's lexical terms (MeCab lemmas).")
    spans: list[list[tuple[int, int]]] = Field(
        description="Per text, [start, end) of matched tokens in UTF-16 code units."
    )


class FeedbackIn(BaseModel):
    query: str = Field(
        max_length=500, description="What was searched (at most 500 characters); stored masked."
    )
    shown: list[Annotated[str, Field(max_length=200)]] = Field(
        default_factory=list,
        max_length=200,
        description=(
            "Ids of the documents shown (faq:F0001...: at most 200 ids of at most 200 "
            "characters); each must be in the index."
        ),
    )
    helped_id: str | None = Field(
        default=None,
        max_length=200,
        description="The shown document that helped (at most 200 characters).",
    )
    right_department: str | None = Field(
        default=None,
        max_length=100,
        description="A department of the directory (at most 100 characters).",
    )


class FeedbackOut(BaseModel):
    id: int
    created_at: str


class FeedbackRecordOut(BaseModel):
    id: int
    created_at: str
    source: str
    query: str
    shown: list[str]
    helped_id: str
    right_department: str
    helpful: bool | None


class FeedbackListOut(BaseModel):
    feedback: list[FeedbackRecordOut]


# --- public API (published FAQ only) ------------------------------------------------------
# These models have no field that could carry case, manual or staff-note text: the public
# routes can only ever serialize a question, its answer and a department's contact details.


class PublicDepartmentOut(BaseModel):
    name: str
    phone: str
    location: str
    hours: str


class PublicFaqOut(BaseModel):
    id: str
    question: str
    answer: str
    category: str
    url: str
    department: PublicDepartmentOut | None


class PublicSearchOut(BaseModel):
    query: str
    answered: bool = Field(
        description="false: no published FAQ answers the question; faqs is empty and the "
        "widget offers the general contact instead."
    )
    confidence: Level = Field(description="high, low (a near match: check it) or none.")
    faqs: list[PublicFaqOut]
    contact: ContactOut


class PublicSuggestionOut(BaseModel):
    id: str
    question: str


class PublicSuggestOut(BaseModel):
    query: str
    suggestions: list[PublicSuggestionOut]


class PublicFeedbackIn(BaseModel):
    faq_id: str = Field(max_length=50, description="The FAQ's id (at most 50 characters).")
    helpful: bool
    query: str = Field(
        default="",
        max_length=500,
        description="What the citizen searched (at most 500 characters); stored masked.",
    )


class PublicFeedbackOut(BaseModel):
    status: str
