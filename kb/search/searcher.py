"""Hybrid search over one index folder: dense + lexical retrieval, fusion, grouping.

One query is answered per kind (FAQ, cases, manuals, directory), so a large case archive cannot
crowd the FAQ out of its pane; the department pane is ranked from the evidence of the retrieved
FAQ and cases plus the directory's duties text.
"""

from __future__ import annotations

import json
import time
from collections.abc import Sequence
from dataclasses import replace
from pathlib import Path

import numpy as np

from kb.embed.embedder import Embedder, occupying
from kb.index.dense import DenseIndex, KindIndexes
from kb.index.folder import IndexFolder, IndexRoot
from kb.index.layout import KindRows, RowFinder
from kb.index.lexical import SPARSE_MAX_SHARE, LexicalScores
from kb.search import expiry
from kb.search.confidence import (
    LEXICAL_DEPTH,
    Calibration,
    PaneEvidence,
    best_texts,
    decide,
    hit_text,
    is_answered,
    pane_confidence,
)
from kb.search.config import Mode, SearchConfig
from kb.search.departments import DepartmentRanker, department_level
from kb.search.evidence import EvidenceReader
from kb.search.expiry import ExpiryFilter
from kb.search.feedback import DepartmentFeedback, reference_titles
from kb.search.fusion import fuse
from kb.search.judge import load_judge
from kb.search.lexical_side import query_scores
from kb.search.panes import case_result, faq_result, manual_result
from kb.search.query import QueryAnalysis, analyze_query, check_query, fit_query
from kb.search.query_cache import AnswerCache, QueryVectors
from kb.search.rewrite import QueryRewriter
from kb.search.row_filter import RowFilter
from kb.text.mecab import TOKENIZER_VERSION, MeCabTokenizer
from kb.text.normalize import NORMALIZER_VERSION
from kb.text.synonyms import SynonymTable
from kb.types import (
    DOC_KINDS,
    Department,
    DepartmentResult,
    DocKind,
    Filters,
    Hit,
    SearchResult,
)


