"""Query validation and analysis: the one place a query's text is checked and turned into terms.

Every entry point (staff search, the public FAQ search and suggest, highlight, ``kb search``,
evaluation) goes through :func:`check_query`; the API maps the :class:`~kb.errors.QueryError`
it raises to a 422 and never checks a query itself.
"""

from __future__ import annotations

import unicodedata
from dataclasses import dataclass, field

from kb.errors import QueryError
from kb.text.language import is_japanese
from kb.text.mecab import MeCabTokenizer
from kb.text.normalize import normalize
from kb.text.synonyms import SynonymTable, katakana_joins


@dataclass(frozen=True)
class QueryAnalysis:
    text: str
    """Normalized query text."""
    terms: tuple[str, ...]
    weights: tuple[float, ...] = field(default=())
    japanese: bool = True
    """False for queries in other languages: they are answered by the dense side alone."""


def check_query(query: str, max_chars: int, *, allow_empty: bool = False) -> None:
    """Raise :class:`QueryError` for an empty (unless allowed) or over-long query."""
    if not allow_empty and (not query or not query.strip()):
        raise QueryError("the query is empty")
    if len(query) > max_chars:
        raise _too_long(query, max_chars)


def _too_long(query: str, max_chars: int) -> QueryError:
    return QueryError(f"the query is {len(query)} characters long; at most {max_chars} are allowed")


SENTENCE_ENDS = "。\uff0e！？!?\n"
"""Where a long query may be cut (:func:`fit_query`)."""


def fit_query(query: str, max_chars: int, *, hard_max: int) -> str:
    """``query`` cut to ``max_chars`` at a sentence end where that keeps the gist.

    For the public FAQ search, which embeds less text than the staff search may. A query
    within ``max_chars`` is returned as it is; a longer one is cut after its last sentence end
    (。！？ or a line break) within the limit, as long as that keeps at least half of it. A
    citizen's 「転入届を出します。子どもの転校の手続きも必要ですか。…」 keeps its first
    questions; a 300-character sentence with nowhere to cut is refused.

    A query that NFKC makes longer is measured, and returned, as NFKC makes it: one character
    may normalize to many (U+FDFA to 18 letters, 200 of them to 3,600), and the limit counts
    what is searched.

    Raises:
        QueryError: The query is empty or longer than ``hard_max``, or longer than
            ``max_chars`` with no sentence end in the second half of the allowed part.
    """
    expanded = unicodedata.normalize("NFKC", query)
    if len(expanded) > len(query):
        query = expanded
    check_query(query, hard_max)
    if len(query) <= max_chars:
        return query
    head = query[:max_chars]
    end = max(head.rfind(mark) for mark in SENTENCE_ENDS) + 1
    cut = head[:end].strip()
    if end * 2 < max_chars or not cut:
        raise _too_long(query, max_chars)
    return cut


def analyze_query(
    query: str,
    tokenizer: MeCabTokenizer,
    synonyms: SynonymTable,
    *,
    max_chars: int,
    synonym_weight: float,
) -> QueryAnalysis:
    """Validate and normalize ``query`` and extract its weighted lexical terms.

    Terms the synonym dictionary adds weigh ``synonym_weight``; typed terms weigh 1. A query
    that is not Japanese gets no terms (the lexical index is Japanese).
    """
    check_query(query, max_chars)
    text = normalize(query)
    if not is_japanese(text):
        return QueryAnalysis(text=text, terms=(), weights=(), japanese=False)
    terms = tokenizer.lemmas(text)
    added = synonyms.expand(terms, katakana_joins(text, terms, tokenizer)) if synonyms else ()
    weights = (1.0,) * len(terms) + (synonym_weight,) * len(added)
    return QueryAnalysis(text=text, terms=terms + added, weights=weights)
