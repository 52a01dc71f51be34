"""``kb backup DEST``: a consistent copy of a data folder, taken while the service runs.

What is copied, in this order (:mod:`kb.ops.datafiles`):

1. the serving index build and ``CURRENT``: a published build never changes, so it is copied
   without the writer lock, and copied again should a new build prune it meanwhile;
2. every database of ``DATA_DIR`` with SQLite's online backup (each a consistent snapshot,
   writers never held up) and every other file as it is. Copied after the index, the store is
   at least as new as the index: the restored folder is in a state the live one passes
   through during every ingest (stored, not yet built), and ``kb build`` catches up;
3. the audit anchor, cut at the copied log's last event (:mod:`kb.ops.auditcopy`); never the
   audit key;
4. with ``--with-models`` only, the model cache.

The backup is written beside ``DEST`` (``.DEST.partial-…``) and renamed into place when the
manifest and checksums are written: an interrupted backup never looks like a finished one.
"""

from __future__ import annotations

import fcntl
import os
import shutil
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

from kb import __version__
from kb.embed.adapt import adaptation_entries, adapted_model_path
from kb.embed.content_hash import model_content_hash
from kb.errors import BackupError, ModelError
from kb.messages import msg
from kb.ops.auditcopy import audit_head, copy_anchor, last_event
from kb.ops.datafiles import copy_data_files, copy_models, copy_serving_index, plan
from kb.ops.layout import (
    ANCHOR,
    DATA,
    MODELS,
    AuditHead,
    BackupManifest,
    FileEntry,
    human_size,
    sync_tree,
)
from kb.settings import Settings
from kb.store import Store


@dataclass(frozen=True)
class BackupReport:
    """What :func:`create_backup` wrote."""

    path: Path
    manifest: BackupManifest
    skipped: tuple[str, ...]
    """Paths left out (symbolic links), with the reason."""
    notes: tuple[str, ...]
    """Warnings for the operator (a model whose content could not be told)."""
    seconds: float


def _model_hash(settings: Settings) -> tuple[str, str]:
    """The configured model's content hash, and a note when it cannot be told."""
    try:
        return model_content_hash(settings.model, settings.models_dir), ""
    except ModelError as exc:
        return "", msg("backup.model_unknown", model=settings.model, error=exc)


def _check_destination(data_dir: Path, dest: Path) -> None:
    if dest == data_dir or dest.is_relative_to(data_dir):
        raise BackupError(msg("backup.dest_inside", dest=dest, data_dir=data_dir))
    if dest.exists() and (not dest.is_dir() or any(dest.iterdir())):
        raise BackupError(msg("backup.dest_not_empty", dest=dest))


PARTIAL = ".partial-"
"""A backup is written into ``.DEST.partial-…`` beside ``DEST`` and renamed when complete."""


def remove_stale_partials(parent: Path, pattern: str = f".*{PARTIAL}*") -> list[str]:
    """Remove the partial copies a killed backup (or, with another ``pattern``, a killed
    restore) left in ``parent``; their names.

    A backup holds an exclusive lock on its partial folder while it writes it: one that can be
    locked was left by a backup that died (killed, out of memory, a reboot) and holds a copy of
    the data folder, personal data included, that no rotation by name (``kb-*``) would find.
    """
    removed: list[str] = []
    for folder in parent.glob(pattern):
        if not folder.is_dir() or folder.is_symlink():
            continue
        try:
            fd = os.open(folder, os.O_RDONLY)
        except OSError:
            continue
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except OSError:  # a backup is writing it now
            os.close(fd)
            continue
        try:
            shutil.rmtree(folder, ignore_errors=True)
            removed.append(folder.name)
        finally:
            os.close(fd)
    return removed


def _store_generation(database: Path) -> int:
    if not database.is_file():
        return -1
    store = Store(database, read_only=True)
    try:
        return store.generation()
    finally:
        store.close()