class Searcher:
    """Answers queries from one immutable index folder.

    Args:
        folder: An index build folder (see :mod:`kb.index.builder`).
        embedder: The query embedder; must be the model the index was built with.
        tokenizer: MeCab tokenizer (shared, thread-safe).
        config: Retrieval settings.
        synonyms: The synonym table of the query analysis.
        judge: The base model when ``embedder`` is adapted from it (:mod:`kb.search.judge`).
        embedding_cache: Where the judge's vectors of the chunks are cached.
    """

    def __init__(
        self,
        folder: Path,
        embedder: Embedder,
        tokenizer: MeCabTokenizer | None = None,
        config: SearchConfig | None = None,
        synonyms: SynonymTable | None = None,
        *,
        judge: Embedder | None = None,
        embedding_cache: Path | None = None,
    ) -> None:
        self.folder = folder
        index = IndexFolder(folder)
        self.synonyms = synonyms or SynonymTable()
        self.manifest = index.manifest()
        self.manifest.check(
            model=embedder.model_id,
            dim=embedder.dim,
            tokenizer=TOKENIZER_VERSION,
            normalizer=NORMALIZER_VERSION,
        )
        self.embedder = embedder
        self.tokenizer = tokenizer or MeCabTokenizer()
        self.config = config or SearchConfig()
        self.store = index.open_snapshot()
        dense = index.load_dense(self.manifest.dense_kind)
        self.dense_by_kind = dense if isinstance(dense, KindIndexes) else None
        # A folder built before per-kind indexes has one index over all kinds.
        self.dense: DenseIndex | None = dense if isinstance(dense, DenseIndex) else None
        self.lexical = index.load_lexical()
        self.readings, vocabulary = index.load_readings()
        self.routing = index.load_routing()
        self.rewriter = QueryRewriter(vocabulary, self.tokenizer, self.lexical)
        self.vectors = index.vectors()
        self.title_vectors = index.title_vectors()
        meta = index.align(self.store.chunk_metadata())  # in the build's row order
        self.rowids = meta["rowid"]
        self._rows_of = RowFinder(self.rowids)
        self._doc_of = meta["doc_id"]
        self._chunk_id = meta["chunk_id"]
        self._kind = meta["kind"]
        parsed: dict[str, tuple[str, ...]] = {}  # one tuple per distinct department list
        self._chunk_departments = [
            parsed.get(d) or parsed.setdefault(d, tuple(json.loads(d))) for d in meta["departments"]
        ]
        self._rows_filter = RowFilter(
            meta["published"],
            meta["category"],
            meta["date"],
            ExpiryFilter(meta["expires"]),
            self._chunk_departments,
        )
        self._kinds = KindRows(self._kind)
        self._kind_positions = self._kinds.positions
        self.lexical_sparse_max = SPARSE_MAX_SHARE
        """Queries with fewer postings than this share of the chunks are scored from the posting
        lists alone (:meth:`kb.index.lexical.QueryTerms.scores`); 0: never."""
        self.departments: dict[str, Department] = {d.name: d for d in self.store.departments()}
        self.department_feedback: DepartmentFeedback | None = None
        """Staff feedback voting in department ranking; set by the service."""
        self._departments = DepartmentRanker(
            self.routing,
            self.departments,
            lambda: self.embedder.encode_queries(
                reference_titles(self.store, self._doc_of, self._kind_positions)
            ),
        )
        self.evidence = EvidenceReader(
            self.vectors,
            self.title_vectors,
            self._doc_of,
            self._kind_positions,
            embedder,
            self.tokenizer,
            judge=None
            if judge is None
            else load_judge(judge, self.store, self.rowids, embedding_cache),
            chunk_ids=self._chunk_id,
            lexical_index=self.lexical,
        )
        """The no-answer evidence of this index's panes (the background embedded now)."""
        self.calibration  # noqa: B018 - measured now, not inside the first search
        self.query_vectors: QueryVectors | None = None
        """Recent and known query vectors (:mod:`kb.search.query_cache`); set by the service."""
        self.answers: AnswerCache[SearchResult] | None = None
        """Recent answers of this index; set by the service."""

    @property
    def calibration(self) -> Calibration:
        """Each kind's similarity scale, for the no-answer decision (kb.search.confidence);
        measured again if the configuration's title weight changed (evaluation grids)."""
        return self.evidence.calibration(self.config.title_weight)

    @classmethod
    def open(
        cls,
        index_root: Path,
        embedder: Embedder,
        tokenizer: MeCabTokenizer | None = None,
        config: SearchConfig | None = None,
        synonyms: SynonymTable | None = None,
        *,
        judge: Embedder | None = None,
        embedding_cache: Path | None = None,
    ) -> Searcher:
        """Open the serving index under ``index_root``."""
        folder = IndexRoot(index_root).current().path
        return cls(
            folder,
            embedder,
            tokenizer,
            config,
            synonyms,
            judge=judge,
            embedding_cache=embedding_cache,
        )

    def close(self) -> None:
        """Close the snapshot and drop the memory-mapped vectors: a removed build leaves disk."""
        self.store.close()
        self.vectors = self.title_vectors = np.empty((0, 0), dtype=np.float32)
        self.evidence.vectors = self.evidence.title_vectors = self.vectors

    # --- query analysis -----------------------------------------------------------------

    def analyze(self, query: str) -> QueryAnalysis:
        """Validate and normalize a query and extract its lexical terms."""
        return analyze_query(
            query,
            self.tokenizer,
            self.synonyms,
            max_chars=self.config.max_query_chars,
            synonym_weight=self.config.synonym_weight,
        )

    def rewrite(self, analysis: QueryAnalysis) -> tuple[QueryAnalysis, tuple[str, ...]]:
        """The analysis of a query as the corpus writes it, and its reading-field terms.

        Typos are mended and unconverted kana turned into kanji (:mod:`kb.search.rewrite`)
        as configured; the query is analyzed again only when that changed it.
        """
        cfg = self.config
        if not analysis.japanese:  # Latin letters may be romaji (QueryRewriter.rewrite_romaji)
            romaji = self.rewriter.rewrite_romaji(analysis.text, mend=cfg.mend_typos)
            if not cfg.convert_kana or romaji is None or len(romaji.text) > cfg.max_query_chars:
                return analysis, ()
            return self.analyze(romaji.text), romaji.reading_terms
        if not (cfg.mend_typos or cfg.convert_kana or cfg.reading_weight):
            return analysis, ()
        rewritten = self.rewriter.rewrite(
            analysis.text, mend=cfg.mend_typos, convert=cfg.convert_kana
        )
        if rewritten.changed and len(rewritten.text) <= cfg.max_query_chars:
            analysis = self.analyze(rewritten.text)
        return analysis, rewritten.reading_terms

    def check_query(self, query: str, *, allow_empty: bool = False) -> None:
        """:func:`~kb.search.query.check_query` with this searcher's length limit."""
        check_query(query, self.config.max_query_chars, allow_empty=allow_empty)

    # --- retrieval ----------------------------------------------------------------------

    def _positions(self, kind: DocKind, filters: Filters) -> np.ndarray:
        return self._rows_filter.keep(self._kind_positions[kind], filters)

    def retrieve_kind(
        self,
        kind: DocKind,
        analysis: QueryAnalysis,
        qvec: np.ndarray | None,
        lex_scores: LexicalScores | None,
        k: int,
        filters: Filters = Filters(),  # noqa: B008 - immutable
        mode: Mode | None = None,
    ) -> list[Hit]:
        """Top ``k`` documents of one kind (best chunk per document), best first."""
        mode = mode or self.config.mode
        positions = self._positions(kind, filters)
        if positions.size == 0:
            return []
        n = self.config.candidates
        cand: set[int] = set()
        if mode in ("dense", "hybrid") and qvec is not None:
            allowed = None
            index = self.dense_by_kind.get(kind) if self.dense_by_kind else self.dense
            if index is not None:
                # The per-kind index holds this kind only: filter by ids only when a filter
                # narrowed the kind's chunks.
                every = self._kind_positions[kind] if self.dense_by_kind else self.rowids
                if positions.size < every.size:
                    allowed = np.ascontiguousarray(self.rowids[positions])
                _, ids = index.search(qvec, n, allowed)
                cand.update(self._rows_of.rows(ids).tolist())
        if mode in ("lexical", "hybrid") and lex_scores is not None:
            cand.update(self._kinds.top(kind, positions, lex_scores, n).tolist())
        if not cand:
            return []
        cpos = np.sort(np.fromiter(cand, dtype=np.int64))
        dense_s = self._dense_scores(cpos, qvec)
        lex_s = lex_scores.at(cpos) if lex_scores is not None else np.zeros(len(cpos), np.float32)
        if mode == "dense":
            fused = dense_s
        elif mode == "lexical":
            fused = lex_s
        else:
            fused = fuse(
                dense_s,
                lex_s,
                method=self.config.fusion,
                dense_weight=self.config.dense_weight,
            )
        order = np.argsort(-fused, kind="stable")
        hits: list[Hit] = []
        seen: set[str] = set()
        for i in order:
            if mode == "lexical" and lex_s[i] <= 0:
                break
            p = int(cpos[i])
            doc_id = str(self._doc_of[p])
            if doc_id in seen:
                continue
            seen.add(doc_id)
            hits.append(
                Hit(
                    chunk_id=str(self._chunk_id[p]),
                    doc_id=doc_id,
                    kind=kind,
                    score=float(fused[i]),
                    dense_score=float(dense_s[i]),
                    lexical_score=float(lex_s[i]),
                    departments=self._chunk_departments[p],
                )
            )
            if len(hits) >= k:
                break
        return hits

    def _dense_scores(self, positions: np.ndarray, qvec: np.ndarray | None) -> np.ndarray:
        if qvec is None:
            return np.zeros(len(positions), dtype=np.float32)
        scores = np.asarray(self.vectors[positions] @ qvec, dtype=np.float32)
        w = self.config.title_weight
        if w > 0:
            title = np.asarray(self.title_vectors[positions] @ qvec, dtype=np.float32)
            scores = (1.0 - w) * scores + w * title
        return scores

    def retrieve(
        self,
        query: str,
        *,
        k: int = 10,
        kinds: Sequence[DocKind] = ("faq",),
        filters: Filters = Filters(),  # noqa: B008 - immutable
        mode: Mode | None = None,
    ) -> dict[DocKind, list[Hit]]:
        """Ranked hits per kind for ``query`` (used by search and evaluation)."""
        with occupying(self.embedder):
            return self._retrieve(query, k, kinds, filters, mode)[0]

    def retrieve_with_confidence(
        self,
        query: str,
        *,
        k: int = 10,
        kind: DocKind = "faq",
        filters: Filters = Filters(),  # noqa: B008 - immutable
        mode: Mode | None = None,
    ) -> tuple[list[Hit], PaneEvidence]:
        """Ranked hits of one kind and the evidence :func:`~kb.search.confidence.decide`
        reads (for evaluation: ``eval/no_answer.py`` cross-validates the threshold on it)."""
        with occupying(self.embedder):
            per_kind, qvec, analysis = self._retrieve(query, k, (kind,), filters, mode)
        hits = per_kind[kind]
        docs = self.store.get_documents([h.doc_id for h in hits[:LEXICAL_DEPTH]])
        texts = [hit_text(docs[h.doc_id].title, docs[h.doc_id].body) for h in hits[:LEXICAL_DEPTH]]
        return hits, self._evidence(hits, kind, analysis, qvec, mode, texts, filters)

    def _retrieve(
        self,
        query: str,
        k: int,
        kinds: Sequence[DocKind],
        filters: Filters,
        mode: Mode | None,
    ) -> tuple[dict[DocKind, list[Hit]], np.ndarray | None, QueryAnalysis]:
        mode = mode or self.config.mode
        analysis, reading_terms = self.rewrite(self.analyze(query))
        if not analysis.japanese and mode == "hybrid":
            # The lexical index is Japanese; MeCab would match stray kanji of a Chinese query.
            mode = "dense"
        qvec = None
        if mode != "lexical":
            cache = self.query_vectors
            if cache is not None and cache.embedder is self.embedder:
                qvec = cache.encode(analysis.text, public=filters.published_only)
            else:
                qvec = self.embedder.encode_queries([analysis.text])[0]
        lex_scores = None
        if mode != "dense":
            lex_scores = query_scores(
                self.lexical,
                self.readings,
                analysis,
                reading_terms,
                self.config,
                self.lexical_sparse_max,
            )
        per_kind = {
            kind: self.retrieve_kind(kind, analysis, qvec, lex_scores, k, filters, mode)
            for kind in kinds
        }
        return per_kind, qvec, analysis

    # --- the grouped answer -------------------------------------------------------------

    def search(
        self,
        query: str,
        *,
        k: int = 5,
        filters: Filters = Filters(),  # noqa: B008 - immutable
        mode: Mode | None = None,
        max_chars: int | None = None,
    ) -> SearchResult:
        """Answer one query with departments, FAQ, similar cases and manual sections.

        ``max_chars``: a tighter length limit for this search (the public API): a longer query
        is cut at a sentence end or refused (:func:`~kb.search.query.fit_query`).
        """
        if max_chars is not None:
            query = fit_query(query, max_chars, hard_max=self.config.max_query_chars)
        if self.answers is None:
            return self._answer(query, k, filters, mode)
        started = time.perf_counter()
        feedback = self.department_feedback
        # The day is part of the key: 公開期限 is judged against it.
        key = (query, k, filters, mode, self.config, expiry.today())
        result, cached = self.answers.answer(
            key,
            self.synonyms,
            feedback,
            len(feedback) if feedback is not None else 0,
            lambda: self._answer(query, k, filters, mode),
        )
        took_ms = round((time.perf_counter() - started) * 1000, 2)
        return replace(result, took_ms=took_ms) if cached else result

    def _answer(self, query: str, k: int, filters: Filters, mode: Mode | None) -> SearchResult:
        with occupying(self.embedder):
            return self._search(query, k, filters, mode)

    def _search(self, query: str, k: int, filters: Filters, mode: Mode | None) -> SearchResult:
        started = time.perf_counter()
        wanted: tuple[DocKind, ...] = filters.kinds or DOC_KINDS
        if filters.published_only:
            wanted = tuple(kind for kind in wanted if kind == "faq")
        # Departments are ranked from FAQ / case evidence even when only other panes are shown.
        fetch: list[DocKind] = list(dict.fromkeys([*wanted, "faq", "case", "department"]))
        if filters.published_only:
            fetch = ["faq"]
        depth = max(k, self.config.evidence_depth)
        per_kind, qvec, analysis = self._retrieve(query, depth, fetch, filters, mode)
        # Only the documents on show are read; departments are ranked from the hits alone.
        shown = {
            kind: per_kind.get(kind, [])[:k] for kind in ("faq", "case", "manual") if kind in wanted
        }
        docs = self.store.get_documents([h.doc_id for hits in shown.values() for h in hits])
        departments = self._rank_departments(per_kind, qvec)
        faqs = tuple(faq_result(h, docs[h.doc_id]) for h in shown.get("faq", []))
        cases = tuple(case_result(h, docs[h.doc_id]) for h in shown.get("case", []))
        manuals = tuple(manual_result(h, docs[h.doc_id]) for h in shown.get("manual", []))
        hits = tuple(
            sorted(
                (h for kind in wanted for h in per_kind.get(kind, [])[:k]),
                key=lambda h: -h.score,
            )
        )
        texts = best_texts(shown.items(), docs, per_kind.get("department", []), self.departments)
        levels = {
            kind: decide(
                self._evidence(per_kind[kind], kind, analysis, qvec, mode, texts.get(kind), filters)
            )
            for kind in fetch
        }
        confidence = pane_confidence(levels, wanted)
        if confidence.department is not None:
            level = department_level(confidence.department, departments)
            confidence = replace(confidence, department=level)
        return SearchResult(
            query=query,
            took_ms=round((time.perf_counter() - started) * 1000, 2),
            departments=departments if "department" in wanted or not filters.kinds else (),
            faqs=faqs,
            cases=cases,
            manuals=manuals,
            answered=is_answered(confidence),
            confidence=confidence,
            filtered=filters.narrowed,
            hits=hits,
        )

    def _evidence(
        self,
        hits: Sequence[Hit],
        kind: DocKind,
        analysis: QueryAnalysis,
        qvec: np.ndarray | None,
        mode: Mode | None,
        texts: Sequence[str] | None,
        filters: Filters,
    ) -> PaneEvidence:
        return self.evidence.evidence(
            hits,
            kind,
            analysis,
            qvec,
            title_weight=self.config.title_weight,
            lexical_side=(mode or self.config.mode) != "dense",
            texts=texts,
            public=filters.published_only,
        )

    def _rank_departments(
        self, per_kind: dict[DocKind, list[Hit]], qvec: np.ndarray | None = None
    ) -> tuple[DepartmentResult, ...]:
        return self._departments.rank(per_kind, self.config, self.department_feedback, qvec)
