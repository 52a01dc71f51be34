"""Application state: the warmed search pool and the prebuilt routes."""

from __future__ import annotations

import threading
from pathlib import Path
from typing import Any

from fastapi.testclient import TestClient

from kb.api import state as state_module
from kb.api.app import create_app
from kb.embed.embedder import FakeEmbedder
from kb.search.service import WARM_UP_QUERIES, SearchService
from kb.settings import Settings
from tests.api.conftest import MakeClient, create_key


class _RecordingService(SearchService):
    """Records the thread of every search."""

    threads: list[str]

    def searcher(self) -> Any:
        searcher = super().searcher()
        outer = self
        original = searcher.search

        def search(*args: Any, **kwargs: Any) -> Any:
            outer.threads.append(threading.current_thread().name)
            return original(*args, **kwargs)

        searcher.search = search  # type: ignore[method-assign]
        return searcher


def test_every_search_thread_is_warmed_before_ready(
    index_root: Path, fake_embedder: FakeEmbedder
) -> None:
    service = _RecordingService(index_root, fake_embedder)
    service.threads = []
    settings = Settings(data_dir=index_root.parent)
    app = create_app(settings, service_factory=lambda: service, load_in_background=False)
    with TestClient(app) as client:
        # The first ones: SearchService.warm_up on the loader.
        warmed = set(service.threads[len(WARM_UP_QUERIES) :])
        assert len(warmed) == state_module.SEARCH_THREADS
        assert all(name.startswith("kb-search") for name in warmed)
        key = create_key(settings, "staff")
        for q in ("住民票", "介護保険", "粗大ごみ"):
            r = client.get(
                "/api/v1/search", params={"q": q}, headers={"Authorization": f"Bearer {key}"}
            )
            assert r.status_code == 200
        # Real searches run on the same, already warm threads.
        assert set(service.threads[-3:]) <= warmed


def test_a_second_lifespan_gets_a_new_pool(make_client: MakeClient) -> None:
    client = make_client(role="staff")
    state = client.app.state.kb  # type: ignore[attr-defined]
    first = state.pool
    state.close()
    assert client.get("/api/v1/search", params={"q": "住民票"}).status_code == 200
    assert state.pool is not first


def test_routes_are_built_at_start(make_client: MakeClient) -> None:
    client = make_client(role="staff")
    pending = [
        r
        for r in client.app.router.routes  # type: ignore[attr-defined]
        if hasattr(r, "_effective_candidates_version")
    ]
    import fastapi.routing

    # Only FastAPI versions with lazily built included routers have something to build.
    assert bool(pending) == hasattr(fastapi.routing, "_IncludedRouter")
    for route in pending:
        assert route._effective_candidates_version is not None


def test_the_stores_every_search_writes_are_open_before_ready(make_client: MakeClient) -> None:
    app: Any = make_client(role="staff").app
    assert app.state.keys is not None
    assert app.state.audit is not None
    assert app.state.trainer is not None
    assert "querylog" in app.state.trainer._stores
    quiet: Any = make_client(role="staff", query_log=False).app
    assert quiet.state.audit is not None
    assert getattr(quiet.state, "trainer", None) is None


def test_only_a_server_process_freezes_its_heap(
    index_root: Path, fake_embedder: FakeEmbedder
) -> None:
    import gc

    settings = Settings(data_dir=index_root.parent)

    def app(**kw: Any) -> Any:
        return create_app(
            settings,
            service_factory=lambda: SearchService(index_root, fake_embedder),
            load_in_background=False,
            **kw,
        )

    with TestClient(app()):
        assert not gc.get_freeze_count()  # a test's or a tool's app leaves the heap alone
    try:
        with TestClient(app(settle=True)):
            assert gc.get_freeze_count() > 0  # kb serve and its workers: frozen before ready
    finally:
        gc.unfreeze()
