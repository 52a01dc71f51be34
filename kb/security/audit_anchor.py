"""The audit log's anchor: its head written outside the database at every append.

A hash chain cannot show that its *latest* events were removed, and whoever can rewrite the
database could rebuild a shorter or altered chain. So every append also writes one line,
``SEQ HASH TIME``, to an append-only text file kept outside ``DATA_DIR`` (``KB_AUDIT_ANCHOR``,
default ``<DATA_DIR>-audit/audit.anchor``), opened with ``O_APPEND`` for each line, and
optionally sends it to syslog (``KB_AUDIT_SYSLOG``). :func:`compare` then finds events that
were edited, deleted, inserted or cut off the end, whatever was done to the database.
"""

from __future__ import annotations

import datetime as dt
import logging
import os
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path

from kb.errors import AuditError

log = logging.getLogger(__name__)

_LINE = re.compile(r"^(\d+) ([0-9a-f]{64}) (\S+)$")


@dataclass(frozen=True)
class AnchorEntry:
    """One line of the anchor file: the event ``seq`` had the hash ``hash`` when written."""

    seq: int
    hash: str
    created_at: str
    line: int
    """Line number in the anchor file (1-based), for messages."""


@dataclass(frozen=True)
class AnchorRead:
    """What the anchor file holds: its entries and the lines that could not be read."""

    entries: tuple[AnchorEntry, ...]
    problems: tuple[str, ...] = ()


class Anchor:
    """The append-only anchor file of one audit log.

    Args:
        path: The anchor file.
        log_path: The audit database it anchors (named in the file's first line).
        syslog: Also send every line to syslog.
    """

    def __init__(self, path: Path, *, log_path: Path | None = None, syslog: bool = False) -> None:
        self.path = path
        self.log_path = log_path
        self.syslog = syslog

    def exists(self) -> bool:
        return self.path.exists()

    def size(self) -> int:
        """Bytes in the file now (0 when it does not exist)."""
        try:
            return self.path.stat().st_size
        except FileNotFoundError:
            return 0

    def _open(self, seq: int) -> int:
        flags = os.O_WRONLY | os.O_APPEND
        try:
            return os.open(self.path, flags)
        except FileNotFoundError:
            pass
        self.path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
        try:
            fd = os.open(self.path, flags | os.O_CREAT | os.O_EXCL, 0o600)
        except FileExistsError:  # another process created it meanwhile
            return os.open(self.path, flags)
        now = dt.datetime.now(dt.UTC).isoformat(timespec="seconds")
        header = (
            f"# kb audit anchor of {self.log_path or '-'}: one line per event, SEQ HASH TIME; "
            f"started {now} at event {seq}; append only, never edit\n"
        )
        os.write(fd, header.encode("utf-8"))
        return fd

    def append(self, seq: int, digest: str, created_at: str) -> None:
        """Write the line of event ``seq`` (one ``write``, so lines never interleave).

        Raises:
            AuditError: The file cannot be created or written (the event must not count).
        """
        line = f"{seq} {digest} {created_at}\n".encode("ascii")
        try:
            fd = self._open(seq)
            try:
                if os.write(fd, line) != len(line):
                    raise OSError(28, "short write")
            finally:
                os.close(fd)
        except OSError as exc:
            raise AuditError(
                f"{self.path}: cannot write the audit anchor ({exc.strerror or exc}); nothing "
                "was recorded. Check the disk and that the user kb runs as may write there "
                "(KB_AUDIT_ANCHOR)"
            ) from exc

    def cut(self, size: int) -> None:
        """Cut the file back to ``size`` bytes: the line of an event that was not stored.

        Only the writer holding the audit database's write lock calls this, for the line it
        wrote itself (a whole one, or half of one on a full disk). Failures are logged: the
        append already fails, and ``kb audit verify`` names a line left behind.
        """
        try:
            if self.path.stat().st_size > size:
                os.truncate(self.path, size)
        except FileNotFoundError:
            return
        except OSError:
            log.error("could not cut the anchor line of an audit event not stored", exc_info=True)

    def to_syslog(self, seq: int, digest: str) -> None:
        """Send the head to syslog when configured (a copy: failures are only logged)."""
        if not self.syslog:
            return
        try:
            import syslog

            facility = getattr(syslog, "LOG_AUTHPRIV", syslog.LOG_AUTH)
            syslog.syslog(
                facility | syslog.LOG_INFO, f"kb-audit {self.log_path} seq={seq} hash={digest}"
            )
        except (ImportError, OSError):
            log.warning("could not send the audit head to syslog", exc_info=True)

    def read(self, *, limit: int | None = None) -> AnchorRead:
        """Every entry of the file; unreadable lines are named, never skipped silently.

        Args:
            limit: Read only this many bytes (the size the file had at a known moment).

        Raises:
            AuditError: The file exists but cannot be read.
        """
        try:
            with self.path.open("rb") as f:
                data = f.read() if limit is None else f.read(limit)
            text = data.decode("utf-8", errors="replace")
        except FileNotFoundError:
            return AnchorRead(entries=())
        except OSError as exc:
            raise AuditError(f"{self.path}: cannot read the audit anchor: {exc.strerror}") from exc
        entries: list[AnchorEntry] = []
        problems: list[str] = []
        lines = text.split("\n")
        if lines and lines[-1] == "":
            lines.pop()
        for number, raw in enumerate(lines, start=1):
            if raw.startswith("#"):
                continue
            match = _LINE.match(raw)
            if match is None:
                shown = raw if len(raw) <= 80 else raw[:80] + "…"
                problems.append(
                    f"{self.path}:{number}: not an anchor line (SEQ HASH TIME): {shown!r}"
                )
                continue
            entries.append(AnchorEntry(int(match[1]), match[2], match[3], number))
        return AnchorRead(entries=tuple(entries), problems=tuple(problems))


