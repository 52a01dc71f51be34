"""Consultation records and hand-off sheets over HTTP: masking, closing into a case, audit."""

from __future__ import annotations

import csv
import io
import json
import shutil
import sqlite3
from contextlib import closing
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient
from hypothesis import HealthCheck, given, settings

from kb.ingest.pipeline import ingest
from kb.security.audit import AuditLog
from kb.settings import Settings
from kb.store import Store
from tests.api.conftest import MakeClient
from tests.hostile import hostile_text

NAME = "山田太郎"
PHONE = "090-1234-5678"
WORDS = f"{NAME}さん（電話 {PHONE}）から。隣家のソーラーパネルの反射光がまぶしくて眠れない"
ACTIONS = "環境保全課から設置者へ反射光の対策をお願いする手順を案内した"


def private_demo(demo_index: Path, target: Path) -> Path:
    """A private copy of the demo data dir (closing a record writes to it)."""
    ignore = shutil.ignore_patterns("querylog.sqlite*", "audit.sqlite*", "records.sqlite*")
    shutil.copytree(demo_index.parent, target, ignore=ignore)
    with (
        closing(sqlite3.connect(target / "e.db")) as source,
        closing(sqlite3.connect(target / "embeddings.sqlite")) as copy,
    ):
        source.backup(copy)
    return target / "indexes"


@pytest.fixture
def root(demo_index: Path, tmp_path: Path) -> Path:
    return private_demo(demo_index, tmp_path / "data")


@pytest.fixture
def client(make_client: MakeClient, root: Path) -> TestClient:
    return make_client(root, role="staff")


def all_bytes(folder: Path) -> bytes:
    """Every file of a data folder (databases, WAL files, logs) as one blob."""
    return b"".join(p.read_bytes() for p in sorted(folder.rglob("*")) if p.is_file())


def audit_events(root: Path) -> list[tuple[str, tuple[str, ...], str]]:
    log = AuditLog.from_settings(Settings(data_dir=root.parent))
    try:
        return [(e.action, tuple(e.ids), e.detail) for e in log.events()]
    finally:
        log.close()


def test_create_masks_every_text_and_audits_ids_only(client: TestClient, root: Path) -> None:
    body = {
        "citizen_words": WORDS,
        "notes": f"折り返しは {PHONE} へ。住所は中央町3丁目4番5号",
        "channel": "電話",
        "departments": ["環境保全課"],
        "queries": [f"{NAME}さん ソーラーパネル", "ソーラーパネル 反射光"],
    }
    r = client.post("/api/v1/records", json=body)
    assert r.status_code == 201, r.text
    record = r.json()
    assert record["id"] == "R000001"
    assert record["status"] == "対応中"
    assert record["channel"] == "電話"
    assert record["departments"] == ["環境保全課"]
    assert NAME not in record["citizen_words"]
    assert PHONE not in record["citizen_words"]
    assert "[電話番号]" in record["citizen_words"]
    assert "[氏名]" in record["citizen_words"]
    assert "ソーラーパネルの反射光がまぶしくて" in record["citizen_words"]
    assert "[住所]" in record["notes"]
    assert record["queries"][0].startswith("[氏名]")
    stored = all_bytes(root.parent / "records.sqlite").decode("utf-8", "replace")
    for secret in (NAME, PHONE, "中央町3丁目"):
        assert secret not in stored
    events = audit_events(root)
    created = [e for e in events if e[0] == "record.create"]
    assert created == [("record.create", ("R000001",), created[0][2])]
    audit_text = all_bytes(root.parent / "audit.sqlite").decode("utf-8", "replace")
    assert "ソーラーパネル" not in audit_text


@pytest.mark.parametrize(
    ("body", "message"),
    [
        ({"channel": "FAX"}, "相談経路"),
        ({"departments": ["存在しない課"]}, "担当課一覧にありません"),
        ({"date": "2024-02-30"}, "相談日"),
        ({"citizen_words": "あ" * 10_001}, "citizen_words"),
    ],
)
def test_bad_fields_are_422_with_the_reason(
    client: TestClient, body: dict[str, object], message: str
) -> None:
    r = client.post("/api/v1/records", json=body)
    assert r.status_code == 422
    assert message in r.json()["detail"]


