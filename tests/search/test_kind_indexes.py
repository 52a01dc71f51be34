"""One FAISS index per kind answers exactly as the single filtered index did (demo corpus)."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import numpy as np
import pytest

from kb.embed.embedder import FakeEmbedder
from kb.index.dense import DenseIndex
from kb.index.folder import IndexFolder, current_index
from kb.search.searcher import Searcher
from kb.types import Filters
from tests.e2e.demo_index import REPO, build_demo_index


@pytest.fixture(scope="module")
def folders(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    """The demo index as built now, and a copy in the layout of earlier builds."""
    root = build_demo_index(tmp_path_factory.mktemp("demo"))
    per_kind = current_index(root)
    legacy = tmp_path_factory.mktemp("legacy") / per_kind.name
    shutil.copytree(per_kind, legacy)
    for f in [legacy / "dense.json", *legacy.glob("dense-*.faiss")]:
        f.unlink()
    vectors = np.array(IndexFolder(legacy).vectors())
    DenseIndex.build(vectors, IndexFolder(legacy).rowids(), kind="flat").save(
        legacy / "dense.faiss"
    )
    return per_kind, legacy


def _queries() -> list[str]:
    path = REPO / "eval/datasets/demo/queries.jsonl"
    return [json.loads(line)["text"] for line in path.read_text("utf-8").splitlines()][:60]


def _answer(searcher: Searcher, query: str, filters: Filters) -> list[tuple[str, float]]:
    result = searcher.search(query, k=5, filters=filters)
    panes = [*result.faqs, *result.cases, *result.manuals]
    return [(h.id, round(h.score, 4)) for h in panes] + [
        (d.name, round(d.score, 4)) for d in result.departments
    ]


def test_per_kind_layout_is_written(folders: tuple[Path, Path]) -> None:
    per_kind, _ = folders
    meta = json.loads((per_kind / "dense.json").read_text("utf-8"))
    assert set(meta) == {"faq", "case", "manual", "department"}
    assert all(m["index"] == "flat" for m in meta.values())
    assert sum(m["size"] for m in meta.values()) == len(IndexFolder(per_kind).rowids())
    assert not (per_kind / "dense.faiss").exists()


@pytest.mark.parametrize(
    "filters",
    [
        Filters(),
        Filters(kinds=("faq",), published_only=True),
        Filters(departments=("高齢者支援課",)),
        Filters(kinds=("case",), date_from="2024-06-01", date_to="2025-03-31"),
    ],
    ids=["all", "public", "department", "dates"],
)
def test_same_answers_as_the_single_index(folders: tuple[Path, Path], filters: Filters) -> None:
    per_kind, legacy = folders
    embedder = FakeEmbedder(64)
    new, old = Searcher(per_kind, embedder), Searcher(legacy, embedder)
    assert new.dense is None
    assert old.dense_by_kind is None
    try:
        for query in _queries():
            assert _answer(new, query, filters) == _answer(old, query, filters), query
            for mode in ("dense", "lexical"):
                a = new.retrieve(query, k=10, kinds=("faq", "case"), filters=filters, mode=mode)
                b = old.retrieve(query, k=10, kinds=("faq", "case"), filters=filters, mode=mode)
                assert {k: [h.doc_id for h in v] for k, v in a.items()} == {
                    k: [h.doc_id for h in v] for k, v in b.items()
                }, (query, mode)
    finally:
        new.close()
        old.close()