def ranges(seqs: Iterable[int]) -> str:
    """``1, 4-7, 9`` for the numbers ``seqs``."""
    ordered = sorted(set(seqs))
    parts: list[str] = []
    start = prev = None
    for n in [*ordered, None]:
        if n is not None and prev is not None and n == prev + 1:
            prev = n
            continue
        if start is not None:
            parts.append(str(start) if start == prev else f"{start}-{prev}")
        start = prev = n
    return ", ".join(parts)


def _events(seqs: Iterable[int]) -> str:
    listed = sorted(set(seqs))
    return f"event {listed[0]}" if len(listed) == 1 else f"events {ranges(listed)}"


def compare(
    hashes: Mapping[int, str], keyed: Iterable[int], read: AnchorRead, where: Path
) -> list[str]:
    """What differs between the log and its anchor.

    Args:
        hashes: Hash of every event in the log, by sequence number.
        keyed: The events signed with the key: each must have its anchor line (events of an
            old plain SHA-256 log were written before there was an anchor).
        read: The anchor file's content.
        where: The anchor file (for messages).

    Returns:
        One line per kind of difference, naming the events.
    """
    problems = list(read.problems)
    last = max(hashes, default=0)
    anchored: dict[int, AnchorEntry] = {}
    altered: list[str] = []
    gone: list[int] = []
    cut: list[int] = []
    for entry in read.entries:
        earlier = anchored.get(entry.seq)
        if earlier is not None and earlier.hash != entry.hash:
            problems.append(
                f"event {entry.seq}: anchored twice with different hashes "
                f"({where}:{earlier.line} and :{entry.line})"
            )
        anchored[entry.seq] = entry
        stored = hashes.get(entry.seq)
        if stored is None:
            (cut if entry.seq > last else gone).append(entry.seq)
        elif stored != entry.hash:
            altered.append(
                f"event {entry.seq}: its hash is not the one anchored at {where}:{entry.line} "
                "(altered, replaced or re-chained)"
            )
    problems.extend(altered)
    if gone:
        problems.append(f"{_events(gone)}: anchored but missing from the log (deleted)")
    if cut:
        problems.append(
            f"{_events(cut)}: anchored but missing from the end of the log (truncated, or kb "
            f"was stopped between anchoring an event and storing it: the log ends at event "
            f"{last}, the anchor at event {max(cut)})"
        )
    loose = [seq for seq in keyed if seq not in anchored]
    if loose:
        problems.append(
            f"{_events(loose)}: not in the anchor {where} (inserted behind kb's back, or the "
            "anchor file was replaced or lost)"
        )
    return problems
