"""Opening the security databases: private file mode, WAL, full fsync on commit.

The file set-up they share with the store's databases (WAL, the lock timeout) is
:func:`kb.store.sqlite.open_wal`.
"""

from __future__ import annotations

import contextlib
import os
import sqlite3
from pathlib import Path

from kb.store.sqlite import open_wal


def connect(path: Path | None, *, synchronous: str = "FULL") -> sqlite3.Connection:
    """A connection to ``path`` (``None``: in memory) in autocommit mode.

    Transactions are opened explicitly (``BEGIN IMMEDIATE``) by the callers so that appends
    from the server and from the CLI serialize on SQLite's write lock. In WAL mode every
    commit survives the process being killed; ``synchronous=FULL`` also fsyncs it, so it
    survives a power cut too (the key store); ``NORMAL`` leaves that fsync to checkpoints.
    """
    if path is None:
        conn = sqlite3.connect(":memory:", check_same_thread=False, isolation_level=None)
    else:
        created = not path.exists()
        conn = open_wal(path, autocommit=True)
        if created:
            # Key hashes and who-searched-what are nobody else's business on a shared host.
            with contextlib.suppress(OSError):
                os.chmod(path, 0o600)
    if synchronous not in ("FULL", "NORMAL"):
        raise ValueError(f"synchronous must be FULL or NORMAL, not {synchronous!r}")
    conn.execute(f"PRAGMA synchronous={synchronous}")
    conn.row_factory = sqlite3.Row
    return conn
