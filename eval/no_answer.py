"""How often the FAQ search answers in-domain questions and refuses off-topic ones.

Usage::

    .venv/bin/python eval/no_answer.py [--municipal ../shared/eval/municipal-faq-dev]
        [--folds 10] [--json OUT]

Two corpora: the demo FAQ (``eval/datasets/demo``) and the municipal dev FAQ (read from the
shared folder, never copied). Against each, every in-domain query (its ``queries.jsonl``) and
every off-topic query (``eval/offtopic/queries.jsonl``) is searched once on the FAQ pane, as the
public widget searches, and its evidence is kept (:mod:`kb.search.confidence`): the best dense
score as a z-score on the corpus's own scale, whether the lexical side found a shared term,
whether the query has content. Then:

* **shipped**: answered / refused with the thresholds in :mod:`kb.search.confidence`;
* **cross-validated**: fold by fold (both corpora and both query sets pooled; an off-topic
  query is held out from both corpora at once), the no-answer z threshold is chosen on the
  other folds and applied to the held-out fold, by two rules: ``target``, the largest that
  still answers 97% of the in-domain queries (the off-topic ones play no part), and
  ``balanced``, the best mean of in-domain answered and off-topic refused;
* **across corpora**: the threshold chosen on one corpus alone, applied to the other: what a
  second city's FAQ would see.

The other query files (the demo's English, Chinese, Vietnamese and rephrased queries, the
municipal kana / mixed / typo variants from ``eval/variants.py``) are reported with the shipped
thresholds: the share answered, and the share answered with a relevant FAQ first.

Indexes come from ``kb eval``'s cache (``DATA_DIR/eval-cache``), built on first use.
"""

from __future__ import annotations

import argparse
import json
import random
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from kb.embed.embedder import embedder_from_settings
from kb.evaluation.beir import EvalQuery, load_dataset, load_queries
from kb.evaluation.runner import prepare_index
from kb.search.confidence import NO_ANSWER_Z, PaneEvidence, decide
from kb.search.searcher import Searcher
from kb.settings import Settings

REPO = Path(__file__).resolve().parents[1]
DEMO = REPO / "eval" / "datasets" / "demo"
OFFTOPIC = REPO / "eval" / "offtopic" / "queries.jsonl"
VARIANTS = REPO / "data" / "eval-variants" / "municipal-faq-dev"
TARGET_ANSWERED = 0.97
GRID = np.round(np.arange(-1.5, 2.0001, 0.05), 2)
EXAMPLES = (
    "zzzzzz",
    "。",
    "マスク",
    "ピザの配達",
    "あしたの天気",
    "How do I throw away a sofa?",
    "粗大ごみの出し方",
    "How do I get a copy of my residence certificate?",
)


@dataclass(frozen=True)
class Row:
    corpus: str
    group: str
    """``in`` (in-domain), ``off`` (off-topic) or a query file's name."""
    query: EvalQuery
    evidence: PaneEvidence
    relevant_first: bool
    """The best FAQ is judged relevant (in-domain and variants only)."""

    def answered(self, no_answer_z: float = NO_ANSWER_Z) -> bool:
        return decide(self.evidence, no_answer_z=no_answer_z) != "none"


def score_queries(
    searcher: Searcher,
    corpus: str,
    group: str,
    queries: Sequence[EvalQuery],
    qrels: dict[str, dict[str, int]],
) -> list[Row]:
    rows = []
    for q in queries:
        if not q.text.strip():
            continue
        hits, evidence = searcher.retrieve_with_confidence(q.text, k=10, kind="faq")
        top = hits[0].doc_id.partition(":")[2] if hits else ""
        relevant = qrels.get(q.id, {}).get(top, 0) >= 1
        rows.append(Row(corpus, group, q, evidence, relevant))
    return rows


def rate(rows: Sequence[Row], z: float, *, answered: bool) -> float:
    if not rows:
        return float("nan")
    return sum(r.answered(z) == answered for r in rows) / len(rows)


