"""Suggest latency on the demo corpus, in process: does it keep up with typing?

Usage::

    .venv/bin/python bench/suggest.py [--rounds 3] [--json PATH]

Ingests ``corpus/`` into a temporary data directory with the fake embedder (suggest never
embeds, so the model does not matter), then replays every prefix of every demo evaluation
query, as a citizen typing them would send them, through ``Suggester.suggest`` and through the
public route ``/public/v1/faq/suggest`` (in-process ASGI client), and prints p50/p95/max.
Target: p95 under 20 ms.

``--questions N`` also builds the suggester alone over N published FAQ questions generated from
the demo's (:mod:`bench.scale`) and replays the prefixes twice: as written, and unconverted
(every word with a kanji typed as its hiragana reading, as in ``eval/variants.py``), which
exercises the reading index. Target there: p95 under 10 ms at 100,000 questions.
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import tempfile
import time
from pathlib import Path

from fastapi.testclient import TestClient

from kb.api.app import create_app
from kb.embed.embedder import FakeEmbedder
from kb.evaluation.metrics import percentile
from kb.search.service import SearchService
from kb.search.suggest import Suggester, suggester_for
from kb.settings import Settings
from kb.text.kana import has_kanji
from kb.text.mecab import MeCabTokenizer

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))
from tests.e2e.demo_index import build_demo_index  # noqa: E402


def _summary(ms: list[float]) -> dict[str, float]:
    return {
        "n": len(ms),
        "p50_ms": round(percentile(ms, 50), 3),
        "p95_ms": round(percentile(ms, 95), 3),
        "max_ms": round(max(ms), 3),
        "mean_ms": round(statistics.fmean(ms), 3),
    }


def _unconverted(text: str, tokenizer: MeCabTokenizer) -> str:
    """``text`` as typed without kana-kanji conversion: words with a kanji as their reading."""
    return "".join(r.kana if has_kanji(r.surface) else r.surface for r in tokenizer.readings(text))


def at_scale(n: int, queries: list[str], rounds: int) -> dict[str, object]:
    """The suggester alone over ``n`` generated published FAQ questions."""
    from bench.scale import generate, load_base

    tokenizer = MeCabTokenizer()
    entries: list[tuple[str, str, str]] = []
    for _, record, _ in generate(load_base(), n * 2, faq_share=1.0):
        if record["published"] and len(entries) < n:
            entries.append((str(record["id"]), str(record["question"]), str(record["department"])))
    t0 = time.perf_counter()
    suggester = Suggester(entries, tokenizer)
    build_s = time.perf_counter() - t0
    out: dict[str, object] = {"questions": len(suggester), "build_s": round(build_s, 2)}
    for name, texts in (
        ("as_written", queries),
        ("unconverted", [_unconverted(q, tokenizer) for q in queries]),
    ):
        prefixes = [q[:i] for q in texts for i in range(1, len(q) + 1)]
        ms: list[float] = []
        for _ in range(rounds):
            for text in prefixes:
                t0 = time.perf_counter()
                suggester.suggest(text)
                ms.append((time.perf_counter() - t0) * 1000)
        out[name] = _summary(ms)
    return out


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--rounds", type=int, default=3)
    ap.add_argument("--json", type=Path, default=None)
    ap.add_argument(
        "--questions",
        type=int,
        default=0,
        help="also time the suggester alone over this many generated questions (e.g. 100000)",
    )
    args = ap.parse_args()
    queries = [
        json.loads(line)["text"]
        for line in (REPO / "eval/datasets/demo/queries.jsonl").read_text("utf-8").splitlines()
    ]
    prefixes = [q[:i] for q in queries for i in range(1, len(q) + 1)]
    with tempfile.TemporaryDirectory() as tmp:
        index_root = build_demo_index(Path(tmp))
        service = SearchService(index_root, FakeEmbedder(64))
        searcher = service.searcher()
        t0 = time.perf_counter()
        suggester = suggester_for(searcher)
        build_ms = (time.perf_counter() - t0) * 1000
        direct: list[float] = []
        for _ in range(args.rounds):
            for text in prefixes:
                t0 = time.perf_counter()
                suggester.suggest(text)
                direct.append((time.perf_counter() - t0) * 1000)
        settings = Settings(data_dir=Path(tmp), public_rate_burst=10**9)
        app = create_app(settings, service_factory=lambda: service, load_in_background=False)
        route: list[float] = []
        with TestClient(app) as client:
            for text in prefixes:
                t0 = time.perf_counter()
                r = client.get("/public/v1/faq/suggest", params={"q": text})
                route.append((time.perf_counter() - t0) * 1000)
                assert r.status_code == 200
    out = {
        "published_faq": len(suggester),
        "queries": len(queries),
        "prefixes": len(prefixes),
        "build_ms": round(build_ms, 1),
        "suggester": _summary(direct),
        "route": _summary(route),
        "target_p95_ms": 20.0,
    }
    if args.questions:
        out["at_scale"] = at_scale(args.questions, queries, rounds=1)
    print(f"suggest over {out['published_faq']} published FAQ, {len(prefixes)} typed prefixes")
    print(f"  build once per index: {out['build_ms']} ms")
    for name in ("suggester", "route"):
        s = out[name]
        p50, p95, top = s["p50_ms"], s["p95_ms"], s["max_ms"]
        print(f"  {name:9s} p50 {p50:.3f} ms  p95 {p95:.3f} ms  max {top:.3f} ms")
    if args.questions:
        scale = out["at_scale"]
        assert isinstance(scale, dict)
        print(
            f"suggester alone over {scale['questions']} questions (built in {scale['build_s']} s)"
        )
        for name in ("as_written", "unconverted"):
            s = scale[name]
            p50, p95, top = s["p50_ms"], s["p95_ms"], s["max_ms"]
            print(f"  {name:11s} p50 {p50:.3f} ms  p95 {p95:.3f} ms  max {top:.3f} ms")
    if args.json:
        args.json.write_text(json.dumps(out, indent=2, ensure_ascii=False) + "\n", "utf-8")


if __name__ == "__main__":
    main()
