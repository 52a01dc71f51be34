"""The ``kb`` command line: ingest, build, search, serve, eval, status."""

from __future__ import annotations

import argparse
import json
import logging
import os
import sys
import time
from collections.abc import Sequence
from contextlib import ExitStack
from dataclasses import asdict
from pathlib import Path
from typing import TYPE_CHECKING, Any

from pydantic import ValidationError

from kb.errors import IndexError_, KBError
from kb.messages import language, msg
from kb.settings import Settings
from kb.types import DOC_KINDS

if TYPE_CHECKING:
    from contextlib import AbstractContextManager

    from kb.index.builder import BuildReport
    from kb.index.lock import LockHolder
    from kb.index.update import UpdateReport

log = logging.getLogger("kb")


class _Progress:
    """tqdm bars keyed by stage on a terminal; plain start/finish lines in logs."""

    def __init__(self, enabled: bool) -> None:
        self.enabled = enabled
        self._bars: dict[str, Any] = {}
        self._started: dict[str, float] = {}

    def __call__(self, stage: str, done: int, total: int) -> None:
        if not self.enabled:
            if stage not in self._started:
                self._started[stage] = time.perf_counter()
                line = msg("progress.start", stage=_stage_name(stage), total=total)
                print(line, file=sys.stderr, flush=True)
            if done >= total:
                took = time.perf_counter() - self._started[stage]
                line = msg("progress.done", stage=_stage_name(stage), seconds=took)
                print(line, file=sys.stderr, flush=True)
            return
        from tqdm import tqdm

        bar = self._bars.get(stage)
        if bar is None:
            bar = self._bars[stage] = tqdm(
                total=total, desc=_stage_name(stage), unit="item", leave=True
            )
        bar.total = total
        bar.n = done
        bar.refresh()
        if done >= total:
            bar.close()

    def close(self) -> None:
        for bar in self._bars.values():
            bar.close()


_STAGES = {
    "parse": "stage.parse",
    "mask": "stage.mask",
    "tokenize": "stage.tokenize",
    "embed": "stage.embed",
    "embed titles": "stage.embed_titles",
    "readings": "stage.readings",
    "index": "stage.index",
}
"""The stages of ingest and build (their progress callbacks' names) → catalogue keys."""


def _stage_name(stage: str) -> str:
    """A stage as staff read it (``parse`` → ファイルの読み込み); another stage as named."""
    key = _STAGES.get(stage)
    return msg(key) if key is not None else stage


def _settings(args: argparse.Namespace) -> Settings:
    overrides: dict[str, Any] = {}
    if args.data_dir is not None:
        overrides["data_dir"] = args.data_dir
    if args.model is not None:
        overrides["model"] = args.model
    if args.threads is not None:
        overrides["threads"] = args.threads
    return Settings(**overrides)


def _print(msg: str) -> None:
    print(msg, flush=True)


def _writer_lock(settings: Settings, what: str) -> AbstractContextManager[LockHolder]:
    """The writer lock, waiting up to ``settings.writer_lock_wait`` and saying for whom."""
    from kb.index.lock import waiting_message, writer_lock

    def waiting(holder: LockHolder | None) -> None:
        message = waiting_message(holder, settings.writer_lock_wait)
        print(f"kb: {message}", file=sys.stderr, flush=True)

    return writer_lock(settings, what, wait=settings.writer_lock_wait, on_wait=waiting)


def _clean_leftovers(settings: Settings, held: LockHolder) -> None:
    from kb.index.update import clean_leftovers

    left = clean_leftovers(settings, held)
    if left:
        print(f"kb: {left.describe()}", file=sys.stderr, flush=True)


