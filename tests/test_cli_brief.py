"""``kb brief``: a day's bookings file → briefs on the terminal or as JSON, each audited."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from kb.cli import main
from kb.security.audit import AuditLog
from kb.settings import Settings
from tests.e2e.demo_index import FAKE_MODEL, REPO, build_demo_index

DEMO_DAY = REPO / "eval" / "bookings" / "demo-day.csv"


@pytest.fixture(scope="module")
def data_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    folder = tmp_path_factory.mktemp("brief-cli")
    build_demo_index(folder)
    return folder


def test_json_lists_ten_briefs_and_audits_each(
    data_dir: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    code = main(
        ["--data-dir", str(data_dir), "--model", FAKE_MODEL, "brief", str(DEMO_DAY), "--json"]
    )
    captured = capsys.readouterr()
    assert code == 0
    briefs = json.loads(captured.out)
    assert len(briefs) == 10
    first = briefs[0]
    for key in ("departments", "faqs", "cases", "manuals", "bring", "invite", "procedures"):
        assert key in first
    assert first["life_events"] == ["死亡"]
    assert "氏名" in captured.err  # named as not read
    assert "桜川 一郎" not in captured.out + captured.err
    audit = AuditLog.from_settings(Settings(data_dir=data_dir, model=FAKE_MODEL))
    try:
        events = [e for e in audit.events() if e.action == "brief"]
    finally:
        audit.close()
    assert len(events) == 10
    assert all(e.role == "cli" for e in events)


def test_text_output_and_bad_rows(
    data_dir: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = tmp_path / "day.csv"
    path.write_text("予約日時,相談内容\n2026/6/1 9:00,赤ちゃんが生まれた\nいつか,離婚\n", "utf-8")
    code = main(["--data-dir", str(data_dir), "--model", FAKE_MODEL, "brief", str(path)])
    captured = capsys.readouterr()
    assert code == 1  # a row was skipped
    assert f"{path}:3: 予約日時:" in captured.err
    assert "出生届" in captured.out
    assert "1 件の事前準備" in captured.out