def choose_target(rows: Sequence[Row]) -> float:
    """The largest grid threshold that still answers TARGET_ANSWERED of the in-domain rows
    (the off-topic rows play no part): the most refusals the answering target allows."""
    ins = [r for r in rows if r.group == "in"]
    ok = [float(z) for z in GRID if rate(ins, float(z), answered=True) >= TARGET_ANSWERED]
    return max(ok) if ok else float(GRID[0])


def choose_balanced(rows: Sequence[Row]) -> float:
    """The grid threshold with the best mean of in-domain answered and off-topic refused
    (ties: the one nearest 0)."""
    ins = [r for r in rows if r.group == "in"]
    offs = [r for r in rows if r.group == "off"]

    def score(z: float) -> tuple[float, float]:
        both = rate(ins, z, answered=True) + rate(offs, z, answered=False)
        return (both, -abs(z))

    return max((float(z) for z in GRID), key=score)


CHOOSERS: dict[str, Callable[[Sequence[Row]], float]] = {
    "target": choose_target,
    "balanced": choose_balanced,
}


def fold_key(row: Row) -> tuple[str, str]:
    """An in-domain query belongs to its corpus; an off-topic one is the same query for both
    corpora, so it is held out from both at once."""
    return (row.corpus, row.query.id) if row.group == "in" else ("off", row.query.id)


def cross_validate(
    rows: Sequence[Row], folds: int, chooser: Callable[[Sequence[Row]], float]
) -> dict[str, Any]:
    scored = [r for r in rows if r.group in ("in", "off")]
    keys = sorted({fold_key(r) for r in scored})
    random.Random(0).shuffle(keys)
    fold = {key: i % folds for i, key in enumerate(keys)}
    chosen: list[float] = []
    judged: list[tuple[Row, float]] = []
    for f in range(folds):
        z = chooser([r for r in scored if fold[fold_key(r)] != f])
        chosen.append(z)
        judged += [(r, z) for r in scored if fold[fold_key(r)] == f]
    out: dict[str, Any] = {"thresholds": chosen}
    for corpus in sorted({r.corpus for r in scored}):
        ins = [(r, z) for r, z in judged if r.corpus == corpus and r.group == "in"]
        offs = [(r, z) for r, z in judged if r.corpus == corpus and r.group == "off"]
        out[corpus] = {
            "answered": sum(r.answered(z) for r, z in ins) / len(ins),
            "refused": sum(not r.answered(z) for r, z in offs) / len(offs),
        }
    return out


def across(rows: Sequence[Row], chooser: Callable[[Sequence[Row]], float]) -> dict[str, Any]:
    corpora = sorted({r.corpus for r in rows})
    out: dict[str, Any] = {}
    for source in corpora:
        z = chooser([r for r in rows if r.corpus == source])
        for target in corpora:
            if target == source:
                continue
            target_rows = [r for r in rows if r.corpus == target]
            out[f"{source}->{target}"] = {
                "threshold": z,
                "answered": rate([r for r in target_rows if r.group == "in"], z, answered=True),
                "refused": rate([r for r in target_rows if r.group == "off"], z, answered=False),
            }
    return out


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument(
        "--municipal", type=Path, default=REPO.parent / "shared" / "eval" / "municipal-faq-dev"
    )
    ap.add_argument("--data-dir", type=Path, default=REPO / "data")
    ap.add_argument("--folds", type=int, default=10)
    ap.add_argument("--json", type=Path, default=None)
    args = ap.parse_args()
    settings = Settings(data_dir=args.data_dir)
    embedder = embedder_from_settings(settings, threads=settings.threads)
    offtopic = load_queries(OFFTOPIC)
    sources = [("demo", DEMO, ["queries-en", "queries-zh", "queries-vi", "queries-paraphrase"])]
    if (args.municipal / "corpus.jsonl").is_file():
        variants = ["queries-kana", "queries-mixed", "queries-typo"]
        sources.append(("municipal", args.municipal, variants))
    else:
        print(f"{args.municipal} not found: the demo corpus only")
    rows: list[Row] = []
    examples: dict[str, str] = {}
    for name, folder, extra in sources:
        dataset = load_dataset(folder)
        searcher = Searcher.open(prepare_index(dataset, embedder, settings), embedder)
        try:
            rows += score_queries(searcher, name, "in", dataset.judged_queries(), dataset.qrels)
            rows += score_queries(searcher, name, "off", offtopic, {})
            for stem in extra:
                path = (VARIANTS if name == "municipal" else folder) / f"{stem}.jsonl"
                if path.is_file():
                    rows += score_queries(searcher, name, stem, load_queries(path), dataset.qrels)
            if name == "demo":
                for text in EXAMPLES:
                    _, evidence = searcher.retrieve_with_confidence(text, k=10, kind="faq")
                    z = "-" if evidence.dense_z is None else f"{evidence.dense_z:+.2f}"
                    examples[text] = f"{decide(evidence)} (z {z}, lexical {evidence.lexical})"
        finally:
            searcher.close()
    report = summarise(rows, args.folds, examples)
    if args.json:
        args.json.parent.mkdir(parents=True, exist_ok=True)
        args.json.write_text(json.dumps(report, ensure_ascii=False, indent=2), encoding="utf-8")


