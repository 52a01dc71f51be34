"""The FAQ lifecycle API: second approver, reject, revise, withdraw, 公開期限, preview, audit."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from kb.search import expiry
from kb.security.audit import AuditLog
from kb.settings import Settings
from tests.api.conftest import MakeClient, create_key
from tests.api.test_trainer_api import copy_of_demo

QUESTION = "桜川市に引っ越してきました。転入届はいつまでに、何を持って行けばいいですか。"


def _as(name: str, root: Path) -> dict[str, str]:
    """Headers of a new trainer key called ``name`` in ``root``'s data directory."""
    return {
        "Authorization": "Bearer " + create_key(Settings(data_dir=root.parent), "trainer", name)
    }


def public_ids(client: TestClient, q: str = QUESTION) -> list[str]:
    return [f["id"] for f in client.get("/public/v1/faq/search", params={"q": q}).json()["faqs"]]


def suggested(client: TestClient, q: str = "転入届") -> list[str]:
    data = client.get("/public/v1/faq/suggest", params={"q": q}).json()
    return [s["id"] for s in data["suggestions"]]


def audit_actions(root: Path) -> list[tuple[str, str, tuple[str, ...]]]:
    audit = AuditLog(Settings(data_dir=root.parent).audit_path)
    try:
        return [(e.action, e.actor, tuple(e.ids)) for e in audit.events()]
    finally:
        audit.close()


@pytest.fixture
def root(demo_index: Path, tmp_path: Path) -> Path:
    return copy_of_demo(demo_index, tmp_path / "data")


def test_second_approver_refused_for_the_drafter_accepted_for_another(
    make_client: MakeClient, root: Path
) -> None:
    client = make_client(root, role=None, faq_approvers=2)
    drafter, second, third = _as("tanaka", root), _as("suzuki", root), _as("sato", root)
    r = client.post("/api/v1/trainer/faqs/F0001/revise", headers=drafter)
    assert r.status_code == 200
    cid = r.json()["id"]
    edited = client.patch(
        f"/api/v1/trainer/candidates/{cid}",
        json={"answer": "転入届は14日以内に市民課へ。本人確認書類をお持ちください。"},
        headers=drafter,
    ).json()
    assert edited["edited_by"] == "tanaka"

    first = client.post(f"/api/v1/trainer/candidates/{cid}/approve", headers=second)
    assert first.status_code == 200
    assert first.json()["published"] is False
    assert (first.json()["approvals"], first.json()["needed"]) == (1, 2)
    assert first.json()["candidate"]["approvals"] == ["suzuki"]
    assert "14日以内に市民課へ" not in str(
        client.get("/public/v1/faq/search", params={"q": QUESTION}).json()
    )

    twice = client.post(f"/api/v1/trainer/candidates/{cid}/approve", headers=second)
    assert twice.status_code == 409
    assert "すでに承認しています" in twice.json()["detail"]
    by_drafter = client.post(f"/api/v1/trainer/candidates/{cid}/approve", headers=drafter)
    assert by_drafter.status_code == 403
    assert "tanaka さんは" in by_drafter.json()["detail"]
    assert "公開の承認はできません" in by_drafter.json()["detail"]

    done = client.post(f"/api/v1/trainer/candidates/{cid}/approve", headers=third)
    assert done.status_code == 200
    body = done.json()
    assert body["published"] is True
    assert body["candidate"]["status"] == "approved"
    assert body["candidate"]["approvals"] == ["suzuki", "sato"]
    assert body["embedded"] == 1
    found = client.get("/public/v1/faq/search", params={"q": QUESTION}).json()["faqs"]
    assert any("14日以内に市民課へ" in f["answer"] for f in found if f["id"] == "F0001")
    listed = client.get("/api/v1/trainer/candidates", headers=third).json()
    assert listed["approvers"] == 2
    actions = audit_actions(root)
    approvals = [a for a in actions if a[0] == "approve"]
    assert [a[1] for a in approvals] == ["suzuki", "sato"]
    assert ("approve.failed", "tanaka", (f"faq:{cid}",)) in actions  # the refusal is recorded
    assert ("revise", "tanaka", ("faq:F0001",)) in actions
    assert ("edit", "tanaka", (f"faq:{cid}",)) in actions


