"""The data folder's locks: one writer at a time across processes, private uploads, clean-up."""

from __future__ import annotations

import os
import signal
import stat
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest

from kb.errors import BusyError
from kb.index.lock import (
    UPLOADS_LOCK,
    FileLock,
    LockHolder,
    UploadFolder,
    create_private_file,
    holds_writer_lock,
    read_holder,
    remove_abandoned_uploads,
    writer_holder,
    writer_lock,
)
from kb.index.update import clean_leftovers
from kb.settings import Settings

HOLD = """
import sys, time
from kb.index.lock import writer_lock
from kb.settings import Settings
with writer_lock(Settings(data_dir=sys.argv[1]), "ingest"):
    print("held", flush=True)
    time.sleep(120)
"""


@pytest.fixture
def settings(tmp_path: Path) -> Settings:
    return Settings(data_dir=tmp_path / "data")


def _mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


def test_a_second_writer_is_refused_with_the_holder_named(settings: Settings) -> None:
    assert writer_holder(settings) is None
    with writer_lock(settings, "ingest") as held:
        assert held.pid == os.getpid()
        assert holds_writer_lock(settings, held)
        assert writer_holder(settings) == held
        assert _mode(settings.writer_lock_path) == 0o600
        with pytest.raises(BusyError) as caught, writer_lock(settings, "build"):
            pytest.fail("two writers at once")
        message = str(caught.value)
        assert "別の取り込み・索引作成が実行中です" in message
        assert "another ingest or build is running" in message
        assert f"pid {os.getpid()}, ingest, since {held.since}" in message
        assert "retry the build" in message
    # Released: the record is cleared and the next writer gets the lock at once.
    assert read_holder(settings.writer_lock_path) is None
    assert writer_holder(settings) is None
    with writer_lock(settings, "build") as again:
        assert again.what == "build"
        assert not holds_writer_lock(settings, held)


def test_a_waiting_writer_says_for_whom_then_gets_the_lock(settings: Settings) -> None:
    release = threading.Event()
    taken = threading.Event()

    def first() -> None:
        with writer_lock(settings, "ingest"):
            taken.set()
            release.wait(10)

    thread = threading.Thread(target=first)
    thread.start()
    assert taken.wait(10)
    seen: list[LockHolder | None] = []

    def on_wait(holder: LockHolder | None) -> None:
        seen.append(holder)
        threading.Timer(0.3, release.set).start()

    started = time.monotonic()
    with writer_lock(settings, "build", wait=10, on_wait=on_wait) as held:
        assert held.what == "build"
    thread.join()
    assert len(seen) == 1
    assert seen[0] is not None
    assert (seen[0].what, seen[0].pid) == ("ingest", os.getpid())
    assert 0.2 < time.monotonic() - started < 5


def test_a_waiting_priority_writer_keeps_the_others_out(settings: Settings) -> None:
    wanted = settings.writer_lock_path.with_name("write.lock.wanted")
    settings.writer_lock_path.parent.mkdir(parents=True, exist_ok=True)
    wanted.touch()  # an erasure is waiting: the free lock is not for an ordinary writer
    with pytest.raises(BusyError), writer_lock(settings, "record.close"):
        pytest.fail("took the lock from a waiting erasure")
    with writer_lock(settings, "delete", priority=True) as held:
        assert held.what == "delete"
    os.utime(wanted, (time.time() - 10, time.time() - 10))  # its waiter died long ago
    with writer_lock(settings, "record.close"):
        pass


def test_a_priority_writer_is_not_kept_out_by_writers_that_follow_one_another(
    settings: Settings,
) -> None:
    # A key closing record after record: each close takes the lock the moment the last one
    # lets it go, so a writer polling every 0.2 s never finds it free.
    stop = threading.Event()
    closes: list[int] = []

    def closer() -> None:
        while not stop.is_set():
            try:
                with writer_lock(settings, "record.close"):
                    closes.append(1)
                    time.sleep(0.05)
            except BusyError:
                time.sleep(0.01)

    threads = [threading.Thread(target=closer) for _ in range(2)]
    for thread in threads:
        thread.start()
    try:
        while not closes:
            time.sleep(0.01)
        with writer_lock(settings, "delete", wait=5, priority=True) as held:
            assert held.what == "delete"
        assert not settings.writer_lock_path.with_name("write.lock.wanted").exists()
    finally:
        stop.set()
        for thread in threads:
            thread.join()


def test_waiting_gives_up_after_the_timeout(settings: Settings) -> None:
    with writer_lock(settings, "ingest"):
        started = time.monotonic()
        with (
            pytest.raises(BusyError, match=r"still running after 0\.5 s") as caught,
            writer_lock(settings, "build", wait=0.5),
        ):
            pytest.fail("two writers at once")
        assert "KB_WRITER_LOCK_WAIT" in str(caught.value)
        assert 0.4 < time.monotonic() - started < 3


