"""Small talk as the background of "no answer": what a city hall is not asked about.

A query's best dense score, even as a z-score on the corpus's own scale
(:mod:`kb.search.confidence`), cannot tell 「ポイントカードの有効期限」 from a question the city
answers: a 1,786-entry FAQ has an entry close to almost anything. So the query is also compared
with questions a city hall does not answer (``kb/data/no_answer_background.txt``: weather,
sport, shopping, recipes, devices, travel, investing, games, chat, trivia; written for kb,
kept away from city business). A query whose best match in a pane is no closer than its
closest background question, by more than :data:`~kb.search.confidence.BACKGROUND_MARGIN`, is
small talk: that pane has no answer. A query in another language is compared with the
Japanese background across languages, as it is with the corpus, so the margin needs no
language offset. The
query is embedded once either way; the comparison is one matrix-vector product over the
background's vectors, which the searcher embeds with its model when it opens.

The off-topic dev set (``eval/offtopic``) was not read to write the background and judges it
(``eval/no_answer.py``, docs/evaluation.md).
"""

from __future__ import annotations

from functools import lru_cache
from importlib import resources

import numpy as np

from kb.embed.embedder import Embedder


@lru_cache(maxsize=1)
def background_questions() -> tuple[str, ...]:
    """The background questions (the package's list; ``#`` lines are comments)."""
    path = resources.files("kb").joinpath("data", "no_answer_background.txt")
    lines = path.read_text(encoding="utf-8").splitlines()
    return tuple(line.strip() for line in lines if line.strip() and not line.startswith("#"))


def background_vectors(embedder: Embedder) -> np.ndarray:
    """The background questions embedded as queries by ``embedder`` (one row each)."""
    return np.asarray(embedder.encode_queries(list(background_questions())), dtype=np.float32)


def closest(vectors: np.ndarray, qvec: np.ndarray) -> float | None:
    """The query's best similarity to the background (``None`` without a background)."""
    if vectors.size == 0:
        return None
    return float(np.max(vectors @ np.asarray(qvec, dtype=np.float32)))


__all__ = ["background_questions", "background_vectors", "closest"]
