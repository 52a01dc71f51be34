"""Application state: the search service, loaded in the background so /healthz answers at once."""

from __future__ import annotations

import asyncio
import contextlib
import contextvars
import functools
import logging
import os
import threading
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from typing import Any, TypeVar

from kb.search.service import SearchService

log = logging.getLogger(__name__)

T = TypeVar("T")
_guard = threading.Lock()
_locks: dict[str, threading.Lock] = {}


def opened_once(app: Any, name: str, factory: Callable[[], T]) -> T:
    """``app.state.<name>``, made by ``factory`` on first use, once even under concurrency.

    Used for the side databases and helpers that a route needs only sometimes (key store,
    audit log, feedback log, trainer): nothing is opened before it is first asked for.
    """
    value: T | None = getattr(app.state, name, None)
    if value is None:
        with _guard:
            lock = _locks.setdefault(name, threading.Lock())
        with lock:
            value = getattr(app.state, name, None)
            if value is None:
                value = factory()
                setattr(app.state, name, value)
    return value


SEARCH_THREADS = max(4, 2 * (os.cpu_count() or 1))
"""Threads that run searches. More concurrent inferences than cores only queue inside the
model, and each thread keeps its own store connection, MeCab tagger and scratch memory."""

_WARM_QUERY = "住民票の写しを取りたい"


class AppState:
    """Holds the :class:`SearchService` once it is loaded, and the error if loading failed.

    Searches run on a pool of long-lived threads (:meth:`run`), each warmed up before
    ``/readyz`` says ready. Starlette's thread pool (anyio) retires a thread after 10 s idle, so
    at a desk where queries come minutes apart nearly every search landed on a fresh thread and
    paid for its first store connection and tagger (measured on the demo index: 19-35 ms on a
    fresh thread against 15 ms on a warm one).
    """

    def __init__(
        self,
        factory: Callable[[], SearchService],
        prepare: Callable[[], None] | None = None,
    ) -> None:
        self._factory = factory
        self._prepare = prepare
        """Run after the service is warm and before it is ready (what every search opens)."""
        self.service: SearchService | None = None
        self.error: str | None = None
        self._thread: threading.Thread | None = None
        self._pool: ThreadPoolExecutor | None = None
        self._pool_lock = threading.Lock()

    @property
    def pool(self) -> ThreadPoolExecutor:
        """The search pool (made again after :meth:`close`, e.g. by a second lifespan)."""
        with self._pool_lock:
            if self._pool is None:
                self._pool = ThreadPoolExecutor(SEARCH_THREADS, thread_name_prefix="kb-search")
            return self._pool

    async def run(self, fn: Callable[..., T], /, *args: Any, **kwargs: Any) -> T:
        """``fn(*args, **kwargs)`` on the search pool, awaited without blocking the loop."""
        call = functools.partial(contextvars.copy_context().run, fn, *args, **kwargs)
        return await asyncio.wrap_future(self.pool.submit(call))

    def _warm_pool(self, service: SearchService) -> None:
        """Run one query on every pool thread (a barrier keeps them from sharing the work)."""
        barrier = threading.Barrier(SEARCH_THREADS)

        def warm() -> None:
            # A broken barrier (a very slow machine) only means some threads share the work.
            with contextlib.suppress(threading.BrokenBarrierError):
                barrier.wait(timeout=30)
            service.searcher().search(_WARM_QUERY, k=3)

        pool = self.pool
        for future in [pool.submit(warm) for _ in range(SEARCH_THREADS)]:
            future.result()

    def close(self) -> None:
        with self._pool_lock:
            pool, self._pool = self._pool, None
        if pool is not None:
            pool.shutdown(wait=False, cancel_futures=True)

    def start(self, *, background: bool = True) -> None:
        if background:
            self._thread = threading.Thread(target=self._load, name="kb-load", daemon=True)
            self._thread.start()
        else:
            self._load()

    def wait(self, timeout: float | None = None) -> None:
        if self._thread is not None:
            self._thread.join(timeout)

    def _load(self) -> None:
        try:
            service = self._factory()
            service.warm_up()
            self._warm_pool(service)
            if self._prepare is not None:
                self._prepare()
            self.service = service
        except Exception as exc:  # reported by /readyz instead of killing the server
            log.exception("loading the search service failed")
            self.error = f"{type(exc).__name__}: {exc}"
