"""Adaptation by itself: adapt the model after builds that changed the corpus, in the background.

After a build (:func:`after_build`, called by :func:`kb.index.update.rebuild`), kb compares the
FAQ/case pairs of the store with those of the latest adaptation attempt; when at least
``adapt_min_change`` of them are new, changed or gone (or none was made yet and there are
``adapt_min_pairs``), it starts ``python -m kb.index.adapt`` as a detached process at low
priority (``os.nice``, ``adapt_threads`` torch threads). The serving index keeps serving
meanwhile; the service never waits for it.

That process (:func:`run_adaptation`):

1. trains the model's upper layers on 90% of the questions (:mod:`kb.embed.adapt_train`),
2. validates base and adapted model on the held-out 10% (never queries or judgments) and keeps
   the adapted model only if it beats the base by ``adapt_min_gain`` MRR@10,
3. prepares its ONNX graphs and embeds every chunk into the embedding cache, outside the
   writer lock (the cache is keyed by model: the adapted model re-embeds every text once; the
   snapshot, BM25 and reading fields are rebuilt from the store as every build does),
4. then, under the writer lock, records it as the model in use (:mod:`kb.embed.adapt`) and
   builds and publishes an index with it; every vector comes from the cache except those of
   chunks ingested meanwhile. The service switches model and index together at the pointer.
"""

from __future__ import annotations

import argparse
import contextlib
import glob
import logging
import os
import shutil
import subprocess
import sys
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from kb.embed.adapt import (
    ACTIVE_NAME,
    ADAPTED_PREFIX,
    PAIRS_NAME,
    active_record,
    adapted_folder_name,
    adapted_model_path,
    changed_share,
    effective_model,
    erased_since,
    last_attempt,
    split_pairs,
    trained_pair_keys,
    training_digest,
    write_json_atomic,
    write_trained_pair_keys,
)
from kb.embed.tune_pairs import TrainingPair, pairs_from_store
from kb.index.lock import FileLock
from kb.settings import Settings
from kb.store import Store

log = logging.getLogger(__name__)

ERASED_REASON = "a document was erased while it adapted: the model may hold it, so it was deleted"
"""Why an adaptation that overlapped an erasure was not kept (:func:`_publish`)."""
REPLACED_REASON = (
    "the data folder was replaced while it adapted (a restore, or a new folder at its path): "
    "the model learnt from the one before, so it was deleted unused"
)
"""Why an adaptation whose data folder changed under it was not kept (:func:`_publish`)."""
LOCK_NAME = "adapt.lock"
"""Held by the adaptation process, in the model cache: one adaptation at a time."""
LOG_NAME = "adapt.log"
NICE = 10


@dataclass(frozen=True)
class Due:
    """Whether the corpus changed enough for a new adaptation, and why (for logs and status)."""

    due: bool
    reason: str
    pairs: int = 0
    changed: float = 0.0


def adaptation_due(settings: Settings, pairs: list[TrainingPair]) -> Due:
    """Decide from the store's pairs whether to adapt now (see the module docstring)."""
    if not settings.adapt:
        return Due(False, "adaptation is off (KB_ADAPT=false)")
    if settings.model == "fake" or settings.model.startswith("fake:"):
        return Due(False, "the fake test embedder has no weights to adapt")
    if len(pairs) < settings.adapt_min_pairs:
        return Due(
            False,
            f"{len(pairs)} FAQ/case pairs; adaptation starts at {settings.adapt_min_pairs}",
            len(pairs),
        )
    share = changed_share(trained_pair_keys(settings.models_dir), pairs)
    if share < settings.adapt_min_change or share == 0.0:
        return Due(
            False,
            f"{share:.0%} of the pairs changed since the last adaptation "
            f"(starts at {settings.adapt_min_change:.0%})",
            len(pairs),
            share,
        )
    return Due(True, f"{share:.0%} of {len(pairs)} pairs new or changed", len(pairs), share)


def _lock(settings: Settings) -> FileLock:
    settings.models_dir.mkdir(parents=True, exist_ok=True)
    return FileLock(settings.models_dir / LOCK_NAME)


def is_running(settings: Settings) -> bool:
    """Whether an adaptation process holds the adaptation lock now."""
    if not (settings.models_dir / LOCK_NAME).exists():
        return False
    lock = _lock(settings)
    if lock.try_acquire():
        lock.release()
        return False
    return True


Spawn = Callable[[list[str], dict[str, str], Path], Any]


