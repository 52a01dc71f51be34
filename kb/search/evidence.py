"""What a searcher reads to say whether a pane has an answer (:mod:`kb.search.confidence`).

Per index and model: each kind's similarity scale, measured from the index's own vectors, and
the background of small talk embedded with the model (:mod:`kb.search.background`); per
query: whether it has content, its best dense score on that scale, whether a best hit shares
a word with it, and how much closer it is to the pane than to small talk.

When an adapted model ranks, the dense side of the evidence is read with the base model
instead (:mod:`kb.search.judge`).
"""

from __future__ import annotations

from collections.abc import Container, Mapping, Sequence
from dataclasses import dataclass, replace

import numpy as np

from kb.embed.embedder import Embedder
from kb.index.lexical import LexicalIndex
from kb.search.background import background_vectors, closest
from kb.search.confidence import (
    Calibration,
    PaneEvidence,
    calibrate,
    has_content,
    pane_evidence,
)
from kb.search.judge import Judge
from kb.search.query import QueryAnalysis
from kb.search.query_cache import QueryVectors
from kb.search.query_words import (
    names_elsewhere,
    noun_compounds,
    shares_words,
    specific,
    titled,
)
from kb.text.mecab import MeCabTokenizer
from kb.types import DocKind, Hit


@dataclass(frozen=True)
class _QueryWords:
    """What a query's own words say: another city named as the owner
    (:func:`~kb.search.query_words.names_elsewhere`), its lemmas and whether one is a noun
    (:func:`~kb.search.query_words.titled`)."""

    elsewhere: bool = False
    lemmas: tuple[str, ...] = ()
    noun: bool = False
    compounds: tuple[str, ...] = ()
    """Its runs of nouns as written (:func:`~kb.search.query_words.noun_compounds`)."""


