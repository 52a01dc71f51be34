"""Postings-only BM25 (kb.index.lexical.QueryTerms.scores): bit for bit the dense sums."""

from __future__ import annotations

import numpy as np
import pytest

from kb.index.lexical import LexicalIndex, LexicalScores

WORDS = [f"w{i}" for i in range(60)]


def _index(seed: int, n: int = 400) -> tuple[LexicalIndex, list[list[str]]]:
    rng = np.random.default_rng(seed)
    # Zipf-like: a few words in most documents, most words in few.
    p = 1.0 / np.arange(1, len(WORDS) + 1)
    p /= p.sum()
    texts = [list(rng.choice(WORDS, size=rng.integers(1, 30), p=p)) for _ in range(n)]
    titles = [list(rng.choice(WORDS, size=rng.integers(0, 4), p=p)) for _ in range(n)]
    return LexicalIndex.build(titles, texts), texts


@pytest.mark.parametrize("seed", range(6))
def test_postings_only_scores_equal_the_dense_sum_bit_for_bit(seed: int) -> None:
    lemmas, _ = _index(seed)
    readings, _ = _index(seed + 100)
    rng = np.random.default_rng(seed)
    for _ in range(40):
        tokens = list(rng.choice([*WORDS, "unknown"], size=rng.integers(0, 6)))
        weights = [float(w) for w in rng.choice([1.0, 0.2, 0.5], size=len(tokens))]
        query = lemmas.terms(tokens, weights)
        if rng.random() < 0.7:
            other = list(rng.choice(WORDS, size=rng.integers(1, 5)))
            query = query.plus(readings.terms(other, max_share=0.5, scale=0.3))
        dense = query.scores(0.0)
        postings = query.scores(1e9)
        assert dense.is_sparse == (query.postings == 0)
        assert postings.is_sparse
        expected = lemmas.score(tokens, weights)
        if len(query.fields) > 1:
            expected += 0.3 * readings.score(other, max_share=0.5)
        np.testing.assert_array_equal(dense.dense(), expected)
        np.testing.assert_array_equal(postings.dense(), expected)
        rows, values = postings.matches()
        assert rows.tolist() == np.flatnonzero(expected > 0).tolist()
        np.testing.assert_array_equal(values, expected[rows])
        probe = rng.choice(lemmas.n_docs, size=50)
        np.testing.assert_array_equal(postings.at(probe), expected[probe])
        np.testing.assert_array_equal(dense.at(probe), expected[probe])


def test_the_cheaper_way_is_chosen_by_the_postings() -> None:
    _, texts = _index(0)
    texts[3].append("rare")
    texts[7].append("rare")
    lemmas = LexicalIndex.build([[] for _ in texts], texts)
    rare = lemmas.terms(["rare"]).scores()
    assert rare.is_sparse
    assert rare.matches()[0].tolist() == [3, 7]
    assert not lemmas.terms(["w0", "w1"]).scores().is_sparse  # in most documents
    assert lemmas.terms([]).scores().matches()[0].size == 0


def test_matches_in_a_range_of_rows() -> None:
    scores = LexicalScores(6, rows=np.array([0, 2, 3, 5]), values=np.ones(4, np.float32))
    rows, values = scores.matches_in(2, 5)
    assert rows.tolist() == [2, 3]
    assert values.tolist() == [1.0, 1.0]
    assert scores.at(np.array([1, 2, 5])).tolist() == [0.0, 1.0, 1.0]
    assert LexicalScores(3, rows=np.zeros(0, np.int64), values=np.zeros(0, np.float32)).at(
        np.array([0, 2])
    ).tolist() == [0.0, 0.0]
