"""The public FAQ API returns published FAQ entries and department contacts, nothing else."""

from __future__ import annotations

import itertools
import json
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient

from kb.store import Store
from tests.api.conftest import MakeClient
from tests.sample import DOCUMENTS

PUBLISHED = {d.doc_id.split(":")[1] for d in DOCUMENTS if d.kind == "faq" and d.published}
SECRET_DOCS = [d for d in DOCUMENTS if d.kind != "faq" or not d.published]
# Each non-public text, and a 12-character fragment of it, must never appear in a response.
SECRET_TEXTS = [t for d in SECRET_DOCS for t in (d.title, d.body, d.title[:12], d.body[:12])]

# Queries that match only cases, manual sections or the unpublished FAQ entry.
NON_PUBLIC_QUERIES = [
    "夫の物忘れがひどく、一人で介護するのが不安",  # case C1
    "相談員が事業者に連絡し、解約に応じてもらった",  # case C2 resolution
    "児童手当と転校の手続きを案内した",  # case C3
    "同居家族の有無を聞き取る",  # manual guide#1
    "契約書や請求書を確認し電話でつなぐ",  # manual guide#2
    "住民票の職権消除の手順",  # unpublished F9
    "実態調査の記録を残すこと",  # unpublished F9
]
# Parameters a curious client might try; the public routes must ignore them all.
ATTACK_PARAMS: list[dict[str, Any]] = [
    {},
    {"kind": "case"},
    {"kind": ["manual", "case"]},
    {"published_only": "false", "include_unpublished": "1"},
    {"department": "市民課", "mode": "lexical", "k": 20},
]

PUBLIC_FAQ_KEYS = {"id", "question", "answer", "category", "url", "department"}
PUBLIC_DEPT_KEYS = {"name", "phone", "location", "hours"}


def assert_public_search_body(body: dict[str, Any]) -> None:
    assert set(body) == {"query", "answered", "confidence", "faqs", "contact"}
    assert set(body["contact"]) == {"name", "phone", "hours", "url", "form_url"}
    for faq in body["faqs"]:
        assert set(faq) == PUBLIC_FAQ_KEYS
        assert faq["id"] in PUBLISHED
        if faq["department"] is not None:
            assert set(faq["department"]) == PUBLIC_DEPT_KEYS


def assert_no_secret_text(raw: str, query: str) -> None:
    for text in SECRET_TEXTS:
        if text in query:  # the echoed query is the caller's own text
            continue
        assert text not in raw, f"non-public text leaked: {text!r}"


@pytest.mark.parametrize("query", NON_PUBLIC_QUERIES)
def test_public_search_never_returns_cases_manuals_or_unpublished(
    make_client: MakeClient, query: str
) -> None:
    client = make_client(public_rate_burst=1000)
    for params in ATTACK_PARAMS:
        r = client.get("/public/v1/faq/search", params={"q": query, **params})
        assert r.status_code == 200
        assert_public_search_body(r.json())
        assert_no_secret_text(r.text.replace(json.dumps(query, ensure_ascii=False), ""), query)


@pytest.mark.parametrize("query", [*NON_PUBLIC_QUERIES, "職員向け", "職権", "内部手続き"])
def test_public_suggest_never_returns_cases_manuals_or_unpublished(
    make_client: MakeClient, query: str
) -> None:
    client = make_client(public_rate_burst=10_000)
    # Every prefix, as the widget sends them while the citizen types, with every parameter set.
    for end, params in itertools.product(range(1, len(query) + 1), ATTACK_PARAMS):
        partial = query[:end]
        r = client.get("/public/v1/faq/suggest", params={"q": partial, **params})
        assert r.status_code == 200
        body = r.json()
        assert set(body) == {"query", "suggestions"}
        for s in body["suggestions"]:
            assert set(s) == {"id", "question"}
            assert s["id"] in PUBLISHED
        assert_no_secret_text(r.text.replace(json.dumps(partial, ensure_ascii=False), ""), partial)


def test_public_search_answers_with_the_faq_and_its_department_contact(
    make_client: MakeClient,
) -> None:
    r = make_client().get("/public/v1/faq/search", params={"q": "粗大ごみを出したい"})
    assert r.status_code == 200
    top = r.json()["faqs"][0]
    assert top["id"] == "F6"
    assert top["department"] == {
        "name": "ごみ減量推進課",
        "phone": "099-555-1113",
        "location": "東館1階",
        "hours": "平日 8:30～17:15",
    }


