"""Trainer tools over HTTP: topics, gaps, manual drafts, FAQ candidates and the dashboard.

Every route depends on ``require_role("trainer")``. The page ``/trainer`` is a public shell
(like ``/staff``): it logs in through ``/static/auth.js`` and fetches the dashboard fragment
(server-rendered HTML with inline SVG charts) and the candidates from these routes.
"""

from __future__ import annotations

from dataclasses import asdict
from typing import Annotated, Any

from fastapi import APIRouter, HTTPException, Query, Request
from fastapi.responses import FileResponse, Response
from starlette.concurrency import run_in_threadpool

from kb.api.deps import AuditDep, StateDep, TrainerDep
from kb.api.querylog import get_trainer
from kb.api.routes.pages import STATIC_DIR
from kb.api.schemas import ErrorOut
from kb.api.schemas_trainer import (
    ApprovalOut,
    CandidateEditIn,
    CandidateIn,
    CandidateListOut,
    CandidateOut,
    DashboardOut,
    GapsOut,
    TopicsOut,
)
from kb.errors import BusyError, TrainerError
from kb.security.audit_actions import audited
from kb.trainer.candidates import Approval
from kb.trainer.report import dashboard_html
from kb.trainer.service import Trainer, approval_summary
from kb.types import DocId

router = APIRouter(prefix="/api/v1/trainer", tags=["trainer"])
pages = APIRouter(include_in_schema=False)

_DOCX = "application/vnd.openxmlformats-officedocument.wordprocessingml.document"
_ERRORS: dict[int | str, dict[str, Any]] = {
    404: {"model": ErrorOut},
    409: {"model": ErrorOut},
    422: {"model": ErrorOut},
    503: {"model": ErrorOut},
}


@pages.get("/trainer")
def trainer_page() -> FileResponse:
    """The trainer page: a public shell (login form, no data); its data API needs a key."""
    return FileResponse(
        STATIC_DIR / "trainer.html", media_type="text/html", headers={"Cache-Control": "no-cache"}
    )


def _trainer(request: Request) -> Trainer:
    return get_trainer(request)


def _not_found(exc: TrainerError) -> HTTPException:
    return HTTPException(status_code=404, detail=str(exc))


@router.get("/topics", response_model=TopicsOut, responses=_ERRORS)
async def topics(
    request: Request,
    _: TrainerDep,
    department: Annotated[str, Query(description="A department; empty: all cases.")] = "",
) -> TopicsOut:
    """Topics of the closed cases (k-means on their stored vectors), largest first."""
    trainer = _trainer(request)
    try:
        topic_set = await run_in_threadpool(trainer.topics, department)
    except TrainerError as exc:
        raise _not_found(exc) from exc
    corpus = trainer.corpus()
    return TopicsOut.build(topic_set, corpus)


@router.get("/gaps", response_model=GapsOut, responses=_ERRORS)
async def gaps(
    request: Request,
    _: TrainerDep,
    department: str = "",
    min_count: Annotated[int, Query(ge=1, le=1000)] = 1,
    period: Annotated[str, Query(pattern="^(month|day)$")] = "month",
) -> GapsOut:
    """Gap topics, frequent queries without a good FAQ, rates over time, FAQ help rates."""
    trainer = _trainer(request)
    try:
        report = await run_in_threadpool(
            trainer.gaps, department=department, min_count=min_count, period=period
        )
    except TrainerError as exc:
        raise _not_found(exc) from exc
    return GapsOut.build(report)


@router.get("/dashboard", response_model=DashboardOut, responses=_ERRORS)
async def dashboard(request: Request, _: TrainerDep, department: str = "") -> DashboardOut:
    """The dashboard as an HTML fragment with inline SVG charts (rendered here)."""
    trainer = _trainer(request)

    def render() -> DashboardOut:
        topic_set = trainer.topics(department)
        report = trainer.gaps(department=department)
        corpus = trainer.corpus()
        return DashboardOut(
            department=topic_set.department,
            departments=[d.name for d in corpus.departments],
            html=dashboard_html(corpus, topic_set, report),
        )

    try:
        return await run_in_threadpool(render)
    except TrainerError as exc:
        raise _not_found(exc) from exc


