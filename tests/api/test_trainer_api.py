"""The trainer API and page: role checks, the query log, topics, gaps, manual, candidates."""

from __future__ import annotations

import io
import shutil
import sqlite3
from contextlib import closing
from pathlib import Path

import pytest

from kb.security.audit import AuditLog
from kb.settings import Settings
from kb.store import QueryLogStore
from tests.api.conftest import MakeClient


@pytest.fixture
def trainer_root(demo_index: Path) -> Path:
    """The session's demo index (fake embedder); the query log tests count only their rows."""
    return demo_index


def copy_of_demo(demo_index: Path, target: Path) -> Path:
    """A private copy of the demo data dir whose embedding cache is the one approval uses."""
    # Not the audit log: its key stays outside the data dir, and kb refuses to extend a copied
    # log without it (kb.security.audit_key).
    ignore = shutil.ignore_patterns("querylog.sqlite*", "audit.sqlite*")
    shutil.copytree(demo_index.parent, target, ignore=ignore)
    # SQLite's backup copies what the WAL holds too (copying the file alone may not).
    with (
        closing(sqlite3.connect(target / "e.db")) as source,
        closing(sqlite3.connect(target / "embeddings.sqlite")) as copy,
    ):
        source.backup(copy)
    return target / "indexes"


def test_trainer_routes_need_the_trainer_role(make_client: MakeClient, trainer_root: Path) -> None:
    staff = make_client(trainer_root, role="staff")
    for path in ("/api/v1/trainer/topics", "/api/v1/trainer/gaps", "/api/v1/trainer/candidates"):
        r = staff.get(path)
        assert r.status_code == 403, path
        assert "detail" in r.json()
    anonymous = make_client(trainer_root, role=None)
    assert anonymous.get("/api/v1/trainer/topics").status_code == 401
    # The page itself is a public shell that logs in with the trainer role.
    page = anonymous.get("/trainer")
    assert page.status_code == 200
    assert 'src="static/auth.js" data-role="trainer"' in page.text
    assert anonymous.get("/static/trainer.js").status_code == 200


def test_searches_are_logged_masked(make_client: MakeClient, trainer_root: Path) -> None:
    client = make_client(trainer_root, role="trainer")
    log_path = trainer_root.parent / "querylog.sqlite"
    before = QueryLogStore(log_path).count()
    q = "山田太郎です。電話は090-1234-5678、メールは yamada@example.jp、粗大ごみを出したい"
    assert client.get("/api/v1/search", params={"q": q}).status_code == 200
    assert client.get("/public/v1/faq/search", params={"q": "粗大ごみの出し方"}).status_code == 200
    assert client.get("/public/v1/faq/suggest", params={"q": "粗大"}).status_code == 200
    log = QueryLogStore(log_path)
    records = log.records()[before:]
    log.close()
    assert [r.source for r in records] == ["staff", "public"]  # suggest is not logged
    staff = records[0]
    assert "090-1234-5678" not in staff.query
    assert "yamada@example.jp" not in staff.query
    assert "山田" not in staff.query
    assert "粗大ごみ" in staff.query
    assert staff.top_faq_score is not None
    assert staff.result_ids
    assert records[1].result_ids[0].startswith("faq:")


def test_query_log_can_be_switched_off(make_client: MakeClient, trainer_root: Path) -> None:
    client = make_client(trainer_root, role="trainer", query_log=False)
    log = QueryLogStore(trainer_root.parent / "querylog.sqlite")
    before = log.count()
    client.get("/public/v1/faq/search", params={"q": "転入届"})
    assert log.count() == before
    log.close()


def test_topics_and_gaps(make_client: MakeClient, trainer_root: Path) -> None:
    client = make_client(trainer_root, role="trainer")
    for q in ("宇宙旅行の申し込み", "宇宙旅行の申し込み", "粗大ごみ"):
        client.get("/public/v1/faq/search", params={"q": q})
    r = client.get("/api/v1/trainer/topics", params={"department": "市民課"})
    assert r.status_code == 200
    data = r.json()
    assert data["department"] == "市民課"
    assert data["topics"]
    first = data["topics"][0]
    assert first["id"] == "市民課-01"
    assert first["size"] >= first["monthly"][max(first["monthly"], key=first["monthly"].get)]
    assert sum(first["monthly"].values()) == first["size"]
    assert len(first["representative"]) == 3
    assert first["representative"][0]["summary"]
    assert first["representative"][0]["resolution"]
    assert "市民課" in first["departments"]
    assert client.get("/api/v1/trainer/topics", params={"department": "宇宙課"}).status_code == 404
    # Who saw which case: the cases a topics view showed are named in the audit log.
    shown = {f"case:{c['id']}" for t in data["topics"] for c in t["representative"]}
    log = AuditLog.from_settings(Settings(data_dir=trainer_root.parent))
    try:
        events = [e for e in log.events() if e.action == "trainer.cases_shown"]
    finally:
        log.close()
    assert events
    assert set(events[-1].ids) == shown
    assert events[-1].detail == "topics department=市民課"

    gaps = client.get("/api/v1/trainer/gaps", params={"min_count": 2}).json()
    queries = [g["query"] for g in gaps["queries"]]
    assert "宇宙旅行の申し込み" in queries
    assert all(g["count"] >= 2 for g in gaps["queries"])
    assert gaps["searches"] >= 3
    assert gaps["rates"][-1]["searches"] >= 3
    assert client.get("/api/v1/trainer/gaps", params={"period": "year"}).status_code == 422


