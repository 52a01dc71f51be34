"""The FAQ lifecycle over HTTP: candidates, revisions of FAQ entries, approval, rejection,
withdrawal and the widget preview (mounted under ``/api/v1/trainer`` by
:mod:`kb.api.routes.trainer`).

Every route depends on ``require_role("trainer")``; the caller's key name is the principal
that drafts, edits, approves or rejects (``KB_FAQ_APPROVERS``: :mod:`kb.trainer.lifecycle`).
Every step that changes a candidate or an entry is audited (``draft``, ``revise``, ``edit``,
``approve``, ``reject``, ``withdraw``, ``republish``), and every response that carries a
candidate drafted from cases names those cases (``trainer.cases_shown``), as the topics view
does: a draft's question and answer are its cases' texts. A refusal is a 4xx with a Japanese
``detail``: 404 (no such candidate or entry), 409 (its state, or the writer lock), 403 (the
drafter may not publish), 422 (a field).
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Annotated, Any

from fastapi import APIRouter, HTTPException, Query, Request
from starlette.concurrency import run_in_threadpool

from kb.api.auth import Principal
from kb.api.deps import AuditDep, SearcherDep, SettingsDep, StateDep, TrainerDep
from kb.api.querylog import get_trainer
from kb.api.ratelimit import FAQ_CHANGES_PER_MINUTE, limit_key
from kb.api.routes.public import public_faq
from kb.api.schemas import ContactOut, ErrorOut, PublicSearchOut
from kb.api.schemas_trainer import (
    ApprovalOut,
    CandidateEditIn,
    CandidateIn,
    CandidateListOut,
    CandidateOut,
    FaqChangeOut,
    FaqEntryOut,
    FaqFieldsIn,
    FaqListOut,
    RejectIn,
    WithdrawIn,
)
from kb.errors import BusyError, FaqRefused, TrainerError
from kb.ingest.schema import split_multi
from kb.messages import msg
from kb.search.service import SearchService
from kb.security.audit import AuditLog
from kb.security.audit_actions import audited
from kb.store.types import FaqCandidate
from kb.trainer.candidates import Approval
from kb.trainer.lifecycle import FaqEdit
from kb.trainer.service import FaqChange, Trainer, approval_summary, change_summary
from kb.types import DocId, FaqResult

router = APIRouter()

_ERRORS: dict[int | str, dict[str, Any]] = {
    403: {"model": ErrorOut},
    404: {"model": ErrorOut},
    409: {"model": ErrorOut},
    422: {"model": ErrorOut},
    503: {"model": ErrorOut},
}
_STATUS = {"invalid": 422, "conflict": 409, "forbidden": 403}
_Q = "Text in the id, question, answer, department or owner; empty: all."


def _trainer(request: Request) -> Trainer:
    return get_trainer(request)


def _refused(exc: TrainerError | BusyError) -> HTTPException:
    if isinstance(exc, FaqRefused):
        status = _STATUS.get(exc.reason, 409)
    elif isinstance(exc, BusyError):
        # Another ingest or build (another worker, the command line): try again afterwards.
        status = 409
    else:
        status = 404
    return HTTPException(status_code=status, detail=str(exc))


def _service(state: StateDep) -> SearchService:
    if state.service is None:
        raise HTTPException(status_code=503, detail="the search service is not loaded yet")
    return state.service


def _cases_shown(
    audit: AuditLog, principal: Principal, what: str, shown: Iterable[FaqCandidate]
) -> None:
    """Name the cases a response's candidates were drafted from (their summaries and
    resolutions are the draft's text): "who saw case C0203" includes the trainers."""
    ids = list(dict.fromkeys(case for c in shown for case in c.source_cases))
    if ids:
        audit.append(
            "trainer.cases_shown", actor=principal.name, role=principal.role, ids=ids, detail=what
        )


def _faq_ids(faq_id: str) -> list[str]:
    return [DocId.of("faq", DocId.local_of(faq_id) if faq_id.startswith("faq:") else faq_id)]


# --- candidates ---------------------------------------------------------------------------


@router.get("/candidates", response_model=CandidateListOut)
def list_candidates(
    request: Request, principal: TrainerDep, audit: AuditDep, settings: SettingsDep
) -> CandidateListOut:
    """Every FAQ candidate: drafts, approved and rejected ones, new entries and revisions."""
    found = _trainer(request).candidates().all()
    _cases_shown(audit, principal, "candidates", found)
    return CandidateListOut(
        candidates=[CandidateOut.of(c) for c in found], approvers=settings.faq_approvers
    )


