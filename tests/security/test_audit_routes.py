"""What the HTTP routes write to the audit log: every id a reply carries, and an upload's or a
build's intent before the work starts."""

from __future__ import annotations

from typing import Any

import pytest
from fastapi.testclient import TestClient

from kb.security.audit import AuditEvent, AuditLog
from kb.settings import Settings
from tests.api.conftest import MakeClient, make_client  # noqa: F401 (the fixture)

FAQ = """id,question,answer,department,category,published
U1,犬の登録はどこでできますか。,生活環境課で登録と狂犬病予防注射済票の交付を行います。,生活環境課,ペット,true
"""


def audit_events(client: TestClient) -> list[AuditEvent]:
    settings: Settings = client.app.state.settings  # type: ignore[attr-defined]
    log = AuditLog(settings.audit_path, masker=str)
    try:
        return list(log.events())
    finally:
        log.close()


def upload(client: TestClient, name: str, data: bytes, **params: Any) -> Any:
    return client.post(
        "/api/v1/admin/ingest",
        params=params,
        files=[("files", (name, data, "application/octet-stream"))],
    )


@pytest.mark.parametrize(
    ("path", "own"),
    [("/api/v1/cases/C1", "case:C1"), ("/api/v1/faq/F1", "faq:F1")],
)
def test_opening_a_record_logs_it_and_every_related_id(
    make_client: MakeClient,  # noqa: F811
    path: str,
    own: str,
) -> None:
    client = make_client(role="staff")
    r = client.get(path)
    assert r.status_code == 200, r.text
    related = r.json()["related"]
    carried = (
        [own]
        + [f"faq:{f['id']}" for f in related["faqs"]]
        + [f"case:{c['id']}" for c in related["cases"]]
        + [f"manual:{m['id']}" for m in related["manuals"]]
    )
    assert len(carried) > 1
    opened = audit_events(client)[-1]
    assert (opened.action, opened.ids) == ("open", tuple(carried))


def test_a_manual_section_logs_its_related_ids_too(make_client: MakeClient) -> None:  # noqa: F811
    client = make_client(role="staff")
    r = client.get("/api/v1/manuals/guide%232")
    assert r.status_code == 200
    related = r.json()["related"]
    carried = (
        ["manual:guide#2"]
        + [f"faq:{f['id']}" for f in related["faqs"]]
        + [f"case:{c['id']}" for c in related["cases"]]
        + [f"manual:{m['id']}" for m in related["manuals"]]
    )
    opened = audit_events(client)[-1]
    assert (opened.action, opened.ids) == ("open", tuple(carried))


def test_a_search_logs_every_id_of_its_reply(make_client: MakeClient) -> None:  # noqa: F811
    client = make_client(role="staff")
    body = client.get("/api/v1/search", params={"q": "母が物忘れで介護が心配", "k": 2}).json()
    search = audit_events(client)[-1]
    assert search.action == "search"
    carried = {f"department:{d['name']}" for d in body["departments"]}
    carried |= {e for d in body["departments"] for e in d["evidence"] if ":" in e}
    carried |= {f"faq:{f['id']}" for f in body["faqs"]}
    carried |= {f"case:{c['id']}" for c in body["cases"]}
    carried |= {f"manual:{m['id']}" for m in body["manuals"]}
    carried = {c for c in carried if not c.startswith("feedback:")}
    assert set(search.ids) == carried
    assert len(search.ids) == len(set(search.ids))


def test_an_upload_records_its_intent_before_the_ingest_begins(
    make_client: MakeClient,  # noqa: F811
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """The server 'dies' inside the ingest: the intent is already in the log."""
    from kb.index import update

    client = make_client(role="admin")
    seen: list[list[str]] = []

    def dies(*args: object, **kwargs: object) -> None:
        seen.append([e.action for e in audit_events(client)])
        raise RuntimeError("killed during the build")

    monkeypatch.setattr(update, "ingest_and_build", dies)
    with pytest.raises(RuntimeError, match="killed"):  # the test client re-raises it
        upload(client, "山田太郎さん相談.csv", FAQ.encode())
    assert seen  # the ingest began...
    assert seen[0][-1] == "ingest.start"  # ...with its intent already written
    start, failed = audit_events(client)[-2:]
    assert start.action == "ingest.start"
    assert "山田太郎" not in str(start.as_dict())  # file names are masked like the text
    assert len(start.ids) == 1
    assert start.ids[0].endswith(".csv")
    assert "upload " in start.detail
    assert "build True" in start.detail
    assert (failed.action, failed.actor) == ("ingest.failed", start.actor)
    assert failed.detail == f"RuntimeError: killed during the build (start: event {start.id})"


def test_an_upload_and_a_build_write_start_and_result(make_client: MakeClient) -> None:  # noqa: F811
    client = make_client(role="admin")
    assert upload(client, "faq.csv", FAQ.encode()).status_code == 200
    assert client.post("/api/v1/admin/build").status_code == 200
    log = [e for e in audit_events(client) if e.action.startswith(("ingest", "build"))]
    assert [e.action for e in log] == ["ingest.start", "ingest", "build.start", "build"]
    assert log[0].ids == ("faq.csv",)
    assert log[1].ids == ("faq.csv",)
    assert "1 documents" in log[1].detail
    assert log[1].detail.endswith(f"(start: event {log[0].id})")
    assert log[3].detail.startswith("built ")
    assert log[3].detail.endswith(f"(start: event {log[2].id})")
    settings: Settings = client.app.state.settings  # type: ignore[attr-defined]
    verified = AuditLog(settings.audit_path, masker=str).verify()
    assert verified.ok, verified.problems
    assert verified.unfinished == ()


def test_the_server_does_not_serve_unaudited_when_the_key_is_gone(
    make_client: MakeClient,  # noqa: F811
) -> None:
    first = make_client(role="staff")
    assert first.get("/api/v1/search", params={"q": "住民票"}).status_code == 200
    settings: Settings = first.app.state.settings  # type: ignore[attr-defined]
    first.__exit__(None, None, None)
    settings.audit_key_path.unlink()
    second = make_client(role="staff")
    r = second.get("/api/v1/search", params={"q": "児童手当"})
    assert r.status_code == 503
    assert "監査ログの鍵ファイルがありません" in r.json()["detail"]


def test_an_approval_writes_its_intent_and_its_failure(
    make_client: MakeClient,  # noqa: F811
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    from kb.errors import TrainerError
    from kb.trainer.service import Trainer

    def refuse(self: Trainer, candidate_id: str, *args: object, **kwargs: object) -> None:
        raise TrainerError(f"no FAQ candidate {candidate_id!r}")

    monkeypatch.setattr(Trainer, "approve", refuse)
    client = make_client(role="trainer")
    assert client.post("/api/v1/trainer/candidates/FC0404/approve").status_code == 404
    start, failed = [e for e in audit_events(client) if e.action.startswith("approve")]
    assert (start.action, start.ids, start.role) == ("approve.start", ("faq:FC0404",), "trainer")
    assert failed.action == "approve.failed"
    assert failed.detail == f"no FAQ candidate 'FC0404' (start: event {start.id})"