def create_backup(
    settings: Settings,
    dest: Path,
    *,
    with_models: bool = False,
    on_file: Callable[[FileEntry], None] | None = None,
) -> BackupReport:
    """Back up the data folder of ``settings`` into the new folder ``dest``.

    Args:
        settings: Which data folder (and audit anchor, model cache).
        dest: A folder that does not exist yet (or is empty), outside the data folder.
        with_models: Copy the model cache too (large; rebuilt from the installed packages
            otherwise).
        on_file: Told about every file once it is copied.

    Returns:
        What was written.

    Raises:
        BackupError: No data folder, ``dest`` in the way, or a file that cannot be copied;
            nothing is left at ``dest``.
    """
    started = time.perf_counter()
    data_dir = settings.data_dir.expanduser().absolute()
    if not data_dir.is_dir():
        raise BackupError(msg("backup.no_data", data_dir=data_dir))
    dest = dest.expanduser().absolute()
    _check_destination(data_dir, dest)
    model_hash, note = _model_hash(settings)
    copied = on_file or (lambda _entry: None)
    try:
        dest.parent.mkdir(parents=True, exist_ok=True)
        remove_stale_partials(dest.parent)
        staging = Path(tempfile.mkdtemp(prefix=f".{dest.name}{PARTIAL}", dir=dest.parent))
        held = os.open(staging, os.O_RDONLY)
    except OSError as exc:
        problem = exc.strerror or str(exc)
        raise BackupError(msg("backup.dest_unwritable", dest=dest, problem=problem)) from exc
    try:
        # Held until the end: a later backup removes a partial copy that nobody holds.
        fcntl.flock(held, fcntl.LOCK_EX | fcntl.LOCK_NB)
        data = staging / DATA
        index, index_manifest, entries = copy_serving_index(
            settings.index_root, data / "indexes", f"{DATA}/indexes", copied
        )
        files, skipped = plan(
            data_dir, leave_out=(settings.index_root, settings.models_dir, settings.uploads_dir)
        )
        entries += copy_data_files(files, data, DATA, copied)
        audit: AuditHead | None = None
        audit_copy = data / settings.audit_path.name
        if audit_copy.is_file():
            audit = audit_head(audit_copy)
            anchor = settings.audit_anchor_path
            if anchor.is_file():
                size, digest, anchored = copy_anchor(
                    anchor, staging / ANCHOR, up_to=last_event(audit_copy)
                )
                entry = FileEntry(ANCHOR, size, digest, "anchor")
                entries.append(entry)
                copied(entry)
                audit = AuditHead(audit.events, audit.head, audit.key_id, anchored)
        if with_models and settings.models_dir.is_dir():
            entries += copy_models(settings.models_dir, staging / MODELS, MODELS, copied)
        elif (adapted := adapted_model_path(settings)) is not None:
            # The adapted model is the data folder's own (learnt from its FAQ and cases), not
            # a cache the installed packages rebuild: without it the index cannot serve.
            only = adaptation_entries(settings.models_dir, adapted.name)
            entries += copy_models(settings.models_dir, staging / MODELS, MODELS, copied, only)
        manifest = BackupManifest(
            kb_version=__version__,
            created_at=datetime.now(UTC).isoformat(timespec="seconds"),
            source=str(data_dir),
            model=settings.model,
            model_hash=model_hash,
            index=index,
            index_generation=index_manifest.generation if index_manifest is not None else -1,
            store_generation=_store_generation(data / settings.store_path.name),
            with_models=with_models,
            audit=audit,
            files=tuple(entries),
        )
        manifest.write(staging)
        for folder, _, _ in os.walk(staging):  # every folder of a backup is its owner's only
            os.chmod(folder, 0o700)
        sync_tree(staging)
        try:
            if dest.exists():
                dest.rmdir()  # checked empty above
            os.rename(staging, dest)
        except OSError as exc:  # another backup to the same folder finished first
            raise BackupError(msg("backup.dest_not_empty", dest=dest)) from exc
        _sync_dir(dest.parent)
    except BaseException:
        shutil.rmtree(staging, ignore_errors=True)
        raise
    finally:
        os.close(held)
    return BackupReport(
        path=dest,
        manifest=manifest,
        skipped=tuple(skipped),
        notes=(note,) if note else (),
        seconds=time.perf_counter() - started,
    )


def _sync_dir(path: Path) -> None:
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def describe(report: BackupReport) -> list[str]:
    """The lines ``kb backup`` prints about a finished backup."""
    m = report.manifest
    databases = sum(1 for f in m.files if f.kind == "database")
    others = sum(1 for f in m.files if f.kind == "file")
    lines = [
        msg(
            "backup.done",
            dest=report.path,
            databases=databases,
            files=others,
            size=human_size(m.size),
            seconds=report.seconds,
        )
    ]
    if m.index:
        lines.append(msg("backup.index", name=m.index, generation=m.index_generation))
    else:
        lines.append(msg("backup.no_index"))
    if m.store_generation >= 0:
        lines.append(msg("backup.store", generation=m.store_generation))
    models = sum(f.size for f in m.files if f.kind == "model")
    if m.with_models:
        lines.append(msg("backup.models", model=m.model, size=human_size(models)))
    else:
        lines.append(msg("backup.no_models", model=m.model))
    if m.audit is not None:
        lines.append(
            msg(
                "backup.audit",
                events=m.audit.events,
                anchored=m.audit.anchored,
                key_id=m.audit.key_id or "-",
            )
        )
    lines += [msg("backup.skipped", path=path) for path in report.skipped]
    lines += list(report.notes)
    lines.append(msg("backup.verify_hint", dest=report.path))
    return lines


__all__ = ["BackupReport", "create_backup", "describe"]
