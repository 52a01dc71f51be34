"""How much personal data memos, e-mails and shorthand notes keep readable after `kb ingest`.

Usage::

    .venv/bin/python eval/masking_notes.py [--show] [--json OUT]

``eval/masking/notes/`` (its README says who wrote it and how) holds 120 cases with 404
planted personal items and 419 words that must stay. The cases are ingested as `kb ingest`
stores them (the demo department directory first), with nothing built, into a temporary
folder; each planted item is then looked for where it was written: ``full`` when it is still
readable (after NFKC, case folding and without blanks), ``partial`` when one of its parts is or
four digits of its number are. A must-stay word is ``lost`` when its field holds it fewer times
than before.
"""

from __future__ import annotations

import argparse
import difflib
import json
import re
import sys
import tempfile
import unicodedata
from collections import Counter
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

from kb.ingest.pipeline import ingest  # noqa: E402
from kb.store import Store  # noqa: E402

NOTES = REPO / "eval" / "masking" / "notes"
_BETWEEN_DIGITS = re.compile(r"(?<=\d)[\s\-‐ー－−–—.()/（）・]+(?=\d)")


def _norm(text: str) -> str:
    return re.sub(r"\s+", "", unicodedata.normalize("NFKC", text).casefold())


def _digits(text: str) -> str:
    return _BETWEEN_DIGITS.sub("", _norm(text))


def _count(haystack: str, needle: str) -> int:
    return haystack.count(needle) if needle else 0


def _load(name: str) -> list[dict[str, Any]]:
    with (NOTES / name).open(encoding="utf-8") as f:
        return [json.loads(line) for line in f if line.strip()]


def _near(original: str, stored: str, start: int, end: int, pad: int = 3) -> str:
    """The part of ``stored`` where ``original[start:end]`` ended up, with ``pad`` around."""
    opcodes = difflib.SequenceMatcher(None, original, stored, autojunk=False).get_opcodes()

    def moved(pos: int) -> int:
        for tag, i1, i2, j1, _ in opcodes:
            if i1 <= pos < i2:
                return j1 + (pos - i1 if tag == "equal" else 0)
        return len(stored)

    first, last = moved(start), moved(max(start, end - 1)) + 1
    for tag, i1, i2, _, j2 in opcodes:
        if tag != "equal" and i1 <= end - 1 < i2:
            last = max(last, j2)
    return stored[max(0, first - pad) : last + pad]


def stored_cases(folder: Path) -> dict[str, dict[str, str]]:
    """The cases as `kb ingest` stores them (masked), by id."""
    store = Store(folder / "kb.sqlite")
    try:
        report = ingest([REPO / "corpus" / "departments.csv", NOTES / "cases.jsonl"], store)
        if not report.ok:
            raise SystemExit(f"the notes did not ingest: {report}")
        ids = [f"case:{c['id']}" for c in _load("cases.jsonl")]
        docs = store.get_documents(ids)
    finally:
        store.close()
    return {
        doc_id.split(":", 1)[1]: {"summary": doc.title, "resolution": doc.body}
        for doc_id, doc in docs.items()
    }


def score(stored: dict[str, dict[str, str]]) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    """Each plant with its ``status``; the must-stay words that were lost."""
    cases = {c["id"]: c for c in _load("cases.jsonl")}
    plants = _load("plants.jsonl")
    results: list[dict[str, Any]] = []
    for plant in plants:
        original = cases[plant["case"]][plant["field"]]
        masked = stored.get(plant["case"], {}).get(plant["field"])
        if masked is None:
            results.append({**plant, "status": "not stored"})
            continue
        # The other plants of the field blanked out: a copy of this one elsewhere is no leak.
        blanked = list(original)
        for other in plants:
            if (other["case"], other["field"]) == (plant["case"], plant["field"]):
                end = other["start"] + len(other["text"])
                blanked[other["start"] : end] = "\x00" * len(other["text"])
        before = "".join(blanked)
        text, start = plant["text"], plant["start"]
        region = _near(original, masked, start, start + len(text))
        full = _count(_norm(masked), _norm(text)) > _count(_norm(before), _norm(text))
        full = full and _norm(text) in _norm(region)
        parts = []
        if not full:
            parts = [
                p
                for p in plant["parts"]
                if _count(_norm(masked), _norm(p)) > _count(_norm(before), _norm(p))
                and _norm(p) in _norm(region)
            ]
            digits = re.sub(r"\D", "", unicodedata.normalize("NFKC", text))
            for i in range(len(digits) - 3):
                window = digits[i : i + 4]
                if (
                    _count(_digits(masked), window) > _count(_digits(before), window)
                    and window in _digits(region)
                    and window not in parts
                ):
                    parts.append(window)
        status = "full" if full else ("partial" if parts else "masked")
        results.append({**plant, "status": status, "stored": region})
    lost = []
    seen: set[tuple[str, str, str]] = set()
    for word in _load("stay.jsonl"):
        key = (word["case"], word["field"], word["text"])
        if key in seen:
            continue
        seen.add(key)
        original = cases[word["case"]][word["field"]]
        masked = stored.get(word["case"], {}).get(word["field"], "")
        if _count(_norm(masked), _norm(word["text"])) < _count(
            _norm(original), _norm(word["text"])
        ):
            lost.append(word)
    return results, lost


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--show", action="store_true", help="print every readable item")
    ap.add_argument("--json", type=Path, default=None)
    args = ap.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        stored = stored_cases(Path(tmp))
    results, lost = score(stored)
    counts = Counter((r["category"], r["status"]) for r in results)
    categories = sorted({r["category"] for r in results})
    print(f"{'category':10} {'planted':>7} {'full':>5} {'partial':>7}")
    for category in categories:
        planted = sum(n for (c, _), n in counts.items() if c == category)
        full, partial = counts[(category, "full")], counts[(category, "partial")]
        print(f"{category:10} {planted:7} {full:5} {partial:7}")
    full = sum(n for (_, s), n in counts.items() if s == "full")
    partial = sum(n for (_, s), n in counts.items() if s == "partial")
    print(f"{'all':10} {len(results):7} {full:5} {partial:7}")
    print(f"must-stay words lost: {len(lost)}")
    if args.show:
        for r in results:
            if r["status"] != "masked":
                print(
                    f"{r['status'].upper():8} {r['case']} {r['category']}: {r['text']!r} -> "
                    f"{r.get('stored', '')!r}"
                )
        for word in lost:
            print(f"LOST     {word['case']} {word['text']!r}")
    if args.json:
        summary = {"plants": len(results), "full": full, "partial": partial, "lost": len(lost)}
        args.json.write_text(json.dumps(summary, ensure_ascii=False, indent=2), encoding="utf-8")


if __name__ == "__main__":
    main()
