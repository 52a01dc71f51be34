"""Request and response schemas of the HTTP API (pydantic lives only here, at the edge)."""

from __future__ import annotations

from typing import Annotated

from pydantic import BaseModel, Field

from kb.types import SearchResult


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


class SearchOut(BaseModel):
    query: str
    took_ms: float
    departments: list[DepartmentOut]
    faqs: list[FaqOut]
    cases: list[CaseOut]
    manuals: list[ManualOut]

    @classmethod
    def from_result(cls, result: SearchResult) -> SearchOut:
        return cls(
            query=result.query,
            took_ms=result.took_ms,
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
    index: str | None = None
    model: str | None = None
    chunks: int | None = None
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
    q: str = Field(min_length=1, max_length=500, description="The query as typed.")
    texts: list[str] = Field(max_length=200, description="Texts as displayed.")


class HighlightOut(BaseModel):
    terms: list[str] = Field(description="The query's lexical terms (MeCab lemmas).")
    spans: list[list[tuple[int, int]]] = Field(
        description="Per text, [start, end) of matched tokens in UTF-16 code units."
    )


class FeedbackIn(BaseModel):
    query: str = Field(max_length=500, description="What was searched; stored masked.")
    shown: list[Annotated[str, Field(max_length=200)]] = Field(
        default_factory=list,
        max_length=200,
        description="Ids of the documents shown (faq:F0001...); each must be in the index.",
    )
    helped_id: str | None = Field(
        default=None, max_length=200, description="The shown document that helped."
    )
    right_department: str | None = Field(
        default=None, max_length=100, description="A department of the directory."
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
    faqs: list[PublicFaqOut]


class PublicSuggestionOut(BaseModel):
    id: str
    question: str


class PublicSuggestOut(BaseModel):
    query: str
    suggestions: list[PublicSuggestionOut]


class PublicFeedbackIn(BaseModel):
    faq_id: str = Field(max_length=50)
    helpful: bool
    query: str = Field(default="", max_length=500)


class PublicFeedbackOut(BaseModel):
    status: str
