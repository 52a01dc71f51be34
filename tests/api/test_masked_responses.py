"""End to end: personal data in ingested case records never comes back from the API."""

from __future__ import annotations

import dataclasses
import json
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from kb.api.app import create_app
from kb.cli import main
from kb.embed.embedder import FakeEmbedder
from kb.search.service import SearchService
from kb.settings import Settings
from tests.api.conftest import MakeClient

CASES = "\n".join(
    [
        "id,date,channel,category,summary,resolution,department,status",
        "C1,2024-04-02,窓口,介護,"
        "佐藤一郎さん（昭和20年1月2日生まれ、携帯080-2222-3333）の介護保険の相談。,"
        "介護保険課で要介護認定の申請を受付。被保険者番号 0012345678。"
        "自宅は桜川市本町2丁目3番4号。,介護保険課,完了",
        "",
    ]
)
SECRETS = ("佐藤", "一郎", "080-2222-3333", "昭和20年1月2日", "0012345678", "本町2丁目3番4号")


def test_search_and_detail_never_show_personal_data(tmp_path: Path) -> None:
    src = tmp_path / "cases.csv"
    src.write_text(CASES, encoding="utf-8")
    data = tmp_path / "data"
    assert main(["--data-dir", str(data), "--model", "fake", "ingest", str(src)]) == 0
    settings = Settings(data_dir=data, model="fake")
    from kb.security.keys import KeyStore

    keys = KeyStore(settings.keys_path)
    _, key = keys.create("desk", "staff")
    keys.close()
    app = create_app(
        settings,
        service_factory=lambda: SearchService(data / "indexes", FakeEmbedder(64)),
        load_in_background=False,
    )
    with TestClient(app, headers={"Authorization": f"Bearer {key}"}) as client:
        bodies = [
            client.get("/api/v1/search", params={"q": "介護保険の相談"}),
            client.get("/api/v1/search", params={"q": "佐藤一郎"}),
            client.get("/api/v1/search", params={"q": "080-2222-3333"}),
            client.get("/api/v1/cases/C1"),
        ]
        for r in bodies:
            assert r.status_code == 200, r.text
        assert bodies[0].json()["cases"][0]["id"] == "C1"
        for r in bodies:
            shown = r.json()
            shown.pop("query", None)  # the echo of what the counsellor typed
            text = json.dumps(shown, ensure_ascii=False)
            for secret in SECRETS:
                assert secret not in text, (secret, text[:300])
        assert "[氏名]さん" in bodies[3].text


# --- no free-text field escapes masking: category, status, file names, feedback ---------------

CASE_FILE = "相談記録_佐々木和子_090-5555-6666.csv"
MASKED_FILE = "相談記録_[氏名]_[電話番号].csv"
NAMED_CASES = "\n".join(
    [
        "id,date,channel,category,summary,resolution,department,status",
        "S1,2024-05-01,電話,佐々木和子様の件,犬の登録の相談。,生活環境課へ案内した。,"
        "市民課,完了（佐々木様 090-5555-6666 へ連絡済）",
        "S2,佐々木和子 090-5555-6666,窓口,介護,相談。,案内。,市民課,完了",
        "090-5555-6666,2024-05-02,電話,介護,相談。,案内。,市民課,完了",
        "",
    ]
)
NAMED_SECRETS = ("佐々木", "和子", "090-5555-6666", "5555-6666", "09055556666")


def _assert_no_trace(text: str) -> None:
    for secret in NAMED_SECRETS:
        assert secret not in text, (secret, text[:400])


def test_admin_upload_masks_file_name_category_and_status_everywhere(
    make_client: MakeClient,
) -> None:
    from kb.security.audit import AuditLog
    from kb.store import Store

    client = make_client(role="admin")
    r = client.post(
        "/api/v1/admin/ingest",
        files=[("files", (CASE_FILE, NAMED_CASES.encode(), "text/csv"))],
    )
    assert r.status_code == 200, r.text
    body = r.json()
    upload_id = body["upload_id"]
    assert len(upload_id) == 16
    assert body["files"] == [MASKED_FILE]
    # Staff still learn which file and line to fix.
    assert [(e["source"], e["line"], e["field"]) for e in body["errors"]] == [
        (MASKED_FILE, 3, "date"),
        (MASKED_FILE, 4, "id"),
    ]
    _assert_no_trace(r.text)
    settings = client.app.state.settings  # type: ignore[attr-defined]
    store = Store(settings.store_path)
    s1 = store.get_documents(["case:S1"])["case:S1"]
    store.close()
    assert s1.source == f"upload:{upload_id}/{MASKED_FILE}:2"
    assert s1.category == "[氏名]様の件"
    audit = AuditLog(settings.audit_path)
    events = list(audit.events())
    audit.close()
    ingest_event = next(e for e in events if e.action == "ingest")
    assert ingest_event.ids == (MASKED_FILE,)
    assert f"upload {upload_id}" in ingest_event.detail
    _assert_no_trace(json.dumps([dataclasses.asdict(e) for e in events], ensure_ascii=False))
    # The new index (its snapshot) answers without any trace either.
    for q in ("犬の登録の相談", "佐々木和子", "090-5555-6666"):
        found = client.get("/api/v1/search", params={"q": q})
        assert found.status_code == 200
        shown = found.json()
        shown.pop("query")
        _assert_no_trace(json.dumps(shown, ensure_ascii=False))
    detail = client.get("/api/v1/cases/S1")
    assert detail.status_code == 200
    assert detail.json()["status"] == "完了（[氏名]様 [電話番号] へ連絡済）"
    _assert_no_trace(detail.text)


@pytest.mark.parametrize(
    ("name", "status"),
    [("佐々木和子_090-5555-6666.exe", 415), ("佐々木和子.csv", 422)],
)
def test_refused_uploads_do_not_echo_the_file_name(
    make_client: MakeClient, name: str, status: int
) -> None:
    files = [("files", (name, b"id\n", "text/csv"))]
    if status == 422:  # the same name twice
        files.append(("files", (name, b"id\n", "text/csv")))
    r = make_client(role="admin").post("/api/v1/admin/ingest", files=files)
    assert r.status_code == status
    assert "[氏名]" in r.json()["detail"]
    _assert_no_trace(r.text)


def test_cli_ingest_prints_masked_file_names_and_row_errors(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    src = tmp_path / "src"
    src.mkdir()
    (src / CASE_FILE).write_text(NAMED_CASES, encoding="utf-8")
    data = tmp_path / "data"
    assert main(["--data-dir", str(data), "--model", "fake", "ingest", str(src)]) == 1
    out = capsys.readouterr().out
    assert f"{src}/{MASKED_FILE}:3: date:" in out
    assert f"{src}/{MASKED_FILE}:4: id:" in out
    _assert_no_trace(out)
    files = [p for p in data.rglob("*") if p.is_file()]
    assert any(p.name == "kb.sqlite" for p in files)
    for path in files:  # the store, the index snapshot, the manifests...
        _assert_no_trace(path.read_bytes().decode("utf-8", "replace"))
