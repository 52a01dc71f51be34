"""The base model judges "no answer" while an adapted model ranks (kb.search.judge)."""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from pathlib import Path

import numpy as np
import pytest

from kb.embed.embedder import FakeEmbedder
from kb.index.builder import build_index
from kb.search.background import closest
from kb.search.confidence import pane_evidence
from kb.search.judge import load_judge
from kb.search.searcher import Searcher
from kb.search.service import SearchService
from kb.settings import Settings
from kb.store import EmbeddingCache, Store
from kb.text.mecab import MeCabTokenizer

QUERIES = ("粗大ごみを出したい", "あしたの天気", "母が認知症で一人暮らし", "住民票の写しがほしい")


class Adapted(FakeEmbedder):
    """Another model, named as kb names an adapted one."""

    @property
    def model_id(self) -> str:
        return "adapted:test-fake-32"


class Counting(FakeEmbedder):
    """The base model, counting the documents it embeds."""

    def __init__(self) -> None:
        super().__init__(64)
        self.documents = 0

    def encode_documents(self, texts: Sequence[str], *, progress: bool = False) -> np.ndarray:
        self.documents += len(texts)
        return super().encode_documents(texts, progress=progress)


@pytest.fixture
def adapted_root(tmp_path: Path, store: Store, index_root: Path) -> Path:
    """The same store built with the adapted model (the base build filled the cache first)."""
    root = tmp_path / "adapted-indexes"
    build_index(store, Adapted(32), root, cache=EmbeddingCache(tmp_path / "emb.sqlite"))
    return root


@pytest.fixture
def judged(
    tmp_path: Path, adapted_root: Path, fake_embedder: FakeEmbedder, tokenizer: MeCabTokenizer
) -> Iterator[Searcher]:
    s = Searcher.open(
        adapted_root,
        Adapted(32),
        tokenizer,
        judge=fake_embedder,
        embedding_cache=tmp_path / "emb.sqlite",
    )
    yield s
    s.close()


@pytest.mark.parametrize("query", QUERIES)
def test_the_evidence_is_the_base_models_reading_of_the_adapted_hits(
    judged: Searcher, searcher: Searcher, fake_embedder: FakeEmbedder, query: str
) -> None:
    hits, evidence = judged.retrieve_with_confidence(query, k=10)
    analysis, _ = judged.rewrite(judged.analyze(query))
    qvec = fake_embedder.encode_queries([analysis.text])[0]
    # The base model's own searcher scores the same chunks: its vectors, its scale.
    row = {str(c): i for i, c in enumerate(searcher._chunk_id)}
    at = np.array([row[h.chunk_id] for h in hits], dtype=np.int64)
    base_scores = searcher._dense_scores(at, qvec)
    rescored = [
        type(h)(**{**h.__dict__, "dense_score": float(s)})
        for h, s in zip(hits, base_scores, strict=True)
    ]
    expected = pane_evidence(
        rescored,
        searcher.calibration.scale("faq"),
        content=evidence.content,
        dense_side=True,
        lexical=evidence.lexical,
        japanese=analysis.japanese,
        background=closest(searcher.evidence.background, qvec),
    )
    assert evidence.dense_z == pytest.approx(expected.dense_z, abs=1e-5)
    assert evidence.background == pytest.approx(expected.background, abs=1e-5)


def test_without_the_judge_the_adapted_model_reads_its_own_scale(
    judged: Searcher, adapted_root: Path, tokenizer: MeCabTokenizer
) -> None:
    alone = Searcher.open(adapted_root, Adapted(32), tokenizer)
    try:
        differs = [
            judged.retrieve_with_confidence(q, k=10)[1].dense_z
            != alone.retrieve_with_confidence(q, k=10)[1].dense_z
            for q in QUERIES
        ]
        # The ranking is the adapted model's either way.
        assert [h.chunk_id for h in judged.retrieve(QUERIES[0])["faq"]] == [
            h.chunk_id for h in alone.retrieve(QUERIES[0])["faq"]
        ]
    finally:
        alone.close()
    assert all(differs)


def test_the_base_vectors_come_from_the_cache_and_new_chunks_are_embedded_once(
    tmp_path: Path, store: Store, index_root: Path, searcher: Searcher
) -> None:
    base = Counting()
    cache = tmp_path / "emb.sqlite"
    judge = load_judge(base, searcher.store, searcher.rowids, cache)
    assert base.documents == 0  # every chunk was embedded by the base build
    np.testing.assert_allclose(judge.vectors, searcher.vectors, atol=1e-6)
    np.testing.assert_allclose(judge.title_vectors, searcher.title_vectors, atol=1e-6)
    empty = tmp_path / "empty.sqlite"
    load_judge(base, searcher.store, searcher.rowids, empty)
    embedded = base.documents
    assert embedded > 0
    load_judge(base, searcher.store, searcher.rowids, empty)
    assert base.documents == embedded  # cached the first time


def test_the_service_loads_the_base_model_as_judge_for_an_adapted_model_only(
    tmp_path: Path, index_root: Path, fake_embedder: FakeEmbedder
) -> None:
    service = SearchService.from_settings(Settings(data_dir=tmp_path / "data", model="fake"))
    assert service._judge_for(fake_embedder) is None
    judge = service._judge_for(Adapted(32))
    assert judge is not None
    assert judge.model_id == fake_embedder.model_id
    assert service._judge_for(Adapted(32)) is judge  # loaded once


def test_the_judge_is_the_base_model_on_one_quiet_thread(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from kb.search import judge as judge_module

    calls: list[tuple[str, bool, dict[str, int]]] = []

    def record(settings: Settings, **kwargs: int) -> FakeEmbedder:
        calls.append((settings.model, settings.adapt, kwargs))
        return FakeEmbedder(64)

    monkeypatch.setattr(judge_module, "embedder_from_settings", record)
    settings = Settings(data_dir=tmp_path / "data", model="base-model", adapt=True, threads=0)
    judge_module.judge_embedder(settings)
    # The base model (not the adapted one), and no all-core session (solo_threads) of its own.
    assert calls == [("base-model", False, {"threads": settings.query_threads})]
