"""API keys: created and revoked by an administrator, stored only as SHA-256 hashes.

A key looks like ``kb_1a2b3c4d_<43 random characters>``: ``kb_`` marks it as a kb key (so
secret scanners and people recognise it), ``1a2b3c4d`` is its public id (shown by
``kb keys list`` and recorded in the audit log), and the rest is
``secrets.token_urlsafe(32)``, 256 bits from the operating system's CSPRNG.

Why a plain SHA-256 and no salt or slow hash: those protect *low-entropy* secrets (passwords)
against guessing once the hash file leaks. A 256-bit random key cannot be guessed at any
speed, so a fast hash loses nothing, and it lets every request be checked in microseconds. A
stolen ``keys.sqlite`` yields no usable key.

A presented key is looked up by its public id and its hash compared with
:func:`hmac.compare_digest`, so the comparison time does not depend on how many leading
characters are right. Unknown ids are compared against a dummy hash for the same reason.
Keys may carry an expiry (``--expires-days``); an expired key fails like a revoked one.
Revoking keeps the row (with ``revoked_at``) for the audit trail; a trigger refuses every other
change to a stored key, so a revoked key cannot come back, no expiry can be extended and no
hash can be swapped.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import hmac
import re
import secrets
import sqlite3
import threading
import unicodedata
from dataclasses import dataclass
from pathlib import Path
from typing import Literal

from kb.errors import AccessError
from kb.messages import msg
from kb.security._sqlite import connect
from kb.security.roles import ROLES, Role, parse_role
from kb.store import while_locked

PREFIX = "kb_"
_KEY_RE = re.compile(r"kb_([0-9a-f]{8})_([A-Za-z0-9_-]{43})")
_NAME_RE = re.compile(r"[\w.@+-]{1,64}")
_DUMMY_HASH = hashlib.sha256(b"kb: no such key").hexdigest()

_SCHEMA = f"""
CREATE TABLE IF NOT EXISTS api_keys (
    key_id TEXT PRIMARY KEY,
    name TEXT NOT NULL,
    role TEXT NOT NULL CHECK (role IN ({", ".join(repr(r) for r in ROLES)})),
    key_hash TEXT NOT NULL,
    created_at TEXT NOT NULL,
    revoked_at TEXT,
    expires_at TEXT
);
CREATE UNIQUE INDEX IF NOT EXISTS api_keys_active_name
    ON api_keys (name) WHERE revoked_at IS NULL;
"""

_TRIGGERS = """
CREATE TRIGGER IF NOT EXISTS api_keys_only_revoke BEFORE UPDATE ON api_keys
WHEN OLD.revoked_at IS NOT NULL OR NEW.revoked_at IS NULL
    OR NEW.key_id IS NOT OLD.key_id OR NEW.name IS NOT OLD.name OR NEW.role IS NOT OLD.role
    OR NEW.key_hash IS NOT OLD.key_hash OR NEW.created_at IS NOT OLD.created_at
    OR NEW.expires_at IS NOT OLD.expires_at
BEGIN
    SELECT RAISE(ABORT, 'api keys can only be revoked, never changed or restored');
END;
CREATE TRIGGER IF NOT EXISTS api_keys_no_delete BEFORE DELETE ON api_keys
BEGIN
    SELECT RAISE(ABORT, 'api keys are revoked, never deleted');
