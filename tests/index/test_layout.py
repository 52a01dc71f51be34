"""Chunks grouped by kind in a build (kb/index/layout.py): the same answers as in row-id order."""

from __future__ import annotations

import json
from itertools import zip_longest
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from kb.embed.embedder import FakeEmbedder
from kb.errors import IndexError_
from kb.index import builder
from kb.index.builder import build_index
from kb.index.folder import IndexFolder, current_index
from kb.index.layout import KindRows, RowFinder, is_kind_ordered, kind_order, kind_slices
from kb.index.lexical import LexicalScores
from kb.ingest.chunking import chunk_document, department_document
from kb.search.searcher import Searcher
from kb.store import Store
from kb.text.mecab import MeCabTokenizer
from kb.trainer.corpus import load_corpus
from kb.types import Filters, SearchResult
from tests.e2e.demo_index import REPO, build_demo_index
from tests.sample import DEPARTMENTS, DOCUMENTS


def test_kind_order_groups_kinds_and_keeps_row_order_within_each() -> None:
    kinds = ["case", "faq", "case", "department", "faq", "manual", "other"]
    order = kind_order(kinds)
    assert order.tolist() == [1, 4, 0, 2, 5, 3, 6]
    grouped = np.array(kinds, dtype=object)[order]
    slices = kind_slices(grouped)
    assert slices == {
        "faq": slice(0, 2),
        "case": slice(2, 4),
        "manual": slice(4, 5),
        "department": slice(5, 6),
        "other": slice(6, 7),
    }
    assert kind_slices(np.array(kinds, dtype=object)) is None  # case, faq, case: not a slice
    assert kind_slices(np.array([], dtype=object)) == {}


def test_row_finder_in_either_order() -> None:
    ordered = np.array([10, 20, 30, 40])
    assert RowFinder(ordered).rows(np.array([30, 10])).tolist() == [2, 0]
    grouped = np.array([20, 40, 10, 30])  # two kinds, each ascending
    assert is_kind_ordered(grouped)
    assert not is_kind_ordered(np.arange(10)[::-1].copy())  # more descents than kinds
    assert RowFinder(grouped).rows(np.array([10, 40, 20])).tolist() == [2, 1, 0]


def _scores(values: list[float]) -> LexicalScores:
    return LexicalScores(len(values), dense=np.array(values, dtype=np.float32))


def test_kind_rows_split_matches_the_same_in_either_layout() -> None:
    kinds = np.array(["faq", "case", "faq", "case", "manual"], dtype=object)
    values = [0.5, 0.0, 2.0, 1.0, 0.25]
    legacy = KindRows(kinds)
    order = kind_order(kinds.tolist())
    grouped = KindRows(kinds[order])
    assert legacy.slices is None
    assert grouped.slices is not None
    for kind in ("faq", "case", "manual", "department"):
        rows, got = legacy.matches(kind, _scores(values))
        rows2, got2 = grouped.matches(kind, _scores([values[i] for i in order]))
        assert order[rows2].tolist() == rows.tolist()
        np.testing.assert_array_equal(got, got2)
    top = grouped.top("faq", grouped.positions["faq"], _scores([values[i] for i in order]), 1)
    assert order[top].tolist() == [2]


def _answer(result: SearchResult) -> tuple[Any, ...]:
    return (
        [(h.chunk_id, h.score, h.dense_score, h.lexical_score) for h in result.hits],
        [(d.name, d.score) for d in result.departments],
        result.faqs,
        result.cases,
        result.manuals,
        result.confidence,
    )


