"""Trainer tools over HTTP: topics, gaps, manual drafts, the dashboard (and, from
:mod:`kb.api.routes.trainer_faq`, FAQ candidates and entries).

Every route depends on ``require_role("trainer")``. The page ``/trainer`` is a public shell
(like ``/staff``): it logs in through ``/static/auth.js`` and fetches the dashboard fragment
(server-rendered HTML with inline SVG charts) and the candidates from these routes.
"""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, HTTPException, Query, Request
from fastapi.responses import FileResponse, Response
from starlette.concurrency import run_in_threadpool

from kb.api.auth import Principal
from kb.api.deps import AuditDep, TrainerDep
from kb.api.querylog import get_trainer
from kb.api.routes.pages import STATIC_DIR
from kb.api.routes.trainer_faq import router as faq_router
from kb.api.schemas import ErrorOut
from kb.api.schemas_trainer import DashboardOut, GapsOut, ModelStatusOut, TopicsOut
from kb.errors import TrainerError
from kb.security.audit import AuditLog
from kb.trainer.report import dashboard_html
from kb.trainer.service import Trainer
from kb.trainer.topics import TopicSet

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


def _audit_cases_shown(
    audit: AuditLog, principal: Principal, what: str, topic_set: TopicSet
) -> None:
    """Which cases a topics view shows (its representative cases), as a staff search names
    what it returns: "who saw case C0304" includes the trainers."""
    shown = [i for t in topic_set.topics for i in t.representative]
    detail = f"{what} department={topic_set.department}" if topic_set.department else what
    audit.append(
        "trainer.cases_shown", actor=principal.name, role=principal.role, ids=shown, detail=detail
    )


@router.get("/topics", response_model=TopicsOut, responses=_ERRORS)
async def topics(
    request: Request,
    principal: TrainerDep,
    audit: AuditDep,
    department: Annotated[str, Query(description="A department; empty: all cases.")] = "",
) -> TopicsOut:
    """Topics of the closed cases (k-means on their stored vectors), largest first."""
    trainer = _trainer(request)
    try:
        topic_set = await run_in_threadpool(trainer.topics, department)
    except TrainerError as exc:
        raise _not_found(exc) from exc
    corpus = trainer.corpus()
    _audit_cases_shown(audit, principal, "topics", topic_set)
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


@router.get("/model", response_model=ModelStatusOut, responses=_ERRORS)
async def model_status(request: Request, _: TrainerDep) -> ModelStatusOut:
    """The serving embedding model: adapted to the city's FAQ and cases or not, when, on what,
    and its validation on held-out FAQ/case pairs (:mod:`kb.index.adapt`)."""
    from kb.index.adapt import adaptation_status

    settings = request.app.state.settings
    return ModelStatusOut.build(await run_in_threadpool(adaptation_status, settings))


@router.get("/dashboard", response_model=DashboardOut, responses=_ERRORS)
async def dashboard(
    request: Request, principal: TrainerDep, audit: AuditDep, department: str = ""
) -> DashboardOut:
    """The dashboard as an HTML fragment with inline SVG charts (rendered here)."""
    trainer = _trainer(request)

    def render() -> DashboardOut:
        topic_set = trainer.topics(department)
        report = trainer.gaps(department=department)
        corpus = trainer.corpus()
        _audit_cases_shown(audit, principal, "dashboard", topic_set)
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
    principal: TrainerDep,
    audit: AuditDep,
    department: Annotated[str, Query(min_length=1)],
    format: Annotated[str, Query(pattern="^(md|docx)$")] = "md",
) -> Response:
    """A draft manual for ``department`` as Markdown or Word (its cases audited by id)."""
    trainer = _trainer(request)
    try:
        draft = await run_in_threadpool(trainer.manual, department)
    except TrainerError as exc:
        raise _not_found(exc) from exc
    audit.append(
        "trainer.cases_shown",
        actor=principal.name,
        role=principal.role,
        ids=list(draft.case_ids),
        detail=f"manual department={draft.department}",
    )
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


# The FAQ lifecycle (candidates, FAQ entries, preview) lives in its own module, under this
# router's prefix and role.
router.include_router(faq_router)
