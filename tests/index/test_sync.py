"""kb ingest --sync / --dry-run: the files are the truth for their kinds, never after a bad row."""

from __future__ import annotations

from pathlib import Path

import pytest

from kb.embed.embedder import FakeEmbedder
from kb.index.folder import IndexRoot
from kb.index.sync import MASS_MIN
from kb.index.update import ingest_and_build
from kb.security.audit import AuditLog
from kb.settings import Settings
from kb.store import Store
from tests.ingest._builders import deny_listing

EMB = FakeEmbedder(64)
HEADER = "id,question,answer,department\n"
ROWS = {
    f"F{i}": f"F{i},質問{i}番 住民票の写しについて,回答{i}番 市民課の窓口へ,市民課\n"
    for i in range(1, 10)
}
CASES = "id,date,summary,resolution,departments\nC1,2024-04-01,転入の相談,市民課へ案内した,市民課\n"


def _write(path: Path, ids: list[str], extra: str = "") -> Path:
    path.write_text(HEADER + "".join(ROWS[i] for i in ids) + extra, encoding="utf-8")
    return path


def _ids(settings: Settings, kind: str) -> list[str]:
    store = Store(settings.store_path)
    try:
        return store.document_ids(kind)  # type: ignore[arg-type]
    finally:
        store.close()


@pytest.fixture
def settings(tmp_path: Path) -> Settings:
    """Nine FAQ entries and one case stored and indexed."""
    settings = Settings(data_dir=tmp_path / "data")
    faq = _write(tmp_path / "faq.csv", list(ROWS))
    cases = tmp_path / "cases.csv"
    cases.write_text(CASES, encoding="utf-8")
    out = ingest_and_build(settings, [faq, cases], embedder=EMB)
    assert out.ingest.ok, out.ingest.errors
    return settings


def test_a_row_removed_from_the_file_is_deleted_by_sync_and_listed_by_dry_run(
    settings: Settings, tmp_path: Path
) -> None:
    faq = _write(tmp_path / "faq.csv", [i for i in ROWS if i != "F7"])
    plain = ingest_and_build(settings, [faq], embedder=EMB)
    assert plain.ingest.stats.unchanged == 8
    assert "faq:F7" in _ids(settings, "faq")  # without --sync nothing is deleted (as before)

    dry = ingest_and_build(settings, [faq], embedder=EMB, sync=True, dry_run=True)
    assert dry.sync is not None
    assert dry.sync.remove == ("faq:F7",)
    assert dry.sync.refused == ""
    assert dry.removed is None
    assert dry.build is None
    assert "faq:F7" in _ids(settings, "faq")  # a dry run writes nothing

    serving = IndexRoot(settings.index_root).current().path
    synced = ingest_and_build(settings, [faq], embedder=EMB, sync=True, actor="cli:tanaka")
    assert synced.removed is not None
    assert synced.removed.removed == ("faq:F7",)
    assert "faq:F7" not in _ids(settings, "faq")
    assert _ids(settings, "case") == ["case:C1"]  # only the kinds the file holds are synced
    assert synced.build is not None
    assert IndexRoot(settings.index_root).current().path == synced.build.path != serving
    audit = AuditLog.from_settings(settings)
    try:
        deletes = [e for e in audit.events() if e.action == "delete"]
    finally:
        audit.close()
    assert len(deletes) == 1
    assert deletes[0].ids == ("faq:F7",)
    assert deletes[0].actor == "cli:tanaka"
    assert "kb ingest --sync" in audit_detail(settings)


def audit_detail(settings: Settings) -> str:
    audit = AuditLog.from_settings(settings)
    try:
        return " ".join(e.detail for e in audit.events() if e.action.startswith("delete"))
    finally:
        audit.close()


def test_dry_run_lists_additions_and_changes_and_writes_nothing(
    settings: Settings, tmp_path: Path
) -> None:
    changed = ROWS["F2"].replace("回答2番", "新しい回答2番")
    path = tmp_path / "faq.csv"
    path.write_text(
        HEADER
        + "".join(v for k, v in ROWS.items() if k != "F2")
        + changed
        + ROWS["F1"].replace("F1,", "F10,"),
        encoding="utf-8",
    )
    store = Store(settings.store_path)
    generation = store.generation()
    store.close()
    dry = ingest_and_build(settings, [path], embedder=EMB, dry_run=True)
    assert dict(dry.ingest.planned) == {"faq:F2": "updated", "faq:F10": "added"}
    assert (dry.ingest.stats.added, dry.ingest.stats.updated) == (1, 1)
    store = Store(settings.store_path)
    try:
        assert store.generation() == generation
    finally:
        store.close()


def test_a_file_with_a_bad_row_removes_nothing(settings: Settings, tmp_path: Path) -> None:
    # F1..F3 only, and a row without an answer: the file was not read completely.
    faq = _write(tmp_path / "faq.csv", ["F1", "F2", "F3"], extra="F4,質問だけ,,市民課\n")
    out = ingest_and_build(settings, [faq], embedder=EMB, sync=True)
    assert out.sync is not None
    assert out.sync.remove  # what it would have removed is still known...
    assert "削除は行いませんでした" in out.sync.refused  # ...and refused, saying why
    assert out.removed is None
    assert len(_ids(settings, "faq")) == 9


