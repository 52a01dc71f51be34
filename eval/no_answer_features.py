"""Features tried on top of the dense z-score for "no answer" (``eval/no_answer.py --features``).

Each is computed per query on the FAQ pane, from the corpus alone (no threshold, no dev query):

* ``lemma``: the best lemma-only BM25 score over the FAQ chunks (no reading field: its kana
  bigrams match nearly any text) divided by what the query could score at most: for each of
  its terms, the term's best score in any chunk, and for a typed word the corpus has never seen,
  the most a word found in no chunk could weigh (its IDF at df 0, times ``k1 + 1``). A query
  whose words the corpus does not know, or knows only apart, scores low.
* ``lemma_known``: the same without the words the corpus has never seen.
* ``query_norm``: the best dense score minus the mean of the query's similarities to a fixed
  random sample of the corpus's FAQ chunks, over their spread: the query's own scale instead of
  the corpus's, which removes the offset of a query in another language.

Then each is weighed in (``z + w * feature``, Japanese queries only: queries in other languages
have no lexical side) and cross-validated like the threshold: fold by fold the weight and the
threshold with the most refusals while every corpus answers 97% of its training in-domain
queries; and chosen on one corpus, applied to the other; the in-sample figure (weight and
threshold chosen on all the dev queries) bounds what weights fitted on any other data, such as
perturbed corpus questions, could reach on them. Last, a logistic model over all of them fitted
on the dev queries, and each dense reading's separation (AUC) alone.
"""

from __future__ import annotations

import math
import random
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from kb.search.confidence import decide
from kb.search.searcher import Searcher

SAMPLE = 4096
"""FAQ chunks a query is compared with for ``query_norm``."""
WEIGHTS = tuple(float(w) for w in np.round(np.arange(0.0, 4.0001, 0.25), 2))
FEATURES = ("lemma", "lemma_known", "query_norm")
TARGET_ANSWERED = 0.97


class FeatureProbe:
    """Computes the features of one corpus's queries (its FAQ chunks sampled once)."""

    def __init__(self, searcher: Searcher, seed: int = 0) -> None:
        self.searcher = searcher
        kinds = searcher.store.chunk_metadata()["kind"]
        faq = np.flatnonzero(np.asarray(kinds) == "faq")
        rng = np.random.default_rng(seed)
        sample = np.sort(rng.choice(faq, size=min(SAMPLE, faq.size), replace=False))
        w = searcher.config.title_weight
        self.sample = (1.0 - w) * np.asarray(searcher.vectors[sample], dtype=np.float32) + (
            w * np.asarray(searcher.title_vectors[sample], dtype=np.float32)
        )
        self.faq = faq
        lexical = searcher.lexical
        self.unknown = math.log1p((lexical.n_docs + 0.5) / 0.5) * (lexical.params.k1 + 1.0)
        self._term_max: dict[str, float] = {}

    def term_max(self, term: str) -> float:
        """A term's best score in any chunk (0 for a term the corpus does not have)."""
        if term not in self._term_max:
            scores = self.searcher.lexical.score([term])
            self._term_max[term] = float(scores.max()) if scores.size else 0.0
        return self._term_max[term]

    def features(self, text: str, best_dense: float | None) -> dict[str, float]:
        s = self.searcher
        analysis, _ = s.rewrite(s.analyze(text))
        out: dict[str, float] = {}
        if analysis.japanese and analysis.terms:
            scores = s.lexical.score(analysis.terms, analysis.weights)[self.faq]
            best = float(scores.max()) if scores.size else 0.0
            weight: dict[str, float] = {}
            for term, w in zip(analysis.terms, analysis.weights, strict=True):
                weight.setdefault(term, w)
            known = sum(w * self.term_max(t) for t, w in weight.items() if self.term_max(t) > 0)
            typed_unknown = sum(1 for t, w in weight.items() if w == 1.0 and not self.term_max(t))
            out["lemma_known"] = best / known if known > 0 else 0.0
            most = known + typed_unknown * self.unknown
            out["lemma"] = best / most if most > 0 else 0.0
        if best_dense is not None:
            qvec = s.embedder.encode_queries([analysis.text])[0]
            sims = self.sample @ np.asarray(qvec, dtype=np.float32)
            out["query_norm"] = (best_dense - float(sims.mean())) / max(float(sims.std()), 1e-6)
        return out


@dataclass(frozen=True)
class Scored:
    """What the study needs of a ``no_answer.Row``."""

    corpus: str
    group: str
    key: tuple[str, str]
    base: bool
    """Answered by the checks that need no threshold (content, a shared word, a dense side)."""
    z: float
    japanese: bool
    features: dict[str, float]


