"""Opening SQLite files: the one place for connection set-up, WAL and the lock timeout.

Every database of the service opens its file through :func:`open_wal`: the store's databases
through :func:`connect` (and :class:`SideDatabase`), the security databases through
``kb.security._sqlite``.
"""

from __future__ import annotations

import contextlib
import sqlite3
import threading
import time
from collections.abc import Callable, Iterable, Iterator, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any, TypeVar

if TYPE_CHECKING:
    import sqlite_utils

LOCK_TIMEOUT_S = 30.0
"""How long a writer waits for another connection's lock."""
IN_PART = 500
"""Values per ``in (?, ...)`` list: SQLite caps the parameters of one statement."""

_T = TypeVar("_T")


def in_parts(values: Iterable[_T], size: int = IN_PART) -> Iterator[tuple[list[_T], str]]:
    """``values``, each once and in order, in parts for ``where column in (...)``.

    Args:
        values: The values to look up or delete.
        size: Values per part.

    Yields:
        A part and its placeholders (``"?,?,?"``).
    """
    unique = list(dict.fromkeys(values))
    for start in range(0, len(unique), size):
        part = unique[start : start + size]
        yield part, ",".join("?" * len(part))


@contextlib.contextmanager
def write_transaction(db: sqlite_utils.Database) -> Iterator[None]:
    """A write transaction that takes the write lock first (``BEGIN IMMEDIATE``).

    sqlite-utils' ``atomic()`` begins a deferred transaction, and its inserts read the table's
    columns before they write: if another process (a second ``kb serve`` worker, a Ray replica)
    commits in between, SQLite cannot upgrade the stale read and fails at once with "database is
    locked", whatever the busy timeout. Taking the lock first makes the second writer wait its
    turn (up to :data:`LOCK_TIMEOUT_S`) instead. Nested in a transaction: a savepoint.
    """
    conn = db.conn
    if conn.in_transaction:
        with db.atomic():
            yield
        return
    conn.execute("BEGIN IMMEDIATE")
    try:
        yield
    except BaseException:
        if conn.in_transaction:
            conn.execute("ROLLBACK")
        raise
    conn.execute("COMMIT")


def while_locked(step: Callable[[], object]) -> None:
    """Run ``step``, again while another process holds the file, for up to the lock timeout.

    SQLite answers some statements on a file that another connection is creating with
    "database is locked" at once, without its busy handler: the switch to WAL, and a schema
    write after a read that another process's write overtook. Two ``kb serve --workers 2``
    processes opening a fresh ``feedback.sqlite`` together failed this way (measured: 15 of
    120 opens by 4 processes at once).

    Args:
        step: The statement (or statements) to run.

    Raises:
        sqlite3.OperationalError: ``step`` failed otherwise, or stayed locked past
            :data:`LOCK_TIMEOUT_S`.
    """
    deadline = time.monotonic() + LOCK_TIMEOUT_S
    while True:
        try:
            step()
            return
        except sqlite3.OperationalError as exc:
            if "locked" not in str(exc) or time.monotonic() > deadline:
                raise
            time.sleep(0.02)


def open_wal(path: Path, *, autocommit: bool = False) -> sqlite3.Connection:
    """A writable connection to the file ``path`` in WAL mode, its folder created if needed.

    Args:
        path: Database file.
        autocommit: Open it in autocommit mode (``isolation_level=None``) rather than with
            :mod:`sqlite3`'s implicit transactions.

    Returns:
        The connection, usable from any thread (one at a time), waiting up to
        :data:`LOCK_TIMEOUT_S` for another connection's lock.
    """
    path.parent.mkdir(parents=True, exist_ok=True)
    if autocommit:
        conn = sqlite3.connect(
            str(path), check_same_thread=False, timeout=LOCK_TIMEOUT_S, isolation_level=None
        )
    else:
        conn = sqlite3.connect(str(path), check_same_thread=False, timeout=LOCK_TIMEOUT_S)
    while_locked(lambda: conn.execute("PRAGMA journal_mode=WAL"))
    return conn


def connect(path: Path | None, read_only: bool) -> sqlite3.Connection:
    """A connection to one of the store's databases.

    Args:
        path: Database file; ``None`` for an in-memory database (tests).
        read_only: Open an existing file read-only (index snapshots).

    Returns:
        The connection; a writable file one is in WAL mode, ``synchronous=NORMAL``, and zeroes
        what it replaces or deletes.
    """
    if path is None:
        return sqlite3.connect(":memory:", check_same_thread=False)
    if read_only:
        conn = sqlite3.connect(f"file:{path}?mode=ro", uri=True, check_same_thread=False)
    else:
        conn = open_wal(path)
        conn.execute("PRAGMA synchronous=NORMAL")
        # Replaced or deleted rows are zeroed, not left in free pages: text stored before it
        # was masked (or by an older masking version) does not linger in the file.
        conn.execute("PRAGMA secure_delete=ON")
    return conn


