"""The peers kb is measured against, fed the same corpus, tokens and vectors.

* :class:`Bm25sPeer`: bm25s over the MeCab lemmas kb stores for every chunk (title + body), the
  query analysed by kb's own tokenizer, so only the scoring engine differs.
* :class:`TxtaiPeer`: txtai ``Embeddings`` in hybrid mode (its BM25 ``terms`` index plus its
  FAISS ANN, fused by txtai) over the same chunks. Dense side: txtai's ``external`` vector method,
  given kb's document vectors (computed by the same default model) and, for a query, the same
  model's query embedding, so neither side gets a different model. Lexical side: the chunks'
  MeCab lemmas joined by spaces with a whitespace tokenizer (txtai's default tokenizer keeps
  only space-separated alphanumeric words, which finds nothing in Japanese).

Both return ranked ``(index, score)`` pairs over the positions of the chunks given to
``build``; timings include the query analysis (and embedding) they need.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

import numpy as np


class Bm25sPeer:
    name = "bm25s"

    def __init__(self, tokens: Sequence[Sequence[str]], k1: float = 1.2, b: float = 0.75):
        import bm25s

        self._model = bm25s.BM25(k1=k1, b=b)
        self._model.index([list(t) for t in tokens], show_progress=False)
        self._vocab: dict[str, int] = dict(self._model.vocab_dict)
        self.size = len(tokens)

    def search(self, terms: Sequence[str], k: int = 10) -> list[tuple[int, float]]:
        known = [t for t in terms if t in self._vocab]
        if not known:
            return []
        docs, scores = self._model.retrieve(
            [known], k=min(k, self.size), show_progress=False, n_threads=1
        )
        return [(int(d), float(s)) for d, s in zip(docs[0], scores[0], strict=True) if s > 0]


class TxtaiPeer:
    name = "txtai"

    def __init__(
        self,
        token_strings: Sequence[str],
        vectors: np.ndarray,
        encode_query: Callable[[str], np.ndarray],
        *,
        weight: float = 0.6,
    ) -> None:
        from txtai import Embeddings

        by_text: dict[str, np.ndarray] = {}
        for text, vec in zip(token_strings, vectors, strict=True):
            by_text.setdefault(text, vec)
        self._pending: dict[str, str] = {}
        self._encode_query = encode_query

        def transform(inputs: Any) -> np.ndarray:
            out = []
            for text in inputs:
                query = self._pending.get(text)
                out.append(encode_query(query) if query is not None else by_text[text])
            return np.asarray(out, dtype=np.float32)

        self._emb = Embeddings(
            method="external",
            transform=transform,
            content=False,
            backend="faiss",
            hybrid=True,
            scoring={
                "method": "bm25",
                "terms": True,
                "normalize": True,
                "tokenizer": {
                    "whitespace": True,
                    "alphanum": False,
                    "stopwords": False,
                    "lowercase": False,
                },
            },
        )
        # kb's fusion weight (dense 0.6): the same convex mix.
        self._weight = weight
        self._emb.index((i, text, None) for i, text in enumerate(token_strings))
        self.size = len(token_strings)

    def search(self, query: str, terms: Sequence[str], k: int = 10) -> list[tuple[int, float]]:
        text = " ".join(terms) or query
        self._pending[text] = query
        try:
            hits = self._emb.search(text, k, weights=self._weight)
        finally:
            self._pending.pop(text, None)
        return [(int(i), float(s)) for i, s in hits]
