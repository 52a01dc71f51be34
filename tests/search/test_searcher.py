from __future__ import annotations

from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import replace
from pathlib import Path

import numpy as np
import pytest

from kb.embed.embedder import FakeEmbedder
from kb.errors import QueryError
from kb.index.builder import build_index
from kb.ingest.chunking import chunk_document
from kb.search.config import SearchConfig
from kb.search.searcher import Searcher
from kb.store import Store
from kb.text.mecab import MeCabTokenizer
from kb.types import Filters
from tests.sample import DOCUMENTS


def test_one_query_fills_all_four_panes(searcher: Searcher) -> None:
    result = searcher.search("母の物忘れがひどく認知症が心配", k=3)
    assert result.faqs[0].id == "F4"
    assert result.cases[0].id == "C1"
    assert result.manuals[0].id == "guide#1"
    assert result.manuals[0].heading == "3. 高齢者の相談 > 3.1 認知症の相談を受けたら"
    assert result.departments[0].name == "高齢者支援課"
    dept = result.departments[0]
    assert dept.phone == "099-555-1108"
    assert dept.location == "本庁舎2階"
    assert "faq:F4" in dept.evidence
    assert result.took_ms > 0


@pytest.mark.parametrize("mode", ["hybrid", "dense", "lexical"])
def test_every_mode_finds_the_obvious_faq(searcher: Searcher, mode: str) -> None:
    result = searcher.search("粗大ごみを出したい", k=3, mode=mode)  # type: ignore[arg-type]
    assert result.faqs[0].id == "F6"


def test_kind_filter_limits_panes(searcher: Searcher) -> None:
    result = searcher.search("定期購入の解約", filters=Filters(kinds=("case",)))
    assert [c.id for c in result.cases][:1] == ["C2"]
    assert result.faqs == ()
    assert result.manuals == ()
    assert result.departments == ()


def test_published_only_never_returns_unpublished_or_internal(searcher: Searcher) -> None:
    result = searcher.search("住民票の職権消除", k=10, filters=Filters(published_only=True))
    ids = [f.id for f in result.faqs]
    assert ids
    assert "F9" not in ids
    assert result.cases == ()
    assert result.manuals == ()
    staff = searcher.search("住民票の職権消除", k=10)
    assert "F9" in [f.id for f in staff.faqs]


def test_department_category_and_date_filters(searcher: Searcher) -> None:
    by_dept = searcher.search("相談", k=10, filters=Filters(departments=("消費生活センター",)))
    assert {c.id for c in by_dept.cases} == {"C2"}
    assert {f.id for f in by_dept.faqs} == {"F5"}
    by_cat = searcher.search("手続き", k=10, filters=Filters(categories=("介護",)))
    assert {f.id for f in by_cat.faqs} == {"F3"}
    by_date = searcher.search(
        "相談", k=10, filters=Filters(date_from="2025-06-01", date_to="2025-12-31")
    )
    assert [c.id for c in by_date.cases] == ["C2"]


def test_rejects_empty_and_overlong_queries(searcher: Searcher) -> None:
    with pytest.raises(QueryError, match="検索する言葉を入力してください"):
        searcher.search("   ")
    searcher.config = SearchConfig(max_query_chars=10)
    with pytest.raises(QueryError, match="（10 文字まで）"):
        searcher.search("あ" * 11)


def test_updated_document_replaces_old_text_in_both_indexes(
    store: Store, tmp_path: Path, tokenizer: MeCabTokenizer
) -> None:
    emb = FakeEmbedder(64)
    doc = replace(
        DOCUMENTS[5],
        title="ペットボトルの出し方",
        body="キャップを外して資源の日に出してください。",
    )
    store.upsert([(doc, chunk_document(doc, tokenizer))])
    build_index(store, emb, tmp_path / "idx")
    s = Searcher.open(tmp_path / "idx", emb, tokenizer)
    for mode in ("lexical", "dense"):
        hits = s.retrieve("ペットボトル キャップ", k=1, mode=mode)["faq"]  # type: ignore[arg-type]
        assert hits[0].doc_id == "faq:F6"
    lexical_old = s.retrieve("粗大 処理券", k=5, mode="lexical")["faq"]
    assert "faq:F6" not in [h.doc_id for h in lexical_old]
    assert s.store.get_documents(["faq:F6"])["faq:F6"].title == "ペットボトルの出し方"


def test_a_search_marks_itself_in_flight_for_the_embedder(
    index_root: Path, tokenizer: MeCabTokenizer
) -> None:
    class Occupancy(FakeEmbedder):
        """Records how many searches were marked in flight at each query embedding."""

        def __init__(self) -> None:
            super().__init__(64)
            self.depth = 0
            self.seen: list[int] = []

        @contextmanager
        def occupied(self) -> Iterator[None]:
            self.depth += 1
            try:
                yield
            finally:
                self.depth -= 1

        def encode_queries(self, texts: Sequence[str]) -> np.ndarray:
            self.seen.append(self.depth)
            return super().encode_queries(texts)

    embedder = Occupancy()
    s = Searcher.open(index_root, embedder, tokenizer)
    assert embedder.seen == [0]  # the background questions, embedded when it opens: no search
    embedder.seen.clear()
    s.search("粗大ごみを出したい")
    s.retrieve("粗大ごみ", mode="dense")
    assert embedder.seen
    assert set(embedder.seen) == {1}
    assert embedder.depth == 0
    with pytest.raises(QueryError):
        s.search(" ")
    assert embedder.depth == 0  # released when a search fails too


def test_a_search_reads_only_the_documents_it_shows(
    searcher: Searcher, monkeypatch: pytest.MonkeyPatch
) -> None:
    read: list[list[str]] = []
    get_documents = searcher.store.get_documents

    def recording(doc_ids: Sequence[str]) -> dict[str, object]:
        read.append(list(doc_ids))
        return get_documents(doc_ids)  # type: ignore[return-value]

    monkeypatch.setattr(searcher.store, "get_documents", recording)
    result = searcher.search("母の物忘れがひどく認知症が心配", k=1)
    shown = {f"faq:{result.faqs[0].id}", f"case:{result.cases[0].id}"}
    shown.add(f"manual:{result.manuals[0].id}")
    assert len(read) == 1
    assert sorted(read[0]) == sorted(shown)
    # Departments are still ranked from the first ten FAQ and case hits and the directory,
    # with the departments the index holds for each chunk.
    assert result.departments[0].name == "高齢者支援課"
    assert "faq:F4" in result.departments[0].evidence
    wide = searcher.search("母の物忘れがひどく認知症が心配", k=10)
    assert [d.name for d in wide.departments] == [d.name for d in result.departments]
    assert [d.score for d in wide.departments] == [d.score for d in result.departments]
    read.clear()
    searcher.search("定期購入の解約", filters=Filters(kinds=("case",)), k=2)
    assert all(d.startswith("case:") for d in read[0])  # no FAQ read for a hidden pane
