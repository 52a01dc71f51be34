"""Hostile text through every text field of the API (hypothesis), and its documented maxima.

Highlight, staff search, public search and suggest, staff and public feedback each get texts
from ``tests/hostile.py`` (long one-character runs, NUL, lone surrogates where JSON can carry
them, combining marks, bidi controls, emoji sequences). Every answer must be a 2xx or a 4xx with
a JSON ``detail``, never a 5xx, and what is stored must be readable back. The lengths that
crashed MeCab (and with it the server) are reproduced in a subprocess in
``tests/test_hostile_input.py``.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

import pytest
from fastapi.testclient import TestClient
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from kb.api.app import create_app
from kb.api.limits import HIGHLIGHT_MAX_TEXTS, HIGHLIGHT_TEXT_MAX_CHARS
from kb.embed.embedder import FakeEmbedder
from kb.index.builder import build_index
from kb.search.service import SearchService
from kb.security.keys import KeyStore
from kb.settings import Settings
from kb.store import EmbeddingCache, Store
from kb.text.mecab import MeCabTokenizer
from tests.conftest import fill_store
from tests.hostile import hostile_text

FAST = settings(
    max_examples=25,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)
LEAK_MARKERS = ("Traceback (most recent call last)", 'File "/', "sqlite3.", "Exception:")

# Lone surrogates only where JSON carries them: a URL cannot (httpx could not even encode it).
json_text = hostile_text(max_run=1_500, max_pieces=8)
url_text = hostile_text(max_run=600, surrogates=False, max_pieces=6)


def _has_surrogate(text: str) -> bool:
    """Whether the server receives a lone surrogate (JSON joins an escaped high-low pair)."""
    received = json.loads(json.dumps(text))
    return any("\ud800" <= ch <= "\udfff" for ch in received)


@pytest.fixture(scope="module")
def client(tmp_path_factory: pytest.TempPathFactory) -> Iterator[TestClient]:
    root = tmp_path_factory.mktemp("fuzz-text")
    store = Store(root / "kb.sqlite")
    fill_store(store, MeCabTokenizer())
    embedder = FakeEmbedder(64)
    build_index(store, embedder, root / "indexes", cache=EmbeddingCache(root / "emb.sqlite"))
    store.close()
    settings_ = Settings(
        data_dir=root,
        model="fake",
        public_rate_per_minute=1e6,
        public_rate_burst=1_000_000,
        public_search_budget_per_minute=1e9,
        public_feedback_per_minute=1e7,
    )
    keys = KeyStore(settings_.keys_path)
    _, key = keys.create("fuzz-text-admin", "admin")
    keys.close()
    app = create_app(
        settings_,
        service_factory=lambda: SearchService(root / "indexes", embedder),
        load_in_background=False,
    )
    with TestClient(app) as test_client:
        test_client.headers["Authorization"] = f"Bearer {key}"
        yield test_client


def _post(client: TestClient, url: str, body: dict[str, Any]) -> Any:
    """POST ``body`` as JSON written as a client may: lone surrogates as ``\\ud800`` escapes."""
    data = json.dumps(body).encode()
    return client.post(url, content=data, headers={"content-type": "application/json"})


def _answer(response: Any) -> int:
    """The status, after checking the answer is clean: no 5xx, no leak, a detail on errors."""
    status = int(response.status_code)
    assert status < 500, (status, response.text[:300])
    for marker in LEAK_MARKERS:
        assert marker not in response.text
    if status >= 400:
        assert response.json()["detail"]
    return status


@FAST
@given(json_text, st.lists(json_text, max_size=6))
def test_highlight(client: TestClient, q: str, texts: list[str]) -> None:
    response = _post(client, "/api/v1/highlight", {"q": q[:500], "texts": texts})
    status = _answer(response)
    if _has_surrogate(q[:500]) or any(_has_surrogate(t) for t in texts):
        assert status == 422
    if status == 200:
        spans = response.json()["spans"]
        assert len(spans) == len(texts)
        for text, text_spans in zip(texts, spans, strict=True):
            units = len(text.encode("utf-16-le")) // 2
            for start, end in text_spans:
                assert 0 <= start < end <= units
    else:
        assert status == 422


@FAST
@given(url_text)
def test_staff_search(client: TestClient, q: str) -> None:
    status = _answer(client.get("/api/v1/search", params={"q": q, "k": 3}))
    assert status in (200, 422)


@FAST
@given(url_text)
def test_public_search_and_suggest(client: TestClient, q: str) -> None:
    assert _answer(client.get("/public/v1/faq/search", params={"q": q})) in (200, 422)
    assert _answer(client.get("/public/v1/faq/suggest", params={"q": q})) in (200, 422)


@FAST
@given(json_text)
def test_staff_feedback_is_stored_masked_and_readable(client: TestClient, query: str) -> None:
    body = {"query": query[:500], "shown": ["faq:F1"], "helped_id": "faq:F1"}
    status = _answer(_post(client, "/api/v1/feedback", body))
    if _has_surrogate(query[:500]):
        assert status == 422
    else:
        assert status == 201
    listed = client.get("/api/v1/feedback", params={"limit": 5})
    assert _answer(listed) == 200
    for record in listed.json()["feedback"]:
        record["query"].encode()


@FAST
@given(json_text, st.booleans())
def test_public_feedback(client: TestClient, query: str, helpful: bool) -> None:
    body = {"faq_id": "F1", "helpful": helpful, "query": query[:500]}
    status = _answer(_post(client, "/public/v1/faq/feedback", body))
    if _has_surrogate(query[:500]):
        assert status == 422
    else:
        assert status < 300


@FAST
@given(json_text)
def test_hostile_ids_and_names_are_refused_cleanly(client: TestClient, text: str) -> None:
    shown = {"query": "転入", "shown": [text[:200]], "helped_id": text[:200]}
    assert _answer(_post(client, "/api/v1/feedback", shown)) == 422
    key = _post(client, "/api/v1/admin/keys", {"name": text[:64], "role": "staff"})
    assert _answer(key) in (200, 201, 409, 422)
    if _has_surrogate(text[:64]):
        assert key.status_code == 422


# --- the documented maxima ------------------------------------------------------------------


def _request_schemas(spec: dict[str, Any]) -> Iterator[tuple[str, dict[str, Any]]]:
    """``(operation, body schema)`` of every operation that takes a request body."""
    components = spec["components"]["schemas"]
    for path, methods in spec["paths"].items():
        for method, operation in methods.items():
            content = operation.get("requestBody", {}).get("content", {})
            for media in content.values():
                schema = media["schema"]
                if "$ref" in schema:
                    schema = components[schema["$ref"].rsplit("/", 1)[-1]]
                yield f"{method.upper()} {path}", schema


def _strings(schema: dict[str, Any], where: str) -> Iterator[tuple[str, dict[str, Any]]]:
    """Every string (and array) schema inside ``schema``, with where it is."""
    for option in schema.get("anyOf", []):
        yield from _strings(option, where)
    kind = schema.get("type")
    if kind == "string":
        yield where, schema
    elif kind == "array":
        yield where, schema
        yield from _strings(schema.get("items", {}), f"{where}[]")
    for name, prop in schema.get("properties", {}).items():
        yield from _strings(prop, f"{where}.{name}")


def test_every_request_text_field_documents_its_maximum(client: TestClient) -> None:
    spec = client.get("/openapi.json").json()
    checked = set()
    for operation, schema in _request_schemas(spec):
        for where, field in _strings(schema, operation):
            if "binary" in (field.get("format"), field.get("items", {}).get("format")):
                continue  # uploaded files: bounded by max_upload_bytes and max_rows_per_file
            if "enum" in field:
                continue  # one of a few words
            limit = field.get("maxLength" if field.get("type") == "string" else "maxItems")
            assert limit is not None, f"{where} has no documented maximum"
            checked.add(where)
    assert "POST /api/v1/highlight.texts[]" in checked
    assert "POST /api/v1/feedback.query" in checked
    assert "POST /public/v1/faq/feedback.query" in checked
    assert "PATCH /api/v1/trainer/candidates/{candidate_id}.answer" in checked
    highlight = spec["components"]["schemas"]["HighlightIn"]["properties"]["texts"]
    assert highlight["maxItems"] == HIGHLIGHT_MAX_TEXTS
    assert highlight["items"]["maxLength"] == HIGHLIGHT_TEXT_MAX_CHARS
    assert "20,000" in highlight["description"]


def test_every_request_text_field_has_a_description(client: TestClient) -> None:
    spec = client.get("/openapi.json").json()
    for operation, schema in _request_schemas(spec):
        for name, prop in schema.get("properties", {}).items():
            if prop.get("type") in ("string", "array") or "anyOf" in prop:
                assert prop.get("description"), f"{operation}.{name} has no description"


def test_the_fixture_reaches_the_routes(client: TestClient) -> None:
    # The fuzz tests above would pass vacuously against an app that refuses everything.
    assert client.get("/api/v1/search", params={"q": "転入"}).status_code == 200
    r = client.post("/api/v1/highlight", json={"q": "転入", "texts": ["転入届を出す"]})
    assert r.status_code == 200
    assert r.json()["spans"] == [[[0, 2]]]
