"""The staff console's API: details with related items, directory, highlights, feedback."""

from __future__ import annotations

from pathlib import Path

import pytest

from kb.store import FeedbackRecord, FeedbackStore
from tests.api.conftest import MakeClient


def test_faq_detail_has_related_items_without_itself(make_client: MakeClient) -> None:
    r = make_client().get("/api/v1/faq/F4")
    assert r.status_code == 200
    body = r.json()
    assert body["question"] == "親の物忘れがひどく認知症が心配です。"
    assert body["departments"] == ["高齢者支援課"]
    assert body["published"] is True
    related = body["related"]
    assert "F4" not in [f["id"] for f in related["faqs"]]
    assert related["cases"][0]["id"] == "C1"
    assert related["manuals"][0]["id"] == "guide#1"


def test_staff_see_unpublished_faq(make_client: MakeClient) -> None:
    body = make_client().get("/api/v1/faq/F9").json()
    assert body["published"] is False


def test_case_and_manual_details(make_client: MakeClient) -> None:
    client = make_client()
    case = client.get("/api/v1/cases/C2").json()
    assert case["departments"] == ["消費生活センター"]
    assert case["date"] == "2025-09-10"
    assert case["channel"] == "電話"
    assert "C2" not in [c["id"] for c in case["related"]["cases"]]
    assert case["related"]["faqs"][0]["id"] == "F5"
    manual = client.get("/api/v1/manuals/guide%232").json()
    assert manual["heading"] == "4. 消費者被害 > 4.1 消費者被害の相談"
    assert manual["title"] == "総合相談窓口マニュアル"


@pytest.mark.parametrize("path", ["/api/v1/faq/C1", "/api/v1/cases/F1", "/api/v1/cases/nope"])
def test_unknown_or_wrong_kind_ids_are_404(make_client: MakeClient, path: str) -> None:
    r = make_client().get(path)
    assert r.status_code == 404
    assert "no " in r.json()["detail"]


def test_directory_lists_every_department(make_client: MakeClient) -> None:
    deps = make_client().get("/api/v1/departments").json()["departments"]
    assert len(deps) == 5
    by_name = {d["name"]: d for d in deps}
    assert by_name["市民課"]["phone"] == "099-555-1101"
    assert by_name["消費生活センター"]["location"] == "市民会館3階"


def test_highlight_uses_mecab_lemmas_not_substrings(make_client: MakeClient) -> None:
    text = "夫の物忘れがひどく、市民課で引っ越した後の手続き"
    r = make_client().post(
        "/api/v1/highlight", json={"q": "物忘れが酷い 引っ越す 市", "texts": [text, ""]}
    )
    assert r.status_code == 200
    body = r.json()
    marked = [text[s:e] for s, e in body["spans"][0]]
    assert "物忘れ" in marked
    assert "ひどく" in marked  # lemma 酷い matches the query's 酷い
    assert "引っ越し" in marked  # the verb 引っ越す, conjugated
    assert "市" not in marked  # the 市 inside 市民課 is another word
    assert body["spans"][1] == []


def test_highlight_offsets_are_utf16_for_the_browser(make_client: MakeClient) -> None:
    text = "𠮟られた後に粗大ごみ"  # 𠮟 is outside the BMP: two UTF-16 code units
    body = make_client().post("/api/v1/highlight", json={"q": "粗大ごみ", "texts": [text]}).json()
    utf16 = text.encode("utf-16-le")
    marked = [utf16[2 * s : 2 * e].decode("utf-16-le") for s, e in body["spans"][0]]
    assert "".join(marked) == "粗大ごみ"


def test_staff_feedback_is_stored_with_query_shown_and_time(
    make_client: MakeClient, index_root: Path
) -> None:
    client = make_client()
    shown = ["department:高齢者支援課", "faq:F4", "case:C1"]
    r = client.post(
        "/api/v1/feedback", json={"query": "母が認知症", "shown": shown, "helped_id": "faq:F4"}
    )
    assert r.status_code == 201
    r2 = client.post(
        "/api/v1/feedback",
        json={"query": "母が認知症", "shown": shown, "right_department": "介護保険課"},
    )
    assert r2.status_code == 201
    assert r2.json()["id"] > r.json()["id"]
    stored = FeedbackStore(index_root.parent / "feedback.sqlite").recent()
    assert [(s.source, s.query, s.shown, s.helped_id, s.right_department) for s in stored] == [
        ("staff", "母が認知症", tuple(shown), "", "介護保険課"),
        ("staff", "母が認知症", tuple(shown), "faq:F4", ""),
    ]
    assert stored[1].created_at.startswith("20")
    listed = client.get("/api/v1/feedback").json()["feedback"]
    assert [f["id"] for f in listed] == [s.id for s in stored]


@pytest.mark.parametrize(
    ("body", "fragment"),
    [
        ({"query": "x", "shown": []}, "helped_id"),
        ({"query": "x", "right_department": "存在しない課"}, "は課の一覧にありません"),
        ({"shown": []}, "query"),
    ],
)
def test_bad_feedback_is_422(
    make_client: MakeClient, body: dict[str, object], fragment: str
) -> None:
    r = make_client().post("/api/v1/feedback", json=body)
    assert r.status_code == 422
    assert fragment in r.json()["detail"]


def test_feedback_store_is_append_only_and_newest_first() -> None:
    store = FeedbackStore(None)
    first = store.add(FeedbackRecord(source="staff", query="a", helped_id="faq:F1"))
    second = store.add(
        FeedbackRecord(source="public", query="b", helped_id="faq:F2", helpful=False)
    )
    assert (first.id, second.id) == (1, 2)
    assert store.count() == 2
    recent = store.recent()
    assert [r.query for r in recent] == ["b", "a"]
    assert recent[0].helpful is False
    assert recent[1].helpful is None
    assert [r.query for r in store.recent(limit=1)] == ["b"]
    store.close()


