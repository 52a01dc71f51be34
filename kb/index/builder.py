"""Build an index from the store, beside the serving one, and switch atomically.

The build is written into a fresh folder (:meth:`IndexRoot.start_build`) and only switched in
by :meth:`IndexRoot.publish` once complete, so an interrupted build leaves the previous index
serving; a build of an older store snapshot than the serving one's is discarded instead of
switched in. The layout of a build folder is :mod:`kb.index.folder`'s alone.

Callers that change the data folder hold the writer lock (:func:`kb.index.lock.writer_lock`)
around the build, so builds do not overlap; the generation check holds even if one did not.
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

import numpy as np

from kb.embed.embedder import Embedder
from kb.errors import StaleBuild
from kb.faults import pause_point
from kb.index.dense import KindIndexes
from kb.index.folder import IndexRoot
from kb.index.layout import RowFinder, kind_order
from kb.index.lexical import BM25Params, LexicalIndex
from kb.index.manifest import Manifest
from kb.index.readings import CachedReadings, ReadingsBuilder, Vocabulary
from kb.index.routing import labelled_chunks, train_routing
from kb.store import ChunkRow, EmbeddingCache, Store
from kb.store.readings_cache import ReadingsCache
from kb.text.mecab import TOKENIZER_VERSION, MeCabTokenizer
from kb.text.normalize import NORMALIZER_VERSION

EMBED_BATCH = 256
READINGS_BATCH = 2000
"""Chunks whose cached readings are read at once (bounds the memory a large build uses)."""

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
    generation: int = 0
    """The store generation this build snapshotted."""
    discarded: bool = False
    """The build was older than the serving index (another build of a later snapshot finished
    first) and was thrown away; ``path`` is that serving build, which holds everything this
    one had."""


def embed_texts(
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


def _build_readings(
    rows: list[ChunkRow],
    bm25: BM25Params | None,
    progress: Progress | None,
    cache: EmbeddingCache | None,
) -> tuple[LexicalIndex, Vocabulary]:
    """The reading field and the vocabulary of the chunks (:mod:`kb.index.readings`).

    Computed from the stored, normalized text rather than stored at ingest: readings are only
    needed here, and a change to them then needs a rebuild, not a re-ingest. What MeCab makes
    of each text is kept in the readings cache beside the embedding cache (same file, same
    purge), so a build only reads the texts that changed, and builds the same bytes.
    """
    store = ReadingsCache(cache.path) if cache is not None and cache.path is not None else None
    try:
        lookup = CachedReadings(MeCabTokenizer(), store)
        readings = ReadingsBuilder(len(rows))
        for start in range(0, len(rows), READINGS_BATCH):
            part = rows[start : start + READINGS_BATCH]
            lookup.prefetch([t for row in part for t in (row.title, row.text)])
            for row in part:
                readings.add_texts(lookup(row.title), lookup(row.text))
            lookup.save()
            if progress:
                progress("readings", start + len(part), len(rows))
    finally:
        if store is not None:
            store.close()
    return readings.build(bm25)


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

    Returns:
        What was built. ``discarded`` is set when a build of a later store snapshot was
        published while this one ran: this one is thrown away and the later one keeps serving.
    """
    started = time.perf_counter()
    root = IndexRoot(index_root)
    building = root.start_build()
    try:
        snapshot = building.write_snapshot(store)
        try:
            t0 = time.perf_counter()
            rows = list(snapshot.iter_chunks())
            # Grouped by kind, so that each kind is a slice of the index's rows.
            rows = [rows[i] for i in kind_order([r.kind for r in rows])]
            ids = np.array([r.rowid for r in rows], dtype=np.int64)
            vectors, embedded = embed_texts(
                [r.content for r in rows], embedder, cache, progress, "embed"
            )
            cached = len(rows) - embedded
            # The title alone (FAQ question, case summary, manual heading path) gets its own
            # vector: a query usually restates the question, and the answer's many details
            # dilute the full-text vector.
            title_vectors, _ = embed_texts(
                [r.title or r.content for r in rows], embedder, cache, progress, "embed titles"
            )
            embed_seconds = time.perf_counter() - t0
            if progress:
                progress("index", 0, 2)
            # One index per kind: each pane searches its own vectors, no id filtering.
            dense = KindIndexes.build(vectors, ids, [r.kind for r in rows], kind=dense_kind)
            building.save_dense(dense)
            building.write_vectors(ids, vectors, title_vectors)
            lexical = LexicalIndex.build(
                [r.title_tokens for r in rows], [r.text_tokens for r in rows], bm25
            )
            building.save_lexical(lexical)
            if progress:
                progress("index", 2, 2)
            building.save_readings(*_build_readings(rows, bm25, progress, cache))
            # Departments learned from the labelled chunks' vectors (kb.index.routing).
            meta = snapshot.chunk_metadata()
            labels = [json.loads(d) for d in meta["departments"]]
            # Fitted on the labelled chunks in row-id order, so that the model (and every
            # answer) is the same whatever order the build keeps its rows in.
            pos, _ = labelled_chunks(labels)
            at = RowFinder(ids).rows(meta["rowid"][pos])
            building.save_routing(
                train_routing(vectors[at], title_vectors[at], [labels[i] for i in pos])
            )
            corpus_hash = snapshot.corpus_hash()
            generation = snapshot.generation()
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
            generation=generation,
        )
        pause_point("build.embedded")
        building.write_manifest(manifest)
        final_path = root.publish(building, live_generation=store.generation()).path
        discarded = False
    except StaleBuild as stale:
        final_path, discarded = stale.serving, True
    except BaseException:
        root.discard(building)
        raise
    if not discarded:
        root.prune(keep)
    return BuildReport(
        path=final_path,
        chunks=len(ids),
        embedded=embedded,
        cached=cached,
        seconds=time.perf_counter() - started,
        embed_seconds=embed_seconds,
        dense_kind=dense.description,
        generation=generation,
        discarded=discarded,
    )
