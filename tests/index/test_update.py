"""ingest_and_build: the one ingest-then-build path of `kb ingest` and the admin upload."""

from __future__ import annotations

from pathlib import Path

from kb.embed.embedder import FakeEmbedder
from kb.index.folder import IndexRoot
from kb.index.update import ingest_and_build, rebuild
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