def truncate_wal(conn: sqlite3.Connection) -> bool:
    """Copy the write-ahead log into the database file and truncate it to zero bytes.

    Rows deleted with ``secure_delete`` are zeroed in the database file, but the WAL still holds
    the pages as they were before; after this, no copy of them is left in ``-wal``. Other
    connections reading at that moment are waited for (up to the lock timeout).

    Args:
        conn: A writable connection to a file database.

    Returns:
        Whether the log was checkpointed and truncated completely (``False``: a reader kept
        it busy past the timeout; the next checkpoint finishes it).
    """
    row = conn.execute("PRAGMA wal_checkpoint(TRUNCATE)").fetchone()
    return row is None or int(row[0]) == 0


class SideDatabase:
    """A small SQLite file of its own beside ``kb.sqlite`` holding one table.

    Logs and drafts live apart from the store so that ingests and index snapshots never copy
    or lock them.

    Args:
        path: Database file; ``None`` for an in-memory database (tests).
        table: The table's name.
        columns: Its columns, as sqlite-utils takes them.
        pk: Its primary key.
        index: Columns to index, if any.
    """

    def __init__(
        self,
        path: Path | None,
        table: str,
        columns: dict[str, Any],
        *,
        pk: str | tuple[str, ...] = "id",
        index: Sequence[str] = (),
    ) -> None:
        import sqlite_utils

        self.path = path
        self._table = table
        self._pk = pk
        self._lock = threading.Lock()
        self._db = sqlite_utils.Database(connect(path, read_only=False))

        def create() -> None:
            self._db.table(table).create(columns, pk=pk, if_not_exists=True)
            # A file from before a column was kept (feedback's actor, a record's closed_by)
            # gains it, empty for the rows it has.
            existing = self._db.table(table).columns_dict
            for name, kind in columns.items():
                if name not in existing:
                    try:
                        self._db.table(table).add_column(name, kind)
                    except sqlite3.OperationalError as exc:  # another process added it
                        if "duplicate column" not in str(exc):
                            raise
            if index:
                self._db.table(table).create_index(list(index), if_not_exists=True)

        # Several processes (`kb serve --workers N`) may open a fresh file at once.
        while_locked(create)

    def delete_rows(self, keys: Sequence[Any]) -> int:
        """Remove the rows with these primary keys (zeroed in the file: ``secure_delete``).

        Only for a table with a one-column key; the logs are otherwise append-only, and this
        serves erasure (:mod:`kb.index.erase`) alone.

        Args:
            keys: Primary-key values; unknown ones are ignored.

        Returns:
            How many rows were removed.
        """
        if not isinstance(self._pk, str):
            raise TypeError(f"{self._table} has a composite key: delete_rows cannot address rows")
        return self.delete_where_in(self._pk, keys)

    def distinct(self, column: str) -> set[Any]:
        """Every value of ``column`` in the table."""
        with self._lock:
            return {
                row[0] for row in self._db.execute(f"select distinct {column} from {self._table}")
            }

    def delete_where_in(self, column: str, values: Iterable[Any]) -> int:
        """Remove the rows whose ``column`` is one of ``values``, in one transaction.

        Args:
            column: A column of the table.
            values: Its values; unknown ones are ignored.

        Returns:
            How many rows were removed.
        """
        removed = 0
        with self._lock, write_transaction(self._db):
            for part, marks in in_parts(values):
                cur = self._db.execute(
                    f"delete from {self._table} where {column} in ({marks})", part
                )
                removed += cur.rowcount
        return removed

    def prune_before(self, cutoff: str, *, dry_run: bool = False) -> int:
        """Remove the rows written before ``cutoff`` (``created_at``, ISO 8601 UTC).

        Args:
            cutoff: Rows with an earlier ``created_at`` go.
            dry_run: Only count them.

        Returns:
            How many rows were (or would be) removed.
        """
        where = f"from {self._table} where created_at < ?"
        with self._lock:
            if dry_run:
                return int(self._db.execute(f"select count(*) {where}", [cutoff]).fetchone()[0])
            with write_transaction(self._db):
                return int(self._db.execute(f"delete {where}", [cutoff]).rowcount)

    def compact(self) -> bool:
        """Truncate the write-ahead log after deletions (:func:`truncate_wal`); in-memory: True."""
        if self.path is None:
            return True
        with self._lock:
            return truncate_wal(self._db.conn)

    def close(self) -> None:
        """Close the connection."""
        self._db.close()