def test_the_lock_is_shared_by_processes_and_freed_when_its_holder_is_killed(
    settings: Settings,
) -> None:
    proc = subprocess.Popen(
        [sys.executable, "-c", HOLD, str(settings.data_dir)],
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        assert proc.stdout is not None
        assert proc.stdout.readline().strip() == "held"
        holder = writer_holder(settings)
        assert holder is not None
        assert (holder.pid, holder.what) == (proc.pid, "ingest")
        with (
            pytest.raises(BusyError, match=f"pid {proc.pid}, ingest"),
            writer_lock(settings, "build"),
        ):
            pytest.fail("two writers in two processes")
    finally:
        proc.send_signal(signal.SIGKILL)
        proc.wait(30)
    # The kernel released the killed holder's lock; its stale record does not matter.
    assert writer_holder(settings) is None
    with writer_lock(settings, "build") as held:
        assert held.pid == os.getpid()


def test_file_locks_exclude_each_other_but_shared_ones_do_not(tmp_path: Path) -> None:
    path = tmp_path / "sub" / "x.lock"
    a, b, c = FileLock(path), FileLock(path), FileLock(path)
    assert a.try_acquire(shared=True)
    assert b.try_acquire(shared=True)
    assert not c.try_acquire()
    a.release()
    b.release()
    assert c.try_acquire()
    assert not a.try_acquire(shared=True)
    with pytest.raises(RuntimeError, match="already held"):
        c.try_acquire()
    c.release()
    c.release()  # a second release is a no-op
    assert a.try_acquire()
    a.release()


def test_uploads_are_private_and_removed_afterwards(settings: Settings) -> None:
    old_umask = os.umask(0)  # the most permissive umask: modes must not depend on it
    try:
        with UploadFolder(settings) as folder:
            with create_private_file(folder / "faq.csv") as out:
                out.write(b"id,question\n")
            with pytest.raises(FileExistsError):
                create_private_file(folder / "faq.csv")
            assert _mode(settings.uploads_dir) == 0o700
            assert _mode(folder) == 0o700
            assert _mode(folder / "faq.csv") == 0o600
            # In use: a clean-up (another process starting) leaves it alone.
            assert remove_abandoned_uploads(settings) == 0
            assert (folder / "faq.csv").exists()
    finally:
        os.umask(old_umask)
    assert not folder.exists()
    assert [p.name for p in settings.uploads_dir.iterdir()] == [UPLOADS_LOCK]


def test_an_existing_uploads_folder_is_made_private_again(settings: Settings) -> None:
    settings.uploads_dir.mkdir(parents=True, mode=0o755)
    settings.uploads_dir.chmod(0o755)
    upload = UploadFolder(settings)
    try:
        assert _mode(settings.uploads_dir) == 0o700
    finally:
        upload.close()
    assert not upload.path.exists()


def test_uploads_left_by_a_crash_are_removed_at_the_next_start(settings: Settings) -> None:
    crashed = settings.uploads_dir / "0123456789abcdef"
    crashed.mkdir(parents=True)
    (crashed / "cases.csv").write_text("相談者 山田太郎", encoding="utf-8")
    (settings.uploads_dir / "stray.csv").write_text("x", encoding="utf-8")
    left = clean_leftovers(settings)
    assert (left.builds, left.uploads, left.writer_busy) == (0, 2, False)
    assert left
    assert "removed 0 abandoned index build(s) and 2 upload folder(s)" in left.describe()
    assert [p.name for p in settings.uploads_dir.iterdir()] == [UPLOADS_LOCK]


def test_clean_leftovers_removes_building_folders_only_under_the_writer_lock(
    settings: Settings,
) -> None:
    building = settings.index_root / ".building-20260101T000000000000-abcdef"
    building.mkdir(parents=True)
    (building / "vectors.npy").write_bytes(b"\0" * 64)
    with writer_lock(settings, "ingest") as held:
        # Another writer runs (this one): its build folder may be in use.
        busy = clean_leftovers(settings)
        assert busy.writer_busy
        assert not busy
        assert building.exists()
        # The holder itself knows no build of its own has started yet.
        assert clean_leftovers(settings, held).builds == 1
    assert not building.exists()
    building.mkdir()
    assert clean_leftovers(settings).builds == 1
    assert not building.exists()
    with pytest.raises(RuntimeError, match="not held"):
        clean_leftovers(settings, held)


def test_clean_leftovers_creates_nothing_in_a_missing_data_folder(settings: Settings) -> None:
    assert not clean_leftovers(settings)
    assert not settings.data_dir.exists()
