"""The texts that crashed kb, each run in a subprocess so that a crash fails a test, not the suite.

MeCab (fugashi, unidic-lite) ends the process with a segmentation fault on one long input:
about 135,000 ASCII symbols, 200,000 ASCII letters, 1,000,000 characters of ordinary Japanese
(measured with ``bench/mecab_limits.py``). Before the adapter cut its input into pieces, a run
of 250,000 ``x`` ended ``POST /api/v1/highlight`` and the server with it, and ``kb ingest`` of
a JSONL file holding one exited 139 having stored nothing of the batch. Each test runs the
reproduction in a fresh interpreter and asserts that it exits 0 with the expected answer: a
4xx, a bounded 200, a row error, or the row stored safely.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import textwrap
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parent.parent
RUN_KB = "import sys; from kb.cli import main; sys.exit(main(sys.argv[1:]))"


def _python(script: str, timeout: float = 240) -> dict[str, Any]:
    """Run ``script`` in a new interpreter; it must exit 0 and print one JSON object last."""
    proc = subprocess.run(
        [sys.executable, "-c", textwrap.dedent(script)],
        cwd=REPO,
        env={**os.environ, "PYTHONPATH": str(REPO)},
        capture_output=True,
        text=True,
        timeout=timeout,
    )
    # A segmentation fault is returncode -11 (or 139 through a shell).
    assert proc.returncode == 0, (proc.returncode, proc.stderr[-2000:])
    result: dict[str, Any] = json.loads(proc.stdout.strip().splitlines()[-1])
    return result


def test_the_mecab_adapter_takes_the_crash_lengths() -> None:
    result = _python(
        """
        import json
        from kb.text.mecab import MeCabTokenizer

        tokenizer = MeCabTokenizer()
        out = {}
        text = "x" * 200_000
        tokens = tokenizer.analyze(text)
        out["analyze"] = sum(len(t.surface) for t in tokens)
        assert all(text[t.start : t.start + len(t.surface)] == t.surface for t in tokens)
        out["morphemes"] = sum(len(m.surface) for m in tokenizer.morphemes("1" * 250_000))
        out["symbols"] = len(tokenizer.terms("-" * 250_000))
        out["terms"] = len(tokenizer.terms("x" * 1_000_000))
        out["kana"] = len(tokenizer.terms("あ" * 300_000))
        print(json.dumps(out))
        """
    )
    assert result["analyze"] == 200_000
    assert result["morphemes"] == 250_000
    assert result["symbols"] == 0  # punctuation is no index term
    assert result["terms"] > 0
    assert result["kana"] > 0


_APP = """
import json, tempfile, time
from pathlib import Path
from fastapi.testclient import TestClient
from kb.api.app import create_app
from kb.embed.embedder import FakeEmbedder
from kb.index.builder import build_index
from kb.search.service import SearchService
from kb.security.keys import KeyStore
from kb.settings import Settings
from kb.store import EmbeddingCache, Store
from kb.text.mecab import MeCabTokenizer
from tests.conftest import fill_store

root = Path(tempfile.mkdtemp())
store = Store(root / "kb.sqlite")
fill_store(store, MeCabTokenizer())
embedder = FakeEmbedder(64)
build_index(store, embedder, root / "indexes", cache=EmbeddingCache(root / "e.sqlite"))
store.close()


def client(**overrides):
    settings = Settings(data_dir=root, model="fake", **overrides)
    keys = KeyStore(settings.keys_path)
    _, key = keys.create(f"admin-{len(overrides)}", "admin")
    keys.close()
    app = create_app(
        settings,
        service_factory=lambda: SearchService(root / "indexes", embedder),
        load_in_background=False,
    )
    test_client = TestClient(app)
    test_client.headers["Authorization"] = "Bearer " + key
    return test_client
"""


def test_the_api_refuses_the_crash_texts_or_bounds_the_work() -> None:
    result = _python(
        _APP
        + """
run = "x" * 250_000
out = {}
with client() as c:
    out["highlight"] = c.post("/api/v1/highlight", json={"q": "転入", "texts": [run]}).status_code
    out["highlight_q"] = c.post("/api/v1/highlight", json={"q": run, "texts": []}).status_code
    out["highlight_1m"] = c.post(
        "/api/v1/highlight", json={"q": "x", "texts": ["x" * 1_000_000]}
    ).status_code
    started = time.perf_counter()
    bounded = c.post("/api/v1/highlight", json={"q": "x", "texts": ["x" * 20_000] * 5})
    out["bounded"] = [bounded.status_code, time.perf_counter() - started]
    out["bounded_spans"] = len(bounded.json()["spans"])
    # A URL holds at most about 64 KiB (httpx; a real server's limit is lower): 30,000 here.
    out["search"] = c.get("/api/v1/search", params={"q": run[:30_000]}).status_code
    out["public"] = c.get("/public/v1/faq/search", params={"q": run[:30_000]}).status_code
    out["suggest"] = c.get("/public/v1/faq/suggest", params={"q": run[:30_000]}).status_code
    feedback = {"query": run, "shown": ["faq:F1"], "helped_id": "faq:F1"}
    out["feedback"] = c.post("/api/v1/feedback", json=feedback).status_code
    public = {"faq_id": "F1", "helpful": True, "query": run}
    out["public_feedback"] = c.post("/public/v1/faq/feedback", json=public).status_code
    out["alive"] = c.get("/healthz").status_code
