"""docs/settings.md is generated from ``Settings`` and kept up to date; every setting says what
it does."""

from __future__ import annotations

from pathlib import Path

import pytest

from kb import settings_reference
from kb.settings import Settings
from kb.settings_reference import DOC, main, render, settings_docs, undocumented


def test_every_setting_has_a_description() -> None:
    assert undocumented() == [], (
        "describe these in kb/settings/ (Field(description=...)), then run "
        "python -m kb.settings_reference --write"
    )


def test_docs_settings_md_is_up_to_date() -> None:
    assert DOC.exists(), "run python -m kb.settings_reference --write"
    assert DOC.read_text(encoding="utf-8") == render(), (
        "docs/settings.md is out of date: python -m kb.settings_reference --write"
    )


def test_every_setting_is_in_the_reference_once() -> None:
    text = render()
    for name in Settings.model_fields:
        env = "KB_" + name.upper()
        assert text.count(f"| `{env}` |") == 1, env


def test_rows_carry_type_default_and_limits() -> None:
    rows = {row.env: row for row in settings_docs()}
    assert rows["KB_PORT"].default == "`8000`"
    assert "integer" in rows["KB_PORT"].type
    assert "≤ 65535" in rows["KB_PORT"].type
    assert rows["KB_EMBEDDING_BACKEND"].type.startswith("`auto`")
    assert "comma-separated" in rows["KB_FORWARDED_ALLOW_IPS"].type
    assert rows["KB_AUDIT_KEY_FILE"].default == "unset"
    assert "optional" in rows["KB_AUDIT_KEY_FILE"].type
    assert rows["KB_QUERY_LOG"].default == "`true`"
    # A default computed from where kb is installed is never written into the file.
    assert rows["KB_SYNONYM_DICTIONARY"].default == "see description"
    assert ".venv" not in rows["KB_SYNONYM_DICTIONARY"].default
    # A "|" in a description would split the table's cell.
    for line in render().splitlines():
        if line.startswith("| `KB_"):
            assert line.replace("\\|", "").count("|") == 5, line


def test_check_mode_reports_a_stale_file(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    stale = tmp_path / "settings.md"
    stale.write_text("# old\n", encoding="utf-8")
    assert main(["--check", "--out", str(stale)]) == 1
    assert "out of date" in capsys.readouterr().out
    assert main(["--write", "--out", str(stale)]) == 0
    assert main(["--check", "--out", str(stale)]) == 0
    assert stale.read_text(encoding="utf-8") == render()


def test_a_setting_without_description_fails_the_check(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    real = settings_reference.settings_docs
    rows = real()
    blank = [rows[0].__class__(**{**rows[0].__dict__, "description": ""}), *rows[1:]]
    monkeypatch.setattr(settings_reference, "settings_docs", lambda: blank)
    assert main(["--check", "--out", str(tmp_path / "x.md")]) == 1
    assert rows[0].env in capsys.readouterr().out
