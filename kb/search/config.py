"""How queries are answered: the retrieval mode and the weights of fusion and ranking."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

from kb.search.fusion import FusionMethod
from kb.settings import Settings

Mode = Literal["hybrid", "dense", "lexical"]
MODES: tuple[Mode, ...] = ("hybrid", "dense", "lexical")


@dataclass(frozen=True)
class SearchConfig:
    """How queries are answered; the defaults are what the service and `kb eval` use."""

    mode: Mode = "hybrid"
    fusion: FusionMethod = "convex"
    dense_weight: float = 0.6
    title_weight: float = 0.5
    """Share of the title-only vector (FAQ question, case summary) in the dense score."""
    candidates: int = 100
    """How many candidates each retriever contributes per kind before fusion."""
    evidence_depth: int = 10
    """How many FAQ / case hits vote for departments."""
    evidence_discount: float = 1.0
    """A hit at rank r votes with weight ``score / (1 + r) ** discount``: a soft kNN vote.
    Chosen with ``department_model_weight`` by 5-fold cross-validation (eval/tune_routing.py):
    every fold picked 1.0 (it was 0.5, before the department model)."""
    directory_weight: float = 0.5
    """Weight of the directory's duties text against FAQ/case evidence in department ranking."""
    department_model_weight: float = 0.25
    """Share of the department model (:mod:`kb.index.routing`) against the hits' vote; chosen
    by cross-validation over the dev queries of both eval sets (eval/tune_routing.py)."""
    department_k: int = 3
    max_query_chars: int = 500
    synonym_weight: float = 0.2
    """Lexical weight of terms added by the synonym dictionary (typed terms weigh 1); chosen by
    cross-validation with SudachiDict's dictionary (eval/tune_synonyms.py)."""
    reading_weight: float = 0.3
    """Weight of the reading field (kana bigrams, :mod:`kb.index.readings`) added to the lemma
    BM25 score; chosen by 5-fold cross-validation on the municipal benchmark's variants."""
    reading_max_share: float = 0.5
    """Reading bigrams found in more than this share of the chunks (「です」「ます」) are not
    scored: they weigh little, and at 1M chunks summing them took most of a query's time."""
    reading_max_postings: int | None = 100_000
    """Reading bigrams found in more chunks than this are not scored either: a bound on a
    query's lexical work in a very large index (binding above 200k chunks, where the share
    above is larger). At 1M chunks it is 10% of them: staff search without the embedding p95
    25.8 → 12.1 ms; on the benchmarks, where 10% of the chunks is 30-250, the same cut
    moved nDCG@10 by −0.009 to +0.003 (docs/performance.md, "The 1M tail"). ``None``: no
    bound."""
    lemma_max_postings: int | None = None
    """Lemmas found in more chunks than this are not scored (``None``, the default: every
    lemma is). The same kind of bound as ``reading_max_postings``, off because it did not pay:
    at 1M chunks a bound of 100,000 cut BM25 with the per-kind top-k from 5.1 to 4.3 ms on
    average (p95 7.9 → 5.7 ms), under a tenth of a search, and the same cut made as tight on
    the benchmarks (a share of 0.1) moved nDCG@10 by −0.008 to +0.007 (docs/performance.md,
    "The 1M tail"). For an archive far larger than a million chunks."""
    mend_typos: bool = True
    """Mend a dropped or doubled character with the corpus's words (:mod:`kb.search.rewrite`)."""
    convert_kana: bool = True
    """Turn unconverted kana into the corpus's kanji before embedding and tokenizing."""
    feedback_weight: float = 1.0
    """Weight of the kNN vote of past 「正しい担当課」 feedback on rephrasings of the query,
    in units of the best department's score: at 1, a vote from the same question (or a sure
    rephrasing) puts its department first. See :mod:`kb.search.feedback`."""

    @classmethod
    def from_settings(cls, settings: Settings) -> SearchConfig:
        """The configuration the service runs with: these defaults plus the settings' limits."""
        return cls(
            max_query_chars=settings.max_query_chars, feedback_weight=settings.feedback_weight
        )


__all__ = ["MODES", "Mode", "SearchConfig"]
