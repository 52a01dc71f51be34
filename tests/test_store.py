from __future__ import annotations

from collections.abc import Iterator
from dataclasses import replace
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from kb.ingest.chunking import chunk_document
from kb.store import EmbeddingCache, FeedbackStore, Store
from kb.text.mecab import MeCabTokenizer
from kb.types import Chunk, Document
from tests.sample import DOCUMENTS


def test_reupsert_is_idempotent(store: Store, tokenizer: MeCabTokenizer) -> None:
    before = store.counts()
    stats = store.upsert((d, chunk_document(d, tokenizer)) for d in DOCUMENTS)
    assert (stats.added, stats.updated, stats.unchanged) == (0, 0, len(DOCUMENTS))
    assert store.counts() == before


def test_updated_document_replaces_its_chunks(store: Store, tokenizer: MeCabTokenizer) -> None:
    doc = replace(DOCUMENTS[0], body="住民票はオンラインで申請できます。")
    stats = store.upsert([(doc, chunk_document(doc, tokenizer))])
    assert stats.updated == 1
    texts = [c.text for c in store.iter_chunks() if c.doc_id == doc.doc_id]
    assert texts == ["住民票はオンラインで申請できます。"]
    assert store.get_documents([doc.doc_id])[doc.doc_id].body == doc.body


def test_failed_upsert_leaves_store_unchanged(store: Store, tokenizer: MeCabTokenizer) -> None:
    before = store.counts()
    new = Document("faq:NEW", "faq", "新しい質問", "新しい回答", published=True)

    def items() -> Iterator[tuple[Document, list[Chunk]]]:
        yield new, chunk_document(new, tokenizer)
        raise RuntimeError("killed midway")

    with pytest.raises(RuntimeError):
        store.upsert(items())
    assert store.counts() == before
    assert store.get_documents(["faq:NEW"]) == {}


def test_snapshot_is_a_readable_copy(store: Store, tmp_path: Path) -> None:
    target = tmp_path / "snap.sqlite"
    store.snapshot(target)
    copy = Store(target, read_only=True)
    assert copy.counts() == store.counts()
    assert copy.corpus_hash() == store.corpus_hash()
    copy.close()


def test_corpus_hash_changes_with_content(store: Store, tokenizer: MeCabTokenizer) -> None:
    before = store.corpus_hash()
    doc = replace(DOCUMENTS[1], title="転入届について")
    store.upsert([(doc, chunk_document(doc, tokenizer))])
    assert store.corpus_hash() != before


def test_embedding_cache_round_trip(tmp_path: Path) -> None:
    cache = EmbeddingCache(tmp_path / "emb.sqlite")
    vec = np.arange(4, dtype=np.float32)
    cache.put("m", [("h1", vec)])
    got = cache.get("m", ["h1", "h2"])
    assert list(got) == ["h1"]
    np.testing.assert_array_equal(got["h1"], vec)
    assert cache.get("other-model", ["h1"]) == {}


def _rows(store: Store) -> list[tuple[object, ...]]:
    return [
        *store.db.execute("select rowid, * from documents order by rowid").fetchall(),
        *store.db.execute("select * from chunks order by id").fetchall(),
    ]


def test_batched_upsert_gives_the_rows_of_a_row_by_row_one(tokenizer: MeCabTokenizer) -> None:
    # Updated documents interleaved with new ones, the last stored chunk among the updated:
    # row ids must follow the order of the items whatever the batch size.
    first = [Document(f"faq:F{i}", "faq", f"質問{i}", f"回答{i}。" * (i + 1)) for i in range(6)]
    second = [
        replace(first[5], body="新しい回答。"),
        Document("faq:N1", "faq", "新しい質問", "回答。"),
        replace(first[0], body="別の回答。\n" * 300),
        first[1],
        Document("faq:N2", "faq", "もう一つ", "回答。"),
        replace(first[3], title="変わった質問"),
    ]
    results = []
    for batch_size in (1, 2, 10_000):
        store = Store()
        store.upsert([(d, chunk_document(d, tokenizer)) for d in first])
        stats = store.upsert(
            [(d, chunk_document(d, tokenizer)) for d in second], batch_size=batch_size
        )
        assert (stats.added, stats.updated, stats.unchanged) == (2, 3, 1)
        results.append(_rows(store))
        store.close()
    assert results[0] == results[1] == results[2]
    ids = {row[1]: row[0] for row in results[0] if isinstance(row[0], int) and len(row) == 10}
    # F5's old chunk held the highest id (6); deleted first, its replacement gets it again, as
    # in a row-by-row write, and the new N1 comes right after it.
    assert (ids["faq:F5#0"], ids["faq:N1#0"], ids["faq:F0#0"]) == (6, 7, 8)


def test_published_faq_texts(store: Store) -> None:
    texts = list(store.published_faq_texts())
    published = [d for d in DOCUMENTS if d.kind == "faq" and d.published]
    assert sorted(texts) == sorted(t for d in published for t in (d.title, d.body))


def _open_feedback_store(path: str, barrier: Any, results: Any) -> None:
    try:
        barrier.wait(30)
        FeedbackStore(Path(path)).close()
        results.put("ok")
    except Exception as exc:  # reported to the test
        results.put(f"{type(exc).__name__}: {exc}")


def test_processes_opening_a_fresh_side_database_together_all_succeed(tmp_path: Path) -> None:
    # `kb serve --workers 2` opens feedback.sqlite in every worker at the same moment; SQLite
    # refuses some of those first statements at once ("database is locked").
    import multiprocessing

    ctx = multiprocessing.get_context("fork")
    outcomes: list[str] = []
    for round_ in range(8):
        path = tmp_path / f"feedback-{round_}.sqlite"
        barrier, results = ctx.Barrier(4), ctx.Queue()
        procs = [
            ctx.Process(target=_open_feedback_store, args=(str(path), barrier, results))
            for _ in range(4)
        ]
        for proc in procs:
            proc.start()
        for proc in procs:
            proc.join(60)
        outcomes += [results.get(timeout=10) for _ in procs]
    assert outcomes == ["ok"] * 32
