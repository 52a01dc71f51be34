"""What the staff console needs besides search: details, the directory, highlights, feedback."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, HTTPException, Query
from starlette.concurrency import run_in_threadpool

from kb.api.auth import Principal
from kb.api.deps import AuditDep, FeedbackDep, SearcherDep, StaffDep, TrainerDep
from kb.api.highlight import highlight_spans
from kb.api.schemas import (
    CaseDetailOut,
    DirectoryEntryOut,
    DirectoryOut,
    ErrorOut,
    FaqDetailOut,
    FeedbackIn,
    FeedbackListOut,
    FeedbackOut,
    FeedbackRecordOut,
    HighlightIn,
    HighlightOut,
    ManualDetailOut,
    RelatedOut,
    SearchOut,
)
from kb.errors import QueryError
from kb.messages import msg
from kb.search.expiry import is_expired
from kb.search.searcher import Searcher
from kb.security.audit import AuditLog
from kb.store import FeedbackRecord
from kb.text.masking import mask_personal
from kb.types import DocId, DocKind, Document

router = APIRouter(prefix="/api/v1", tags=["staff console"])

RELATED_K = 5


def _document(searcher: Searcher, kind: DocKind, local_id: str) -> Document:
    doc_id = DocId.of(kind, local_id)
    doc = searcher.store.get_documents([doc_id]).get(doc_id)
    if doc is None or doc.kind != kind:
        raise HTTPException(status_code=404, detail=f"no {kind} with id {local_id!r}")
    return doc


def _related(searcher: Searcher, doc: Document) -> RelatedOut:
    """Search with the document's own text and drop the document itself."""
    text = f"{doc.title}\n{doc.body}".strip()[: searcher.config.max_query_chars]
    try:
        result = SearchOut.from_result(searcher.search(text, k=RELATED_K + 1))
    except QueryError:
        return RelatedOut(faqs=[], cases=[], manuals=[])
    own = DocId.local_of(doc.doc_id)

    def keep(kind: DocKind, local_id: str) -> bool:
        return not (kind == doc.kind and local_id == own)

    return RelatedOut(
        faqs=[f for f in result.faqs if keep("faq", f.id)][:RELATED_K],
        cases=[c for c in result.cases if keep("case", c.id)][:RELATED_K],
        manuals=[m for m in result.manuals if keep("manual", m.id)][:RELATED_K],
    )


def related_ids(related: RelatedOut) -> list[str]:
    """Doc ids of the related items a detail reply carries, pane by pane."""
    return (
        [DocId.of("faq", f.id) for f in related.faqs]
        + [DocId.of("case", c.id) for c in related.cases]
        + [DocId.of("manual", m.id) for m in related.manuals]
    )


async def _opened(
    audit: AuditLog, principal: Principal, doc: Document, related: RelatedOut
) -> None:
    """Record that ``principal`` opened ``doc`` and saw its related items, before replying.

    The reply carries the related FAQ, cases and manual sections in full, so each of their
    ids is logged too, after the opened document's own.
    """
    ids = [doc.doc_id, *related_ids(related)]
    await run_in_threadpool(
        audit.append, "open", actor=principal.name, role=principal.role, ids=ids
    )


_NOT_FOUND: dict[int | str, dict[str, Any]] = {
    404: {"model": ErrorOut},
    503: {"model": ErrorOut},
}


@router.get("/faq/{faq_id}", response_model=FaqDetailOut, responses=_NOT_FOUND)
async def faq_detail(
    faq_id: str, searcher: SearcherDep, principal: StaffDep, audit: AuditDep
) -> FaqDetailOut:
    """One FAQ entry (published or not: this is the staff API) with related items."""
    doc = _document(searcher, "faq", faq_id)
    related = await run_in_threadpool(_related, searcher, doc)
    await _opened(audit, principal, doc, related)
    return FaqDetailOut(
        id=faq_id,
        question=doc.title,
        answer=doc.body,
        departments=list(doc.departments),
        category=doc.category,
        url=doc.url,
        published=doc.published,
        expires=doc.expires,
        expired=is_expired(doc.expires),
        related=related,
    )


@router.get("/cases/{case_id}", response_model=CaseDetailOut, responses=_NOT_FOUND)
async def case_detail(
    case_id: str, searcher: SearcherDep, principal: StaffDep, audit: AuditDep
) -> CaseDetailOut:
    """One closed consultation case with related items."""
    doc = _document(searcher, "case", case_id)
    related = await run_in_threadpool(_related, searcher, doc)
    await _opened(audit, principal, doc, related)
    return CaseDetailOut(
        id=case_id,
        summary=doc.title,
        resolution=doc.body,
        departments=list(doc.departments),
        date=doc.date,
        channel=doc.channel,
        category=doc.category,
        status=doc.status,
        related=related,
    )


@router.get("/manuals/{manual_id:path}", response_model=ManualDetailOut, responses=_NOT_FOUND)
async def manual_detail(
    manual_id: str, searcher: SearcherDep, principal: StaffDep, audit: AuditDep
) -> ManualDetailOut:
    """One manual section with related items."""
    doc = _document(searcher, "manual", manual_id)
    related = await run_in_threadpool(_related, searcher, doc)
    await _opened(audit, principal, doc, related)
    return ManualDetailOut(
        id=manual_id,
        title=doc.doc_title,
        heading=" > ".join(doc.heading_path) or doc.title,
        text=doc.body,
        departments=list(doc.departments),
        related=related,
    )