def test_a_key_closing_record_after_record_is_slowed_down(client: TestClient) -> None:
    from kb.api.ratelimit import RateLimiter

    # Each close builds the index under the writer lock (CLOSES_PER_MINUTE); one a minute here.
    client.app.state.close_limiter = RateLimiter(1, 1)  # type: ignore[attr-defined]
    ids = [
        client.post(
            "/api/v1/records", json={"citizen_words": f"相談{i}", "channel": "窓口"}
        ).json()["id"]
        for i in range(2)
    ]
    assert (
        client.post(f"/api/v1/records/{ids[0]}/close", json={"actions": ACTIONS}).status_code == 200
    )
    r = client.post(f"/api/v1/records/{ids[1]}/close", json={"actions": ACTIONS})
    assert r.status_code == 429
    assert "1 分間に完了にできる相談記録" in r.json()["detail"]
    assert int(r.headers["Retry-After"]) > 0
    assert client.get(f"/api/v1/records/{ids[1]}").json()["status"] != "完了"


def test_a_key_saving_text_after_text_is_slowed_down(client: TestClient) -> None:
    from kb.api.ratelimit import RateLimiter

    # Every saved text is masked in Python: a key has a budget of characters
    # (DESK_CHARS_PER_MINUTE); 1,000 at once and 60 a second here.
    now = [0.0]
    client.app.state.desk_text_limiter = RateLimiter(  # type: ignore[attr-defined]
        3600, 1000, clock=lambda: now[0]
    )
    created = client.post("/api/v1/records", json={"notes": "あ" * 600, "channel": "窓口"})
    assert created.status_code == 201
    rid = created.json()["id"]
    r = client.patch(f"/api/v1/records/{rid}", json={"notes": "い" * 300, "queries": ["う" * 200]})
    assert r.status_code == 429
    assert "保存する文章が多すぎます" in r.json()["detail"]
    assert int(r.headers["Retry-After"]) >= 2  # 100 characters short at 60 a second
    assert client.get(f"/api/v1/records/{rid}").json()["notes"] == "あ" * 600  # not saved
    handoff = client.post("/api/v1/handoffs", json={"to_department": "市民課", "heard": "え" * 500})
    assert handoff.status_code == 429
    now[0] = 10.0  # 600 characters later
    assert client.patch(f"/api/v1/records/{rid}", json={"notes": "い" * 900}).status_code == 200


def test_a_record_says_who_changed_and_who_closed_it(
    client: TestClient, make_client: MakeClient, root: Path
) -> None:
    # An outside attacker changed and closed another counsellor's record with a key of their
    # own: the record still said only created_by, as if its author had done it.
    other = make_client(root, role="staff")
    created = client.post("/api/v1/records", json={"citizen_words": WORDS}).json()
    author = created["created_by"]
    assert created["updated_by"] == ""
    changed = other.patch(f"/api/v1/records/{created['id']}", json={"notes": "折り返し済み"})
    assert changed.status_code == 200
    editor = changed.json()["updated_by"]
    assert editor
    assert editor != author
    closed = client.post(
        f"/api/v1/records/{created['id']}/close",
        json={"actions": ACTIONS, "departments": ["環境保全課"]},
    ).json()["record"]
    assert closed["created_by"] == author
    assert closed["closed_by"] == author
    assert closed["updated_by"] == author
    assert other.get(f"/api/v1/records/{created['id']}").json()["closed_by"] == author


