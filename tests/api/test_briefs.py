"""Briefs (事前予約) and life-event checklists over the demo index: staff only, audited."""

from __future__ import annotations

import base64
from pathlib import Path

from kb.security.audit import AuditLog
from kb.settings import Settings
from tests.api.conftest import MakeClient
from tests.e2e.demo_index import REPO

DEMO_DAY = REPO / "eval" / "bookings" / "demo-day.csv"


def briefs_audited(data_dir: Path) -> list[tuple[str, tuple[str, ...]]]:
    audit = AuditLog.from_settings(Settings(data_dir=data_dir))
    try:
        return [(e.query, e.ids) for e in audit.events() if e.action == "brief"]
    finally:
        audit.close()


def test_one_booking_gives_a_brief_audited_with_the_topic_masked(
    make_client: MakeClient, demo_index: Path
) -> None:
    client = make_client(demo_index, role="staff")
    topic = "父が亡くなった。連絡先は090-1234-5678です"
    r = client.post(
        "/api/v1/briefs", json={"topic": topic, "datetime": "2026/6/1 9:00", "channel": "来庁"}
    )
    assert r.status_code == 200, r.text
    brief = r.json()
    assert brief["booking"] == {
        "id": "", "datetime": "2026-06-01 09:00", "channel": "窓口", "topic": topic, "source": ""
    }  # fmt: skip
    assert brief["life_events"] == ["死亡"]
    assert "死亡診断書（死体検案書）" in [i["item"] for i in brief["bring"]]
    assert brief["departments"][0]["evidence"]
    assert all("resolution" in c for c in brief["cases"])
    (query, ids), *_ = briefs_audited(demo_index.parent)[-1:]
    assert "090-1234-5678" not in query
    assert "父が亡くなった" in query
    assert set(ids) >= {f"faq:{f['id']}" for f in brief["faqs"]}


def test_a_day_file_gives_ten_briefs_and_names_what_it_did_not_read(
    make_client: MakeClient, demo_index: Path
) -> None:
    client = make_client(demo_index, role="staff")
    before = len(briefs_audited(demo_index.parent))
    content = base64.b64encode(DEMO_DAY.read_bytes()).decode()
    r = client.post(
        "/api/v1/briefs/file", json={"filename": "demo-day.csv", "content_base64": content}
    )
    assert r.status_code == 200, r.text
    day = r.json()
    assert len(day["briefs"]) == 10
    assert day["ignored_columns"] == ["氏名"]
    assert day["errors"] == []
    assert "桜川 一郎" not in r.text
    assert day["briefs"][0]["booking"]["source"] == "demo-day.csv:2"
    assert len(briefs_audited(demo_index.parent)) == before + 10


def test_a_day_as_json_and_bad_rows_in_a_file(make_client: MakeClient, demo_index: Path) -> None:
    client = make_client(demo_index, role="staff")
    bookings = [
        {"topic": "赤ちゃんが生まれた", "datetime": "2026-06-01 13:00"},
        {"topic": "会社を辞めた", "datetime": "2026-06-01 09:00", "channel": "電話"},
    ]
    r = client.post("/api/v1/briefs/day", json={"bookings": bookings})
    assert r.status_code == 200, r.text
    assert [b["booking"]["datetime"] for b in r.json()["briefs"]] == [
        "2026-06-01 09:00",
        "2026-06-01 13:00",
    ]
    bad = "予約日時,相談内容\n2026/6/1 9:00,父が亡くなった\nいつか,引っ越し\n".encode()
    r = client.post(
        "/api/v1/briefs/file",
        json={"filename": "day.csv", "content_base64": base64.b64encode(bad).decode()},
    )
    assert r.status_code == 200
    assert len(r.json()["briefs"]) == 1
    assert r.json()["errors"][0] | {"message": ""} == {
        "source": "day.csv", "line": 3, "field": "予約日時", "message": ""
    }  # fmt: skip


def test_a_file_named_after_a_person_comes_back_masked(
    make_client: MakeClient, demo_index: Path
) -> None:
    # A desk names the day's file after someone ("予約_高橋昭_080…"): every brief's source and
    # every row error echo the name, masked as an ingested file's is.
    client = make_client(demo_index, role="staff")
    rows = "予約日時,相談内容\n2026/6/1 9:00,父が亡くなった\nいつか,引っ越し\n".encode()
    name = "予約_高橋昭様_080-1548-2563.csv"
    r = client.post(
        "/api/v1/briefs/file",
        json={"filename": name, "content_base64": base64.b64encode(rows).decode()},
    )
    assert r.status_code == 200, r.text
    day = r.json()
    source = day["briefs"][0]["booking"]["source"]
    assert source.endswith(".csv:2")
    assert "[電話番号]" in source
    assert day["errors"][0]["source"] == source[: -len(":2")]
    for planted in ("1548", "2563", "高橋"):
        assert planted not in r.text


