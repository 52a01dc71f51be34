"""How often the FAQ search answers in-domain questions and refuses off-topic ones.

Usage::

    .venv/bin/python eval/no_answer.py [--municipal ../shared/eval/municipal-faq-dev]
        [--folds 10] [--features] [--adapted | --model DIR] [--json OUT]

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
  second city's FAQ would see;
* **other languages**: the language offset (:data:`~kb.search.confidence.LANGUAGE_OFFSET`)
  chosen on off-topic queries only, the most that still refuses 90% of the off-topic queries in
  other languages on each corpus: in-sample, 10-fold cross-validated (folds of off-topic
  queries) and across corpora; the English, Chinese and Vietnamese in-domain questions play no
  part in it, so their answered share is a held-out figure;
* with ``--features``: the features tried on top of the z-score (``eval/no_answer_features.py``).

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
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

import numpy as np
from no_answer_features import FeatureProbe, print_study, study

from kb.embed.embedder import embedder_from_settings
from kb.evaluation.beir import EvalQuery, load_dataset, load_queries
from kb.evaluation.runner import adapted_model_for, prepare_index
from kb.search.confidence import (
    BACKGROUND_MARGIN,
    BACKGROUND_Z,
    LANGUAGE_OFFSET,
    NO_ANSWER_Z,
    PaneEvidence,
    decide,
)
from kb.search.searcher import Searcher
from kb.settings import Settings

REPO = Path(__file__).resolve().parents[1]
DEMO = REPO / "eval" / "datasets" / "demo"
OFFTOPIC = REPO / "eval" / "offtopic" / "queries.jsonl"
VARIANTS = REPO / "data" / "eval-variants" / "municipal-faq-dev"
TARGET_ANSWERED = 0.97
GRID = np.round(np.arange(-1.5, 2.0001, 0.05), 2)
OFFSETS = np.round(np.arange(0.0, 3.0001, 0.05), 2)
TARGET_REFUSED = 0.9
OTHER_LANGUAGES = ("queries-en", "queries-zh", "queries-vi")
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
    features: dict[str, float] = field(default_factory=dict)
    """With ``--features``: :class:`~no_answer_features.FeatureProbe`'s."""

    def answered(
        self,
        no_answer_z: float = NO_ANSWER_Z,
        language_offset: float = LANGUAGE_OFFSET,
        *,
        margin: float = BACKGROUND_MARGIN,
        background: bool = True,
    ) -> bool:
        """Whether the pane answers. ``no_answer_z`` moves both z cut points together (the
        one for Japanese queries checked against the background is ``BACKGROUND_Z`` below
        the other); ``background=False``: the decision without the background."""
        evidence = self.evidence if background else replace(self.evidence, background=None)
        level = decide(
            evidence,
            no_answer_z=no_answer_z,
            language_offset=language_offset,
            background_z=BACKGROUND_Z + (no_answer_z - NO_ANSWER_Z),
            background_margin=margin,
        )
        return level != "none"


def score_queries(
    searcher: Searcher,
    corpus: str,
    group: str,
    queries: Sequence[EvalQuery],
    qrels: dict[str, dict[str, int]],
    probe: FeatureProbe | None = None,
) -> list[Row]:
    rows = []
    for q in queries:
        if not q.text.strip():
            continue
        hits, evidence = searcher.retrieve_with_confidence(q.text, k=10, kind="faq")
        top = hits[0].doc_id.partition(":")[2] if hits else ""
        relevant = qrels.get(q.id, {}).get(top, 0) >= 1
        features = {}
        if probe is not None:
            dense = [h.dense_score for h in hits if h.dense_score is not None]
            features = probe.features(q.text, max(dense) if dense else None)
        rows.append(Row(corpus, group, q, evidence, relevant, features))
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


BACKGROUND_ZS = np.round(np.arange(-1.0, 0.5001, 0.1), 2)
MARGINS = np.round(np.arange(-0.10, 0.0201, 0.01), 2)


def _background_rates(
    rows: Sequence[Row], corpora: Sequence[str]
) -> dict[str, tuple[np.ndarray, np.ndarray]]:
    """Per corpus, in-domain answered and off-topic refused over the (z, margin) grid."""
    out = {}
    for corpus in corpora:
        grids = {}
        for group in ("in", "off"):
            part = [r for r in rows if r.corpus == corpus and r.group == group]
            grids[group] = np.array(
                [
                    [
                        [
                            r.answered(float(z) - BACKGROUND_Z + NO_ANSWER_Z, margin=float(m))
                            for m in MARGINS
                        ]
                        for z in BACKGROUND_ZS
                    ]
                    for r in part
                ]
            ).mean(axis=0)
        out[corpus] = (grids["in"], 1.0 - grids["off"])
    return out


