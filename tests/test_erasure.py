"""An erased case leaves no text in any file kb keeps: every byte of the data folder is read.

A case carrying a unique marker is ingested (raw text kept), searched for by a resident, given
feedback on, drafted into an FAQ candidate and indexed twice; then deleted through the admin
API. Every file under the data folder and the audit folder beside it -- ``-wal``/``-shm``
files and index builds included -- is read as bytes, and no form of the marker (as written,
NFKC, normalized, masked, JSON-escaped) may be in any of them.
"""

from __future__ import annotations

import json
import unicodedata
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from kb.api.app import create_app
from kb.embed.embedder import FakeEmbedder
from kb.index.update import ingest_and_build, rebuild
from kb.search.config import SearchConfig
from kb.search.service import SearchService
from kb.settings import Settings, default_audit_dir
from kb.store import FaqCandidate, FaqCandidateStore
from kb.text.masking import mask_personal
from kb.text.normalize import normalize
from tests.api.conftest import create_key

EMB = FakeEmbedder(64)
MARKER = "消去確認用ユニーク文字列ＸＹＺ"
RAW_PHONE = "090-8765-4321"
"""A mobile number the masking replaces: only the raw store (keep_raw_text) holds it."""
FAQ = (
    "id,question,answer,department\n"
    "F1,転入の手続きを教えてください,引っ越してきた日から14日以内に市民課へ届け出てください,市民課\n"
    "F2,粗大ごみの出し方,事前の申し込みが必要です,ごみ減量推進課\n"
)
CASES = (
    "id,date,summary,resolution,departments\n"
    f"R6-001,2024-06-01,{MARKER}について転入の相談（連絡先 {RAW_PHONE}）,"
    f"{MARKER}の件は市民課の窓口へ案内した,市民課\n"
    "R6-002,2024-06-02,転入後の国民健康保険の相談,保険年金課へ案内した,市民課\n"
)


def forms(text: str, *, masked: bool = True) -> set[bytes]:
    """``text`` as every file might hold it: as written, NFKC, normalized, masked, escaped.

    ``masked=False`` for personal data, whose masked form is a placeholder every file has.
    """
    variants = {text, unicodedata.normalize("NFKC", text), normalize(text)}
    if masked:
        variants.add(mask_personal(text))
    variants |= {json.dumps(v)[1:-1] for v in variants}  # \\uXXXX in an ASCII-only JSON file
    return {v.encode() for v in variants if len(v) >= 6}


def files_holding(folders: list[Path], needles: set[bytes]) -> list[str]:
    """Every file under ``folders`` (recursively) whose bytes contain one of ``needles``."""
    found = []
    for folder in folders:
        for path in sorted(p for p in folder.rglob("*") if p.is_file()):
            data = path.read_bytes()
            if any(n in data for n in needles):
                found.append(str(path.relative_to(folder.parent)))
    return found


@dataclass
class Desk:
    settings: Settings
    staff: TestClient
    admin: TestClient
    public: TestClient

    @property
    def folders(self) -> list[Path]:
        return [self.settings.data_dir, default_audit_dir(self.settings.data_dir)]


@pytest.fixture
def desk(tmp_path: Path) -> Iterator[Desk]:
    settings = Settings(data_dir=tmp_path / "data", keep_raw_text=True)
    (tmp_path / "faq.csv").write_text(FAQ, encoding="utf-8")
    (tmp_path / "cases.csv").write_text(CASES, encoding="utf-8")
    out = ingest_and_build(settings, [tmp_path / "faq.csv", tmp_path / "cases.csv"], embedder=EMB)
    assert out.ingest.ok, out.ingest.errors
    rebuild(settings, embedder=EMB)  # a second build: the older one holds the case too
    app = create_app(
        settings,
        service_factory=lambda: SearchService(
            settings.index_root, EMB, SearchConfig.from_settings(settings)
        ),
        load_in_background=False,
    )
    clients = []
    for role in ("staff", "admin", None):
        client = TestClient(app)
        if role is not None:
            client.headers["Authorization"] = "Bearer " + create_key(settings, role)
        clients.append(client)
    with clients[0]:
        yield Desk(settings, *clients)


