"""Suggest prunes its candidates, counts common terms in byte vectors and answers a single
character from a ranked list (kb/search/suggest.py): the answer must be exactly the one of
scoring every question from plain posting lists, which the oracle below does (the suggester as
it was before those changes, with posting lists of its own built from the entries)."""

from __future__ import annotations

import json
import random
import weakref
from pathlib import Path

import numpy as np
import pytest

from bench.scale import generate, load_base
from kb.search.suggest import Suggester, _compact, _grams, _reading
from kb.text.kana import has_kanji
from kb.text.mecab import MeCabTokenizer
from kb.text.normalize import normalize

REPO = Path(__file__).resolve().parents[2]


def _lists(s: Suggester) -> dict[str, dict[str, np.ndarray]]:
    """Plain posting lists of every bigram, reading bigram, character and lemma."""
    found: dict[str, dict[str, list[int]]] = {k: {} for k in ("gram", "reading", "char", "lemma")}
    for i, e in enumerate(s._entries):
        for kind, terms in (
            ("gram", {g for g in _grams(e.key) if len(g) == 2}),
            ("reading", {g for g in _grams(e.reading) if len(g) == 2}),
            ("char", set(e.key)),
            ("lemma", set(e.lemmas)),
        ):
            for t in terms:
                found[kind].setdefault(t, []).append(i)
    return {k: {t: np.asarray(v) for t, v in d.items()} for k, d in found.items()}


_LISTS: weakref.WeakKeyDictionary[Suggester, dict[str, dict[str, np.ndarray]]] = (
    weakref.WeakKeyDictionary()
)


def _count(index: dict[str, np.ndarray], terms: set[str], n: int) -> np.ndarray:
    lists = [index[t] for t in terms if t in index]
    if not lists:
        return np.zeros(n)
    return np.bincount(np.concatenate(lists), minlength=n).astype(np.float64)


def oracle(s: Suggester, text: str, limit: int = 8) -> list[tuple[str, float]]:
    """Every question scored (the suggester before the bounded candidates)."""
    key = _compact(text)[:100]
    if not key:
        return []
    if s not in _LISTS:
        _LISTS[s] = _lists(s)
    lists = _LISTS[s]
    grams = _grams(key)
    n = len(s._entries)
    index = lists["gram"] if len(key) >= 2 else lists["char"]
    gram_hits = _count(index, grams, n)
    lemmas = set(s.tokenizer.lemmas(normalize(text))) if len(key) >= 2 else set()
    lemma_hits = _count(lists["lemma"], lemmas, n)
    coverage = gram_hits / len(grams)
    whole = coverage >= 1.0
    reading = _reading(text[:100], s.tokenizer) if len(key) >= 2 else ""
    reading_grams = {g for g in _grams(reading) if len(g) == 2}
    if reading_grams:
        reading_cover = _count(lists["reading"], reading_grams, n) / len(reading_grams)
        coverage = np.maximum(coverage, reading_cover)
        reading_whole = reading_cover >= 1.0
        live = np.zeros(n, dtype=bool)
        live[s._expiry.drop(np.arange(n))] = True
        checked = int((reading_whole & live).sum())
        if len(key) <= 3 and len(reading) > 2 and 0 < checked <= 256:
            # Short: the reading itself, not its bigrams found apart (where few have them).
            reading_whole &= np.array([reading in r for r in s._readings], dtype=bool)
        whole |= reading_whole
    lemma_cover = lemma_hits / len(lemmas) if lemmas else np.zeros(n)
    candidates = np.flatnonzero((coverage >= 0.5) | (lemma_cover > 0))
    candidates = s._expiry.drop(candidates)
    if candidates.size == 0:
        return []
    prefix = s._by_key.starting_with(key, candidates)
    if reading:
        prefix |= s._by_reading_text.starting_with(reading, candidates)
    holds = prefix | whole[candidates] | (lemma_cover[candidates] >= 1.0)
    if len(key) <= 3 and not holds.any():
        own = (gram_hits[candidates] / len(grams) >= 0.5) | (lemma_cover[candidates] > 0)
        candidates, prefix = candidates[own], prefix[own]
        if candidates.size == 0:
            return []
    if len(text.split()) == 1 and holds.any():
        candidates, prefix = candidates[holds], prefix[holds]
    base = coverage[candidates] + 0.8 * lemma_cover[candidates]
    bonus = prefix.astype(np.float64)
    long_reading = reading if len(reading) >= 2 else None
    for j in np.flatnonzero(~prefix & whole[candidates]).tolist():
        i = int(candidates[j])
        if key in s._keys[i] or (long_reading is not None and long_reading in s._readings[i]):
            bonus[j] = 0.5
    score = base + bonus
    order = np.lexsort((candidates, s._key_len[candidates], -score))[:limit]
    return [(s._entries[int(candidates[j])].id, round(float(score[j]), 4)) for j in order]


@pytest.fixture(scope="module")
def generated(tokenizer: MeCabTokenizer) -> Suggester:
    entries: list[tuple[str, str, str]] = []
    for _, record, _ in generate(load_base(), 8000, faq_share=1.0):
        if record["published"] and len(entries) < 4000:
            entries.append((str(record["id"]), str(record["question"]), str(record["department"])))
    # Some entries past their 公開期限: never suggested, by either.
    expires = {e[0]: "2000-01-01" for e in entries[::37]}
    return Suggester(entries, tokenizer, expires=expires)


def _typed(tokenizer: MeCabTokenizer) -> list[str]:
    lines = (REPO / "eval/datasets/demo/queries.jsonl").read_text("utf-8").splitlines()
    queries = [json.loads(line)["text"] for line in lines if line][::3]
    unconverted = [
        "".join(r.kana if has_kanji(r.surface) else r.surface for r in tokenizer.readings(q))
        for q in queries[::2]
    ]
    return [q[:i] for q in queries + unconverted for i in range(1, len(q) + 1)]


def _mine(s: Suggester, text: str, limit: int = 8) -> list[tuple[str, float]]:
    return [(x.id, x.score) for x in s.suggest(text, limit=limit)]


def test_every_typed_prefix_gets_the_oracles_answer(
    generated: Suggester, tokenizer: MeCabTokenizer
) -> None:
    typed = _typed(tokenizer)
    assert len(typed) > 1000
    different = [t for t in typed if _mine(generated, t) != oracle(generated, t)]
    assert different == []
    assert sum(bool(_mine(generated, t)) for t in typed) > 0.9 * len(typed)


@pytest.mark.parametrize("limit", [1, 3, 20])
def test_other_limits_and_random_text(
    generated: Suggester, tokenizer: MeCabTokenizer, limit: int
) -> None:
    rng = random.Random(limit)
    questions = [e.question for e in generated._entries]
    texts = [q[: rng.randint(1, len(q))] for q in rng.sample(questions, 150)]
    # Pieces from the middle of questions, and one-character prefixes (the character index).
    texts += [q[rng.randint(0, len(q) - 2) :][:6] for q in rng.sample(questions, 100)]
    texts += ["の", "住", "す", "ー", "ます", "ごみ", "じゅうみ", "漢", "x", "123", "。"]
    different = [t for t in texts if _mine(generated, t, limit) != oracle(generated, t, limit)]
    assert different == []


def test_expired_entries_never_come_out(generated: Suggester) -> None:
    gone = {e.id for e in generated._entries[::37]}
    for e in generated._entries[::37][:20]:
        assert gone.isdisjoint(s.id for s in generated.suggest(e.question[:8], limit=20))
