"""Department routing learned at build time: a softmax regression from a text's vector to the
department that handles it.

The kNN vote of :mod:`kb.search.departments` counts the departments of a query's hits: a
bureau with many FAQ entries outvotes the one whose single entry answers the question, and a
hit without a department votes for nothing. This model learns, from every labelled text the
city has (FAQ entries, cases, and the directory's duties text, each labelled with its lead
department), which region of the embedding space belongs to which department. The searcher
mixes its probabilities into the vote (:func:`kb.search.departments.rank_departments`).

It is trained on the vectors the build already holds (the full-text and the title vector of
each labelled chunk, as two samples), never on queries or judgments, so it costs no model call.
scikit-learn's ``LogisticRegression`` (lbfgs, multinomial) fits it; only its weights are kept,
as ``.npz`` + JSON, and prediction is one matrix product, so the searcher needs no scikit-learn.
Lemma (TF-IDF) features were measured too and left out: on the municipal benchmark they did not
raise department accuracy and made training several times slower (docs/evaluation.md).

Training is bounded: at most :data:`MAX_CHUNKS` labelled chunks (a deterministic sample, every
department kept) and :data:`MAX_ITER` iterations, on one thread (BLAS threads fighting over two
shared cores made the same fit 20 times slower) — deterministic for the same chunks.
"""

from __future__ import annotations

import json
import time
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np

ROUTING_VERSION = "1"
MAX_CHUNKS = 20_000
"""Labelled chunks the model is trained on at most (each gives two samples)."""
MAX_ITER = 300
C = 100.0
"""Inverse regularisation. Unit-length vectors give small logits: a weak penalty lets the
model separate departments (C=10 was 0.03-0.05 less accurate on its own on both eval sets)."""
_WEIGHTS = "routing.npz"
_META = "routing.json"


@dataclass(frozen=True)
class RoutingModel:
    """A trained department model: ``softmax(coef @ v + intercept)`` over ``classes``."""

    classes: tuple[str, ...]
    coef: np.ndarray
    """float32 ``[classes, dim]``."""
    intercept: np.ndarray
    """float32 ``[classes]``."""
    samples: int = 0
    """Training samples (two per labelled chunk)."""
    seconds: float = 0.0
    """Training time."""

    @property
    def dim(self) -> int:
        return int(self.coef.shape[1])

    def probabilities(self, vector: np.ndarray) -> dict[str, float]:
        """Each department's probability for one query (or text) vector.

        Raises:
            ValueError: The vector's dimension is not the model's.
        """
        v = np.asarray(vector, dtype=np.float32).ravel()
        if v.shape[0] != self.dim:
            raise ValueError(f"a vector of dimension {v.shape[0]}; the model expects {self.dim}")
        logits = self.coef @ v + self.intercept
        p = np.exp(logits - logits.max())
        p /= p.sum()
        return {name: float(x) for name, x in zip(self.classes, p, strict=True)}

    def save(self, folder: Path) -> None:
        """Write ``routing.npz`` and ``routing.json`` into ``folder``."""
        np.savez(folder / _WEIGHTS, coef=self.coef, intercept=self.intercept)
        meta = {
            "version": ROUTING_VERSION,
            "classes": list(self.classes),
            "samples": self.samples,
            "seconds": round(self.seconds, 3),
        }
        (folder / _META).write_text(json.dumps(meta, ensure_ascii=False), encoding="utf-8")

    @classmethod
    def load(cls, folder: Path) -> RoutingModel | None:
        """What :meth:`save` wrote; ``None`` when ``folder`` has no model (a build made
        before it, or a corpus without two labelled departments) or one of another version.

        Raises:
            ValueError: The files are there but unreadable or inconsistent.
        """
        meta_path = folder / _META
        if not meta_path.exists():
            return None
        meta = json.loads(meta_path.read_text(encoding="utf-8"))
        if meta.get("version") != ROUTING_VERSION:
            return None
        with np.load(folder / _WEIGHTS) as z:
            coef = np.asarray(z["coef"], dtype=np.float32)
            intercept = np.asarray(z["intercept"], dtype=np.float32)
        classes = tuple(str(c) for c in meta["classes"])
        if coef.ndim != 2 or coef.shape[0] != len(classes) or intercept.shape != (len(classes),):
            raise ValueError(f"{folder / _WEIGHTS}: weights do not match {len(classes)} classes")
        return cls(classes, coef, intercept, int(meta["samples"]), float(meta["seconds"]))