def _leave_traces(desk: Desk) -> None:
    """What a week at the desk leaves about the case in kb's files."""
    found = desk.staff.get("/api/v1/search", params={"q": "転入の相談", "k": 10}).json()
    assert "R6-001" in [c["id"] for c in found["cases"]]
    assert desk.staff.get("/api/v1/cases/R6-001").status_code == 200
    r = desk.staff.post(
        "/api/v1/feedback",
        json={"query": "転入の相談", "shown": ["case:R6-001"], "helped_id": "case:R6-001"},
    )
    assert r.status_code == 201, r.text
    r = desk.public.get("/public/v1/faq/search", params={"q": f"{MARKER}について知りたい"})
    assert r.status_code == 200
    r = desk.public.post(
        "/public/v1/faq/feedback", json={"faq_id": "F1", "helpful": False, "query": MARKER}
    )
    assert r.status_code == 201, r.text
    drafts = FaqCandidateStore(desk.settings.trainer_path)
    drafts.save(
        FaqCandidate(
            "FC0001",
            "all-01",
            f"{MARKER}とは？",
            "市民課へ",
            "市民課",
            source_cases=("case:R6-001",),
        )
    )
    drafts.close()


def test_an_erased_case_leaves_no_text_in_any_file(desk: Desk) -> None:
    _leave_traces(desk)
    marker = forms(MARKER)
    before = files_holding(desk.folders, marker)
    # The test sees what it must: the store, both builds' snapshots, the raw store and the logs.
    for name in ("kb.sqlite", "raw.sqlite", "querylog.sqlite", "feedback.sqlite", "trainer"):
        assert any(name in f for f in before), (name, before)
    assert sum("docs.sqlite" in f for f in before) == 2
    assert files_holding(desk.folders, forms(RAW_PHONE, masked=False)) == ["data/raw.sqlite"]

    r = desk.admin.delete("/api/v1/admin/documents/case:R6-001")

    assert r.status_code == 200, r.text
    body = r.json()
    assert body["removed"] == ["case:R6-001"]
    assert body["erased"] is True
    assert (body["query_rows"], body["feedback_rows"], body["drafts"]) == (1, 2, 1)
    assert body["raw_rows"] == 1
    assert body["builds_removed"] == 2
    assert body["wal_truncated"] is True
    assert body["audit_mentions"] == 0
    # While the service still runs (its -wal and -shm files open), and after it stopped.
    assert files_holding(desk.folders, marker | forms(RAW_PHONE, masked=False)) == []
    desk.staff.__exit__(None, None, None)
    assert files_holding(desk.folders, marker | forms(RAW_PHONE, masked=False)) == []
    # The other case, the FAQ and the logs of unrelated searches are still there.
    assert b"R6-002" in (desk.settings.data_dir / "kb.sqlite").read_bytes()


def test_the_case_leaves_every_pane_and_its_detail_route(desk: Desk) -> None:
    assert desk.admin.delete("/api/v1/admin/documents/case:R6-001").status_code == 200
    found = desk.staff.get("/api/v1/search", params={"q": "転入の相談", "k": 10}).json()
    assert "R6-001" not in [c["id"] for c in found["cases"]]
    assert "R6-002" in [c["id"] for c in found["cases"]]
    assert desk.staff.get("/api/v1/cases/R6-001").status_code == 404


def test_a_staff_search_quoting_the_case_stays_in_the_audit_log_and_is_reported(
    desk: Desk,
) -> None:
    """The one file that keeps a quote: the append-only audit log records what staff searched.

    It names documents by id only, but a counsellor's query may quote a case; the log cannot
    be changed (that is its purpose), so the deletion reports it instead of hiding it.
    """
    desk.staff.get("/api/v1/search", params={"q": f"{MARKER}の件"})
    r = desk.admin.delete("/api/v1/admin/documents/case:R6-001")
    assert r.status_code == 200, r.text
    assert r.json()["audit_mentions"] == 1
    kept = files_holding(desk.folders, forms(MARKER))
    assert kept
    assert all(f.startswith("data/audit.sqlite") for f in kept), kept  # or its -wal


