from __future__ import annotations

import math
from collections import Counter
from collections.abc import Sequence
from pathlib import Path

import numpy as np

from kb.index.lexical import BM25Params, LexicalIndex


def naive_bm25(
    query: Sequence[str], docs: Sequence[Sequence[str]], k1: float = 1.2, b: float = 0.75
) -> list[float]:
    """Textbook BM25, slow and obviously correct: the oracle."""
    n = len(docs)
    avgdl = sum(len(d) for d in docs) / n
    out = []
    for doc in docs:
        tf = Counter(doc)
        total = 0.0
        for term in query:
            df = sum(1 for d in docs if term in d)
            if not df:
                continue
            idf = math.log(1 + (n - df + 0.5) / (df + 0.5))
            f = tf[term]
            total += idf * f * (k1 + 1) / (f + k1 * (1 - b + b * len(doc) / avgdl))
        out.append(total)
    return out


DOCS = [
    ["住民", "票", "写し", "コンビニ", "交付"],
    ["転入", "届", "市民", "課", "転入"],
    ["粗大", "塵", "申込", "処理", "券"],
    ["住民", "票", "住民", "異動", "届"],
    ["介護", "認定", "申請"],
]


def test_matches_naive_oracle_single_field() -> None:
    index = LexicalIndex.build([[] for _ in DOCS], DOCS, BM25Params(k1=1.2, b=0.75))
    for query in (["住民", "票"], ["転入"], ["届", "申請", "存在しない"], ["住民", "住民"]):
        np.testing.assert_allclose(index.score(query), naive_bm25(query, DOCS), rtol=1e-5)


def test_title_weight_counts_title_terms_more() -> None:
    titles = [["住民", "票"], ["介護"]]
    texts = [["介護"], ["住民", "票"]]
    index = LexicalIndex.build(titles, texts, BM25Params(title_weight=3.0))
    scores = index.score(["住民"])
    assert scores[0] > scores[1] > 0


def test_unknown_terms_score_zero_and_weights_scale() -> None:
    index = LexicalIndex.build([[] for _ in DOCS], DOCS)
    assert not index.score(["未知語"]).any()
    full = index.score(["介護"], [1.0])
    half = index.score(["介護"], [0.5])
    np.testing.assert_allclose(half, full * 0.5, rtol=1e-6)


def test_save_and_load_round_trip(tmp_path: Path) -> None:
    index = LexicalIndex.build([["a"]] * len(DOCS), DOCS)
    index.save(tmp_path)
    loaded = LexicalIndex.load(tmp_path)
    np.testing.assert_array_equal(loaded.score(["住民", "a"]), index.score(["住民", "a"]))
    assert loaded.params == index.params
    assert not list(tmp_path.glob("*.pkl"))


def test_two_indexes_share_a_folder_under_their_own_stems(tmp_path: Path) -> None:
    lemmas = LexicalIndex.build([[] for _ in DOCS], DOCS)
    grams = LexicalIndex.build([["じゅ", "ゅう"]] * len(DOCS), [["てん"]] * len(DOCS))
    lemmas.save(tmp_path)
    grams.save(tmp_path, "readings")
    assert sorted(p.name for p in tmp_path.iterdir()) == [
        "bm25.npz",
        "bm25_vocab.json",
        "readings.npz",
        "readings_vocab.json",
    ]
    np.testing.assert_array_equal(
        LexicalIndex.load(tmp_path).score(["住民"]), lemmas.score(["住民"])
    )
    assert LexicalIndex.load(tmp_path, "readings").vocab == grams.vocab


def test_max_share_skips_terms_found_in_too_many_documents() -> None:
    index = LexicalIndex.build([[] for _ in DOCS], DOCS)
    # 届 is in 2 of 5 documents, 住民 in 2, 介護 in 1.
    query = ["届", "介護", "住民"]
    np.testing.assert_allclose(index.score(query, max_share=1.0), index.score(query))
    np.testing.assert_allclose(index.score(query, max_share=0.39), index.score(["介護"]))
    np.testing.assert_allclose(index.score(query, max_share=0.4), index.score(query))
    assert not index.score(query, max_share=0.0).any()


def test_max_postings_skips_terms_in_more_documents_than_the_bound() -> None:
    index = LexicalIndex.build([[] for _ in DOCS], DOCS)
    query = ["届", "介護", "住民"]  # in 2, 1 and 2 of the 5 documents
    scores = index.terms(query, max_postings=1).dense()
    np.testing.assert_allclose(scores, index.score(["介護"]))
    np.testing.assert_allclose(index.terms(query, max_postings=2).dense(), index.score(query))
    # The tighter of the two bounds wins.
    tight = index.terms(query, max_share=0.39, max_postings=5).dense()
    np.testing.assert_allclose(tight, index.score(["介護"]))
    assert not index.terms(query, max_postings=0).dense().any()
