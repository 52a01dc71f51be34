"""IndexFolder / IndexRoot: the one owner of a build folder's files and the CURRENT pointer."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from kb.embed.embedder import FakeEmbedder
from kb.errors import IndexError_
from kb.index.builder import build_index
from kb.index.folder import CURRENT, IndexFolder, IndexRoot, current_index
from kb.search.searcher import Searcher
from kb.store import Store
from kb.text.mecab import MeCabTokenizer


def test_no_pointer_means_no_index(tmp_path: Path) -> None:
    root = IndexRoot(tmp_path / "indexes")
    assert not root.has_index()
    assert root.stamp() is None
    with pytest.raises(IndexError_, match="kb ingest"):
        root.current()


@pytest.mark.parametrize("pointer", ["", "\n", "gone-build\n"])
def test_pointer_to_nothing_is_an_index_error(tmp_path: Path, pointer: str) -> None:
    tmp_path.joinpath(CURRENT).write_text(pointer, encoding="utf-8")
    with pytest.raises(IndexError_, match="kb build"):
        IndexRoot(tmp_path).current()
    assert not IndexRoot(tmp_path).has_index()


def test_build_round_trips_through_the_folder(store: Store, tmp_path: Path) -> None:
    emb = FakeEmbedder(64)
    report = build_index(store, emb, tmp_path / "idx")
    root = IndexRoot(tmp_path / "idx")
    folder = root.current()
    assert folder.path == report.path == current_index(tmp_path / "idx")
    assert root.stamp() is not None
    snapshot = folder.open_snapshot()
    try:
        meta = snapshot.chunk_metadata()
    finally:
        snapshot.close()
    rowids = folder.check_rowids(meta["rowid"])
    assert len(rowids) == report.chunks == folder.manifest().chunks
    assert folder.vectors().shape == folder.title_vectors().shape == (report.chunks, 64)
    assert folder.load_lexical().n_docs == report.chunks


def test_rowids_that_differ_from_the_snapshot_are_refused(
    store: Store, tmp_path: Path, tokenizer: MeCabTokenizer
) -> None:
    emb = FakeEmbedder(64)
    report = build_index(store, emb, tmp_path / "idx")
    folder = IndexFolder(report.path)
    rowids = folder.rowids()
    vectors = np.array(folder.vectors())  # copies: the files are rewritten under the maps
    titles = np.array(folder.title_vectors())
    folder.write_vectors(rowids[::-1].copy(), vectors, titles)
    with pytest.raises(IndexError_, match="inconsistent"):
        Searcher(report.path, emb, tokenizer)


def test_a_missing_vectors_file_is_an_index_error(
    store: Store, tmp_path: Path, tokenizer: MeCabTokenizer
) -> None:
    emb = FakeEmbedder(64)
    report = build_index(store, emb, tmp_path / "idx")
    next(p for p in report.path.iterdir() if p.name.startswith("title_vectors")).unlink()
    with pytest.raises(IndexError_, match="incomplete"):
        Searcher(report.path, emb, tokenizer)


def test_a_discarded_build_never_serves(store: Store, tmp_path: Path) -> None:
    emb = FakeEmbedder(64)
    serving = build_index(store, emb, tmp_path / "idx").path
    root = IndexRoot(tmp_path / "idx")
    building = root.start_build()
    assert building.path.is_dir()
    assert root.current().path == serving
    root.discard(building)
    assert not building.path.exists()
    assert root.current().path == serving


def test_publish_switches_the_pointer_and_prune_keeps_the_serving_build(
    store: Store, tmp_path: Path
) -> None:
    emb = FakeEmbedder(64)
    first = build_index(store, emb, tmp_path / "idx").path
    root = IndexRoot(tmp_path / "idx")
    before = root.stamp()
    building = root.start_build()
    np.save(building.path / "marker.npy", np.zeros(1))
    published = root.publish(building)
    assert root.current() == published
    assert root.stamp() != before
    assert not building.path.exists()
    root.prune(keep=1)
    assert published.path.is_dir()
    assert not first.exists()
