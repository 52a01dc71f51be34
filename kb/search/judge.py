"""The base model as the judge of "no answer" while an adapted model ranks.

The adaptation (:mod:`kb.index.adapt`) trains the model to tell the corpus's entries apart, and
so spreads them: on the adapted model's own scale 「あしたの天気」 sits two units of spread above
the corpus's mean, and no cut point on it refuses off-topic questions as the base model's does
(docs/evaluation.md, "No answer with the adapted model"; with the background of small talk the
best joint point refuses 82% / 78% of the off-topic dev questions, against 98% / 95% with the
base model). So when the serving index was built with an adapted model, the searcher ranks
with it and reads the no-answer evidence (:mod:`kb.search.evidence`) with the base model:

* the query is embedded a second time, by the base model;
* each of a pane's best hits is scored against its base-model vectors (the same mix of
  full-text and title vector as a dense score);
* each kind's scale and the background of small talk are measured with the base model.

The base-model vectors of the index's chunks come from the embedding cache, where every build
with the base model left them (a chunk added since the adaptation is embedded once, when the
searcher opens, and cached). Cost: a second query embedding per search, and the base model and
two more vector arrays in memory.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np

from kb.embed.embedder import Embedder, embedder_from_settings
from kb.index.builder import embed_texts
from kb.settings import Settings
from kb.store import EmbeddingCache, Store


@dataclass(frozen=True)
class Judge:
    """The base model and its vectors of an index's chunks, row by row."""

    embedder: Embedder
    vectors: np.ndarray
    """Full-text vectors of the base model, aligned with the index's rows."""
    title_vectors: np.ndarray
    """Title vectors of the base model, aligned likewise."""


def load_judge(
    embedder: Embedder, store: Store, rowids: np.ndarray, cache_path: Path | None
) -> Judge:
    """The base model's vectors of the chunks ``rowids`` (the index's row order) in ``store``,
    from the embedding cache at ``cache_path`` (``None``: no cache, everything embedded)."""
    by_rowid = {r.rowid: r for r in store.iter_chunks()}
    rows = [by_rowid[int(i)] for i in rowids]
    cache = EmbeddingCache(cache_path) if cache_path is not None else None
    try:
        vectors, _ = embed_texts([r.content for r in rows], embedder, cache, None, "judge")
        titles, _ = embed_texts(
            [r.title or r.content for r in rows], embedder, cache, None, "judge titles"
        )
    finally:
        if cache is not None:
            cache.close()
    return Judge(embedder, vectors, titles)


def judge_embedder(settings: Settings) -> Embedder:
    """The base model (``settings.model``) as it judges beside an adapted model.

    Its queries run on one thread whose pool sleeps between operators: no all-core session of
    its own, whose spinning pool would compete with the adapted model's for the two cores.
    Measured with the adapted model ranking (2 cores, each query once on a fresh searcher, three
    rounds): p50 / p95 per search 29.7 / 44.8 -> 17.1 / 22.0 ms on the demo set, 32.8 / 49.4 ->
    14.4 / 22.3 ms on the municipal FAQ; CPU per search 60 -> 35 and 65 -> 31 ms. Embedding the
    judge's query before the adapted model's instead of after changed nothing beyond noise
    (17.2 / 20.8 and 14.9 / 20.4 ms), so it is embedded where the evidence is read.
    """
    return embedder_from_settings(
        settings.model_copy(update={"adapt": False}), threads=settings.query_threads
    )


__all__ = ["Judge", "judge_embedder", "load_judge"]
