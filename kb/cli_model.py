"""``kb eval`` and ``kb tune``: measuring retrieval, and adapting the model to the city."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import Any

from kb.cli_common import Progress, say
from kb.settings import Settings


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
        say(f"{out} is already tuned on these pairs with these settings (--force to redo)")
        say(f"use it with: kb --model {out} build")
        return 0
    base_path = base_model_path(base, settings.models_dir)
    say(
        f"tuning {base} on {len(pairs)} pairs ({n_store} from the store, "
        f"{len(pairs) - min(n_store, len(pairs))} from files): "
        + ", ".join(f"{k} {v}" for k, v in training.items())
    )
    progress = Progress(sys.stderr.isatty())
    if args.full:
        from kb.embed.tune import tune_model

        full = tune_model(
            base_path, pairs, out, base_id=base, threads=settings.threads,
            progress=sys.stderr.isatty(), **training,
        )  # fmt: skip
        say(
            f"wrote {full.path}: {full.pairs} pairs, {full.steps} steps, {full.seconds:.0f} s "
            f"on {full.threads} thread(s), loss {full.first_loss:.3f} -> {full.final_loss:.3f}"
        )
        say(f"use it with: kb --model {full.path} build")
        return 0
    from kb.embed.adapt import split_pairs
    from kb.embed.adapt_config import FastTuneConfig
    from kb.embed.adapt_train import fast_tune

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
    say(
        f"wrote {report.path}: {report.train_pairs} pairs, {report.steps} steps, "
        f"{report.seconds:.0f} s ({report.cpu_seconds:.0f} CPU s) on {report.threads} "
        f"thread(s), loss {report.first_loss:.3f} -> {report.final_loss:.3f}"
    )
    if report.base is not None and report.adapted is not None:
        say(
            f"held-out corpus pairs ({report.heldout_pairs}): MRR@10 {report.base.mrr_at_10:.3f}"
            f" (base) -> {report.adapted.mrr_at_10:.3f} (tuned)"
        )
    say(f"use it with: kb --model {report.path} build")
    return 0


def _tune_settings(args: argparse.Namespace) -> dict[str, Any]:
    """The training settings of `kb tune`: the option, else the method's default."""
    from kb.embed import tune
    from kb.embed.adapt_config import FastTuneConfig

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

    progress = Progress(sys.stderr.isatty())
    record = run_adaptation(settings, force=True, progress=progress)
    progress.close()
    from kb.cli_adapt import describe_attempt

    for line in describe_attempt(record):
        say(line)
    return 0


def add_parsers(sub: Any) -> None:
    """``kb eval`` and ``kb tune``."""
    p = sub.add_parser("eval", help="retrieval evaluation on a BEIR-layout dataset")
    from kb.evaluation.arguments import add_arguments

    add_arguments(p)
    p.set_defaults(func=cmd_eval)

    from kb.embed.adapt_config import FastTuneConfig

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
        help="adapt now as kb does by itself after builds with KB_ADAPT=true (needed): "
        "validate on held-out FAQ/case pairs and, if better, build the index with it and serve it",
    )
    p.set_defaults(func=cmd_tune)
