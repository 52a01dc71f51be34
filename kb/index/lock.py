"""Locks on the data folder: one writer at a time, and the uploads that are still in use.

* The **writer lock** (``DATA_DIR/write.lock``, :func:`writer_lock`) is held by whatever
  changes the store or the index: ``kb ingest``, ``kb build``, an admin upload or build, a
  trainer's FAQ approval, a deletion. It is an ``fcntl.flock`` on the file, so every process
  on the machine shares it (the command line and every ``kb serve --workers N`` worker) and
  the kernel releases it when its holder dies: a killed build never leaves it held. The
  holder writes who it is into the file (pid, what, since) for the message of whoever has to
  wait. While one holds it, no build is running, so every ``.building-*`` folder left in the
  index root is abandoned (:func:`kb.index.update.clean_leftovers` removes them).
* The **uploads lock** (``DATA_DIR/uploads/.lock``) is held *shared* by every admin upload while
  its files are on disk (:class:`UploadFolder`); the clean-up takes it exclusively
  (:func:`remove_abandoned_uploads`), so it only ever removes what no request is using.

Usage (a deletion, say)::

    with writer_lock(settings, "delete"):
        store.delete_documents(ids)
        rebuild(settings)

Without ``wait`` a busy lock raises :class:`~kb.errors.BusyError` at once (the API answers
409); the command line waits up to ``settings.writer_lock_wait`` seconds and says for whom.
The data folder must be on a local file system (``flock`` is not shared over every network
file system).
"""

from __future__ import annotations

import contextlib
import fcntl
import json
import os
import secrets
import shutil
import socket
import time
from collections.abc import Callable, Iterator
from dataclasses import asdict, dataclass
from datetime import datetime
from pathlib import Path
from typing import BinaryIO

from kb.errors import BusyError
from kb.settings import Settings

POLL_S = 0.2
"""How often a waiting writer tries the lock again."""
UPLOADS_LOCK = ".lock"
_REMOVING = ".removing-"


class FileLock:
    """An ``fcntl.flock`` on one file, opened afresh by each instance.

    Each instance opens the file itself, so two instances exclude each other even in one
    process (two threads of one server); a process that dies releases its locks.

    Args:
        path: The lock file (created with mode 0600, its folder too).
    """

    def __init__(self, path: Path) -> None:
        self.path = path
        self._fd: int | None = None

    @property
    def held(self) -> bool:
        return self._fd is not None

    def try_acquire(self, *, shared: bool = False) -> bool:
        """Take the lock if it is free; ``False`` (at once) if another holder has it."""
        return self._lock(fcntl.LOCK_SH if shared else fcntl.LOCK_EX, blocking=False)

    def acquire(self, *, shared: bool = False) -> None:
        """Take the lock, waiting as long as another holder has it."""
        self._lock(fcntl.LOCK_SH if shared else fcntl.LOCK_EX, blocking=True)

    def _lock(self, mode: int, *, blocking: bool) -> bool:
        if self._fd is not None:
            raise RuntimeError(f"{self.path} is already held by this FileLock")
        self.path.parent.mkdir(parents=True, exist_ok=True)
        fd = os.open(self.path, os.O_RDWR | os.O_CREAT | os.O_CLOEXEC | os.O_NOFOLLOW, 0o600)
        try:
            fcntl.flock(fd, mode if blocking else mode | fcntl.LOCK_NB)
        except BlockingIOError:
            os.close(fd)
            return False
        except BaseException:
            os.close(fd)
            raise
        self._fd = fd
        return True

    def write(self, text: str) -> None:
        """Replace the file's content (only while holding it exclusively)."""
        if self._fd is None:
            raise RuntimeError(f"{self.path} is not held")
        data = text.encode()
        os.ftruncate(self._fd, 0)
        os.pwrite(self._fd, data, 0)

    def release(self) -> None:
        """Let the lock go (closing the file releases it); a no-op if not held."""
        fd, self._fd = self._fd, None
        if fd is not None:
            os.close(fd)


@dataclass(frozen=True)
class LockHolder:
    """Who holds the writer lock, as its holder wrote it into the lock file."""

    pid: int
    what: str
    """``ingest``, ``build``, ``approve``, ``delete``, ``clean-up``..."""
    since: str
    """When it took the lock (ISO 8601, local time with its offset)."""
    host: str = ""

    def describe(self) -> str:
        """``pid 4242, ingest, since 2026-01-05T09:12:03+00:00``."""
        return f"pid {self.pid}, {self.what}, since {self.since}"


