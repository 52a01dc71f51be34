"""Copying SQLite files safely while kb runs: the online backup API, and who has a file open.

kb's databases run in WAL mode: the file alone is not the database (recent commits live in
``-wal``), and copying the file while a process writes to it gives a torn copy.
:func:`backup_database` uses SQLite's online backup (:meth:`sqlite3.Connection.backup`), which
reads one consistent snapshot (a read transaction, so writers go on meanwhile) and writes it
as a single self-contained file (rollback journal mode; kb switches it back to WAL when it
opens it). :func:`in_use` tells whether another process has a database open, from the lock
every SQLite connection in WAL mode holds on the ``-shm`` file while it is open.
"""

from __future__ import annotations

import contextlib
import fcntl
import os
import sqlite3
from pathlib import Path

from kb.store.sqlite import LOCK_TIMEOUT_S

SQLITE_HEADER = b"SQLite format 3\x00"
"""The first 16 bytes of every SQLite database file."""

SIDE_FILES = ("-wal", "-shm", "-journal")
"""Suffixes of the files SQLite keeps beside a database while it is in use."""

_SHM_DMS = 128
"""The byte of ``-shm`` that every connection of SQLite's unix VFS keeps a shared lock on
while it is open ("dead man switch", ``UNIX_SHM_DMS`` in ``os_unix.c``)."""


def is_sqlite_file(path: Path) -> bool:
    """Whether ``path`` is a regular file that starts with SQLite's header."""
    try:
        with path.open("rb") as fh:
            return fh.read(len(SQLITE_HEADER)) == SQLITE_HEADER
    except OSError:
        return False


def is_side_file(path: Path) -> bool:
    """Whether ``path`` is a ``-wal``, ``-shm`` or ``-journal`` file beside a database."""
    return path.name.endswith(SIDE_FILES)


def backup_database(source: Path, target: Path) -> None:
    """Write a consistent copy of the database ``source`` to the new file ``target``.

    The copy is taken in one step (one read transaction): in WAL mode writers are not held
    up meanwhile, and a copy made step by step would restart at every write. The copy is in
    rollback-journal mode, a single file, checked with ``PRAGMA quick_check``.

    Raises:
        sqlite3.Error: The source cannot be read, or the copy does not check out.
        FileExistsError: ``target`` exists.
    """
    if target.exists():
        raise FileExistsError(str(target))
    src = sqlite3.connect(f"file:{source}?mode=ro", uri=True, timeout=LOCK_TIMEOUT_S)
    try:
        dst = sqlite3.connect(str(target))
        try:
            src.backup(dst)
            dst.execute("PRAGMA journal_mode=DELETE")
            row = dst.execute("PRAGMA quick_check").fetchone()
            if row is None or row[0] != "ok":
                raise sqlite3.DatabaseError(f"the copy of {source} does not check out: {row}")
        finally:
            dst.close()
    finally:
        src.close()


def integrity_check(path: Path) -> str:
    """``PRAGMA integrity_check`` of a database file, read-only: ``ok`` or the first problem."""
    conn = sqlite3.connect(f"file:{path}?mode=ro", uri=True)
    try:
        row = conn.execute("PRAGMA integrity_check").fetchone()
        return str(row[0]) if row else "no answer"
    finally:
        conn.close()


def in_use(database: Path) -> bool:
    """Whether another process has ``database`` open in WAL mode, right now.

    Every such connection holds a shared lock on one byte of ``<database>-shm`` for as long as
    it is open; an exclusive lock on that byte is then refused. Only a probe (a process may
    open the file a moment later), and blind to connections in this process (POSIX record
    locks are per process) and to databases not in WAL mode. Never call it on a database this
    process has open: closing the probe's descriptor would drop this process's own SQLite locks
    on the file (POSIX semantics).
    """
    shm = database.with_name(database.name + "-shm")
    try:
        fd = os.open(shm, os.O_RDWR | os.O_CLOEXEC | os.O_NOFOLLOW)
    except OSError:
        return False  # no -shm: nobody has it open in WAL mode
    try:
        try:
            fcntl.lockf(fd, fcntl.LOCK_EX | fcntl.LOCK_NB, 1, _SHM_DMS)
        except OSError:
            return True
        with contextlib.suppress(OSError):
            fcntl.lockf(fd, fcntl.LOCK_UN, 1, _SHM_DMS)
        return False
    finally:
        os.close(fd)


__all__ = [
    "SIDE_FILES",
    "SQLITE_HEADER",
    "backup_database",
    "in_use",
    "integrity_check",
    "is_side_file",
    "is_sqlite_file",
]
