"""``kb keys`` and ``kb audit`` from the command line."""

from __future__ import annotations

import csv
import io
import json
import sqlite3
from pathlib import Path

import pytest

from kb.cli import main
from kb.security.audit import AuditLog
from kb.security.keys import KeyStore


def kb(data: Path, *args: str) -> int:
    return main(["--data-dir", str(data), *args])


def test_keys_create_prints_the_key_once_and_list_never_shows_it(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert kb(tmp_path, "keys", "create", "--role", "staff", "--name", "desk-1") == 0
    out, err = capsys.readouterr()
    key = out.strip()
    assert key.startswith("kb_")
    assert "shown" in err
    assert "only this once" in err
    keys = KeyStore(tmp_path / "keys.sqlite")
    checked = keys.check(key)
    keys.close()
    assert checked.key is not None
    assert checked.key.role == "staff"
    assert kb(tmp_path, "keys", "list") == 0
    listing = capsys.readouterr().out
    assert "desk-1" in listing
    assert "staff" in listing
    assert "active" in listing
    assert key[12:] not in listing
    assert kb(tmp_path, "keys", "list", "--json") == 0
    rows = json.loads(capsys.readouterr().out)
    assert rows[0]["name"] == "desk-1"
    assert "key" not in rows[0]
    assert "key_hash" not in rows[0]


def test_keys_create_if_none_only_makes_the_first_key(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert kb(tmp_path, "keys", "create", "--role", "staff", "--name", "demo", "--if-none") == 0
    assert capsys.readouterr().out.strip().startswith("kb_")
    assert kb(tmp_path, "keys", "create", "--role", "staff", "--name", "demo2", "--if-none") == 0
    out, err = capsys.readouterr()
    assert out == ""
    assert "exist already" in err


def test_revoke_and_errors(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    kb(tmp_path, "keys", "create", "--role", "trainer", "--name", "t1")
    key = capsys.readouterr().out.strip()
    assert kb(tmp_path, "keys", "create", "--role", "staff", "--name", "t1") == 2
    assert "有効なキーがすでにあります" in capsys.readouterr().err
    assert kb(tmp_path, "keys", "revoke", "t1") == 0
    assert "revoked trainer key 't1'" in capsys.readouterr().out
    assert kb(tmp_path, "keys", "revoke", "t1") == 2
    assert "「t1」という名前の有効なキーはありません" in capsys.readouterr().err
    keys = KeyStore(tmp_path / "keys.sqlite")
    assert keys.check(key).verdict == "revoked"
    keys.close()
    assert kb(tmp_path, "keys", "create", "--role", "staff", "--name", "two words") == 2
    assert "キーの名前「" in capsys.readouterr().err


def test_audit_export_csv_jsonl_since_and_verify(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    log = AuditLog(tmp_path / "audit.sqlite")
    log.append("search", actor="desk-1", role="staff", query="粗大ごみ", ids=["faq:F2"])
    log.append("open", actor="desk-1", role="staff", ids=["case:C0012"])
    log.close()
    kb(tmp_path, "keys", "create", "--role", "staff", "--name", "desk-2")
    capsys.readouterr()

    assert kb(tmp_path, "audit", "export", "--since", "2000-01-01") == 0
    rows = list(csv.DictReader(io.StringIO(capsys.readouterr().out)))
    assert [r["action"] for r in rows] == ["search", "open", "keys.create"]
    assert rows[0]["query"] == "粗大ごみ"
    assert rows[1]["ids"] == "case:C0012"
    assert rows[2]["actor"].startswith("cli:")

    out = tmp_path / "export" / "audit.jsonl"
    assert kb(tmp_path, "audit", "export", "--out", str(out)) == 0
    lines = [json.loads(x) for x in out.read_text(encoding="utf-8").splitlines()]
    assert [x["action"] for x in lines][:3] == ["search", "open", "keys.create"]
    assert kb(tmp_path, "audit", "export", "--since", "2999-01-01") == 0
    assert capsys.readouterr().out.strip() == ",".join(
        ["id", "created_at", "actor", "role", "action", "query", "ids", "detail", "hash"]
    )
    csv_out = tmp_path / "audit.csv"
    assert kb(tmp_path, "audit", "export", "--format", "csv", "--out", str(csv_out)) == 0
    assert csv_out.read_bytes().startswith(b"\xef\xbb\xbf")  # BOM for Excel
    assert kb(tmp_path, "audit", "export", "--since", "last week") == 2
    assert "not an ISO 8601" in capsys.readouterr().err

    assert kb(tmp_path, "audit", "verify") == 0
    assert "chain intact" in capsys.readouterr().out
    db = sqlite3.connect(tmp_path / "audit.sqlite")
    db.execute("DROP TRIGGER audit_no_update")
    db.execute("UPDATE audit SET query = '住民票' WHERE id = 1")
    db.commit()
    db.close()
    assert kb(tmp_path, "audit", "verify") == 1
    assert "event 1: content does not match its hash" in capsys.readouterr().out


def test_serve_warns_until_a_key_exists(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    from kb.security.commands import warn_if_no_keys
    from kb.settings import Settings

    settings = Settings(data_dir=tmp_path)
    assert warn_if_no_keys(settings) is True
    assert "kb keys create --role staff --name NAME" in capsys.readouterr().err
    kb(tmp_path, "keys", "create", "--role", "staff", "--name", "desk-1")
    capsys.readouterr()
    assert warn_if_no_keys(settings) is False
    assert capsys.readouterr().err == ""


def test_keys_create_with_expiry(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert (
        kb(tmp_path, "keys", "create", "--role", "staff", "--name", "t", "--expires-days", "7") == 0
    )
    assert "valid until" in capsys.readouterr().err
    kb(tmp_path, "keys", "list")
    assert "active until" in capsys.readouterr().out


def _log_one_search(data_dir: Path) -> None:
    log = AuditLog(data_dir / "audit.sqlite")
    log.append("search", actor="desk-1", role="staff", query="粗大ごみ")
    log.close()


def test_an_export_over_an_older_file_is_private_and_a_folder_is_refused(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    _log_one_search(tmp_path)
    out = tmp_path / "audit.csv"
    out.write_text("old", encoding="utf-8")
    out.chmod(0o644)
    assert kb(tmp_path, "audit", "export", "--out", str(out)) == 0
    assert out.stat().st_mode & 0o777 == 0o600
    assert "粗大ごみ" in out.read_text(encoding="utf-8-sig")
    capsys.readouterr()
    assert kb(tmp_path, "audit", "export", "--out", str(tmp_path)) == 2
    err = capsys.readouterr().err
    assert "フォルダーです" in err
    assert "Traceback" not in err


def test_an_export_through_a_link_writes_the_file_it_points_to(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    _log_one_search(tmp_path)
    real = tmp_path / "exports" / "audit.csv"
    real.parent.mkdir()
    link = tmp_path / "latest.csv"
    link.symlink_to(real)
    assert kb(tmp_path, "audit", "export", "--out", str(link)) == 0
    assert link.is_symlink()
    assert real.stat().st_mode & 0o777 == 0o600
    assert "粗大ごみ" in real.read_text(encoding="utf-8-sig")
