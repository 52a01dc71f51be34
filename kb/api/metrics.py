"""``/metrics``: Prometheus text format, made by ``prometheus-client``.

What a scrape sees (all names start with ``kb_``):

* ``kb_http_requests_total{method, route, status}``: requests by route template
  (``/api/v1/faq/{faq_id}``, never the raw path, so ids and queries do not become labels;
  ``unmatched`` for a path no route serves);
* ``kb_http_request_duration_seconds{method, route}``: a latency histogram;
* ``kb_searches_total{surface, outcome}``: staff and public searches, ``answered`` or
  ``refused`` (no confident answer: the widget offers the city's general contact instead);
* ``kb_index_age_seconds``, ``kb_index_chunks``, ``kb_index_info{index, model}``: the build
  that serves, and how long ago it was made;
* ``kb_documents{kind}``: documents in the serving build, per kind;
* ``kb_ready``: 1 once the index is loaded (as ``/readyz``), else 0;
* ``kb_build_info{version}``.

Several workers (``kb serve --workers N``): ``kb serve`` points ``PROMETHEUS_MULTIPROC_DIR``
at a fresh folder before the workers start, each worker writes its counters and histograms
there, and a scrape, whichever worker answers it, sums all of them (prometheus-client's
multiprocess mode). The index and document gauges are read by the worker that answers; the
workers serve the same data folder, so they agree except for the moments a new build is being
picked up.

Access: the metrics show volumes (how many searches, how many cases), not content. They need
an admin key (``Authorization: Bearer``, which Prometheus sends from ``authorization:
credentials_file``) unless the scraper's address is in ``KB_METRICS_ALLOW_IPS`` (checked in
:mod:`kb.api.access`).
"""

from __future__ import annotations

import atexit
import datetime as dt
import os
import shutil
import tempfile
import time
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from prometheus_client import CollectorRegistry, Counter, Histogram, generate_latest
from prometheus_client.exposition import CONTENT_TYPE_PLAIN_0_0_4
from prometheus_client.metrics_core import GaugeMetricFamily, Metric
from prometheus_client.registry import Collector
from starlette.routing import compile_path
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from kb import __version__

METRICS_PATH = "/metrics"
MULTIPROC_ENV = "PROMETHEUS_MULTIPROC_DIR"
CONTENT_TYPE = CONTENT_TYPE_PLAIN_0_0_4
UNMATCHED = "unmatched"
LATENCY_BUCKETS = (0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0)
"""Seconds: a suggestion takes a few ms, a staff search tens, an admin upload minutes."""
METHODS = frozenset({"GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"})
"""Methods counted by name; any other (a client chooses it) counts as ``other``."""
SURFACES = ("staff", "public")
OUTCOMES = ("answered", "refused")


def multiprocess_dir() -> str | None:
    """The folder of prometheus-client's multiprocess mode, if this process runs in it."""
    path = os.environ.get(MULTIPROC_ENV, "").strip()
    return path if path and os.path.isdir(path) else None


def share_between_workers() -> str:
    """Put this process and the workers it starts in multiprocess mode; return the folder.

    ``kb serve --workers N`` calls it before uvicorn starts the workers, which inherit
    ``PROMETHEUS_MULTIPROC_DIR``. Unset: a fresh private folder, removed when the server
    exits. Set (say, to a tmpfs): that folder, emptied of an earlier run's files first, whose
    counts would otherwise be summed in.
    """
    given = os.environ.get(MULTIPROC_ENV, "").strip()
    if given:
        folder = Path(given)
        folder.mkdir(parents=True, exist_ok=True)
        for old in folder.glob("*.db"):
            old.unlink()
        return str(folder)
    made = tempfile.mkdtemp(prefix="kb-metrics-")
    os.environ[MULTIPROC_ENV] = made
    atexit.register(shutil.rmtree, made, True)
    return made


class RouteTemplates:
    """Maps a request path to the template of the route that serves it.

    Built from the app's routes on first use (they are all added by then); a mount (``/static``)
    is one template, ``/static/{path}``.
    """

    def __init__(self, routes: Iterable[Any]) -> None:
        self._patterns: list[tuple[Any, str]] = []
        for path_format in _path_formats(routes):
            if path_format.endswith("/{path}"):  # a mount: everything under its prefix
                prefix = path_format.removesuffix("/{path}")
                regex, _, _ = compile_path(prefix + "/{path:path}")
            else:
                regex, _, _ = compile_path(path_format)
            self._patterns.append((regex, path_format))

    def template(self, path: str) -> str:
        """The template of the first route matching ``path``; :data:`UNMATCHED` if none."""
        for regex, path_format in self._patterns:
            if regex.match(path):
                return path_format
        return UNMATCHED


def _path_formats(routes: Iterable[Any]) -> Iterator[str]:
    """Full path templates of the app's routes, through included routers and mounts."""
    from fastapi import routing

    iter_contexts = getattr(routing, "iter_route_contexts", None)
    if iter_contexts is not None:  # FastAPI keeps included routers as a tree
        for context in iter_contexts(list(routes)):
            if context.path_format:
                yield str(context.path_format)
        return
    for route in routes:  # pragma: no cover - older FastAPI: a flat list
        path_format = getattr(route, "path_format", None)
        if path_format:
            yield str(path_format)