def test_close_makes_a_case_the_next_search_finds(client: TestClient, root: Path) -> None:
    before = client.get("/api/v1/search", params={"q": "ソーラーパネルの反射光がまぶしい"}).json()
    assert all(c["id"] != "desk-R000001" for c in before["cases"])
    rid = client.post("/api/v1/records", json={"citizen_words": WORDS, "channel": "窓口"}).json()[
        "id"
    ]
    # Closing needs what was done.
    r = client.post(f"/api/v1/records/{rid}/close")
    assert r.status_code == 422
    assert "対応内容" in r.json()["detail"]
    r = client.post(
        f"/api/v1/records/{rid}/close",
        json={"actions": ACTIONS, "departments": ["環境保全課"]},
    )
    assert r.status_code == 200, r.text
    closed = r.json()
    assert closed["record"]["status"] == "完了"
    assert closed["record"]["case_id"] == "case:desk-R000001"  # apart from the city's ids
    assert closed["embedded"] >= 1
    assert closed["cached"] > 100  # every other chunk came from the embedding cache
    after = client.get("/api/v1/search", params={"q": "ソーラーパネルの反射光がまぶしい"}).json()
    assert after["cases"][0]["id"] == "desk-R000001"
    case = client.get("/api/v1/cases/desk-R000001").json()
    assert NAME not in case["summary"]
    assert PHONE not in case["summary"]
    assert case["status"] == "完了"
    assert case["departments"] == ["環境保全課"]
    # A closed record cannot change, nor be closed again.
    assert client.patch(f"/api/v1/records/{rid}", json={"notes": "x"}).status_code == 409
    assert client.post(f"/api/v1/records/{rid}/close").status_code == 409
    actions = [e[0] for e in audit_events(root)]
    assert "record.close.start" in actions
    assert "record.close" in actions
    close_event = next(e for e in audit_events(root) if e[0] == "record.close")
    assert close_event[1] == ("R000001", "case:desk-R000001")
    # The store itself holds no personal data either.
    store = all_bytes(root.parent / "kb.sqlite").decode("utf-8", "replace")
    assert PHONE not in store


def test_list_filters_by_status_department_and_date(client: TestClient) -> None:
    ids = []
    for date, dept in (("2025-04-01", "市民課"), ("2025-05-10", "環境保全課"), ("2025-06-01", "")):
        body = {
            "citizen_words": f"{date}の相談",
            "date": date,
            "departments": [dept] if dept else [],
        }
        ids.append(client.post("/api/v1/records", json=body).json()["id"])
    client.post(f"/api/v1/records/{ids[0]}/close", json={"actions": "案内した"})

    def listed(**params: str) -> list[str]:
        r = client.get("/api/v1/records", params=params)
        assert r.status_code == 200, r.text
        return [x["id"] for x in r.json()["records"]]

    assert listed() == [ids[2], ids[1], ids[0]]  # newest consultation first
    assert listed(status="完了") == [ids[0]]
    assert listed(status="対応中") == [ids[2], ids[1]]
    assert listed(department="環境保全課") == [ids[1]]
    assert listed(date_from="2025-05-01", date_to="2025-05-31") == [ids[1]]
    assert client.get("/api/v1/records", params={"status": "保留"}).status_code == 422
    assert client.get("/api/v1/records", params={"date_from": "2025-13-01"}).status_code == 422
    assert client.get("/api/v1/records/R999999").status_code == 404
    assert client.get("/api/v1/records/../etc").status_code == 404
    # Digits str.isdigit() takes and int() refuses (superscripts: a 500 before), or reads as
    # another record's (Arabic-Indic): no record id.
    for odd in ("R²²²²²²", "R٠٠٠٠٠١"):
        assert client.get(f"/api/v1/records/{odd}").status_code == 404
        assert client.post(f"/api/v1/records/{odd}/close", json={}).status_code == 404


