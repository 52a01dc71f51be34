"""``kb serve``: the HTTP service (one process, several workers, or Ray Serve replicas)."""

from __future__ import annotations

import argparse
import os
from typing import Any

from kb.cli_common import has_index, say, stale_index_model
from kb.messages import msg
from kb.settings import Settings


def cmd_serve(args: argparse.Namespace, settings: Settings) -> int:
    import uvicorn

    from kb.api.app import create_app

    if args.bootstrap and not has_index(settings):
        say(f"no index yet: ingesting {', '.join(args.bootstrap)} and building it")
        ns = argparse.Namespace(
            paths=args.bootstrap, kind=None, no_build=False, sync=False, dry_run=False, force=False
        )
        from kb.cli_index import cmd_ingest

        cmd_ingest(ns, settings)
    elif args.bootstrap and (built := stale_index_model(settings)) is not None:
        from kb.cli_index import cmd_build
        from kb.embed.adapt import effective_model
        from kb.embed.embedder import manifest_model_id
        from kb.errors import BusyError

        model = manifest_model_id(effective_model(settings))
        say(msg("cli.rebuild_for_model", built=built, model=model))
        try:
            cmd_build(argparse.Namespace(ray=None), settings)
        except BusyError as exc:
            # Another writer holds the data folder (a long ingest): serve what is there, and
            # /readyz says why it is not ready until a build fits the model.
            say(msg("cli.rebuild_busy", problem=str(exc)))
    args.host = args.host or settings.host
    args.port = args.port or settings.port
    settings = settings.model_copy(
        update={"host": args.host, "port": args.port, "workers": args.workers}
    )
    from kb.security.commands import warn_if_no_keys

    warn_if_no_keys(settings)
    from kb.api.logs import uvicorn_log_config
    from kb.api.proxies import uvicorn_proxy_options

    proxies = uvicorn_proxy_options(settings.forwarded_allow_ips)
    if settings.forwarded_allow_ips:
        say(f"X-Forwarded-For trusted from: {', '.join(settings.forwarded_allow_ips)}")
    if getattr(args, "ray", None) is not None:
        from kb.scale.commands import serve as serve_on_ray

        return serve_on_ray(args, settings, say)
    if args.workers > 1:
        # Worker processes each build their own app (uvicorn needs an import string), from
        # the environment: pass on what the command line set.
        os.environ["KB_DATA_DIR"] = str(settings.data_dir.resolve())
        os.environ["KB_MODEL"] = settings.model
        os.environ["KB_THREADS"] = str(settings.threads)
        os.environ["KB_WORKERS"] = str(args.workers)
        os.environ["KB_FORWARDED_ALLOW_IPS"] = ",".join(settings.forwarded_allow_ips)
        from kb.api.metrics import share_between_workers

        share_between_workers()  # one /metrics scrape sums every worker's counters
        uvicorn.run(
            "kb.api.app:create_app_from_env",
            factory=True,
            host=args.host,
            port=args.port,
            workers=args.workers,
            log_level="info",
            log_config=uvicorn_log_config(),
            **proxies,
        )
        return 0
    app = create_app(settings, settle=True)
    uvicorn.run(
        app,
        host=args.host,
        port=args.port,
        log_level="info",
        log_config=uvicorn_log_config(),
        **proxies,
    )
    return 0


def add_parser(sub: Any) -> None:
    """``kb serve``."""
    from kb.scale.commands import add_serve_options

    p = sub.add_parser("serve", help="run the HTTP service")
    p.add_argument(
        "--host", default=None, help="address to listen on (default: KB_HOST, 127.0.0.1)"
    )
    p.add_argument("--port", type=int, default=None, help="port (default: KB_PORT, 8000)")
    p.add_argument(
        "--bootstrap",
        nargs="+",
        default=None,
        metavar="PATH",
        help="ingest these paths and build the index first if there is no index yet",
    )
    p.add_argument(
        "--workers",
        type=int,
        default=1,
        help="worker processes (each loads its own copy of the model and the index)",
    )
    add_serve_options(p)
    p.set_defaults(func=cmd_serve)
