"""``kb records list|export``: what they print and write, audited by ids."""

from __future__ import annotations

import csv
import dataclasses
import io
import json
from pathlib import Path

import pytest

from kb.cli import main
from kb.desk.records import case_document
from kb.ingest.chunking import chunk_document
from kb.ingest.pipeline import ingest
from kb.security.audit import AuditLog
from kb.settings import Settings
from kb.store import Store
from kb.store.records import CLOSED, OPEN, ConsultationRecord, RecordStore
from kb.text.mecab import MeCabTokenizer


def run(capsys: pytest.CaptureFixture[str], data_dir: Path, *args: str) -> tuple[int, str, str]:
    code = main(["--data-dir", str(data_dir), "records", *args])
    out, err = capsys.readouterr()
    return code, out, err


@pytest.fixture
def data_dir(tmp_path: Path) -> Path:
    store = RecordStore(tmp_path / "records.sqlite")
    closed = store.add(
        ConsultationRecord(
            id="",
            status=OPEN,
            date="2025-04-01",
            channel="電話",
            citizen_words="[氏名]さんから粗大ごみの相談",
            actions="申込方法を案内",
            departments=("ごみ減量推進課",),
        )
    )
    store.save(dataclasses.replace(closed, status=CLOSED))
    store.add(ConsultationRecord(id="", status=OPEN, date="2025-05-01", citizen_words="住民票"))
    store.close()
    return tmp_path


def test_list_text_json_and_filters(data_dir: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = run(capsys, data_dir, "list")
    assert code == 0
    lines = out.splitlines()
    assert lines[0].startswith("R000002  2025-05-01  対応中")
    assert lines[1].startswith("R000001  2025-04-01  完了  電話")
    assert lines[-1] == "2 件"
    code, out, _ = run(capsys, data_dir, "list", "--status", "完了", "--json")
    assert [r["id"] for r in json.loads(out)] == ["R000001"]
    code, out, _ = run(capsys, data_dir, "list", "--from", "令和7年4月15日")
    assert "R000001" not in out
    assert "R000002" in out
    code, out, err = run(capsys, data_dir, "list", "--to", "2025-02-30")
    assert code == 2
    assert "--to" in err
    log = AuditLog.from_settings(Settings(data_dir=data_dir))
    try:
        listed = [e for e in log.events() if e.action == "record.list"]
    finally:
        log.close()
    assert tuple(listed[0].ids) == ("R000002", "R000001")


def test_export_csv_ingests_and_xlsx_by_suffix(
    data_dir: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    target = tmp_path / "out" / "records.csv"
    code, _, err = run(capsys, data_dir, "export", str(target), "--status", "完了")
    assert code == 0
    assert "1 件" in err
    rows = list(csv.reader(io.StringIO(target.read_bytes().decode("utf-8-sig"))))
    assert [r[0] for r in rows[1:]] == ["desk-R000001"]  # the id of the case it became
    records = RecordStore(data_dir / "records.sqlite")
    record = records.get("R000001")
    records.close()
    assert record is not None
    store = Store(None)
    try:
        # Read back where the desk stored its case: the row *is* that case, field for field.
        doc = case_document(record)
        store.upsert([(doc, chunk_document(doc, MeCabTokenizer()))])
        report = ingest([target], store)
        assert report.ok, report.errors
        assert (report.stats.added, report.stats.updated, report.stats.unchanged) == (0, 0, 1)
        case = store.get_documents(["case:desk-R000001"])["case:desk-R000001"]
    finally:
        store.close()
    assert case.title == "[氏名]さんから粗大ごみの相談"
    assert case.departments == ("ごみ減量推進課",)
    # Another kb takes no case in the desk's numbering: it would meet that kb's own records.
    fresh = Store(None)
    try:
        refused = ingest([target], fresh)
        assert fresh.document_ids("case") == []
    finally:
        fresh.close()
    assert [(e.line, e.field) for e in refused.errors] == [(2, "id")]
    assert "desk-R000001" in refused.errors[0].message
    code, _, _ = run(capsys, data_dir, "export", str(tmp_path / "all.xlsx"))
    assert code == 0
    assert (tmp_path / "all.xlsx").read_bytes()[:2] == b"PK"
    code, _, err = run(capsys, data_dir, "export", str(tmp_path / "x.txt"))
    assert code == 2
    assert "csv / xlsx" in err


def test_the_export_files_name_is_masked_in_the_audit_log(
    data_dir: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    target = tmp_path / "相談記録_山田花子_090-1234-5678.csv"
    code, _, _ = run(capsys, data_dir, "export", str(target))
    assert code == 0
    assert target.is_file()  # written where the operator said
    log = AuditLog.from_settings(Settings(data_dir=data_dir))
    try:
        details = [e.detail for e in log.events() if e.action.startswith("record.export")]
    finally:
        log.close()
    assert details
    for detail in details:
        assert "090-1234-5678" not in detail
        assert "山田花子" not in detail
        assert "[電話番号]" in detail


def test_an_export_over_an_older_file_is_private_and_a_folder_is_refused(
    data_dir: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    # An outside tester: writing into an existing 0644 file kept it readable by everyone.
    target = tmp_path / "records.csv"
    target.write_text("old", encoding="utf-8")
    target.chmod(0o644)
    code, _, _ = run(capsys, data_dir, "export", str(target))
    assert code == 0
    assert target.stat().st_mode & 0o777 == 0o600
    assert target.read_bytes().decode("utf-8-sig").startswith("相談番号,")
    folder = tmp_path / "exports"
    folder.mkdir()
    code, _, err = run(capsys, data_dir, "export", str(folder), "--format", "csv")
    assert code == 2
    assert "フォルダーです" in err
    assert "Traceback" not in err
    assert [p.name for p in tmp_path.iterdir() if p.name.endswith(".part")] == []