def _pick(rates: dict[str, tuple[np.ndarray, np.ndarray]]) -> tuple[int, int]:
    """The grid point with the most off-topic refusals while every corpus answers
    TARGET_ANSWERED of its in-domain queries (if none does: the most answered)."""
    ok = np.logical_and.reduce([ans >= TARGET_ANSWERED for ans, _ in rates.values()])
    refused = sum(ref for _, ref in rates.values())
    score = (
        np.where(ok, refused, -1.0)
        if ok.any()
        else sum(ans for ans, _ in rates.values()) + 1e-3 * refused
    )
    zi, mi = np.unravel_index(int(np.argmax(score)), score.shape)
    return int(zi), int(mi)


def background_study(rows: Sequence[Row], folds: int) -> dict[str, Any]:
    """The background of :mod:`kb.search.background`: the Japanese z cut point and the margin
    chosen together, in-sample and by cross-validation (folds as :func:`fold_key`), against
    the decision without it."""
    scored = [r for r in rows if r.group in ("in", "off")]
    corpora = sorted({r.corpus for r in scored})
    out: dict[str, Any] = {"shipped": {"z": BACKGROUND_Z, "margin": BACKGROUND_MARGIN}}
    for corpus in corpora:
        ins = [r for r in scored if r.corpus == corpus and r.group == "in"]
        offs = [r for r in scored if r.corpus == corpus and r.group == "off"]
        out[corpus] = {
            "without_background": {
                "answered": sum(r.answered(background=False) for r in ins) / len(ins),
                "refused": sum(not r.answered(background=False) for r in offs) / len(offs),
            },
            "shipped": {
                "answered": sum(r.answered() for r in ins) / len(ins),
                "refused": sum(not r.answered() for r in offs) / len(offs),
            },
        }
    zi, mi = _pick(_background_rates(scored, corpora))
    out["in_sample_choice"] = {"z": float(BACKGROUND_ZS[zi]), "margin": float(MARGINS[mi])}
    keys = sorted({fold_key(r) for r in scored})
    random.Random(0).shuffle(keys)
    fold = {key: i % folds for i, key in enumerate(keys)}
    chosen = []
    counts = {c: {"in": [0, 0], "off": [0, 0]} for c in corpora}
    for f in range(folds):
        train = [r for r in scored if fold[fold_key(r)] != f]
        zi, mi = _pick(_background_rates(train, corpora))
        z, m = float(BACKGROUND_ZS[zi]), float(MARGINS[mi])
        chosen.append((z, m))
        for r in scored:
            if fold[fold_key(r)] != f:
                continue
            ok = r.answered(z - BACKGROUND_Z + NO_ANSWER_Z, margin=m)
            counts[r.corpus][r.group][0] += ok if r.group == "in" else not ok
            counts[r.corpus][r.group][1] += 1
    out["cross_validated"] = {"chosen": chosen}
    for corpus in corpora:
        c = counts[corpus]
        out["cross_validated"][corpus] = {
            "answered": c["in"][0] / c["in"][1],
            "refused": c["off"][0] / c["off"][1],
        }
    return out


def print_background(study: dict[str, Any]) -> None:
    shipped = study["shipped"]
    print(
        "\nbackground of small talk (kb.search.background): Japanese z cut"
        f" {shipped['z']:+.2f},"
        f" margin {shipped['margin']:+.2f}; chosen in-sample z"
        f" {study['in_sample_choice']['z']:+.2f}, margin {study['in_sample_choice']['margin']:+.2f}"
    )
    cv = study["cross_validated"]
    print("  folds chose: " + ", ".join(f"({z:+.1f}, {m:+.2f})" for z, m in cv["chosen"]))
    for corpus in (k for k in study if k not in ("shipped", "in_sample_choice", "cross_validated")):
        v = study[corpus]
        print(
            f"  {corpus:10s} without: answered {v['without_background']['answered']:6.1%}"
            f" refused {v['without_background']['refused']:6.1%} | shipped: answered"
            f" {v['shipped']['answered']:6.1%} refused {v['shipped']['refused']:6.1%} |"
            f" cross-validated: answered {cv[corpus]['answered']:6.1%}"
            f" refused {cv[corpus]['refused']:6.1%}"
        )


