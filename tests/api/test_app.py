from __future__ import annotations

import threading
from collections.abc import Iterator
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from kb.api.app import create_app
from kb.embed.embedder import FakeEmbedder
from kb.search.config import SearchConfig
from kb.search.service import SearchService
from kb.settings import Settings
from tests.api.conftest import create_key


@pytest.fixture
def client(index_root: Path, fake_embedder: FakeEmbedder) -> Iterator[TestClient]:
    settings = Settings(data_dir=index_root.parent, max_query_chars=50)
    app = create_app(
        settings,
        service_factory=lambda: SearchService(
            index_root, fake_embedder, SearchConfig.from_settings(settings)
        ),
        load_in_background=False,
    )
    with TestClient(app) as c:
        c.headers["Authorization"] = "Bearer " + create_key(settings, "staff")
        yield c


def test_health_and_ready(client: TestClient) -> None:
    assert client.get("/healthz").json() == {"status": "ok"}
    ready = client.get("/readyz")
    assert ready.status_code == 200
    body = ready.json()
    assert body == {"status": "ready", "model": "fake-hash-64", "error": None}


def test_search_returns_the_documented_shape(client: TestClient) -> None:
    r = client.get("/api/v1/search", params={"q": "定期購入の解約ができない", "k": 2})
    assert r.status_code == 200
    data = r.json()
    assert set(data) == {
        "query",
        "took_ms",
        "answered",
        "confidence",
        "contact",
        "departments",
        "faqs",
        "cases",
        "manuals",
    }
    assert data["answered"] is True
    assert set(data["confidence"]) == {"faq", "case", "manual", "department"}
    assert set(data["contact"]) == {"name", "phone", "hours", "url", "form_url"}
    assert data["faqs"][0]["id"] == "F5"
    assert set(data["faqs"][0]) >= {"id", "question", "answer", "department", "score"}
    assert set(data["cases"][0]) >= {"id", "summary", "resolution", "department", "date", "score"}
    assert set(data["manuals"][0]) >= {"id", "title", "heading", "text", "score"}
    dept = data["departments"][0]
    assert dept["name"] == "消費生活センター"
    assert set(dept) == {"name", "score", "phone", "location", "hours", "evidence"}
    assert len(data["faqs"]) <= 2


@pytest.mark.parametrize(
    ("params", "fragment"),
    [
        ({"q": ""}, "検索する言葉を入力してください"),
        ({"q": "   \u3000 "}, "検索する言葉を入力してください"),
        ({"q": "あ" * 51}, "（50 文字まで）"),
        ({"q": "住民票", "k": 0}, "k"),
        ({"q": "住民票", "kind": "secret"}, "種類「secret」はありません"),
        ({"q": "住民票", "mode": "magic"}, "検索方式「magic」はありません"),
        ({"q": "住民票", "date_from": "2025/01/01"}, "date_from"),
        ({}, "q"),
    ],
)
def test_bad_queries_get_422_with_a_json_message(
    client: TestClient, params: dict[str, object], fragment: str
) -> None:
    r = client.get("/api/v1/search", params=params)
    assert r.status_code == 422
    assert fragment in r.json()["detail"]


def test_filters_pass_through(client: TestClient) -> None:
    r = client.get(
        "/api/v1/search", params={"q": "相談", "kind": "case", "department": "消費生活センター"}
    )
    data = r.json()
    assert [c["id"] for c in data["cases"]] == ["C2"]
    assert data["faqs"] == []


def test_not_ready_until_loaded(index_root: Path, fake_embedder: FakeEmbedder) -> None:
    gate = threading.Event()

    def slow_factory() -> SearchService:
        gate.wait(5)
        return SearchService(index_root, fake_embedder)

    settings = Settings(data_dir=index_root.parent)
    app = create_app(settings, service_factory=slow_factory)
    with TestClient(app) as c:
        c.headers["Authorization"] = "Bearer " + create_key(settings, "staff")
        assert c.get("/healthz").status_code == 200
        assert c.get("/readyz").status_code == 503
        assert c.get("/api/v1/search", params={"q": "住民票"}).status_code == 503
        gate.set()
        app.state.kb.wait(5)
        assert c.get("/readyz").status_code == 200


def test_a_failed_load_names_no_folder_to_anyone(index_root: Path) -> None:
    def failing() -> SearchService:
        raise FileNotFoundError("no index in /srv/city-secret/indexes")

    app = create_app(Settings(data_dir=index_root.parent), service_factory=failing)
    with TestClient(app) as c:
        app.state.kb.wait(5)
        ready = c.get("/readyz")
    assert ready.status_code == 503
    assert ready.json()["status"] == "error"
    assert "サーバーのログ" in ready.json()["error"]
    assert "city-secret" not in ready.text


def test_openapi_documents_the_search_route(client: TestClient) -> None:
    spec = client.get("/openapi.json").json()
    assert "/api/v1/search" in spec["paths"]
