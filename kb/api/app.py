"""The FastAPI application factory."""

from __future__ import annotations

import logging
import math
import os
from collections.abc import AsyncIterator, Callable, Sequence
from contextlib import asynccontextmanager
from typing import Any

import anyio.to_thread
from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from fastapi.staticfiles import StaticFiles

from kb import __version__
from kb.api.access import AccessMiddleware, audit_log, key_store
from kb.api.cors import ScopedCORSMiddleware
from kb.api.docs import router as docs_router
from kb.api.headers import SecurityHeadersMiddleware
from kb.api.limits import BodySizeLimitMiddleware
from kb.api.metrics import Metrics, MetricsMiddleware
from kb.api.proxies import ForwardedForMiddleware, TrustedProxies
from kb.api.querylog import trainer_of
from kb.api.ratelimit import (
    BRIEFS_PER_MINUTE,
    CLOSES_PER_MINUTE,
    DESK_CHARS_BURST,
    DESK_CHARS_PER_MINUTE,
    FAQ_CHANGES_PER_MINUTE,
    FEEDBACK_SHARES,
    RateLimiter,
)
from kb.api.redirects import HostGuardMiddleware
from kb.api.rootpath import RootPathMiddleware, openapi_servers
from kb.api.routes import (
    account,
    admin,
    admin_documents,
    briefs,
    health,
    lifeevents,
    pages,
    public,
    records,
    search,
    staff,
    trainer,
)
from kb.api.state import AppState
from kb.desk.bookings import MAX_BOOKINGS
from kb.errors import BusyError, KBError, QueryError
from kb.search.service import SearchService, settle_heap
from kb.settings import Settings

log = logging.getLogger(__name__)


def _build_routes(routes: Sequence[Any]) -> None:
    """Resolve every route's dependencies and models now instead of on its first request.

    FastAPI 0.16x builds an included router's routes when a request first reaches it: 20-30 ms
    that the first staff search after a start would pay. Other versions lack the hook; then
    this does nothing.
    """
    for route in routes:
        candidates = getattr(route, "effective_candidates", None)
        if callable(candidates):
            try:
                _build_routes(candidates())
            except Exception:
                log.debug("could not prebuild routes", exc_info=True)


def _clean_leftovers(settings: Settings) -> None:
    """Remove what a killed server or build left behind (uploads, ``.building-*`` folders).

    Each worker of ``kb serve --workers N`` runs it; the data folder's locks make sure none
    removes what another one, or a running ``kb ingest``, still uses. A failure is logged and
    the server starts anyway.
    """
    from kb.index.update import clean_leftovers

    try:
        left = clean_leftovers(settings)
    except OSError:
        log.warning("could not remove leftovers in %s", settings.data_dir, exc_info=True)
        return
    if left:
        log.warning("%s in %s", left.describe(), settings.data_dir)


