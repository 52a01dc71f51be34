"""Application state: the search service, loaded in the background so /healthz answers at once."""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
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


class AppState:
    """Holds the :class:`SearchService` once it is loaded, and the error if loading failed."""

    def __init__(self, factory: Callable[[], SearchService]) -> None:
        self._factory = factory
        self.service: SearchService | None = None
        self.error: str | None = None
        self._thread: threading.Thread | None = None

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
            self.service = service
        except Exception as exc:  # reported by /readyz instead of killing the server
            log.exception("loading the search service failed")
            self.error = f"{type(exc).__name__}: {exc}"
