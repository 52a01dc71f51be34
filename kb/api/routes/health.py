"""Liveness and readiness."""

from __future__ import annotations

from fastapi import APIRouter
from fastapi.responses import JSONResponse

from kb.api.deps import StateDep
from kb.api.schemas import HealthOut, ReadyOut

router = APIRouter(tags=["health"])


@router.get("/healthz", response_model=HealthOut)
def healthz() -> HealthOut:
    """The process is up."""
    return HealthOut(status="ok")


@router.get("/readyz", response_model=ReadyOut, responses={503: {"model": ReadyOut}})
def readyz(state: StateDep) -> ReadyOut | JSONResponse:
    """Ready once the index and the model are loaded and warmed up."""
    if state.service is None:
        body = ReadyOut(status="error" if state.error else "loading", error=state.error)
        return JSONResponse(status_code=503, content=body.model_dump())
    searcher = state.service.searcher()
    return ReadyOut(
        status="ready",
        index=searcher.folder.name,
        model=searcher.manifest.model,
        chunks=searcher.manifest.chunks,
    )
