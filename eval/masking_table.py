"""How much personal data a realistic table of cases keeps readable after `kb ingest`.

Usage::

    .venv/bin/python eval/masking_table.py [--show] [--json OUT]

``eval/masking/table/cases.csv`` holds 160 consultation cases (fictitious people) as a city's
case system would export them, every note kept in the free text: names of the people and their
relatives (kanji, kana, Latin letters, Chinese, Korean and Vietnamese names), addresses, phone
numbers written every way, e-mail addresses, dates of birth, ID and account numbers. An outside
tester wrote it on 2026-12-06 without reading the masking rules or their tests;
``plants.jsonl`` lists the 2,290 items planted in its free text, by category. The masking
rules of that day were then fixed on its leaks, so the figures are in-sample since (the
held-out measure of the masking is ``eval/masking_probe.py``'s probe 2).

The table is ingested as `kb ingest` stores it (the demo department directory first, so its
names and phones are kept), with nothing built, into a temporary folder; every planted item is
then looked for in the stored case (summary, resolution, departments, category, status):
``full`` when it is readable whole, ``partial`` when a part is (two digits runs of a number,
the surname or the given name of a name, a part of an address or of an e-mail address's local
part). Matching follows the tester's own scorer.
"""

from __future__ import annotations

import argparse
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

TABLE = REPO / "eval" / "masking" / "table"
_KANJI_DIGITS = {c: str(i) for i, c in enumerate("〇一二三四五六七八九")}
_SEP = r"[\s\-‐‑–—−ー－ｰ～~・.．/()（）_の―]"
# Facility names that contain a planted given name (さくら) without being it.
_FACILITIES = (
    *("さくら保育園", "さくら内科クリニック", "さくら台", "ケアプランセンターさくら"),
    *("ひまわり", "さくら記念病院", "桜川", "さくらママ", "さくらがわ"),
)
_BEFORE = (
    r"(?:^|夫|妻|父|母|男|女|息子|娘|義母|兄|弟|姉|妹|長男|次男|長女|次女|通訳|担任|の"
    r"|[\[\]（(「 、。])"
)
_AFTER = (
    r"(?=[はがのをに、。（(）)」 \t]|さん|様|氏|くん|ちゃん|相談員|先生|医師|弁護士|という"
    r"|ケアマネ|$)"
)


def _norm(s: str) -> str:
    return re.sub(r"\s+", "", unicodedata.normalize("NFKC", s).lower())


def _digits(s: str) -> str:
    s = "".join(_KANJI_DIGITS.get(c, c) for c in unicodedata.normalize("NFKC", s))
    return "".join(re.findall(r"\d", s))


def _digit_runs(s: str) -> list[str]:
    s = "".join(_KANJI_DIGITS.get(c, c) for c in unicodedata.normalize("NFKC", s))
    return [_digits(m.group(0)) for m in re.finditer(rf"\d(?:{_SEP}{{0,3}}\d)*", s)]


def _name_parts(value: str, surnames: list[str]) -> list[str]:
    text = unicodedata.normalize("NFKC", value).strip()
    parts = [p for p in re.split(r"[\s・=＝]+", text) if p]
    if len(parts) == 1 and re.fullmatch(r"[\u4e00-\u9fff々]+", text):
        for surname in surnames:
            if text.startswith(surname) and len(text) > len(surname):
                parts = [surname, text[len(surname) :]]
                break
    if len(parts) < 2:
        return []
    kanji = r"[\u4e00-\u9fff々]+"
    return [p for p in parts if (len(p) >= 2 if re.fullmatch(kanji, p) else len(p) >= 3)]


