"""What a search leaves in the query log: the masked query and how well the FAQ answered it.

The API calls :func:`log_record` after each staff or public search; the record is built here
(not in the route) so the masking and the score that gap analysis relies on have one
definition. ``top_faq_score`` is the best *dense* (cosine) score of a published FAQ hit:
comparable across queries and modes, unlike fused scores. ``answered`` is the FAQ pane's
no-answer decision (:mod:`kb.search.confidence`).

A search narrowed by the console (a pane unchecked, a department, category or date filter) is
logged with ``filtered`` set and is never a zero-hit search: finding nothing among the cases
of one department says nothing about what the FAQ lacks (:mod:`kb.trainer.gaps` leaves such
searches out).
"""

from __future__ import annotations

from collections.abc import Collection

from kb.store import QueryLogRecord
from kb.text.masking import mask_personal
from kb.text.mecab import MeCabTokenizer
from kb.types import DocId, SearchResult

SOURCES = ("staff", "public")
MAX_RESULTS = 10


def log_record(
    source: str,
    query: str,
    result: SearchResult,
    published_faq_ids: Collection[str],
    tokenizer: MeCabTokenizer | None = None,
) -> QueryLogRecord:
    """The query-log record of one search, with personal data masked.

    Args:
        source: ``"staff"`` or ``"public"``.
        query: The query as typed; it is masked here and the raw text is not kept.
        result: What the search returned.
        published_faq_ids: Local ids of published FAQ entries (``"F0001"``).
        tokenizer: MeCab tokenizer for name detection.
    """
    if source not in SOURCES:
        raise ValueError(f"source must be one of {SOURCES}, not {source!r}")
    published = {DocId.of("faq", i) for i in published_faq_ids}
    faq_scores = [
        h.dense_score
        for h in result.hits
        if h.kind == "faq" and h.doc_id in published and h.dense_score is not None
    ]
    ids: list[str] = []
    scores: list[float] = []
    for faq in result.faqs[:MAX_RESULTS]:
        doc_id = DocId.of("faq", faq.id)
        ids.append(doc_id)
        dense = next((h.dense_score for h in result.hits if h.doc_id == doc_id), None)
        scores.append(float(dense if dense is not None else faq.score))
    zero_hit = not result.filtered and not (result.faqs or result.cases or result.manuals)
    faq_level = result.confidence.faq
    return QueryLogRecord(
        source=source,
        query=mask_personal(query, tokenizer),
        result_ids=tuple(ids),
        scores=tuple(scores),
        top_faq_score=round(float(max(faq_scores)), 4) if faq_scores else None,
        zero_hit=zero_hit,
        filtered=result.filtered,
        answered=None if faq_level is None else faq_level != "none",
    )