def cmd_ingest(args: argparse.Namespace, settings: Settings) -> int:
    from kb.index.update import ingest_and_build
    from kb.ingest.pipeline import IngestReport

    progress = _Progress(sys.stderr.isatty())

    def ingested(report: IngestReport) -> None:
        from kb.ingest.summary import summary_lines

        progress.close()
        for line in summary_lines(report):
            _print(line)

    if getattr(args, "columns", None) is not None:
        settings = settings.model_copy(update={"columns_file": args.columns})
    if getattr(args, "sheet", None) is not None:
        settings = settings.model_copy(update={"xlsx_sheet": args.sheet})

    from kb.cli_lifecycle import print_sync
    from kb.security.commands import cli_audited

    with _writer_lock(settings, "ingest") as held:
        _clean_leftovers(settings, held)
        asked = f"kind {args.kind or 'detected'}, build {not args.no_build}"
        asked += ", sync" * args.sync + ", dry run" * args.dry_run + ", force" * args.force
        with cli_audited(settings, "ingest", ids=_file_labels(args.paths), detail=asked) as done:
            update = ingest_and_build(
                settings,
                [Path(p) for p in args.paths],
                kind=args.kind,
                build=not args.no_build,
                progress=progress,
                on_ingested=None if args.dry_run else ingested,
                sync=args.sync,
                dry_run=args.dry_run,
                force=args.force,
            )
            done.ids = tuple(update.ingest.files)
            done.detail = _update_summary(update)
    progress.close()
    synced = print_sync(update, dry_run=args.dry_run)
    if update.build is not None and update.removed is None:
        _print_build(update.build)
    return 0 if update.ingest.ok and synced else 1


def _file_labels(paths: Sequence[str]) -> list[str]:
    """The paths as the audit log may name them: personal data masked, as ingest labels files."""
    from kb.ingest.redact import Redactor
    from kb.text.masking import Masker

    redactor = Redactor(Masker())
    return [redactor.file_label(p) for p in paths]


def _update_summary(update: UpdateReport) -> str:
    """What an ingest did, for its audit event."""
    report = update.ingest
    s = report.stats
    built = f"; {_build_summary(update.build)}" if update.build is not None else ""
    return (
        f"{report.documents} documents, {report.departments} departments ({s.added} added, "
        f"{s.updated} updated, {s.unchanged} unchanged), {len(report.errors)} row error(s)" + built
    )


def _build_summary(report: BuildReport) -> str:
    """What a build did, for its audit event."""
    if report.discarded:
        return f"build discarded: {report.path.name} was built meanwhile from newer data"
    return f"built {report.path.name}: {report.chunks} chunks ({report.embedded} embedded)"


def _has_index(settings: Settings) -> bool:
    from kb.index.folder import IndexRoot

    return IndexRoot(settings.index_root).has_index()


def cmd_build(args: argparse.Namespace, settings: Settings) -> int:
    from kb.index.update import rebuild
    from kb.security.commands import cli_audited

    progress = _Progress(sys.stderr.isatty())
    with _writer_lock(settings, "build") as held:
        _clean_leftovers(settings, held)
        with cli_audited(settings, "build") as done:
            if getattr(args, "ray", None) is not None:
                from kb.scale.commands import build as build_on_ray

                report = build_on_ray(args, settings, progress, _print)
            else:
                report = rebuild(settings, progress=progress)
            done.detail = _build_summary(report)
    progress.close()
    _print_build(report)
    return 0


def _print_build(report: BuildReport) -> None:
    if report.discarded:
        _print(
            f"this build (store generation {report.generation}) was discarded: index "
            f"{report.path.name} was built meanwhile from newer data and keeps serving; it "
            "holds everything this build had"
        )
        return
    _print(
        f"built index {report.path.name}: {report.chunks} chunks "
        f"({report.embedded} embedded, {report.cached} from cache), dense={report.dense_kind}, "
        f"{report.seconds:.1f} s (embedding {report.embed_seconds:.1f} s)"
    )


def cmd_search(args: argparse.Namespace, settings: Settings) -> int:
    from kb.cli_search import cmd_search as run

    return run(args, settings)


def cmd_serve(args: argparse.Namespace, settings: Settings) -> int:
    import uvicorn

    from kb.api.app import create_app

    if args.bootstrap and not _has_index(settings):
        _print(f"no index yet: ingesting {', '.join(args.bootstrap)} and building it")
        ns = argparse.Namespace(
            paths=args.bootstrap, kind=None, no_build=False, sync=False, dry_run=False, force=False
        )
        cmd_ingest(ns, settings)
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
        _print(f"X-Forwarded-For trusted from: {', '.join(settings.forwarded_allow_ips)}")
    if getattr(args, "ray", None) is not None:
        from kb.scale.commands import serve as serve_on_ray

        return serve_on_ray(args, settings, _print)
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


def cmd_eval(args: argparse.Namespace, settings: Settings) -> int:
    from kb.evaluation.runner import run_cli

    return run_cli(args, settings)


