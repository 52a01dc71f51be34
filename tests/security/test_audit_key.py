"""The audit key: outside DATA_DIR, private, created once, never silently replaced."""

from __future__ import annotations

import threading
from pathlib import Path

import pytest

from kb.cli import main
from kb.errors import AuditError
from kb.security.audit import AuditLog
from kb.security.audit_key import MIN_KEY_CHARS, create_key_file, key_from_value, read_key_file
from kb.settings import Settings


def test_default_locations_are_beside_the_data_dir_and_configurable(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    settings = Settings(data_dir=tmp_path / "data")
    assert settings.audit_key_path == tmp_path / "data-audit" / "audit.key"
    assert settings.audit_anchor_path == tmp_path / "data-audit" / "audit.anchor"
    assert not settings.audit_key_path.is_relative_to(settings.data_dir)
    monkeypatch.setenv("KB_AUDIT_KEY_FILE", str(tmp_path / "keys" / "k"))
    monkeypatch.setenv("KB_AUDIT_ANCHOR", str(tmp_path / "anchors" / "a"))
    monkeypatch.setenv("KB_AUDIT_KEY", "s" * 40)
    monkeypatch.setenv("KB_AUDIT_SYSLOG", "true")
    settings = Settings(data_dir=tmp_path / "data")
    assert settings.audit_key_path == tmp_path / "keys" / "k"
    assert settings.audit_anchor_path == tmp_path / "anchors" / "a"
    assert settings.audit_syslog is True
    assert settings.audit_key is not None
    assert "s" * 40 not in repr(settings)  # a secret: never printed with the settings


def test_the_key_file_is_created_private_once_and_reused(tmp_path: Path) -> None:
    settings = Settings(data_dir=tmp_path / "data")
    log = AuditLog.from_settings(settings, masker=str)
    first = log.append("search", actor="desk-1", role="staff", query="住民票")
    log.close()
    text = settings.audit_key_path.read_text(encoding="ascii").strip()
    assert len(text) == 64
    int(text, 16)  # 32 random bytes as hex
    assert settings.audit_key_path.stat().st_mode & 0o777 == 0o600
    log = AuditLog.from_settings(settings, masker=str)
    second = log.append("search", actor="desk-1", role="staff", query="児童手当")
    assert second.prev_hash == first.hash
    assert settings.audit_key_path.read_text(encoding="ascii").strip() == text
    assert log.verify().ok
    log.close()


def test_two_processes_creating_the_key_at_once_get_the_same_key(tmp_path: Path) -> None:
    path = tmp_path / "audit" / "audit.key"
    keys = []
    threads = [
        threading.Thread(target=lambda: keys.append(create_key_file(path))) for _ in range(4)
    ]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert len({k.secret for k in keys}) == 1
    assert [p.name for p in path.parent.iterdir()] == ["audit.key"]  # no temporary files left


def test_a_key_file_others_can_read_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "audit.key"
    path.write_text("k" * 64, encoding="ascii")
    path.chmod(0o644)
    with pytest.raises(
        AuditError, match=r"他のユーザー（グループ・その他）が読み書きできます（モード 0644）"
    ) as e:
        read_key_file(path)
    assert f"chmod 600 {path}" in str(e.value)
    path.chmod(0o600)
    assert read_key_file(path).secret == b"k" * 64


def test_short_keys_are_refused(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(AuditError, match=f"needs at least {MIN_KEY_CHARS}"):
        key_from_value("password")
    path = tmp_path / "audit.key"
    path.write_text("short\n", encoding="ascii")
    path.chmod(0o600)
    with pytest.raises(AuditError, match=f"{path}: the audit key has 5 characters"):
        read_key_file(path)


def test_a_lost_key_is_an_error_not_a_new_key(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    settings = Settings(data_dir=tmp_path / "data")
    log = AuditLog.from_settings(settings, masker=str)
    log.append("search", actor="desk-1", role="staff", query="住民票")
    log.close()
    settings.audit_key_path.unlink()
    with pytest.raises(AuditError, match=r"鍵ファイルがありませんが、.* の 1 件の記録は鍵"):
        AuditLog.from_settings(settings, masker=str)
    assert not settings.audit_key_path.exists()
    # The command line says so without a traceback, and runs nothing.
    assert main(["--data-dir", str(settings.data_dir), "audit", "verify"]) == 2
    assert "鍵ファイルをバックアップから戻す" in capsys.readouterr().err


def test_another_key_is_refused_for_appends_and_reported_by_verify(tmp_path: Path) -> None:
    settings = Settings(data_dir=tmp_path / "data")
    log = AuditLog.from_settings(settings, masker=str)
    log.append("search", actor="desk-1", role="staff", query="住民票")
    log.close()
    wrong = settings.model_copy(update={"audit_key_file": tmp_path / "other" / "audit.key"})
    create_key_file(wrong.audit_key_path)
    with pytest.raises(AuditError, match=r"is not the key .* was written with"):
        AuditLog.from_settings(wrong, masker=str)
    log = AuditLog(settings.audit_path, masker=str, key_file=wrong.audit_key_path)
    result = log.verify()
    log.close()
    assert not result.ok
    assert "the wrong key is configured" in result.problems[0]
    assert "event 1: content does not match its hash (altered)" in result.problems


def test_a_key_file_inside_the_data_dir_is_refused(tmp_path: Path) -> None:
    data = tmp_path / "data"
    settings = Settings(data_dir=data, audit_key_file=data / "audit.key")
    with pytest.raises(AuditError, match="must not be inside the data directory"):
        AuditLog.from_settings(settings)
    assert not (data / "audit.key").exists()


def test_the_key_can_come_from_the_environment(tmp_path: Path) -> None:
    secret = "0123456789abcdef" * 4
    settings = Settings(data_dir=tmp_path / "data", audit_key=secret)
    log = AuditLog.from_settings(settings, masker=str)
    log.append("search", actor="desk-1", role="staff", query="住民票")
    log.close()
    assert not settings.audit_key_path.exists()  # no file needed, none written
    same = AuditLog(settings.audit_path, masker=str, key=secret)
    assert same.verify().ok
    same.close()


def test_a_key_folder_that_cannot_be_made_is_a_clear_error(tmp_path: Path) -> None:
    blocker = tmp_path / "not-a-folder"
    blocker.write_text("", encoding="ascii")
    with pytest.raises(AuditError, match="cannot create the folder of the audit key"):
        create_key_file(blocker / "audit.key")


def test_a_file_system_without_hard_links_still_gets_a_key(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import os

    def no_links(src: object, dst: object) -> None:
        raise PermissionError(1, "Operation not permitted")

    monkeypatch.setattr(os, "link", no_links)
    key = create_key_file(tmp_path / "audit" / "audit.key")
    assert len(key.secret) == 64
    assert [p.name for p in (tmp_path / "audit").iterdir()] == ["audit.key"]
    assert create_key_file(tmp_path / "audit" / "audit.key").secret == key.secret