def _spawn(command: list[str], env: dict[str, str], log_path: Path) -> Any:
    with log_path.open("ab") as out:
        return subprocess.Popen(  # a detached child: the build and the server do not wait
            command,
            stdin=subprocess.DEVNULL,
            stdout=out,
            stderr=subprocess.STDOUT,
            env=env,
            start_new_session=True,
            close_fds=True,
        )


def after_build(settings: Settings, *, spawn: Spawn = _spawn) -> Due:
    """Start a background adaptation if the corpus changed enough (never raises).

    Args:
        settings: The data folder's settings (base model, thresholds).
        spawn: How the process is started (tests pass a recorder).

    Returns:
        The decision; ``due`` is true only if a process was started.
    """
    try:
        if not settings.adapt or settings.model.startswith("fake"):
            return adaptation_due(settings, [])
        store = Store(settings.store_path, read_only=True)
        try:
            pairs = pairs_from_store(store)
        finally:
            store.close()
        due = adaptation_due(settings, pairs)
        if not due.due:
            return due
        if is_running(settings):
            return Due(False, "an adaptation is already running", due.pairs, due.changed)
        env = dict(os.environ)
        env["KB_DATA_DIR"] = str(settings.data_dir.resolve())
        env["KB_MODEL"] = settings.model
        if settings.model_cache_dir is not None:
            env["KB_MODEL_CACHE_DIR"] = str(settings.model_cache_dir.resolve())
        command = [sys.executable, "-m", "kb.index.adapt"]
        spawn(command, env, settings.models_dir / LOG_NAME)
        log.info("adaptation started in the background: %s", due.reason)
        return due
    except Exception as exc:  # adaptation is an extra: it must never fail a build
        log.warning("could not start the background adaptation: %s", exc, exc_info=True)
        return Due(False, f"could not start: {exc}")


def run_adaptation(
    settings: Settings,
    *,
    force: bool = False,
    progress: Callable[[str, int, int], None] | None = None,
) -> dict[str, Any]:
    """Adapt, validate, and if better build and publish an index with the adapted model.

    Args:
        settings: The data folder's settings.
        force: Adapt even if the corpus did not change enough.
        progress: Optional progress callback.

    Returns:
        The attempt's record (also written to ``adapt-last.json``): ``kept`` says whether the
        adapted model now serves.

    Raises:
        BusyError: Another adaptation is running.
        ModelError, ValueError: The model cannot be adapted.
    """
    from kb.embed.adapt_config import FastTuneConfig, resolve_precision
    from kb.embed.adapt_train import fast_tune
    from kb.embed.tune import base_model_path
    from kb.errors import BusyError

    lock = _lock(settings)
    if not lock.try_acquire():
        raise BusyError("another adaptation is running (DATA_DIR/models/adapt.lock)")
    try:
        # Before the pairs are read: a document erased from now on may be among them.
        began = datetime.now(UTC)
        home = _store_identity(settings)
        store = Store(settings.store_path, read_only=True)
        try:
            pairs = pairs_from_store(store)
        finally:
            store.close()
        due = adaptation_due(settings, pairs)
        # Forced: whatever changed, but never with adaptation off or a model without weights.
        can = settings.adapt and not settings.model.startswith("fake") and len(pairs) >= 2
        if not due.due and not (force and can):
            return {"kept": False, "reason": due.reason}
        train, heldout = split_pairs(pairs)
        config = resolve_precision(FastTuneConfig())
        digest = training_digest(train, config)
        folder = settings.models_dir / adapted_folder_name(settings.model, digest)
        started = datetime.now(UTC)
        report = fast_tune(
            base_model_path(settings.model, settings.models_dir),
            train,
            folder,
            heldout=heldout,
            config=config,
            threads=settings.adapt_threads,
            base_id=settings.model,
            progress=progress,
        )
        record: dict[str, Any] = {
            "base_model": settings.model,
            "folder": folder.name,
            "started_at": started.isoformat(timespec="seconds"),
            "finished_at": datetime.now(UTC).isoformat(timespec="seconds"),
            "pairs": len(pairs),
            "train_pairs": report.train_pairs,
            "heldout_pairs": report.heldout_pairs,
            "validation": {
                "metric": "mrr@10",
                "base": asdict(report.base) if report.base else None,
                "adapted": asdict(report.adapted) if report.adapted else None,
                "improved_by": report.improved_by,
                "min_gain": settings.adapt_min_gain,
            },
            "seconds": report.seconds,
            "cpu_seconds": report.cpu_seconds,
            "threads": report.threads,
            "method": report.method,
            "config": asdict(config),
        }
        if not _still_home(settings, folder, home):
            return _replaced(settings, record, folder, wrote_pairs=False)
        write_trained_pair_keys(settings.models_dir, pairs)
        kept = report.adapted is not None and report.improved_by >= settings.adapt_min_gain
        if not kept:
            record.update(kept=False, reason="validation did not improve enough")
            write_json_atomic(settings.models_dir / "adapt-last.json", record)
            shutil.rmtree(folder, ignore_errors=True)  # 470 MB that will never serve
            return record
        published = _publish(settings, folder, began, home)
        if published == REPLACED_REASON:
            return _replaced(settings, record, folder, wrote_pairs=True)
        if isinstance(published, str):
            # Not "learnt": the next build adapts anew, without the erased document.
            (settings.models_dir / PAIRS_NAME).unlink(missing_ok=True)
            record.update(kept=False, reason=published)
            write_json_atomic(settings.models_dir / "adapt-last.json", record)
            return record
        record.update(published)
        record["kept"] = True
        write_json_atomic(settings.models_dir / "adapt-last.json", record)
        return record
    finally:
        lock.release()


