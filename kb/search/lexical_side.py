"""The lexical side of one query: its lemmas, and the reading bigrams of what it typed in kana,
scored over every chunk with the configured cuts (:class:`~kb.search.config.SearchConfig`).

The two fields are BM25 indexes of their own (:mod:`kb.index.lexical`): the lemma field of
MeCab's lemmas and synonyms, the reading field of kana bigrams that finds a chunk by how its
words sound (unconverted kana, typos). A term held by too many chunks is left out of each
(``lemma_max_postings``; ``reading_max_share``, ``reading_max_postings``): at a million chunks
such terms are most of the work and rank almost nothing.
"""

from __future__ import annotations

from collections.abc import Sequence

from kb.index.lexical import LexicalIndex, LexicalScores
from kb.search.config import SearchConfig
from kb.search.query import QueryAnalysis


def query_scores(
    lemmas: LexicalIndex,
    readings: LexicalIndex,
    analysis: QueryAnalysis,
    reading_terms: Sequence[str],
    config: SearchConfig,
    sparse_max: float,
) -> LexicalScores:
    """The BM25 scores of every chunk for one analysed query, both fields summed.

    Args:
        lemmas: The lemma field.
        readings: The reading field.
        analysis: The query as analysed and rewritten (its terms and their weights).
        reading_terms: The reading bigrams of the query's kana (none: the lemma field alone).
        config: The cuts and the reading field's weight.
        sparse_max: Up to which share of the chunks a query's postings are summed over their
            own documents rather than over every chunk (the same scores either way).
    """
    terms = lemmas.terms(analysis.terms, analysis.weights, max_postings=config.lemma_max_postings)
    if reading_terms and config.reading_weight > 0:
        terms = terms.plus(
            readings.terms(
                reading_terms,
                max_share=config.reading_max_share,
                max_postings=config.reading_max_postings,
                scale=config.reading_weight,
            )
        )
    return terms.scores(sparse_max)
