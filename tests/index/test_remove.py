"""remove_documents: one deletion path for the store, caches, raw text, index builds and audit."""

from __future__ import annotations

import threading
from pathlib import Path

import pytest

from kb.embed.embedder import FakeEmbedder
from kb.errors import BusyError, DocumentNotFound, InputError
from kb.index.folder import IndexRoot
from kb.index.lock import writer_lock
from kb.index.remove import erases, parse_ids, remove_documents
from kb.index.update import rebuild
from kb.ingest.chunking import chunk_document
from kb.search.searcher import Searcher
from kb.security.audit import AuditLog
from kb.settings import Settings
from kb.store import (
    EmbeddingCache,
    FeedbackRecord,
    FeedbackStore,
    QueryLogRecord,
    QueryLogStore,
    RawTextStore,
    Store,
)
from kb.store.lifecycle import chunk_embedding_keys
from kb.text.mecab import MeCabTokenizer
from kb.types import Document
from tests.conftest import fill_store

EMB = FakeEmbedder(64)
TWIN = Document(
    "faq:F1B", "faq", "住民票の写しはどこで取れますか。",
    "市民課の窓口またはコンビニ交付で取得できます。手数料は300円です。", ("市民課",),
    published=True,
)  # fmt: skip
"""The same text as faq:F1: one embedding-cache row serves both."""


@pytest.fixture
def settings(tmp_path: Path, tokenizer: MeCabTokenizer) -> Settings:
    """The sample corpus (and F1's twin) stored and built twice: one serving, one older build."""
    settings = Settings(data_dir=tmp_path / "data")
    store = Store(settings.store_path)
    try:
        fill_store(store, tokenizer)
        store.upsert([(TWIN, chunk_document(TWIN, tokenizer))])
        rebuild(settings, store=store, embedder=EMB)
        rebuild(settings, store=store, embedder=EMB)
    finally:
        store.close()
    return settings


def _keys(settings: Settings, doc_id: str) -> set[str]:
    snapshot = IndexRoot(settings.index_root).current().open_snapshot()
    try:
        return {
            k
            for row in snapshot.iter_chunks()
            if row.doc_id == doc_id
            for k in chunk_embedding_keys(row.title, row.content)
        }
    finally:
        snapshot.close()


def _cached(settings: Settings, keys: set[str]) -> set[str]:
    cache = EmbeddingCache(settings.data_dir / "embeddings.sqlite")
    try:
        return set(cache.get(EMB.model_id, sorted(keys)))
    finally:
        cache.close()


def _search_ids(settings: Settings, query: str, tokenizer: MeCabTokenizer, mode: str) -> set[str]:
    searcher = Searcher.open(settings.index_root, EMB, tokenizer)
    try:
        result = searcher.search(query, k=20, mode=mode)
        return {h.doc_id for h in result.hits}
    finally:
        searcher.close()


def test_a_deleted_faq_leaves_store_cache_both_indexes_and_every_older_build(
    settings: Settings, tokenizer: MeCabTokenizer
) -> None:
    root = IndexRoot(settings.index_root)
    before = [f.path for f in root.old_builds()] + [root.current().path]
    assert len(before) == 2
    keys = _keys(settings, "faq:F6")
    assert _cached(settings, keys) == keys
    for mode in ("dense", "lexical"):
        assert "faq:F6" in _search_ids(settings, "粗大ごみの出し方", tokenizer, mode)

    report = remove_documents(settings, ["faq:F6"], EMB, actor="test-admin", role="admin")

    assert report.removed == ("faq:F6",)
    assert not report.erased  # an FAQ entry is public text: the logs keep it unless asked
    assert report.cache_rows == len(keys)
    assert _cached(settings, keys) == set()
    assert report.build is not None
    assert root.current().path == report.build.path
    assert report.build.embedded == 0  # every other vector came from the cache
    assert report.builds_removed == 2  # the one that served and the older one
    assert not any(p.exists() for p in before)
    assert root.old_builds() == []
    store = Store(settings.store_path)
    try:
        assert store.get_documents(["faq:F6"]) == {}
        assert "faq:F6" not in store.document_ids("faq")
    finally:
        store.close()
    for mode in ("dense", "lexical"):
        assert "faq:F6" not in _search_ids(settings, "粗大ごみの出し方", tokenizer, mode)
    # Nothing still needed was purged: a rebuild embeds nothing.
    assert rebuild(settings, embedder=EMB).embedded == 0


def test_a_text_another_chunk_still_has_keeps_its_cached_vector(settings: Settings) -> None:
    keys = _keys(settings, "faq:F1")
    assert keys == _keys(settings, "faq:F1B")
    report = remove_documents(settings, ["faq:F1B"], EMB, actor="t")
    assert report.cache_rows == 0
    assert _cached(settings, keys) == keys
    assert report.build is not None
    assert report.build.embedded == 0


