"""The background questions of "no answer" (kb.search.background)."""

from __future__ import annotations

import numpy as np
import pytest

from kb.embed.embedder import FakeEmbedder
from kb.search.background import background_questions, background_vectors, closest
from kb.search.searcher import Searcher
from kb.text.kana import has_kanji


def test_the_background_is_the_packages_list_without_comments() -> None:
    questions = background_questions()
    assert len(questions) >= 150
    assert len(set(questions)) == len(questions)
    assert not any(q.startswith("#") or q != q.strip() for q in questions)
    # Japanese: the check is only read for Japanese queries.
    assert sum(has_kanji(q) for q in questions) > 0.8 * len(questions)
    # Kept away from city business (the file's header): none of the city's words.
    city = ("ごみ", "税", "年金", "保険", "住民票", "保育", "介護", "手当", "届")
    assert [q for q in questions if any(w in q for w in city)] == []


def test_closest_is_the_best_similarity_to_the_background() -> None:
    emb = FakeEmbedder(32)
    vectors = background_vectors(emb)
    assert vectors.shape == (len(background_questions()), 32)
    first = background_questions()[0]
    assert closest(vectors, emb.encode_queries([first])[0]) == pytest.approx(1.0, abs=1e-5)
    other = emb.encode_queries(["粗大ごみを出したい"])[0]
    assert closest(vectors, other) == pytest.approx(float(np.max(vectors @ other)))
    assert closest(np.zeros((0, 32), np.float32), vectors[0]) is None


def test_the_searcher_compares_a_query_with_the_background(searcher: Searcher) -> None:
    _, japanese = searcher.retrieve_with_confidence("粗大ごみを出したい", k=3)
    assert japanese.background is not None
    _, english = searcher.retrieve_with_confidence("How do I throw away a sofa?", k=3)
    assert english.background is not None  # in any language
    _, lexical = searcher.retrieve_with_confidence("粗大ごみを出したい", k=3, mode="lexical")
    assert lexical.background is None
    # A background question typed as it is: closer to itself than to any entry of the corpus.
    _, talk = searcher.retrieve_with_confidence(background_questions()[0], k=3)
    assert talk.background is not None
    assert talk.background < 0
