"""kb delete, kb ingest --sync --dry-run, kb prune: what the command line does and prints."""

from __future__ import annotations

from pathlib import Path

import pytest

from kb.cli import main
from kb.settings import Settings
from kb.store import Store

FAQ = (
    "id,question,answer,department\n"
    "F1,転入の手続きを教えてください,市民課へ届け出てください,市民課\n"
    "F2,粗大ごみの出し方を知りたい,電話で申し込んでください,環境課\n"
)


def _kb(data: Path, *args: str) -> int:
    return main(["--data-dir", str(data), "--model", "fake", *args])


@pytest.fixture
def data(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.setenv("KB_LANG", "ja")
    (tmp_path / "faq.csv").write_text(FAQ, encoding="utf-8")
    data = tmp_path / "data"
    assert _kb(data, "ingest", str(tmp_path / "faq.csv")) == 0
    return data


def _faq_ids(data: Path) -> list[str]:
    store = Store(Settings(data_dir=data).store_path)
    try:
        return store.document_ids("faq")
    finally:
        store.close()


def test_kb_delete_removes_and_says_what(data: Path, capsys: pytest.CaptureFixture[str]) -> None:
    capsys.readouterr()
    assert _kb(data, "delete", "faq:F2") == 0
    out = capsys.readouterr().out
    assert "1 件の文書を削除しました: faq:F2" in out
    assert "索引" in out
    assert _faq_ids(data) == ["faq:F1"]


def test_kb_delete_of_an_unknown_id_fails_and_deletes_nothing(
    data: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert _kb(data, "delete", "faq:F1", "faq:NOPE") == 2
    assert "faq:NOPE" in capsys.readouterr().err
    assert _faq_ids(data) == ["faq:F1", "faq:F2"]


def test_kb_ingest_sync_dry_run_lists_then_sync_removes(
    data: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    src = tmp_path / "faq.csv"
    src.write_text(FAQ.replace("F2,粗大ごみ", "F3,粗大ごみ"), encoding="utf-8")
    capsys.readouterr()
    assert _kb(data, "ingest", "--sync", "--dry-run", str(src)) == 0
    out = capsys.readouterr().out
    assert "何も書き込んでいません" in out
    assert "追加: faq:F3" in out
    assert "削除: faq:F2" in out
    assert _faq_ids(data) == ["faq:F1", "faq:F2"]
    assert _kb(data, "ingest", "--sync", str(src)) == 0
    assert "1 件の文書を削除しました: faq:F2" in capsys.readouterr().out
    assert _faq_ids(data) == ["faq:F1", "faq:F3"]


def test_kb_ingest_sync_refuses_after_a_bad_row(
    data: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    src = tmp_path / "faq.csv"
    src.write_text(FAQ.splitlines()[0] + "\nF1,転入,,市民課\n", encoding="utf-8")
    capsys.readouterr()
    assert _kb(data, "ingest", "--sync", str(src)) == 1
    assert "削除は行いませんでした" in capsys.readouterr().out
    assert _faq_ids(data) == ["faq:F1", "faq:F2"]


def test_kb_prune_dry_run_and_the_audit_log_is_kept(
    data: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    capsys.readouterr()
    assert _kb(data, "prune", "--older-than", "90d", "--dry-run") == 0
    out = capsys.readouterr().out
    assert "--dry-run" in out
    assert "監査ログは削除しません" in out
    assert _kb(data, "prune", "--older-than", "3 months") == 2
    assert "90d" in capsys.readouterr().err


def test_kb_delete_of_a_closed_record_s_case_takes_the_record(
    data: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    import dataclasses

    from kb.desk.records import case_document
    from kb.ingest.chunking import chunk_document
    from kb.store.records import CLOSED, ConsultationRecord, Handoff, RecordStore
    from kb.text.mecab import MeCabTokenizer

    settings = Settings(data_dir=data)
    records = RecordStore(settings.records_path)
    record = records.add(ConsultationRecord(id="", status="対応中", date="2025-04-01"))
    record = records.save(
        dataclasses.replace(
            record, status=CLOSED, citizen_words="窓口の相談", actions="案内", closed_at="x"
        )
    )
    records.add_handoff(Handoff(id="", record_id=record.id, summary="引継ぎ"))
    records.close()
    store = Store(settings.store_path)
    doc = case_document(record)
    store.upsert([(doc, chunk_document(doc, MeCabTokenizer()))])
    store.close()
    capsys.readouterr()
    assert _kb(data, "delete", record.case_id) == 0
    out = capsys.readouterr().out
    assert "相談記録 1 件と、その引継ぎ票 1 件を削除しました" in out
    records = RecordStore(settings.records_path)
    try:
        assert records.get(record.id) is None
        assert records.handoffs([record.id]) == []
    finally:
        records.close()


def test_kb_prune_leaves_records_alone_unless_asked(
    data: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    import dataclasses

    from kb.security.audit import AuditLog
    from kb.store.records import CLOSED, ConsultationRecord, RecordStore

    settings = Settings(data_dir=data)
    records = RecordStore(settings.records_path)
    old = records.add(ConsultationRecord(id="", status="対応中", date="2020-04-01"))
    records.save(dataclasses.replace(old, status=CLOSED, closed_at="2020-04-02T00:00:00+00:00"))
    records.close()
    capsys.readouterr()
    assert _kb(data, "prune", "--older-than", "90d") == 0
    assert "相談記録と引継ぎ票は削除しません" in capsys.readouterr().out
    records = RecordStore(settings.records_path)
    assert records.get(old.id) is not None
    records.close()
    assert _kb(data, "prune", "--older-than", "90d", "--records") == 0
    assert "完了した相談記録 1 件と引継ぎ票 0 件を削除しました" in capsys.readouterr().out
    records = RecordStore(settings.records_path)
    assert records.get(old.id) is None
    records.close()
    log = AuditLog.from_settings(settings)
    try:
        pruned = [e for e in log.events() if e.action == "prune"]
    finally:
        log.close()
    assert tuple(pruned[-1].ids) == (old.id,)  # who removed which records: ids, never text