def test_staff_page_and_widget_script_are_served(make_client: MakeClient) -> None:
    client = make_client()
    page = client.get("/staff")
    assert page.status_code == 200
    assert page.headers["content-type"].startswith("text/html")
    for pane in ("pane-departments", "pane-faqs", "pane-cases", "pane-manuals"):
        assert f'id="{pane}"' in page.text
    assert client.get("/static/console.js").status_code == 200
    widget = client.get("/public/widget.js")
    assert widget.status_code == 200
    assert "javascript" in widget.headers["content-type"]
    assert "attachShadow" in widget.text
    assert 'role: "combobox"' in widget.text


def test_cors_allows_configured_origins_on_the_public_api_only(make_client: MakeClient) -> None:
    client = make_client(public_cors_origins=["https://www.city.example.jp"])
    city = {"Origin": "https://www.city.example.jp"}
    r = client.get("/public/v1/faq/suggest", params={"q": "住民"}, headers=city)
    assert r.headers["access-control-allow-origin"] == "https://www.city.example.jp"
    other = client.get(
        "/public/v1/faq/suggest", params={"q": "住民"}, headers={"Origin": "https://evil.example"}
    )
    assert "access-control-allow-origin" not in other.headers
    staff = client.get("/api/v1/search", params={"q": "住民票"}, headers=city)
    assert "access-control-allow-origin" not in staff.headers
    preflight = client.options(
        "/public/v1/faq/feedback",
        headers={**city, "Access-Control-Request-Method": "POST",
                 "Access-Control-Request-Headers": "content-type"},
    )  # fmt: skip
    assert preflight.status_code == 200


def test_feedback_never_stores_personal_data_as_typed(
    make_client: MakeClient, index_root: Path
) -> None:
    client = make_client()
    query = "山田太郎さんから電話、折り返しは090-1234-5678 mail taro@example.jp"
    assert (
        client.post(
            "/api/v1/feedback", json={"query": query, "shown": ["faq:F4"], "helped_id": "faq:F4"}
        ).status_code
        == 201
    )
    stored = FeedbackStore(index_root.parent / "feedback.sqlite").recent()[0].query
    for secret in ("090-1234-5678", "taro@example.jp", "山田"):
        assert secret not in stored
    assert "電話" in stored


@pytest.mark.parametrize(
    ("body", "fragment"),
    [
        # Free text where an id belongs: refused, and not echoed back as typed.
        ({"shown": ["佐々木和子様 090-5555-6666"], "helped_id": "faq:F4"}, "shown[0]"),
        ({"shown": ["faq:F4", "case:090-5555-6666"], "helped_id": "faq:F4"}, "shown[1]"),
        ({"shown": ["faq:F4", "note:佐々木和子"], "helped_id": "faq:F4"}, "shown[1]"),
        ({"shown": ["faq:F4"], "helped_id": "佐々木和子様 090-5555-6666"}, "helped_id"),
        ({"shown": ["faq:F4"], "helped_id": "case:C1"}, "helped_id"),
        ({"shown": [], "helped_id": "faq:F4"}, "helped_id"),
        (
            {"shown": ["faq:F4"], "right_department": "佐々木和子様 090-5555-6666"},
            "は課の一覧にありません",
        ),
    ],
)
def test_feedback_references_must_be_shown_documents_of_the_index(
    make_client: MakeClient, index_root: Path, body: dict[str, object], fragment: str
) -> None:
    r = make_client().post("/api/v1/feedback", json={"query": "母が認知症", **body})
    assert r.status_code == 422, r.text
    detail = r.json()["detail"]
    assert fragment in detail
    for secret in ("佐々木", "090-5555-6666"):
        assert secret not in detail
    assert FeedbackStore(index_root.parent / "feedback.sqlite").count() == 0


def test_feedback_accepts_every_kind_of_shown_document(
    make_client: MakeClient, index_root: Path
) -> None:
    shown = ["department:市民課", "faq:F4", "case:C1", "manual:guide#1"]
    client = make_client()
    for helped in shown:
        r = client.post(
            "/api/v1/feedback", json={"query": "認知症", "shown": shown, "helped_id": helped}
        )
        assert r.status_code == 201, r.text
    stored = FeedbackStore(index_root.parent / "feedback.sqlite").recent()
    assert [s.helped_id for s in reversed(stored)] == shown


def test_feedback_ids_have_a_length_limit(make_client: MakeClient) -> None:
    r = make_client().post("/api/v1/feedback", json={"query": "x", "shown": ["faq:" + "F" * 300]})
    assert r.status_code == 422


def test_staff_feedback_is_audited_with_the_query_masked(make_client: MakeClient) -> None:
    from kb.security.audit import AuditLog
    from kb.settings import Settings

    client = make_client()
    shown = ["department:高齢者支援課", "faq:F4"]
    body = {"query": "山田太郎さん 090-1234-5678 母が認知症", "shown": shown}
    r = client.post("/api/v1/feedback", json={**body, "right_department": "介護保険課"})
    assert r.status_code == 201
    settings: Settings = client.app.state.settings  # type: ignore[attr-defined]
    audit = AuditLog(settings.audit_path)
    events = [e for e in audit.events() if e.action == "feedback"]
    audit.close()
    assert len(events) == 1
    event = events[0]
    assert event.ids == tuple(shown)
    assert "right department 介護保険課" in event.detail
    assert f"feedback {r.json()['id']}" in event.detail
    assert "090-1234-5678" not in event.query
    assert "山田" not in event.query
    assert "認知症" in event.query