@router.post("/candidates", response_model=CandidateOut, status_code=201, responses=_ERRORS)
async def create_candidate(
    request: Request, principal: TrainerDep, audit: AuditDep, body: CandidateIn
) -> CandidateOut:
    """Draft an FAQ entry for a topic (normally a gap topic); it stays unpublished."""
    trainer = _trainer(request)

    def draft() -> CandidateOut:
        with audited(audit, "draft", actor=principal.name, role=principal.role) as done:
            c = trainer.draft(body.topic_id, by=principal.name)
            done.ids = (DocId.of("faq", c.id),)
            done.detail = f"drafted {c.id} for topic {c.topic_id}"
        _cases_shown(audit, principal, f"candidate {c.id}", [c])
        return CandidateOut.of(c)

    try:
        return await run_in_threadpool(draft)
    except TrainerError as exc:
        raise _refused(exc) from exc


@router.patch("/candidates/{candidate_id}", response_model=CandidateOut, responses=_ERRORS)
def edit_candidate(
    request: Request,
    principal: TrainerDep,
    audit: AuditDep,
    candidate_id: str,
    body: CandidateEditIn,
) -> CandidateOut:
    """Edit a draft before approving it; earlier approvals of it no longer count."""
    edit = body.edit()
    ids = [DocId.of("faq", candidate_id)]
    try:
        with audited(audit, "edit", actor=principal.name, role=principal.role, ids=ids) as done:
            c = _trainer(request).edit(candidate_id, edit=edit, by=principal.name)
            done.detail = f"edited {c.id} (faq:{c.faq_id})"
    except TrainerError as exc:
        raise _refused(exc) from exc
    _cases_shown(audit, principal, f"candidate {c.id}", [c])
    return CandidateOut.of(c)


@router.post("/candidates/{candidate_id}/approve", response_model=ApprovalOut, responses=_ERRORS)
async def approve_candidate(
    request: Request, state: StateDep, principal: TrainerDep, audit: AuditDep, candidate_id: str
) -> ApprovalOut:
    """Approve a draft. The approval that completes ``KB_FAQ_APPROVERS`` publishes it: it is
    searchable in the widget as soon as this returns.

    With 2 approvers the first approval is recorded (承認1) and a different key must give the
    second; the key that drafted or last edited the candidate cannot (403). The audit log gets
    ``approve.start`` before the build and ``approve`` (or ``approve.failed``) after it.
    """
    service = _service(state)
    trainer = _trainer(request)

    def approve() -> Approval:
        ids = [DocId.of("faq", candidate_id)]
        with audited(audit, "approve", actor=principal.name, role=principal.role, ids=ids) as done:
            approval = trainer.approve(candidate_id, service.embedder, by=principal.name)
            done.detail = approval_summary(approval)
        return approval

    try:
        approval = await run_in_threadpool(approve)
    except (TrainerError, BusyError) as exc:
        raise _refused(exc) from exc
    _cases_shown(audit, principal, f"candidate {candidate_id}", [approval.candidate])
    b = approval.build
    if b is not None:
        # Open the new build now, so the next widget search does not pay for it.
        await run_in_threadpool(service.searcher)
    return ApprovalOut(
        candidate=CandidateOut.of(approval.candidate),
        published=b is not None,
        approvals=len(approval.candidate.approvals),
        needed=approval.needed,
        seconds=approval.seconds,
        index=b.path.name if b else "",
        embedded=b.embedded if b else 0,
        cached=b.cached if b else 0,
    )


@router.post("/candidates/{candidate_id}/reject", response_model=CandidateOut, responses=_ERRORS)
def reject_candidate(
    request: Request, principal: TrainerDep, audit: AuditDep, candidate_id: str, body: RejectIn
) -> CandidateOut:
    """Reject a draft with a reason (却下): it stays listed with the reason, never published."""
    ids = [DocId.of("faq", candidate_id)]
    try:
        with audited(audit, "reject", actor=principal.name, role=principal.role, ids=ids) as done:
            c = _trainer(request).reject(candidate_id, body.reason, by=principal.name)
            done.detail = f"rejected {c.id} (faq:{c.faq_id})"
    except TrainerError as exc:
        raise _refused(exc) from exc
    _cases_shown(audit, principal, f"candidate {c.id}", [c])
    return CandidateOut.of(c)


# --- FAQ entries --------------------------------------------------------------------------


@router.get("/faqs", response_model=FaqListOut, responses=_ERRORS)
def list_faqs(
    request: Request,
    _: TrainerDep,
    q: Annotated[str, Query(max_length=200, description=_Q)] = "",
    state: Annotated[str, Query(pattern="^(all|published|withdrawn|expired)$")] = "all",
    limit: Annotated[int, Query(ge=1, le=500)] = 100,
    offset: Annotated[int, Query(ge=0)] = 0,
) -> FaqListOut:
    """The stored FAQ entries (the live store: published, withdrawn and expired ones)."""
    trainer = _trainer(request)
    try:
        docs = trainer.faqs()
    except TrainerError as exc:
        raise _refused(exc) from exc
    revisions = {
        c.target: c.id for c in trainer.candidates().all() if c.target and c.status == "draft"
    }
    entries = [FaqEntryOut.of(d, revisions.get(DocId.local_of(d.doc_id), "")) for d in docs]
    text = q.strip()
    if text:
        entries = [
            e
            for e in entries
            if any(text in v for v in (e.id, e.question, e.answer, e.owner, *e.departments))
        ]
    if state != "all":
        entries = [
            e
            for e in entries
            if {
                "published": e.published and not e.expired,
                "withdrawn": not e.published,
                "expired": e.expired,
            }[state]
        ]
    return FaqListOut(total=len(entries), faqs=entries[offset : offset + limit])