def read_holder(path: Path) -> LockHolder | None:
    """The holder recorded in the lock file ``path``; ``None`` if none or unreadable.

    The record is only meaningful while the lock is held: a holder that was killed leaves
    its record behind, and the next holder overwrites it.
    """
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
        return LockHolder(
            pid=int(data["pid"]),
            what=str(data["what"]),
            since=str(data["since"]),
            host=str(data.get("host", "")),
        )
    except (OSError, ValueError, TypeError, KeyError):
        return None


def busy_message(what: str, holder: LockHolder | None, *, waited: float = 0.0) -> str:
    """The message of a :class:`BusyError`: Japanese for staff, then the English wording.

    Args:
        what: What the refused caller wanted to do (``ingest``, ``build``...).
        holder: Who holds the lock, if known.
        waited: Seconds the caller waited before giving up (0: it did not wait).
    """
    ja = f"（{holder.describe()}）" if holder is not None else ""
    en = f" ({holder.describe()})" if holder is not None else ""
    if waited:
        return (
            f"別の取り込み・索引作成が{waited:g}秒待っても終わりません{ja}。"
            "終わってから、もう一度実行してください。"
            f" (another ingest or build is still running after {waited:g} s{en}; "
            f"retry the {what} when it has finished, or raise KB_WRITER_LOCK_WAIT)"
        )
    return (
        f"別の取り込み・索引作成が実行中です{ja}。終わってから、もう一度お試しください。"
        f" (another ingest or build is running{en}; retry the {what} when it has finished)"
    )


def waiting_message(holder: LockHolder | None, wait: float) -> str:
    """What a command prints when it starts waiting for the writer lock."""
    who = holder.describe() if holder is not None else "holder unknown"
    return (
        f"別の取り込み・索引作成の終わりを待っています（{who}）。最大 {wait:g} 秒"
        f"（KB_WRITER_LOCK_WAIT） (waiting for another ingest/build ({who}); up to {wait:g} s)"
    )


def writer_holder(settings: Settings) -> LockHolder | None:
    """Who holds the writer lock right now; ``None`` if it is free.

    Only a probe: the lock may be taken a moment later. Take it with :func:`writer_lock`.
    """
    path = settings.writer_lock_path
    if not path.exists():
        return None
    probe = FileLock(path)
    if probe.try_acquire():
        probe.release()
        return None
    return read_holder(path) or LockHolder(pid=0, what="unknown", since="unknown")


@contextlib.contextmanager
def writer_lock(
    settings: Settings,
    what: str,
    *,
    wait: float = 0.0,
    on_wait: Callable[[LockHolder | None], None] | None = None,
    priority: bool = False,
) -> Iterator[LockHolder]:
    """Hold the data folder's writer lock while changing the store or the index.

    Every ingest, build, FAQ approval and deletion runs inside it, so they never overlap,
    whichever process (command line, server worker) runs them.

    Args:
        settings: Where the data folder is.
        what: What the holder does, for the messages of others (``ingest``, ``delete``...).
        wait: Seconds to wait for another holder to finish; 0: do not wait.
        on_wait: Called once, with the current holder, when the lock is busy and the caller
            is about to wait (the command line prints "waiting for ...").
        priority: An erasure, which must not wait behind a stream of other writers: while
            it waits it keeps ``write.lock.wanted`` fresh, and no other writer takes the lock
            then (one that does not wait gets :class:`BusyError`, as for a held lock). A
            polled ``flock`` has no queue: without this, writers that follow one another
            closely (a key closing record after record) could keep it from the lock for as
            long as they like.

    Yields:
        This holder's record, as written into the lock file.

    Raises:
        BusyError: Another holder has the lock (and kept it for ``wait`` seconds). Its
            message names that holder, in Japanese and in English.
    """
    lock = FileLock(settings.writer_lock_path)
    wanted = lock.path.with_name(lock.path.name + ".wanted")

    def take() -> bool:
        return (priority or not _fresh(wanted)) and lock.try_acquire()

    if not take():
        holder = read_holder(lock.path)
        if wait <= 0:
            raise BusyError(busy_message(what, holder))
        if on_wait is not None:
            on_wait(holder)
        started = time.monotonic()
        try:
            while True:
                if priority:
                    wanted.touch()
                if take():
                    break
                if time.monotonic() - started >= wait:
                    raise BusyError(busy_message(what, read_holder(lock.path), waited=wait))
                time.sleep(POLL_S)
        finally:
            if priority:
                with contextlib.suppress(OSError):
                    wanted.unlink()
    try:
        me = LockHolder(
            pid=os.getpid(),
            what=what,
            since=datetime.now().astimezone().isoformat(timespec="seconds"),
            host=socket.gethostname(),
        )
        lock.write(json.dumps(asdict(me), ensure_ascii=False))
        yield me
    finally:
        with contextlib.suppress(OSError):
            lock.write("")
        lock.release()