def check(plant: dict[str, Any], text: str, surnames: list[str]) -> tuple[str | None, str]:
    """``("full" | "partial" | None, the readable part)`` of one planted item in ``text``."""
    value, category = plant["value"], plant["category"]
    if not value.strip():
        return None, ""
    normed = _norm(text)
    if category in ("phone", "id_number"):
        digits = _digits(value)
        if len(digits) >= 5:
            runs = _digit_runs(text)
            for run in runs:
                if digits in run:
                    return "full", run
            if _norm(value) in normed:
                return "full", value
            pieces = [
                r for r in runs if len(r) >= 4 and r in digits and not re.fullmatch(r"20\d\d", r)
            ]
            return ("partial", ",".join(pieces)) if pieces else (None, "")
        nfkc = unicodedata.normalize("NFKC", text)
        if re.search(r"記号\s*" + re.escape(value) + r"(?!\d)", nfkc):
            return "full", value
        return None, ""
    if category in ("name", "kana_name", "foreign_name") and len(_norm(value)) <= 3:
        shown = unicodedata.normalize("NFKC", text)
        for facility in _FACILITIES:
            shown = shown.replace(facility, "＃")
        escaped = re.escape(unicodedata.normalize("NFKC", value).strip())
        short = len(_norm(value)) == 1 or re.fullmatch(r"[ぁ-んァ-ン]+", _norm(value))
        pattern = _BEFORE + escaped + _AFTER if short else escaped
        return ("full", value) if re.search(pattern, shown) else (None, "")
    if _norm(value) in normed:
        return "full", value
    if category == "email":
        local = _norm(value.split("@")[0].split(" アットマーク")[0])
        return ("partial", local) if len(local) >= 4 and local in normed else (None, "")
    if category == "address":
        hits = [p for p in plant.get("probes", []) if len(_norm(p)) >= 3 and _norm(p) in normed]
        return ("partial", " / ".join(hits)) if hits else (None, "")
    if category in ("name", "kana_name", "foreign_name"):
        hits = [p for p in _name_parts(value, surnames) if _norm(p) in normed]
        if hits:
            return "partial", " / ".join(hits)
    return None, ""


def stored_cases(folder: Path) -> dict[str, dict[str, str]]:
    """The table's cases as `kb ingest` stores them (masked), by row id."""
    store = Store(folder / "kb.sqlite")
    try:
        report = ingest([REPO / "corpus" / "departments.csv", TABLE / "cases.csv"], store)
        if not report.ok:
            raise SystemExit(f"the table did not ingest: {report}")
        docs = store.get_documents([f"case:{r}" for r in _rows()])
    finally:
        store.close()
    return {
        doc_id.split(":", 1)[1]: {
            "summary": doc.title,
            "resolution": doc.body,
            "departments": "|".join(doc.departments),
            "category": doc.category,
            "status": doc.status,
        }
        for doc_id, doc in docs.items()
    }


def _rows() -> list[str]:
    return sorted({p["row"] for p in _plants()})


def _plants() -> list[dict[str, Any]]:
    with (TABLE / "plants.jsonl").open(encoding="utf-8") as f:
        return [json.loads(line) for line in f]


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--show", action="store_true", help="print every readable item")
    ap.add_argument("--json", type=Path, default=None)
    args = ap.parse_args()
    surnames = sorted(
        (TABLE / "surnames.txt").read_text(encoding="utf-8").split(), key=len, reverse=True
    )
    with tempfile.TemporaryDirectory() as tmp:
        cases = stored_cases(Path(tmp))
    counts: Counter[tuple[str, str]] = Counter()
    leaks: list[dict[str, Any]] = []
    for plant in _plants():
        fields = cases.get(plant["row"])
        level: str | None = "not stored" if fields is None else None
        seen = ""
        for text in (fields or {}).values():
            found, seen_here = check(plant, text, surnames)
            if found == "full" or (found == "partial" and level is None):
                level, seen = found, seen_here
                if found == "full":
                    break
        counts[(plant["category"], level or "masked")] += 1
        if level:
            leaks.append({**plant, "level": level, "seen": seen})
            if args.show:
                print(f"{level.upper():8} {plant['row']} {plant['category']}: {plant['value']}")
    categories = sorted({c for c, _ in counts})
    print(f"{'category':14} {'planted':>7} {'full':>5} {'partial':>7}")
    for category in categories:
        planted = sum(n for (c, _), n in counts.items() if c == category)
        full, partial = counts[(category, "full")], counts[(category, "partial")]
        print(f"{category:14} {planted:7} {full:5} {partial:7}")
    if args.json:
        summary = {c: {lv: n for (cc, lv), n in counts.items() if cc == c} for c in categories}
        args.json.write_text(
            json.dumps({"counts": summary, "leaks": leaks}, ensure_ascii=False, indent=1),
            encoding="utf-8",
        )


if __name__ == "__main__":
    main()