@router.post("/faqs/{faq_id}/revise", response_model=CandidateOut, responses=_ERRORS)
def revise_faq(
    request: Request, principal: TrainerDep, audit: AuditDep, faq_id: str
) -> CandidateOut:
    """A draft revising the FAQ entry (the open one if there is one): edit it, then approve."""
    try:
        with audited(
            audit, "revise", actor=principal.name, role=principal.role, ids=_faq_ids(faq_id)
        ) as done:
            c = _trainer(request).revise(faq_id, by=principal.name)
            done.detail = f"draft {c.id} revises faq:{c.target}"
    except TrainerError as exc:
        raise _refused(exc) from exc
    _cases_shown(audit, principal, f"candidate {c.id}", [c])
    return CandidateOut.of(c)


async def _set_published(
    request: Request,
    state: StateDep,
    principal: TrainerDep,
    audit: AuditDep,
    faq_id: str,
    published: bool,
    reason: str = "",
) -> FaqChangeOut:
    service = _service(state)
    trainer = _trainer(request)
    action = "republish" if published else "withdraw"
    # FAQ_CHANGES_PER_MINUTE: each change builds the index under the writer lock.
    too_fast = msg("faq.changing_too_fast", per_minute=int(FAQ_CHANGES_PER_MINUTE))
    limit_key(request.app.state.faq_change_limiter, principal.name, status=429, detail=too_fast)

    def change() -> FaqChange:
        with audited(
            audit,
            action,
            actor=principal.name,
            role=principal.role,
            ids=_faq_ids(faq_id),
            # The reason is the trainer's words (a citizen's complaint): masked.
            detail=f"reason: {audit.mask_text(reason)}" if reason else "",
        ) as done:
            result = trainer.set_published(
                faq_id, published, service.embedder, wait=trainer.settings.api_writer_wait
            )
            done.detail = change_summary(result)
        return result

    try:
        result = await run_in_threadpool(change)
    except (TrainerError, BusyError) as exc:
        raise _refused(exc) from exc
    await run_in_threadpool(service.searcher)
    b = result.build
    return FaqChangeOut(
        faq=FaqEntryOut.of(result.document),
        seconds=result.seconds,
        index=b.path.name,
        embedded=b.embedded,
        cached=b.cached,
    )


@router.post("/faqs/{faq_id}/withdraw", response_model=FaqChangeOut, responses=_ERRORS)
async def withdraw_faq(
    request: Request,
    state: StateDep,
    principal: TrainerDep,
    audit: AuditDep,
    faq_id: str,
    body: WithdrawIn | None = None,
) -> FaqChangeOut:
    """Withdraw an FAQ entry (公開停止): gone from the widget, suggest and the public API as
    soon as this returns; kept in the store, so staff search still finds it."""
    reason = body.reason if body else ""
    return await _set_published(request, state, principal, audit, faq_id, False, reason)


@router.post("/faqs/{faq_id}/republish", response_model=FaqChangeOut, responses=_ERRORS)
async def republish_faq(
    request: Request, state: StateDep, principal: TrainerDep, audit: AuditDep, faq_id: str
) -> FaqChangeOut:
    """Publish a withdrawn FAQ entry again (再公開); one past its 公開期限 stays out of the
    widget until the date is changed."""
    return await _set_published(request, state, principal, audit, faq_id, True)


# --- preview ------------------------------------------------------------------------------


@router.post("/preview", response_model=PublicSearchOut, responses=_ERRORS)
def preview(
    _: TrainerDep, searcher: SearcherDep, settings: SettingsDep, body: FaqFieldsIn
) -> PublicSearchOut:
    """An unsaved draft as the widget's search would return it: the same serialization as
    ``/public/v1/faq/search`` (department contacts from the directory), so the page renders
    it with the widget's own code (``widget.js``, ``data-kb-preview``)."""
    try:
        edit = FaqEdit(**body.model_dump()).checked()
    except FaqRefused as exc:
        raise _refused(exc) from exc
    departments = split_multi(edit.department or "")
    faq = FaqResult(
        id="preview",
        question=edit.question or "",
        answer=edit.answer or "",
        department=departments[0] if departments else "",
        score=1.0,
        category=edit.category or "",
        url=edit.url or "",
    )
    return PublicSearchOut(
        query=faq.question,
        answered=True,
        confidence="high",
        faqs=[public_faq(faq, searcher.departments)],
        contact=ContactOut.from_settings(settings),
    )
