"""Ray Serve's own cost per request on this machine, with no kb in it: the floor under
``bench/ray.py``'s overhead figure.

Usage::

    .venv/bin/python bench/ray_floor.py [--requests 600] [--rounds 2] [--ingress haproxy]
        [--json PATH]

Serves one no-op FastAPI route (it returns ``{"ok": true}``) twice: as a Ray Serve deployment of
one replica on a local Ray instance (as ``kb serve --ray`` runs it: loopback, the proxy on the
head, or HAProxy with ``--ingress haproxy``, Serve's access log off, one CPU per replica), and
with plain uvicorn in a process of its own. One client on a kept-alive connection sends
``--requests`` requests to each, in turn, for ``--rounds`` rounds, and the p50/p95 and their
difference are printed. Whatever ``bench/ray.py``
measures above this difference is kb's (a replica's search, its threads), not Ray's.
"""

from __future__ import annotations

import argparse
import http.client
import json
import os
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

# This folder holds bench/ray.py: with it on the import path, `import ray` would import that.
BENCH = Path(__file__).resolve().parent
REPO = BENCH.parent
sys.path[:] = [p for p in sys.path if Path(p or ".").resolve() != BENCH]
sys.path.insert(0, str(REPO))

from bench import load  # noqa: E402
from kb.evaluation.metrics import percentile  # noqa: E402
from kb.scale.cluster import connected, prepare_serve_environment, stop_haproxy  # noqa: E402

NOOP_APP = """
from fastapi import FastAPI
app = FastAPI()
@app.get("/ping")
def ping() -> dict[str, bool]:
    return {"ok": True}
"""


def _timed(port: int, requests: int, warmup: int = 50) -> list[float]:
    """Milliseconds of ``requests`` sequential GET /ping on one kept-alive connection."""
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
    ms: list[float] = []
    for i in range(warmup + requests):
        started = time.perf_counter()
        connection.request("GET", "/ping")
        response = connection.getresponse()
        body = response.read()
        if response.status != 200 or b"ok" not in body:
            raise RuntimeError(f"GET /ping answered {response.status}: {body[:200]!r}")
        if i >= warmup:
            ms.append((time.perf_counter() - started) * 1000)
    connection.close()
    return ms


def _summary(ms: list[float]) -> dict[str, float]:
    return {
        "n": len(ms),
        "p50_ms": round(percentile(ms, 50), 2),
        "p95_ms": round(percentile(ms, 95), 2),
    }


def _uvicorn(port: int, folder: Path) -> subprocess.Popen[bytes]:
    (folder / "noop_app.py").write_text(NOOP_APP, encoding="utf-8")
    command = [sys.executable, "-m", "uvicorn", "noop_app:app", "--port", str(port)]
    server = subprocess.Popen([*command, "--log-level", "warning"], cwd=folder)
    for _ in range(200):
        try:
            http.client.HTTPConnection("127.0.0.1", port, timeout=1).request("GET", "/ping")
            return server
        except OSError:
            time.sleep(0.1)
    server.terminate()
    raise RuntimeError("uvicorn did not start")


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("--requests", type=int, default=600)
    ap.add_argument("--rounds", type=int, default=2)
    ap.add_argument("--json", type=Path, default=None)
    ap.add_argument(
        "--ingress",
        choices=("proxy", "haproxy"),
        default="proxy",
        help="Serve's proxy actor, or HAProxy in front of the replica (kb serve --ray-ingress)",
    )
    args = ap.parse_args(argv)
    prepare_serve_environment(args.ingress)
    result: dict[str, Any] = {
        "bench": "ray-floor",
        "cpus": os.cpu_count(),
        "load_average_at_start": [round(x, 2) for x in os.getloadavg()],
        "requests_per_run": args.requests,
        "ingress": args.ingress,
    }
    ray_ms: list[float] = []
    plain_ms: list[float] = []
    folder = REPO / "data" / "bench-ray-floor"
    folder.mkdir(parents=True, exist_ok=True)
    plain_port = load._free_port()
    plain = _uvicorn(plain_port, folder)
    ray_port = load._free_port()  # after uvicorn holds its own
    try:
        with connected(None):
            from fastapi import FastAPI
            from ray import serve

            app = FastAPI()

            @app.get("/ping")
            def ping() -> dict[str, bool]:
                return {"ok": True}

            quiet = {"enable_access_log": False, "log_level": "WARNING"}
            serve.start(
                proxy_location="HeadOnly",
                http_options={"host": "127.0.0.1", "port": ray_port},
                logging_config=quiet,
            )
            noop = serve.deployment(name="noop", ray_actor_options={"num_cpus": 1})(
                serve.ingress(app)(type("Noop", (), {}))
            )
            try:
                serve.run(noop.bind(), name="noop", route_prefix="/", logging_config=quiet)
                for _ in range(args.rounds):
                    ray_ms += _timed(ray_port, args.requests)
                    plain_ms += _timed(plain_port, args.requests)
            finally:
                serve.shutdown()  # type: ignore[no-untyped-call]
    finally:
        plain.terminate()
        plain.wait(timeout=30)
        if args.ingress == "haproxy":
            stop_haproxy()
    result["ray_serve"] = _summary(ray_ms)
    result["uvicorn"] = _summary(plain_ms)
    result["floor_p50_ms"] = round(result["ray_serve"]["p50_ms"] - result["uvicorn"]["p50_ms"], 2)
    result["load_average_at_end"] = [round(x, 2) for x in os.getloadavg()]
    for name in ("ray_serve", "uvicorn"):
        row = result[name]
        print(f"{name:10s} no-op route: p50 {row['p50_ms']} ms  p95 {row['p95_ms']} ms")
    print(f"Ray Serve's own cost per request (p50): {result['floor_p50_ms']} ms")
    if args.json:
        args.json.parent.mkdir(parents=True, exist_ok=True)
        args.json.write_text(json.dumps(result, indent=2), encoding="utf-8")
    return 0


if __name__ == "__main__":
    sys.exit(main())
