"""Department feedback as a kNN vote: 「正しい担当課は…」 helps the next similar query.

Staff record "the right department was X" for a query (``FeedbackStore``). Each such record
becomes a labelled query vector here; a new query finds its nearest labelled queries and each
neighbour votes for its department with a weight that grows with similarity above a floor.
The searcher adds the votes to its department scores (:meth:`Searcher._rank_departments`).

The floor is learned from the feedback itself, so it holds for any embedding model: it is a
high percentile of the similarity between feedback queries that were labelled with
*different* departments, i.e. the similarity at which a neighbour is still no evidence.
"""

from __future__ import annotations

import threading
from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from kb.embed.embedder import Embedder

DEFAULT_FLOOR = 0.5
"""Similarity floor while there is too little feedback to learn one."""
MIN_PAIRS_FOR_FLOOR = 20


@dataclass(frozen=True)
class DepartmentVote:
    """What similar past feedback says about one department."""

    department: str
    weight: float
    """Sum of the neighbours' weights, each in (0, 1]."""
    neighbours: int


class DepartmentFeedback:
    """Labelled query vectors from staff feedback, searched by cosine similarity.

    Args:
        k: How many nearest feedback queries vote.
        percentile: Percentile of different-department similarities used as the floor.
    """

    def __init__(self, k: int = 5, percentile: float = 95.0) -> None:
        self.k = k
        self.percentile = percentile
        self._vectors = np.zeros((0, 0), dtype=np.float32)
        self._departments: list[str] = []
        self._seen: set[int] = set()
        self._floor = DEFAULT_FLOOR
        self._lock = threading.Lock()

    def __len__(self) -> int:
        return len(self._departments)

    @property
    def floor(self) -> float:
        return self._floor

    def add(
        self,
        embedder: Embedder,
        items: Sequence[tuple[int, str, str]],
    ) -> int:
        """Embed and add feedback items ``(record id, query, department)`` not seen before.

        Returns:
            How many were added.
        """
        fresh = [(i, q, d) for i, q, d in items if d and q.strip() and i not in self._seen]
        if not fresh:
            return 0
        vectors = embedder.encode_queries([q for _, q, _ in fresh])
        with self._lock:
            if self._vectors.size == 0:
                self._vectors = np.asarray(vectors, dtype=np.float32)
            else:
                self._vectors = np.vstack([self._vectors, vectors]).astype(np.float32)
            self._departments.extend(d for _, _, d in fresh)
            self._seen.update(i for i, _, _ in fresh)
            self._floor = self._learn_floor()
        return len(fresh)

    def _learn_floor(self) -> float:
        labels = np.array(self._departments, dtype=object)
        sims = self._vectors @ self._vectors.T
        different = labels[:, None] != labels[None, :]
        upper = np.triu(np.ones_like(different, dtype=bool), k=1)
        values = sims[different & upper]
        if values.size < MIN_PAIRS_FOR_FLOOR:
            return DEFAULT_FLOOR
        return float(min(0.99, np.percentile(values, self.percentile)))

    def votes(self, qvec: np.ndarray) -> list[DepartmentVote]:
        """Votes of the nearest feedback queries above the floor, strongest first."""
        with self._lock:
            if not self._departments:
                return []
            sims = self._vectors @ np.asarray(qvec, dtype=np.float32)
            floor = self._floor
            departments = self._departments
        k = min(self.k, sims.size)
        top = np.argpartition(-sims, k - 1)[:k]
        weight: dict[str, float] = defaultdict(float)
        count: dict[str, int] = defaultdict(int)
        for i in top:
            s = float(sims[i])
            if s <= floor:
                continue
            weight[departments[i]] += (s - floor) / (1.0 - floor)
            count[departments[i]] += 1
        return sorted(
            (DepartmentVote(d, w, count[d]) for d, w in weight.items()), key=lambda v: -v.weight
        )
