"""Start ``kb serve`` on loopback, time its cold start and load it with concurrent clients.

Every loop is bounded (a fixed number of requests, a deadline for start-up) and the server is
always terminated, even when a measurement fails.
"""

from __future__ import annotations

import os
import secrets
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import httpx

from kb.evaluation.metrics import percentile

PORTS = range(8400, 8500)
"""The loopback ports the benchmarks may use."""


@dataclass(frozen=True)
class Server:
    process: subprocess.Popen[bytes]
    url: str
    ready_s: float
    """Seconds from spawning ``kb serve`` until ``/readyz`` answered 200."""

    def rss_mb(self) -> float:
        return rss_mb(self.process.pid)

    def memory_mb(self) -> dict[str, float]:
        return memory_mb(self.process.pid)


def rss_mb(pid: int | None = None) -> float:
    """Resident memory of a process (this one by default) in MiB, from /proc."""
    path = f"/proc/{pid or 'self'}/status"
    with open(path, encoding="ascii") as fh:
        for line in fh:
            if line.startswith("VmRSS:"):
                return round(int(line.split()[1]) / 1024, 1)
    return 0.0


def memory_mb(pid: int | None = None) -> dict[str, float]:
    """Resident memory split by kind (MiB): ``anon`` is the process's own (heap, model, FAISS,
    metadata); ``file`` is pages of memory-mapped files (``vectors.npy``, the SQLite snapshot)
    that the kernel may drop and read again at any time."""
    fields = {"VmRSS:": "rss", "RssAnon:": "anon", "RssFile:": "file", "RssShmem:": "shmem"}
    out: dict[str, float] = {}
    with open(f"/proc/{pid or 'self'}/status", encoding="ascii") as fh:
        for line in fh:
            name = fields.get(line.split(":", 1)[0] + ":")
            if name:
                out[name] = round(int(line.split()[1]) / 1024, 1)
    return out


_AUTH: dict[str, dict[str, str]] = {}
"""The Authorization header for each server started by :func:`serve` (used by :func:`load`)."""


@contextmanager
def serve(
    data_dir: Path,
    port: int,
    *,
    models_dir: Path,
    threads: int = 0,
    timeout_s: float = 300.0,
    log: Path | None = None,
) -> Iterator[Server]:
    """Run ``kb serve`` on ``127.0.0.1:port`` over ``data_dir`` until the block ends."""
    if port not in PORTS:
        raise ValueError(f"port {port} is outside the benchmark range 8400-8499")
    env = dict(os.environ)
    env.update(
        KB_DATA_DIR=str(data_dir),
        KB_MODEL_CACHE_DIR=str(models_dir),
        KB_THREADS=str(threads),
        KB_QUERY_LOG="false",
        # The load test is one client address: lift the public rate limit, not what it measures.
        KB_PUBLIC_RATE_PER_MINUTE="1000000000",
        KB_PUBLIC_RATE_BURST="1000000000",
    )
    # /api/v1 needs a key (issue 5): a staff key of its own for this server, sent by load().
    from kb.security.keys import KeyStore

    keys = KeyStore(Path(data_dir) / "keys.sqlite")
    _, secret = keys.create(f"bench-{port}-{secrets.token_hex(4)}", "staff")
    keys.close()
    kb = Path(sys.executable).with_name("kb")
    out = open(log, "wb") if log else subprocess.DEVNULL  # noqa: SIM115 - closed below
    t0 = time.perf_counter()
    proc = subprocess.Popen(
        [str(kb), "serve", "--host", "127.0.0.1", "--port", str(port)],
        env=env,
        stdout=out,
        stderr=subprocess.STDOUT,
    )
    url = f"http://127.0.0.1:{port}"
    _AUTH[url] = {"Authorization": f"Bearer {secret}"}
    try:
        ready = None
        with httpx.Client(timeout=2.0) as client:
            deadline = t0 + timeout_s
            while time.perf_counter() < deadline:
                if proc.poll() is not None:
                    raise RuntimeError(f"kb serve exited with {proc.returncode} (log: {log})")
                try:
                    if client.get(url + "/readyz").status_code == 200:
                        ready = time.perf_counter() - t0
                        break
                except httpx.TransportError:
                    pass
                time.sleep(0.05)
        if ready is None:
            raise RuntimeError(f"kb serve not ready within {timeout_s} s (log: {log})")
        yield Server(proc, url, round(ready, 2))
    finally:
        proc.send_signal(signal.SIGINT)
        try:
            proc.wait(15)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait(5)
        if log:
            out.close()  # type: ignore[union-attr]


def load(
    url: str,
    path: str,
    queries: Sequence[str],
    *,
    clients: int,
    requests: int,
    rate: float | None = None,
) -> dict[str, float]:
    """``requests`` GETs of ``path?q=...`` spread over ``clients`` threads (keep-alive each).

    Without ``rate`` each client sends its next request as soon as the last one is answered
    (a closed loop: with enough clients, the server's saturation). With ``rate`` (requests per
    second, all clients together) the requests are scheduled at that rate, interleaved over the
    clients, and each latency counts from the request's scheduled time, so a request that had
    to wait for its client's previous one is charged for the wait (no coordinated omission).

    Returns latency percentiles (ms), errors and throughput (requests per second).
    """
    latencies: list[float] = []
    errors = 0
    lock = threading.Lock()
    per_client = max(1, requests // clients)
    start = time.perf_counter() + 0.05

    def worker(offset: int) -> None:
        nonlocal errors
        mine: list[float] = []
        bad = 0
        with httpx.Client(base_url=url, timeout=30.0, headers=_AUTH.get(url, {})) as client:
            for i in range(per_client):
                q = queries[(offset * 7919 + i) % len(queries)]
                if rate:
                    t = start + (i * clients + offset) / rate
                    time.sleep(max(0.0, t - time.perf_counter()))
                else:
                    t = time.perf_counter()
                try:
                    r = client.get(path, params={"q": q})
                    ok = r.status_code == 200
                except httpx.HTTPError:
                    ok = False
                mine.append((time.perf_counter() - t) * 1000)
                bad += not ok
        with lock:
            latencies.extend(mine)
            errors += bad

    threads = [threading.Thread(target=worker, args=(c,)) for c in range(clients)]
    t0 = time.perf_counter()
    for th in threads:
        th.start()
    for th in threads:
        th.join()
    wall = time.perf_counter() - t0
    out: dict[str, float] = {
        "clients": clients,
        "requests": len(latencies),
        "errors": errors,
        "p50_ms": round(percentile(latencies, 50), 2),
        "p95_ms": round(percentile(latencies, 95), 2),
        "p99_ms": round(percentile(latencies, 99), 2),
        "qps": round(len(latencies) / wall, 1),
    }
    if rate:
        out["rate"] = round(rate, 1)
    return out
