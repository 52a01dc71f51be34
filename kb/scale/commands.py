"""The ``--ray`` options of ``kb serve`` and ``kb build`` and what they run.

:mod:`kb.cli` adds the options with :func:`add_serve_options` / :func:`add_build_options` and
calls :func:`serve` / :func:`build` when ``--ray`` is given; nothing here imports Ray until then.
"""

from __future__ import annotations

import argparse
from collections.abc import Callable
from typing import TYPE_CHECKING

from kb.errors import ClusterError
from kb.messages import msg
from kb.scale.cluster import INGRESSES
from kb.settings import Settings

if TYPE_CHECKING:
    from kb.index.builder import BuildReport, Progress


RAY_HELP = (
    "run on Ray: the cluster at ADDRESS (HOST:PORT of its head, or 'auto'); without ADDRESS a "
    "local Ray instance on 127.0.0.1 for this command (needs the 'ray' extra; docs/scale-out.md)"
)


def add_serve_options(parser: argparse.ArgumentParser) -> None:
    """``kb serve --ray [ADDRESS] --replicas N [--max-replicas M --target-ongoing-requests R]``."""
    parser.add_argument(
        "--ray", nargs="?", const="", default=None, metavar="ADDRESS", help=RAY_HELP
    )
    parser.add_argument(
        "--replicas", type=int, default=1, help="with --ray: replicas, each loads model and index"
    )
    parser.add_argument(
        "--max-replicas",
        type=int,
        default=None,
        help="with --ray: autoscale from --replicas up to this many under load (default: fixed)",
    )
    parser.add_argument(
        "--target-ongoing-requests",
        type=float,
        default=2.0,
        help="with --ray and --max-replicas: requests in flight per replica Serve aims at",
    )
    parser.add_argument(
        "--ray-ingress",
        choices=INGRESSES,
        default="proxy",
        help="with --ray and no ADDRESS: HTTP through Ray Serve's own proxy (default), or "
        "through HAProxy straight to the replicas (about 5 ms less per request; HAProxy's stats "
        "page and metrics open on every interface, docs/scale-out.md)",
    )


def add_build_options(parser: argparse.ArgumentParser) -> None:
    """``kb build --ray [ADDRESS] [--ray-workers N]``."""
    parser.add_argument(
        "--ray", nargs="?", const="", default=None, metavar="ADDRESS", help=RAY_HELP
    )
    parser.add_argument(
        "--ray-workers",
        type=int,
        default=None,
        help="with --ray: embedding workers, one model each (default: one per CPU of the cluster)",
    )


def serve(args: argparse.Namespace, settings: Settings, out: Callable[[str], None]) -> int:
    """``kb serve --ray``: until Ctrl-C or SIGTERM."""
    from kb.scale.serve import ServeOptions, run

    if args.workers > 1:
        raise ClusterError(msg("ray.workers_and_ray"))
    options = ServeOptions(
        replicas=args.replicas,
        max_replicas=args.max_replicas,
        target_ongoing_requests=args.target_ongoing_requests,
        host=args.host,
        port=args.port,
        ingress=args.ray_ingress,
    )
    options.check()

    def ready(url: str) -> None:
        out(msg("ray.ready", url=url, replicas=args.replicas))

    return run(settings, args.ray or None, options, on_ready=ready)


def build(
    args: argparse.Namespace,
    settings: Settings,
    progress: Progress,
    out: Callable[[str], None],
) -> BuildReport:
    """``kb build --ray``: embed on Ray Data, then the normal build (caller holds the lock)."""
    from kb.scale.data import EmbedReport, rebuild_on_ray

    def embedded(report: EmbedReport) -> None:
        close = getattr(progress, "close", None)
        if callable(close):
            close()
        rate = report.texts_per_second
        out(
            msg(
                "ray.embedded",
                missing=report.missing,
                texts=report.texts,
                workers=report.workers,
                seconds=report.seconds,
                rate=rate,
            )
        )

    return rebuild_on_ray(
        settings,
        args.ray or None,
        workers=args.ray_workers,
        progress=progress,
        on_embedded=embedded,
    )