def test_export_csv_round_trips_through_ingest(
    client: TestClient, root: Path, tmp_path: Path
) -> None:
    for words, dept in ((WORDS, "環境保全課"), ("=1+1 と書かれた書類が届いた", "市民課")):
        rid = client.post(
            "/api/v1/records",
            json={"citizen_words": words, "channel": "電話", "departments": [dept]},
        ).json()["id"]
        client.post(f"/api/v1/records/{rid}/close", json={"actions": ACTIONS})
    r = client.get("/api/v1/records/export", params={"status": "完了"})
    assert r.status_code == 200
    assert r.headers["content-type"].startswith("text/csv")
    assert "attachment" in r.headers["content-disposition"]
    rows = list(csv.reader(io.StringIO(r.content.decode("utf-8-sig"))))
    assert rows[0][:2] == ["相談番号", "相談日"]
    by_id = {row[0]: row for row in rows[1:]}
    assert by_id["desk-R000002"][4].startswith("'=")  # no formula for Excel
    path = tmp_path / "export.csv"
    path.write_bytes(r.content)
    assert sorted(by_id) == ["desk-R000001", "desk-R000002"]  # the ids of the cases
    # Read back into the store the desk wrote: each row is its case, every field the same.
    store = Store(root.parent / "kb.sqlite")
    try:
        report = ingest([path], store)
        assert report.ok, report
        assert report.stats.added == 0  # the same cases, not copies beside them
        # desk-R000002's "=..." comes back as "'=..." (the export's formula guard): changed.
        assert (report.stats.updated, report.stats.unchanged) == (1, 1)
        docs = store.get_documents(["case:desk-R000001", "case:desk-R000002"])
    finally:
        store.close()
    served = client.get("/api/v1/cases/desk-R000001").json()
    assert docs["case:desk-R000001"].title == served["summary"]
    assert docs["case:desk-R000001"].body == served["resolution"]
    assert docs["case:desk-R000001"].departments == ("環境保全課",)
    assert docs["case:desk-R000001"].channel == "電話"
    assert docs["case:desk-R000001"].status == "完了"
    assert docs["case:desk-R000001"].date == served["date"]
    # A store without them refuses the desk's numbering (row by row, saying why).
    fresh = Store(None)
    try:
        refused = ingest([path], fresh)
        assert fresh.document_ids("case") == []
    finally:
        fresh.close()
    assert sorted((e.line, e.field) for e in refused.errors) == [(2, "id"), (3, "id")]


def test_export_xlsx_has_the_same_rows(client: TestClient) -> None:
    from openpyxl import load_workbook

    client.post("/api/v1/records", json={"citizen_words": "=HYPERLINK(1)", "channel": "窓口"})
    xlsx = client.get("/api/v1/records/export", params={"format": "xlsx"})
    text = client.get("/api/v1/records/export").content.decode("utf-8-sig")
    assert xlsx.status_code == 200
    sheet = load_workbook(io.BytesIO(xlsx.content)).active
    cells = [[c.value or "" for c in row] for row in sheet.iter_rows()]
    assert cells[0] == next(csv.reader(io.StringIO(text)))
    assert cells[1][4] == "=HYPERLINK(1)"
    assert sheet.cell(row=2, column=5).data_type == "s"  # text, not a formula
    assert cells[1][5] == "（未記入）"


def test_handoff_sheet_contact_is_never_stored_or_logged(client: TestClient, root: Path) -> None:
    rid = client.post(
        "/api/v1/records",
        json={
            "citizen_words": "母が認知症で一人暮らし。火の始末が心配",
            "notes": "近所の方から連絡",
        },
    ).json()["id"]
    r = client.post(
        f"/api/v1/records/{rid}/handoffs",
        json={"to_department": "高齢者支援課", "urgency": "至急", "bring": "介護保険証"},
    )
    assert r.status_code == 201, r.text
    handoff = r.json()
    assert handoff["record_id"] == rid
    assert handoff["summary"].startswith("母が認知症")
    assert handoff["heard"] == "近所の方から連絡"
    assert handoff["case_ids"]
    assert all(i.startswith("case:") for i in handoff["case_ids"])
    assert handoff["manual_ids"]
    assert client.get(f"/api/v1/records/{rid}").json()["handoffs"] == [handoff["id"]]

    citizen = {"citizen_name": "佐藤花子", "citizen_phone": "080-9876-5432"}
    sheet = client.post(f"/api/v1/handoffs/{handoff['id']}/sheet", json=citizen)
    assert sheet.status_code == 200
    assert sheet.headers["content-type"].startswith("text/html")
    assert "佐藤花子" in sheet.text
    assert "080-9876-5432" in sheet.text
    assert "高齢者支援課" in sheet.text
    assert "099-555-1108" in sheet.text
    assert "@page" in sheet.text
    assert "size: A4" in sheet.text
    docx = client.post(
        f"/api/v1/handoffs/{handoff['id']}/sheet", json={**citizen, "format": "docx"}
    )
    assert docx.status_code == 200
    assert docx.content[:2] == b"PK"
    without = client.post(f"/api/v1/handoffs/{handoff['id']}/sheet", json={})
    assert "佐藤花子" not in without.text
    assert "記載していません" in without.text

    everything = all_bytes(root.parent)
    for secret in ("佐藤花子", "080-9876-5432", "09876"):
        assert secret.encode() not in everything, secret
    prints = [e for e in audit_events(root) if e[0] == "handoff.print"]
    assert len(prints) == 3
    assert prints[0][2] == "html, citizen contact on the sheet"
    assert prints[2][2] == "html, citizen contact not on the sheet"
    assert prints[0][1][:2] == (handoff["id"], rid)


