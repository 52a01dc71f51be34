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
