"""Throughput of personal-data masking at ingest over the demo corpus.

    .venv/bin/python bench/masking.py [--repeat 3] [--json PATH]

Prints documents per second and milliseconds per document (best of ``--repeat`` runs) for the
whole corpus and for the case records alone (every rule, so the slowest kind).
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

from kb.ingest.readers import iter_paths, read_path  # noqa: E402
from kb.ingest.redact import masker_for, redact_document  # noqa: E402
from kb.types import Department, Document  # noqa: E402


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--corpus", type=Path, default=REPO / "corpus")
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--json", type=Path, default=None)
    args = parser.parse_args(argv)
    docs: list[Document] = []
    depts: list[Department] = []
    for path in iter_paths([args.corpus]):
        result = read_path(path)
        docs.extend(result.documents)
        depts.extend(result.departments)
    masker = masker_for(depts)
    redact_document(docs[0], masker)  # load MeCab before timing
    out: dict[str, dict[str, float]] = {}
    for label, subset in (("all", docs), ("case", [d for d in docs if d.kind == "case"])):
        best = float("inf")
        changed = 0
        for _ in range(args.repeat):
            t0 = time.perf_counter()
            changed = sum(redact_document(d, masker) is not d for d in subset)
            best = min(best, time.perf_counter() - t0)
        out[label] = {
            "documents": len(subset),
            "masked": changed,
            "seconds": round(best, 3),
            "docs_per_s": round(len(subset) / best, 1),
            "ms_per_doc": round(1000 * best / len(subset), 3),
        }
        print(
            f"{label:<4} {len(subset)} documents ({changed} changed): {best:.2f} s, "
            f"{len(subset) / best:.0f} docs/s, {1000 * best / len(subset):.2f} ms/doc"
        )
    if args.json:
        args.json.write_text(json.dumps(out, indent=2), encoding="utf-8")
    return 0


if __name__ == "__main__":
    sys.exit(main())
