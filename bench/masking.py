"""Throughput of personal-data masking at ingest over the demo corpus.

    .venv/bin/python bench/masking.py [--repeat 3] [--json PATH]

Prints documents per second and milliseconds per document (best of ``--repeat`` runs) for the
whole corpus and for the case records alone (every rule, so the slowest kind). Then the time to
mask one long run of a single character class at two lengths, and how much it grew: a rule that
scans from every start to the run's end grows with the square of the length (16 times for four
times the text), one that reads each character once grows about 4 times. A case note of 250,000
letters is accepted once ``KB_MAX_RECORD_TITLE_CHARS`` is raised, so a square here is a stalled
ingest.
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
from kb.text.masking import FULL  # noqa: E402
from kb.types import Department, Document  # noqa: E402

RUNS = {
    "latin": "x",
    "capitals": "X",
    "words": "ab ",
    "digits": "1",
    "hyphens": "1-",
    "kana": "あ",
    "katakana": "ア",
    "kanji": "漢",
    "honorific": "さん",
    "relation": "長女",
    "spaces": " ",
    "brackets": "（",
}
"""One character class per long run (the texts a pasted log or a stuck key makes)."""


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--corpus", type=Path, default=REPO / "corpus")
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--json", type=Path, default=None)
    parser.add_argument("--run-chars", type=int, default=20_000)
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
    runs: dict[str, dict[str, float]] = {}
    short, long = args.run_chars, 4 * args.run_chars
    for label, unit in RUNS.items():
        seconds = []
        for n in (short, long):
            text = (unit * n)[:n]
            t0 = time.perf_counter()
            masker.mask(text, FULL)
            seconds.append(time.perf_counter() - t0)
        growth = seconds[1] / max(seconds[0], 1e-6)
        runs[label] = {"short_s": round(seconds[0], 3), "long_s": round(seconds[1], 3)}
        runs[label]["growth"] = round(growth, 1)
        print(
            f"run {label:<10} {short:,} chars {seconds[0]:.2f} s, {long:,} chars "
            f"{seconds[1]:.2f} s: x{growth:.1f}"
        )
    if args.json:
        args.json.write_text(json.dumps({**out, "runs": runs}, indent=2), encoding="utf-8")
    return 0


if __name__ == "__main__":
    sys.exit(main())