def test_a_key_briefing_day_after_day_is_slowed_down(
    make_client: MakeClient, demo_index: Path
) -> None:
    from kb.api.ratelimit import RateLimiter

    # A brief is several searches: a key has a budget of bookings (BRIEFS_PER_MINUTE), a
    # day's list at once; 3 at once and one every 3 s here.
    client = make_client(demo_index, role="staff")
    now = [0.0]
    client.app.state.brief_limiter = RateLimiter(20, 3, clock=lambda: now[0])  # type: ignore[attr-defined]
    day = {
        "bookings": [
            {"topic": "赤ちゃんが生まれた", "datetime": "2026-06-01 13:00"},
            {"topic": "会社を辞めた", "datetime": "2026-06-01 09:00"},
        ]
    }
    assert client.post("/api/v1/briefs/day", json=day).status_code == 200
    again = client.post("/api/v1/briefs/day", json=day)
    assert again.status_code == 429
    assert "予約の下調べ" in again.json()["detail"]
    assert int(again.headers["Retry-After"]) >= 3
    one = {"topic": "引っ越し", "datetime": "2026/6/1 9:00"}
    assert client.post("/api/v1/briefs", json=one).status_code == 200  # the third
    assert client.post("/api/v1/briefs", json=one).status_code == 429
    rows = "予約日時,相談内容\n2026/6/1 9:00,父が亡くなった\n".encode()
    upload = {"filename": "day.csv", "content_base64": base64.b64encode(rows).decode()}
    assert client.post("/api/v1/briefs/file", json=upload).status_code == 429
    now[0] = 3.0
    assert client.post("/api/v1/briefs/file", json=upload).status_code == 200


def test_bad_requests_are_422_with_a_message(make_client: MakeClient, demo_index: Path) -> None:
    client = make_client(demo_index, role="staff")
    cases = [
        ("/api/v1/briefs", {"topic": "", "datetime": "2026/6/1 9:00"}),
        ("/api/v1/briefs", {"topic": "x", "datetime": "あした"}),
        ("/api/v1/briefs", {"topic": "あ" * 5000, "datetime": "2026/6/1 9:00"}),
        ("/api/v1/briefs/day", {"bookings": []}),
        ("/api/v1/briefs/file", {"filename": "day.pdf", "content_base64": "AAAA"}),
        ("/api/v1/briefs/file", {"filename": "day.csv", "content_base64": "%%%"}),
        ("/api/v1/briefs/file", {"filename": "day.csv", "content_base64": "5LqI57SE\n"}),
    ]
    for path, body in cases:
        r = client.post(path, json=body)
        assert r.status_code == 422, (path, body, r.text)
        assert r.json()["detail"]


def test_briefs_and_checklists_need_a_staff_key(make_client: MakeClient, demo_index: Path) -> None:
    client = make_client(demo_index, role=None)
    booking = {"topic": "父が亡くなった", "datetime": "2026/6/1 9:00"}
    assert client.post("/api/v1/briefs", json=booking).status_code == 401
    assert client.get("/api/v1/lifeevents", params={"q": "父が亡くなった"}).status_code == 401
    # The day view page is a shell, like the console.
    page = client.get("/briefs")
    assert page.status_code == 200
    assert 'src="static/briefs.js"' in page.text


def test_lifeevents_recognises_and_filters(make_client: MakeClient, demo_index: Path) -> None:
    client = make_client(demo_index, role="staff")
    r = client.get("/api/v1/lifeevents", params={"q": "引っ越してきた 子ども2人"})
    assert r.status_code == 200, r.text
    data = r.json()
    assert data["events"] == data["recognized"] == ["転入"]
    assert data["conditions"] == data["recognized_conditions"] == ["子どもあり"]
    names = [p["name"] for g in data["groups"] for p in g["procedures"]]
    assert "児童手当の認定請求" in names
    # Ticked by hand: nothing ticked hides the procedures for households with children.
    r = client.get("/api/v1/lifeevents", params={"q": "引っ越してきた 子ども2人", "ticked": "true"})
    ticked = [p["name"] for g in r.json()["groups"] for p in g["procedures"]]
    assert "児童手当の認定請求" not in ticked
    assert "転入届" in ticked
    # The counsellor picks another event; conditions by their other spellings too.
    r = client.get("/api/v1/lifeevents", params={"q": "", "event": "おくやみ", "condition": "国保"})
    assert r.json()["events"] == ["死亡"]
    assert "国保加入" in r.json()["conditions"]
    assert client.get("/api/v1/lifeevents", params={"q": "住民票の写し"}).json()["events"] == []
    assert client.get("/api/v1/lifeevents", params={"event": "宝くじ"}).status_code == 422


def test_search_json_is_unchanged(make_client: MakeClient, demo_index: Path) -> None:
    client = make_client(demo_index, role="staff")
    data = client.get("/api/v1/search", params={"q": "父が亡くなった"}).json()
    assert not {"life_events", "procedures", "bring", "checklist"} & set(data)