def test_suggest_completes_a_partial_question(make_client: MakeClient) -> None:
    r = make_client().get("/public/v1/faq/suggest", params={"q": "住民"})
    assert r.json()["suggestions"][0] == {
        "id": "F1",
        "question": "住民票の写しはどこで取れますか。",
    }
    empty = make_client().get("/public/v1/faq/suggest", params={"q": "  "})
    assert empty.json()["suggestions"] == []


@pytest.mark.parametrize(
    ("path", "params"),
    [
        ("/public/v1/faq/search", {"q": ""}),
        ("/public/v1/faq/search", {"q": "あ" * 51}),
        ("/public/v1/faq/suggest", {"q": "あ" * 51}),
    ],
)
def test_public_bad_queries_get_422(
    make_client: MakeClient, path: str, params: dict[str, str]
) -> None:
    r = make_client(max_query_chars=50).get(path, params=params)
    assert r.status_code == 422
    assert "detail" in r.json()


def test_public_feedback_is_stored_and_only_for_published_faq(
    make_client: MakeClient, index_root: Path
) -> None:
    client = make_client()
    ok = client.post(
        "/public/v1/faq/feedback", json={"faq_id": "F6", "helpful": True, "query": "粗大ごみ"}
    )
    assert ok.status_code == 201
    for hidden in ("F9", "C1"):
        r = client.post("/public/v1/faq/feedback", json={"faq_id": hidden, "helpful": False})
        assert r.status_code == 404
    from kb.store import FeedbackStore

    records = FeedbackStore(index_root.parent / "feedback.sqlite").recent()
    assert [(r.source, r.helped_id, r.helpful, r.query) for r in records] == [
        ("public", "faq:F6", True, "粗大ごみ")
    ]
    typed = "粗大ごみ 連絡先 ０９０－１２３４－５６７８"
    client.post("/public/v1/faq/feedback", json={"faq_id": "F6", "helpful": True, "query": typed})
    masked = FeedbackStore(index_root.parent / "feedback.sqlite").recent()[0].query
    assert "5678" not in masked
    assert masked.startswith("粗大ごみ")


def test_public_feedback_of_all_clients_together_is_bounded(
    make_client: MakeClient, index_root: Path
) -> None:
    from kb.store import FeedbackStore

    # Well within the address's own rate (a quarter token each): the budget shared by every
    # address (2 at once) still holds.
    client = make_client(public_feedback_per_minute=4)

    def vote(peer: str) -> int:
        other = TestClient(client.app, client=(peer, 40000))
        body = {"faq_id": "F6", "helpful": True}
        return other.post("/public/v1/faq/feedback", json=body).status_code

    codes = [vote(f"198.51.100.{i}") for i in range(4)]
    assert codes == [201, 201, 503, 503]
    assert FeedbackStore(index_root.parent / "feedback.sqlite").count() == 2


def test_one_address_cannot_take_the_whole_public_feedback_budget(
    make_client: MakeClient, index_root: Path
) -> None:
    from kb.store import FeedbackStore

    # An outside attacker took all 30 at once from one address: every other citizen got 503.
    client = make_client(public_feedback_per_minute=40)
    codes = [
        client.post("/public/v1/faq/feedback", json={"faq_id": "F6", "helpful": False}).status_code
        for _ in range(6)
    ]
    assert codes == [201, 201, 429, 429, 429, 429]  # a tenth: 4 a minute, 2 at once
    citizen = TestClient(client.app, client=("198.51.100.9", 40000))
    body = {"faq_id": "F6", "helpful": True}
    assert citizen.post("/public/v1/faq/feedback", json=body).status_code == 201
    assert FeedbackStore(index_root.parent / "feedback.sqlite").count() == 3
    # The /64s of one IPv6 site share one share (a /56 held 256 of them).
    sites = [
        TestClient(client.app, client=(f"2001:db8:0:{i:x}00::1", 40000)).post(
            "/public/v1/faq/feedback", json=body
        )
        for i in range(4)
    ]
    assert [r.status_code for r in sites] == [201, 201, 429, 429]