RECORD_MARKER = "記録消去確認用ＱＲＳ文字列"
_BRING = "持参するもの：印鑑・通帳・本人確認書類"


def reading_forms(text: str) -> set[bytes]:
    """``text`` in kana, as the readings cache and the reading field hold it."""
    from kb.index.readings import reading_segments
    from kb.text.mecab import MeCabTokenizer

    kana = "".join(reading_segments(MeCabTokenizer().readings(normalize(text))))
    return {kana.encode(), json.dumps(kana)[1:-1].encode()}


def test_an_erased_consultation_record_leaves_no_text_in_any_file(desk: Desk) -> None:
    """A citizen asks for their consultation to be erased: its record, hand-off and case go."""
    words = f"{RECORD_MARKER}について窓口で相談（連絡先 {RAW_PHONE}）。{_BRING}"
    # A hand-off written from the screen before the record was saved (an outside attacker
    # found it survived the erasure, quoting the citizen), and another consultation's.
    # The other shares what every sheet lists (持参するもの): it must stay.
    for summary in (words, f"別の相談者の年金の件、{_BRING}"):
        r = desk.staff.post(
            "/api/v1/handoffs", json={"to_outside": "社会福祉協議会", "summary": summary}
        )
        assert r.status_code == 201, r.text
    other = r.json()["id"]
    r = desk.staff.post(
        "/api/v1/records",
        json={
            "citizen_words": words,
            "notes": f"{RECORD_MARKER}のメモ",
            "queries": [f"{RECORD_MARKER}の件"],
            "channel": "窓口",
        },
    )
    assert r.status_code == 201, r.text
    rid = r.json()["id"]
    r = desk.staff.post(
        f"/api/v1/records/{rid}/handoffs",
        json={"to_outside": "社会福祉協議会", "summary": f"{RECORD_MARKER}の引継ぎ"},
    )
    assert r.status_code == 201, r.text
    r = desk.staff.post(
        f"/api/v1/records/{rid}/close", json={"actions": f"{RECORD_MARKER}の件を市民課へ案内した"}
    )
    assert r.status_code == 200, r.text
    case_id = r.json()["record"]["case_id"]
    assert case_id == f"case:desk-{rid}"
    found = desk.staff.get("/api/v1/search", params={"q": "窓口で相談", "k": 10}).json()
    assert f"desk-{rid}" in [c["id"] for c in found["cases"]]
    marker = forms(RECORD_MARKER) | reading_forms(RECORD_MARKER)
    before = files_holding(desk.folders, marker)
    # The record, the case, the index builds and the cached readings (in kana) all hold it.
    for name in ("records.sqlite", "kb.sqlite", "docs.sqlite", "embeddings.sqlite"):
        assert any(name in f for f in before), (name, before)
    in_kana = files_holding(desk.folders, reading_forms(RECORD_MARKER))
    assert any("embeddings.sqlite" in f for f in in_kana), in_kana

    r = desk.admin.delete(f"/api/v1/admin/documents/{case_id}")

    assert r.status_code == 200, r.text
    body = r.json()
    assert (body["removed"], body["erased"]) == ([case_id], True)
    assert (body["records"], body["handoffs"]) == (1, 2)
    assert body["readings_rows"] > 0
    assert body["wal_truncated"] is True
    assert files_holding(desk.folders, marker) == []
    assert desk.staff.get(f"/api/v1/records/{rid}").status_code == 404
    assert desk.staff.get(f"/api/v1/cases/desk-{rid}").status_code == 404
    desk.staff.__exit__(None, None, None)
    assert files_holding(desk.folders, marker) == []
    # The other consultation's case and hand-off are still there.
    assert b"R6-001" in (desk.settings.data_dir / "kb.sqlite").read_bytes()
    assert desk.staff.get(f"/api/v1/handoffs/{other}").status_code == 200