def other_language_off(rows: Sequence[Row]) -> list[Row]:
    return [r for r in rows if r.group == "off" and not r.evidence.japanese]


def choose_offset(rows: Sequence[Row]) -> float:
    """The largest offset that still refuses TARGET_REFUSED of the off-topic queries in other
    languages on every corpus (no in-domain query plays a part)."""
    offs = other_language_off(rows)
    corpora = sorted({r.corpus for r in offs})

    def refused(offset: float, corpus: str) -> float:
        part = [r for r in offs if r.corpus == corpus]
        return sum(not r.answered(language_offset=offset) for r in part) / len(part)

    ok = [float(o) for o in OFFSETS if all(refused(float(o), c) >= TARGET_REFUSED for c in corpora)]
    return max(ok) if ok else 0.0


def other_languages(rows: Sequence[Row], folds: int) -> dict[str, Any]:
    """The language offset: in-sample, cross-validated over off-topic folds, across corpora."""
    corpora = sorted({r.corpus for r in rows})
    report: dict[str, Any] = {"shipped": LANGUAGE_OFFSET, "in_sample": choose_offset(rows)}
    offs = [r for r in rows if r.group == "off"]
    keys = sorted({r.query.id for r in offs})
    random.Random(0).shuffle(keys)
    fold = {key: i % folds for i, key in enumerate(keys)}
    judged: list[tuple[Row, float]] = []
    chosen = []
    for f in range(folds):
        offset = choose_offset([r for r in offs if fold[r.query.id] != f])
        chosen.append(offset)
        judged += [(r, offset) for r in offs if fold[r.query.id] == f]
    report["cross_validated"] = {"offsets": chosen}
    for c in corpora:
        part = [(r, o) for r, o in judged if r.corpus == c]
        other = [(r, o) for r, o in part if not r.evidence.japanese]
        report["cross_validated"][c] = {
            "refused": sum(not r.answered(language_offset=o) for r, o in part) / len(part),
            "refused_other_languages": sum(not r.answered(language_offset=o) for r, o in other)
            / len(other),
        }
    for source in corpora:
        offset = choose_offset([r for r in offs if r.corpus == source])
        for target in corpora:
            if target != source:
                queries = [r for r in offs if r.corpus == target]
                report[f"{source}->{target}"] = {
                    "offset": offset,
                    "refused": sum(not r.answered(language_offset=offset) for r in queries)
                    / len(queries),
                    "answered": language_rates(rows, offset),
                }
    for offset in sorted({0.0, LANGUAGE_OFFSET, report["in_sample"], *chosen}):
        report[f"at {offset:.2f}"] = language_rates(rows, offset)
    return report


def language_rates(rows: Sequence[Row], offset: float) -> dict[str, float]:
    out = {}
    for group in OTHER_LANGUAGES:
        part = [r for r in rows if r.group == group]
        if part:
            out[group[8:]] = sum(r.answered(language_offset=offset) for r in part) / len(part)
            out[group[8:] + " relevant first"] = sum(
                r.answered(language_offset=offset) and r.relevant_first for r in part
            ) / len(part)
    return out


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument(
        "--municipal", type=Path, default=REPO.parent / "shared" / "eval" / "municipal-faq-dev"
    )
    ap.add_argument("--data-dir", type=Path, default=REPO / "data")
    ap.add_argument("--folds", type=int, default=10)
    ap.add_argument("--json", type=Path, default=None)
    ap.add_argument("--features", action="store_true", help="also the features study")
    ap.add_argument(
        "--adapted",
        action="store_true",
        help="search each corpus with the model adapted to it, as a city's kb adapts it "
        "(kb eval's default; cached) instead of the base model",
    )
    ap.add_argument(
        "--model",
        default=None,
        help="search every corpus with this model (a folder, e.g. one kept by "
        "eval/tune_adapt.py --save) instead of the base model",
    )
    ap.add_argument(
        "--no-judge",
        action="store_true",
        help="with --adapted: read no-answer with the adapted model itself, not with the "
        "base model as the service does (kb.search.judge)",
    )
    args = ap.parse_args()
    settings = Settings(data_dir=args.data_dir).model_copy(update={"adapt": False})
    if args.model:
        settings = settings.model_copy(update={"model": args.model})
    base_embedder = embedder_from_settings(settings, threads=settings.threads)
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
        embedder, used = base_embedder, settings
        if args.adapted:
            adapted, _ = adapted_model_for(dataset, settings)
            if adapted is not None:
                used = settings.model_copy(update={"model": str(adapted)})
                embedder = embedder_from_settings(used, threads=settings.threads)
        print(f"{name}: model {embedder.model_id}")
        # An adapted model ranks; the base model judges "no answer", as the service does
        # (kb.search.judge) -- unless --no-judge asks for the adapted model's own evidence.
        judge = base_embedder if embedder is not base_embedder and not args.no_judge else None
        searcher = Searcher.open(
            prepare_index(dataset, embedder, used),
            embedder,
            judge=judge,
            embedding_cache=settings.data_dir / "embeddings.sqlite",
        )
        probe = FeatureProbe(searcher) if args.features else None
        try:
            judged = dataset.judged_queries()
            rows += score_queries(searcher, name, "in", judged, dataset.qrels, probe)
            rows += score_queries(searcher, name, "off", offtopic, {}, probe)
            for stem in extra:
                path = (VARIANTS if name == "municipal" else folder) / f"{stem}.jsonl"
                if path.is_file():
                    queries = load_queries(path)
                    rows += score_queries(searcher, name, stem, queries, dataset.qrels, probe)
            if name == "demo":
                for text in EXAMPLES:
                    _, evidence = searcher.retrieve_with_confidence(text, k=10, kind="faq")
                    z = "-" if evidence.dense_z is None else f"{evidence.dense_z:+.2f}"
                    examples[text] = f"{decide(evidence)} (z {z}, lexical {evidence.lexical})"
        finally:
            searcher.close()
    report = summarise(rows, args.folds, examples)
    if args.features:
        report["features"] = study(rows, args.folds)
        print_study(report["features"])
    if args.json:
        args.json.parent.mkdir(parents=True, exist_ok=True)
        args.json.write_text(json.dumps(report, ensure_ascii=False, indent=2), encoding="utf-8")


