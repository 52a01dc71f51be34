"""``kb trainer ...`` on the sample index: what it prints, writes and refuses."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from kb.cli import main
from kb.security.audit import AuditLog
from kb.text.mecab import MeCabTokenizer
from tests.trainer.conftest import make_data_dir


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
    target.write_text("older draft", encoding="utf-8")
    target.chmod(0o644)  # a draft written over keeps no wider permissions
    code, out, _ = run(
        capsys, index_root.parent, "manual", "--department", "消費生活センター",
        "--format", "docx", "--out", str(target),
    )  # fmt: skip
    assert code == 0
    assert target.stat().st_size > 0
    assert target.stat().st_mode & 0o777 == 0o600
    assert target.read_bytes().startswith(b"PK")
    assert f"wrote {target}" in out


def test_errors_are_one_clear_line(
    index_root: Path, capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    code, _, err = run(capsys, index_root.parent, "manual", "--department", "宇宙課")
    assert code == 2
    assert "担当課「宇宙課」は担当課一覧にありません" in err
    assert "Traceback" not in err
    code, _, err = run(capsys, index_root.parent, "draft", "nope")
    assert code == 2
    assert "トピックの ID ではありません" in err
    code, _, err = run(capsys, tmp_path / "empty", "topics")
    assert code == 2
    assert "索引がありません" in err


def test_faq_lifecycle_from_the_command_line(
    tmp_path: Path,
    tokenizer: MeCabTokenizer,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    settings = make_data_dir(tmp_path, tokenizer)
    monkeypatch.setenv("KB_FAQ_APPROVERS", "2")
    code, out, _ = run(
        capsys, tmp_path, "revise", "F6", "--answer", "申込制です。", "--expires", "R12.3.31",
        "--as", "tanaka",
    )  # fmt: skip
    assert code == 0
    assert "FC0001 revises faq:F6" in out
    assert "公開期限 2030-03-31" in out
    code, out, _ = run(capsys, tmp_path, "approve", "FC0001", "--as", "suzuki")
    assert code == 0
    assert "承認1 of 2" in out
    code, _, err = run(capsys, tmp_path, "approve", "FC0001", "--as", "tanaka")
    assert code == 2
    assert "tanaka さんは FAQ候補 FC0001 を作成または最後に編集したため" in err
    assert "Traceback" not in err
    code, out, _ = run(capsys, tmp_path, "approve", "FC0001", "--as", "sato")
    assert code == 0
    assert "published as faq:F6" in out
    code, out, _ = run(capsys, tmp_path, "withdraw", "F6", "--reason", "制度改正")
    assert code == 0
    assert "faq:F6 を公開停止しました" in out
    code, _, err = run(capsys, tmp_path, "withdraw", "F6")
    assert code == 2
    assert "すでに公開停止中" in err
    code, _, err = run(capsys, tmp_path, "republish", "faq:F6")
    assert code == 2  # two approvers: one person's 再公開 is refused, nothing written
    assert "承認が2人必要な設定のため" in err
    monkeypatch.setenv("KB_FAQ_APPROVERS", "1")
    code, out, _ = run(capsys, tmp_path, "republish", "faq:F6")
    assert code == 0
    assert "faq:F6 を公開しました" in out
    monkeypatch.setenv("KB_FAQ_APPROVERS", "2")
    run(capsys, tmp_path, "revise", "F1", "--as", "tanaka")
    code, out, _ = run(capsys, tmp_path, "reject", "FC0002", "--reason", "重複のため")
    assert code == 0
    code, out, _ = run(capsys, tmp_path, "candidates")
    assert "FC0002  [rejected]  revises faq:F1" in out
    assert "approvals: suzuki, sato" in out
    audit = AuditLog(settings.audit_path)
    actions = [(e.action, e.detail.split(" (start")[0]) for e in audit.events()]
    audit.close()
    assert (
        "approve",
        "approval 1 of 2 by suzuki for faq:F6 (candidate FC0001); not published yet",
    ) in actions
    assert [a for a, _ in actions if not a.endswith((".start", ".failed"))] == [
        "revise",
        "approve",
        "approve",
        "withdraw",
        "republish",
        "revise",
        "reject",
    ]


@pytest.mark.parametrize("given", ["-5", "0", "many"])
def test_a_min_count_below_one_is_refused(
    index_root: Path, capsys: pytest.CaptureFixture[str], given: str
) -> None:
    with pytest.raises(SystemExit) as exited:
        run(capsys, index_root.parent, "gaps", "--min-count", given)
    assert exited.value.code == 2
    assert f"「{given}」は 1 以上の整数ではありません" in capsys.readouterr().err