def _store_identity(settings: Settings) -> tuple[int, int] | None:
    """The store file's device and inode: another file at that path is another data folder."""
    try:
        st = settings.store_path.stat()
    except OSError:
        return None
    return (st.st_dev, st.st_ino)


def _replaced(
    settings: Settings, record: dict[str, Any], folder: Path, *, wrote_pairs: bool
) -> dict[str, Any]:
    """Give up an adaptation whose data folder was replaced: nothing is written anywhere (the
    folder now at that path is not the one it learnt from), and its model is deleted.

    Not a model that now serves there under the same name (a restored backup's, adapted from
    the same pairs), and, in a model cache of its own (``KB_MODEL_CACHE_DIR``, shared by the
    old folder and the new), the record of the pairs it learnt from goes too: no model of
    them was adopted, so the next build adapts again."""
    models = settings.models_dir
    active = active_record(models, settings.model)
    if active is None or active.get("folder") != folder.name:
        shutil.rmtree(folder, ignore_errors=True)
        for export in models.glob(f"onnx-{glob.escape(folder.name)}-*"):
            shutil.rmtree(export, ignore_errors=True)
    shared = not models.resolve().is_relative_to(settings.data_dir.resolve())
    if wrote_pairs and shared:
        (models / PAIRS_NAME).unlink(missing_ok=True)
    log.warning("adaptation not kept: %s", REPLACED_REASON)
    return {**record, "kept": False, "reason": REPLACED_REASON}


def _still_home(settings: Settings, folder: Path, home: tuple[int, int] | None) -> bool:
    """Whether the data folder is the one the adaptation began in, and its model is there."""
    return (
        home is not None
        and _store_identity(settings) == home
        and (folder / "modules.json").is_file()
    )


