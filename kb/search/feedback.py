"""Department feedback as a kNN vote that stays local: 「正しい担当課は…」 moves paraphrases only.

Staff record "the right department was X" for a query (``FeedbackStore``). Each such record
becomes a labelled query vector here; a new query finds its nearest labelled queries, and each
neighbour that is close enough to be a *rephrasing* of it votes for its department. The
searcher adds the votes to its department scores (:class:`kb.search.departments.DepartmentRanker`).

"Close enough" is measured on the model's own scale, before the first vote. multilingual-e5
puts two unrelated city-hall questions at a cosine of about 0.83, one pair in a hundred above
0.90, and a paraphrase at 0.93-0.95: the fixed floor of 0.5 used before let one vote move every
later query. So :meth:`DepartmentFeedback.calibrate` takes the corpus's own titles embedded as
queries (:func:`reference_titles`): questions that are, nearly all, about different things. The
floor is a high percentile of their pairwise similarities, and a neighbour's weight is how far
into that tail it lies: ``(F(s) - p) / (1 - p)`` with ``F`` the share of reference pairs at or
below ``s`` and ``p`` the percentile; 0 at the floor, 1 beyond every reference pair. No cosine
is written down anywhere, so the same holds for another model or a tuned one.
"""

from __future__ import annotations

import threading
from collections import defaultdict
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import numpy as np

from kb.embed.embedder import Embedder
from kb.store import Store
from kb.types import DocKind

FLOOR_PERCENTILE = 99.0
"""The floor: this percentile of the similarities between the corpus's different questions."""
REFERENCE_TITLES = 200
"""How many titles :func:`reference_titles` samples (19,900 pairs)."""


@dataclass(frozen=True)
class DepartmentVote:
    """What similar past feedback says about one department."""

    department: str
    weight: float
    """Sum of the neighbours' weights, each in (0, 1]."""
    neighbours: int


def reference_titles(
    store: Store,
    doc_of: np.ndarray,
    kind_positions: Mapping[DocKind, np.ndarray],
    *,
    limit: int = REFERENCE_TITLES,
    seed: int = 0,
) -> list[str]:
    """A deterministic sample of the corpus's FAQ questions and case summaries.

    They are what staff search for, each about its own matter: embedded as queries, they
    are the reference of "different questions" for :meth:`DepartmentFeedback.calibrate`.

    Args:
        store: The index's store snapshot.
        doc_of: Document id of each chunk.
        kind_positions: Chunk positions of each kind.
        limit: How many titles at most.
        seed: Seed of the sample.

    Returns:
        Distinct non-empty titles (any kind when there is no FAQ and no case).
    """
    kinds: tuple[DocKind, ...] = ("faq", "case")
    pos = np.concatenate([kind_positions.get(k, np.zeros(0, np.int64)) for k in kinds])
    if pos.size == 0:
        pos = np.concatenate([np.asarray(p) for p in kind_positions.values()] or [pos])
    docs = list(dict.fromkeys(str(d) for d in doc_of[np.sort(pos)]))
    rng = np.random.default_rng(seed)
    picked = [docs[i] for i in sorted(rng.permutation(len(docs))[: limit * 2].tolist())]
    titles = dict.fromkeys(d.title.strip() for d in store.get_documents(picked).values())
    return [t for t in titles if t][:limit]


