"""Ray Serve: ``kb serve --ray``, the kb web application as a deployment of N replicas.

Each replica is :func:`kb.api.app.create_app` behind a Serve ingress: the same routes, keys,
JSON and audit log as ``kb serve``. A replica loads the read-only serving index and warms up
before Serve routes a request to it (the app's lifespan runs at replica start), and reports
itself unhealthy if loading failed, so that Serve replaces it.

A new build reaches every replica with the same atomic switch as ``kb serve``: each search
reads the ``CURRENT`` pointer of the index root (:class:`kb.search.service.SearchService`) and
runs wholly on one build; a search that starts after :meth:`kb.index.folder.IndexRoot.publish`
runs on the new build, whichever replica takes it. The replicas must therefore see one data
folder: the same machine, or shared storage mounted at the same path on every node.

The keys, audit and query logs are the data folder's SQLite files, shared by the replicas as by
the workers of ``kb serve --workers``: SQLite's locking serialises the writers (the audit chain
stays one chain; see docs/scale-out.md for the measured cost).

Query embedding is not batched across requests (``@serve.batch``): with int8 queries (the
default) a query's vector would depend on the queries batched with it, so answers would differ
from ``kb serve``; see docs/scale-out.md for why float32 batching does not pay on CPUs either.
"""

from __future__ import annotations

import logging
import os
import signal
import threading
from collections.abc import Callable
from dataclasses import dataclass
from functools import cache
from typing import TYPE_CHECKING, Any

from kb.errors import ClusterError
from kb.messages import msg
from kb.scale.cluster import (
    Ingress,
    connected,
    is_loopback,
    prepare_serve_environment,
    stop_haproxy,
)
from kb.settings import Settings

if TYPE_CHECKING:
    from fastapi import FastAPI

log = logging.getLogger(__name__)

APP_NAME = "kb"
"""The Serve application (and deployment) name."""

MAX_ONGOING_REQUESTS = 16
"""Requests one replica takes at once: its search pool's threads (kb.api.state) plus a queue;
more wait in Serve's router, which sends them to the least busy replica."""


@dataclass(frozen=True)
class ServeOptions:
    """How ``kb serve --ray`` runs."""

    replicas: int = 1
    """Replicas at start (and the least while autoscaling)."""
    max_replicas: int | None = None
    """Above ``replicas``: Serve adds replicas up to this many under load."""
    target_ongoing_requests: float = 2.0
    """Autoscaling: requests in flight per replica that Serve aims at."""
    replica_cpus: float = 1.0
    """CPUs Ray reserves per replica (spreads replicas over the nodes)."""
    host: str = "127.0.0.1"
    port: int = 8000
    ingress: Ingress = "proxy"
    """How HTTP reaches the replicas when ``kb serve --ray`` starts a local instance
    (:data:`kb.scale.cluster.Ingress`); a cluster given by address runs what its nodes were
    started with."""

    def check(self) -> None:
        most = self.max_replicas if self.max_replicas is not None else self.replicas
        if self.replicas < 1 or most < self.replicas:
            raise ClusterError(
                msg("ray.bad_replicas", replicas=self.replicas, most=self.max_replicas)
            )

    @property
    def autoscaling(self) -> bool:
        return self.max_replicas is not None and self.max_replicas > self.replicas

    def deployment_options(self) -> dict[str, Any]:
        """The Serve deployment's options (``Deployment.options``)."""
        options: dict[str, Any] = {
            "max_ongoing_requests": MAX_ONGOING_REQUESTS,
            "ray_actor_options": {"num_cpus": self.replica_cpus},
            # A replica that failed to load reports it at once; one stuck for long is replaced.
            "health_check_period_s": 5,
            "health_check_timeout_s": 60,
            "graceful_shutdown_timeout_s": 20,
        }
        if self.autoscaling:
            options["autoscaling_config"] = {
                "min_replicas": self.replicas,
                "initial_replicas": self.replicas,
                "max_replicas": self.max_replicas,
                "target_ongoing_requests": self.target_ongoing_requests,
            }
        else:
            options["num_replicas"] = self.replicas
        return options


def replica_settings(settings: Settings, options: ServeOptions, *, same_machine: bool) -> Settings:
    """The settings a replica runs with: absolute paths (a replica's working folder is Ray's),
    and the cores shared out as among ``kb serve --workers`` on one machine.

    Raises:
        ClusterError: ``KB_AUDIT_KEY`` is set and the cluster is not this machine.
    """
    if settings.audit_key is not None and not same_machine:
        raise ClusterError(msg("ray.audit_key_env"))
    paths: dict[str, Any] = {
        "data_dir": settings.data_dir.resolve(),
        "model_cache_dir": settings.models_dir.resolve(),
    }
    for name in ("columns_file", "synonym_dictionary", "audit_key_file", "audit_anchor"):
        value = getattr(settings, name)
        if value is not None:
            paths[name] = value.expanduser().resolve()
    return settings.model_copy(
        update={
            **paths,
            "host": options.host,
            "port": options.port,
            # Replicas on one machine share its cores; on a cluster each has its node's.
            "workers": options.replicas if same_machine else 1,
            # No all-core query session (KB_THREADS 0 means one thread here): its pool spins
            # between operators and takes the cores from the Serve proxy and the replica's own
            # Ray threads, which carry every request and answer (docs/scale-out.md).
            "threads": settings.threads or 1,
        }
    )