def summarise(rows: Sequence[Row], folds: int, examples: dict[str, str]) -> dict[str, Any]:
    report: dict[str, Any] = {"no_answer_z": NO_ANSWER_Z, "target_answered": TARGET_ANSWERED}
    print(f"no-answer threshold z = {NO_ANSWER_Z} (kb.search.confidence)\n")
    print("shipped thresholds (in-sample)")
    for corpus in sorted({r.corpus for r in rows}):
        ins = [r for r in rows if r.corpus == corpus and r.group == "in"]
        offs = [r for r in rows if r.corpus == corpus and r.group == "off"]
        answered = rate(ins, NO_ANSWER_Z, answered=True)
        refused = rate(offs, NO_ANSWER_Z, answered=False)
        report[corpus] = {"in": len(ins), "off": len(offs), "answered": answered}
        report[corpus]["refused"] = refused
        print(
            f"  {corpus:10s} in-domain answered {answered:6.1%} of {len(ins)};"
            f" off-topic refused {refused:6.1%} of {len(offs)}"
        )
        for group in sorted({r.group for r in rows if r.corpus == corpus} - {"in", "off"}):
            part = [r for r in rows if r.corpus == corpus and r.group == group]
            ok = sum(r.answered() and r.relevant_first for r in part) / len(part)
            shown = rate(part, NO_ANSWER_Z, answered=True)
            report[corpus][group] = {"answered": shown, "answered_relevant_first": ok}
            print(
                f"    {group:20s} answered {shown:6.1%} (relevant FAQ first {ok:6.1%})"
                f" of {len(part)}"
            )
        report[corpus]["off_topic_answered"] = {
            r.query.text: round(r.evidence.dense_z or 0.0, 2) for r in offs if r.answered()
        }
    for name, chooser in CHOOSERS.items():
        cv = cross_validate(rows, folds, chooser)
        transfer = across(rows, chooser)
        report[f"cross_validated_{name}"] = cv
        report[f"across_corpora_{name}"] = transfer
        print(f"\n{folds}-fold cross-validation, threshold chosen on the other folds: {name}")
        print("  thresholds chosen: " + ", ".join(f"{z:+.2f}" for z in cv["thresholds"]))
        for corpus in sorted({r.corpus for r in rows}):
            print(
                f"  {corpus:10s} in-domain answered {cv[corpus]['answered']:6.1%};"
                f" off-topic refused {cv[corpus]['refused']:6.1%}"
            )
        for key, v in transfer.items():
            print(
                f"  chosen on {key:20s} z {v['threshold']:+.2f}: in-domain answered"
                f" {v['answered']:6.1%}; off-topic refused {v['refused']:6.1%}"
            )
    if examples:
        report["examples"] = examples
        print("\nexamples on the demo FAQ")
        for text, verdict in examples.items():
            print(f"  {text!r:52s} {verdict}")
    return report


if __name__ == "__main__":
    main()