def create_app(
    settings: Settings,
    *,
    service_factory: Callable[[], SearchService] | None = None,
    load_in_background: bool = True,
    settle: bool = False,
) -> FastAPI:
    """Build the kb web application.

    Args:
        settings: Runtime settings (data directory, model, limits, CORS origins).
        service_factory: Builds the search service; default: from ``settings``. Tests pass
            one with a fake embedder.
        load_in_background: Load the index in a thread so ``/healthz`` answers at once and
            ``/readyz`` reports progress; tests load synchronously.
        settle: Once loaded, freeze the heap out of the garbage collector's full passes
            (:func:`kb.search.service.settle_heap`): for the server's own process (``kb
            serve`` and its workers), never for a process that goes on doing other work.
    """
    factory = service_factory or (lambda: SearchService.from_settings(settings))

    def before_ready() -> None:
        # A staff search checks its key, appends to the audit log and, after the answer, to
        # the query log: open them before /readyz, so the first search does not.
        key_store(app)
        audit_log(app)
        if settings.query_log:
            trainer_of(app).query_log()
        if settle:
            settle_heap()

    state = AppState(factory, prepare=before_ready)

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        # Searches run on the state's own warmed pool (kb.api.state.SEARCH_THREADS); the rest
        # of the sync work (auth, audit, trainer tools) on anyio's pool, capped the same way:
        # more concurrent inferences than cores only queue inside the model, and each thread
        # keeps its own scratch buffers (16 clients on 2 cores: 1.5 GB with 4, 2.1 GB with 40).
        anyio.to_thread.current_default_thread_limiter().total_tokens = max(
            4, 2 * (os.cpu_count() or 1)
        )
        _build_routes(app.router.routes)
        await anyio.to_thread.run_sync(_clean_leftovers, settings)
        state.start(background=load_in_background)
        yield
        state.close()
        for name in ("keys", "audit"):
            opened = getattr(app.state, name, None)
            if opened is not None:
                opened.close()
                setattr(app.state, name, None)

    app = FastAPI(
        title="kb — 総合相談窓口 knowledge base",
        version=__version__,
        description="Search FAQ, closed consultation cases, manuals and the department "
        "directory of a city hall in one query.",
        lifespan=lifespan,
        # Served by kb.api.docs from installed files (no CDN), with relative links.
        docs_url=None,
        redoc_url=None,
        servers=openapi_servers(settings.root_path),
    )
    app.state.kb = state
    app.state.metrics = Metrics.create(app)
    app.state.settings = settings
    app.state.rate_limiter = RateLimiter(
        settings.public_rate_per_minute, settings.public_rate_burst
    )
    per_minute = settings.public_feedback_per_minute
    app.state.feedback_budget = RateLimiter(
        per_minute, max(1, math.ceil(per_minute / 2)), max_clients=1
    )
    # One address gets a tenth of it (an outside attacker took all of it from one address:
    # every other citizen's answer got 503, and the help rates were his).
    share = per_minute / FEEDBACK_SHARES
    app.state.feedback_per_client = RateLimiter(share, max(1, math.ceil(share / 2)))
    app.state.close_limiter = RateLimiter(CLOSES_PER_MINUTE, math.ceil(CLOSES_PER_MINUTE))
    changes = FAQ_CHANGES_PER_MINUTE
    app.state.faq_change_limiter = RateLimiter(changes, math.ceil(changes))
    app.state.desk_text_limiter = RateLimiter(DESK_CHARS_PER_MINUTE, DESK_CHARS_BURST)
    app.state.brief_limiter = RateLimiter(BRIEFS_PER_MINUTE, MAX_BOOKINGS)
    # Roles are checked before routing; CORS is added after it, so it wraps it and answers
    # preflight requests (which never carry a key) itself.
    app.add_middleware(
        BodySizeLimitMiddleware,
        max_body_bytes=settings.max_body_bytes,
        max_upload_bytes=settings.max_upload_bytes,
    )
    app.add_middleware(AccessMiddleware)
    # A forged Host never reaches a response: malformed ones get 400, redirects become paths.
    app.add_middleware(HostGuardMiddleware)
    app.add_middleware(SecurityHeadersMiddleware)
    app.add_middleware(
        ScopedCORSMiddleware,
        staff_origins=settings.cors_origins,
        public_origins=settings.public_cors_origins,
    )
    # Outermost: the client address (rate limits, key lockout) is settled before anything.
    app.add_middleware(ForwardedForMiddleware, trusted=TrustedProxies(settings.forwarded_allow_ips))
    # Counts every request, refused ones too, by the route template it was meant for.
    app.add_middleware(MetricsMiddleware)
    # Before all: a path that carries KB_ROOT_PATH is served without it; redirects relative.
    app.add_middleware(RootPathMiddleware, root_path=settings.root_path)

    @app.exception_handler(RequestValidationError)
    async def _validation(request: Request, exc: RequestValidationError) -> JSONResponse:
        messages = [
            f"{'.'.join(str(p) for p in err.get('loc', ()))}: {err.get('msg', 'invalid')}"
            for err in exc.errors()
        ]
        return JSONResponse(status_code=422, content={"detail": "; ".join(messages)})

    @app.exception_handler(QueryError)
    async def _query_error(request: Request, exc: QueryError) -> JSONResponse:
        return JSONResponse(status_code=422, content={"detail": str(exc)})

    @app.exception_handler(BusyError)
    async def _busy_error(request: Request, exc: BusyError) -> JSONResponse:
        return JSONResponse(status_code=409, content={"detail": str(exc)})

    @app.exception_handler(KBError)
    async def _kb_error(request: Request, exc: KBError) -> JSONResponse:
        return JSONResponse(status_code=503, content={"detail": str(exc)})

    @app.exception_handler(Exception)
    async def _unexpected(request: Request, exc: Exception) -> JSONResponse:
        log.exception("unhandled error on %s", request.url.path)
        return JSONResponse(status_code=500, content={"detail": "internal error"})

    app.include_router(health.router)
    app.include_router(search.router)
    app.include_router(staff.router)
    app.include_router(account.router)
    app.include_router(admin.router)
    app.include_router(admin_documents.router)
    app.include_router(public.router)
    app.include_router(pages.router)
    app.include_router(trainer.router)
    app.include_router(trainer.pages)
    app.include_router(records.router)
    app.include_router(briefs.router)
    app.include_router(briefs.pages)
    app.include_router(lifeevents.router)
    app.include_router(docs_router)  # before the /static mount: it serves /static/docs-ui/
    app.mount("/static", StaticFiles(directory=pages.STATIC_DIR), name="static")
    return app


def create_app_from_env() -> FastAPI:
    """App factory for worker processes (``kb serve --workers N``): settings from ``KB_*``.

    Each worker loads its index before it accepts a connection (uvicorn runs the lifespan
    first): the workers share one socket, so a worker still loading in the background would
    answer its share of searches with 503 while its siblings are ready.
    """
    return create_app(Settings(), load_in_background=False, settle=True)
