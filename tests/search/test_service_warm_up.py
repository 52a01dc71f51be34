"""Warm-up leaves nothing for the first user to wait for."""

from __future__ import annotations

from pathlib import Path

from kb.index.embedder import FakeEmbedder
from kb.search import suggest
from kb.search.service import SearchService
from tests.e2e.demo_index import build_demo_index


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