class EvidenceReader:
    """The no-answer evidence of one index's panes.

    Args:
        vectors: Full-text chunk vectors of the index.
        title_vectors: Title vectors, aligned likewise.
        doc_of: Document id of each chunk.
        kind_positions: Chunk positions of each kind.
        embedder: The index's query embedder: the background questions are embedded with it
            now (~170 short questions: 0.6 s with the default model on 2 cores).
        tokenizer: For the words a hit shares with the query.
        judge: The base model and its vectors, when ``embedder`` is an adapted model: the
            scales, the background and the hits' dense scores are then the base model's.
        chunk_ids: The chunk id of each row (needed with ``judge``: where a hit's vectors are).
        query_cache_size: Recent queries whose base-model vector is kept (with ``judge``).
        lexical_index: The index's lexical field: its terms say which places the corpus names
            (:func:`~kb.search.query_words.names_elsewhere`), its posting lists how many chunks
            hold a word (:func:`~kb.search.query_words.specific`).
    """

    def __init__(
        self,
        vectors: np.ndarray,
        title_vectors: np.ndarray,
        doc_of: np.ndarray,
        kind_positions: Mapping[DocKind, np.ndarray],
        embedder: Embedder,
        tokenizer: MeCabTokenizer,
        *,
        judge: Judge | None = None,
        chunk_ids: np.ndarray | None = None,
        query_cache_size: int = 1024,
        lexical_index: LexicalIndex | None = None,
    ) -> None:
        self.judge = judge
        self._judge_queries: QueryVectors | None = None
        self._row_of: dict[str, int] = {}
        if judge is not None:
            if chunk_ids is None:
                raise ValueError("a judge needs the chunk id of each row")
            vectors, title_vectors, embedder = judge.vectors, judge.title_vectors, judge.embedder
            self._judge_queries = QueryVectors(judge.embedder, query_cache_size)
            self._row_of = {str(c): i for i, c in enumerate(chunk_ids)}
        self.vectors = vectors
        self.title_vectors = title_vectors
        self.doc_of = doc_of
        self.kind_positions = kind_positions
        self.tokenizer = tokenizer
        self.lexical_index = lexical_index
        # What the last query's words say, for its other panes (one MeCab pass a query).
        self._words: tuple[str, _QueryWords] = ("", _QueryWords())
        self._calibration: tuple[float, Calibration] | None = None
        self.background = background_vectors(embedder)
        """The background questions of "no answer" (:mod:`kb.search.background`), embedded
        with the judge's model when there is one."""

    def calibration(self, title_weight: float) -> Calibration:
        """Each kind's similarity scale for scores with this title weight (measured again
        when it changes: evaluation grids)."""
        cached = self._calibration
        if cached is None or cached[0] != title_weight:
            measured = calibrate(
                self.vectors,
                self.title_vectors,
                self.doc_of,
                self.kind_positions,
                title_weight=title_weight,
            )
            cached = self._calibration = (title_weight, measured)
        return cached[1]

    def evidence(
        self,
        hits: Sequence[Hit],
        kind: DocKind,
        analysis: QueryAnalysis,
        qvec: np.ndarray | None,
        *,
        title_weight: float,
        lexical_side: bool,
        texts: Sequence[str] | None,
        public: bool = False,
    ) -> PaneEvidence:
        """The evidence of one pane's hits (best first).

        Args:
            hits: The pane's hits.
            kind: Its kind.
            analysis: The query as searched.
            qvec: Its vector (``None``: a lexical-only search); with a judge, the query is
                embedded again by the base model and the hits scored with its vectors.
            title_weight: The searcher's share of the title vector in a dense score.
            lexical_side: Whether the search had a lexical side.
            texts: The texts of the pane's best hits (``None``: not read).
            public: A public search: the judge's cache of query vectors is kept apart from
                the staff's (:meth:`~kb.search.query_cache.QueryVectors.encode`).
        """
        lexical = None
        named = rare = False
        if texts is not None and analysis.japanese and lexical_side:
            lexical = shares_words(analysis.terms, texts, self.tokenizer.lemmas)
            words = self._query_words(analysis)
            # A thing the corpus's questions are about: a noun (買う, 壊れる alone are not).
            named = lexical and words.noun and titled(words.lemmas, texts, self.tokenizer.lemmas)
            rare = (
                lexical
                and words.noun
                and self.lexical_index is not None
                and specific(
                    words.lemmas,
                    words.compounds,
                    texts,
                    self.tokenizer.lemmas,
                    self.lexical_index.document_frequency,
                    len(self.doc_of),
                )
            )
        if qvec is not None and self._judge_queries is not None:
            qvec = self._judge_queries.encode(analysis.text, public=public)
            hits = self.rescored(hits, qvec, title_weight)
        return pane_evidence(
            hits,
            self.calibration(title_weight).scale(kind),
            # A question about another city's service has nothing this corpus answers.
            content=has_content(analysis.text, analysis.terms, analysis.japanese)
            and not self.elsewhere(analysis),
            dense_side=qvec is not None,
            lexical=lexical,
            japanese=analysis.japanese,
            background=closest(self.background, qvec) if qvec is not None else None,
            titled=named,
            specific=rare,
        )

    def elsewhere(self, analysis: QueryAnalysis) -> bool:
        """:func:`~kb.search.query_words.names_elsewhere` of a Japanese query (kept for the
        query's other panes)."""
        return analysis.japanese and self._query_words(analysis).elsewhere

    def _terms(self) -> Container[str]:
        """The corpus's lexical terms (none without a lexical field)."""
        return self.lexical_index.vocab if self.lexical_index is not None else frozenset()

    def _query_words(self, analysis: QueryAnalysis) -> _QueryWords:
        """What a Japanese query's words say, read once for all its panes."""
        text, words = self._words
        if text != analysis.text:
            morphemes = self.tokenizer.morphemes(analysis.text)
            words = _QueryWords(
                elsewhere=names_elsewhere(morphemes, self._terms()),
                lemmas=self.tokenizer.lemmas(analysis.text),
                noun=any(m.pos1 == "名詞" for m in morphemes),
                compounds=noun_compounds(morphemes),
            )
            self._words = (analysis.text, words)
        return words

    def rescored(self, hits: Sequence[Hit], qvec: np.ndarray, title_weight: float) -> list[Hit]:
        """``hits`` with the dense score of their chunk's vectors here against ``qvec`` (the
        judge's: the base model's vectors and query vector)."""
        if not hits:
            return []
        rows = np.array([self._row_of[h.chunk_id] for h in hits], dtype=np.int64)
        scores = np.asarray(self.vectors[rows] @ qvec, dtype=np.float32)
        if title_weight > 0:
            titles = np.asarray(self.title_vectors[rows] @ qvec, dtype=np.float32)
            scores = (1.0 - title_weight) * scores + title_weight * titles
        return [replace(h, dense_score=float(s)) for h, s in zip(hits, scores, strict=True)]


__all__ = ["EvidenceReader"]
