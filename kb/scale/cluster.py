"""Ray Core: connect to a Ray cluster, or start a bounded local instance on loopback.

The only module of kb that calls ``ray.init``; :mod:`kb.scale.serve` and :mod:`kb.scale.data`
run inside :func:`connected`. A local instance (``--ray`` without an address) listens on
127.0.0.1 only, keeps its files in a temporary folder of its own (not the shared ``/tmp/ray``,
so it never joins a stranger's cluster), sends no usage statistics, starts no dashboard, and
is stopped when the block ends. A cluster given by address is only disconnected from.
"""

from __future__ import annotations

import logging
import os
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

from kb.errors import ClusterError
from kb.messages import msg

log = logging.getLogger(__name__)

OBJECT_STORE_MB = 200
"""Object store of a local instance (MiB): the embedding pipeline streams, it never holds a
corpus at once; Ray's default (30% of the memory) would take gigabytes from a 2-core server."""

LOOPBACK_HOSTS = ("127.0.0.1", "localhost", "::1", "[::1]")


@dataclass(frozen=True)
class ClusterInfo:
    """The Ray instance a block runs on."""

    address: str
    """The cluster's GCS address (``127.0.0.1:PORT`` for a local instance)."""
    local: bool
    """Started here (and stopped at the end of the block)."""
    nodes: int
    """Alive nodes."""
    cpus: float
    """Logical CPUs of the alive nodes."""


def is_loopback(address: str) -> bool:
    """Whether a Ray address names this machine (``127.0.0.1:6379``, ``localhost:6379``)."""
    host = address.removeprefix("ray://").rsplit(":", 1)[0]
    return host in LOOPBACK_HOSTS


def prepare_environment(*, loopback: bool) -> None:
    """Set what Ray reads from the environment when it is imported: call before ``import ray``.

    No usage statistics are sent, ever. On loopback, Ray's "local only" mode: otherwise Ray
    replaces 127.0.0.1 by the machine's network address, and a local instance would listen on
    the city's network (and hang where that address is filtered).
    """
    os.environ["RAY_USAGE_STATS_ENABLED"] = "0"
    if loopback:
        os.environ["RAY_ENABLE_WINDOWS_OR_OSX_CLUSTER"] = "0"
        # ``ray.cluster_utils.Cluster`` (the tests' two-node cluster) writes its head's address
        # to ``<RAY_TMPDIR or /tmp>/ray/ray_current_cluster`` whatever the head's own folder:
        # on a machine where no Ray ever ran, /tmp/ray does not exist and the start failed
        # (FileNotFoundError). Point that default at kb's own folder and create it, leaving
        # the shared /tmp/ray alone.
        if "RAY_TMPDIR" not in os.environ:
            os.environ["RAY_TMPDIR"] = str(temp_dir())
        (Path(os.environ["RAY_TMPDIR"]) / "ray").mkdir(parents=True, exist_ok=True)


def temp_dir() -> Path:
    """Where a local instance keeps its sessions (sockets, logs, spilled objects)."""
    uid = os.getuid() if hasattr(os, "getuid") else 0
    return Path(tempfile.gettempdir()) / f"kb-ray-{uid}"


def _info(local: bool) -> ClusterInfo:
    import ray

    alive = [n for n in ray.nodes() if n.get("Alive")]  # type: ignore[no-untyped-call]
    cpus = sum(float(n.get("Resources", {}).get("CPU", 0.0)) for n in alive)
    address = ray.get_runtime_context().gcs_address
    return ClusterInfo(address=address, local=local, nodes=len(alive), cpus=cpus)


@contextmanager
def connected(
    address: str | None,
    *,
    num_cpus: int | None = None,
    object_store_mb: int = OBJECT_STORE_MB,
) -> Iterator[ClusterInfo]:
    """Connected to Ray inside the block.

    Args:
        address: A running cluster (``HOST:PORT`` of its head, or ``auto``); ``None``: start a
            local instance on loopback for the block. When this process is connected already
            (a test's cluster), that connection is used and left open.
        num_cpus: Logical CPUs of a local instance (default: the machine's cores).
        object_store_mb: Object store of a local instance, MiB.

    Raises:
        ClusterError: Ray is not installed, the cluster cannot be reached, or a local instance
            cannot start.
    """
    prepare_environment(loopback=address is None or is_loopback(address))
    try:
        import ray
    except ImportError as exc:
        raise ClusterError(msg("ray.no_ray")) from exc
    if ray.is_initialized():
        yield _info(local=False)
        return
    try:
        if address is None:
            ray.init(
                address="local",
                num_cpus=num_cpus or os.cpu_count() or 1,
                object_store_memory=object_store_mb * 2**20,
                include_dashboard=False,
                _node_ip_address="127.0.0.1",
                _temp_dir=str(temp_dir()),
                logging_level=logging.WARNING,
            )
        else:
            ray.init(address=address, logging_level=logging.WARNING)
    except (ConnectionError, RuntimeError, ValueError, OSError) as exc:
        if address is None:
            raise ClusterError(msg("ray.no_local", problem=exc)) from exc
        raise ClusterError(msg("ray.no_cluster", address=address, problem=exc)) from exc
    try:
        info = _info(local=address is None)
        log.info("on Ray %s: %d node(s), %.0f CPU(s)", info.address, info.nodes, info.cpus)
        yield info
    finally:
        ray.shutdown()