@router.get("/manual", responses={200: {"content": {"text/markdown": {}, _DOCX: {}}}, **_ERRORS})
async def manual(
    request: Request,
    _: TrainerDep,
    department: Annotated[str, Query(min_length=1)],
    format: Annotated[str, Query(pattern="^(md|docx)$")] = "md",
) -> Response:
    """A draft manual for ``department`` as Markdown or Word."""
    trainer = _trainer(request)
    try:
        draft = await run_in_threadpool(trainer.manual, department)
    except TrainerError as exc:
        raise _not_found(exc) from exc
    filename = f"manual-draft.{format}"
    if format == "md":
        return Response(
            draft.markdown(),
            media_type="text/markdown; charset=utf-8",
            headers={"Content-Disposition": f'inline; filename="{filename}"'},
        )
    import tempfile
    from pathlib import Path

    with tempfile.TemporaryDirectory() as tmp:
        path = await run_in_threadpool(draft.write, Path(tmp) / filename, "docx")
        data = path.read_bytes()
    return Response(
        data,
        media_type=_DOCX,
        headers={"Content-Disposition": f'attachment; filename="{filename}"'},
    )


@router.get("/candidates", response_model=CandidateListOut)
def list_candidates(request: Request, _: TrainerDep) -> CandidateListOut:
    """Every FAQ candidate, drafts and approved ones."""
    found = _trainer(request).candidates().all()
    return CandidateListOut(candidates=[CandidateOut(**asdict(c)) for c in found])


@router.post("/candidates", response_model=CandidateOut, status_code=201, responses=_ERRORS)
async def create_candidate(request: Request, _: TrainerDep, body: CandidateIn) -> CandidateOut:
    """Draft an FAQ entry for a topic (normally a gap topic); it stays unpublished."""
    trainer = _trainer(request)
    try:
        candidate = await run_in_threadpool(trainer.draft, body.topic_id)
    except TrainerError as exc:
        raise _not_found(exc) from exc
    return CandidateOut(**asdict(candidate))


def _candidate_error(exc: TrainerError) -> HTTPException:
    status = 409 if "already" in str(exc) else 404
    return HTTPException(status_code=status, detail=str(exc))


@router.patch("/candidates/{candidate_id}", response_model=CandidateOut, responses=_ERRORS)
def edit_candidate(
    request: Request, _: TrainerDep, candidate_id: str, body: CandidateEditIn
) -> CandidateOut:
    """Edit a draft's question and answer before approving it."""
    try:
        candidate = _trainer(request).edit(candidate_id, question=body.question, answer=body.answer)
    except TrainerError as exc:
        raise _candidate_error(exc) from exc
    return CandidateOut(**asdict(candidate))


@router.post("/candidates/{candidate_id}/approve", response_model=ApprovalOut, responses=_ERRORS)
async def approve_candidate(
    request: Request, state: StateDep, principal: TrainerDep, audit: AuditDep, candidate_id: str
) -> ApprovalOut:
    """Publish a draft: it is searchable in the widget as soon as this returns.

    The audit log gets ``approve.start`` before the build and ``approve`` (or
    ``approve.failed``) after it.
    """
    if state.service is None:
        raise HTTPException(status_code=503, detail="the search service is not loaded yet")
    service = state.service
    trainer = _trainer(request)

    def approve() -> Approval:
        ids = [DocId.of("faq", candidate_id)]
        with audited(audit, "approve", actor=principal.name, role=principal.role, ids=ids) as done:
            approval = trainer.approve(candidate_id, service.embedder)
            done.detail = approval_summary(approval)
        return approval

    try:
        approval = await run_in_threadpool(approve)
    except TrainerError as exc:
        raise _candidate_error(exc) from exc
    except BusyError as exc:
        # Another ingest or build (another worker, the command line): try again afterwards.
        raise HTTPException(status_code=409, detail=str(exc)) from exc
    # Open the new build now, so the next widget search does not pay for it.
    await run_in_threadpool(service.searcher)
    return ApprovalOut(
        candidate=CandidateOut(**asdict(approval.candidate)),
        seconds=approval.seconds,
        index=approval.build.path.name,
        embedded=approval.build.embedded,
        cached=approval.build.cached,
    )
