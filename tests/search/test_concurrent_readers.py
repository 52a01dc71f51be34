"""Searches keep being answered, and answered correctly, while ingests and builds run."""

from __future__ import annotations

import threading
import time
from pathlib import Path

from kb.embed.embedder import FakeEmbedder
from kb.index.builder import build_index
from kb.index.folder import current_index
from kb.ingest.chunking import chunk_document
from kb.search.service import SearchService
from kb.store import EmbeddingCache, Store
from kb.text.mecab import MeCabTokenizer
from kb.types import Document, Filters
from tests.conftest import fill_store

# Query → the FAQ entry and department that must come first, before, during and after.
EXPECTED = {
    "住民票の写しはどこで取れますか": ("F1", "市民課"),
    "粗大ごみの出し方を知りたい": ("F6", "ごみ減量推進課"),
    "定期購入の健康食品を解約したい": ("F5", "消費生活センター"),
}


def _unrelated(batch: int, n: int = 40) -> list[Document]:
    """New FAQ entries on a topic none of the queries is about (the library)."""
    return [
        Document(
            f"faq:L{batch}-{i}",
            "faq",
            f"図書館の本の貸出期間は何週間ですか（{batch}-{i}）",
            f"中央図書館では一人{i % 10 + 1}冊まで2週間借りられます。",
            ("生涯学習課",),
            published=True,
        )
        for i in range(n)
    ]


def test_searches_stay_correct_during_ingest_and_build(
    tmp_path: Path, tokenizer: MeCabTokenizer, fake_embedder: FakeEmbedder
) -> None:
    store = Store(tmp_path / "kb.sqlite")
    fill_store(store, tokenizer)
    root = tmp_path / "indexes"
    cache = EmbeddingCache(tmp_path / "emb.sqlite")
    build_index(store, fake_embedder, root, cache=cache)
    service = SearchService(root, fake_embedder, tokenizer=tokenizer)

    stop = threading.Event()
    errors: list[str] = []
    answered = [0]
    folders: set[str] = set()
    lock = threading.Lock()

    def reader() -> None:
        while not stop.is_set():
            for query, (faq_id, dept) in EXPECTED.items():
                try:
                    searcher = service.searcher()
                    result = searcher.search(query, k=5)
                except Exception as exc:  # any failure is a test failure, reported below
                    errors.append(f"{query}: {type(exc).__name__}: {exc}")
                    continue
                with lock:
                    answered[0] += 1
                    folders.add(searcher.folder.name)
                if not result.faqs or result.faqs[0].id != faq_id:
                    errors.append(f"{query}: {[f.id for f in result.faqs]}")
                if not result.departments or result.departments[0].name != dept:
                    errors.append(f"{query}: {[d.name for d in result.departments]}")

    threads = [threading.Thread(target=reader, daemon=True) for _ in range(4)]
    for thread in threads:
        thread.start()
    builds = [current_index(root).name]
    try:
        for batch in range(3):
            docs = _unrelated(batch)
            with store.transaction():
                store.upsert((doc, chunk_document(doc, tokenizer)) for doc in docs)
            build_index(store, fake_embedder, root, cache=cache)
            builds.append(current_index(root).name)
            # Let the readers answer a few queries from the new build (bounded wait).
            target, deadline = answered[0] + 12, time.monotonic() + 20
            while answered[0] < target and time.monotonic() < deadline:
                time.sleep(0.02)
    finally:
        stop.set()
        for thread in threads:
            thread.join(timeout=60)
    assert not errors, errors[:10]
    assert answered[0] > 20
    assert len(set(builds)) == 4
    # The readers really were served by several builds while they ran.
    assert len(folders) >= 2
    final = service.searcher().search("図書館の本の貸出期間", k=5, filters=Filters(kinds=("faq",)))
    assert final.faqs
    assert final.faqs[0].id.startswith("L")
    store.close()
    cache.close()