END;
"""

Verdict = Literal["ok", "malformed", "unknown", "revoked", "expired"]


def _now() -> str:
    return dt.datetime.now(dt.UTC).isoformat(timespec="milliseconds")


def hash_key(key: str) -> str:
    """The stored form of ``key``: hex SHA-256 (see the module docstring for why)."""
    return hashlib.sha256(key.encode("utf-8")).hexdigest()


def key_id_of(key: str) -> str:
    """The public id inside a well-formed key, or ``""`` (never echoes the secret part)."""
    match = _KEY_RE.fullmatch(key)
    return match.group(1) if match else ""


@dataclass(frozen=True)
class ApiKey:
    """A stored key, without its secret."""

    name: str
    role: Role
    key_id: str
    created_at: str
    revoked_at: str = ""
    expires_at: str = ""
    """UTC time after which the key stops working; ``""``: it does not expire."""

    def expired(self, now: str = "") -> bool:
        return bool(self.expires_at) and (now or _now()) >= self.expires_at

    @property
    def active(self) -> bool:
        """Neither revoked nor expired."""
        return not self.revoked_at and not self.expired()


@dataclass(frozen=True)
class KeyCheck:
    """The outcome of checking a presented key: the key when ``verdict == "ok"``."""

    verdict: Verdict
    key: ApiKey | None = None
    key_id: str = ""
    """The public id of the presented key when it was well-formed (for the audit log)."""


def _row_key(row: sqlite3.Row) -> ApiKey:
    return ApiKey(
        name=row["name"],
        role=parse_role(row["role"]),
        key_id=row["key_id"],
        created_at=row["created_at"],
        revoked_at=row["revoked_at"] or "",
        expires_at=row["expires_at"] or "",
    )


def _folded(name: str) -> str:
    """``name`` as it reads: width and case folded (full-width DEMO, DEMO and demo are one)."""
    return unicodedata.normalize("NFKC", name).casefold()


class KeyStore:
    """The API keys of one installation (``DATA_DIR/keys.sqlite``).

    Every check reads the database, so a key revoked with the CLI stops working on a running
    server at its next request.

    Args:
        path: Database file; ``None`` for an in-memory store (tests).
    """

    def __init__(self, path: Path | None = None) -> None:
        self.path = path
        self._lock = threading.Lock()
        self._db = connect(path)
        with self._lock:
            while_locked(lambda: self._db.executescript(_SCHEMA))
            columns = {r["name"] for r in self._db.execute("PRAGMA table_info(api_keys)")}
            if "expires_at" not in columns:  # a key file from before expiry existed
                self._db.execute("ALTER TABLE api_keys ADD COLUMN expires_at TEXT")
                self._db.execute("DROP TRIGGER IF EXISTS api_keys_only_revoke")
            self._db.executescript(_TRIGGERS)

    def create(
        self, name: str, role: str, *, expires_days: float | None = None
    ) -> tuple[ApiKey, str]:
        """Create a key for ``name`` with ``role``, valid for ``expires_days`` (``None``: always).

        Returns:
            The stored key and its secret. The secret is not kept anywhere: show it once.

        Raises:
            AccessError: Bad name or role, or an active key already has this name.
        """
        if not _NAME_RE.fullmatch(name):
            raise AccessError(msg("keys.bad_name", name=repr(name[:80])[1:-1]))
        checked = parse_role(role)
        expires = ""
        if expires_days is not None:
            if not 0 < expires_days <= 3650:
                raise AccessError(msg("keys.bad_expiry", days=expires_days))
            expires = (dt.datetime.now(dt.UTC) + dt.timedelta(days=expires_days)).isoformat(
                timespec="milliseconds"
            )
        with self._lock:
            # A name that reads as an active one (DEMO in full width beside demo) would pass
            # for it in the audit log and count as a second approver.
            folded = _folded(name)
            for (active,) in self._db.execute(
                "SELECT name FROM api_keys WHERE revoked_at IS NULL"
            ).fetchall():
                if active != name and _folded(active) == folded:
                    raise AccessError(msg("keys.name_like", name=name, active=active), "conflict")
            for _ in range(8):  # a 32-bit id can collide; draw again
                key_id = secrets.token_hex(4)
                secret = f"{PREFIX}{key_id}_{secrets.token_urlsafe(32)}"
                record = ApiKey(
                    name=name,
                    role=checked,
                    key_id=key_id,
                    created_at=_now(),
                    expires_at=expires,
                )
                try:
                    self._db.execute(
                        "INSERT INTO api_keys (key_id, name, role, key_hash, created_at,"
                        " expires_at) VALUES (?, ?, ?, ?, ?, ?)",
                        (
                            key_id,
                            name,
                            checked,
                            hash_key(secret),
                            record.created_at,
                            expires or None,
                        ),
                    )
                except sqlite3.IntegrityError as exc:
                    if "api_keys.name" in str(exc) or "active_name" in str(exc):
                        raise AccessError(msg("keys.name_taken", name=name), "conflict") from exc
                    continue
                return record, secret
        raise AccessError(msg("keys.no_free_id"))

    def revoke(self, name: str) -> ApiKey:
        """Revoke the active key named ``name``; :class:`AccessError` if there is none."""
        with self._lock:
            row = self._db.execute(
                "SELECT * FROM api_keys WHERE name = ? AND revoked_at IS NULL", (name,)
            ).fetchone()
            if row is None:
                raise AccessError(msg("keys.no_such_key", name=name[:80]), "not_found")
            revoked = _now()
            self._db.execute(
                "UPDATE api_keys SET revoked_at = ? WHERE key_id = ?", (revoked, row["key_id"])
            )
        key = _row_key(row)
        return ApiKey(key.name, key.role, key.key_id, key.created_at, revoked, key.expires_at)

    def list(self, *, include_revoked: bool = True) -> list[ApiKey]:
        """Every key (no secrets, no hashes), oldest first."""
        sql = "SELECT * FROM api_keys"
        if not include_revoked:
            sql += " WHERE revoked_at IS NULL"
        with self._lock:
            # Insertion order (keys are never deleted): two keys made in the same millisecond
            # kept the order of their random ids before.
            rows = self._db.execute(sql + " ORDER BY rowid").fetchall()
        return [_row_key(r) for r in rows]

    def has_active(self) -> bool:
        """Whether any key can currently log in."""
        with self._lock:
            row = self._db.execute(
                "SELECT 1 FROM api_keys WHERE revoked_at IS NULL"
                " AND (expires_at IS NULL OR expires_at > ?) LIMIT 1",
                (_now(),),
            ).fetchone()
        return row is not None

    def check(self, presented: str) -> KeyCheck:
        """Check a key as sent by a client (constant-time hash comparison)."""
        key_id = key_id_of(presented)
        if not key_id:
            return KeyCheck("malformed")
        with self._lock:
            row = self._db.execute("SELECT * FROM api_keys WHERE key_id = ?", (key_id,)).fetchone()
        stored = row["key_hash"] if row is not None else _DUMMY_HASH
        matches = hmac.compare_digest(stored, hash_key(presented))
        if row is None or not matches:
            return KeyCheck("unknown", key_id=key_id)
        if row["revoked_at"]:
            return KeyCheck("revoked", key_id=key_id)
        if row["expires_at"] and _now() >= row["expires_at"]:
            return KeyCheck("expired", key_id=key_id)
        return KeyCheck("ok", key=_row_key(row), key_id=key_id)

    def close(self) -> None:
        with self._lock:
            self._db.close()