def test_an_unknown_or_malformed_id_changes_nothing(settings: Settings) -> None:
    store = Store(settings.store_path)
    generation = store.generation()
    store.close()
    serving = IndexRoot(settings.index_root).current().path
    with pytest.raises(DocumentNotFound) as caught:
        remove_documents(settings, ["faq:F1", "faq:NOPE"], EMB, actor="t")
    assert caught.value.ids == ("faq:NOPE",)
    assert "faq:NOPE" in str(caught.value)
    with pytest.raises(InputError, match="F0001"):
        remove_documents(settings, ["F1"], EMB, actor="t")
    with pytest.raises(InputError):
        parse_ids([])
    store = Store(settings.store_path)
    try:
        assert store.generation() == generation
        assert "faq:F1" in store.document_ids("faq")
    finally:
        store.close()
    assert IndexRoot(settings.index_root).current().path == serving


def test_the_audit_log_records_who_removed_which_ids_never_the_text(settings: Settings) -> None:
    remove_documents(settings, ["faq:F5"], EMB, actor="admin-suzuki", role="admin")
    audit = AuditLog.from_settings(settings)
    try:
        events = [e for e in audit.events() if e.action.startswith("delete")]
    finally:
        audit.close()
    assert [e.action for e in events] == ["delete.start", "delete"]
    assert all(e.actor == "admin-suzuki" and e.role == "admin" for e in events)
    assert all(e.ids == ("faq:F5",) for e in events)
    assert "1 document(s) deleted" in events[1].detail
    assert all("定期購入" not in e.detail + e.query for e in events)


def test_a_department_id_takes_its_directory_entry(settings: Settings) -> None:
    report = remove_documents(settings, ["department:消費生活センター"], EMB, actor="t")
    assert report.directory_entries == 1
    store = Store(settings.store_path)
    try:
        assert "消費生活センター" not in {d.name for d in store.departments()}
        assert "department:消費生活センター" not in store.document_ids("department")
    finally:
        store.close()


def test_the_raw_text_goes_too(settings: Settings) -> None:
    raw = RawTextStore(settings.raw_text_path)
    raw.upsert([(Document("case:C1", "case", "山田太郎さんの相談", "原文"), "x")])
    raw.close()
    report = remove_documents(settings, ["case:C1"], EMB, actor="t")
    assert report.raw_rows == 1
    assert report.erased  # a case is always erased
    raw = RawTextStore(settings.raw_text_path)
    try:
        assert raw.get("case:C1") is None
    finally:
        raw.close()


def test_cases_are_always_erased_other_kinds_when_asked() -> None:
    assert erases(["case:R6-001"], erase=False)
    assert not erases(["faq:F1", "manual:m#1"], erase=False)
    assert erases(["faq:F1"], erase=True)


def test_a_busy_writer_is_reported_not_waited_for(settings: Settings) -> None:
    held = threading.Event()
    release = threading.Event()

    def hold() -> None:
        with writer_lock(settings, "ingest"):
            held.set()
            release.wait(10)

    t = threading.Thread(target=hold)
    t.start()
    try:
        held.wait(10)
        with pytest.raises(BusyError, match="ingest"):
            remove_documents(settings, ["faq:F1"], EMB, actor="t")
    finally:
        release.set()
        t.join()
    store = Store(settings.store_path)
    try:
        assert "faq:F1" in store.document_ids("faq")
    finally:
        store.close()


def test_the_cached_readings_of_a_deleted_text_go_and_the_rest_stay(settings: Settings) -> None:
    from kb.index.readings import cache_version
    from kb.store.lifecycle import text_keys
    from kb.store.readings_cache import ReadingsCache

    store = Store(settings.store_path)
    try:
        gone = text_keys(store, ["faq:F6"])
        kept = text_keys(store, ["faq:F1"])
    finally:
        store.close()
    readings = ReadingsCache(settings.data_dir / "embeddings.sqlite")
    try:
        assert set(readings.get(cache_version(), sorted(gone | kept))) == gone | kept
        report = remove_documents(settings, ["faq:F6"], EMB, actor="t")
        assert report.readings_rows == len(gone)
        assert set(readings.get(cache_version(), sorted(gone | kept))) == kept
    finally:
        readings.close()