def test_public_api_never_leaks_on_the_demo_corpus(
    make_client: MakeClient, demo_index: Path
) -> None:
    """Every case summary and manual section of the demo corpus, used as a query."""
    client = make_client(demo_index, public_rate_burst=100_000, public_search_budget_per_minute=1e9)
    store = Store(demo_index.parent / "kb.sqlite", read_only=True)
    try:
        docs = store.get_documents(store.document_ids())
    finally:
        store.close()
    published = {
        d.doc_id.split(":")[1]: d for d in docs.values() if d.kind == "faq" and d.published
    }
    hidden = [d for d in docs.values() if d.kind in ("case", "manual")]
    hidden += [d for d in docs.values() if d.kind == "faq" and not d.published]
    assert len(published) > 100
    assert any(d.kind == "faq" for d in hidden), "the demo corpus has unpublished FAQ"
    for doc in hidden[::3]:
        query = doc.title[:200]
        search = client.get("/public/v1/faq/search", params={"q": query, "kind": doc.kind})
        assert search.status_code == 200
        # Every text returned is, verbatim, a published FAQ entry's question and answer.
        for faq in search.json()["faqs"]:
            source = published[faq["id"]]
            assert (faq["question"], faq["answer"]) == (source.title, source.body)
        suggest = client.get("/public/v1/faq/suggest", params={"q": query, "kind": doc.kind})
        assert suggest.status_code == 200
        for s in suggest.json()["suggestions"]:
            assert s["question"] == published[s["id"]].title


def test_a_long_public_question_is_searched_up_to_a_sentence_end(make_client: MakeClient) -> None:
    client = make_client(public_rate_burst=1000)
    first = "粗大ごみを出したいのですが、どこに申し込めばよいですか。"
    query = first * (180 // len(first)) + "ソファとベッドと古い冷蔵庫があり、" * 10
    assert len(query) > 200
    r = client.get("/public/v1/faq/search", params={"q": query})
    assert r.status_code == 200
    body = r.json()
    assert body["query"] == first * (180 // len(first))  # what was searched
    assert body["faqs"][0]["id"] == "F6"


def test_the_public_limit_is_its_own_setting(make_client: MakeClient) -> None:
    client = make_client(public_rate_burst=1000, public_max_query_chars=20)
    r = client.get("/public/v1/faq/search", params={"q": "あ" * 21})
    assert r.status_code == 422
    assert r.json()["detail"] == "検索する言葉が 21 文字あります（20 文字まで）"
    assert client.get("/public/v1/faq/search", params={"q": "あ" * 20}).status_code == 200
    # The staff search keeps the longer limit (max_query_chars).
    assert client.get("/api/v1/search", params={"q": "住民票。" * 100}).status_code == 200
    assert client.get("/api/v1/search", params={"q": "あ" * 501}).status_code == 422
    # Suggest never embeds: it keeps the general limit.
    assert client.get("/public/v1/faq/suggest", params={"q": "あ" * 21}).status_code == 200


def test_the_public_limit_counts_characters_as_searched(make_client: MakeClient) -> None:
    """U+FDFA normalizes to 18 letters: 12 of them passed a 20-character limit as 216."""
    client = make_client(public_rate_burst=1000, public_max_query_chars=20)
    r = client.get("/public/v1/faq/search", params={"q": "\ufdfa" * 12})
    assert r.status_code == 422
    assert "（20 文字まで）" in r.json()["detail"]
    # Full-width letters normalize one for one and keep their own length.
    ok = client.get("/public/v1/faq/search", params={"q": "\uff21" * 20})
    assert ok.status_code == 200
    assert ok.json()["query"] == "\uff21" * 20


def test_default_public_limit_refuses_a_500_character_sentence(make_client: MakeClient) -> None:
    r = make_client(public_rate_burst=1000).get("/public/v1/faq/search", params={"q": "あ" * 500})
    assert r.status_code == 422
    assert "（200 文字まで）" in r.json()["detail"]


def test_the_query_log_keeps_what_was_searched(make_client: MakeClient, index_root: Path) -> None:
    client = make_client(public_rate_burst=1000, public_max_query_chars=40)
    first = "粗大ごみの申し込み先と料金を教えてください。"  # 22 of 40
    r = client.get("/public/v1/faq/search", params={"q": first + "ソファを捨てたいのですが、" * 3})
    assert r.status_code == 200
    from kb.store import QueryLogStore

    log = QueryLogStore(index_root.parent / "querylog.sqlite")
    try:
        logged = [rec.query for rec in log.records()]
    finally:
        log.close()
    assert logged == [first]
