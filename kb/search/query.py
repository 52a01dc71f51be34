"""Query validation and analysis: the one place a query's text is checked and turned into terms.

Every entry point (staff search, the public FAQ search and suggest, highlight, ``kb search``,
evaluation) goes through :func:`check_query`; the API maps the :class:`~kb.errors.QueryError`
it raises to a 422 and never checks a query itself.
"""

from __future__ import annotations

import datetime as dt
import re
import unicodedata
from dataclasses import dataclass, field

from kb.errors import QueryError
from kb.messages import msg
from kb.text.language import is_japanese
from kb.text.mecab import MeCabTokenizer
from kb.text.normalize import normalize
from kb.text.synonyms import SynonymTable, katakana_joins
from kb.types import Filters


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
        raise QueryError(msg("search.empty"))
    if len(query) > max_chars:
        raise _too_long(query, max_chars)


def check_request(k: int, max_k: int, filters: Filters) -> None:
    """Raise :class:`QueryError` for a result count outside ``1..max_k`` or a date filter that
    is not a real ``YYYY-MM-DD`` date, or a period that ends before it starts (staff search and
    ``kb search`` alike)."""
    if not 1 <= k <= max_k:
        raise QueryError(msg("search.bad_k", k=k, limit=max_k))
    for name, value in (("date_from", filters.date_from), ("date_to", filters.date_to)):
        if value and not _is_iso_date(value):
            raise QueryError(msg("search.bad_date", name=name, value=value[:40]))
    if filters.date_from and filters.date_to and filters.date_from > filters.date_to:
        raise QueryError(
            msg("search.dates_reversed", date_from=filters.date_from, date_to=filters.date_to)
        )


def _is_iso_date(value: str) -> bool:
    """Whether ``value`` is ``YYYY-MM-DD`` in ASCII digits and a day of the calendar (the form
    the stored dates have, so that they compare as text)."""
    if not _ISO_DATE_RE.fullmatch(value):
        return False
    try:
        dt.date.fromisoformat(value)
    except ValueError:
        return False
    return True


_ISO_DATE_RE = re.compile(r"[0-9]{4}-[0-9]{2}-[0-9]{2}")


def _too_long(query: str, max_chars: int) -> QueryError:
    return QueryError(msg("search.too_long", n=len(query), limit=max_chars))


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
