"""Request and response schemas of the HTTP API (pydantic lives only here, at the edge)."""

from __future__ import annotations

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
