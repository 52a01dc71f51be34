"""Liveness, readiness and the Prometheus metrics."""

from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse, Response

from kb.api.deps import StateDep
from kb.api.metrics import CONTENT_TYPE, METRICS_PATH, metrics_of
from kb.api.schemas import HealthOut, ReadyOut
from kb.messages import msg

router = APIRouter(tags=["health"])


@router.get("/healthz", response_model=HealthOut)
def healthz() -> HealthOut:
    """The process is up."""
    return HealthOut(status="ok")


@router.get("/readyz", response_model=ReadyOut, responses={503: {"model": ReadyOut}})
def readyz(state: StateDep) -> ReadyOut | JSONResponse:
    """Ready once the index and the model are loaded and warmed up.

    Anyone may ask, so it says no more than that and the model: the build's id and its chunk
    count change with every closed consultation record (how many, and when), and a failed
    load's error names folders. Both are in ``/metrics`` (admin) and the server's log.
    """
    if state.service is None:
        error = msg("ready.failed") if state.error else None
        body = ReadyOut(status="error" if state.error else "loading", error=error)
        return JSONResponse(status_code=503, content=body.model_dump(exclude_none=True))
    return ReadyOut(status="ready", model=state.service.searcher().manifest.model)


@router.get(METRICS_PATH, include_in_schema=False)
def metrics(request: Request) -> Response:
    """Prometheus text format (:mod:`kb.api.metrics`); an admin key or an allowed address.

    The access check (:mod:`kb.api.access`) has run before: ``KB_METRICS_ALLOW_IPS`` or an
    admin key.
    """
    body = metrics_of(request.app).exposition()
    return Response(body, media_type=CONTENT_TYPE, headers={"Cache-Control": "no-store"})