def test_a_procedure_is_deleted_by_its_id_and_leaves_the_served_snapshot(
    settings: Settings,
) -> None:
    from kb.types import Procedure

    store = Store(settings.store_path)
    try:
        store.upsert_procedures(
            [
                Procedure("P1", "転入届", "市民課", ("転入",)),
                Procedure("P2", "国保の加入", "保険年金課", ("転入",)),
            ]
        )
    finally:
        store.close()
    rebuild(settings, embedder=EMB)
    with pytest.raises(DocumentNotFound):
        remove_documents(settings, ["procedure:P9"], EMB, actor="t")
    report = remove_documents(settings, ["procedure:P1"], EMB, actor="t")
    assert report.removed == ("procedure:P1",)
    assert not report.erased  # public reference data
    snapshot = IndexRoot(settings.index_root).current().open_snapshot()
    try:
        assert [p.id for p in snapshot.procedures()] == ["P2"]
    finally:
        snapshot.close()
    assert parse_ids([" procedure:P2 "]) == ["procedure:P2"]
    with pytest.raises(InputError, match="procedure"):
        parse_ids(["procedures:P2"])


def test_deleting_again_finishes_a_deletion_killed_before_its_build(
    settings: Settings, tokenizer: MeCabTokenizer
) -> None:
    # An outside probe killed `kb delete` after the store and before the build: the serving
    # index still answered with the document, and deleting it again said "no such document".
    report = remove_documents(settings, ["faq:F6"], EMB, actor="t", build=False)
    assert report.build is None
    assert "faq:F6" in _search_ids(settings, "粗大ごみの出し方", tokenizer, "lexical")
    again = remove_documents(settings, ["faq:F6"], EMB, actor="t")
    assert again.removed == ("faq:F6",)
    assert again.build is not None
    root = IndexRoot(settings.index_root)
    assert root.old_builds() == []
    assert root.holding(["faq:F6"]) == set()
    assert "faq:F6" not in _search_ids(settings, "粗大ごみの出し方", tokenizer, "lexical")
    with pytest.raises(DocumentNotFound):  # now it is gone everywhere
        remove_documents(settings, ["faq:F6"], EMB, actor="t")


def test_erasing_again_after_a_kill_erases_the_logs_from_the_builds_text(
    settings: Settings,
) -> None:
    # An outside probe killed `kb delete case:…` after the store forgot the case: the serving
    # index still showed it, staff quoted it in a search and gave feedback on it, and the
    # rerun said "0 rows erased" because it read the ids and text from the store alone.
    case = "case:C3"
    store = Store(settings.store_path)
    try:
        text = store.get_documents([case])[case].title
        with store.transaction():
            store.delete_documents([case])  # step 1 of the killed erasure
    finally:
        store.close()
    log = QueryLogStore(settings.query_log_path)
    log.add(QueryLogRecord("staff", text))
    log.add(QueryLogRecord("staff", "粗大ごみの出し方"))
    log.close()
    feedback = FeedbackStore(settings.feedback_path)
    feedback.add(FeedbackRecord("staff", "転入の相談", shown=(case,), helped_id=case))
    feedback.close()
    raw = RawTextStore(settings.raw_text_path)
    raw.upsert([(Document(case, "case", "山田太郎さんの転入の相談", "原文"), "x")])
    raw.close()
    report = remove_documents(settings, [case], EMB, actor="t", erase=True)
    assert report.removed == (case,)
    assert report.raw_rows == 1  # its unmasked text goes too
    assert report.logs.query_rows == 1
    assert report.logs.feedback_rows == 1
    log = QueryLogStore(settings.query_log_path)
    try:
        assert [r.query for r in log.records()] == ["粗大ごみの出し方"]
    finally:
        log.close()
    assert IndexRoot(settings.index_root).holding([case]) == set()


def test_the_cached_vectors_and_readings_of_an_earlier_version_go_too(
    settings: Settings, tokenizer: MeCabTokenizer
) -> None:
    # An outside probe ingested a case, then a corrected version, then deleted it: the first
    # text's vector and kana reading stayed in embeddings.sqlite.
    from kb.store.readings_cache import ReadingsCache

    old_keys = _keys(settings, "faq:F6")
    store = Store(settings.store_path)
    try:
        doc = store.get_documents(["faq:F6"])["faq:F6"]
        edited = Document(doc.doc_id, doc.kind, doc.title + "（改訂）", doc.body + "改訂しました。")
        store.upsert([(edited, chunk_document(edited, tokenizer))])
        rebuild(settings, store=store, embedder=EMB)
    finally:
        store.close()
    new_keys = _keys(settings, "faq:F6")
    assert old_keys.isdisjoint(new_keys)
    assert _cached(settings, old_keys) == old_keys  # the earlier version is still cached

    remove_documents(settings, ["faq:F6"], EMB, actor="t")

    assert _cached(settings, old_keys | new_keys) == set()
    readings = ReadingsCache(settings.data_dir / "embeddings.sqlite")
    try:
        left = readings.distinct("text_hash")
    finally:
        readings.close()
    assert left.isdisjoint(old_keys | new_keys)
    assert rebuild(settings, embedder=EMB).embedded == 0  # nothing still needed went
