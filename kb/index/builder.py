"""Build an index folder from the store, beside the serving one, and switch atomically.

Layout under ``index_root``::

    CURRENT                  name of the serving build (replaced atomically)
    20261122T031500123456-ab12cd/  one build: manifest.json, docs.sqlite (store snapshot),
                             dense-<kind>.faiss + dense.json (one FAISS index per
                             kind), rowids.npy, bm25.npz, bm25_vocab.json
    .building-.../           a build in progress; left behind only by a crash, pruned later

A build that is interrupted never touches ``CURRENT``, so the previous index keeps serving.
"""

from __future__ import annotations

import os
import secrets
import shutil
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

import numpy as np

from kb.errors import IndexError_
from kb.faults import pause_point
from kb.index.dense import KindIndexes
from kb.index.embedder import Embedder
from kb.index.lexical import BM25Params, LexicalIndex
from kb.index.manifest import Manifest
from kb.store import EmbeddingCache, Store
from kb.text.mecab import TOKENIZER_VERSION
from kb.text.normalize import NORMALIZER_VERSION

CURRENT = "CURRENT"
SNAPSHOT = "docs.sqlite"
EMBED_BATCH = 256

Progress = Callable[[str, int, int], None]
"""Progress callback: (stage, done, total)."""


@dataclass(frozen=True)
class BuildReport:
    path: Path
    chunks: int
    embedded: int
    """Chunks embedded by the model in this build."""
    cached: int
    """Chunks whose embedding came from the cache."""
    seconds: float
    embed_seconds: float
    dense_kind: str
    """FAISS index type per kind: ``"case=hnsw:750000 faq=flat:180000 ..."``."""


def current_index(index_root: Path) -> Path:
    """The folder of the serving index; :class:`IndexError_` if there is none."""
    pointer = index_root / CURRENT
    try:
        name = pointer.read_text(encoding="utf-8").strip()
    except OSError as exc:
        raise IndexError_(
            f"no index in {index_root}: run `kb ingest PATH...` (or `kb build`) first"
        ) from exc
    folder = index_root / name
    if not folder.is_dir():
        raise IndexError_(f"{pointer} names {name!r}, which does not exist: run `kb build`")
    return folder


def _write_atomic(path: Path, text: str) -> None:
    tmp = path.with_name(f".{path.name}.{secrets.token_hex(4)}.tmp")
    with open(tmp, "w", encoding="utf-8") as fh:
        fh.write(text)
        fh.flush()
        os.fsync(fh.fileno())
    os.replace(tmp, path)


def _fsync_dir(path: Path) -> None:
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def _embed_texts(
    texts: list[str],
    embedder: Embedder,
    cache: EmbeddingCache | None,
    progress: Progress | None,
    stage: str,
) -> tuple[np.ndarray, int]:
    """Embed ``texts`` as documents, through the cache; returns vectors and how many were new."""
    from kb.store import text_hash

    hashes = [text_hash(t) for t in texts]
    vectors = np.zeros((len(texts), embedder.dim), dtype=np.float32)
    found = cache.get(embedder.model_id, hashes) if cache is not None else {}
    missing_by_hash: dict[str, int] = {}
    for i, h in enumerate(hashes):
        if h in found:
            vectors[i] = found[h]
        else:
            missing_by_hash.setdefault(h, i)
    # Longest texts first so batches hold similar lengths (less padding), and the progress bar
    # front-loads the slow part instead of stalling at the end.
    missing = sorted(missing_by_hash.values(), key=lambda i: -len(texts[i]))
    fresh: dict[str, np.ndarray] = {}
    for start in range(0, len(missing), EMBED_BATCH):
        part = missing[start : start + EMBED_BATCH]
        vecs = embedder.encode_documents([texts[i] for i in part])
        for j, i in enumerate(part):
            fresh[hashes[i]] = vecs[j]
        if cache is not None:
            # Cached batch by batch: a build killed midway resumes where it stopped.
            cache.put(embedder.model_id, [(hashes[i], vecs[j]) for j, i in enumerate(part)])
        if progress:
            progress(stage, min(start + EMBED_BATCH, len(missing)), len(missing))
    for i, h in enumerate(hashes):
        if h in fresh:
            vectors[i] = fresh[h]
    return vectors, len(missing)


