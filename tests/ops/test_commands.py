"""``kb backup`` and ``kb restore`` from the command line (kb.ops.commands)."""

from __future__ import annotations

from pathlib import Path

import pytest

from kb.cli import main
from kb.security.audit import AuditLog
from tests.ops.conftest import settings_for


def _kb(data: Path, *args: str) -> int:
    return main(["--data-dir", str(data), "--model", "fake", *args])


def test_backup_then_restore_elsewhere(
    data: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("KB_SYNONYM_DICTIONARY", "none")
    assert _kb(data, "backup", str(tmp_path / "b1")) == 0
    out = capsys.readouterr().out
    assert "バックアップを作成しました" in out
    assert "監査ログの鍵" in out  # says the key is not in it
    assert "--with-models" in out
    assert "sha256sum -c SHA256SUMS" in out
    log = AuditLog.from_settings(settings_for(data), masker=lambda query: query)
    try:
        actions = [e.action for e in log.events()]
    finally:
        log.close()
    assert actions[-2:] == ["backup.start", "backup"]

    target = tmp_path / "new" / "data"
    key = data.with_name("data-audit") / "audit.key"
    monkeypatch.setenv("KB_AUDIT_KEY_FILE", str(key))
    assert _kb(target, "restore", str(tmp_path / "b1")) == 0
    out = capsys.readouterr().out
    assert f"{target} に復元しました" in out
    assert "改ざんなし" in out
    assert (target / "kb.sqlite").is_file()
    # A second restore onto the now live folder needs --force.
    assert _kb(target, "restore", str(tmp_path / "b1")) == 2
    assert "--force" in capsys.readouterr().err
    assert _kb(target, "restore", "--force", str(tmp_path / "b1")) == 0
    assert "before-restore-" in capsys.readouterr().out


def test_errors_are_one_clear_line_in_the_chosen_language(
    data: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    assert _kb(tmp_path / "new", "restore", str(tmp_path)) == 2
    err = capsys.readouterr().err
    assert "kb のバックアップではありません" in err
    assert "Traceback" not in err
    monkeypatch.setenv("KB_LANG", "en")
    assert _kb(tmp_path / "missing", "backup", str(tmp_path / "b")) == 2
    err = capsys.readouterr().err
    assert "there is no data folder at" in err
    assert not (tmp_path / "missing").exists()  # not even an audit log was created
