"""Embeddings cached by model and content hash (:mod:`kb.store.embedding_cache`)."""

from __future__ import annotations

from pathlib import Path

import numpy as np

from kb.store import EmbeddingCache


def test_embedding_cache_round_trip(tmp_path: Path) -> None:
    cache = EmbeddingCache(tmp_path / "emb.sqlite")
    vec = np.arange(4, dtype=np.float32)
    cache.put("m", [("h1", vec)])
    got = cache.get("m", ["h1", "h2"])
    assert list(got) == ["h1"]
    np.testing.assert_array_equal(got["h1"], vec)
    assert cache.get("other-model", ["h1"]) == {}
