"""Every limit gives a clear 4xx with a JSON body: query length, k, body size, upload size,
the maximum of every text field."""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

from fastapi.testclient import TestClient

from tests.api.conftest import MakeClient


def test_over_long_query_is_422(make_client: MakeClient) -> None:
    client = make_client(max_query_chars=20)
    r = client.get("/api/v1/search", params={"q": "あ" * 21})
    assert r.status_code == 422
    assert "（20 文字まで）" in r.json()["detail"]


def test_k_above_the_setting_is_422(make_client: MakeClient) -> None:
    client = make_client(max_k=10)
    assert client.get("/api/v1/search", params={"q": "住民票", "k": 10}).status_code == 200
    r = client.get("/api/v1/search", params={"q": "住民票", "k": 11})
    assert r.status_code == 422
    assert "1〜10 件" in r.json()["detail"]
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


def test_upload_over_the_row_limit_is_refused_with_file_and_line(make_client: MakeClient) -> None:
    client = make_client(role="admin", max_rows_per_file=3, lang="en")
    rows = "\n".join(f"U{i},質問{i}ですか。,回答{i}です。,市民課,届出,true" for i in range(5))
    csv = "id,question,answer,department,category,published\n" + rows + "\n"
    r = client.post(
        "/api/v1/admin/ingest",
        params={"build": "false"},
        files=[("files", ("big.csv", csv.encode(), "text/csv"))],
    )
    assert r.status_code == 200, r.text
    body = r.json()
    assert body["added"] == 0
    (error,) = body["errors"]
    assert error["source"] == "big.csv"
    assert error["line"] == 5
    assert "more than 3 records" in error["message"]


def test_uploaded_case_records_are_masked(make_client: MakeClient) -> None:
    client = make_client(role="admin")
    csv = (
        "id,date,channel,category,summary,resolution,department,status\n"
        "U1,2024-04-02,電話,介護,山田花子さんから090-1234-5678で相談。,受付した。,市民課,完了\n"
    )
    r = client.post(
        "/api/v1/admin/ingest",
        params={"build": "false"},
        files=[("files", ("cases.csv", csv.encode(), "text/csv"))],
    )
    assert r.status_code == 200, r.text
    from kb.store import Store

    settings = client.app.state.settings  # type: ignore[attr-defined]
    store = Store(settings.store_path)
    stored = store.get_documents(["case:U1"])["case:U1"]
    store.close()
    assert stored.title == "[氏名]さんから[電話番号]で相談。"


# --- text fields: every one has a maximum (422), none may hold a lone surrogate ---------------


def _post_json(client: TestClient, url: str, body: dict[str, Any]) -> Any:
    """POST ``body`` with lone surrogates written as JSON escapes, as a hostile client may."""
    data = json.dumps(body).encode()
    return client.post(url, content=data, headers={"content-type": "application/json"})


def test_highlight_texts_are_bounded_each_in_number_and_in_all(make_client: MakeClient) -> None:
    client = make_client(role="staff")
    ok = client.post("/api/v1/highlight", json={"q": "転入", "texts": ["転入" * 10_000]})
    assert ok.status_code == 200  # exactly HIGHLIGHT_TEXT_MAX_CHARS
    assert len(ok.json()["spans"][0]) == 1  # 10,000 adjacent matches form one span
    one = client.post("/api/v1/highlight", json={"q": "転入", "texts": ["x" * 20_001]})
    assert one.status_code == 422
    assert "texts.0" in one.json()["detail"]
    assert "20000" in one.json()["detail"]
    many = client.post("/api/v1/highlight", json={"q": "転入", "texts": ["転入"] * 201})
    assert many.status_code == 422
    assert "200" in many.json()["detail"]
    total = client.post("/api/v1/highlight", json={"q": "転入", "texts": ["転" * 20_000] * 6})
    assert total.status_code == 422
    assert "120,000 文字" in total.json()["detail"]
    assert "上限 100,000 文字" in total.json()["detail"]


def test_text_fields_over_their_maximum_are_422(make_client: MakeClient) -> None:
    client = make_client(role="admin")
    cases = [
        ("/api/v1/highlight", {"q": "あ" * 501, "texts": []}),
        ("/api/v1/feedback", {"query": "あ" * 501, "helped_id": "faq:F1", "shown": ["faq:F1"]}),
        ("/api/v1/feedback", {"query": "q", "shown": ["x" * 201]}),
        ("/api/v1/feedback", {"query": "q", "right_department": "課" * 101}),
        ("/public/v1/faq/feedback", {"faq_id": "F1", "helpful": True, "query": "あ" * 501}),
        ("/public/v1/faq/feedback", {"faq_id": "F" * 51, "helpful": True}),
        ("/api/v1/admin/keys", {"name": "n" * 65, "role": "staff"}),
        ("/api/v1/trainer/candidates", {"topic_id": "t" * 201}),
    ]
    for url, body in cases:
        r = client.post(url, json=body)
        assert r.status_code == 422, (url, r.text)
        assert "at most" in r.json()["detail"], (url, r.text)
    edit = client.patch("/api/v1/trainer/candidates/c1", json={"answer": "答" * 4001})
    assert edit.status_code == 422
    assert "4000" in edit.json()["detail"]


def test_lone_surrogates_are_422_not_500(make_client: MakeClient) -> None:
    client = make_client(role="admin")
    cases = [
        ("/api/v1/highlight", {"q": "転入\ud800", "texts": []}),
        ("/api/v1/highlight", {"q": "転入", "texts": ["ok", "転入\udfff届"]}),
        ("/api/v1/feedback", {"query": "\ud83d", "helped_id": "faq:F1", "shown": ["faq:F1"]}),
        ("/public/v1/faq/feedback", {"faq_id": "F1", "helpful": False, "query": "a\udc00"}),
        ("/api/v1/admin/keys", {"name": "desk\ud800", "role": "staff"}),
    ]
    for url, body in cases:
        r = _post_json(client, url, body)
        assert r.status_code == 422, (url, r.text)
        assert "unicode string" in r.json()["detail"], r.text
    # A surrogate pair escape is one ordinary character, not an error.
    fine = _post_json(client, "/api/v1/highlight", {"q": "転入\U0001f600", "texts": ["転入"]})
    assert fine.status_code == 200
