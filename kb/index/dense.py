"""FAISS adapter: the only module that imports faiss.

Vectors are L2-normalised, so inner product is cosine similarity. FAISS ids are the store's
chunk row ids. The index type is chosen by size: exact ``Flat`` up to :data:`EXACT_MAX`
vectors, ``IVF`` above it (``4·√n`` lists, k-means on a sample, :data:`IVF_NPROBE` lists
probed), with 8-bit codes in the lists above :data:`SQ8_MIN`. A flat scan is bound by memory
bandwidth (75k vectors: ~8 ms on one core), IVF scans a few percent of the lists (~1 ms) with
recall@10 ≥ 0.99 against exact search on the 100k benchmark corpus; HNSW (``kind="hnsw"``)
reached only 0.94 there even at ``efSearch`` 1024, because near-duplicate texts (the same FAQ
restated, similar cases) form tight clusters.
A filtered search on an IVF index probes every list, so it stays exact within the filter.

:class:`KindIndexes` keeps one index per document kind, so a query for the FAQ pane scans the
FAQ vectors only instead of filtering the whole corpus through an id selector (the case archive
is most of the corpus; the directory is a few dozen entries that HNSW filtering would miss).
"""

from __future__ import annotations

import json
import os
import threading
from collections.abc import Iterable
from pathlib import Path
from typing import Any

import numpy as np

EXACT_MAX = 20_000
"""Up to this many vectors an index is exact (``Flat``); above it ``IVF``."""
SQ8_MIN = 200_000
"""Above this many vectors the IVF lists hold 8-bit scalar-quantised codes (``ivfsq8``): a
quarter of the memory (1M chunks: 1.5 GB → 0.4 GB). The searcher re-scores every candidate with
its float32 vector, so the codes only have to put the true top 10 among the 100 candidates."""
IVF_NPROBE = 64
IVF_TRAIN_PER_LIST = 32
"""k-means trains on at most this many vectors per list (a sample: minutes saved at 1M)."""
IVF_KINDS = ("ivf", "ivfsq8")
HNSW_THRESHOLD = EXACT_MAX
HNSW_M = 32
HNSW_EF_CONSTRUCTION = 64
HNSW_EF_SEARCH = 128
_threads = threading.local()


def _faiss() -> Any:
    import faiss

    if not getattr(_threads, "single", False):
        # One query is one small matrix product; FAISS' OpenMP pool would only compete with
        # the model for the two cores. OpenMP's thread count belongs to the calling thread:
        # set once in the loader thread, the service's search threads still ran FAISS on
        # every core, so every thread sets it on its first search.
        faiss.omp_set_num_threads(1)
        _threads.single = True
    return faiss