def test_reject_with_a_reason(make_client: MakeClient, root: Path) -> None:
    client = make_client(root, role="trainer")
    cid = client.post("/api/v1/trainer/faqs/F0002/revise").json()["id"]
    assert (
        client.post(f"/api/v1/trainer/candidates/{cid}/reject", json={"reason": ""}).status_code
        == 422
    )
    r = client.post(
        f"/api/v1/trainer/candidates/{cid}/reject", json={"reason": "窓口の場所が古いため"}
    )
    assert r.status_code == 200
    assert r.json()["status"] == "rejected"
    listed = client.get("/api/v1/trainer/candidates").json()["candidates"]
    assert [(c["id"], c["status"], c["reason"]) for c in listed] == [
        (cid, "rejected", "窓口の場所が古いため")
    ]
    assert client.post(f"/api/v1/trainer/candidates/{cid}/approve").status_code == 409
    assert (
        client.patch(f"/api/v1/trainer/candidates/{cid}", json={"answer": "x"}).status_code == 409
    )
    assert "reject" in [a[0] for a in audit_actions(root)]
    # A new revision may be drafted after a rejection.
    assert client.post("/api/v1/trainer/faqs/F0002/revise").json()["id"] != cid


def test_withdraw_leaves_public_search_suggest_and_feedback(
    make_client: MakeClient, root: Path
) -> None:
    client = make_client(root, role="trainer")
    assert "F0001" in public_ids(client)
    assert "F0001" in suggested(client)
    unpublished = client.get("/api/v1/trainer/faqs", params={"state": "withdrawn"}).json()
    r = client.post("/api/v1/trainer/faqs/F0001/withdraw", json={"reason": "制度改正のため"})
    assert r.status_code == 200
    assert r.json()["faq"]["published"] is False
    assert r.json()["embedded"] == 0  # unchanged text: every vector from the cache
    assert "F0001" not in public_ids(client)
    assert "F0001" not in suggested(client)
    feedback = client.post("/public/v1/faq/feedback", json={"faq_id": "F0001", "helpful": True})
    assert feedback.status_code == 404
    staff = client.get("/api/v1/search", params={"q": QUESTION}).json()["faqs"]
    assert "F0001" in [f["id"] for f in staff]  # kept for staff
    listed = client.get("/api/v1/trainer/faqs", params={"state": "withdrawn"}).json()
    assert listed["total"] == unpublished["total"] + 1
    assert "F0001" in [f["id"] for f in listed["faqs"]]
    again = client.post("/api/v1/trainer/faqs/F0001/withdraw")
    assert again.status_code == 409
    assert "すでに公開停止中" in again.json()["detail"]
    assert client.post("/api/v1/trainer/faqs/F9999/withdraw").status_code == 404
    assert client.post("/api/v1/trainer/faqs/F0001/republish").status_code == 200
    assert "F0001" in public_ids(client)
    actions = [a for a in audit_actions(root) if a[0] in ("withdraw", "republish")]
    assert [(a[0], a[2]) for a in actions] == [
        ("withdraw", ("faq:F0001",)),
        ("republish", ("faq:F0001",)),
    ]


def test_a_key_withdrawing_and_republishing_in_a_loop_is_slowed_down(
    make_client: MakeClient, root: Path
) -> None:
    from kb.api.ratelimit import RateLimiter

    client = make_client(root, role="trainer")
    # Each change builds the index under the writer lock (FAQ_CHANGES_PER_MINUTE); one here.
    client.app.state.faq_change_limiter = RateLimiter(1, 1)  # type: ignore[attr-defined]
    assert client.post("/api/v1/trainer/faqs/F0001/withdraw").status_code == 200
    r = client.post("/api/v1/trainer/faqs/F0001/republish")
    assert r.status_code == 429
    assert "公開停止・再公開は 1 分間に" in r.json()["detail"]
    withdrawn = client.get("/api/v1/trainer/faqs", params={"state": "withdrawn"}).json()
    assert "F0001" in json.dumps(withdrawn)


def test_with_two_approvers_one_person_cannot_republish(
    make_client: MakeClient, root: Path
) -> None:
    """An entry stored unpublished (職員向け) was never approved: one trainer's 再公開 would
    put it on the widget past the two-person rule. It goes through a revision instead."""
    client = make_client(root, role=None, faq_approvers=2)
    drafter, second = _as("tanaka", root), _as("suzuki", root)
    internal = "DV等支援措置の対象者について住民票の写し等の請求があった場合の取扱い"
    assert "F0014" not in public_ids(client, internal)
    r = client.post("/api/v1/trainer/faqs/F0014/republish", headers=drafter)
    assert r.status_code == 403
    assert "承認が2人必要な設定" in r.json()["detail"]
    assert "F0014" not in public_ids(client, internal)
    assert [a for a in audit_actions(root) if a[0] == "republish"] == []
    # Withdrawing still takes one person (it only takes an entry off the widget).
    assert client.post("/api/v1/trainer/faqs/F0001/withdraw", headers=drafter).status_code == 200
    assert client.post("/api/v1/trainer/faqs/F0001/republish", headers=drafter).status_code == 403
    cid = client.post("/api/v1/trainer/faqs/F0001/revise", headers=drafter).json()["id"]
    approve = f"/api/v1/trainer/candidates/{cid}/approve"
    assert client.post(approve, headers=second).status_code == 200
    assert "F0001" not in public_ids(client)  # one approval of two
    third = _as("sato", root)
    assert client.post(approve, headers=third).status_code == 200
    assert "F0001" in public_ids(client)