class KbReplica:
    """One replica: the kb app, built and loaded when Serve starts the replica."""

    def __init__(self, settings: Settings) -> None:
        self._settings = settings
        self._app: FastAPI | None = None

    def __serve_build_asgi_app__(self) -> FastAPI:
        from kb.api.app import create_app

        # Loaded before the replica takes a request (as each worker of kb serve --workers).
        self._app = create_app(self._settings, load_in_background=False, settle=True)
        return self._app

    def check_health(self) -> None:
        """Serve's health check: a replica whose index failed to load is replaced."""
        state = self._app.state.kb if self._app is not None else None
        if state is not None and state.error:
            raise RuntimeError(state.error)

    def served_build(self) -> dict[str, str]:
        """Which replica this is and which build its next search runs on."""
        from ray import serve

        state = self._app.state.kb if self._app is not None else None
        service = state.service if state is not None else None
        index = service.searcher().folder.name if service is not None else ""
        replica = serve.get_replica_context().replica_id.unique_id
        return {"replica": replica, "index": index}


@cache
def _deployment() -> Any:
    """The Serve deployment of :class:`KbReplica` (made once; imports Ray Serve)."""
    from ray import serve

    return serve.deployment(name=APP_NAME)(serve.ingress()(KbReplica))


def deploy(settings: Settings, options: ServeOptions, *, same_machine: bool) -> str:
    """Deploy the kb app on the connected cluster; returns its URL once every replica is ready.

    Runs inside :func:`kb.scale.cluster.connected`. ``same_machine``: every node runs on this
    machine (a local instance, or a cluster on loopback): one HTTP ingress (HAProxy or Serve's
    proxy, as the cluster was started), on the head, and the replicas share the cores; each
    replica behind HAProxy listens on ``options.host`` too, on a port of its own. Serve's access
    log is off: it would write the staff search's query string (what a citizen said) in clear;
    kb's own logs drop it (and HAProxy's goes nowhere, :func:`prepare_serve_environment`).

    Raises:
        ClusterError: The replicas could not start (the reason of the first failure).
    """
    from ray import serve

    options.check()
    serve.start(
        proxy_location="HeadOnly" if same_machine else "EveryNode",
        http_options={"host": options.host, "port": options.port},
        logging_config={"enable_access_log": False, "log_level": "WARNING"},
    )
    app = _deployment().options(**options.deployment_options())
    try:
        serve.run(
            app.bind(replica_settings(settings, options, same_machine=same_machine)),
            name=APP_NAME,
            route_prefix="/",
            blocking=False,
            logging_config={"enable_access_log": False, "log_level": "WARNING"},
        )
    except RuntimeError as exc:
        raise ClusterError(msg("ray.deploy_failed", problem=exc)) from exc
    return f"http://{options.host}:{options.port}"


def undeploy(*, everything: bool) -> None:
    """Remove the kb app; with ``everything``, Serve itself too (a local instance)."""
    from ray import serve

    if everything:
        serve.shutdown()  # type: ignore[no-untyped-call]
    else:
        serve.delete(APP_NAME)


def served_builds(calls: int = 16) -> dict[str, str]:
    """``replica id → build its next search runs on``, from ``calls`` calls through Serve's
    router (which spreads them over the replicas)."""
    from ray import serve

    handle = serve.get_app_handle(APP_NAME)
    answers = [handle.served_build.remote() for _ in range(calls)]
    out: dict[str, str] = {}
    for answer in answers:
        got = answer.result(timeout_s=60)
        out[got["replica"]] = got["index"]
    return out


def run(
    settings: Settings,
    address: str | None,
    options: ServeOptions,
    *,
    on_ready: Callable[[str], None] | None = None,
) -> int:
    """``kb serve --ray``: deploy, then serve until SIGINT or SIGTERM, then remove the app.

    Args:
        settings: As for ``kb serve``.
        address: The Ray cluster; ``None`` starts a local instance on loopback.
        options: Replicas, autoscaling, host, port and ingress.
        on_ready: Called with the URL once every replica is ready.

    A local instance's HAProxy is stopped at the end whatever stopped the rest
    (:func:`kb.scale.cluster.stop_haproxy`).
    """
    options.check()
    cpus = max(options.replicas, options.max_replicas or 0)
    local_cpus = max(cpus, os.cpu_count() or 1) if address is None else None
    if address is None:
        prepare_serve_environment(options.ingress)
    try:
        return _serve_until_stopped(settings, address, options, local_cpus, on_ready)
    finally:
        if address is None and options.ingress == "haproxy":
            stop_haproxy()


def _serve_until_stopped(
    settings: Settings,
    address: str | None,
    options: ServeOptions,
    local_cpus: int | None,
    on_ready: Callable[[str], None] | None,
) -> int:
    stop = threading.Event()
    with connected(address, num_cpus=local_cpus) as info:
        # After ray.init, which installs its own SIGTERM handler (it would exit at once and
        # leave the app on a cluster): stop in order instead.
        handlers = {sig: signal.getsignal(sig) for sig in (signal.SIGINT, signal.SIGTERM)}
        for sig in handlers:
            signal.signal(sig, lambda *_: stop.set())
        try:
            same_machine = address is None or is_loopback(address)
            url = deploy(settings, options, same_machine=same_machine)
            if on_ready is not None:
                on_ready(url)
            while not stop.wait(1.0):
                pass
        finally:
            for sig, handler in handlers.items():
                signal.signal(sig, handler)
            undeploy(everything=info.local)
    return 0