def test_handoff_needs_a_receiver_and_text_and_escapes_html(client: TestClient) -> None:
    r = client.post("/api/v1/handoffs", json={"summary": "相談"})
    assert r.status_code == 422
    assert "引継先" in r.json()["detail"]
    r = client.post("/api/v1/handoffs", json={"to_department": "市民課"})
    assert r.status_code == 422
    r = client.post("/api/v1/handoffs", json={"to_department": "市民課", "urgency": "そのうち"})
    assert r.status_code == 422
    r = client.post(
        "/api/v1/handoffs",
        json={"to_outside": "社会福祉協議会", "summary": "<script>alert(1)</script>住民票"},
    )
    assert r.status_code == 201
    assert r.json()["record_id"] == ""
    sheet = client.post(f"/api/v1/handoffs/{r.json()['id']}/sheet", json={})
    assert "<script>" not in sheet.text
    assert "&lt;script&gt;" in sheet.text
    assert client.post("/api/v1/handoffs/H999999/sheet", json={}).status_code == 404
    assert client.get("/api/v1/handoffs/nope").status_code == 404
    assert client.get("/api/v1/handoffs/H²²²²²²").status_code == 404
    assert client.post("/api/v1/handoffs/H²²²²²²/sheet", json={}).status_code == 404


def test_records_need_a_staff_key(make_client: MakeClient, root: Path) -> None:
    anonymous = make_client(root, role=None)
    assert anonymous.get("/api/v1/records").status_code == 401
    assert anonymous.post("/api/v1/records", json={}).status_code == 401
    assert anonymous.post("/api/v1/handoffs/H000001/sheet", json={}).status_code == 401


def send(client: TestClient, url: str, body: dict[str, object]) -> Any:
    """POST ``body`` as JSON with ``\\uXXXX`` escapes (lone surrogates cannot be UTF-8)."""
    headers = {"Content-Type": "application/json"}
    return client.post(url, content=json.dumps(body), headers=headers)


@settings(
    max_examples=25,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(text=hostile_text())
def test_hostile_text_in_every_field_never_breaks_the_server(client: TestClient, text: str) -> None:
    body = {
        "citizen_words": text,
        "notes": text,
        "actions": text,
        "category": text[:200],
        "queries": [text[:2000]],
    }
    r = send(client, "/api/v1/records", body)
    assert r.status_code in (201, 422), r.text
    if r.status_code == 422:
        assert r.json()["detail"]
        return
    record = r.json()
    assert client.get(f"/api/v1/records/{record['id']}").json() == {**record, "handoffs": []}
    h = send(
        client,
        f"/api/v1/records/{record['id']}/handoffs",
        {"to_department": "市民課", "bring": text[:1000], "to_outside": text[:200]},
    )
    assert h.status_code in (201, 422), h.text
    if h.status_code == 201:
        sheet = send(
            client,
            f"/api/v1/handoffs/{h.json()['id']}/sheet",
            {"citizen_name": text[:100], "citizen_phone": text[:100]},
        )
        assert sheet.status_code in (200, 422), sheet.text
        word = send(
            client,
            f"/api/v1/handoffs/{h.json()['id']}/sheet",
            {"citizen_name": text[:100], "format": "docx"},
        )
        assert word.status_code in (200, 422), word.text
    assert client.get("/api/v1/records/export").status_code == 200
    assert client.get("/api/v1/records/export", params={"format": "xlsx"}).status_code == 200
