"""FAISS adapter: the only module that imports faiss.

Vectors are L2-normalised, so inner product is cosine similarity. FAISS ids are the store's
chunk row ids. The index type is chosen by size: exact ``Flat`` up to :data:`HNSW_THRESHOLD`
vectors (exact and still fast), ``HNSW`` above it.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np

HNSW_THRESHOLD = 200_000
_configured = False


def _faiss() -> Any:
    global _configured
    import faiss

    if not _configured:
        # One query is one small matrix product; FAISS' OpenMP pool would only compete with
        # torch for the two cores. Batch work (index building) is single-threaded too.
        faiss.omp_set_num_threads(1)
        _configured = True
    return faiss


class DenseIndex:
    """Vectors with integer ids, searchable by inner product, optionally restricted to ids."""

    def __init__(self, index: Any, kind: str) -> None:
        self._index = index
        self.kind = kind

    @classmethod
    def build(cls, vectors: np.ndarray, ids: np.ndarray, *, kind: str = "auto") -> DenseIndex:
        """Build an index over ``vectors`` (float32 ``[n, d]``) with ``ids`` (int64 ``[n]``)."""
        faiss = _faiss()
        vectors = np.ascontiguousarray(vectors, dtype=np.float32)
        ids = np.ascontiguousarray(ids, dtype=np.int64)
        n, dim = vectors.shape
        if kind == "auto":
            kind = "hnsw" if n > HNSW_THRESHOLD else "flat"
        if kind == "flat":
            base = faiss.IndexFlatIP(dim)
        elif kind == "hnsw":
            base = faiss.IndexHNSWFlat(dim, 32, faiss.METRIC_INNER_PRODUCT)
            base.hnsw.efConstruction = 80
            base.hnsw.efSearch = 128
        else:
            raise ValueError(f"unknown dense index kind {kind!r}")
        index = faiss.IndexIDMap2(base)
        if n:
            index.add_with_ids(vectors, ids)
        return cls(index, kind)

    @property
    def size(self) -> int:
        return int(self._index.ntotal)

    @property
    def dim(self) -> int:
        return int(self._index.d)

    def search(
        self, query: np.ndarray, k: int, allowed: np.ndarray | None = None
    ) -> tuple[np.ndarray, np.ndarray]:
        """Top ``k`` (scores, ids) for one query vector, best first.

        Args:
            query: float32 ``[d]`` or ``[1, d]``.
            k: How many.
            allowed: Sorted int64 ids to restrict the search to (``None``: all).
        """
        faiss = _faiss()
        q = np.ascontiguousarray(query.reshape(1, -1), dtype=np.float32)
        k = min(k, self.size if allowed is None else len(allowed))
        if k <= 0:
            return np.zeros(0, dtype=np.float32), np.zeros(0, dtype=np.int64)
        params = None
        if allowed is not None:
            selector = faiss.IDSelectorBatch(len(allowed), faiss.swig_ptr(allowed))
            params = faiss.SearchParameters(sel=selector)
            if self.kind == "hnsw":
                params = faiss.SearchParametersHNSW(sel=selector, efSearch=max(128, k))
        scores, ids = self._index.search(q, k, params=params)
        keep = ids[0] >= 0
        return scores[0][keep], ids[0][keep]

    def reconstruct(self, ids: np.ndarray) -> np.ndarray:
        """The stored vectors of ``ids`` (float32 ``[len(ids), d]``)."""
        return np.stack([self._index.reconstruct(int(i)) for i in ids]).astype(np.float32)

    def save(self, path: Path) -> None:
        _faiss().write_index(self._index, str(path))

    @classmethod
    def load(cls, path: Path, kind: str) -> DenseIndex:
        return cls(_faiss().read_index(str(path)), kind)


def kmeans(
    vectors: np.ndarray, k: int, *, niter: int = 25, seed: int = 1234
) -> tuple[np.ndarray, np.ndarray]:
    """Spherical k-means of L2-normalised ``vectors`` (FAISS), deterministic for a seed.

    Args:
        vectors: float32 ``[n, d]``, L2-normalised.
        k: Number of clusters; clamped to ``n``.
        niter: Iterations.
        seed: Seed of the initial centroids (same input and seed: same clusters).

    Returns:
        ``(centroids [k, d] L2-normalised, labels [n] int64)``.
    """
    faiss = _faiss()
    x = np.ascontiguousarray(vectors, dtype=np.float32)
    n, dim = x.shape
    k = max(1, min(k, n))
    if n == 0:
        return np.zeros((0, dim), dtype=np.float32), np.zeros(0, dtype=np.int64)
    if k == 1:
        centroid = x.mean(axis=0, keepdims=True)
        centroid /= max(float(np.linalg.norm(centroid)), 1e-12)
        return centroid.astype(np.float32), np.zeros(n, dtype=np.int64)
    km = faiss.Kmeans(dim, k, niter=niter, seed=seed, spherical=True, verbose=False)
    # Small clusters are the point here (a department's few dozen cases): FAISS would
    # otherwise warn that it wants 39 points per centroid.
    km.cp.min_points_per_centroid = 1
    km.train(x)
    centroids = np.ascontiguousarray(km.centroids, dtype=np.float32)
    _, labels = km.index.search(x, 1)
    return centroids, labels[:, 0].astype(np.int64)