def _with_all_cores(faiss: Any, work: Any) -> None:
    """Run batch work (training, graph building) on every core, then back to one thread."""
    faiss.omp_set_num_threads(os.cpu_count() or 1)
    try:
        work()
    finally:
        faiss.omp_set_num_threads(1)


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
            kind = "ivfsq8" if n > SQ8_MIN else "ivf" if n > EXACT_MAX else "flat"
        if kind == "flat":
            base = faiss.IndexFlatIP(dim)
        elif kind in IVF_KINDS:
            nlist = max(1, min(n // 8, int(4 * np.sqrt(n))))
            if kind == "ivf":
                base = faiss.IndexIVFFlat(
                    faiss.IndexFlatIP(dim), dim, nlist, faiss.METRIC_INNER_PRODUCT
                )
            else:
                base = faiss.IndexIVFScalarQuantizer(
                    faiss.IndexFlatIP(dim),
                    dim,
                    nlist,
                    faiss.ScalarQuantizer.QT_8bit,
                    faiss.METRIC_INNER_PRODUCT,
                )
            base.cp.niter = 10
            base.nprobe = min(IVF_NPROBE, nlist)
            take = min(n, IVF_TRAIN_PER_LIST * nlist)
            sample = vectors[np.sort(np.random.default_rng(0).choice(n, take, replace=False))]
            _with_all_cores(faiss, lambda: base.train(sample))
        elif kind == "hnsw":
            base = faiss.IndexHNSWFlat(dim, HNSW_M, faiss.METRIC_INNER_PRODUCT)
            base.hnsw.efConstruction = HNSW_EF_CONSTRUCTION
            base.hnsw.efSearch = HNSW_EF_SEARCH
        else:
            raise ValueError(f"unknown dense index kind {kind!r}")
        index = faiss.IndexIDMap2(base)
        if n:
            if kind == "flat":
                index.add_with_ids(vectors, ids)
            else:
                _with_all_cores(faiss, lambda: index.add_with_ids(vectors, ids))
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
            if self.kind in IVF_KINDS:
                # Every list: exact within the filter (a narrow filter would find too few
                # among the usual probed lists).
                nlist = faiss.extract_index_ivf(self._index.index).nlist
                params = faiss.SearchParametersIVF(sel=selector, nprobe=nlist)
            elif self.kind == "hnsw":
                params = faiss.SearchParametersHNSW(sel=selector, efSearch=max(HNSW_EF_SEARCH, k))
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


class KindIndexes:
    """One :class:`DenseIndex` per document kind, each of the type its own size calls for.

    Saved as ``dense-<kind>.faiss`` files plus ``dense.json`` (kind → file, index type, size).
    """

    MANIFEST = "dense.json"

    def __init__(self, indexes: dict[str, DenseIndex]) -> None:
        self.indexes = indexes

    @classmethod
    def build(
        cls,
        vectors: np.ndarray,
        ids: np.ndarray,
        kinds: Iterable[str],
        *,
        kind: str = "auto",
    ) -> KindIndexes:
        """Split ``vectors``/``ids`` by ``kinds`` (one label per row) and index each part."""
        labels = np.asarray(list(kinds), dtype=object)
        if len(labels) != len(ids):
            raise ValueError("kinds must label every vector")
        out = {}
        for name in sorted(set(labels.tolist())):
            rows = np.flatnonzero(labels == name)
            out[str(name)] = DenseIndex.build(vectors[rows], ids[rows], kind=kind)
        return cls(out)

    def get(self, kind: str) -> DenseIndex | None:
        return self.indexes.get(kind)

    @property
    def description(self) -> str:
        """``"case=hnsw:750000 faq=flat:250000 ..."``: what the manifest records."""
        return " ".join(f"{k}={i.kind}:{i.size}" for k, i in sorted(self.indexes.items()))

    def save(self, folder: Path) -> None:
        meta = {}
        for name, index in self.indexes.items():
            file = f"dense-{name}.faiss"
            index.save(folder / file)
            meta[name] = {"file": file, "index": index.kind, "size": index.size}
        (folder / self.MANIFEST).write_text(json.dumps(meta, indent=1), encoding="utf-8")

    @classmethod
    def load(cls, folder: Path) -> KindIndexes | None:
        """The per-kind indexes of an index folder, or ``None`` for a folder built before them."""
        path = folder / cls.MANIFEST
        if not path.is_file():
            return None
        meta = json.loads(path.read_text(encoding="utf-8"))
        return cls(
            {
                name: DenseIndex.load(folder / str(m["file"]), str(m["index"]))
                for name, m in meta.items()
            }
        )


def kmeans(
    vectors: np.ndarray, k: int, *, niter: int = 25, seed: int = 1234, nredo: int = 5
) -> tuple[np.ndarray, np.ndarray]:
    """Spherical k-means of L2-normalised ``vectors`` (FAISS), deterministic for a seed.

    Args:
        vectors: float32 ``[n, d]``, L2-normalised.
        k: Number of clusters; clamped to ``n``.
        niter: Iterations.
        seed: Seed of the initial centroids (same input and seed: same clusters).
        nredo: Runs from different starts; the one with the best objective is kept (one
            unlucky start can split a group and merge two others).

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
    km = faiss.Kmeans(dim, k, niter=niter, seed=seed, nredo=nredo, spherical=True, verbose=False)
    # Small clusters are the point here (a department's few dozen cases): FAISS would
    # otherwise warn that it wants 39 points per centroid.
    km.cp.min_points_per_centroid = 1
    km.train(x)
    centroids = np.ascontiguousarray(km.centroids, dtype=np.float32)
    _, labels = km.index.search(x, 1)
    return centroids, labels[:, 0].astype(np.int64)