def _publish(
    settings: Settings, folder: Path, began: datetime, home: tuple[int, int] | None
) -> dict[str, Any] | str:
    """Embed everything with the adapted model, then record it and build under the lock.

    A reason (the model is deleted unused) instead of the record's additions when:

    - a document was erased since ``began`` (it may be among what the model learnt from):
      :data:`ERASED_REASON`, and the next build adapts without it;
    - the data folder is no longer the one it learnt from (``home``, the store file's
      identity when it began: a restore renamed another folder into place, or the folder was
      deleted and made anew), or the adapted model went with the old one:
      :data:`REPLACED_REASON`. Publishing would serve a model that is not there, or build
      an index into a folder from another store.
    """
    from kb.embed.embedder import load_embedder
    from kb.index.builder import build_index, embed_texts
    from kb.index.lock import writer_lock
    from kb.security.commands import cli_audited
    from kb.store import EmbeddingCache

    if not _still_home(settings, folder, home):
        return REPLACED_REASON
    embedder = load_embedder(
        ADAPTED_PREFIX + folder.name,
        models_dir=settings.models_dir,
        query_prompt=settings.query_prompt,
        document_prompt=settings.document_prompt,
        backend=settings.embedding_backend,
        query_int8=settings.query_int8,
        threads=settings.adapt_threads,
        batch_size=settings.batch_size,
    )
    t0 = time.perf_counter()
    cache = EmbeddingCache(settings.data_dir / "embeddings.sqlite")
    store = Store(settings.store_path, read_only=True)
    try:
        rows = list(store.iter_chunks())
        # Outside the writer lock: staff may ingest meanwhile; the build below embeds only what
        # they added.
        embed_texts([r.content for r in rows], embedder, cache, None, "adapt: embed")
        embed_texts([r.title or r.content for r in rows], embedder, cache, None, "adapt: titles")
    finally:
        store.close()
    embed_seconds = round(time.perf_counter() - t0, 1)
    # Checked before the lock too: no lock file is made in a folder that is not ours.
    reason = None if _still_home(settings, folder, home) else REPLACED_REASON
    with (
        writer_lock(settings, "adapt", wait=settings.writer_lock_wait)
        if reason is None
        else (contextlib.nullcontext())
    ):
        if reason is None and not _still_home(settings, folder, home):
            reason = REPLACED_REASON
        if reason is None and erased_since(settings.models_dir, began, settings.data_dir):
            reason = ERASED_REASON
        if reason is not None:
            cache.close()
            if reason == ERASED_REASON:
                shutil.rmtree(folder, ignore_errors=True)
            return reason
        active = {
            "base_model": settings.model,
            "folder": folder.name,
            "adopted_at": datetime.now(UTC).isoformat(timespec="seconds"),
            # Whose it is: another data folder sharing this model cache leaves it alone.
            "data_dir": str(settings.data_dir.resolve()),
        }
        last = settings.models_dir / "adapt-last.json"
        with cli_audited(settings, "build", detail=f"adapted model {folder.name}") as done:
            write_json_atomic(settings.models_dir / ACTIVE_NAME, {**active, "record": last.name})
            live = Store(settings.store_path)
            try:
                built = build_index(live, embedder, settings.index_root, cache=cache)
            finally:
                live.close()
                cache.close()
            done.detail = f"adapted model {folder.name}: index {built.path.name}"
    return {
        "adopted_at": active["adopted_at"],
        "index": built.path.name,
        "embedded": built.embedded,
        "embed_seconds": embed_seconds,
    }


def adaptation_status(settings: Settings) -> dict[str, Any]:
    """The adapted model in use (if any), the latest attempt, and whether one is running.

    ``serving`` is the model kb builds and serves with; ``no_answer_judged_by`` the model whose
    similarities decide "no answer" (the base model, also beside an adapted one); ``adapted``
    the record of the adapted model (folder, when, on what, validation) or ``None``;
    ``last_attempt`` the latest attempt, kept or not.
    """
    record = active_record(settings.models_dir, settings.model)
    last = last_attempt(settings.models_dir)
    adapted = adapted_model_path(settings)
    serving = effective_model(settings)
    used = None
    if record is not None and last is not None and last.get("folder") == record.get("folder"):
        used = last
    return {
        "enabled": settings.adapt,
        "base_model": settings.model,
        "serving": serving,
        # With an adapted model serving, the base model still reads "no answer" (kb.search.judge).
        "no_answer_judged_by": settings.model,
        "adapted_path": str(adapted) if adapted is not None else None,
        "adapted": (
            {**record, **_summary(used)} if record is not None and settings.adapt else None
        ),
        "last_attempt": _summary(last) if last is not None else None,
        "running": is_running(settings) if settings.models_dir.is_dir() else False,
    }


def _summary(record: dict[str, Any] | None) -> dict[str, Any]:
    if not record:
        return {}
    keep = (
        "folder",
        "kept",
        "reason",
        "started_at",
        "finished_at",
        "adopted_at",
        "pairs",
        "train_pairs",
        "heldout_pairs",
        "validation",
        "seconds",
        "cpu_seconds",
        "index",
    )
    return {k: record[k] for k in keep if k in record}


def main(argv: list[str] | None = None) -> int:
    """``python -m kb.index.adapt [--force]``: one adaptation, at low priority."""
    parser = argparse.ArgumentParser(prog="python -m kb.index.adapt", description=__doc__)
    parser.add_argument("--force", action="store_true", help="adapt even if little changed")
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(message)s")
    with contextlib.suppress(OSError, AttributeError):
        os.nice(NICE)  # searches and staff's work come first
    settings = Settings()
    from kb.errors import BusyError

    try:
        record = run_adaptation(settings, force=args.force)
    except BusyError as exc:  # two builds in a row: the first one's adaptation runs
        log.info("%s", exc)
        return 0
    except Exception:
        log.exception("adaptation failed")
        return 1
    log.info("adaptation: %s", record.get("reason") or ("kept" if record["kept"] else "not kept"))
    return 0


if __name__ == "__main__":
    sys.exit(main())