def scored(rows: Sequence[Any]) -> list[Scored]:
    out = []
    for r in rows:
        if r.group not in ("in", "off"):
            continue
        ev = r.evidence
        base = decide(ev, no_answer_z=-math.inf, language_offset=0.0) != "none"
        key = (r.corpus, r.query.id) if r.group == "in" else ("off", r.query.id)
        z = ev.dense_z if ev.dense_z is not None else -math.inf
        out.append(Scored(r.corpus, r.group, key, base, z, ev.japanese, r.features))
    return out


Value = Callable[[Scored, float], float]


def linear(feature: str | None) -> Value:
    """``z + w * feature`` for a Japanese query (``z`` alone for one in another language)."""

    def value(row: Scored, w: float) -> float:
        if not row.base:
            return -math.inf
        if feature is None or not row.japanese:
            return row.z
        return row.z + w * row.features.get(feature, 0.0)

    return value


def threshold(values: Sequence[Sequence[float]]) -> float:
    """The largest threshold that answers TARGET_ANSWERED of each list of in-domain values."""
    cuts = []
    for v in values:
        ordered = sorted(v, reverse=True)
        need = max(1, math.ceil(TARGET_ANSWERED * len(ordered)))
        at = ordered[need - 1]
        below = ordered[need] if need < len(ordered) else at - 0.1
        cuts.append(at - 0.01 if not math.isfinite(below) else (at + below) / 2)
    return min(cuts)


def fit(rows: Sequence[Scored], value: Value, weights: Sequence[float]) -> tuple[float, float]:
    best: tuple[tuple[float, float], float, float] | None = None
    corpora = sorted({r.corpus for r in rows if r.group == "in"})
    offs = [r for r in rows if r.group == "off"]
    for w in weights:
        ins = [[value(r, w) for r in rows if r.group == "in" and r.corpus == c] for c in corpora]
        t = threshold(ins)
        refused = sum(value(r, w) < t for r in offs) / max(len(offs), 1)
        key = (refused, -w)
        if best is None or key > best[0]:
            best = (key, w, t)
    assert best is not None
    return best[1], best[2]


def rates(
    rows: Sequence[Scored], value: Value, w: float, t: float, corpus: str
) -> tuple[float, float]:
    ins = [r for r in rows if r.corpus == corpus and r.group == "in"]
    offs = [r for r in rows if r.corpus == corpus and r.group == "off"]
    answered = sum(value(r, w) >= t for r in ins) / max(len(ins), 1)
    refused = sum(value(r, w) < t for r in offs) / max(len(offs), 1)
    return answered, refused


def study(rows: Sequence[Any], folds: int) -> dict[str, Any]:
    """Cross-validated, across-corpora and in-sample figures of ``z + w * feature``."""
    data = scored(rows)
    corpora = sorted({r.corpus for r in data})
    keys = sorted({r.key for r in data})
    random.Random(0).shuffle(keys)
    fold = {key: i % folds for i, key in enumerate(keys)}
    report: dict[str, Any] = {}
    for feature in (None, *FEATURES):
        value = linear(feature)
        weights = WEIGHTS if feature else (0.0,)
        judged: list[tuple[Scored, float, float]] = []
        for f in range(folds):
            w, t = fit([r for r in data if fold[r.key] != f], value, weights)
            judged += [(r, w, t) for r in data if fold[r.key] == f]
        entry: dict[str, Any] = {}
        for c in corpora:
            ins = [(r, w, t) for r, w, t in judged if r.corpus == c and r.group == "in"]
            offs = [(r, w, t) for r, w, t in judged if r.corpus == c and r.group == "off"]
            entry[f"cv_{c}"] = (
                sum(value(r, w) >= t for r, w, t in ins) / len(ins),
                sum(value(r, w) < t for r, w, t in offs) / len(offs),
            )
        w, t = fit(data, value, weights)
        entry["in_sample"] = {"weight": w, "threshold": t}
        for c in corpora:
            entry[f"in_sample_{c}"] = rates(data, value, w, t, c)
        for source in corpora:
            w, t = fit([r for r in data if r.corpus == source], value, weights)
            for target in corpora:
                if target != source:
                    entry[f"{source}->{target}"] = (w, t, *rates(data, value, w, t, target))
        report[feature or "z"] = entry
    report["upper_bound"] = upper_bound(data, corpora)
    report["separation"] = separation(rows)
    return report