def build_index(
    store: Store,
    embedder: Embedder,
    index_root: Path,
    *,
    cache: EmbeddingCache | None = None,
    bm25: BM25Params | None = None,
    dense_kind: str = "auto",
    progress: Progress | None = None,
    keep: int = 3,
) -> BuildReport:
    """Build a new index of everything in ``store`` and make it the serving one.

    Args:
        store: The live store; it is snapshotted first, so ingests may continue meanwhile.
        embedder: The document embedder (its ``model_id`` goes into the manifest).
        index_root: Folder holding the builds and the ``CURRENT`` pointer.
        cache: Embedding cache; only chunks whose content changed are embedded again.
        bm25: BM25 parameters.
        dense_kind: ``auto``, ``flat`` or ``hnsw``.
        progress: Optional progress callback.
        keep: How many complete builds to keep (the serving one included).
    """
    started = time.perf_counter()
    index_root.mkdir(parents=True, exist_ok=True)
    build_id = f"{datetime.now(UTC):%Y%m%dT%H%M%S%f}-{secrets.token_hex(3)}"
    tmp = index_root / f".building-{build_id}"
    tmp.mkdir()
    try:
        store.snapshot(tmp / SNAPSHOT)
        snapshot = Store(tmp / SNAPSHOT, read_only=True)
        try:
            t0 = time.perf_counter()
            rows = list(snapshot.iter_chunks())
            ids = np.array([r.rowid for r in rows], dtype=np.int64)
            vectors, embedded = _embed_texts(
                [r.content for r in rows], embedder, cache, progress, "embed"
            )
            cached = len(rows) - embedded
            # The title alone (FAQ question, case summary, manual heading path) gets its own
            # vector: a query usually restates the question, and the answer's many details
            # dilute the full-text vector.
            title_vectors, _ = _embed_texts(
                [r.title or r.content for r in rows], embedder, cache, progress, "embed titles"
            )
            embed_seconds = time.perf_counter() - t0
            if progress:
                progress("index", 0, 2)
            # One index per kind: each pane searches its own vectors, no id filtering.
            dense = KindIndexes.build(vectors, ids, [r.kind for r in rows], kind=dense_kind)
            dense.save(tmp)
            np.save(tmp / "rowids.npy", ids)
            # Kept beside FAISS so fusion can score lexical-only candidates exactly (mmapped).
            np.save(tmp / "vectors.npy", vectors)
            np.save(tmp / "title_vectors.npy", title_vectors)
            lexical = LexicalIndex.build(
                [r.title_tokens for r in rows], [r.text_tokens for r in rows], bm25
            )
            lexical.save(tmp)
            if progress:
                progress("index", 2, 2)
            corpus_hash = snapshot.corpus_hash()
        finally:
            snapshot.close()
        manifest = Manifest(
            model=embedder.model_id,
            dim=embedder.dim,
            tokenizer=TOKENIZER_VERSION,
            normalizer=NORMALIZER_VERSION,
            corpus_hash=corpus_hash,
            chunks=len(ids),
            dense_kind=dense.description,
            built_at=datetime.now(UTC).isoformat(timespec="seconds"),
            build_seconds=round(time.perf_counter() - started, 3),
        )
        pause_point("build.embedded")
        manifest.write(tmp)
        final = index_root / build_id
        os.replace(tmp, final)
        _fsync_dir(index_root)
        _write_atomic(index_root / CURRENT, build_id + "\n")
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise
    _prune(index_root, keep)
    return BuildReport(
        path=final,
        chunks=len(ids),
        embedded=embedded,
        cached=cached,
        seconds=time.perf_counter() - started,
        embed_seconds=embed_seconds,
        dense_kind=dense.description,
    )


def _prune(index_root: Path, keep: int) -> None:
    """Remove old builds (never the serving one) and leftovers of crashed builds."""
    try:
        serving = current_index(index_root).name
    except IndexError_:
        serving = ""
    builds = sorted(p for p in index_root.iterdir() if p.is_dir() and not p.name.startswith("."))
    # Build names sort by time; the serving build is kept whatever its age.
    old = [b for b in builds if b.name != serving]
    for stale_build in old[: max(0, len(builds) - keep)]:
        shutil.rmtree(stale_build, ignore_errors=True)
    for stale in index_root.glob(".building-*"):
        # Another build may be running right now; only remove what is clearly abandoned.
        if time.time() - stale.stat().st_mtime > 6 * 3600:
            shutil.rmtree(stale, ignore_errors=True)
