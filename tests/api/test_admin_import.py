"""The admin upload takes a city's .xlsx with the service's column mapping, and reports in
Japanese (English with KB_LANG=en): truthful counts, warnings for rows kept, errors."""

from __future__ import annotations

import io
from pathlib import Path
from typing import Any

import openpyxl
import pytest
from fastapi.testclient import TestClient

from tests.api.conftest import MakeClient

MAPPING = '[case]\n受付No = "id"\n職員名 = "-"\n'


def _xlsx() -> bytes:
    book = openpyxl.Workbook()
    sheet = book.active
    sheet.append(["受付No", "相談日", "相談経路", "相談内容", "対応内容", "職員名"])
    sheet.append(["X1", "R6.6.1", "来庁", "転入の手続きを知りたい", "市民課を案内した", "山田"])
    sheet.append(["X2", "R6.13.1", "電話", "住民票の写し", "市民課を案内した", "山田"])
    sheet.append(["X3", 45445, "訪問", "ごみの出し方", "環境課を案内した", "山田"])
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()


def _upload(client: TestClient, name: str, data: bytes) -> Any:
    return client.post(
        "/api/v1/admin/ingest",
        params={"build": "false"},
        files=[("files", (name, data, "application/octet-stream"))],
    )


def test_an_xlsx_upload_with_the_services_mapping_reports_in_japanese(
    make_client: MakeClient, tmp_path: Path
) -> None:
    mapping = tmp_path / "columns.toml"
    mapping.write_text(MAPPING, encoding="utf-8")
    client = make_client(role="admin", columns_file=mapping, lang="ja")
    r = _upload(client, "相談記録.xlsx", _xlsx())
    assert r.status_code == 200, r.text
    body = r.json()
    assert (body["documents"], body["stored"], body["added"]) == (2, 2, 2)
    assert [(e["source"], e["line"], e["field"]) for e in body["errors"]] == [
        ("相談記録.xlsx", 3, "date")
    ]
    assert "「R6.13.1」は存在しない日付です" in body["errors"][0]["message"]
    assert [(w["line"], w["field"]) for w in body["warnings"]] == [
        (1, "職員名"),
        (2, "channel"),
        (4, "channel"),
    ]
    assert "「訪問」として保存しました" in body["warnings"][2]["message"]
    counts = "保存 2 件（新規 2・更新 0）、変更なし 0 件、警告 3 件、エラー 1 件"
    assert body["messages"][1] == counts
    assert body["messages"][-1].endswith("それ以外の 2 件は保存済みです")


def test_upload_messages_in_english_with_kb_lang_en(make_client: MakeClient) -> None:
    client = make_client(role="admin", lang="en")
    r = _upload(client, "cases.xlsx", _xlsx())
    body = r.json()
    # Without the mapping the city's headers are reported, all at once.
    assert r.status_code == 200
    assert body["stored"] == 0
    (error,) = body["errors"]
    assert "3 problem(s) with the column headers" in error["message"]
    assert "unknown column '受付No' (column 1)" in error["message"]
    assert "unknown column '職員名' (column 6)" in error["message"]
    assert "missing required column 'id' (ID, 番号" in error["message"]
    assert body["messages"][-1] == "1 problem(s) reported; no row was stored"
    r = _upload(client, "tool.exe", b"MZ")
    assert r.status_code == 415
    assert "unsupported file type" in r.json()["detail"]
    assert ".xlsx" in r.json()["detail"]


def test_refusals_of_the_upload_are_in_japanese_by_default(
    make_client: MakeClient, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("KB_LANG", raising=False)
    client = make_client(role="admin")
    r = _upload(client, "tool.exe", b"MZ")
    assert r.status_code == 415
    assert "対応していないファイル形式です" in r.json()["detail"]
    r = client.post("/api/v1/admin/ingest", json={"files": []})
    assert r.status_code == 415
    assert "multipart/form-data" in r.json()["detail"]
    assert "送ってください" in r.json()["detail"]
