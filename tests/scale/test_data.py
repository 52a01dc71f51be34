"""``kb build --ray``: the embeddings computed on Ray Data over a two-node local cluster, landed in
the embedding cache, then the normal build: the same index as a local build."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

import numpy as np
import pytest

from kb.index.builder import build_index
from kb.index.folder import IndexFolder, IndexRoot
from kb.index.update import rebuild
from kb.scale.data import EmbedReport, embed_missing, rebuild_on_ray
from kb.store import EmbeddingCache, Store
from tests.scale.conftest import data_dir_with

pytestmark = pytest.mark.ray

LEXICAL_FILES = ("bm25.npz", "bm25_vocab.json", "readings.npz", "readings_vocab.json")


class NoEncoding:
    """An embedder that must never be asked: everything is in the cache already."""

    model_id = "fake-hash-64"
    dim = 64

    def encode_queries(self, texts: Sequence[str]) -> np.ndarray:
        raise AssertionError(f"asked to embed {len(texts)} queries")

    def encode_documents(self, texts: Sequence[str], *, progress: bool = False) -> np.ndarray:
        raise AssertionError(f"asked to embed {len(texts)} documents: not in the cache")


def _min_cosine(a: np.ndarray, b: np.ndarray) -> float:
    return float((a * b).sum(axis=1).min())


def _same_vectors(mine: IndexFolder, theirs: IndexFolder, at_least: float) -> None:
    np.testing.assert_array_equal(mine.rowids(), theirs.rowids())
    assert _min_cosine(mine.vectors(), theirs.vectors()) >= at_least
    assert _min_cosine(mine.title_vectors(), theirs.title_vectors()) >= at_least


def test_build_over_ray_gives_the_same_index(
    ray_cluster: str, sample_store: Path, tmp_path: Path
) -> None:
    local = data_dir_with(sample_store, tmp_path / "local")
    remote = data_dir_with(sample_store, tmp_path / "ray")
    mine = rebuild(local)
    reports: list[EmbedReport] = []
    theirs = rebuild_on_ray(remote, ray_cluster, workers=2, on_embedded=reports.append)

    (embedded,) = reports
    assert embedded.workers == 2
    assert embedded.missing == embedded.texts > mine.chunks  # contents and titles, not cached
    assert theirs.embedded == 0
    assert theirs.cached == theirs.chunks == mine.chunks
    a = IndexRoot(local.index_root).current()
    b = IndexRoot(remote.index_root).current()
    _same_vectors(a, b, at_least=0.9999)
    ma, mb = a.manifest(), b.manifest()
    assert (ma.model, ma.dim, ma.corpus_hash, ma.chunks, ma.dense_kind) == (
        mb.model,
        mb.dim,
        mb.corpus_hash,
        mb.chunks,
        mb.dense_kind,
    )
    for name in LEXICAL_FILES:
        assert (a.path / name).read_bytes() == (b.path / name).read_bytes(), name

    # The cache holds every text the builder embeds: a build now needs no model at all.
    store = Store(remote.store_path, read_only=True)
    cache = EmbeddingCache(remote.data_dir / "embeddings.sqlite")
    try:
        again = build_index(store, NoEncoding(), tmp_path / "again", cache=cache)
    finally:
        cache.close()
        store.close()
    assert again.embedded == 0
    # And a second pass on Ray finds nothing left to embed.
    second = embed_missing(remote, "fake-hash-64", workers=2)
    assert second.missing == 0
    assert second.texts == embedded.texts


@pytest.mark.integration
def test_ray_build_with_the_onnx_model_matches_a_local_build(
    ray_cluster: str, sample_store: Path, tmp_path: Path
) -> None:
    """The default model (ONNX encoder) on a Ray worker: cosine >= 0.9999 with a local build."""
    from kb.settings import DEFAULT_MODEL
    from tests.conftest import model_cache_dir

    settings = {"model": DEFAULT_MODEL, "model_cache_dir": model_cache_dir(), "threads": 1}
    local = data_dir_with(sample_store, tmp_path / "local").model_copy(update=settings)
    remote = data_dir_with(sample_store, tmp_path / "ray").model_copy(update=settings)
    mine = rebuild(local)
    reports: list[EmbedReport] = []
    theirs = rebuild_on_ray(remote, ray_cluster, workers=1, on_embedded=reports.append)
    assert reports[0].missing > 0
    assert theirs.embedded == 0
    assert theirs.chunks == mine.chunks
    a = IndexRoot(local.index_root).current()
    b = IndexRoot(remote.index_root).current()
    _same_vectors(a, b, at_least=0.9999)