def separation(rows: Sequence[Any]) -> dict[str, dict[str, float]]:
    """How well z and ``query_norm`` alone tell in-domain from off-topic queries (AUC): the
    Japanese ones per corpus, and those in other languages (the demo's English, Chinese and
    Vietnamese questions against the off-topic ones in other languages)."""

    def auc(pos: list[float], neg: list[float]) -> float:
        if not pos or not neg:
            return float("nan")
        p, n = np.asarray(pos)[:, None], np.asarray(neg)[None, :]
        return float(np.mean(p > n) + 0.5 * np.mean(p == n))

    def value(r: Any, name: str) -> float | None:
        z: float | None = r.evidence.dense_z
        return z if name == "z" else r.features.get(name)

    out: dict[str, dict[str, float]] = {}
    for name in ("z", "query_norm"):
        cells: dict[str, float] = {}
        for corpus in sorted({r.corpus for r in rows}):
            mine = [r for r in rows if r.corpus == corpus and r.evidence.content]
            pos = [value(r, name) for r in mine if r.group == "in"]
            neg = [value(r, name) for r in mine if r.group == "off" and r.evidence.japanese]
            cells[f"{corpus} Japanese"] = auc(
                [v for v in pos if v is not None], [v for v in neg if v is not None]
            )
            pos = [value(r, name) for r in mine if r.group.startswith("queries-") and
                   r.group[8:] in ("en", "zh", "vi")]  # fmt: skip
            neg = [value(r, name) for r in mine if r.group == "off" and not r.evidence.japanese]
            if pos:
                cells[f"{corpus} other languages"] = auc(
                    [v for v in pos if v is not None], [v for v in neg if v is not None]
                )
        out[name] = cells
    return out


def upper_bound(data: Sequence[Scored], corpora: Sequence[str]) -> dict[str, Any]:
    """A logistic model over z and every feature, fitted on the dev queries themselves."""
    try:
        from sklearn.linear_model import LogisticRegression
    except ImportError:  # an optional figure: scikit-learn is not a dependency of kb
        return {"skipped": "scikit-learn is not installed"}
    names = ("z", *FEATURES)
    train = [r for r in data if r.base and r.japanese and math.isfinite(r.z)]
    x = np.array([[r.z, *(r.features.get(f, 0.0) for f in FEATURES)] for r in train])
    y = np.array([r.group == "in" for r in train])
    model = LogisticRegression(C=1.0, max_iter=5000).fit(x, y)
    coef = model.coef_[0]

    def value(row: Scored, _: float) -> float:
        if not row.base or not math.isfinite(row.z):
            return -math.inf
        if not row.japanese:
            return row.z * float(coef[0])
        feats = [row.z, *(row.features.get(f, 0.0) for f in FEATURES)]
        return float(np.dot(coef, feats))

    _, t = fit(data, value, (0.0,))
    out: dict[str, Any] = {"weights": dict(zip(names, np.round(coef, 3).tolist(), strict=True))}
    for c in corpora:
        out[c] = rates(data, value, 0.0, t, c)
    return out


def print_study(report: dict[str, Any]) -> None:
    print("\nfeatures on top of z (answered / refused; rule: most refusals, 97% answered)")
    for name, entry in report.items():
        if name in ("upper_bound", "separation"):
            continue
        cells = [
            f"{key[3:]} {v[0]:6.1%} / {v[1]:6.1%}" for key, v in entry.items() if key[:3] == "cv_"
        ]
        label = "z alone" if name == "z" else f"z + w*{name}"
        print(f"  {label:19s} 10-fold: " + "; ".join(cells))
        w, t = entry["in_sample"]["weight"], entry["in_sample"]["threshold"]
        cells = [
            f"{key[10:]} {v[0]:6.1%} / {v[1]:6.1%}"
            for key, v in entry.items()
            if key.startswith("in_sample_")
        ]
        print(f"  {'':19s}in-sample (w {w:.2f}, z {t:+.2f}): " + "; ".join(cells))
        for key, v in entry.items():
            if "->" in key:
                w, t, a, b = v
                print(f"  {'':19s}chosen on {key} (w {w:.2f}, z {t:+.2f}): {a:6.1%} / {b:6.1%}")
    for name, cells in report["separation"].items():
        text = "; ".join(f"{k} {v:.3f}" for k, v in cells.items())
        print(f"  AUC of {name} alone, in-domain vs off-topic: {text}")
    bound = report["upper_bound"]
    if "skipped" in bound:
        print(f"  upper bound: {bound['skipped']}")
        return
    cells = [f"{c} {v[0]:6.1%} / {v[1]:6.1%}" for c, v in bound.items() if c != "weights"]
    print(
        "  logistic over z and all three, fitted on these queries, in-sample: " + "; ".join(cells)
    )
    print(f"    weights {bound['weights']}")
