"""Does one 「正しい担当課」 vote stay local? The department ranking of unrelated queries, before
and after a single vote, on the serving index (as ``kb trainer feedback-eval`` measures).

Usage::

    KB_DATA_DIR=... .venv/bin/python eval/feedback_locality.py [eval/datasets/demo]
        [--query 母が認知症で一人暮らしが心配] [--department 介護保険課] [--unrelated 50]

The unrelated queries are the dataset's first N queries labelled with neither the vote's
department nor one sharing its queries' topic (``--exclude``), plus a few everyday ones. The
script prints how many of them changed their department ranking after the vote (the target:
none), and where the vote's own query and its rephrasings put the voted department.
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path

from kb.embed.embedder import embedder_from_settings
from kb.index.folder import current_index
from kb.search.feedback import DepartmentFeedback
from kb.search.searcher import Searcher
from kb.settings import Settings

EVERYDAY = ["道路に穴があいている", "犬の登録", "転入届", "保育園に入りたい", "粗大ごみ"]


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("dataset", type=Path, nargs="?", default=Path("eval/datasets/demo"))
    ap.add_argument("--query", default="母が認知症で一人暮らしが心配")
    ap.add_argument("--department", default="介護保険課")
    ap.add_argument("--exclude", default="高齢者支援課", help="departments of related queries")
    ap.add_argument("--unrelated", type=int, default=50)
    ap.add_argument(
        "--rephrasings",
        default="認知症の母が一人暮らしで心配,一人暮らしの母の認知症が心配です",
        help="comma-separated rephrasings of --query",
    )
    args = ap.parse_args()
    settings = Settings()
    embedder = embedder_from_settings(settings, threads=settings.threads)
    searcher = Searcher(current_index(settings.index_root), embedder)
    skip = {args.department, *args.exclude.split(",")}
    rows = [
        json.loads(line)
        for line in (args.dataset / "queries.jsonl").read_text(encoding="utf-8").splitlines()
        if line.strip()
    ]
    unrelated = [r["text"] for r in rows if r.get("department") not in skip][: args.unrelated]
    unrelated += EVERYDAY

    def ranking(text: str) -> list[str]:
        return [d.name for d in searcher.search(text, k=5).departments]

    before = {q: ranking(q) for q in unrelated}
    own_before = ranking(args.query)
    votes = DepartmentFeedback()
    votes.add(embedder, [(1, args.query, args.department)])
    searcher.department_feedback = votes
    after = {q: ranking(q) for q in unrelated}
    changed = [q for q in unrelated if after[q] != before[q]]
    print(
        f"one vote 「{args.query}」 -> {args.department}; floor {votes.floor:.4f} "
        f"(99th percentile of the corpus's titles as queries)"
    )
    print(f"unrelated queries whose department ranking changed: {len(changed)} of {len(unrelated)}")
    for q in changed:
        print(f"  {q}: {before[q]} -> {after[q]}")
    print(f"the voted query: {own_before} -> {ranking(args.query)}")
    for text in filter(None, args.rephrasings.split(",")):
        print(f"rephrased 「{text}」: {ranking(text)}")
    searcher.close()


if __name__ == "__main__":
    main()
