from __future__ import annotations

from dataclasses import replace
from pathlib import Path

import numpy as np
import pytest

from kb.embed.embedder import FakeEmbedder
from kb.errors import IndexError_, ManifestMismatch
from kb.index.builder import build_index
from kb.index.folder import CURRENT, IndexFolder, current_index
from kb.index.manifest import Manifest
from kb.ingest.chunking import chunk_document
from kb.search.searcher import Searcher
from kb.store import EmbeddingCache, Store
from kb.text.mecab import MeCabTokenizer
from tests.sample import DOCUMENTS


class CountingEmbedder(FakeEmbedder):
    def __init__(self, fail_after: int | None = None) -> None:
        super().__init__(64)
        self.calls = 0
        self.fail_after = fail_after

    def encode_documents(self, texts, *, progress=False):  # type: ignore[no-untyped-def]
        self.calls += len(texts)
        if self.fail_after is not None and self.calls > self.fail_after:
            raise RuntimeError("killed mid-embedding")
        return super().encode_documents(texts)


def test_build_writes_manifest_and_current(store: Store, tmp_path: Path) -> None:
    emb = FakeEmbedder(64)
    report = build_index(store, emb, tmp_path / "idx")
    folder = current_index(tmp_path / "idx")
    assert folder == report.path
    manifest = Manifest.read(folder)
    assert manifest.model == emb.model_id
    assert manifest.dim == 64
    assert manifest.chunks == store.counts()["chunks"] == report.chunks
    assert manifest.corpus_hash == store.corpus_hash()
    # One exact index per kind at this size, each named with its size.
    parts = dict(p.split("=") for p in manifest.dense_kind.split())
    assert parts
    assert all(v.startswith("flat:") for v in parts.values())
    assert sum(int(v.split(":")[1]) for v in parts.values()) == report.chunks
    assert all((report.path / f"dense-{k}.faiss").is_file() for k in parts)


def test_rebuild_embeds_only_changed_chunks(
    store: Store, tmp_path: Path, tokenizer: MeCabTokenizer
) -> None:
    cache = EmbeddingCache(tmp_path / "emb.sqlite")
    first = CountingEmbedder()
    build_index(store, first, tmp_path / "idx", cache=cache)
    chunks = list(store.iter_chunks())
    texts = {c.content for c in chunks} | {c.title or c.content for c in chunks}
    assert first.calls == len(texts)
    doc = replace(DOCUMENTS[0], body="住民票の写しは郵送でも請求できます。")
    store.upsert([(doc, chunk_document(doc, tokenizer))])
    second = CountingEmbedder()
    report = build_index(store, second, tmp_path / "idx", cache=cache)
    assert second.calls == 1
    assert (report.embedded, report.cached) == (1, store.counts()["chunks"] - 1)


def test_interrupted_build_keeps_previous_index_serving(store: Store, tmp_path: Path) -> None:
    root = tmp_path / "idx"
    good = build_index(store, FakeEmbedder(64), root)
    pointer = (root / CURRENT).read_text()
    with pytest.raises(RuntimeError, match="killed"):
        build_index(store, CountingEmbedder(fail_after=3), root)
    assert (root / CURRENT).read_text() == pointer
    assert current_index(root) == good.path
    assert not list(root.glob(".building-*"))
    searcher = Searcher.open(root, FakeEmbedder(64))
    assert searcher.search("住民票", k=1).faqs


def test_old_builds_are_pruned(store: Store, tmp_path: Path) -> None:
    root = tmp_path / "idx"
    for _ in range(4):
        build_index(store, FakeEmbedder(64), root, keep=2)
    builds = [p for p in root.iterdir() if p.is_dir()]
    assert len(builds) == 2
    assert current_index(root) in builds


def test_missing_index_is_a_clear_error(tmp_path: Path) -> None:
    with pytest.raises(IndexError_, match="kb ingest"):
        current_index(tmp_path / "none")


def test_index_of_another_model_is_refused(store: Store, tmp_path: Path) -> None:
    build_index(store, FakeEmbedder(64), tmp_path / "idx")
    with pytest.raises(ManifestMismatch, match="model 'fake-hash-64'"):
        Searcher.open(tmp_path / "idx", FakeEmbedder(32))


def test_vectors_are_normalised_and_aligned(store: Store, tmp_path: Path) -> None:
    report = build_index(store, FakeEmbedder(64), tmp_path / "idx")
    vectors = np.array(IndexFolder(report.path).vectors())
    rowids = IndexFolder(report.path).rowids()
    assert vectors.shape == (len(rowids), 64)
    np.testing.assert_allclose(np.linalg.norm(vectors, axis=1), 1.0, rtol=1e-5)
