"""FastAPI dependencies shared by the routers."""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends, HTTPException, Request

from kb.api.state import AppState
from kb.search.searcher import Searcher
from kb.settings import Settings


def get_state(request: Request) -> AppState:
    state: AppState = request.app.state.kb
    return state


def get_settings(request: Request) -> Settings:
    settings: Settings = request.app.state.settings
    return settings


def get_searcher(state: Annotated[AppState, Depends(get_state)]) -> Searcher:
    if state.service is None:
        detail = "the search index is not loaded yet" if state.error is None else state.error
        raise HTTPException(status_code=503, detail=detail)
    return state.service.searcher()


StateDep = Annotated[AppState, Depends(get_state)]
SettingsDep = Annotated[Settings, Depends(get_settings)]
SearcherDep = Annotated[Searcher, Depends(get_searcher)]
