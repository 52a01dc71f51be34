"""Warm-up leaves nothing for the first user to wait for."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

import numpy as np

from kb.embed.embedder import FakeEmbedder
from kb.search import suggest
from kb.search.service import SearchService, settle_heap
from tests.e2e.demo_index import build_demo_index, rebuild_demo_index


def test_warm_up_builds_the_public_suggester(tmp_path: Path) -> None:
    service = SearchService(build_demo_index(tmp_path), FakeEmbedder(64))
    searcher = service.searcher()
    assert searcher not in suggest._cache
    service.warm_up()
    assert searcher in suggest._cache
    assert len(suggest._cache[searcher]) > 0
    assert suggest.suggester_for(searcher) is suggest._cache[searcher]


def test_warm_up_waits_for_the_embedders_background_session(tmp_path: Path) -> None:
    class Opening(FakeEmbedder):
        """Stands in for the ONNX embedder, whose all-core session opens in the background."""

        def __init__(self) -> None:
            super().__init__(64)
            self.waited: list[float | None] = []

        def wait_for_solo(self, timeout: float | None = None) -> bool:
            self.waited.append(timeout)
            return True

    embedder = Opening()
    service = SearchService(build_demo_index(tmp_path), embedder)
    service.warm_up()
    assert len(embedder.waited) == 1
    assert embedder.waited[0] is not None  # bounded: a stuck session cannot hold ready forever


def test_warm_up_embeds_a_query_in_japanese_and_one_in_another_language(tmp_path: Path) -> None:
    # With int8 queries, text that is not Japanese runs on another (float32) session: warm-up
    # must open it too, or the first foreign resident's search waits for it.
    from kb.text.language import is_japanese

    class Recording(FakeEmbedder):
        def __init__(self) -> None:
            super().__init__(64)
            self.queries: list[str] = []

        def encode_queries(self, texts: Sequence[str]) -> np.ndarray:
            self.queries.extend(texts)
            return super().encode_queries(texts)

    embedder = Recording()
    SearchService(build_demo_index(tmp_path), embedder).warm_up()
    assert {is_japanese(q) for q in embedder.queries} == {True, False}


def test_a_settled_heap_is_frozen_and_so_is_the_next_index(tmp_path: Path) -> None:
    import gc

    root = build_demo_index(tmp_path)
    service = SearchService(root, FakeEmbedder(64))
    first = service.searcher()
    gc.collect()
    assert not gc.get_freeze_count()  # nothing in the test process is frozen before
    try:
        settle_heap()
        frozen = gc.get_freeze_count()
        assert frozen > 0
        assert gc.get_count()[0] < 50  # collected first: the young generation starts empty
        # A new build takes over: the searcher that replaces the old one is frozen too.
        rebuild_demo_index(tmp_path)
        fresh = service.searcher()
        assert fresh is not first
        assert gc.get_freeze_count() > frozen
        assert fresh.search("住民票の写し", k=3).faqs
    finally:
        gc.unfreeze()
    # Without a settled heap (tests, the CLI), a new index is left to the collector.
    rebuild_demo_index(tmp_path)
    assert service.searcher() is not fresh
    assert not gc.get_freeze_count()
