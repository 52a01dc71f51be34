"""BM25 over MeCab lemmas, with scores precomputed into a sparse matrix.

Following bm25s: every (term, document) score is computed at build time, so scoring a query is
a slice of a few rows and a sum. Fields (title and body) are combined BM25F-style: term
frequencies and lengths are weighted per field before saturation. Persistence is ``.npz`` +
JSON, never pickle.
"""

from __future__ import annotations

import json
from array import array
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

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

    def document_frequency(self, term: str) -> int:
        """How many chunks hold ``term`` (0 for a term not in the vocabulary)."""
        row = self.vocab.get(term)
        if row is None:
            return 0
        indptr = self._matrix.indptr
        return int(indptr[row + 1] - indptr[row])

    @classmethod
    def build(
        cls,
        titles: Sequence[Sequence[Any]],
        texts: Sequence[Sequence[Any]],
        params: BM25Params | None = None,
        names: Sequence[str] | None = None,
    ) -> LexicalIndex:
        """Build from per-document title tokens and body tokens (aligned sequences).

        Tokens are any hashable terms; with ``names``, a token is an integer term id and
        ``names[term]`` its name in the vocabulary. The reading field passes term ids (4 bytes
        each while a build collects the chunks, instead of a Python string per bigram); the
        index is the same as from the strings, row for row.
        """
        params = params or BM25Params()
        if len(titles) != len(texts):
            raise ValueError("titles and texts must be aligned")
        n = len(texts)
        vocab: dict[Any, int] = {}
        # The (term, chunk) pairs chunk by chunk, in typed arrays: at 1M chunks the reading
        # field has ~170M of them, 12 bytes each here against ~100 in lists of Python numbers.
        rows = array("i")
        tfs = array("d")
        indptr = np.zeros(n + 1, dtype=np.int64)
        lengths = np.zeros(n, dtype=np.float64)
        for j, (title, text) in enumerate(zip(titles, texts, strict=True)):
            tf: dict[Any, float] = {}
            for term in title:
                tf[term] = tf.get(term, 0.0) + params.title_weight
            for term in text:
                tf[term] = tf.get(term, 0.0) + 1.0
            lengths[j] = params.title_weight * len(title) + len(text)
            for term, freq in tf.items():
                rows.append(vocab.setdefault(term, len(vocab)))
                tfs.append(freq)
            indptr[j + 1] = len(rows)
        if not n:
            return cls(sparse.csr_matrix((0, 0), dtype=np.float32), {}, params)
        r = np.frombuffer(rows, dtype=np.int32)
        f = np.frombuffer(tfs, dtype=np.float64)
        df = np.bincount(r, minlength=len(vocab)).astype(np.float64)
        idf = np.log1p((n - df + 0.5) / (df + 0.5))
        avgdl = float(lengths.mean()) or 1.0
        # idf · tf · (k1 + 1) / (tf + k1 · (1 - b + b · len / avgdl)), in this order and in
        # place (one array of the pairs' size at a time).
        norm = np.repeat(params.k1 * (1.0 - params.b + params.b * lengths / avgdl), np.diff(indptr))
        norm += f
        scores = idf[r]
        scores *= f
        scores *= params.k1 + 1.0
        scores /= norm
        del norm
        # Chunk by chunk is a column-major matrix; its row-major copy is the index.
        matrix = sparse.csc_matrix(
            (scores.astype(np.float32), r, indptr), shape=(len(vocab), n), dtype=np.float32
        ).tocsr()
        matrix.sort_indices()
        if names is not None:
            return cls(matrix, {names[term]: row for term, row in vocab.items()}, params)
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
        return self.terms(tokens, weights, max_share=max_share).dense()

    def terms(
        self,
        tokens: Sequence[str],
        weights: Sequence[float] | None = None,
        *,
        max_share: float = 1.0,
        max_postings: int | None = None,
        scale: float = 1.0,
    ) -> QueryTerms:
        """The rows of a query's terms and their weights (see :meth:`score`), not yet summed:
        :class:`QueryTerms` sums them over the matching documents only when they are few.

        ``max_postings``: terms found in more than this many documents are skipped too, whatever
        their share: a bound on the work of one term in a very large index.
        """
        if weights is None:
            weights = [1.0] * len(tokens)
        limit = max_share * self.n_docs if max_share < 1.0 else float(self.n_docs)
        if max_postings is not None:
            limit = min(limit, float(max_postings))
        indptr = self._matrix.indptr
        acc: dict[int, float] = {}
        for token, weight in zip(tokens, weights, strict=True):
            idx = self.vocab.get(token)
            if idx is not None and indptr[idx + 1] - indptr[idx] <= limit:
                acc[idx] = acc.get(idx, 0.0) + weight
        rows = np.fromiter(acc.keys(), dtype=np.int64, count=len(acc))
        w = np.fromiter(acc.values(), dtype=np.float32, count=len(acc))
        return QueryTerms(self.n_docs, ((self._matrix, rows, w, scale),))

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


SPARSE_MAX_SHARE = 1 / 16
"""Queries whose terms hold fewer postings than this share of the documents are summed from
the posting lists alone (at 1M chunks: a query of rare terms touches a few thousand documents
instead of a million)."""


_Field = tuple[sparse.csr_matrix, np.ndarray, np.ndarray, float]
"""One field's part of a query: its matrix, the query's rows in it, their weights, and the
weight of the field."""