def test_removing_most_of_a_kind_needs_force(settings: Settings, tmp_path: Path) -> None:
    # 8 of 9: not every one, and not more than MASS_MIN: a small list may shrink that much.
    assert len(ROWS) - 1 <= MASS_MIN
    faq = _write(tmp_path / "faq.csv", ["F1"])
    out = ingest_and_build(settings, [faq], embedder=EMB, sync=True)
    assert out.sync is not None
    assert out.sync.refused == ""
    assert _ids(settings, "faq") == ["faq:F1"]

    # Every one of a kind (an empty export) is refused without --force.
    empty = tmp_path / "empty.csv"
    empty.write_text(HEADER, encoding="utf-8")
    refused = ingest_and_build(settings, [empty], kind="faq", embedder=EMB, sync=True)
    assert refused.sync is not None
    assert "--force" in refused.sync.refused
    assert _ids(settings, "faq") == ["faq:F1"]
    forced = ingest_and_build(settings, [empty], kind="faq", embedder=EMB, sync=True, force=True)
    assert forced.removed is not None
    assert _ids(settings, "faq") == []


PROCEDURES = "id,手続き名,担当課,ライフイベント\n" + "".join(
    f"P{i},手続き{i},市民課,転入\n" for i in range(1, 5)
)


def test_a_case_file_sync_never_removes_the_desk_s_cases(
    settings: Settings, tmp_path: Path
) -> None:
    """Closed consultation records come from no file: a city's case export cannot erase them."""
    from kb.ingest.chunking import chunk_document
    from kb.text.mecab import MeCabTokenizer
    from kb.types import Document

    desk_case = Document("case:desk-R000001", "case", "窓口の相談", "案内した", ("市民課",))
    store = Store(settings.store_path)
    try:
        store.upsert([(desk_case, chunk_document(desk_case, MeCabTokenizer()))])
    finally:
        store.close()
    cases = tmp_path / "cases.csv"
    cases.write_text(CASES + "C2,2024-04-02,転出の相談,市民課へ案内した,市民課\n", encoding="utf-8")
    out = ingest_and_build(settings, [cases], embedder=EMB, sync=True)
    assert out.sync is not None
    assert out.sync.remove == ()
    assert _ids(settings, "case") == ["case:C1", "case:C2", "case:desk-R000001"]
    # Without C1 the only city case goes; the desk's stays (and is not counted as the kind's).
    cases.write_text(
        CASES.splitlines()[0] + "\nC2,2024-04-02,転出の相談,市民課へ,市民課\n", encoding="utf-8"
    )
    out = ingest_and_build(settings, [cases], embedder=EMB, sync=True)
    assert out.sync is not None
    assert out.sync.removes == ("case:C1",)
    assert _ids(settings, "case") == ["case:C2", "case:desk-R000001"]


def test_a_procedure_missing_from_its_file_is_removed_by_sync(
    settings: Settings, tmp_path: Path
) -> None:
    src = tmp_path / "procedures.csv"
    src.write_text(PROCEDURES, encoding="utf-8")
    assert ingest_and_build(settings, [src], embedder=EMB).ingest.ok
    src.write_text(PROCEDURES.replace("P3,手続き3,市民課,転入\n", ""), encoding="utf-8")
    dry = ingest_and_build(settings, [src], embedder=EMB, sync=True, dry_run=True)
    assert dry.sync is not None
    assert (dry.sync.kinds, dry.sync.remove) == (("procedure",), ("procedure:P3",))
    out = ingest_and_build(settings, [src], embedder=EMB, sync=True)
    assert out.removed is not None
    assert out.removed.removed == ("procedure:P3",)
    store = Store(settings.store_path)
    try:
        assert [p.id for p in store.procedures()] == ["P1", "P2", "P4"]
        assert len(store.document_ids("faq")) == 9  # other kinds untouched
    finally:
        store.close()
    snapshot = IndexRoot(settings.index_root).current().open_snapshot()
    try:
        assert [p.id for p in snapshot.procedures()] == ["P1", "P2", "P4"]
    finally:
        snapshot.close()


def test_a_subfolder_that_cannot_be_listed_removes_nothing(
    settings: Settings, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Its files were skipped without a word, so --sync took their records for deleted ones
    (an outside tester lost a manual's 30 sections, exit 0)."""
    folder = tmp_path / "exports"
    (folder / "cases").mkdir(parents=True)
    _write(folder / "faq.csv", list(ROWS))
    (folder / "cases" / "cases.csv").write_text(CASES, encoding="utf-8")
    deny_listing(monkeypatch, "cases")
    synced = ingest_and_build(settings, [folder], embedder=EMB, sync=True)
    assert synced.removed is None
    assert synced.sync is not None
    assert synced.sync.refused
    assert any(
        "cases" in e.source and "Permission denied" in e.message for e in synced.ingest.errors
    )
    assert _ids(settings, "case") == ["case:C1"]
