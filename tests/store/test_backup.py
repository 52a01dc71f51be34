"""SQLite copies taken while a database is written, and telling whether another process has it
open (kb.store.backup)."""

from __future__ import annotations

import shutil
import sqlite3
import subprocess
import sys
import threading
from pathlib import Path

import pytest

from kb.store.backup import backup_database, in_use, integrity_check, is_side_file, is_sqlite_file

HOLD_OPEN = """
import sqlite3, sys, time
conn = sqlite3.connect(sys.argv[1])
conn.execute("PRAGMA journal_mode=WAL")
conn.execute("SELECT count(*) FROM t").fetchone()
print("open", flush=True)
time.sleep(60)
"""


def _wal_database(path: Path, rows: int = 100) -> sqlite3.Connection:
    conn = sqlite3.connect(path, check_same_thread=False)
    conn.execute("PRAGMA journal_mode=WAL")
    conn.execute("CREATE TABLE t (id INTEGER PRIMARY KEY, text TEXT)")
    conn.executemany("INSERT INTO t (text) VALUES (?)", [(f"row {i}",) for i in range(rows)])
    conn.commit()
    return conn


def test_the_copy_holds_what_is_still_in_the_wal(tmp_path: Path) -> None:
    conn = _wal_database(tmp_path / "a.sqlite")
    conn.execute("INSERT INTO t (text) VALUES ('committed, only in the WAL')")
    conn.commit()
    # A plain copy of the file alone misses the commit; the online backup has it.
    shutil.copyfile(tmp_path / "a.sqlite", tmp_path / "plain.sqlite")
    backup_database(tmp_path / "a.sqlite", tmp_path / "copy.sqlite")
    conn.close()
    copy = sqlite3.connect(tmp_path / "copy.sqlite")
    assert copy.execute("SELECT count(*) FROM t").fetchone()[0] == 101
    assert copy.execute("PRAGMA journal_mode").fetchone()[0] == "delete"  # one file
    copy.close()
    plain = sqlite3.connect(tmp_path / "plain.sqlite")
    with pytest.raises(sqlite3.OperationalError, match="no such table"):
        plain.execute("SELECT count(*) FROM t")  # every commit was still in the WAL
    plain.close()
    assert integrity_check(tmp_path / "copy.sqlite") == "ok"


def test_copies_taken_while_a_writer_commits_are_consistent_snapshots(tmp_path: Path) -> None:
    conn = _wal_database(tmp_path / "a.sqlite", rows=0)
    stop = threading.Event()

    def write() -> None:
        n = 0
        while not stop.is_set():
            # Two rows per transaction: a torn copy would hold an odd number.
            conn.executemany("INSERT INTO t (text) VALUES (?)", [(f"{n}a",), (f"{n}b",)])
            conn.commit()
            n += 1

    writer = threading.Thread(target=write)
    writer.start()
    try:
        counts = []
        for i in range(20):
            target = tmp_path / f"copy{i}.sqlite"
            backup_database(tmp_path / "a.sqlite", target)
            copy = sqlite3.connect(target)
            counts.append(copy.execute("SELECT count(*) FROM t").fetchone()[0])
            copy.close()
            assert integrity_check(target) == "ok"
    finally:
        stop.set()
        writer.join()
        conn.close()
    assert all(c % 2 == 0 for c in counts)
    assert counts == sorted(counts)
    assert counts[-1] > 0


def test_an_existing_target_is_never_overwritten(tmp_path: Path) -> None:
    _wal_database(tmp_path / "a.sqlite").close()
    (tmp_path / "b.sqlite").write_bytes(b"keep")
    with pytest.raises(FileExistsError):
        backup_database(tmp_path / "a.sqlite", tmp_path / "b.sqlite")
    assert (tmp_path / "b.sqlite").read_bytes() == b"keep"


def test_another_process_holding_the_database_open_is_seen(tmp_path: Path) -> None:
    db = tmp_path / "a.sqlite"
    _wal_database(db).close()
    assert not in_use(db)
    holder = subprocess.Popen(
        [sys.executable, "-c", HOLD_OPEN, str(db)], stdout=subprocess.PIPE, text=True
    )
    try:
        assert holder.stdout is not None
        assert holder.stdout.readline().strip() == "open"
        assert in_use(db)
    finally:
        holder.kill()
        holder.wait()
    assert not in_use(db)  # the kernel released its lock with the process


def test_what_is_a_database_and_what_sits_beside_one(tmp_path: Path) -> None:
    _wal_database(tmp_path / "a.db").close()
    (tmp_path / "notes.txt").write_text("SQLite format 2", encoding="utf-8")
    assert is_sqlite_file(tmp_path / "a.db")
    assert not is_sqlite_file(tmp_path / "notes.txt")
    assert not is_sqlite_file(tmp_path / "missing")
    assert is_side_file(Path("kb.sqlite-wal"))
    assert is_side_file(Path("kb.sqlite-shm"))
    assert not is_side_file(Path("kb.sqlite"))
