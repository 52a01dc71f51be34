"""Every limit gives a clear 4xx with a JSON body: query length, k, body size, upload size."""

from __future__ import annotations

from collections.abc import Iterator

from tests.api.conftest import MakeClient


def test_over_long_query_is_422(make_client: MakeClient) -> None:
    client = make_client(max_query_chars=20)
    r = client.get("/api/v1/search", params={"q": "あ" * 21})
    assert r.status_code == 422
    assert "at most 20" in r.json()["detail"]


def test_k_above_the_setting_is_422(make_client: MakeClient) -> None:
    client = make_client(max_k=10)
    assert client.get("/api/v1/search", params={"q": "住民票", "k": 10}).status_code == 200
    r = client.get("/api/v1/search", params={"q": "住民票", "k": 11})
    assert r.status_code == 422
    assert "at most 10" in r.json()["detail"]
    assert client.get("/api/v1/search", params={"q": "住民票", "k": 0}).status_code == 422


def test_public_result_count_is_bounded(make_client: MakeClient) -> None:
    client = make_client()
    r = client.get("/public/v1/faq/search", params={"q": "住民票", "k": 1000})
    assert r.status_code == 422
    assert r.json()["detail"]


def test_body_over_the_limit_is_413(make_client: MakeClient) -> None:
    client = make_client(max_body_bytes=2000)
    small = {"q": "住民票", "texts": ["住民票の写し"]}
    assert client.post("/api/v1/highlight", json=small).status_code == 200
    big = {"q": "住民票", "texts": ["住民票の写し" * 200]}
    r = client.post("/api/v1/highlight", json=big)
    assert r.status_code == 413
    assert r.headers["content-type"] == "application/json"
    assert "max_body_bytes" in r.json()["detail"]


def test_streamed_body_over_the_limit_is_413(make_client: MakeClient) -> None:
    client = make_client(max_body_bytes=1000)

    def chunks() -> Iterator[bytes]:
        yield b'{"q": "x", "texts": ["'
        for _ in range(50):
            yield b"a" * 100
        yield b'"]}'

    # A generator body is sent chunked, without Content-Length: counted as it streams.
    r = client.post(
        "/api/v1/highlight", content=chunks(), headers={"content-type": "application/json"}
    )
    assert r.status_code == 413
    assert "max_body_bytes" in r.json()["detail"]


def test_bad_content_length_is_400(make_client: MakeClient) -> None:
    client = make_client()
    r = client.post(
        "/public/v1/faq/feedback",
        content=b'{"faq_id": "F1", "helpful": true}',
        headers={"content-length": "abc", "content-type": "application/json"},
    )
    assert r.status_code == 400
    assert r.json()["detail"]


def test_uploads_use_their_own_larger_limit(make_client: MakeClient) -> None:
    from kb.api.limits import BodySizeLimitMiddleware

    mw = BodySizeLimitMiddleware(lambda s, r, t: None, max_body_bytes=10, max_upload_bytes=99)  # type: ignore[arg-type,return-value]
    assert mw.limit_for("/api/v1/admin/ingest") == (99, "max_upload_bytes")
    assert mw.limit_for("/api/v1/highlight") == (10, "max_body_bytes")
