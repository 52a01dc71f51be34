"""Which files of ``DATA_DIR`` a backup copies, and how each is copied.

Nothing is listed by name: every file under ``DATA_DIR`` is found and copied, so a database
that a later kb adds is backed up too. A file that starts with SQLite's header is copied with
the online backup API (:func:`kb.store.backup.backup_database`); any other file (the city's
``synonyms.tsv``...) is copied as it is. Left out, on purpose:

* ``indexes/``: only the serving build and ``CURRENT`` are copied (:func:`copy_serving_index`);
  the older builds are not needed to serve;
* the model cache (``models/``): large and rebuilt from the installed packages; copied only
  when asked (:func:`copy_models`);
* ``uploads/``: unmasked files of uploads in progress, removed after each ingest;
* what SQLite or kb keep beside a file while using it (``-wal``, ``-shm``, ``-journal``,
  ``*.lock``, hidden ``.*.tmp-*`` folders of an interrupted write);
* symbolic links (named in the report, never followed).
"""

from __future__ import annotations

import hashlib
import os
import shutil
import sqlite3
from collections.abc import Callable, Collection
from dataclasses import dataclass
from pathlib import Path

from kb.embed.content_hash import file_sha256
from kb.errors import BackupError, IndexError_
from kb.index.folder import CURRENT, IndexFolder, IndexRoot
from kb.index.manifest import Manifest
from kb.messages import msg
from kb.ops.layout import FileEntry, copy_hashed, write_private
from kb.store.backup import backup_database, is_side_file, is_sqlite_file

INDEX_TRIES = 5
"""How often the serving build is copied again when a newer one replaced it meanwhile."""

Copied = Callable[[FileEntry], None]
"""Told about every file once it is copied (progress)."""


@dataclass(frozen=True)
class DataFile:
    """A file of the data folder that a backup copies."""

    source: Path
    rel: str
    """Its path in ``DATA_DIR``, with ``/``."""
    database: bool


def _transient(name: str) -> bool:
    """Files that only exist while something writes: never part of a backup."""
    if name.endswith(".lock") or is_side_file(Path(name)):
        return True
    return name.startswith(".") and any(
        mark in name for mark in (".tmp", ".partial-", ".restore-", ".old-")
    )


def plan(data_dir: Path, *, leave_out: Collection[Path]) -> tuple[list[DataFile], list[str]]:
    """The files of ``data_dir`` to copy, and what was skipped (symbolic links).

    Args:
        data_dir: The data folder.
        leave_out: Folders not to enter (the index root, the model cache, uploads).

    Returns:
        The files, sorted by path; the skipped paths with the reason.
    """
    skip = {p.expanduser().absolute() for p in leave_out}
    root = data_dir.expanduser().absolute()
    files: list[DataFile] = []
    skipped: list[str] = []
    for folder, dirs, names in os.walk(root):
        here = Path(folder)
        kept = []
        for name in sorted(dirs):
            path = here / name
            if path in skip or _transient(name):
                continue
            if path.is_symlink():
                skipped.append(f"{path.relative_to(root).as_posix()}/ (symbolic link)")
                continue
            kept.append(name)
        dirs[:] = kept
        for name in sorted(names):
            path = here / name
            if _transient(name):
                continue
            rel = path.relative_to(root).as_posix()
            if path.is_symlink() or not path.is_file():
                skipped.append(f"{rel} (symbolic link or not a regular file)")
                continue
            files.append(DataFile(path, rel, is_sqlite_file(path)))
    return sorted(files, key=lambda f: f.rel), skipped


