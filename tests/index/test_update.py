"""ingest_and_build: the one ingest-then-build path of `kb ingest` and the admin upload."""

from __future__ import annotations

import threading
from pathlib import Path

import pytest

from kb.embed.embedder import FakeEmbedder
from kb.index.folder import IndexRoot
from kb.index.update import UpdateReport, ingest_and_build, rebuild
from kb.ingest.pipeline import IngestReport
from kb.settings import Settings
from kb.store import Store

FAQ = (
    "id,question,answer,department\n"
    "F1,住民票の写しはどこで取れますか,市民課の窓口で請求できます,市民課\n"
    "F2,粗大ごみの出し方,事前の申し込みが必要です,環境課\n"
)


def _settings(tmp_path: Path) -> Settings:
    return Settings(data_dir=tmp_path / "data")


def _first_ingest(tmp_path: Path) -> tuple[Settings, Path, FakeEmbedder, UpdateReport]:
    """The FAQ file ingested and built once: settings, the file, the embedder, the report."""
    settings = _settings(tmp_path)
    src = tmp_path / "faq.csv"
    src.write_text(FAQ, encoding="utf-8")
    emb = FakeEmbedder(64)
    first = ingest_and_build(settings, [src], kind="faq", embedder=emb)
    assert first.build is not None
    return settings, src, emb, first


def test_first_ingest_builds_then_unchanged_does_not(tmp_path: Path) -> None:
    settings = _settings(tmp_path)
    src = tmp_path / "faq.csv"
    src.write_text(FAQ, encoding="utf-8")
    emb = FakeEmbedder(64)
    seen: list[IngestReport] = []
    first = ingest_and_build(settings, [src], kind="faq", embedder=emb, on_ingested=seen.append)
    assert first.ingest.stats.added == 2
    assert first.build is not None
    assert seen == [first.ingest]
    assert IndexRoot(settings.index_root).current().path == first.build.path
    again = ingest_and_build(settings, [src], kind="faq", embedder=emb)
    assert again.ingest.stats.unchanged == 2
    assert again.build is None
    assert IndexRoot(settings.index_root).current().path == first.build.path


def test_no_build_asked_stores_only(tmp_path: Path) -> None:
    settings = _settings(tmp_path)
    src = tmp_path / "faq.csv"
    src.write_text(FAQ, encoding="utf-8")
    out = ingest_and_build(settings, [src], kind="faq", build=False, embedder=FakeEmbedder(64))
    assert out.build is None
    assert not IndexRoot(settings.index_root).has_index()
    store = Store(settings.store_path)
    try:
        assert store.counts()["faq"] == 2
    finally:
        store.close()
    # A later build with nothing new still builds, because no index serves yet.
    later = ingest_and_build(settings, [src], kind="faq", embedder=FakeEmbedder(64))
    assert later.ingest.stats.unchanged == 2
    assert later.build is not None
    assert rebuild(settings, embedder=FakeEmbedder(64)).chunks == later.build.chunks


def test_a_missing_file_is_reported_with_its_name(tmp_path: Path) -> None:
    settings = _settings(tmp_path)
    out = ingest_and_build(
        settings, [tmp_path / "missing.csv"], kind="faq", embedder=FakeEmbedder(64)
    )
    assert not out.ingest.ok
    assert any("missing.csv" in str(e) for e in out.ingest.errors)
    assert out.ingest.stats.added == 0


def test_an_overtaken_build_never_switches_back_to_its_older_snapshot(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The lost update with two threads and no writer lock: the generations alone prevent it.

    A stores its entries and starts its build; the build stops before it publishes. B stores
    its entry, builds and publishes. A's build resumes: it must not switch back to a snapshot
    without B's entry.
    """
    from kb.index import builder

    settings = _settings(tmp_path)
    a_src, b_src = tmp_path / "a.csv", tmp_path / "b.csv"
    a_src.write_text(FAQ, encoding="utf-8")
    b_src.write_text(FAQ.splitlines()[0] + "\nF3,犬の登録,生活環境課で登録します,生活環境課\n")
    emb = FakeEmbedder(64)
    a_paused, a_resume = threading.Event(), threading.Event()

    def pause_a(point: str) -> None:
        if point == "build.embedded" and threading.current_thread().name == "A":
            a_paused.set()
            assert a_resume.wait(30)

    monkeypatch.setattr(builder, "pause_point", pause_a)
    results: dict[str, UpdateReport] = {}

    def run_a() -> None:
        results["A"] = ingest_and_build(settings, [a_src], kind="faq", embedder=emb)

    a = threading.Thread(target=run_a, name="A")
    a.start()
    try:
        assert a_paused.wait(30)
        b = ingest_and_build(settings, [b_src], kind="faq", embedder=emb)
    finally:
        a_resume.set()
        a.join(30)
    assert b.build is not None
    assert not b.build.discarded
    a_build = results["A"].build
    assert a_build is not None
    assert a_build.discarded
    assert a_build.generation < b.build.generation
    root = IndexRoot(settings.index_root)
    assert root.current().path == b.build.path == a_build.path
    snapshot = root.current().open_snapshot()
    try:
        assert snapshot.document_ids("faq") == ["faq:F1", "faq:F2", "faq:F3"]
    finally:
        snapshot.close()
    assert not list(settings.index_root.glob(".building-*"))


def test_the_store_generation_counts_write_transactions_that_changed_it(tmp_path: Path) -> None:
    settings, src, emb, first = _first_ingest(tmp_path)
    store = Store(settings.store_path)
    try:
        stored = store.generation()
        assert stored == first.build.generation > 0
        # Nothing changed: no new generation (a rebuild gets the same one, and publishes).
        ingest_and_build(settings, [src], kind="faq", build=False, embedder=emb)
        assert store.generation() == stored
        assert store.delete_documents(["faq:F2"]) == 1
        assert store.generation() == stored + 1
    finally:
        store.close()
    again = rebuild(settings, embedder=emb)
    assert again.generation == stored + 1
    assert not again.discarded
    assert IndexRoot(settings.index_root).current().manifest().generation == stored + 1


def test_an_ingest_killed_before_its_build_is_built_by_the_next_one(tmp_path: Path) -> None:
    # An outside probe killed `kb ingest` after the store was saved: running it again said
    # "unchanged" and built nothing, so the new entries were never searchable.
    settings, _, emb, first = _first_ingest(tmp_path)
    more = tmp_path / "more.csv"
    more.write_text(FAQ.replace("F1,", "F3,").replace("F2,", "F4,"), encoding="utf-8")
    stored_only = ingest_and_build(settings, [more], kind="faq", embedder=emb, build=False)
    assert stored_only.ingest.stats.added == 2
    again = ingest_and_build(settings, [more], kind="faq", embedder=emb)
    assert again.ingest.stats.unchanged == 2
    assert again.build is not None
    assert again.build.chunks == 2 * first.build.chunks
    settled = ingest_and_build(settings, [more], kind="faq", embedder=emb)
    assert settled.build is None