print(json.dumps(out))
"""
    )
    assert result["highlight"] == 422
    assert result["highlight_q"] == 422
    assert result["highlight_1m"] in (413, 422)  # 1 MB is over max_body_bytes as well
    status, seconds = result["bounded"]
    assert status == 200
    assert result["bounded_spans"] == 5
    assert seconds < 30  # about a second; generous for a loaded 2-core machine
    for name in ("search", "public", "suggest", "feedback", "public_feedback"):
        assert result[name] == 422, name
    assert result["alive"] == 200


def test_an_admin_upload_of_the_crash_text_reports_the_row_or_stores_it_safely(
    tmp_path: Path,
) -> None:
    lines = [
        {"id": "U1", "question": "犬の登録はどこで", "answer": "生活環境課です。"},
        {"id": "U2", "question": "x" * 250_000, "answer": "回答です。"},
    ]
    upload = tmp_path / "faq.jsonl"
    upload.write_text("\n".join(json.dumps(line) for line in lines), encoding="utf-8")
    result = _python(
        _APP
        + f"""
data = Path({str(upload)!r}).read_bytes()
files = [("files", ("faq.jsonl", data, "application/octet-stream"))]
out = {{}}
with client() as c:
    r = c.post("/api/v1/admin/ingest", params={{"build": "false"}}, files=files)
    out["default"] = [r.status_code, r.json()["documents"], r.json()["errors"]]
    out["alive"] = c.get("/healthz").status_code
with client(max_record_title_chars=1_000_000) as c:
    r = c.post("/api/v1/admin/ingest", params={{"build": "false"}}, files=files)
    out["raised"] = [r.status_code, r.json()["documents"], r.json()["errors"]]
    out["alive_after"] = c.get("/healthz").status_code
print(json.dumps(out))
"""
    )
    status, documents, errors = result["default"]
    assert (status, documents) == (200, 1)
    [error] = errors
    assert (error["source"], error["line"], error["field"]) == ("faq.jsonl", 2, "question")
    assert "250,000 文字" in error["message"]
    assert result["alive"] == 200
    assert result["raised"] == [200, 2, []]
    assert result["alive_after"] == 200


def _kb(data: Path, *args: str, **env: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-c", RUN_KB, "--data-dir", str(data), "--model", "fake", *args],
        cwd=REPO,
        env={**os.environ, **env},
        capture_output=True,
        text=True,
        timeout=300,
    )


def _stored(data: Path) -> dict[str, int]:
    import sqlite3

    with sqlite3.connect(data / "kb.sqlite") as db:
        rows = db.execute("SELECT doc_id, length(title) FROM documents").fetchall()
    return dict(rows)


def test_kb_ingest_of_the_crash_text_reports_the_row_or_stores_it(tmp_path: Path) -> None:
    run = "x" * 250_000
    jsonl = tmp_path / "cases.jsonl"
    jsonl.write_text(
        "\n".join(
            json.dumps({"id": i, "date": "2024-04-01", "summary": s, "resolution": "対応した。"})
            for i, s in (("C1", "転入の相談"), ("C2", run), ("C3", "転出の相談"))
        ),
        encoding="utf-8",
    )
    # A CSV cell holds at most 131,072 characters (the csv module's limit): the longest run.
    csv = tmp_path / "faq.csv"
    csv.write_text(f"id,question,answer\nF1,転入届,市民課へ\nF2,{'-' * 131_000},回答\n")

    proc = _kb(tmp_path / "data", "ingest", "--no-build", str(jsonl), str(csv))
    # 1: some rows were skipped and reported; a crash would be -11.
    assert proc.returncode == 1, (proc.returncode, proc.stderr[-2000:])
    assert f"{jsonl}:2: summary: 値が 250,000 文字あり" in proc.stdout
    assert f"{csv}:3: question: 値が 131,000 文字あり" in proc.stdout
    assert "max_record_title_chars" in proc.stdout
    assert sorted(_stored(tmp_path / "data")) == ["case:C1", "case:C3", "faq:F1"]

    raised = _kb(tmp_path / "raised", "ingest", str(jsonl), KB_MAX_RECORD_TITLE_CHARS="1000000")
    assert raised.returncode == 0, (raised.returncode, raised.stderr[-2000:])
    assert _stored(tmp_path / "raised")["case:C2"] == 250_000
    found = _kb(tmp_path / "raised", "search", "転出の相談", "--json")
    assert found.returncode == 0, found.stderr[-2000:]
