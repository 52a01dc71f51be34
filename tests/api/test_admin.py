"""Admin API: upload and ingest (then build), build, key management, reading the audit log."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient

from kb.api.routes import admin
from kb.security.audit import AuditLog
from kb.settings import Settings
from tests.api.conftest import MakeClient

FAQ = """id,question,answer,department,category,published
U1,犬の登録はどこでできますか。,生活環境課で登録と狂犬病予防注射済票の交付を行います。,生活環境課,ペット,true
U2,,答えだけの行,生活環境課,ペット,true
"""
DEPTS = """name,duties,phone,location,hours
生活環境課,犬の登録・狂犬病予防,099-555-1120,東館2階,平日 8:30～17:15
"""


def settings_of(client: TestClient) -> Settings:
    settings: Settings = client.app.state.settings  # type: ignore[attr-defined]
    return settings


def upload(client: TestClient, *files: tuple[str, bytes], **params: Any) -> Any:
    return client.post(
        "/api/v1/admin/ingest",
        params=params,
        files=[("files", (name, data, "application/octet-stream")) for name, data in files],
    )


def test_upload_ingests_builds_and_the_new_entry_is_searchable(make_client: MakeClient) -> None:
    client = make_client(role="admin")
    r = upload(client, ("faq.csv", FAQ.encode()), ("departments.csv", DEPTS.encode("cp932")))
    assert r.status_code == 200, r.text
    body = r.json()
    assert sorted(body["files"]) == ["departments.csv", "faq.csv"]
    assert body["documents"] == 1
    assert body["departments"] == 1
    assert body["added"] >= 1
    # The bad row is reported with its file and line; the good one was stored.
    assert [(e["source"], e["line"]) for e in body["errors"]] == [("faq.csv", 3)]
    assert body["build"]["chunks"] > 0
    found = client.get("/api/v1/search", params={"q": "犬の登録", "k": 3}).json()
    assert found["faqs"][0]["id"] == "U1"
    assert found["departments"][0]["phone"] == "099-555-1120"
    # The uploaded files are gone; only the store keeps (masked) content.
    uploads = settings_of(client).data_dir / "uploads"
    assert not any(uploads.rglob("*.csv"))
    audit = AuditLog(settings_of(client).audit_path)
    ingest_event = next(e for e in audit.events() if e.action == "ingest")
    audit.close()
    assert set(ingest_event.ids) == {"faq.csv", "departments.csv"}
    assert "1 row error" in ingest_event.detail
    assert "built " in ingest_event.detail


def test_upload_without_build_stores_only(make_client: MakeClient) -> None:
    client = make_client(role="admin")
    r = upload(client, ("faq.csv", FAQ.encode()), build="false")
    assert r.status_code == 200
    assert r.json()["build"] is None
    assert client.get("/api/v1/faq/U1").status_code == 404  # not indexed yet
    built = client.post("/api/v1/admin/build")
    assert built.status_code == 200
    assert built.json()["index"]
    assert client.get("/api/v1/faq/U1").status_code == 200


def test_file_names_cannot_escape_the_upload_folder(
    make_client: MakeClient, tmp_path: Path
) -> None:
    client = make_client(role="admin")
    r = upload(client, ("../../evil.csv", FAQ.encode()), build="false")
    assert r.status_code == 200
    assert r.json()["files"] == ["evil.csv"]
    assert not list(tmp_path.parent.glob("evil.csv"))
    assert not (settings_of(client).data_dir / "evil.csv").exists()


@pytest.mark.parametrize(
    ("files", "status", "message"),
    [
        ([("tool.exe", b"MZ")], 415, "unsupported file type"),
        ([("a.csv", b"x"), ("a.csv", b"y")], 422, "sent twice"),
        ([(".hidden.csv", b"x")], 422, "not usable"),
    ],
)
def test_bad_uploads_are_refused_clearly(
    make_client: MakeClient, files: list[tuple[str, bytes]], status: int, message: str
) -> None:
    r = upload(make_client(role="admin", lang="en"), *files)
    assert r.status_code == status
    assert message in r.json()["detail"]


def test_upload_needs_multipart_and_files(make_client: MakeClient) -> None:
    client = make_client(role="admin", lang="en")
    r = client.post("/api/v1/admin/ingest", json={"files": []})
    assert r.status_code == 415
    r = client.post("/api/v1/admin/ingest", data={"other": "x"}, files={"x": ("a.csv", b"")})
    assert r.status_code == 422
    assert "fields named 'files'" in r.json()["detail"]
    r = upload(client, ("faq.csv", FAQ.encode()), kind="nonsense")
    assert r.status_code == 422


def test_upload_size_limit_gives_413(make_client: MakeClient) -> None:
    client = make_client(role="admin", max_upload_bytes=2000)
    r = upload(client, ("faq.csv", b"id,question\n" + b"x" * 5000))
    assert r.status_code == 413
    assert "max_upload_bytes" in r.json()["detail"]
    assert not any((settings_of(client).data_dir / "uploads").rglob("*.csv"))


def test_upload_by_staff_or_anonymous_is_refused_before_reading_it(
    make_client: MakeClient,
) -> None:
    for role, status in ((None, 401), ("staff", 403), ("trainer", 403)):
        r = upload(make_client(role=role), ("faq.csv", FAQ.encode()))
        assert r.status_code == status


def test_a_second_ingest_or_build_while_one_runs_gets_409(make_client: MakeClient) -> None:
    client = make_client(role="admin")
    assert admin._busy.acquire(blocking=False)
    try:
        r = client.post("/api/v1/admin/build")
        assert r.status_code == 409
        assert "another ingest or build" in r.json()["detail"]
    finally:
        admin._busy.release()


def test_key_management_over_the_api(make_client: MakeClient) -> None:
    client = make_client(role="admin")
    r = client.post("/api/v1/admin/keys", json={"name": "desk-5", "role": "staff"})
    assert r.status_code == 201
    assert r.headers["cache-control"] == "no-store"
    created = r.json()
    key = created["key"]
    assert key.startswith(f"kb_{created['key_id']}_")
    me = client.get("/api/v1/me", headers={"Authorization": f"Bearer {key}"})
    assert me.json()["name"] == "desk-5"
    listed = client.get("/api/v1/admin/keys").json()["keys"]
    assert "desk-5" in [k["name"] for k in listed]
    assert all(
        set(k) == {"name", "role", "key_id", "created_at", "revoked_at", "expires_at", "active"}
        for k in listed
    )
    again = client.post("/api/v1/admin/keys", json={"name": "desk-5", "role": "staff"})
    assert again.status_code == 409
    bad = client.post("/api/v1/admin/keys", json={"name": "desk 6", "role": "staff"})
    assert bad.status_code == 422
    assert client.post("/api/v1/admin/keys", json={"name": "x", "role": "root"}).status_code == 422
    revoked = client.delete("/api/v1/admin/keys/desk-5")
    assert revoked.status_code == 200
    assert revoked.json()["active"] is False
    assert client.get("/api/v1/me", headers={"Authorization": f"Bearer {key}"}).status_code == 401
    assert client.delete("/api/v1/admin/keys/desk-5").status_code == 404
    events = client.get("/api/v1/admin/audit").json()["events"]
    assert [e["action"] for e in events] == [
        "keys.create",
        "keys.list",
        "keys.revoke",
        "auth.denied",
    ]
    # The revoked key's secret matched, so its id names the actor; a real id with a wrong
    # secret does not (anyone can read ids in kb keys list).
    key_id = next(k["key_id"] for k in listed if k["name"] == "desk-5")
    assert (events[-1]["actor"], events[-1]["detail"]) == (
        f"key:{key_id}",
        "revoked key on /api/v1/me",
    )
    forged = f"kb_{key_id}_" + "A" * 43
    assert (
        client.get("/api/v1/me", headers={"Authorization": f"Bearer {forged}"}).status_code == 401
    )
    last = client.get("/api/v1/admin/audit").json()["events"][-1]
    assert last["actor"] == "unknown"
    assert last["detail"] == f"unknown key (id {key_id} as presented) on /api/v1/me"
    assert key[12:] not in client.get("/api/v1/admin/audit").text


def test_audit_is_readable_but_not_writable_over_the_api(make_client: MakeClient) -> None:
    client = make_client(role="admin")
    client.get("/api/v1/search", params={"q": "住民票"})
    events = client.get("/api/v1/admin/audit", params={"since": "2000-01-01"}).json()["events"]
    assert [e["action"] for e in events][:1] == ["search"]
    assert client.get("/api/v1/admin/audit", params={"since": "2999-01-01"}).json() == {
        "events": []
    }
    assert client.get("/api/v1/admin/audit", params={"since": "soon"}).status_code == 422
    for method in ("PUT", "PATCH", "DELETE", "POST"):
        assert client.request(method, "/api/v1/admin/audit").status_code == 405
    audit = AuditLog(settings_of(client).audit_path)
    assert audit.verify().ok
    assert any(e.action == "audit.read" for e in audit.events())
    audit.close()


def test_upload_size_limit_holds_without_content_length(make_client: MakeClient) -> None:
    """A chunked upload (no Content-Length) is cut off once it passes the limit."""
    client = make_client(role="admin", max_upload_bytes=2000)
    boundary = "kbtestboundary"
    head = (
        f'--{boundary}\r\nContent-Disposition: form-data; name="files"; '
        f'filename="faq.csv"\r\nContent-Type: text/csv\r\n\r\n'
    ).encode()

    def body() -> Any:
        yield head
        for _ in range(10):
            yield b"x" * 1000
        yield f"\r\n--{boundary}--\r\n".encode()

    r = client.post(
        "/api/v1/admin/ingest",
        content=body(),
        headers={"Content-Type": f"multipart/form-data; boundary={boundary}"},
    )
    assert r.status_code == 413
    assert not any((settings_of(client).data_dir / "uploads").rglob("*.csv"))


def test_keys_created_over_the_api_can_expire(make_client: MakeClient) -> None:
    client = make_client(role="admin")
    r = client.post("/api/v1/admin/keys", json={"name": "temp", "role": "staff", "expires_days": 7})
    assert r.status_code == 201
    assert r.json()["expires_at"] > r.json()["created_at"]
    bad = client.post("/api/v1/admin/keys", json={"name": "t2", "role": "staff", "expires_days": 0})
    assert bad.status_code == 422