def test_dashboard_fragment_has_the_charts(make_client: MakeClient, trainer_root: Path) -> None:
    client = make_client(trainer_root, role="trainer")
    client.get("/public/v1/faq/search", params={"q": "犬の散歩"})
    data = client.get("/api/v1/trainer/dashboard").json()
    html = data["html"]
    assert '<svg xmlns="http://www.w3.org/2000/svg" role="img"' in html
    for chart in ("chart-topic-sizes", "chart-monthly", "chart-zero-hit"):
        assert f'id="{chart}"' in html
    topics = client.get("/api/v1/trainer/topics").json()["topics"]
    assert html.count('<g class="bar">') == min(20, len(topics))
    assert f"<td>{topics[0]['id']}</td>" in html
    assert "市民課" in data["departments"]
    assert "<script" not in html


def test_manual_draft_md_and_docx(make_client: MakeClient, trainer_root: Path) -> None:
    client = make_client(trainer_root, role="trainer")
    md = client.get("/api/v1/trainer/manual", params={"department": "市民課"})
    assert md.status_code == 200
    assert md.headers["content-type"].startswith("text/markdown")
    assert md.text.startswith("# 市民課 相談対応マニュアル（下書き）")
    assert "099-555-1101" in md.text
    assert "### 代表的な事例と対応" in md.text
    # The cases whose text the draft shows are named in the audit log, as the topics view's.
    log = AuditLog.from_settings(Settings(data_dir=trainer_root.parent))
    try:
        event = [e for e in log.events() if e.action == "trainer.cases_shown"][-1]
    finally:
        log.close()
    assert event.detail == "manual department=市民課"
    assert event.ids
    assert all(f"事例 {case_id.split(':', 1)[1]}（" in md.text for case_id in event.ids)
    docx = client.get("/api/v1/trainer/manual", params={"department": "市民課", "format": "docx"})
    assert docx.status_code == 200
    import docx as python_docx

    document = python_docx.Document(io.BytesIO(docx.content))
    assert document.core_properties.title == "市民課 相談対応マニュアル（下書き）"
    assert any(p.text == "相談の傾向" for p in document.paragraphs)
    missing = client.get("/api/v1/trainer/manual", params={"department": "宇宙課"})
    assert missing.status_code == 404
    assert "担当課「宇宙課」は担当課一覧にありません" in missing.json()["detail"]


def test_candidate_lifecycle_publishes_to_the_widget(
    make_client: MakeClient, demo_index: Path, tmp_path: Path
) -> None:
    root = copy_of_demo(demo_index, tmp_path / "data")
    client = make_client(root, role="trainer")
    gaps = client.get("/api/v1/trainer/gaps").json()
    topic_id = gaps["topics"][0]["topic_id"] if gaps["topics"] else "all-01"
    r = client.post("/api/v1/trainer/candidates", json={"topic_id": topic_id})
    assert r.status_code == 201
    candidate = r.json()
    assert candidate["status"] == "draft"
    assert candidate["id"] == "FC0001"
    assert client.post("/api/v1/trainer/candidates", json={"topic_id": "nope"}).status_code == 404

    question = "ドローンを公園で飛ばしてもよいですか。"
    answer = "公園では原則として飛ばせません。公園緑地課にご相談ください。"
    # Unpublished: the widget does not know it yet.
    found = client.get("/public/v1/faq/search", params={"q": question}).json()["faqs"]
    assert "FC0001" not in [f["id"] for f in found]
    edited = client.patch(
        "/api/v1/trainer/candidates/FC0001", json={"question": question, "answer": answer}
    ).json()
    assert edited["question"] == question

    approved = client.post("/api/v1/trainer/candidates/FC0001/approve")
    assert approved.status_code == 200
    body = approved.json()
    assert body["candidate"]["status"] == "approved"
    assert body["seconds"] > 0
    assert body["embedded"] == 1  # only the new entry; everything else from the cache
    found = client.get("/public/v1/faq/search", params={"q": question}).json()["faqs"]
    assert found[0]["id"] == "FC0001"
    assert found[0]["answer"] == answer
    listed = client.get("/api/v1/trainer/candidates").json()["candidates"]
    assert [(c["id"], c["status"]) for c in listed] == [("FC0001", "approved")]
    again = client.post("/api/v1/trainer/candidates/FC0001/approve")
    assert again.status_code == 409
    assert (
        client.patch("/api/v1/trainer/candidates/FC0001", json={"answer": "x"}).status_code == 409
    )
    assert client.post("/api/v1/trainer/candidates/FC0404/approve").status_code == 404


def test_candidates_drafted_from_cases_name_those_cases_in_the_audit_log(
    make_client: MakeClient, demo_index: Path, tmp_path: Path
) -> None:
    # A draft's question and answer are its cases' summary and resolutions: every response
    # carrying it names them, as the topics view does ("who saw case C0203").
    root = copy_of_demo(demo_index, tmp_path / "data")
    client = make_client(root, role="trainer")
    drafted = client.post("/api/v1/trainer/candidates", json={"topic_id": "all-01"})
    assert drafted.status_code == 201
    sources = drafted.json()["source_cases"]
    assert sources

    def shown() -> list[tuple[str, set[str]]]:
        log = AuditLog.from_settings(Settings(data_dir=root.parent))
        try:
            return [
                (e.detail, set(e.ids)) for e in log.events() if e.action == "trainer.cases_shown"
            ]
        finally:
            log.close()

    assert shown() == [("candidate FC0001", set(sources))]
    assert client.get("/api/v1/trainer/candidates").status_code == 200
    assert shown()[-1] == ("candidates", set(sources))
    edited = client.patch(
        "/api/v1/trainer/candidates/FC0001", json={"answer": "窓口で案内します。"}
    )
    assert edited.status_code == 200
    assert shown()[-1] == ("candidate FC0001", set(sources))
    rejected = client.post("/api/v1/trainer/candidates/FC0001/reject", json={"reason": "重複"})
    assert rejected.status_code == 200
    assert len(shown()) == 4