def cmd_tune(args: argparse.Namespace, settings: Settings) -> int:
    if getattr(args, "adopt", False):
        return _adopt(settings)
    from kb.embed.tune import base_model_path, default_output_dir, read_record
    from kb.embed.tune_pairs import pairs_from_store, read_pairs_jsonl, sample_pairs
    from kb.errors import InputError
    from kb.store import Store

    base = args.base or settings.model
    pairs = []
    if settings.store_path.exists():
        store = Store(settings.store_path, read_only=True)
        pairs = pairs_from_store(store)
        store.close()
    n_store = len(pairs)
    for path in args.pairs or ():
        pairs.extend(read_pairs_jsonl(Path(path)))
    pairs = sample_pairs(list(dict.fromkeys(pairs)), args.max_pairs, seed=args.seed)
    if len(pairs) < 2:
        raise InputError(
            str(settings.store_path),
            "nothing to tune on: ingest FAQ entries or cases first, or give --pairs FILE",
        )
    training = _tune_settings(args)
    out = args.out or default_output_dir(settings.models_dir, base, pairs, **training)
    if args.out is None and read_record(out) is not None and not args.force:
        _print(f"{out} is already tuned on these pairs with these settings (--force to redo)")
        _print(f"use it with: kb --model {out} build")
        return 0
    base_path = base_model_path(base, settings.models_dir)
    _print(
        f"tuning {base} on {len(pairs)} pairs ({n_store} from the store, "
        f"{len(pairs) - min(n_store, len(pairs))} from files): "
        + ", ".join(f"{k} {v}" for k, v in training.items())
    )
    progress = _Progress(sys.stderr.isatty())
    if args.full:
        from kb.embed.tune import tune_model

        full = tune_model(
            base_path, pairs, out, base_id=base, threads=settings.threads,
            progress=sys.stderr.isatty(), **training,
        )  # fmt: skip
        _print(
            f"wrote {full.path}: {full.pairs} pairs, {full.steps} steps, {full.seconds:.0f} s "
            f"on {full.threads} thread(s), loss {full.first_loss:.3f} -> {full.final_loss:.3f}"
        )
        _print(f"use it with: kb --model {full.path} build")
        return 0
    from kb.embed.adapt import split_pairs
    from kb.embed.adapt_train import FastTuneConfig, fast_tune

    train, heldout = split_pairs(pairs) if args.validate else (pairs, [])
    config = FastTuneConfig(
        train_layers=args.layers or FastTuneConfig.train_layers,
        epochs=training["epochs"],
        batch_size=training["batch_size"],
        max_passage_tokens=training["max_seq_length"],
        learning_rate=training["learning_rate"],
        seed=args.seed,
    )
    report = fast_tune(
        base_path, train, out, heldout=heldout, config=config, threads=settings.threads,
        base_id=base, progress=progress,
    )  # fmt: skip
    progress.close()
    _print(
        f"wrote {report.path}: {report.train_pairs} pairs, {report.steps} steps, "
        f"{report.seconds:.0f} s ({report.cpu_seconds:.0f} CPU s) on {report.threads} "
        f"thread(s), loss {report.first_loss:.3f} -> {report.final_loss:.3f}"
    )
    if report.base is not None and report.adapted is not None:
        _print(
            f"held-out corpus pairs ({report.heldout_pairs}): MRR@10 {report.base.mrr_at_10:.3f}"
            f" (base) -> {report.adapted.mrr_at_10:.3f} (tuned)"
        )
    _print(f"use it with: kb --model {report.path} build")
    return 0


def _tune_settings(args: argparse.Namespace) -> dict[str, Any]:
    """The training settings of `kb tune`: the option, else the method's default."""
    from kb.embed import tune
    from kb.embed.adapt_train import FastTuneConfig

    fast = not args.full
    pick = {
        "epochs": (args.epochs, FastTuneConfig.epochs if fast else tune.DEFAULT_EPOCHS),
        "batch_size": (
            args.batch_size,
            FastTuneConfig.batch_size if fast else tune.DEFAULT_BATCH_SIZE,
        ),
        "max_seq_length": (
            args.max_seq_length,
            FastTuneConfig.max_passage_tokens if fast else tune.DEFAULT_MAX_SEQ_LENGTH,
        ),
        "learning_rate": (
            args.learning_rate,
            FastTuneConfig.learning_rate if fast else tune.DEFAULT_LEARNING_RATE,
        ),
        "seed": (args.seed, 0),
    }
    out: dict[str, Any] = {k: given if given is not None else d for k, (given, d) in pick.items()}
    if fast:
        out["layers"] = args.layers or FastTuneConfig.train_layers
    return out


