"""BM25 over MeCab lemmas, with scores precomputed into a sparse matrix.

Following bm25s: every (term, document) score is computed at build time, so scoring a query is
a slice of a few rows and a sum. Fields (title and body) are combined BM25F-style: term
frequencies and lengths are weighted per field before saturation. Persistence is ``.npz`` +
JSON, never pickle.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from scipy import sparse


@dataclass(frozen=True)
class BM25Params:
    k1: float = 1.2
    b: float = 0.75
    title_weight: float = 2.0


class LexicalIndex:
    """Precomputed BM25 scores: a ``[vocab, n_docs]`` CSR matrix and the vocabulary."""

    def __init__(self, matrix: sparse.csr_matrix, vocab: dict[str, int], params: BM25Params):
        self._matrix = matrix
        self.vocab = vocab
        self.params = params

    @property
    def n_docs(self) -> int:
        return int(self._matrix.shape[1])

    @classmethod
    def build(
        cls,
        titles: Sequence[Sequence[str]],
        texts: Sequence[Sequence[str]],
        params: BM25Params | None = None,
    ) -> LexicalIndex:
        """Build from per-document title tokens and body tokens (aligned sequences)."""
        params = params or BM25Params()
        if len(titles) != len(texts):
            raise ValueError("titles and texts must be aligned")
        n = len(texts)
        vocab: dict[str, int] = {}
        rows: list[int] = []
        cols: list[int] = []
        tfs: list[float] = []
        lengths = np.zeros(n, dtype=np.float64)
        for j, (title, text) in enumerate(zip(titles, texts, strict=True)):
            tf: dict[str, float] = {}
            for term in title:
                tf[term] = tf.get(term, 0.0) + params.title_weight
            for term in text:
                tf[term] = tf.get(term, 0.0) + 1.0
            lengths[j] = params.title_weight * len(title) + len(text)
            for term, freq in tf.items():
                rows.append(vocab.setdefault(term, len(vocab)))
                cols.append(j)
                tfs.append(freq)
        if not n:
            return cls(sparse.csr_matrix((0, 0), dtype=np.float32), {}, params)
        r = np.asarray(rows, dtype=np.int64)
        c = np.asarray(cols, dtype=np.int64)
        f = np.asarray(tfs, dtype=np.float64)
        df = np.bincount(r, minlength=len(vocab)).astype(np.float64)
        idf = np.log1p((n - df + 0.5) / (df + 0.5))
        avgdl = float(lengths.mean()) or 1.0
        norm = params.k1 * (1.0 - params.b + params.b * lengths[c] / avgdl)
        scores = idf[r] * f * (params.k1 + 1.0) / (f + norm)
        matrix = sparse.csr_matrix(
            (scores.astype(np.float32), (r, c)), shape=(len(vocab), n), dtype=np.float32
        )
        return cls(matrix, vocab, params)

    def score(
        self,
        tokens: Sequence[str],
        weights: Sequence[float] | None = None,
        *,
        max_share: float = 1.0,
    ) -> np.ndarray:
        """BM25 score of every document for a query (float32 ``[n_docs]``).

        Repeated query terms count once each time they occur, as in Lucene. ``weights`` gives
        a weight per token (synonym expansions count less than what the user typed).
        ``max_share``: terms found in more than this share of the documents are skipped. Their
        weight (IDF) is low and their posting lists are the longest: the reading field's
        「です」「ます」 are in most chunks, and summing them costs more than all the rest.
        """
        out = np.zeros(self.n_docs, dtype=np.float32)
        if weights is None:
            weights = [1.0] * len(tokens)
        limit = max_share * self.n_docs
        indptr = self._matrix.indptr
        acc: dict[int, float] = {}
        for token, weight in zip(tokens, weights, strict=True):
            idx = self.vocab.get(token)
            if idx is not None and (max_share >= 1.0 or indptr[idx + 1] - indptr[idx] <= limit):
                acc[idx] = acc.get(idx, 0.0) + weight
        if not acc:
            return out
        ids = np.fromiter(acc.keys(), dtype=np.int64)
        w = np.fromiter(acc.values(), dtype=np.float32)
        sub = self._matrix[ids]
        return np.asarray(sub.T @ w, dtype=np.float32).ravel()

    def save(self, folder: Path, stem: str = "bm25") -> None:
        """Write ``<stem>.npz`` and ``<stem>_vocab.json`` into ``folder``."""
        folder.mkdir(parents=True, exist_ok=True)
        m = self._matrix
        np.savez(
            folder / f"{stem}.npz", data=m.data, indices=m.indices, indptr=m.indptr, shape=m.shape
        )
        (folder / f"{stem}_vocab.json").write_text(
            json.dumps({"params": self.params.__dict__, "vocab": self.vocab}, ensure_ascii=False),
            encoding="utf-8",
        )

    @classmethod
    def load(cls, folder: Path, stem: str = "bm25") -> LexicalIndex:
        """Read what :meth:`save` wrote under ``stem``."""
        with np.load(folder / f"{stem}.npz") as z:
            matrix = sparse.csr_matrix(
                (z["data"], z["indices"], z["indptr"]), shape=tuple(z["shape"])
            )
        meta = json.loads((folder / f"{stem}_vocab.json").read_text(encoding="utf-8"))
        return cls(matrix, dict(meta["vocab"]), BM25Params(**meta["params"]))