def labelled_chunks(
    departments: Sequence[Sequence[str]], *, limit: int = MAX_CHUNKS, seed: int = 0
) -> tuple[np.ndarray, list[str]]:
    """Positions of the chunks that name a department, and each one's lead department.

    Above ``limit``, a deterministic sample keeps every department's rarest chunks: each
    department first gets an equal share (or all it has), the rest is drawn at random.
    """
    pos = [i for i, names in enumerate(departments) if names and names[0]]
    labels = [departments[i][0] for i in pos]
    if len(pos) <= limit:
        return np.asarray(pos, dtype=np.int64), labels
    rng = np.random.default_rng(seed)
    by_label: dict[str, list[int]] = {}
    for j, label in enumerate(labels):
        by_label.setdefault(label, []).append(j)
    share = max(1, limit // (2 * len(by_label)))
    keep: list[int] = []
    rest: list[int] = []
    for members in by_label.values():
        order = rng.permutation(len(members)).tolist()
        keep += [members[i] for i in order[:share]]
        rest += [members[i] for i in order[share:]]
    picked = rng.permutation(len(rest))[: max(0, limit - len(keep))].tolist()
    chosen = sorted(keep + [rest[i] for i in picked])
    return np.asarray([pos[j] for j in chosen], dtype=np.int64), [labels[j] for j in chosen]


def train_routing(
    vectors: np.ndarray,
    title_vectors: np.ndarray,
    departments: Sequence[Sequence[str]],
    *,
    limit: int = MAX_CHUNKS,
) -> RoutingModel | None:
    """Fit the department model on the labelled chunks of a build.

    Args:
        vectors: Full-text chunk vectors (L2-normalised).
        title_vectors: Title vectors, aligned with ``vectors``.
        departments: Each chunk's departments, lead first (empty: unlabelled).
        limit: At most this many labelled chunks are used (:func:`labelled_chunks`).

    Returns:
        The model, or ``None`` when fewer than two departments are labelled (nothing to learn).
    """
    if not len(vectors) == len(title_vectors) == len(departments):
        raise ValueError(
            f"{len(vectors)} vectors, {len(title_vectors)} title vectors and "
            f"{len(departments)} department lists: they must be aligned"
        )
    started = time.perf_counter()
    pos, labels = labelled_chunks(departments, limit=limit)
    classes = sorted(set(labels))
    if len(classes) < 2:
        return None
    # Imported here: scikit-learn takes a second to import and only the build needs it.
    from sklearn.linear_model import LogisticRegression
    from threadpoolctl import threadpool_limits

    x = np.vstack(
        [np.asarray(vectors[pos], np.float32), np.asarray(title_vectors[pos], np.float32)]
    )
    y = np.asarray(labels + labels)
    with threadpool_limits(limits=1):
        fitted = LogisticRegression(C=C, max_iter=MAX_ITER, tol=1e-4).fit(x, y)
    if len(fitted.classes_) == 2:
        # The binary form keeps one row of weights (for the second class): make it a softmax.
        w = fitted.coef_.astype(np.float32)[0] / 2
        b = np.float32(fitted.intercept_[0] / 2)
        coef, intercept = np.stack([-w, w]), np.array([-b, b], dtype=np.float32)
    else:
        coef = fitted.coef_.astype(np.float32)
        intercept = fitted.intercept_.astype(np.float32)
    return RoutingModel(
        classes=tuple(str(c) for c in fitted.classes_),
        coef=np.ascontiguousarray(coef),
        intercept=np.ascontiguousarray(intercept),
        samples=len(y),
        seconds=time.perf_counter() - started,
    )


__all__ = ["MAX_CHUNKS", "ROUTING_VERSION", "RoutingModel", "labelled_chunks", "train_routing"]
