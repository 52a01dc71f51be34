"""The records a pane shows, made from a hit and its stored document."""

from __future__ import annotations

from kb.ingest.chunking import split_text
from kb.search.expiry import is_expired
from kb.types import CaseResult, DocId, Document, FaqResult, Hit, ManualResult

MAX_SECTION_CHARS = 4_000
"""A manual section longer than this is shown as the matching part and its neighbours: a
manual without headings is one section (up to a million characters), and every search that
found it answered with the whole of it (1.1 MB)."""


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
        text=section_excerpt(doc.body, hit.chunk_id),
        score=round(hit.score, 4),
    )


def section_excerpt(body: str, chunk_id: str) -> str:
    """``body`` whole, or for a long section the hit's part with one part before and after
    (the parts the section was chunked into), marked with … where text was left out."""
    if len(body) <= MAX_SECTION_CHARS:
        return body
    parts = split_text(body)
    _, _, ordinal = chunk_id.rpartition("#")
    i = min(int(ordinal), len(parts) - 1) if ordinal.isascii() and ordinal.isdigit() else 0
    first, last = max(0, i - 1), min(len(parts), i + 2)
    text = "\n".join(parts[first:last])
    return ("…" if first > 0 else "") + text + ("…" if last < len(parts) else "")
