"""Recent query vectors and answers (kb.search.query_cache) and how the service uses them."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

import numpy as np
import pytest

from kb.embed.embedder import FakeEmbedder
from kb.search import expiry
from kb.search.background import background_questions
from kb.search.feedback import DepartmentFeedback
from kb.search.query_cache import LRU, AnswerCache, QueryVectors
from kb.search.searcher import Searcher
from kb.search.service import SearchService
from kb.types import Filters, SearchResult

QUERIES = ("母の物忘れがひどく認知症が心配", "粗大ごみを出したい", "住民票の写しを取りたい")


class CountingEmbedder(FakeEmbedder):
    """The fake embedder, counting the texts it embeds as queries."""

    def __init__(self, dim: int = 64, model: str | None = None) -> None:
        super().__init__(dim)
        self._model = model
        self.queries: list[str] = []

    @property
    def model_id(self) -> str:
        return self._model or super().model_id

    def encode_queries(self, texts: Sequence[str]) -> np.ndarray:
        self.queries.extend(texts)
        return super().encode_queries(texts)


def _same(a: SearchResult, b: SearchResult) -> None:
    """Same answer: ids, scores and confidence (``took_ms`` aside)."""
    assert [(h.chunk_id, h.score, h.dense_score, h.lexical_score) for h in a.hits] == [
        (h.chunk_id, h.score, h.dense_score, h.lexical_score) for h in b.hits
    ]
    assert [(d.name, d.score) for d in a.departments] == [(d.name, d.score) for d in b.departments]
    assert (a.faqs, a.cases, a.manuals) == (b.faqs, b.cases, b.manuals)
    assert (a.answered, a.confidence) == (b.answered, b.confidence)


def test_lru_keeps_the_most_recent_and_is_bounded() -> None:
    lru: LRU[int] = LRU(2)
    lru.put("a", 1)
    lru.put("b", 2)
    assert lru.get("a") == 1  # a is now the most recent
    lru.put("c", 3)
    assert lru.get("b") is None
    assert (lru.get("a"), lru.get("c"), len(lru)) == (1, 3, 2)
    off: LRU[int] = LRU(0)
    off.put("a", 1)
    assert off.get("a") is None
    assert len(off) == 0
    with pytest.raises(ValueError, match="0 or more"):
        LRU(-1)


def test_a_text_is_embedded_once_and_the_vector_is_the_same() -> None:
    emb = CountingEmbedder()
    cache = QueryVectors(emb, 8)
    first = cache.encode("住民票")
    again = cache.encode("住民票")
    assert emb.queries == ["住民票"]
    np.testing.assert_array_equal(first, emb.encode_queries(["住民票"])[0])
    assert again is first
    assert not again.flags.writeable
    assert cache.hits == 1
    assert cache.embedded == 1


def test_the_cache_is_bounded_and_forgets_the_oldest() -> None:
    emb = CountingEmbedder()
    cache = QueryVectors(emb, 2)
    for text in ("a", "b", "c", "a"):
        cache.encode(text)
    assert emb.queries == ["a", "b", "c", "a"]
    assert len(cache) == 2


def test_another_model_gets_a_new_empty_cache() -> None:
    base = CountingEmbedder(model="base")
    cache = QueryVectors(base, 8)
    cache.encode("住民票")
    assert cache.for_embedder(CountingEmbedder(model="base")) is cache
    adapted = CountingEmbedder(model="adapted")
    fresh = cache.for_embedder(adapted)
    assert fresh is not cache
    assert len(fresh) == 0
    fresh.encode("住民票")
    assert adapted.queries == ["住民票"]


def test_an_answer_is_recomputed_when_synonyms_or_feedback_change() -> None:
    answers: AnswerCache[str] = AnswerCache(4)
    calls: list[int] = []

    def compute() -> str:
        calls.append(1)
        return f"answer {len(calls)}"

    synonyms, feedback = object(), object()
    assert answers.answer("q", synonyms, feedback, 0, compute) == ("answer 1", False)
    assert answers.answer("q", synonyms, feedback, 0, compute) == ("answer 1", True)
    assert answers.answer("q", object(), feedback, 0, compute) == ("answer 2", False)
    assert answers.answer("q", object(), feedback, 1, compute)[1] is False
    assert answers.hits == 1


def _service(index_root: Path, emb: FakeEmbedder, size: int = 16) -> SearchService:
    return SearchService(index_root, emb, synonym_dictionary=None, query_cache_size=size)


def _asked(emb: CountingEmbedder) -> list[str]:
    """The queries ``emb`` embedded, without the background questions every searcher embeds
    when it opens (:mod:`kb.search.background`)."""
    background = set(background_questions())
    return [q for q in emb.queries if q not in background]


def test_a_repeated_search_embeds_nothing_and_answers_the_same(index_root: Path) -> None:
    emb = CountingEmbedder()
    service = _service(index_root, emb)
    searcher = service.searcher()
    first = [searcher.search(q, k=3) for q in QUERIES]
    embedded = len(_asked(emb))
    assert embedded == len(QUERIES)
    again = [searcher.search(q, k=3) for q in QUERIES]
    assert len(_asked(emb)) == embedded
    assert searcher.answers is not None
    assert searcher.answers.hits == len(QUERIES)
    plain = Searcher(searcher.folder, FakeEmbedder(64), searcher.tokenizer, searcher.config)
    plain.synonyms = searcher.synonyms
    plain.department_feedback = searcher.department_feedback
    for a, b, q in zip(first, again, QUERIES, strict=True):
        _same(a, b)
        _same(a, plain.search(q, k=3))  # and the same as without any cache


def test_another_depth_filter_or_mode_is_another_answer_but_no_new_embedding(
    index_root: Path,
) -> None:
    emb = CountingEmbedder()
    searcher = _service(index_root, emb).searcher()
    q = QUERIES[0]
    wide = searcher.search(q, k=3)
    narrow = searcher.search(q, k=1)
    cases = searcher.search(q, k=3, filters=Filters(kinds=("case",)))
    searcher.search(q, k=3, mode="dense")
    assert len(wide.faqs) > len(narrow.faqs)
    assert cases.faqs == ()
    assert cases.cases
    assert _asked(emb) == [q]
    assert searcher.answers is not None
    assert searcher.answers.hits == 0


def test_public_and_staff_searches_never_share_a_query_vector(index_root: Path) -> None:
    # A public search that skipped the embedding for a text a counsellor had searched would
    # answer faster, telling anyone that the text was asked at the desk.
    emb = CountingEmbedder()
    searcher = _service(index_root, emb).searcher()
    q = QUERIES[0]
    searcher.search(q, k=3)
    searcher.search(q, k=3, filters=Filters(published_only=True))
    assert _asked(emb) == [q, q]
    searcher.search(q, k=2, filters=Filters(published_only=True))
    searcher.search(q, k=2)
    assert _asked(emb) == [q, q]  # each audience still reuses its own


def test_the_day_is_part_of_the_answer(index_root: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    searcher = _service(index_root, CountingEmbedder()).searcher()
    searcher.search(QUERIES[1], k=3, filters=Filters(published_only=True))
    monkeypatch.setattr(expiry, "today", lambda: "2999-01-01")
    searcher.search(QUERIES[1], k=3, filters=Filters(published_only=True))
    assert searcher.answers is not None
    assert searcher.answers.hits == 0


def test_new_feedback_recomputes_the_answer(index_root: Path) -> None:
    searcher = _service(index_root, CountingEmbedder()).searcher()
    feedback = searcher.department_feedback
    assert isinstance(feedback, DepartmentFeedback)
    searcher.search(QUERIES[0], k=3)
    searcher.department_feedback = DepartmentFeedback()  # another vote: not the cached answer
    searcher.search(QUERIES[0], k=3)
    assert searcher.answers is not None
    assert searcher.answers.hits == 0


def test_size_zero_turns_both_caches_off(index_root: Path) -> None:
    emb = CountingEmbedder()
    searcher = _service(index_root, emb, size=0).searcher()
    for _ in range(2):
        searcher.search(QUERIES[0], k=3)
    assert _asked(emb) == [QUERIES[0]] * 2


def test_the_vectors_survive_an_index_switch_with_the_same_model(
    index_root: Path, store: object, fake_embedder: FakeEmbedder
) -> None:
    from kb.index.builder import build_index
    from kb.store import Store

    emb = CountingEmbedder()
    service = _service(index_root, emb)
    old = service.searcher()
    old.search(QUERIES[0], k=3)
    assert isinstance(store, Store)
    build_index(store, fake_embedder, index_root)
    new = service.searcher()
    assert new is not old
    assert new.answers is not old.answers
    new.search(QUERIES[0], k=3)
    assert _asked(emb) == [QUERIES[0]]
