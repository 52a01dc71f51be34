"""Saying "no answer": the public and staff searches report how sure they are, and one
「正しい担当課」 vote moves rephrasings of its query only."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient

from kb.api.app import create_app
from kb.embed.embedder import FakeEmbedder
from kb.search.config import SearchConfig
from kb.search.service import SearchService
from kb.settings import Settings
from kb.store import FeedbackStore
from tests.api.conftest import MakeClient, create_key
from tests.e2e.demo_index import REPO

CONTACT = {
    "contact_name": "桜川市 総合相談窓口",
    "contact_phone": "099-555-1000",
    "contact_hours": "平日 8:30～17:15",
    "contact_url": "https://www.city.example.jp/soudan/",
    "contact_form_url": "https://www.city.example.jp/form/",
}
# Off-topic for the sample corpus whatever the fake embedder's hash collisions: no content, no
# word in common with any FAQ (「あしたの天気」 is checked on the demo corpus, tests/e2e).
OFF_TOPIC = ["zzzzzz", "。", "？？", "😀😀", "ピザの配達", "ぬぬぬぬぬぬ"]


@pytest.mark.parametrize("query", OFF_TOPIC)
def test_public_search_returns_no_faq_but_the_general_contact(
    make_client: MakeClient, query: str
) -> None:
    client = make_client(public_rate_burst=1000, **CONTACT)
    body = client.get("/public/v1/faq/search", params={"q": query}).json()
    assert body["answered"] is False
    assert body["confidence"] == "none"
    assert body["faqs"] == []
    assert body["contact"] == {
        "name": "桜川市 総合相談窓口",
        "phone": "099-555-1000",
        "hours": "平日 8:30～17:15",
        "url": "https://www.city.example.jp/soudan/",
        "form_url": "https://www.city.example.jp/form/",
    }


def test_public_search_answers_a_city_question(make_client: MakeClient) -> None:
    body = make_client().get("/public/v1/faq/search", params={"q": "粗大ごみを出したい"}).json()
    assert body["answered"] is True
    assert body["confidence"] in ("high", "low")
    assert body["faqs"][0]["id"] == "F6"
    assert body["contact"]["name"] == Settings().contact_name  # the default name, no phone
    assert body["contact"]["phone"] == ""


def test_a_refused_public_search_is_logged_as_unanswered(
    make_client: MakeClient, index_root: Path
) -> None:
    from kb.store import QueryLogStore

    client = make_client(public_rate_burst=1000)
    client.get("/public/v1/faq/search", params={"q": "ピザの配達"})
    client.get("/public/v1/faq/search", params={"q": "粗大ごみを出したい"})
    log = QueryLogStore(index_root.parent / "querylog.sqlite")
    try:
        refused, answered = log.records()
    finally:
        log.close()
    assert refused.answered is False
    assert refused.zero_hit  # the citizen saw nothing
    assert refused.result_ids == ()
    assert answered.answered is True
    assert answered.result_ids[0] == "faq:F6"


@pytest.mark.parametrize(
    ("url", "message"),
    [("javascript:alert(1)", "not a web address"), ("www.example.jp", "not a web address")],
)
def test_contact_addresses_must_be_web_addresses(url: str, message: str) -> None:
    with pytest.raises(ValueError, match=message):
        Settings(contact_url=url)
    with pytest.raises(ValueError, match=message):
        Settings(contact_form_url=url)
    assert Settings(contact_url=" https://x.example/ ").contact_url == "https://x.example/"


def test_staff_search_reports_each_pane(make_client: MakeClient) -> None:
    client = make_client(**CONTACT)
    body = client.get("/api/v1/search", params={"q": "母の物忘れがひどく認知症が心配"}).json()
    assert body["answered"] is True
    assert set(body["confidence"]) == {"faq", "case", "manual", "department"}
    assert body["confidence"]["faq"] == "high"
    assert body["contact"]["phone"] == "099-555-1000"
    # Panes stay filled for staff to judge, whatever the confidence.
    off = client.get("/api/v1/search", params={"q": "zzzzzz"}).json()
    assert off["answered"] is False
    assert set(off["confidence"].values()) == {"none"}
    # A pane left out is not judged.
    only = client.get("/api/v1/search", params={"q": "転入", "kind": ["case"]}).json()
    assert only["confidence"] == {"faq": None, "case": only["confidence"]["case"], "manual": None,
                                  "department": None}  # fmt: skip
    assert only["confidence"]["case"] in ("high", "low", "none")


@pytest.fixture(scope="module")
def wide_demo_index(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, FakeEmbedder]:
    """The demo corpus with a 512-dimensional fake embedder.

    At 64 dimensions two unrelated five-word questions often share hash buckets (cosine 0.6
    for 「母が認知症で…」 and 「国に帰るので転出…」), which no real model does.
    """
    from kb.index.builder import build_index
    from kb.ingest.pipeline import ingest
    from kb.store import Store

    data_dir = tmp_path_factory.mktemp("demo512")
    embedder = FakeEmbedder(512)
    store = Store(data_dir / "kb.sqlite")
    try:
        assert ingest([REPO / "corpus"], store).ok
        build_index(store, embedder, data_dir / "indexes")
    finally:
        store.close()
    return data_dir / "indexes", embedder


def test_one_vote_leaves_unrelated_queries_alone_and_moves_its_rephrasing(
    wide_demo_index: tuple[Path, FakeEmbedder], tmp_path: Path
) -> None:
    """The demo corpus and 50 of its eval queries unrelated to the vote's department."""
    root, embedder = wide_demo_index
    settings = Settings(data_dir=tmp_path, public_rate_burst=10_000)
    app = create_app(
        settings,
        service_factory=lambda: SearchService(
            root,
            embedder,
            SearchConfig.from_settings(settings),
            feedback_store=FeedbackStore(settings.feedback_path),
        ),
        load_in_background=False,
    )
    client = TestClient(app)
    client.headers["Authorization"] = "Bearer " + create_key(settings, "staff")
    queries = [
        json.loads(line)
        for line in (REPO / "eval/datasets/demo/queries.jsonl").read_text("utf-8").splitlines()
    ]
    unrelated = [
        q["text"] for q in queries if q.get("department") not in ("介護保険課", "高齢者支援課")
    ][:50]
    unrelated += ["道路に穴があいている", "犬の登録", "転入届", "保育園に入りたい", "粗大ごみ"]

    def departments(query: str) -> list[dict[str, Any]]:
        body = client.get("/api/v1/search", params={"q": query}).json()
        return list(body["departments"])

    def names(query: str) -> list[str]:
        return [d["name"] for d in departments(query)]

    with client:
        voted = "母が認知症で一人暮らしが心配"
        before = {q: names(q) for q in unrelated}
        assert names(voted)[0] != "介護保険課"
        r = client.post("/api/v1/feedback", json={"query": voted, "right_department": "介護保険課"})
        assert r.status_code == 201, r.text
        # The same question, and a rephrasing of it, now put the department first...
        assert names(voted)[0] == "介護保険課"
        rephrased = departments("認知症の母が一人暮らしで心配")
        assert rephrased[0]["name"] == "介護保険課"
        assert rephrased[0]["evidence"][0] == "feedback:1"
        # ...and no other question moves, nor shows the vote as evidence.
        after = {q: departments(q) for q in unrelated}
        assert {q: [d["name"] for d in found] for q, found in after.items()} == before
        assert not any(
            e.startswith("feedback:")
            for found in after.values()
            for d in found
            for e in d["evidence"]
        )
