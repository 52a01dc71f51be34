"""``kb trainer ...`` on the sample index: what it prints, writes and refuses."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from kb.cli import main


def run(capsys: pytest.CaptureFixture[str], data_dir: Path, *args: str) -> tuple[int, str, str]:
    code = main(["--data-dir", str(data_dir), "--model", "fake", "trainer", *args])
    out, err = capsys.readouterr()
    return code, out, err


def test_topics_text_and_json(index_root: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = run(capsys, index_root.parent, "topics")
    assert code == 0
    assert out.startswith("topics of 全体: ")
    assert "closed cases" in out
    assert "C1" in out or "C2" in out or "C3" in out
    code, out, _ = run(capsys, index_root.parent, "topics", "--json", "--department", "市民課")
    data = json.loads(out)
    assert data["department"] == "市民課"
    assert [c for t in data["topics"] for c in t["case_ids"]] == ["case:C3"]


def test_gaps_and_manual(
    index_root: Path, capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    code, out, _ = run(capsys, index_root.parent, "gaps")
    assert code == 0
    assert "low-score lines" in out
    assert "zero-hit / low-score rate" in out
    code, out, _ = run(capsys, index_root.parent, "manual", "--department", "消費生活センター")
    assert code == 0
    assert out.startswith("# 消費生活センター 相談対応マニュアル（下書き）")
    assert "事業者に連絡し、解約に応じてもらった" in out
    target = tmp_path / "m.docx"
    code, out, _ = run(
        capsys, index_root.parent, "manual", "--department", "消費生活センター",
        "--format", "docx", "--out", str(target),
    )  # fmt: skip
    assert code == 0
    assert target.stat().st_size > 0
    assert f"wrote {target}" in out


def test_errors_are_one_clear_line(
    index_root: Path, capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    code, _, err = run(capsys, index_root.parent, "manual", "--department", "宇宙課")
    assert code == 2
    assert "no department '宇宙課'" in err
    assert "Traceback" not in err
    code, _, err = run(capsys, index_root.parent, "draft", "nope")
    assert code == 2
    assert "not a topic id" in err
    code, _, err = run(capsys, tmp_path / "empty", "topics")
    assert code == 2
    assert "no index" in err
