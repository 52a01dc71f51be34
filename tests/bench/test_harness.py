"""The benchmark harness: peers agree with kb's own scoring, the JSON contract, bounded ports."""

from __future__ import annotations

import time
from pathlib import Path

import numpy as np
import pytest

from bench import httpload
from bench.peers import Bm25sPeer, TxtaiPeer
from bench.run import headline, summary
from kb.index.lexical import BM25Params, LexicalIndex

DOCS = [
    ("住民票", "写し", "取る"),
    ("ごみ", "出す", "曜日", "ごみ"),
    ("児童", "手当", "申請", "住民票"),
    ("転入", "届", "住民票", "写し", "必要"),
    ("粗大", "ごみ", "予約"),
]


def test_bm25s_peer_scores_like_kb_lexical_index() -> None:
    """An oracle check: same tokens, same k1/b, Lucene idf on both sides, so same scores.

    bm25s' ``lucene`` variant drops BM25's constant ``(k1 + 1)`` factor (as Lucene does), so
    its scores are kb's divided by 2.2: the ranking is identical.
    """
    peer = Bm25sPeer(DOCS, k1=1.2, b=0.75)
    ours = LexicalIndex.build([()] * len(DOCS), DOCS, BM25Params(k1=1.2, b=0.75))
    for query in (["住民票"], ["ごみ", "予約"], ["写し", "住民票", "未知語"]):
        expected = ours.score(query)
        hits = peer.search(query, k=len(DOCS))
        assert hits, query
        for idx, score in hits:
            assert score * 2.2 == pytest.approx(float(expected[idx]), rel=1e-4)
        assert {i for i, _ in hits} == set(np.flatnonzero(expected > 0).tolist())
    assert peer.search(["未知語"]) == []


def test_txtai_peer_fuses_its_two_sides() -> None:
    rng = np.random.default_rng(0)
    vectors = rng.normal(size=(len(DOCS), 16)).astype(np.float32)
    vectors /= np.linalg.norm(vectors, axis=1, keepdims=True)
    seen: list[str] = []

    def encode(query: str) -> np.ndarray:
        seen.append(query)
        return vectors[4]

    peer = TxtaiPeer([" ".join(d) for d in DOCS], vectors, encode)
    hits = peer.search("粗大ごみを出したい", ["粗大", "ごみ"], k=3)
    assert hits[0][0] == 4  # best on both sides
    assert seen == ["粗大ごみを出したい"]  # the original query is embedded, not the lemmas
    assert len(hits) <= 3


def test_headline_has_the_quick_keys() -> None:
    lat = summary([1.0, 2.0, 3.0, 10.0])
    level = {
        "chunks": 10_000,
        "ingest": {"documents": 9_990, "chunks": 10_000, "parse_s": 1.0, "tokenize_s": 10.0,
                   "store_s": 5.0},
        "build": {"embed_s": 100.0, "index_s": 4.0},
        "in_process": {"search": lat, "retrieve_faq_hybrid": lat, "retrieve_faq_lexical": lat},
        "suggest": lat,
        "http": {"search": {"p95_ms": 20.0}, "rss_mb_after_load": 900.0},
        "peers": {
            "txtai": {"search": lat, "ratio_kb_over_peer_p95": 0.5, "kb_compared": "x"},
            "bm25s": {"search": lat, "ratio_kb_over_peer_p95": 2.0, "kb_compared": "y"},
        },
    }  # fmt: skip
    result = {
        "levels": {"10000": level},
        "embedding": {"kb_texts_per_s": 200.0},
        "quality": {"txtai_hybrid": {"ndcg@10": 0.8}, "bm25s": {"ndcg@10": 0.7},
                    "kb_hybrid": {"ndcg@10": 0.9}},
    }  # fmt: skip
    out = headline(result)
    for key in ("chunks", "search_p50_ms", "search_p95_ms", "http_p95_ms", "suggest_p95_ms",
                "ingest_docs_per_s", "rss_mb"):  # fmt: skip
        assert out[key] is not None, key
    assert out["search_p95_ms"] == lat["p95_ms"]
    # 9,990 documents over 16 s of ingest + 2 × 10,000 texts at 200/s + 4 s of indexing.
    assert out["ingest_docs_per_s"] == pytest.approx(9_990 / 120, abs=0.1)
    assert out["peers"]["txtai"] == {
        "search_p95_ms": lat["p95_ms"],
        "ndcg@10": 0.8,
        "ratio_kb_over_peer_p95": 0.5,
        "kb_compared": "x",
    }
    assert out["peers"]["bm25s"]["ndcg@10"] == 0.7


def test_summary_percentiles() -> None:
    s = summary([float(i) for i in range(1, 101)])
    assert s["n"] == 100
    assert s["p50_ms"] == pytest.approx(50.5, abs=0.6)
    assert 95 <= s["p95_ms"] <= 96
    assert s["p99_ms"] >= s["p95_ms"]


def test_server_ports_are_bounded(tmp_path: Path) -> None:
    with (
        pytest.raises(ValueError, match="8400-8499"),
        httpload.serve(tmp_path, 8000, models_dir=tmp_path),
    ):
        pass


def test_rss_of_this_process() -> None:
    assert httpload.rss_mb() > 10


def test_paced_load_charges_queueing_to_the_request() -> None:
    import threading
    from http.server import BaseHTTPRequestHandler, HTTPServer

    class Slow(BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            time.sleep(0.03)
            self.send_response(200)
            self.send_header("Content-Length", "2")
            self.end_headers()
            self.wfile.write(b"{}")

        def log_message(self, *args: object) -> None:
            pass

    server = HTTPServer(("127.0.0.1", 0), Slow)  # one request at a time
    threading.Thread(target=server.serve_forever, daemon=True).start()
    url = f"http://127.0.0.1:{server.server_address[1]}"
    try:
        closed = httpload.load(url, "/x", ["q"], clients=1, requests=8)
        # Scheduled every 10 ms, answered every 30 ms: the queue grows and is charged.
        fast = httpload.load(url, "/x", ["q"], clients=2, requests=12, rate=100.0)
        # Scheduled every 100 ms: nothing waits, and the rate holds the throughput down.
        slow = httpload.load(url, "/x", ["q"], clients=2, requests=6, rate=10.0)
    finally:
        server.shutdown()
        server.server_close()
    assert closed["errors"] == fast["errors"] == slow["errors"] == 0
    assert "rate" not in closed
    assert fast["rate"] == 100.0
    assert 25 < closed["p50_ms"] < 200
    assert fast["p95_ms"] > 3 * closed["p50_ms"]
    # Paced below what the server answers, nothing queues: every request is charged less
    # than the queued ones (compared with each other, not with a fixed margin in ms, which
    # a busy machine's scheduling jitter exceeded: 114.7 ms against 2 x 32.2 + 50).
    assert slow["p95_ms"] < fast["p95_ms"]
    assert slow["qps"] < 15 < closed["qps"]