@dataclass(frozen=True)
class QueryTerms:
    """A query's terms in one or more fields (lemmas; readings), summed on demand.

    A document's score is, per field, the sum over the query's terms in their order of the
    term's precomputed score times its weight, in float32 (what ``matrix.T @ weights`` does),
    and the fields add up as ``first + scale * second``. :meth:`scores` does exactly that,
    either over every document (:meth:`dense`) or over the documents that hold a term only
    (:class:`LexicalScores` from the posting lists), so both give the same numbers bit for bit.
    """

    n_docs: int
    fields: tuple[_Field, ...]

    def plus(self, other: QueryTerms) -> QueryTerms:
        """Both queries' fields, summed together (``other``'s scaled by its field weight)."""
        return QueryTerms(self.n_docs, self.fields + other.fields)

    @property
    def postings(self) -> int:
        """How many (term, document) scores the query sums."""
        return sum(
            int((m.indptr[rows + 1] - m.indptr[rows]).sum()) for m, rows, _, _ in self.fields
        )

    def dense(self) -> np.ndarray:
        """The score of every document (float32 ``[n_docs]``)."""
        out: np.ndarray | None = None
        for matrix, rows, w, scale in self.fields:
            if rows.size == 0:
                part = np.zeros(self.n_docs, dtype=np.float32)
            else:
                part = np.asarray(matrix[rows].T @ w, dtype=np.float32).ravel()
            if out is None:
                out = part if scale == 1.0 else np.asarray(scale * part, dtype=np.float32)
            else:
                out += scale * part
        return out if out is not None else np.zeros(self.n_docs, dtype=np.float32)

    def scores(self, sparse_max: float = SPARSE_MAX_SHARE) -> LexicalScores:
        """The scores, from the posting lists when they hold at most ``sparse_max`` times as
        many entries as there are documents (sorting them then costs less than a pass over
        every document), else from :meth:`dense`."""
        if self.postings > sparse_max * self.n_docs:
            return LexicalScores(self.n_docs, dense=self.dense())
        lists = [
            matrix.indices[matrix.indptr[r] : matrix.indptr[r + 1]]
            for matrix, rows, _, _ in self.fields
            for r in rows.tolist()
        ]
        docs = np.unique(np.concatenate(lists)) if lists else np.zeros(0, dtype=np.int64)
        total: np.ndarray | None = None
        for matrix, rows, w, scale in self.fields:
            part = np.zeros(docs.size, dtype=np.float32)
            for r, weight in zip(rows.tolist(), w, strict=True):
                lo, hi = matrix.indptr[r], matrix.indptr[r + 1]
                part[np.searchsorted(docs, matrix.indices[lo:hi])] += matrix.data[lo:hi] * weight
            if total is None:
                total = part if scale == 1.0 else np.asarray(scale * part, dtype=np.float32)
            else:
                total += scale * part
        if total is None:
            total = np.zeros(0, dtype=np.float32)
        keep = total > 0
        return LexicalScores(self.n_docs, rows=docs[keep].astype(np.int64), values=total[keep])


class LexicalScores:
    """One query's lexical score of every document, held as its matches or as a dense array.

    Args:
        n_docs: How many documents there are.
        dense: Every document's score.
        rows: Or the documents with a score above 0, ascending ...
        values: ... and their scores.
    """

    def __init__(
        self,
        n_docs: int,
        *,
        dense: np.ndarray | None = None,
        rows: np.ndarray | None = None,
        values: np.ndarray | None = None,
    ) -> None:
        self.n_docs = n_docs
        self._dense = dense
        self._rows = rows
        self._values = values
        self.memo: dict[str, Any] = {}
        """What a reader derived from these scores (the matches split by kind)."""

    @property
    def is_sparse(self) -> bool:
        return self._dense is None

    def matches(self) -> tuple[np.ndarray, np.ndarray]:
        """The documents with a score above 0 (ascending) and their scores; found once."""
        if self._rows is None or self._values is None:
            dense = self.dense()
            # A boolean mask first: numpy's nonzero on a float array branches per element
            # (1M chunks: 3-7 ms), on a boolean one it does not (0.4-0.8 ms).
            self._rows = np.flatnonzero(dense > 0)
            self._values = dense[self._rows]
        return self._rows, self._values

    def matches_in(self, start: int, stop: int) -> tuple[np.ndarray, np.ndarray]:
        """:meth:`matches` among documents ``start`` to ``stop - 1``."""
        rows, values = self.matches()
        lo, hi = np.searchsorted(rows, (start, stop))
        return rows[lo:hi], values[lo:hi]

    def at(self, rows: np.ndarray) -> np.ndarray:
        """The scores of ``rows`` (float32; 0 where a document matches no term)."""
        if self._dense is not None:
            return np.asarray(self._dense[rows], dtype=np.float32)
        matched, values = self.matches()
        if matched.size == 0:
            return np.zeros(len(rows), dtype=np.float32)
        at = np.minimum(np.searchsorted(matched, rows), matched.size - 1)
        return np.where(matched[at] == rows, values[at], np.float32(0.0)).astype(np.float32)

    def dense(self) -> np.ndarray:
        """Every document's score (float32 ``[n_docs]``)."""
        if self._dense is None:
            out = np.zeros(self.n_docs, dtype=np.float32)
            rows, values = self.matches()
            out[rows] = values
            return out
        return self._dense
