"""DELETE /api/v1/admin/documents/{id}: admin only, 404/422/409, gone from every route at once."""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from kb.api.app import create_app
from kb.embed.embedder import FakeEmbedder
from kb.index.lock import writer_lock
from kb.index.update import ingest_and_build
from kb.search.config import SearchConfig
from kb.search.service import SearchService
from kb.security.audit import AuditLog
from kb.settings import Settings
from tests.api.conftest import create_key

EMB = FakeEmbedder(64)
FAQ = (
    "id,question,answer,department\n"
    "F1,転入の手続きを教えてください,引っ越してきた日から14日以内に市民課へ届け出てください,市民課\n"
    "F2,粗大ごみの出し方を知りたい,粗大ごみは電話で申し込み、処理券を貼って出してください,環境課\n"
    "F3,住民票の写しはどこで取れますか,市民課の窓口かコンビニで取れます,市民課\n"
)


@pytest.fixture
def settings(tmp_path: Path) -> Settings:
    settings = Settings(data_dir=tmp_path / "data")
    (tmp_path / "faq.csv").write_text(FAQ, encoding="utf-8")
    out = ingest_and_build(settings, [tmp_path / "faq.csv"], embedder=EMB)
    assert out.ingest.ok, out.ingest.errors
    return settings


@pytest.fixture
def app_clients(settings: Settings) -> Iterator[dict[str, TestClient]]:
    app = create_app(
        settings,
        service_factory=lambda: SearchService(
            settings.index_root, EMB, SearchConfig.from_settings(settings)
        ),
        load_in_background=False,
    )
    clients: dict[str, TestClient] = {}
    for role in ("admin", "trainer", "staff", "public"):
        client = TestClient(app)
        if role != "public":
            client.headers["Authorization"] = "Bearer " + create_key(settings, role, f"k-{role}")
        clients[role] = client
    with clients["admin"]:
        yield clients


def _suggested(client: TestClient, q: str) -> list[str]:
    r = client.get("/public/v1/faq/suggest", params={"q": q})
    assert r.status_code == 200
    return [s["id"] for s in r.json()["suggestions"]]


def _found(client: TestClient, q: str) -> list[str]:
    r = client.get("/public/v1/faq/search", params={"q": q})
    assert r.status_code == 200
    return [f["id"] for f in r.json()["faqs"]]


def test_a_deleted_faq_leaves_search_suggest_and_its_detail_route_at_once(
    app_clients: dict[str, TestClient], settings: Settings
) -> None:
    admin, staff, public = app_clients["admin"], app_clients["staff"], app_clients["public"]
    assert "F2" in _suggested(public, "粗大ごみ")
    assert "F2" in _found(public, "粗大ごみの出し方を知りたい")
    assert staff.get("/api/v1/faq/F2").status_code == 200

    r = admin.delete("/api/v1/admin/documents/faq:F2")

    assert r.status_code == 200, r.text
    body = r.json()
    assert body["removed"] == ["faq:F2"]
    assert body["erased"] is False
    assert body["index"]
    assert "F2" not in _suggested(public, "粗大ごみ")
    assert "F2" not in _found(public, "粗大ごみの出し方を知りたい")
    assert staff.get("/api/v1/faq/F2").status_code == 404
    staff_found = staff.get("/api/v1/search", params={"q": "粗大ごみの出し方", "k": 10}).json()
    assert "F2" not in [f["id"] for f in staff_found["faqs"]]
    assert "F1" in _suggested(public, "転入")  # the others stay
    audit = AuditLog.from_settings(settings)
    try:
        deletes = [e for e in audit.events() if e.action.startswith("delete")]
    finally:
        audit.close()
    assert [(e.action, e.actor, e.role, e.ids) for e in deletes] == [
        ("delete.start", "k-admin", "admin", ("faq:F2",)),
        ("delete", "k-admin", "admin", ("faq:F2",)),
    ]


def test_unknown_and_malformed_ids_change_nothing(app_clients: dict[str, TestClient]) -> None:
    admin = app_clients["admin"]
    r = admin.delete("/api/v1/admin/documents/faq:F99")
    assert r.status_code == 404
    assert "faq:F99" in r.json()["detail"]
    r = admin.delete("/api/v1/admin/documents/F1")
    assert r.status_code == 422
    assert "faq:F0001" in r.json()["detail"]
    assert "F1" in _suggested(app_clients["public"], "転入")


@pytest.mark.parametrize(("role", "status"), [("trainer", 403), ("staff", 403), ("public", 401)])
def test_only_an_admin_may_delete(
    app_clients: dict[str, TestClient], role: str, status: int
) -> None:
    r = app_clients[role].delete("/api/v1/admin/documents/faq:F1")
    assert r.status_code == status
    assert "F1" in _suggested(app_clients["public"], "転入")


def _holding(settings: Settings, seconds: float) -> threading.Thread:
    """A thread holding the writer lock (an ingest) for ``seconds``, once it holds it."""
    held = threading.Event()

    def hold() -> None:
        with writer_lock(settings, "ingest"):
            held.set()
            time.sleep(seconds)

    t = threading.Thread(target=hold)
    t.start()
    held.wait(10)
    return t


def test_a_delete_waits_for_another_writer(
    app_clients: dict[str, TestClient], settings: Settings
) -> None:
    # An erasure waits (api_writer_wait, 30 s) instead of answering 409 at once.
    t = _holding(settings, 0.5)
    try:
        r = app_clients["admin"].delete("/api/v1/admin/documents/faq:F1")
    finally:
        t.join()
    assert r.status_code == 200, r.text
    assert "F1" not in _suggested(app_clients["public"], "転入")


def test_a_delete_gets_409_when_the_other_writer_outlasts_its_wait(
    app_clients: dict[str, TestClient], settings: Settings
) -> None:
    admin = app_clients["admin"]
    admin.app.state.settings = settings.model_copy(update={"api_writer_wait": 0.3})  # type: ignore[attr-defined]
    t = _holding(settings, 2.0)
    try:
        r = admin.delete("/api/v1/admin/documents/faq:F1")
    finally:
        t.join()
    assert r.status_code == 409
    assert "ingest" in r.json()["detail"]
    assert "F1" in _suggested(app_clients["public"], "転入")


def test_a_procedure_leaves_the_life_event_checklist(
    settings: Settings, tmp_path: Path, app_clients: dict[str, TestClient]
) -> None:
    src = tmp_path / "procedures.csv"
    src.write_text(
        "id,手続き名,担当課,ライフイベント\nP1,転入届,市民課,転入\nP2,国保の加入,保険年金課,転入\n",
        encoding="utf-8",
    )
    assert ingest_and_build(settings, [src], embedder=EMB).ingest.ok
    staff, admin = app_clients["staff"], app_clients["admin"]

    def listed() -> set[str]:
        r = staff.get("/api/v1/lifeevents", params={"event": "転入"})
        assert r.status_code == 200, r.text
        return {p for p in ("P1", "P2") if f'"id":"{p}"' in r.text}

    assert listed() == {"P1", "P2"}
    assert app_clients["trainer"].delete("/api/v1/admin/documents/procedure:P1").status_code == 403
    r = admin.delete("/api/v1/admin/documents/procedure:P1")
    assert r.status_code == 200, r.text
    assert r.json()["removed"] == ["procedure:P1"]
    assert listed() == {"P2"}
    assert admin.delete("/api/v1/admin/documents/procedure:P1").status_code == 404
