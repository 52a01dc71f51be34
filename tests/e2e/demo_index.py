"""Build an index of the demo corpus (``corpus/``) with the fake embedder: a few seconds."""

from __future__ import annotations

from pathlib import Path

from kb.embed.embedder import FakeEmbedder
from kb.index.builder import build_index
from kb.ingest.pipeline import ingest
from kb.store import EmbeddingCache, Store

REPO = Path(__file__).resolve().parents[2]
FAKE_MODEL = "fake"
"""The ``--model`` that matches :class:`FakeEmbedder` (64 dimensions)."""


def build_demo_index(data_dir: Path) -> Path:
    """Ingest the demo corpus into ``data_dir`` and build its index; returns the index root."""
    store = Store(data_dir / "kb.sqlite")
    cache = EmbeddingCache(data_dir / "e.db")
    try:
        report = ingest([REPO / "corpus"], store)
        assert report.ok, report
        build_index(store, FakeEmbedder(64), data_dir / "indexes", cache=cache)
    finally:
        # Closing writes the cache's WAL back into e.db, which tests copy as a single file.
        cache.close()
        store.close()
    return data_dir / "indexes"


def rebuild_demo_index(data_dir: Path) -> None:
    """Build the index of ``data_dir`` (made by :func:`build_demo_index`) again: a new build
    takes over from the serving one."""
    store = Store(data_dir / "kb.sqlite")
    try:
        build_index(store, FakeEmbedder(64), data_dir / "indexes")
    finally:
        store.close()