@router.get("/departments", response_model=DirectoryOut, responses={503: {"model": ErrorOut}})
def departments(searcher: SearcherDep, _: StaffDep) -> DirectoryOut:
    """The department directory, by name."""
    return DirectoryOut(
        departments=[
            DirectoryEntryOut(
                name=d.name, duties=d.duties, phone=d.phone, location=d.location, hours=d.hours
            )
            for d in sorted(searcher.departments.values(), key=lambda d: d.name)
        ]
    )


@router.post("/highlight", response_model=HighlightOut, responses={422: {"model": ErrorOut}})
async def highlight(body: HighlightIn, searcher: SearcherDep, _: StaffDep) -> HighlightOut:
    """Spans of the displayed texts whose MeCab lemma is one of the query's terms.

    At most 200 texts of at most 20,000 characters, 100,000 in all (422 beyond), so that one
    request is at most about a second of MeCab work.
    """
    # QueryError → 422 (the app's handler). The terms are those the search matched: of the
    # query as rewritten (kana converted, typos mended), so 「じゅうみんひょう」 marks 住民票.
    analysis = searcher.rewrite(searcher.analyze(body.q))[0]
    spans = await run_in_threadpool(highlight_spans, searcher.tokenizer, analysis.terms, body.texts)
    return HighlightOut(terms=list(analysis.terms), spans=spans)


@router.post(
    "/feedback", response_model=FeedbackOut, status_code=201, responses={422: {"model": ErrorOut}}
)
def feedback(
    body: FeedbackIn,
    store: FeedbackDep,
    searcher: SearcherDep,
    audit: AuditDep,
    principal: StaffDep,
) -> FeedbackOut:
    """Record "this helped" or "the right department was ..." with the query and what was shown.

    Only the query is free text (stored masked); ``shown`` and ``helped_id`` must be ids of
    documents in the serving index and ``right_department`` a department of the directory, so
    nothing typed can reach the feedback store unmasked through them. Audited
    (``feedback``): a correction moves the department ranking for every counsellor.
    """
    if not body.helped_id and not body.right_department:
        raise HTTPException(status_code=422, detail=msg("feedback.need_one"))
    if body.right_department and body.right_department not in searcher.departments:
        shown_name = mask_personal(body.right_department, searcher.tokenizer)
        raise HTTPException(
            status_code=422, detail=msg("feedback.unknown_department", name=shown_name)
        )
    _check_shown(body, searcher)
    saved = store.add(
        FeedbackRecord(
            source="staff",
            # What the citizen said may hold a phone number or a name: never stored as typed.
            query=mask_personal(body.query, searcher.tokenizer),
            shown=tuple(body.shown),
            helped_id=body.helped_id or "",
            right_department=body.right_department or "",
            actor=principal.name,
        )
    )
    helped = f"helped {body.helped_id}" if body.helped_id else ""
    right = f"right department {body.right_department}" if body.right_department else ""
    audit.append(
        "feedback",
        actor=principal.name,
        role=principal.role,
        query=body.query,
        ids=tuple(body.shown),
        detail="; ".join(x for x in (f"feedback {saved.id}", helped, right) if x),
    )
    return FeedbackOut(id=saved.id, created_at=saved.created_at)


def _check_shown(body: FeedbackIn, searcher: Searcher) -> None:
    """422 unless every shown id is a document of the index and ``helped_id`` one of them."""

    def echo(text: str) -> str:  # what was sent, as an error may show it: masked, short
        return repr(mask_personal(text, searcher.tokenizer)[:80])

    for i, text in enumerate(body.shown):
        try:
            DocId.parse(text)
        except ValueError:
            detail = f"shown[{i}] {echo(text)} は文書のID（例: faq:F0001）ではありません"
            raise HTTPException(status_code=422, detail=detail) from None
    found = searcher.store.get_documents(body.shown)
    for i, text in enumerate(body.shown):
        if text not in found:
            detail = f"shown[{i}] {echo(text)} は検索インデックスにない文書です"
            raise HTTPException(status_code=422, detail=detail)
    if body.helped_id and body.helped_id not in found:
        detail = f"helped_id {echo(body.helped_id)} は shown（表示した文書）のどれでもありません"
        raise HTTPException(status_code=422, detail=detail)


@router.get("/feedback", response_model=FeedbackListOut)
def feedback_list(
    store: FeedbackDep,
    principal: TrainerDep,
    audit: AuditDep,
    limit: Annotated[int, Query(ge=1, le=1000)] = 100,
) -> FeedbackListOut:
    """The latest feedback, newest first (for the trainer and analytics)."""
    # A trainer tool outside /api/v1/trainer/: its use is audited like theirs (the rows hold
    # the queries staff and citizens typed, masked).
    audit.append(
        "trainer.access",
        actor=principal.name,
        role=principal.role,
        detail=f"GET /api/v1/feedback limit={limit}",
    )
    return FeedbackListOut(
        feedback=[
            FeedbackRecordOut(
                id=r.id,
                created_at=r.created_at,
                source=r.source,
                query=r.query,
                shown=list(r.shown),
                helped_id=r.helped_id,
                right_department=r.right_department,
                helpful=r.helpful,
            )
            for r in store.recent(limit)
        ]
    )
