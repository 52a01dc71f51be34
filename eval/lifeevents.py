"""How often the console offers the right life-event checklist, and how often a wrong one.

Usage::

    .venv/bin/python eval/lifeevents.py [--queries eval/lifeevents/queries.jsonl]
        [--procedures corpus/procedures.csv] [--json OUT] [--verbose]

Every query of ``eval/lifeevents/queries.jsonl`` (``{"id", "query", "events", "conditions"}``,
``events`` empty for a query that must offer no checklist) goes through the console's
recogniser (:class:`kb.desk.lifeevents.LifeEventRecognizer`). Reported:

* ``right``: share of the life-event queries whose offered events contain every expected event
  and start with one of them (the checklist the counsellor sees first is the right one);
* ``exact``: share offering exactly the expected events;
* ``false_offers``: share of the negatives that offer any checklist;
* ``conditions``: share of the life-event queries whose expected conditions are all pre-ticked;
* ``nonempty``: share of the life-event queries whose expected events give a non-empty
  checklist from the demo procedures with the expected conditions ticked.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from kb.desk.lifeevents import LifeEventRecognizer, ProcedureBook  # noqa: E402
from kb.ingest.procedures import read_procedures  # noqa: E402


def evaluate(queries: list[dict[str, Any]], book: ProcedureBook) -> dict[str, Any]:
    """Score the recogniser on ``queries``; return the figures and the misses."""
    recognizer = LifeEventRecognizer()
    positives = [q for q in queries if q["events"]]
    negatives = [q for q in queries if not q["events"]]
    right = exact = conditions = nonempty = false_offers = 0
    misses: list[dict[str, Any]] = []
    for q in queries:
        found = recognizer.recognize(q["query"])
        expected = set(q["events"])
        if not expected:
            if found.events:
                false_offers += 1
                misses.append({"id": q["id"], "query": q["query"], "offered": found.events})
            continue
        ok = bool(found.events) and found.events[0] in expected and expected <= set(found.events)
        right += ok
        exact += set(found.events) == expected
        conditions += set(q["conditions"]) <= set(found.conditions)
        nonempty += bool(book.checklist(q["events"], q["conditions"]).procedures)
        if not ok or not set(q["conditions"]) <= set(found.conditions):
            misses.append(
                {
                    "id": q["id"],
                    "query": q["query"],
                    "expected": q["events"],
                    "offered": found.events,
                    "expected_conditions": q["conditions"],
                    "conditions": found.conditions,
                }
            )
    n, m = len(positives), len(negatives)
    return {
        "queries": len(queries),
        "life_event_queries": n,
        "negatives": m,
        "right": round(right / n, 3) if n else None,
        "exact": round(exact / n, 3) if n else None,
        "conditions": round(conditions / n, 3) if n else None,
        "nonempty": round(nonempty / n, 3) if n else None,
        "false_offers": round(false_offers / m, 3) if m else None,
        "misses": misses,
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--queries", type=Path, default=REPO / "eval/lifeevents/queries.jsonl")
    parser.add_argument("--procedures", type=Path, default=REPO / "corpus/procedures.csv")
    parser.add_argument("--json", type=Path, help="also write the report here")
    parser.add_argument("--verbose", action="store_true", help="list the misses")
    args = parser.parse_args(argv)
    queries = [
        json.loads(line) for line in args.queries.read_text("utf-8").splitlines() if line.strip()
    ]
    book = ProcedureBook(read_procedures(args.procedures).procedures)
    report = evaluate(queries, book)
    if not args.verbose:
        report["misses"] = len(report["misses"])
    text = json.dumps(report, ensure_ascii=False, indent=2)
    print(text)
    if args.json:
        args.json.write_text(text + "\n", "utf-8")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
