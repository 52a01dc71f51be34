"""``kb.sqlite``: upserts, snapshots, content hashes and deletes (:mod:`kb.store.documents`)."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import replace
from pathlib import Path

import pytest

from kb.ingest.chunking import chunk_document
from kb.store import Store
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


def test_delete_documents_removes_them_and_their_chunks_only(
    store: Store, tokenizer: MeCabTokenizer
) -> None:
    extra = Document("faq:DEL", "faq", "消える質問", "消える回答。" * 200, published=True)
    store.upsert([(extra, chunk_document(extra, tokenizer))])
    gone = [DOCUMENTS[0].doc_id, "faq:DEL"]
    assert len([c for c in store.iter_chunks() if c.doc_id == "faq:DEL"]) > 1
    kept_ids = [doc_id for doc_id in store.document_ids() if doc_id not in gone]
    kept_docs = store.get_documents(kept_ids)
    kept_chunks = [c for c in store.iter_chunks() if c.doc_id not in gone]
    departments = store.departments()

    assert store.delete_documents([*gone, "faq:NOT-STORED"]) == 2

    assert store.get_documents(gone) == {}
    marks = ",".join("?" * len(gone))
    sql = f"select count(*) from chunks where doc_id in ({marks})"
    assert store.db.execute(sql, gone).fetchone() == (0,)
    assert store.document_ids() == kept_ids
    assert store.get_documents(kept_ids) == kept_docs
    assert list(store.iter_chunks()) == kept_chunks
    assert store.counts()["chunks"] == len(kept_chunks)
    assert store.departments() == departments
    assert store.delete_documents(gone) == 0
