"""The public widget's "no answer" on questions nobody on the team wrote (an outside probe).

Usage::

    KB_DATA_DIR=DIR KB_MODEL_CACHE_DIR=data/models .venv/bin/python eval/widget_probe.py \
        [SET.txt ...] [--show]

``DIR`` holds the demo corpus, ingested and built (``kb ingest corpus/`` there). The query sets
in ``eval/widget-probe/`` were written by an outside tester for the demo city 桜川市 without
reading kb's evaluation sets: ``offtopic.txt`` (a city FAQ should refuse them),
``indomain.txt`` (the FAQ covers them: keywords, unconverted kana, typos, rambling sentences,
English and Vietnamese), ``borderline.txt`` (city services the demo FAQ does not cover) and
``kana_loanwords.txt`` (loanwords typed in hiragana). Each query goes through the real route,
``GET /public/v1/faq/search``, in process, with the public rate limits lifted for the run; the
``answered`` field is what the widget reads. Prints, per set, how many were answered and
refused (``--show``: every query, its confidence and the FAQ shown).
"""

from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
SETS = REPO / "eval" / "widget-probe"
LIFTED = {
    "KB_PUBLIC_RATE_PER_MINUTE": "1000000",
    "KB_PUBLIC_RATE_BURST": "1000000",
    "KB_PUBLIC_SEARCH_BUDGET_PER_MINUTE": "1000000",
    "KB_REJECT_DELAY": "0",
}


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0] if __doc__ else None)
    ap.add_argument("sets", nargs="*", type=Path, default=sorted(SETS.glob("*.txt")))
    ap.add_argument("--show", action="store_true")
    args = ap.parse_args(argv)
    os.environ.update(LIFTED)
    sys.path.insert(0, str(REPO))
    from fastapi.testclient import TestClient

    from kb.api.app import create_app
    from kb.settings import Settings

    app = create_app(Settings(), load_in_background=False)
    with TestClient(app) as client:
        for path in args.sets:
            queries = [q for q in path.read_text(encoding="utf-8").splitlines() if q.strip()]
            answered = failed = 0
            for query in queries:
                got = client.get("/public/v1/faq/search", params={"q": query})
                if got.status_code != 200:
                    failed += 1
                    print(f"ERR {got.status_code} {query!r}: {got.text[:200]}")
                    continue
                body = got.json()
                answered += bool(body["answered"])
                if args.show:
                    shown = body["faqs"][0]["question"][:40] if body["faqs"] else ""
                    mark = "ANS" if body["answered"] else "---"
                    print(f"{mark} {body['confidence']:<6} {query[:50]!r:55} {shown}")
            refused = len(queries) - answered - failed
            print(
                f"{path.stem}: {len(queries)} queries, answered {answered}, refused {refused}"
                f", errors {failed}"
            )
    return 0


if __name__ == "__main__":
    sys.exit(main())