def _adopt(settings: Settings) -> int:
    """`kb tune --adopt`: the background adaptation, run now in the foreground."""
    from kb.index.adapt import run_adaptation

    progress = _Progress(sys.stderr.isatty())
    record = run_adaptation(settings, force=True, progress=progress)
    progress.close()
    from kb.cli_adapt import describe_attempt

    for line in describe_attempt(record):
        _print(line)
    return 0


def cmd_status(args: argparse.Namespace, settings: Settings) -> int:
    from kb.index.folder import IndexRoot
    from kb.store import Store

    out: dict[str, Any] = {"data_dir": str(settings.data_dir), "model": settings.model}
    if settings.store_path.exists():
        store = Store(settings.store_path)
        out["store"] = store.counts()
        store.close()
    try:
        folder = IndexRoot(settings.index_root).current()
        out["index"] = {"folder": folder.name, **asdict(folder.manifest())}
    except IndexError_ as exc:
        out["index"] = str(exc)
    from kb.index.lock import writer_holder

    holder = writer_holder(settings)
    out["writer"] = holder.describe() if holder is not None else "idle"
    from kb.index.adapt import adaptation_status

    out["adaptation"] = adaptation_status(settings)
    _print(json.dumps(out, ensure_ascii=False, indent=2))
    return 0


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="kb",
        description="Knowledge base and FAQ search for city-hall consultation desks.",
        epilog="Every setting can also be set as KB_<NAME> in the environment: docs/settings.md.",
    )
    parser.add_argument(
        "--data-dir",
        type=Path,
        default=None,
        help="data directory (default: KB_DATA_DIR, else ./data)",
    )
    parser.add_argument(
        "--model", default=None, help="embedding model (default: KB_MODEL, else the offline e5)"
    )
    parser.add_argument(
        "--threads",
        type=int,
        default=None,
        help="inference threads, 0 = automatic (default: KB_THREADS, else 0)",
    )
    parser.add_argument("-v", "--verbose", action="store_true", help="log what kb does (INFO)")
    sub = parser.add_subparsers(dest="command", required=True)

    p = sub.add_parser("ingest", help="read FAQ, cases, manuals, departments; update the index")
    p.add_argument("paths", nargs="+", help="files or folders")
    p.add_argument(
        "--kind",
        choices=["faq", "case", "manual", "department"],
        default=None,
        help="what the files hold (default: detected from each file's name and columns)",
    )
    p.add_argument("--no-build", action="store_true", help="only update the store")
    p.add_argument(
        "--sync",
        action="store_true",
        help="the files are the truth for their kinds: stored documents of those kinds that "
        "they lack are deleted (never after a row error; see kb delete)",
    )
    p.add_argument(
        "--dry-run",
        action="store_true",
        help="write nothing: list what would be added, changed and (with --sync) deleted",
    )
    p.add_argument(
        "--force",
        action="store_true",
        help="with --sync: delete even every document of a kind, or most of a large one",
    )
    p.add_argument(
        "--columns",
        type=Path,
        default=None,
        metavar="MAP.toml",
        help="column mapping file (TOML) for the city's own headers such as 受付番号 "
        "(default: KB_COLUMNS_FILE, else none; see docs/schema.md)",
    )
    p.add_argument(
        "--sheet",
        default=None,
        metavar="NAME",
        help="sheet of .xlsx files to read (default: KB_XLSX_SHEET, else the first sheet)",
    )
    p.set_defaults(func=cmd_ingest)

    p = sub.add_parser("build", help="(re)build the index from the store")
    from kb.scale.commands import add_build_options, add_serve_options

    add_build_options(p)
    p.set_defaults(func=cmd_build)

    p = sub.add_parser("search", help="search from the command line")
    p.add_argument("query", help="what the citizen said")
    p.add_argument("-k", type=int, default=5, help="results per pane")
    p.add_argument("--json", action="store_true", help="print the API's JSON shape")
    p.add_argument(
        "--kind",
        action="append",
        choices=list(DOC_KINDS),
        help="only this kind; repeat for several (default: all kinds)",
    )
    p.add_argument(
        "--department", action="append", help="only this department; repeat (default: all)"
    )
    p.add_argument("--category", action="append", help="only this category; repeat (default: all)")
    p.add_argument("--date-from", help="cases from this date on, YYYY-MM-DD (default: no limit)")
    p.add_argument("--date-to", help="cases up to this date, YYYY-MM-DD (default: no limit)")
    p.add_argument("--published-only", action="store_true", help="only published FAQ entries")
    p.add_argument(
        "--mode",
        choices=["hybrid", "dense", "lexical"],
        default=None,
        help="retrieval mode (default: hybrid)",
    )
    p.set_defaults(func=cmd_search)

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

    p = sub.add_parser("eval", help="retrieval evaluation on a BEIR-layout dataset")
    from kb.evaluation.runner import add_arguments

    add_arguments(p)
    p.set_defaults(func=cmd_eval)

    from kb.embed.adapt_train import FastTuneConfig

    p = sub.add_parser("tune", help="fine-tune the embedding model on the stored FAQ and cases")
    p.add_argument("--base", default=None, help="model to start from (default: --model)")
    p.add_argument(
        "--out", type=Path, default=None, help="output folder (default: DATA_DIR/models/tuned-...)"
    )
    p.add_argument("--epochs", type=int, default=None, help="training epochs (default: 2)")
    p.add_argument(
        "--max-pairs",
        type=int,
        default=None,
        help="use a random sample of this many pairs (default: all pairs)",
    )
    p.add_argument("--seed", type=int, default=0, help="random seed (sampling, shuffling)")
    p.add_argument(
        "--pairs",
        action="append",
        type=Path,
        metavar="PATH",
        help='extra JSONL pairs {"query", "positive"} (e.g. logged query -> opened result)',
    )
    p.add_argument("--batch-size", type=int, default=None, help="pairs per step (default: 64)")
    p.add_argument(
        "--max-seq-length",
        type=int,
        default=None,
        help="tokens per answer passage; longer answers are split (default: 128)",
    )
    p.add_argument("--learning-rate", type=float, default=None, help="peak learning rate")
    p.add_argument(
        "--layers",
        type=int,
        default=None,
        help=f"upper layers trained, the rest frozen (default: {FastTuneConfig.train_layers})",
    )
    p.add_argument(
        "--no-validate",
        dest="validate",
        action="store_false",
        help="train on every pair (default: 10%% of the questions held out and scored)",
    )
    p.add_argument(
        "--full",
        action="store_true",
        help="the slow method: every layer, every step through the whole model (~30 min)",
    )
    p.add_argument("--force", action="store_true", help="tune again even if the folder exists")
    p.add_argument(
        "--adopt",
        action="store_true",
        help="adapt now as kb does by itself after builds (KB_ADAPT): validate on held-out "
        "FAQ/case pairs and, if better, build the index with it and serve it",
    )
    p.set_defaults(func=cmd_tune)

    p = sub.add_parser("status", help="what is stored and which index serves")
    p.set_defaults(func=cmd_status)

    from kb.cli_brief import add_parser as add_brief_parser

    add_brief_parser(sub)

    from kb.trainer.commands import add_parser as add_trainer_parser

    add_trainer_parser(sub)

    from kb.desk.commands import add_parser as add_records_parser

    add_records_parser(sub)

    from kb.cli_lifecycle import add_parsers as add_lifecycle_parsers

    add_lifecycle_parsers(sub)

    from kb.security.commands import add_parsers as add_security_parsers

    add_security_parsers(sub)
    from kb.ops.commands import add_parsers as add_ops_parsers

    add_ops_parsers(sub)
    from kb.cli_help import finish_parser

    return finish_parser(parser)


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    logging.basicConfig(
        level=logging.INFO if args.verbose else logging.WARNING,
        format="%(levelname)s %(name)s: %(message)s",
    )
    started = time.perf_counter()
    # Messages in the configured language (KB_LANG) for this command, errors included.
    with ExitStack() as scope:
        try:
            settings = _settings(args)
            scope.enter_context(language(settings.lang))
            code = int(args.func(args, settings))
        except ValidationError as exc:  # a bad KB_* variable: say which, without a traceback
            problems = "; ".join(
                f"{'.'.join(str(part) for part in e['loc'])}: {e['msg']}" for e in exc.errors()
            )
            print(msg("cli.bad_settings", problem=problems), file=sys.stderr)
            return 2
        except KBError as exc:
            print(msg("cli.error", problem=exc), file=sys.stderr)
            return 2
        except KeyboardInterrupt:
            print(msg("cli.interrupted"), file=sys.stderr)
            return 130
    log.info("done in %.1f s", time.perf_counter() - started)
    return code


if __name__ == "__main__":
    raise SystemExit(main())