WANTED_FRESH_S = 2.0
"""A ``write.lock.wanted`` touched this recently means a priority writer is waiting."""


def _fresh(path: Path) -> bool:
    try:
        return time.time() - path.stat().st_mtime < WANTED_FRESH_S
    except OSError:
        return False


def holds_writer_lock(settings: Settings, holder: LockHolder) -> bool:
    """Whether ``holder`` (yielded by :func:`writer_lock` in this process) still holds it."""
    return holder.pid == os.getpid() and read_holder(settings.writer_lock_path) == holder


# --- uploads ------------------------------------------------------------------------------


def _private_dir(path: Path) -> None:
    """Create ``path`` (mode 0700), or make an existing one private again."""
    path.mkdir(mode=0o700, parents=True, exist_ok=True)
    if path.stat().st_mode & 0o077:
        path.chmod(0o700)


class UploadFolder:
    """A fresh private folder (0700) for one request's uploaded files, removed by :meth:`close`.

    The uploads lock is held shared until then, so :func:`remove_abandoned_uploads` in another
    process never removes it; what a killed process leaves behind is removed at the next start.
    Write files into it with :func:`create_private_file`. Use it as a context manager, or call
    :meth:`close` in a ``finally``.

    Args:
        settings: Where the data folder is.
    """

    def __init__(self, settings: Settings) -> None:
        root = settings.uploads_dir
        _private_dir(root)
        self._lock = FileLock(root / UPLOADS_LOCK)
        self._lock.acquire(shared=True)
        try:
            self.path = root / secrets.token_hex(8)
            self.path.mkdir(mode=0o700)
        except BaseException:
            self._lock.release()
            raise

    def close(self) -> None:
        """Remove the folder and everything in it, then let the uploads lock go."""
        try:
            shutil.rmtree(self.path, ignore_errors=True)
        finally:
            self._lock.release()

    def __enter__(self) -> Path:
        return self.path

    def __exit__(self, *exc: object) -> None:
        self.close()


def create_private_file(path: Path) -> BinaryIO:
    """Open a new file for writing, readable by this user only (0600), whatever the umask.

    Raises:
        FileExistsError: ``path`` exists (nothing is overwritten, no link is followed).
    """
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_NOFOLLOW | os.O_CLOEXEC, 0o600)
    return os.fdopen(fd, "wb")


def remove_abandoned_uploads(settings: Settings) -> int:
    """Remove upload folders left by a killed or crashed process.

    Only when no upload is in use anywhere (the uploads lock is free): the folders are moved
    aside under the lock, which is held for a moment only, and removed after it.

    Returns:
        How many folders (or stray files) were removed; 0 also when an upload is in use.
    """
    root = settings.uploads_dir
    if not root.is_dir():
        return 0
    lock = FileLock(root / UPLOADS_LOCK)
    if not lock.try_acquire():
        return 0
    moved: list[Path] = []
    try:
        for entry in root.iterdir():
            if entry.name == UPLOADS_LOCK:
                continue
            aside = entry
            if not entry.name.startswith(_REMOVING):
                aside = root / f"{_REMOVING}{secrets.token_hex(6)}"
                try:
                    entry.rename(aside)
                except OSError:
                    continue  # not ours to move (another user's file): left for the operator
            moved.append(aside)
    finally:
        lock.release()
    for aside in moved:
        if aside.is_dir() and not aside.is_symlink():
            shutil.rmtree(aside, ignore_errors=True)
        else:
            aside.unlink(missing_ok=True)
    return len(moved)


__all__ = [
    "FileLock",
    "LockHolder",
    "UploadFolder",
    "busy_message",
    "create_private_file",
    "holds_writer_lock",
    "read_holder",
    "remove_abandoned_uploads",
    "waiting_message",
    "writer_holder",
    "writer_lock",
]
