"""IndexFolder / IndexRoot: the one owner of a build folder's files and the CURRENT pointer."""

from __future__ import annotations

import dataclasses
from pathlib import Path

import numpy as np
import pytest

from kb.embed.embedder import FakeEmbedder
from kb.errors import IndexError_, StaleBuild
from kb.index.builder import build_index
from kb.index.folder import CURRENT, IndexFolder, IndexRoot, current_index
from kb.ingest.chunking import chunk_document
from kb.search.searcher import Searcher
from kb.store import Store
from kb.text.mecab import MeCabTokenizer
from kb.types import DocId, Document


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
    building.write_manifest(IndexFolder(first).manifest())
    published = root.publish(building)
    assert root.current() == published
    assert root.stamp() != before
    assert not building.path.exists()
    root.prune(keep=1)
    assert published.path.is_dir()
    assert not first.exists()


def _finished_build(root: IndexRoot, like: IndexFolder, generation: int) -> IndexFolder:
    """A started build carrying ``like``'s files and manifest, with another store generation."""
    building = root.start_build()
    for f in like.path.iterdir():
        (building.path / f.name).write_bytes(f.read_bytes())
    building.write_manifest(dataclasses.replace(like.manifest(), generation=generation))
    return building


def test_publish_refuses_a_build_older_than_the_serving_one(store: Store, tmp_path: Path) -> None:
    root = IndexRoot(tmp_path / "idx")
    serving = IndexFolder(build_index(store, FakeEmbedder(64), root.path).path)
    generation = serving.manifest().generation
    assert generation == store.generation() > 0
    older = _finished_build(root, serving, generation - 1)
    with pytest.raises(StaleBuild, match="discarded") as caught:
        root.publish(older, live_generation=store.generation())
    assert caught.value.serving == serving.path
    assert (caught.value.generation, caught.value.serving_generation) == (
        generation - 1,
        generation,
    )
    assert not older.path.exists()
    assert root.current() == serving
    # The same generation (a rebuild, another model) and a newer one both publish.
    same = root.publish(_finished_build(root, serving, generation))
    assert root.current() == same
    newer = root.publish(_finished_build(root, serving, generation + 1))
    assert root.current() == newer


def test_a_serving_build_of_a_replaced_store_does_not_block_publishing(
    store: Store, tmp_path: Path
) -> None:
    """A restored backup (or a fresh data folder) has a lower generation than the serving build."""
    root = IndexRoot(tmp_path / "idx")
    serving = IndexFolder(build_index(store, FakeEmbedder(64), root.path).path)
    ahead = root.publish(_finished_build(root, serving, 1000))
    building = _finished_build(root, serving, 5)
    with pytest.raises(StaleBuild):
        root.publish(_finished_build(root, serving, 5), live_generation=1000)
    assert root.current() == ahead
    published = root.publish(building, live_generation=5)
    assert root.current() == published


def test_publish_refuses_a_build_without_a_manifest(store: Store, tmp_path: Path) -> None:
    root = IndexRoot(tmp_path / "idx")
    serving = build_index(store, FakeEmbedder(64), root.path).path
    building = root.start_build()
    with pytest.raises(IndexError_, match="manifest"):
        root.publish(building)
    assert root.current().path == serving


def test_build_index_reports_a_build_overtaken_by_a_newer_one(
    store: Store, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The exact lost update, in one thread: build A pauses, B ingests and builds, A resumes."""
    from kb.index import builder

    root = tmp_path / "idx"
    emb = FakeEmbedder(64)
    build_index(store, emb, root)
    paused: list[str] = []

    def ingest_and_build_meanwhile(point: str) -> None:
        if point != "build.embedded" or paused:
            return
        paused.append(point)
        doc = Document(doc_id=DocId.of("faq", "B1"), kind="faq", title="新しい質問", body="答え")
        store.upsert([(doc, chunk_document(doc, MeCabTokenizer()))])
        build_index(store, emb, root)

    monkeypatch.setattr(builder, "pause_point", ingest_and_build_meanwhile)
    report = build_index(store, emb, root)
    assert paused
    assert report.discarded
    serving = IndexRoot(root).current()
    assert report.path == serving.path
    assert serving.manifest().generation == store.generation() == report.generation + 1
    assert not list(root.glob(".building-*"))
    snapshot = serving.open_snapshot()
    try:
        assert "faq:B1" in snapshot.document_ids("faq")
    finally:
        snapshot.close()


def test_remove_abandoned_builds_keeps_complete_ones(store: Store, tmp_path: Path) -> None:
    root = IndexRoot(tmp_path / "idx")
    assert IndexRoot(tmp_path / "none").remove_abandoned_builds() == 0
    serving = build_index(store, FakeEmbedder(64), root.path).path
    for _ in range(2):
        (root.start_build().path / "vectors.npy").write_bytes(b"x" * 100)
    assert root.remove_abandoned_builds() == 2
    assert not list(root.path.glob(".building-*"))
    assert root.current().path == serving
    assert serving.is_dir()
