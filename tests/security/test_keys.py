"""API keys: random, shown once, stored only hashed, checked in constant time, revocable."""

from __future__ import annotations

import hashlib
import hmac
import sqlite3
from pathlib import Path

import pytest

from kb.errors import AccessError
from kb.security import keys as keys_module
from kb.security.keys import KeyStore, hash_key, key_id_of
from kb.security.roles import holds, implied_roles, parse_role


@pytest.fixture
def keys(tmp_path: Path) -> KeyStore:
    return KeyStore(tmp_path / "keys.sqlite")


def test_roles_nest_admin_over_trainer_over_staff() -> None:
    assert implied_roles("admin") == {"staff", "trainer", "admin"}
    assert implied_roles("trainer") == {"staff", "trainer"}
    assert implied_roles("staff") == {"staff"}
    assert holds("trainer", "staff")
    assert not holds("staff", "trainer")
    assert not holds("public", "staff")
    with pytest.raises(AccessError, match="役割「root」はありません"):
        parse_role("root")


def test_created_key_checks_ok_and_only_its_hash_is_stored(keys: KeyStore) -> None:
    record, secret = keys.create("desk-1", "staff")
    assert secret.startswith("kb_")
    assert key_id_of(secret) == record.key_id
    assert len(secret) == 3 + 8 + 1 + 43  # kb_ + id + _ + token_urlsafe(32)
    checked = keys.check(secret)
    assert checked.verdict == "ok"
    assert checked.key == record
    keys.close()
    raw = keys.path.read_bytes() if keys.path else b""
    wal = keys.path.with_name("keys.sqlite-wal") if keys.path else None
    if wal is not None and wal.exists():
        raw += wal.read_bytes()
    secret_part = secret.split("_", 2)[2].encode()
    assert secret_part not in raw
    assert hashlib.sha256(secret.encode()).hexdigest().encode() in raw


def test_two_keys_differ_and_names_are_unique_while_active(keys: KeyStore) -> None:
    _, a = keys.create("desk-1", "staff")
    with pytest.raises(AccessError, match="有効なキーがすでにあります"):
        keys.create("desk-1", "trainer")
    keys.revoke("desk-1")
    _, b = keys.create("desk-1", "trainer")  # the name is free again once revoked
    assert a != b
    assert keys.check(a).verdict == "revoked"
    assert keys.check(b).key is not None
    assert [k.active for k in keys.list()] == [False, True]
    assert [k.name for k in keys.list(include_revoked=False)] == ["desk-1"]