class DepartmentFeedback:
    """Labelled query vectors from staff feedback, searched by cosine similarity.

    It votes only once calibrated (:meth:`calibrate`); the searcher calibrates it on its
    corpus before the first vote.

    Args:
        k: How many nearest feedback queries vote.
        percentile: Percentile of the reference similarities used as the floor.
    """

    def __init__(self, k: int = 5, percentile: float = FLOOR_PERCENTILE) -> None:
        if not 0 < percentile < 100:
            raise ValueError(f"percentile must be between 0 and 100, not {percentile}")
        self.k = k
        self.percentile = percentile
        self._vectors = np.zeros((0, 0), dtype=np.float32)
        self._departments: list[str] = []
        self._actors: list[str] = []
        self._seen: set[int] = set()
        self._reference: np.ndarray | None = None
        """Sorted pairwise similarities of the reference queries."""
        self._floor: float | None = None
        self._lock = threading.Lock()

    def __len__(self) -> int:
        return len(self._departments)

    @property
    def calibrated(self) -> bool:
        return self._reference is not None

    @property
    def floor(self) -> float | None:
        """The similarity a neighbour must exceed to vote; ``None`` until calibrated."""
        return self._floor

    def calibrate(self, reference: np.ndarray) -> None:
        """Set the floor from the pairwise similarities of ``reference`` query vectors.

        Args:
            reference: L2-normalised ``[n, dim]`` vectors of different questions embedded as
                queries (the corpus's titles, :func:`reference_titles`). With fewer than two
                the floor is 1: nothing can vote.
        """
        vectors = np.asarray(reference, dtype=np.float32)
        n = len(vectors)
        if n < 2:
            sims = np.ones(1, dtype=np.float32)
        else:
            sims = np.sort((vectors @ vectors.T)[np.triu_indices(n, k=1)])
        floor = float(np.percentile(sims, self.percentile)) if n >= 2 else 1.0
        with self._lock:
            self._reference = sims
            self._floor = floor

    def weight(self, similarity: float) -> float:
        """A neighbour's weight: how far ``similarity`` lies into the reference's upper tail.

        0 at or below the floor, 1 beyond every reference pair; 0 while uncalibrated.
        """
        reference, floor = self._reference, self._floor
        if reference is None or floor is None or similarity <= floor:
            return 0.0
        share = float(np.searchsorted(reference, similarity, side="right")) / reference.size
        low = self.percentile / 100.0
        return min(1.0, max(0.0, (share - low) / (1.0 - low)))

    def add(
        self,
        embedder: Embedder,
        items: Sequence[tuple[int, str, str]],
        who: Mapping[int, str] | None = None,
    ) -> int:
        """Embed and add feedback items ``(record id, query, department)`` not seen before.

        Args:
            embedder: The serving model.
            items: The feedback.
            who: The staff key that gave each item, by record id; an item without one is a
                voter of its own.

        Returns:
            How many were added.
        """
        fresh = [(i, q, d) for i, q, d in items if d and q.strip() and i not in self._seen]
        if not fresh:
            return 0
        vectors = embedder.encode_queries([q for _, q, _ in fresh])
        who = who or {}
        with self._lock:
            if self._vectors.size == 0:
                self._vectors = np.asarray(vectors, dtype=np.float32)
            else:
                self._vectors = np.vstack([self._vectors, vectors]).astype(np.float32)
            self._departments.extend(d for _, _, d in fresh)
            self._actors.extend(who.get(i) or f"#{i}" for i, _, _ in fresh)
            self._seen.update(i for i, _, _ in fresh)
        return len(fresh)

    def votes(self, qvec: np.ndarray) -> list[DepartmentVote]:
        """Votes of the nearest feedback queries above the floor, strongest first.

        None while uncalibrated: a vote without a floor would move unrelated queries.
        """
        with self._lock:
            if not self._departments or self._reference is None or self._floor is None:
                return []
            sims = self._vectors @ np.asarray(qvec, dtype=np.float32)
            departments, actors, floor = self._departments, self._actors, self._floor
        # The k nearest voters, not the k nearest corrections: one key's copies must not crowd
        # the other counsellors out of the vote (white-box testers' 5, then 40 duplicates did).
        # Only corrections above the floor can vote: usually a handful.
        above = np.flatnonzero(sims > floor)
        weight: dict[str, float] = defaultdict(float)
        count: dict[str, int] = defaultdict(int)
        voted: set[str] = set()
        for i in above[np.argsort(-sims[above], kind="stable")].tolist():
            if len(voted) == self.k:
                break
            w = self.weight(float(sims[i]))
            if w <= 0 or actors[i] in voted:
                continue  # one counsellor, one vote: their closest correction
            voted.add(actors[i])
            weight[departments[i]] += w
            count[departments[i]] += 1
        return sorted(
            (DepartmentVote(d, w, count[d]) for d, w in weight.items()), key=lambda v: -v.weight
        )
