"""The records a pane shows, made from a hit and its stored document."""

from __future__ import annotations

from kb.search.expiry import is_expired
from kb.types import CaseResult, DocId, Document, FaqResult, Hit, ManualResult


def faq_result(hit: Hit, doc: Document) -> FaqResult:
    return FaqResult(
        id=DocId.local_of(doc.doc_id),
        question=doc.title,
        answer=doc.body,
        department=doc.departments[0] if doc.departments else "",
        score=round(hit.score, 4),
        category=doc.category,
        url=doc.url,
        expires=doc.expires,
        expired=is_expired(doc.expires),
    )


def case_result(hit: Hit, doc: Document) -> CaseResult:
    return CaseResult(
        id=DocId.local_of(doc.doc_id),
        summary=doc.title,
        resolution=doc.body,
        department="・".join(doc.departments),
        date=doc.date,
        score=round(hit.score, 4),
        channel=doc.channel,
        category=doc.category,
    )


def manual_result(hit: Hit, doc: Document) -> ManualResult:
    return ManualResult(
        id=DocId.local_of(doc.doc_id),
        title=doc.doc_title,
        heading=" > ".join(doc.heading_path) or doc.title,
        text=doc.body,
        score=round(hit.score, 4),
    )