def test_keys_made_in_the_same_millisecond_list_in_the_order_made(
    keys: KeyStore, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(keys_module, "_now", lambda: "2026-12-05T14:45:00.000+00:00")
    names = [f"desk-{i}" for i in range(8)]
    for name in names:
        keys.create(name, "staff")
    keys.revoke("desk-3")
    assert [k.name for k in keys.list()] == names
    assert [k.name for k in keys.list(include_revoked=False)] == names[:3] + names[4:]


@pytest.mark.parametrize("name", ["", "two words", "a" * 65, "x;drop", "改行\n"])
def test_bad_names_and_roles_are_refused(keys: KeyStore, name: str) -> None:
    with pytest.raises(AccessError, match="キーの名前「"):
        keys.create(name, "staff")


def test_japanese_names_are_fine(keys: KeyStore) -> None:
    record, _ = keys.create("福祉課_山田", "staff")
    assert record.name == "福祉課_山田"
    with pytest.raises(AccessError, match="役割「"):
        keys.create("x", "superuser")


def test_wrong_malformed_and_forged_keys_fail(keys: KeyStore) -> None:
    record, secret = keys.create("desk-1", "admin")
    assert keys.check("").verdict == "malformed"
    assert keys.check("hunter2").verdict == "malformed"
    # Right id, wrong secret: unknown (the id alone proves nothing).
    forged = f"kb_{record.key_id}_" + "A" * 43
    assert keys.check(forged).verdict == "unknown"
    assert keys.check(forged).key_id == record.key_id
    # One character changed at the end.
    last = "B" if secret[-1] != "B" else "C"
    assert keys.check(secret[:-1] + last).verdict == "unknown"
    assert keys.check("kb_00000000_" + "A" * 43).verdict == "unknown"


def test_hashes_are_compared_with_compare_digest(
    keys: KeyStore, monkeypatch: pytest.MonkeyPatch
) -> None:
    _, secret = keys.create("desk-1", "staff")
    calls: list[tuple[str, str]] = []
    real = hmac.compare_digest

    def spy(a: str, b: str) -> bool:
        calls.append((a, b))
        return real(a, b)

    monkeypatch.setattr(keys_module.hmac, "compare_digest", spy)
    assert keys.check(secret).verdict == "ok"
    assert calls == [(hash_key(secret), hash_key(secret))]
    calls.clear()
    # An unknown id is still compared (against a dummy hash), so both paths do the same work.
    assert keys.check("kb_00000000_" + "A" * 43).verdict == "unknown"
    assert len(calls) == 1


def test_revoke_unknown_name_says_so(keys: KeyStore) -> None:
    with pytest.raises(AccessError, match="「nobody」という名前の有効なキーはありません"):
        keys.revoke("nobody")


def test_revocation_is_seen_by_another_connection_at_once(tmp_path: Path) -> None:
    server = KeyStore(tmp_path / "keys.sqlite")
    cli = KeyStore(tmp_path / "keys.sqlite")
    _, secret = cli.create("desk-1", "staff")
    assert server.check(secret).verdict == "ok"
    cli.revoke("desk-1")
    assert server.check(secret).verdict == "revoked"
    assert not server.has_active()


def test_stored_keys_cannot_be_edited_restored_or_deleted(keys: KeyStore, tmp_path: Path) -> None:
    record, secret = keys.create("desk-1", "staff")
    keys.revoke("desk-1")
    db = sqlite3.connect(tmp_path / "keys.sqlite", isolation_level=None)
    with pytest.raises(sqlite3.DatabaseError, match="only be revoked"):
        db.execute("UPDATE api_keys SET revoked_at = NULL")
    with pytest.raises(sqlite3.DatabaseError, match="never deleted"):
        db.execute("DELETE FROM api_keys")
    _, other = keys.create("desk-2", "staff")
    with pytest.raises(sqlite3.DatabaseError, match="only be revoked"):
        db.execute("UPDATE api_keys SET role = 'admin' WHERE name = 'desk-2'")
    db.close()
    assert keys.check(secret).verdict == "revoked"
    assert keys.check(other).key is not None
    assert keys.check(other).key.role == "staff"  # type: ignore[union-attr]
    assert record.key_id in {k.key_id for k in keys.list()}


def test_key_file_is_private(tmp_path: Path) -> None:
    KeyStore(tmp_path / "keys.sqlite").close()
    assert (tmp_path / "keys.sqlite").stat().st_mode & 0o077 == 0


def test_keys_expire(keys: KeyStore, monkeypatch: pytest.MonkeyPatch) -> None:
    record, secret = keys.create("temp-1", "staff", expires_days=30)
    _, forever = keys.create("desk-1", "staff")
    assert record.expires_at > record.created_at
    assert keys.check(secret).verdict == "ok"
    monkeypatch.setattr(keys_module, "_now", lambda: "2999-01-01T00:00:00.000+00:00")
    assert keys.check(secret).verdict == "expired"
    assert keys.check(forever).verdict == "ok"
    listed = {k.name: k for k in keys.list()}
    assert listed["temp-1"].active is False
    assert listed["desk-1"].active is True
    keys.revoke("desk-1")
    assert not keys.has_active()  # the expired key does not count
    with pytest.raises(AccessError, match="1〜3650 日"):
        keys.create("temp-2", "staff", expires_days=0)


def test_an_expiry_cannot_be_extended(keys: KeyStore, tmp_path: Path) -> None:
    keys.create("temp-1", "staff", expires_days=1)
    db = sqlite3.connect(tmp_path / "keys.sqlite", isolation_level=None)
    with pytest.raises(sqlite3.DatabaseError, match="only be revoked"):
        db.execute("UPDATE api_keys SET expires_at = '2999-01-01', revoked_at = 'x'")
    db.close()


def test_a_key_file_from_before_expiry_is_upgraded(tmp_path: Path) -> None:
    path = tmp_path / "keys.sqlite"
    old = sqlite3.connect(path)
    old.executescript(
        """
        CREATE TABLE api_keys (key_id TEXT PRIMARY KEY, name TEXT NOT NULL, role TEXT NOT NULL,
            key_hash TEXT NOT NULL, created_at TEXT NOT NULL, revoked_at TEXT);
        CREATE TRIGGER api_keys_only_revoke BEFORE UPDATE ON api_keys
        WHEN OLD.revoked_at IS NOT NULL BEGIN SELECT RAISE(ABORT, 'old'); END;
        """
    )
    old.execute(
        "INSERT INTO api_keys VALUES (?, ?, ?, ?, ?, NULL)",
        ("0000abcd", "old-desk", "staff", hash_key("x"), "2026-01-01T00:00:00.000+00:00"),
    )
    old.commit()
    old.close()
    keys = KeyStore(path)
    assert [k.name for k in keys.list()] == ["old-desk"]
    record, secret = keys.create("new-desk", "staff", expires_days=7)
    assert keys.check(secret).key == record
    db = sqlite3.connect(path, isolation_level=None)
    with pytest.raises(sqlite3.DatabaseError, match="only be revoked"):
        db.execute("UPDATE api_keys SET expires_at = NULL WHERE name = 'new-desk'")
    db.close()
    keys.close()


@pytest.mark.parametrize("name", ["ＤＥＭＯ", "DEMO", "Demo"])
def test_a_name_that_reads_as_an_active_one_is_refused(keys: KeyStore, name: str) -> None:
    # An outside tester: ｄｅｍｏ and DEMO were accepted beside demo (one person, two approvers).
    keys.create("demo", "staff")
    with pytest.raises(AccessError, match="同じ名前に読めます") as caught:
        keys.create(name, "staff")
    assert caught.value.reason == "conflict"
    keys.revoke("demo")
    assert keys.create(name, "staff")[0].name == name  # once that key is revoked, it may
