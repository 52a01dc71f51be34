"""FastAPI dependencies shared by the routers."""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends, HTTPException, Request

from kb.api.access import audit_log
from kb.api.auth import Principal, require_role
from kb.api.state import AppState, opened_once
from kb.search.searcher import Searcher
from kb.security.audit import AuditLog
from kb.settings import Settings
from kb.store import FeedbackStore

# The dependencies are ``async def``: FastAPI runs every plain ``def`` dependency on its thread
# pool, four hops per staff search, and removing them (with one pool task for the search and its
# audit record) took the demo service from 52.5 to 58.9 searches/s with 8 clients on 2 cores.
# None of them blocks: opening the audit and feedback logs happens once, and opening a new index
# after a build runs on the search pool.


async def get_state(request: Request) -> AppState:
    state: AppState = request.app.state.kb
    return state


async def get_settings(request: Request) -> Settings:
    settings: Settings = request.app.state.settings
    return settings


async def get_searcher(state: Annotated[AppState, Depends(get_state)]) -> Searcher:
    service = state.service
    if service is None:
        detail = "the search index is not loaded yet" if state.error is None else state.error
        raise HTTPException(status_code=503, detail=detail)
    # Usually a stat of the index pointer; after a build, opening the new index (seconds).
    return await state.run(service.searcher)


StateDep = Annotated[AppState, Depends(get_state)]
SettingsDep = Annotated[Settings, Depends(get_settings)]
SearcherDep = Annotated[Searcher, Depends(get_searcher)]


async def get_feedback_store(request: Request) -> FeedbackStore:
    """The append-only feedback log, opened on first use (``DATA_DIR/feedback.sqlite``)."""
    settings: Settings = request.app.state.settings
    return opened_once(request.app, "feedback", lambda: FeedbackStore(settings.feedback_path))


FeedbackDep = Annotated[FeedbackStore, Depends(get_feedback_store)]
StaffDep = Annotated[Principal, Depends(require_role("staff"))]
TrainerDep = Annotated[Principal, Depends(require_role("trainer"))]
AdminDep = Annotated[Principal, Depends(require_role("admin"))]


async def get_audit_log(request: Request) -> AuditLog:
    """The append-only audit log (``DATA_DIR/audit.sqlite``), opened on first use."""
    return audit_log(request.app)


AuditDep = Annotated[AuditLog, Depends(get_audit_log)]