def copy_data_files(
    files: Collection[DataFile], target: Path, prefix: str, copied: Copied
) -> list[FileEntry]:
    """Copy the planned files into ``target`` (the backup's ``data/``).

    A database is copied with SQLite's online backup, so a copy taken while the service and
    an ingest write is a consistent snapshot of each database. A file that disappeared since
    it was planned (a temporary file of another process) is left out.
    """
    entries: list[FileEntry] = []
    for item in files:
        dest = target / item.rel
        try:
            if item.database:
                dest.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
                if not item.source.exists():
                    continue
                backup_database(item.source, dest)
                os.chmod(dest, 0o600)
                size, digest = _hash_written(dest)
            else:
                size, digest = copy_hashed(item.source, dest)
        except FileNotFoundError:
            continue
        except (OSError, sqlite3.Error) as exc:
            raise BackupError(msg("backup.copy_failed", path=item.source, error=exc)) from exc
        entry = FileEntry(
            f"{prefix}/{item.rel}", size, digest, "database" if item.database else "file"
        )
        entries.append(entry)
        copied(entry)
    return entries


def _hash_written(path: Path) -> tuple[int, str]:
    """Size and SHA-256 of a file already written (and sync it)."""
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)
    return path.stat().st_size, file_sha256(path)


def copy_serving_index(
    index_root: Path, target: Path, prefix: str, copied: Copied
) -> tuple[str, Manifest | None, list[FileEntry]]:
    """Copy the serving build and ``CURRENT`` into ``target`` (the backup's ``indexes/``).

    A published build is never changed, so copying it needs no lock; but a build published
    meanwhile may prune it. Then the copy starts again with the new serving build (up to
    :data:`INDEX_TRIES` times): the writer lock is not taken, so a backup never waits for an
    ingest.

    Returns:
        The build's name (``""`` when no index serves), its manifest, the files copied.

    Raises:
        BackupError: The serving build kept being replaced while it was copied.
    """
    root = IndexRoot(index_root)
    for _ in range(INDEX_TRIES):
        if not root.pointer.exists():
            return "", None, []
        try:
            folder = root.current()
        except IndexError_:
            continue  # replaced and pruned between reading CURRENT and looking
        dest = target / folder.name
        shutil.rmtree(dest, ignore_errors=True)
        entries: list[FileEntry] = []
        try:
            for source in sorted(folder.path.rglob("*")):
                if source.is_dir() or source.is_symlink():
                    continue
                rel = source.relative_to(index_root).as_posix()
                size, digest = copy_hashed(source, target / rel)
                entries.append(FileEntry(f"{prefix}/{rel}", size, digest, "index"))
            manifest = IndexFolder(dest).manifest()
        except (FileNotFoundError, IndexError_):
            shutil.rmtree(dest, ignore_errors=True)
            continue  # pruned while copying: copy the build that replaced it
        pointer = (folder.name + "\n").encode()
        write_private(target / CURRENT, pointer)
        entries.append(FileEntry(f"{prefix}/{CURRENT}", len(pointer), _sha(pointer), "index"))
        for entry in entries:
            copied(entry)
        return folder.name, manifest, entries
    raise BackupError(msg("backup.index_moving", root=index_root, tries=INDEX_TRIES))


def _sha(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def copy_models(
    models_dir: Path,
    target: Path,
    prefix: str,
    copied: Copied,
    only: Collection[str] | None = None,
) -> list[FileEntry]:
    """Copy the model cache (built models, ONNX exports, their remembered file hashes).

    Args:
        only: Copy only these top-level entries of the cache (default: all of it).
    """
    entries: list[FileEntry] = []
    # A model folder may be a link to where the models are kept (one copy for several data
    # folders): its files are the models, and --with-models must copy them.
    for folder, dirs, names in os.walk(models_dir, followlinks=True):
        dirs[:] = sorted(d for d in dirs if not _transient(d))
        if only is not None and Path(folder) == Path(models_dir):
            dirs[:] = [d for d in dirs if d in only]
            names = [n for n in names if n in only]
        for name in sorted(names):
            source = Path(folder) / name
            if _transient(name) or source.is_symlink():
                continue
            rel = source.relative_to(models_dir).as_posix()
            try:
                size, digest = copy_hashed(source, target / rel)
            except FileNotFoundError:
                continue
            entry = FileEntry(f"{prefix}/{rel}", size, digest, "model")
            entries.append(entry)
            copied(entry)
    return entries


__all__ = [
    "DataFile",
    "copy_data_files",
    "copy_models",
    "copy_serving_index",
    "plan",
]
