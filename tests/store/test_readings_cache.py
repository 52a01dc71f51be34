"""Readings cached by tokenizer version and text hash (:mod:`kb.store.readings_cache`)."""

from __future__ import annotations

from pathlib import Path

from kb.store.readings_cache import ReadingsCache


def test_round_trip_versions_apart_and_purge_every_version(tmp_path: Path) -> None:
    cache = ReadingsCache(tmp_path / "embeddings.sqlite")
    try:
        cache.put("v1", [("h1", "a"), ("h2", "b")])
        cache.put("v2", [("h1", "c")])
        cache.put("v1", [("h1", "a2")])  # replaced, not doubled
        assert cache.get("v1", ["h1", "h2", "h3", "h1"]) == {"h1": "a2", "h2": "b"}
        assert cache.get("v2", ["h1", "h2"]) == {"h1": "c"}
        assert cache.purge(["h1", "h9"]) == 2  # under every version
        assert cache.get("v1", ["h1", "h2"]) == {"h2": "b"}
        assert cache.count() == 1
        assert cache.compact()
    finally:
        cache.close()


def test_it_shares_the_embedding_cache_file(tmp_path: Path) -> None:
    from kb.store import EmbeddingCache

    path = tmp_path / "embeddings.sqlite"
    embeddings = EmbeddingCache(path)
    readings = ReadingsCache(path)
    try:
        readings.put("v", [("h", "x")])
        assert embeddings.get("m", ["h"]) == {}
        assert readings.get("v", ["h"]) == {"h": "x"}
    finally:
        readings.close()
        embeddings.close()
