"""Trainer tools on the demo corpus with the real model: the figures of the closing note.

Usage::

    .venv/bin/kb --data-dir /tmp/trainer-data ingest corpus      # once (builds the index)
    .venv/bin/python bench/trainer.py --data-dir /tmp/trainer-data [--json PATH]

It works on a *copy* of the data directory (the original is left as it was), then:

1. replays the 220 demo evaluation queries and a few the FAQ cannot answer through the
   public widget route and the staff search route (in-process ASGI client), so the query log
   holds masked, scored searches;
   the widget's 「役に立ちましたか」 is answered for each first answer (yes when the eval set
   judges it relevant);
2. prints ``kb trainer gaps`` for the copy (gap topics, gap queries, rates);
3. drafts an FAQ candidate for the largest gap topic and approves it through the API, and
   prints how long approval took (store, incremental build with the embedding cache, switch)
   and whether the widget finds the new entry right after.
"""

from __future__ import annotations

import argparse
import json
import shutil
import sys
import time
from pathlib import Path

from fastapi.testclient import TestClient

from kb.api.app import create_app
from kb.security.keys import KeyStore
from kb.settings import Settings
from kb.trainer.commands import format_gaps
from kb.trainer.service import Trainer

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
from bench.records import working_copy

REPO = Path(__file__).resolve().parent.parent
UNANSWERED = [
    "ドローンを公園で飛ばしたい",
    "ドローンを公園で飛ばしたい",
    "ドローンを公園で飛ばしたい",
    "パスポートの申請はどこでできますか",
    "パスポートの申請はどこでできますか",
    "市役所の駐車場は無料ですか",
    "結婚式場を紹介してほしい",
    "宇宙旅行の申し込み",
]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data-dir", type=Path, required=True, help="an ingested data dir")
    parser.add_argument("--json", type=Path, default=None)
    args = parser.parse_args(argv)
    work = working_copy(args.data_dir, "kb-trainer-bench-")
    try:
        settings = Settings(
            data_dir=work,
            public_rate_burst=100_000,
            public_rate_per_minute=100_000,
            public_search_budget_per_minute=1e9,
        )
        keys = KeyStore(settings.keys_path)
        _, key = keys.create("bench-trainer", "trainer")
        keys.close()
        app = create_app(settings, load_in_background=False)
        figures: dict[str, object] = {}
        with TestClient(app) as client:
            client.headers["Authorization"] = "Bearer " + key
            queries = [
                json.loads(line)["text"]
                for line in (REPO / "eval/datasets/demo/queries.jsonl").read_text().splitlines()
                if line.strip()
            ]
            relevant: dict[str, set[str]] = {}
            qrels = (REPO / "eval/datasets/demo/qrels/test.tsv").read_text().splitlines()[1:]
            for row in qrels:
                qid, doc, _ = row.split("\t")
                relevant.setdefault(qid, set()).add(doc)
            ids = [
                json.loads(line)["_id"]
                for line in (REPO / "eval/datasets/demo/queries.jsonl").read_text().splitlines()
                if line.strip()
            ]
            t0 = time.perf_counter()
            ratings = 0
            for i, q in enumerate(queries + UNANSWERED):
                r = client.get("/public/v1/faq/search", params={"q": q})
                assert r.status_code == 200
                faqs = r.json()["faqs"]
                if faqs and i < len(ids):
                    # The citizen answers 「役に立ちましたか」 for the answer shown first: yes when
                    # it is a relevant FAQ for that query (the eval set's judgement).
                    top = faqs[0]["id"]
                    helpful = top in relevant.get(ids[i], set())
                    body = {"faq_id": top, "helpful": helpful, "query": q}
                    assert client.post("/public/v1/faq/feedback", json=body).status_code == 201
                    ratings += 1
            figures["ratings"] = ratings
            for q in queries[:40]:
                assert client.get("/api/v1/search", params={"q": q}).status_code == 200
            figures["replayed"] = len(queries) + len(UNANSWERED) + 40
            figures["replay_seconds"] = round(time.perf_counter() - t0, 1)

            trainer = Trainer(settings)
            report = trainer.gaps()
            print(format_gaps(report, 10))
            figures["gap_topics"] = len(report.topics)
            figures["gap_queries"] = len(report.queries)

            topic_id = report.topics[0].topic.id if report.topics else "all-01"
            draft = client.post("/api/v1/trainer/candidates", json={"topic_id": topic_id}).json()
            print(f"\ndrafted {draft['id']} for {topic_id}:\n  Q: {draft['question']}")
            print(f"  A: {draft['answer']}")
            t0 = time.perf_counter()
            approved = client.post(f"/api/v1/trainer/candidates/{draft['id']}/approve").json()
            wall = time.perf_counter() - t0
            found = client.get("/public/v1/faq/search", params={"q": draft["question"]}).json()[
                "faqs"
            ]
            figures.update(
                approval_seconds=approved["seconds"],
                approval_request_seconds=round(wall, 2),
                approval_embedded=approved["embedded"],
                approval_cached=approved["cached"],
                widget_top_hit=found[0]["id"] if found else "",
            )
            print(
                f"\napproved {draft['id']}: {approved['seconds']:.2f} s in the trainer "
                f"({wall:.2f} s for the request, new index opened), {approved['embedded']} "
                f"chunk embedded, {approved['cached']} from cache; widget top hit for its "
                f"question: {figures['widget_top_hit']}"
            )
            trainer.close()
        if args.json:
            args.json.write_text(json.dumps(figures, indent=2), encoding="utf-8")
        print(json.dumps(figures))
    finally:
        shutil.rmtree(work, ignore_errors=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
