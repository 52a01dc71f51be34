"""The audit log's HMAC key, kept outside ``DATA_DIR``.

Every event of the audit log carries an HMAC-SHA256 of its content and of the event before
it. Without this key nobody can compute those, so whoever holds only ``audit.sqlite`` (a copy,
or write access to the data directory) cannot edit events and re-chain the rest: ``kb audit
verify`` reports every event whose HMAC does not match.

The key is the text ``KB_AUDIT_KEY`` or the content of ``KB_AUDIT_KEY_FILE`` (default
``<DATA_DIR>-audit/audit.key``): at least :data:`MIN_KEY_CHARS` characters, used as UTF-8
bytes. A missing key file is created on first use (64 hex characters from
``secrets.token_bytes(32)``, mode 0600, in a 0700 folder) -- but only while the log holds no
keyed event yet: a lost key is an error, never silently replaced by a new one.
"""

from __future__ import annotations

import contextlib
import hashlib
import hmac
import os
import secrets
import stat
from dataclasses import dataclass, field
from pathlib import Path

from kb.errors import AuditError
from kb.messages import msg

MIN_KEY_CHARS = 32
"""Shortest key accepted (the generated ones have 64 hex characters, 256 bits)."""

_KEY_ID_LABEL = b"kb audit key id"


@dataclass(frozen=True)
class AuditKey:
    """The secret that signs the audit log, and where it came from (for messages)."""

    secret: bytes = field(repr=False)
    source: str
    """``KB_AUDIT_KEY`` or the key file's path."""

    def sign(self, payload: bytes) -> str:
        """HMAC-SHA256 of ``payload`` as 64 hex characters."""
        return hmac.new(self.secret, payload, hashlib.sha256).hexdigest()

    @property
    def key_id(self) -> str:
        """A public fingerprint of the key (stored in the log to tell keys apart)."""
        return self.sign(_KEY_ID_LABEL)[:16]


def key_from_value(value: str, source: str = "KB_AUDIT_KEY") -> AuditKey:
    """The key given as text (``KB_AUDIT_KEY``, or a key file's content).

    Raises:
        AuditError: Shorter than :data:`MIN_KEY_CHARS` characters.
    """
    text = value.strip()
    if len(text) < MIN_KEY_CHARS:
        raise AuditError(
            f"{source}: the audit key has {len(text)} characters; it needs at least "
            f"{MIN_KEY_CHARS} (e.g. python -c 'import secrets; print(secrets.token_hex(32))')"
        )
    return AuditKey(text.encode("utf-8"), source)


def read_key_file(path: Path) -> AuditKey:
    """The key in ``path``, which only its owner may read.

    Raises:
        AuditError: The file is missing, not a regular file, readable or writable by group or
            others, unreadable, or holds too short a key.
    """
    try:
        info = path.stat()
    except FileNotFoundError as exc:
        raise AuditError(msg("audit.key_absent", path=path)) from exc
    except OSError as exc:
        raise AuditError(msg("audit.key_unreadable", path=path, problem=exc.strerror)) from exc
    if not stat.S_ISREG(info.st_mode):
        raise AuditError(msg("audit.key_not_file", path=path))
    if os.name == "posix" and info.st_mode & 0o077:
        mode = f"{stat.S_IMODE(info.st_mode):04o}"
        raise AuditError(msg("audit.key_open_mode", path=path, mode=mode))
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise AuditError(msg("audit.key_unreadable", path=path, problem=exc)) from exc
    return key_from_value(text, str(path))


def create_key_file(path: Path) -> AuditKey:
    """Write a new random key to ``path`` (0600), or read the one another process just wrote.

    The key is written to a private temporary file first and linked into place, so a second
    process never reads a half-written key and two processes never write two keys.

    Raises:
        AuditError: The folder or the file cannot be created.
    """
    try:
        path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
    except OSError as exc:
        raise AuditError(
            f"{path.parent}: cannot create the folder of the audit key ({exc.strerror}); "
            "create it for the user kb runs as, or set KB_AUDIT_KEY_FILE"
        ) from exc
    tmp = path.parent / f".{path.name}.{secrets.token_hex(4)}.tmp"
    try:
        _write_new(tmp, (secrets.token_bytes(32).hex() + "\n").encode("ascii"))
        try:
            os.link(tmp, path)
        except FileExistsError:
            pass  # another process was first: use its key
        except OSError:
            # A file system without hard links: create the file itself, never overwriting.
            with contextlib.suppress(FileExistsError):
                _write_new(path, tmp.read_bytes())
    except OSError as exc:
        raise AuditError(
            f"{path}: cannot create the audit key file ({exc.strerror}); create its folder for "
            "the user kb runs as, or set KB_AUDIT_KEY_FILE"
        ) from exc
    finally:
        with contextlib.suppress(OSError):
            tmp.unlink()
    return read_key_file(path)


def _write_new(path: Path, data: bytes) -> None:
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    try:
        os.write(fd, data)
        os.fsync(fd)
    finally:
        os.close(fd)


def load_key(path: Path, *, create: bool) -> AuditKey:
    """The key in ``path``; created there first when missing and ``create`` is true."""
    if create and not path.exists():
        return create_key_file(path)
    return read_key_file(path)