@dataclass
class Metrics:
    """The app's metrics: counters and histograms, and what a scrape reads live."""

    requests: Counter
    latency: Histogram
    searches: Counter
    registry: CollectorRegistry
    """Single process: holds every metric. Multiprocess: only the live collector (the counters
    are read from the workers' files at each scrape)."""
    multiprocess: str | None = None
    _templates: RouteTemplates | None = field(default=None, repr=False)

    @classmethod
    def create(cls, app: Any) -> Metrics:
        """Metrics for ``app`` (one registry per app, so tests can build many apps)."""
        folder = multiprocess_dir()
        registry = CollectorRegistry(auto_describe=True)
        # In multiprocess mode the values live in the folder's files; registering them here
        # too would show this worker's share twice.
        own = None if folder else registry
        requests = Counter(
            "kb_http_requests",
            "HTTP requests by method, route template and status.",
            ["method", "route", "status"],
            registry=own,
        )
        latency = Histogram(
            "kb_http_request_duration_seconds",
            "Time from request to the end of the response, by method and route template.",
            ["method", "route"],
            buckets=LATENCY_BUCKETS,
            registry=own,
        )
        searches = Counter(
            "kb_searches",
            "Searches by surface (staff, public) and outcome (answered, refused: no "
            "confident answer).",
            ["surface", "outcome"],
            registry=own,
        )
        for surface in SURFACES:
            for outcome in OUTCOMES:
                searches.labels(surface, outcome)  # present (at 0) from the first scrape
        registry.register(LiveCollector(app))
        return cls(requests, latency, searches, registry, folder)

    def templates(self, app: Any) -> RouteTemplates:
        if self._templates is None:
            self._templates = RouteTemplates(app.router.routes)
        return self._templates

    def observe(self, method: str, route: str, status: int, seconds: float) -> None:
        """Count one finished request."""
        method = method if method in METHODS else "other"
        self.requests.labels(method, route, str(status)).inc()
        self.latency.labels(method, route).observe(seconds)

    def count_search(self, surface: str, answered: bool) -> None:
        """Count one search that was answered or refused."""
        self.searches.labels(surface, "answered" if answered else "refused").inc()

    def exposition(self) -> bytes:
        """The text a scrape gets: every worker's counters, this worker's live gauges."""
        if self.multiprocess is None:
            return generate_latest(self.registry)
        from prometheus_client import multiprocess

        combined = CollectorRegistry()
        multiprocess.MultiProcessCollector(combined, path=self.multiprocess)  # type: ignore[no-untyped-call]
        return generate_latest(combined) + generate_latest(self.registry)


class LiveCollector(Collector):
    """Gauges read at scrape time from the serving index (never stored between scrapes)."""

    def __init__(self, app: Any) -> None:
        self.app = app
        self._documents: tuple[str, dict[str, int]] | None = None

    def describe(self) -> list[Metric]:
        return []  # computed at each scrape; nothing to check at registration

    def collect(self) -> Iterator[Metric]:
        info = GaugeMetricFamily("kb_build_info", "The kb version serving.", labels=["version"])
        info.add_metric([__version__], 1)
        yield info
        service = getattr(self.app.state.kb, "service", None)
        yield GaugeMetricFamily(
            "kb_ready",
            "1 once the index is loaded and serving (as /readyz).",
            value=int(bool(service)),
        )
        if service is None:
            return
        searcher = service.searcher()
        manifest = searcher.manifest
        index = GaugeMetricFamily(
            "kb_index_info", "The serving index build.", labels=["index", "model"]
        )
        index.add_metric([searcher.folder.name, manifest.model], 1)
        yield index
        yield GaugeMetricFamily(
            "kb_index_age_seconds",
            "Seconds since the serving index was built.",
            value=index_age(manifest.built_at),
        )
        yield GaugeMetricFamily(
            "kb_index_chunks", "Chunks in the serving index.", value=manifest.chunks
        )
        documents = GaugeMetricFamily(
            "kb_documents", "Documents in the serving index, by kind.", labels=["kind"]
        )
        for kind, count in self._counts(searcher).items():
            documents.add_metric([kind], count)
        yield documents

    def _counts(self, searcher: Any) -> dict[str, int]:
        """Documents per kind of a build (read once per build: a build never changes)."""
        name = searcher.folder.name
        if self._documents is None or self._documents[0] != name:
            counts = searcher.store.counts()
            kinds = {k: v for k, v in counts.items() if k not in ("chunks", "departments")}
            self._documents = (name, kinds)
        return self._documents[1]


def index_age(built_at: str, now: dt.datetime | None = None) -> float:
    """Seconds since ``built_at`` (the manifest's ISO time); 0 if it cannot be read."""
    try:
        built = dt.datetime.fromisoformat(built_at)
    except ValueError:
        return 0.0
    if built.tzinfo is None:
        built = built.replace(tzinfo=dt.UTC)
    return max(0.0, ((now or dt.datetime.now(dt.UTC)) - built).total_seconds())


def metrics_of(app: Any) -> Metrics:
    """The app's :class:`Metrics` (made by :func:`kb.api.app.create_app`)."""
    metrics: Metrics = app.state.metrics
    return metrics


def count_search(app: Any, surface: str, answered: bool) -> None:
    """Count a search of ``surface`` (``staff`` or ``public``) in the app's metrics."""
    metrics = getattr(app.state, "metrics", None)
    if metrics is not None:
        metrics.count_search(surface, answered)


class MetricsMiddleware:
    """Times and counts every HTTP request (denied ones too: it wraps the access check)."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        started = time.perf_counter()
        status = 500  # an exception that escapes before a response is a server error

        async def send_counted(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = int(message["status"])
            await send(message)

        try:
            await self.app(scope, receive, send_counted)
        finally:
            app = scope.get("app")
            metrics = getattr(getattr(app, "state", None), "metrics", None)
            if metrics is not None:
                route = metrics.templates(app).template(scope.get("path", ""))
                metrics.observe(
                    scope.get("method", ""), route, status, time.perf_counter() - started
                )
