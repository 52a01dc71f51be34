"""The progress lines of ``kb ingest`` / ``kb build`` in a log: Japanese, or English (KB_LANG)."""

from __future__ import annotations

import pytest

from kb.cli_common import Progress
from kb.messages import language


def _lines(capsys: pytest.CaptureFixture[str]) -> list[str]:
    progress = Progress(False)  # not a terminal: plain lines, as systemd's journal shows them
    progress("parse", 0, 3)
    progress("parse", 3, 3)
    progress("embed (Ray)", 2, 2)  # a stage the catalogue does not name is shown as named
    return capsys.readouterr().err.splitlines()


def test_progress_lines_are_japanese_by_default(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("KB_LANG", raising=False)
    first, done, other, other_done = _lines(capsys)
    assert first == "kb: ファイルの読み込み: 3 件…"
    assert done.startswith("kb: ファイルの読み込み: 完了（")
    assert done.endswith(" 秒）")
    assert other == "kb: embed (Ray): 2 件…"
    assert other_done.startswith("kb: embed (Ray): 完了")


def test_progress_lines_in_english(capsys: pytest.CaptureFixture[str]) -> None:
    with language("en"):
        first, done, _, _ = _lines(capsys)
    assert first == "kb: parse: 3 item(s)..."
    assert done.startswith("kb: parse: done in ")
    assert done.endswith(" s")
