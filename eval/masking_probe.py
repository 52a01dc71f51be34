"""How much personal data the masking leaves readable, on two probes written from outside.

Usage::

    .venv/bin/python eval/masking_probe.py [--show] [--json OUT]

Two sets of realistic snippets (synthetic: no real person's data), each written by someone
who did not write the rules, as consultation records, exports, e-mails and hand-off memos carry
personal data (``eval/masking/``):

* **probe 1** (``probe-1.txt``, 791 snippets): written first, and the rules were then fixed on
  its leaks (in-sample since).
* **probe 2** (``probe-2-personal.txt``, ``probe-2-stay.txt``: 395 personal snippets and 124
  that must stay): written later without reading probe 1 or ``tests/text/masking_cases.tsv``;
  its figures before the fixes it led to are the held-out measure (docs/evaluation.md).

Each personal snippet lists the fragments that must not stay readable and the words that must;
a run is ``LEAK`` (a fragment is still there, also after NFKC; probe 1 also counts any four
digits of a number of six or more), ``OVERMASK`` (a word that must stay is gone, or a
must-stay snippet changed) or ``OK``. Snippets run with the records profile (``FULL``), and
with the published one (``PUBLISHED``) where it claims to mask that kind of data.
"""

from __future__ import annotations

import argparse
import json
import re
import sys
import unicodedata
from collections import Counter
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

from kb.text.masking import FULL, PUBLISHED, Masker  # noqa: E402
from kb.text.masking.fold import fold  # noqa: E402

DATA = REPO / "eval" / "masking"
PROFILES = {"FULL": FULL, "PUBLISHED": PUBLISHED}


def _unescape(text: str) -> str:
    return text.replace("\\t", "\t").replace("\\n", "\n")


def _nfkc(text: str) -> str:
    return unicodedata.normalize("NFKC", text)


def _digit_runs(text: str) -> list[str]:
    folded = re.sub(r"(?<=[0-9])[\s\-./()・]+(?=[0-9])", "", fold(text).text)
    return re.findall(r"[0-9]+", folded)


def _leaked_1(fragment: str, out: str) -> bool:
    """Probe 1's test: the fragment, folded, or four digits of a long number."""
    if fragment in out or fold(fragment).text.lower() in fold(out).text.lower():
        return True
    digits = re.sub(r"[^0-9]", "", fold(fragment).text)
    if len(digits) >= 6:
        runs = _digit_runs(out)
        return any(digits[i : i + 4] in run for i in range(len(digits) - 3) for run in runs)
    return False


def _present_2(fragment: str, out: str) -> bool:
    """Probe 2's test: the fragment (or a ``re:`` pattern) as written or after NFKC."""
    if fragment.startswith("re:"):
        return bool(re.search(fragment[3:], out) or re.search(fragment[3:], _nfkc(out)))
    return fragment in out or _nfkc(fragment) in _nfkc(out)


def probe_1() -> list[dict[str, Any]]:
    masker = Masker(
        keep_phones=("099-555-1101", "099-555-1108", "0120-123-456"),
        keep_words=("市民課", "高齢者支援課", "福祉課", "桜川市", "桜川駅", "中央公民館"),
    )
    rows = []
    for line in (DATA / "probe-1.txt").read_text(encoding="utf-8").splitlines():
        if not line.strip() or line.startswith("#"):
            continue
        parts = [p.strip() for p in re.split(r"\s*;;\s*", line)] + [""] * 5
        category, profile, text, leaks, keeps = parts[:5]
        text = _unescape(text)
        names = {"F": ["FULL"], "P": ["PUBLISHED"], "B": ["FULL", "PUBLISHED"]}[profile]
        for name in names:
            out = masker.mask(text, PROFILES[name])
            leaked = [f for f in leaks.split("|") if f and _leaked_1(f, out)]
            lost = [f for f in keeps.split("|") if f and f not in out]
            rows.append(_row("probe 1", category, name, text, out, leaked, lost))
    return rows


def probe_2() -> list[dict[str, Any]]:
    masker = Masker(keep_phones=("099-555-1101",), keep_words=("市民課", "桜川市"))
    rows = []
    for line in (DATA / "probe-2-personal.txt").read_text(encoding="utf-8").splitlines():
        if not line.strip() or line.startswith("#"):
            continue
        category, published, text, leaks, keeps = (p.strip() for p in line.split("¦"))
        text = _unescape(text)
        for name in ["FULL"] + (["PUBLISHED"] if published == "1" else []):
            out = masker.mask(text, PROFILES[name])
            leaked = [f.strip() for f in leaks.split("|") if f.strip() and _present_2(f, out)]
            lost = [f.strip() for f in keeps.split("|") if f.strip() and not _present_2(f, out)]
            rows.append(_row("probe 2", category, name, text, out, leaked, lost))
    for line in (DATA / "probe-2-stay.txt").read_text(encoding="utf-8").splitlines():
        if not line.strip() or line.startswith("#"):
            continue
        category, text = (p.strip() for p in line.split("¦", 1))
        text = _unescape(text)
        for name in PROFILES:
            out = masker.mask(text, PROFILES[name])
            rows.append(_row("probe 2", "stay:" + category, name, text, out, [], []))
    return rows


def _row(
    probe: str, category: str, profile: str, text: str, out: str, leaked: list[str], lost: list[str]
) -> dict[str, Any]:
    changed = category.startswith("stay:") and out != text
    verdict = "LEAK" if leaked else ("OVERMASK" if lost or changed else "OK")
    return {
        "probe": probe,
        "category": category,
        "profile": profile,
        "verdict": verdict,
        "input": text,
        "output": out,
        "leaked": leaked,
        "lost": lost,
    }


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--show", action="store_true", help="print every leak and over-masking")
    ap.add_argument("--json", type=Path, default=None, help="write every run here")
    args = ap.parse_args()
    rows = probe_1() + probe_2()
    for probe in ("probe 1", "probe 2"):
        for profile in PROFILES:
            mine = [r for r in rows if r["probe"] == probe and r["profile"] == profile]
            personal = [r for r in mine if not r["category"].startswith("stay:")]
            counts = Counter(r["verdict"] for r in mine)
            print(
                f"{probe} {profile:9} runs {len(mine):4}  leaked {counts['LEAK']:3} "
                f"(of {len(personal)} personal)  over-masked {counts['OVERMASK']:3}  "
                f"ok {counts['OK']:4}"
            )
    if args.show:
        for r in rows:
            if r["verdict"] != "OK":
                print(
                    f"{r['verdict']:8} {r['probe']} {r['profile'][:4]} {r['category']}: "
                    f"{r['input']!r} -> {r['output']!r} {r['leaked'] or r['lost']}"
                )
    if args.json:
        args.json.write_text(json.dumps(rows, ensure_ascii=False, indent=1), encoding="utf-8")


if __name__ == "__main__":
    main()