@pytest.fixture(scope="module")
def builds(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    """The demo corpus built now (grouped by kind) and in row-id order (as before)."""
    grouped = current_index(build_demo_index(tmp_path_factory.mktemp("grouped")))
    with pytest.MonkeyPatch.context() as mp:
        mp.setattr(builder, "kind_order", lambda kinds: np.arange(len(kinds)))
        legacy = current_index(build_demo_index(tmp_path_factory.mktemp("legacy")))
    return grouped, legacy


def _queries() -> list[str]:
    path = REPO / "eval/datasets/demo/queries.jsonl"
    return [json.loads(line)["text"] for line in path.read_text("utf-8").splitlines()][::4]


def test_a_build_groups_its_chunks_by_kind(builds: tuple[Path, Path]) -> None:
    grouped, legacy = builds
    for path, reordered in ((grouped, True), (legacy, False)):
        folder = IndexFolder(path)
        snapshot = folder.open_snapshot()
        try:
            meta = snapshot.chunk_metadata()
        finally:
            snapshot.close()
        aligned = folder.align(meta)
        assert sorted(aligned["rowid"].tolist()) == meta["rowid"].tolist()
        assert (aligned is not meta) is reordered  # the demo corpus is ingested cases first
    slices = kind_slices(folder.align(meta)["kind"])
    assert slices is not None
    assert list(slices)[:2] == ["case", "faq"]
    grouped_kinds = IndexFolder(grouped).align(meta)["kind"]
    assert list(kind_slices(grouped_kinds) or {}) == ["faq", "case", "manual", "department"]


def test_interleaved_kinds_answer_the_same_grouped_or_not(
    tmp_path: Path, tokenizer: MeCabTokenizer
) -> None:
    # Documents stored with their kinds interleaved: the build in row-id order has no slices.
    docs = [*DOCUMENTS, *(department_document(d) for d in DEPARTMENTS)]
    by_kind = [[d for d in docs if d.kind == kind] for kind in ("department", "case", "faq")]
    by_kind.append([d for d in docs if d.kind == "manual"])
    interleaved = [d for group in zip_longest(*by_kind) for d in group if d is not None]
    store = Store(None)
    store.upsert_departments(list(DEPARTMENTS))
    for doc in interleaved:
        store.upsert([(doc, chunk_document(doc, tokenizer))])
    emb = FakeEmbedder(64)
    grouped = build_index(store, emb, tmp_path / "grouped").path
    with pytest.MonkeyPatch.context() as mp:
        mp.setattr(builder, "kind_order", lambda kinds: np.arange(len(kinds)))
        legacy = build_index(store, emb, tmp_path / "legacy").path
    a, b = Searcher(grouped, emb, tokenizer), Searcher(legacy, emb, tokenizer)
    assert a._kinds.slices is not None
    assert b._kinds.slices is None
    for q in ("母の物忘れがひどく認知症が心配", "粗大ごみを出したい", "定期購入の解約", "住民票"):
        for filters in (Filters(), Filters(kinds=("case", "faq"))):
            assert _answer(a.search(q, k=3, filters=filters)) == _answer(
                b.search(q, k=3, filters=filters)
            )


def test_a_build_in_another_order_is_refused(builds: tuple[Path, Path], tmp_path: Path) -> None:
    import shutil

    copy = tmp_path / "b"
    shutil.copytree(builds[0], copy)
    folder = IndexFolder(copy)
    rowids = folder.rowids()
    np.save(copy / "rowids.npy", np.random.default_rng(0).permutation(rowids))
    with pytest.raises(IndexError_, match="inconsistent"):
        Searcher(copy, FakeEmbedder(64))


@pytest.mark.parametrize(
    "filters",
    [Filters(), Filters(published_only=True), Filters(kinds=("case",), date_from="2024-01-01")],
)
def test_same_answers_in_either_layout_and_either_bm25(
    builds: tuple[Path, Path], filters: Filters
) -> None:
    grouped, legacy = builds
    emb = FakeEmbedder(64)
    searchers = [Searcher(grouped, emb), Searcher(legacy, emb)]
    dense_bm25 = Searcher(grouped, emb)
    dense_bm25.lexical_sparse_max = 0.0
    postings_bm25 = Searcher(legacy, emb)
    postings_bm25.lexical_sparse_max = 1e9
    searchers += [dense_bm25, postings_bm25]
    for q in _queries():
        first, *others = [_answer(s.search(q, k=5, filters=filters)) for s in searchers]
        for other in others:
            assert other == first, q
        for mode in ("lexical", "dense"):
            hits = [s.retrieve(q, k=10, kinds=("faq", "case"), mode=mode) for s in searchers]
            assert all(h == hits[0] for h in hits[1:]), (q, mode)


def test_the_trainer_reads_vectors_in_the_builds_order(builds: tuple[Path, Path]) -> None:
    grouped, legacy = builds
    a, b = load_corpus(grouped), load_corpus(legacy)
    assert [c.doc_id for c in a.cases] == [c.doc_id for c in b.cases]
    np.testing.assert_array_equal(a.case_vectors, b.case_vectors)
    np.testing.assert_array_equal(a.faq_vectors, b.faq_vectors)