def test_expiry_with_a_controlled_clock(
    make_client: MakeClient, root: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    client = make_client(root, role="trainer")
    cid = client.post("/api/v1/trainer/faqs/F0001/revise").json()["id"]
    bad = client.patch(f"/api/v1/trainer/candidates/{cid}", json={"expires": "来月末"})
    assert bad.status_code == 422
    assert "公開期限の日付が読めません" in bad.json()["detail"]
    edited = client.patch(
        f"/api/v1/trainer/candidates/{cid}", json={"expires": "令和12年6月1日", "owner": "市民課"}
    ).json()
    assert edited["expires"] == "2030-06-01"
    assert client.post(f"/api/v1/trainer/candidates/{cid}/approve").status_code == 200

    monkeypatch.setattr(expiry, "today", lambda: "2030-06-01")  # its last public day
    assert "F0001" in public_ids(client)
    assert "F0001" in suggested(client)
    monkeypatch.setattr(expiry, "today", lambda: "2030-06-02")  # no rebuild in between
    assert "F0001" not in public_ids(client)
    assert "F0001" not in suggested(client)
    feedback = client.post("/public/v1/faq/feedback", json={"faq_id": "F0001", "helpful": True})
    assert feedback.status_code == 404
    staff = client.get("/api/v1/search", params={"q": QUESTION}).json()["faqs"]
    marked = next(f for f in staff if f["id"] == "F0001")
    assert marked["expired"] is True
    assert marked["expires"] == "2030-06-01"
    detail = client.get("/api/v1/faq/F0001").json()
    assert detail["expired"] is True
    listed = client.get("/api/v1/trainer/faqs", params={"state": "expired"}).json()["faqs"]
    assert [(f["id"], f["owner"]) for f in listed] == [("F0001", "市民課")]


def test_preview_is_the_public_shape_of_a_draft(make_client: MakeClient, root: Path) -> None:
    client = make_client(root, role="trainer")
    r = client.post(
        "/api/v1/trainer/preview",
        json={
            "question": "犬の鑑札をなくしました。",
            "answer": "再交付できます。",
            "department": "市民課、国際交流課",
            "url": "https://www.city.example.jp/inu",
        },
    )
    assert r.status_code == 200
    data = r.json()
    assert data["answered"] is True
    faq = data["faqs"][0]
    assert (faq["question"], faq["url"]) == (
        "犬の鑑札をなくしました。",
        "https://www.city.example.jp/inu",
    )
    assert faq["department"]["name"] == "市民課"
    assert faq["department"]["phone"]  # the directory's contact, as the widget shows it
    bad = client.post(
        "/api/v1/trainer/preview",
        json={"question": "Q", "answer": "A", "url": "javascript:alert(1)"},
    )
    assert bad.status_code == 422
    staff = make_client(root, role="staff")
    assert (
        staff.post("/api/v1/trainer/preview", json={"question": "Q", "answer": "A"}).status_code
        == 403
    )


def test_faq_list_filters(make_client: MakeClient, root: Path) -> None:
    client = make_client(root, role="trainer")
    everything = client.get("/api/v1/trainer/faqs", params={"limit": 500}).json()
    assert everything["total"] == len(everything["faqs"]) > 5
    published = client.get("/api/v1/trainer/faqs", params={"state": "published"}).json()
    assert 0 < published["total"] < everything["total"]  # the demo has unpublished entries
    assert all(f["published"] and not f["expired"] for f in published["faqs"])
    found = client.get("/api/v1/trainer/faqs", params={"q": "転入届"}).json()
    assert "F0001" in [f["id"] for f in found["faqs"]]
    assert found["total"] < everything["total"]
    cid = client.post("/api/v1/trainer/faqs/F0001/revise").json()["id"]
    again = client.get("/api/v1/trainer/faqs", params={"q": "F0001"}).json()["faqs"]
    assert next(f for f in again if f["id"] == "F0001")["revision"] == cid
    assert client.get("/api/v1/trainer/faqs", params={"state": "nope"}).status_code == 422
