"""Staff search: one query, four panes (departments, FAQ, cases, manuals)."""

from __future__ import annotations

from typing import Annotated, cast

from fastapi import APIRouter, BackgroundTasks, HTTPException, Query, Request

from kb.api.deps import AuditDep, SearcherDep, SettingsDep, StaffDep, StateDep
from kb.api.metrics import count_search
from kb.api.querylog import get_trainer, log_search
from kb.api.schemas import ContactOut, ErrorOut, SearchOut
from kb.messages import msg
from kb.search.config import MODES
from kb.search.query import check_request
from kb.types import DOC_KINDS, DocKind, Filters, SearchResult

router = APIRouter(prefix="/api/v1", tags=["search"])


@router.get(
    "/search",
    response_model=SearchOut,
    responses={422: {"model": ErrorOut}, 503: {"model": ErrorOut}},
)
async def search(
    searcher: SearcherDep,
    state: StateDep,
    settings: SettingsDep,
    principal: StaffDep,
    audit: AuditDep,
    request: Request,
    background: BackgroundTasks,
    q: Annotated[str, Query(description="What the citizen said, as typed by staff.")],
    k: Annotated[int, Query(ge=1, le=50, description="Results per pane.")] = 5,
    kind: Annotated[list[str] | None, Query(description="Restrict to these kinds.")] = None,
    department: Annotated[list[str] | None, Query()] = None,
    category: Annotated[list[str] | None, Query()] = None,
    date_from: Annotated[str | None, Query(pattern=r"^\d{4}-\d{2}-\d{2}$")] = None,
    date_to: Annotated[str | None, Query(pattern=r"^\d{4}-\d{2}-\d{2}$")] = None,
    mode: Annotated[str | None, Query(description="hybrid (default), dense or lexical")] = None,
) -> SearchOut:
    """Search FAQ, closed cases, manuals and the department directory at once.

    ``answered`` and ``confidence`` say how sure each pane is (kb.search.confidence): a pane
    whose best hit is weak is still filled, for staff to judge, but marked ``low`` or ``none``.
    """
    kinds = tuple(kind or ())
    for name in kinds:
        if name not in DOC_KINDS:
            known = ", ".join(DOC_KINDS)
            detail = msg("search.unknown_kind", name=name[:40], known=known)
            raise HTTPException(status_code=422, detail=detail)
    if mode is not None and mode not in MODES:
        detail = msg("search.unknown_mode", name=mode[:40], known=", ".join(MODES))
        raise HTTPException(status_code=422, detail=detail)
    filters = Filters(
        kinds=tuple(cast(DocKind, n) for n in kinds),
        departments=tuple(department or ()),
        categories=tuple(category or ()),
        date_from=date_from or "",
        date_to=date_to or "",
    )
    # A bad k or date raises QueryError, which the app answers with 422.
    check_request(k, settings.max_k, filters)

    def search_and_audit() -> tuple[SearchResult, SearchOut]:
        # Embedding and scoring are CPU work, the audit append a SQLite write: one task on the
        # search pool for both, off the event loop.
        result = searcher.search(q, k=k, filters=filters, mode=mode)
        out = SearchOut.from_result(result, ContactOut.from_settings(settings))
        audit.append(
            "search", actor=principal.name, role=principal.role, query=q, ids=result.shown_ids()
        )
        return result, out

    # An empty or over-long query raises QueryError in the search layer: the app maps it to 422.
    result, out = await state.run(search_and_audit)
    count_search(request.app, "staff", result.answered)
    if settings.query_log:
        # Masked and written after the response is sent (kb.api.querylog).
        background.add_task(log_search, get_trainer(request), "staff", q, result, searcher)
    return out