def summarise(rows: Sequence[Row], folds: int, examples: dict[str, str]) -> dict[str, Any]:
    report: dict[str, Any] = {"no_answer_z": NO_ANSWER_Z, "target_answered": TARGET_ANSWERED}
    report["language_offset"] = LANGUAGE_OFFSET
    print(
        f"no-answer threshold z = {NO_ANSWER_Z}, language offset {LANGUAGE_OFFSET}"
        " (kb.search.confidence)\n"
    )
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
            without = sum(r.answered(language_offset=0.0) for r in part) / len(part)
            report[corpus][group] = {"answered": shown, "answered_relevant_first": ok}
            plain = sum(r.answered(background=False) for r in part) / len(part)
            report[corpus][group]["answered_without_background"] = plain
            note = f"; without the offset {without:6.1%}" if without != shown else ""
            note += f"; without the background {plain:6.1%}" if plain != shown else ""
            print(
                f"    {group:20s} answered {shown:6.1%} (relevant FAQ first {ok:6.1%})"
                f" of {len(part)}{note}"
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
    study = background_study(rows, folds)
    report["background"] = study
    print_background(study)
    langs = other_languages(rows, folds)
    report["other_languages"] = langs
    print_languages(langs)
    if examples:
        report["examples"] = examples
        print("\nexamples on the demo FAQ")
        for text, verdict in examples.items():
            print(f"  {text!r:52s} {verdict}")
    return report


def print_languages(langs: dict[str, Any]) -> None:
    def shares(rates: dict[str, float]) -> str:
        return ", ".join(
            f"{k} {v:.0%} ({rates[k + ' relevant first']:.0%})"
            for k, v in rates.items()
            if not k.endswith("first")
        )

    print(
        f"\nlanguage offset (shipped {langs['shipped']}), chosen on off-topic queries only:"
        f" in-sample {langs['in_sample']:.2f}"
    )
    cv = langs["cross_validated"]
    print("  10-fold offsets chosen: " + ", ".join(f"{o:.2f}" for o in cv["offsets"]))
    for corpus, v in cv.items():
        if corpus != "offsets":
            print(
                f"  {corpus:10s} off-topic refused {v['refused']:6.1%}"
                f" (in other languages {v['refused_other_languages']:6.1%}), cross-validated"
            )
    for key, v in langs.items():
        if "->" in key:
            print(
                f"  chosen on {key:20s} offset {v['offset']:.2f}: off-topic refused"
                f" {v['refused']:6.1%}; answered {shares(v['answered'])}"
            )
    for key, v in langs.items():
        if key.startswith("at "):
            print(f"  offset {key[3:]}: answered (relevant FAQ first) {shares(v)}")


if __name__ == "__main__":
    main()
