"""Erasure: the rows of the logs that quote a deleted document or name its id.

Deleting a document removes it from the store, the caches and the index
(:mod:`kb.index.remove`). Erasing it also removes what the logs kept about it:

* **query log** rows (``querylog.sqlite``) whose query quotes the document's *distinctive*
  text, or whose results name its id;
* **feedback** rows (``feedback.sqlite``) likewise, by query, shown ids and the id that helped;
* **FAQ drafts** (``trainer.sqlite``, status ``draft``) drafted from it (its id among their
  source cases) or quoting it; approved and rejected entries are kept unless they quote it;
* **hand-offs written from a search alone** (``records.sqlite``, no record) that quote it by
  :data:`MIN_HANDOFF_QUOTE` characters or more: the counsellor may write the sheet from the
  screen before saving the record that becomes the case (those written from the record go
  with it).

A log row *quotes* the document when a run of at least :data:`MIN_QUOTE` characters of it
(normalized as the search normalizes, whitespace and masking placeholders left out) occurs in
the document's title or body, and that run is *distinctive*: no document still stored contains
it. A query that shares 「住民票の写し」 with the erased case and with an FAQ entry is kept: the
words are the FAQ's as much as the case's. The raw text (``keep_raw_text``) is matched too, so
a query that quotes what masking replaced is found as well.

The audit log is never changed: it is the append-only, hash-chained accountability record.
:func:`audit_mentions` counts its events whose (masked) query quotes the document, so the
report can say so; the audit log names documents by id, never by their text.
"""

from __future__ import annotations

import re
from collections.abc import Collection, Iterable, Sequence
from dataclasses import dataclass

from kb.security.audit import AuditLog
from kb.store import FaqCandidateStore, FeedbackStore, QueryLogStore, Store
from kb.store.lifecycle import fragments_in_store
from kb.store.records import RecordStore
from kb.text.masking.placeholders import PLACEHOLDERS
from kb.text.normalize import normalize

MIN_QUOTE = 8
"""Shortest run of characters (after normalization) that counts as quoting a document."""
MIN_HANDOFF_QUOTE = 20
"""The same for a hand-off, which goes whole: counsellors write the same lists on every sheet
(印鑑・通帳・本人確認書類, 11 characters), and another citizen's sheet must stay."""
_ALL = 1_000_000_000
_PLACEHOLDER_RE = re.compile("|".join(re.escape(p) for p in PLACEHOLDERS))
_SPACE_RE = re.compile(r"\s+")


def compact(text: str, *, gap: str = "\x00") -> str:
    """``text`` normalized, without whitespace, each masking placeholder replaced by ``gap``.

    A placeholder (``[電話番号]``) stands for what was removed: it is shared by many texts and
    never part of a quote. Different ``gap`` characters on the two sides keep a run from
    matching across one.
    """
    return _SPACE_RE.sub("", _PLACEHOLDER_RE.sub(gap, normalize(text)))


class QuoteFinder:
    """Finds the runs of a log text that quote one of the erased texts.

    Args:
        texts: The erased documents' titles and bodies (and raw text, if kept).
        min_chars: Shortest run that counts (:data:`MIN_QUOTE`).
    """

    def __init__(self, texts: Iterable[str], min_chars: int = MIN_QUOTE) -> None:
        self.min_chars = min_chars
        self.texts = [t for t in (compact(x, gap="\x01") for x in texts) if len(t) >= min_chars]
        self._grams = {
            t[i : i + min_chars] for t in self.texts for i in range(len(t) - min_chars + 1)
        }

    def quotes(self, text: str) -> set[str]:
        """The longest runs of ``text`` (at least ``min_chars``) found in an erased text."""
        q = compact(text)
        n = self.min_chars
        found: set[str] = set()
        end_reached = 0
        for i in range(len(q) - n + 1):
            if q[i : i + n] not in self._grams:
                continue
            j = i + n
            if not any(q[i:j] in t for t in self.texts):
                continue  # the gram is there, not this exact run (set lookups are per gram)
            while j < len(q) and any(q[i : j + 1] in t for t in self.texts):
                j += 1
            if j > end_reached:  # not a tail of a run found already
                found.add(q[i:j])
                end_reached = j
        return found


@dataclass(frozen=True)
class Erased:
    """What :func:`erase_from_logs` removed (and, from the audit log, could not)."""

    query_rows: int = 0
    feedback_rows: int = 0
    drafts: int = 0
    handoffs: int = 0
    """Hand-offs written from a search alone that quote the document."""
    audit_mentions: int = 0
    """Audit events whose masked query quotes the document: kept (the log is append-only)."""


class _Matcher:
    """Decides which log rows go: by id, or by a distinctive quote (checked against the store)."""

    def __init__(self, ids: Collection[str], finder: QuoteFinder) -> None:
        self.ids = set(ids)
        self.finder = finder
        self.pending: dict[tuple[str, object], set[str]] = {}

    def consider(
        self,
        key: tuple[str, object],
        texts: Sequence[str],
        ids: Iterable[str],
        min_chars: int = MIN_QUOTE,
    ) -> None:
        if self.ids.intersection(ids):
            self.pending[key] = set()  # goes whatever its text
            return
        quotes = set().union(*(self.finder.quotes(t) for t in texts)) if texts else set()
        quotes = {q for q in quotes if len(q) >= min_chars}
        if quotes:
            self.pending[key] = quotes

    def decide(self, store: Store) -> set[tuple[str, object]]:
        """The keys to remove: named by id, or with a quote no stored document contains."""
        fragments = set().union(*self.pending.values()) if self.pending else set()
        common = fragments_in_store(store, fragments, compact)
        return {key for key, quotes in self.pending.items() if not quotes or quotes - common}


def erase_from_logs(
    store: Store,
    ids: Collection[str],
    texts: Iterable[str],
    *,
    query_log: QueryLogStore,
    feedback: FeedbackStore,
    candidates: FaqCandidateStore,
    handoffs: RecordStore | None = None,
    audit: AuditLog | None = None,
) -> Erased:
    """Remove the log rows that quote the erased documents or name their ids.

    Call it after the documents were deleted from ``store``: a quote is distinctive when no
    document left in it contains the quoted run.

    Args:
        store: The live store, the documents already deleted.
        ids: The erased documents' ids.
        texts: Their titles and bodies (masked, and raw when kept).
        query_log: ``querylog.sqlite``.
        feedback: ``feedback.sqlite``.
        candidates: ``trainer.sqlite``.
        handoffs: ``records.sqlite``, for its hand-offs written from a search alone.
        audit: The audit log, to count the events that quote them (never changed).

    Returns:
        How many rows went from each log.
    """
    finder = QuoteFinder(texts)
    matcher = _Matcher(ids, finder)
    for q in query_log.records():
        matcher.consider(("query", q.id), [q.query], q.result_ids)
    for f in feedback.recent(_ALL):
        matcher.consider(("feedback", f.id), [f.query], [*f.shown, f.helped_id])
    for c in candidates.all():
        named = c.source_cases if c.status == "draft" else ()
        matcher.consider(("draft", c.id), [c.question, c.answer], named)
    for handoff_id, texts in handoffs.search_handoff_texts() if handoffs is not None else ():
        matcher.consider(("handoff", handoff_id), list(texts), (), MIN_HANDOFF_QUOTE)
    doomed = matcher.decide(store)
    mentions = 0
    if audit is not None and finder.texts:
        mentions = _audit_mentions(store, finder, audit)
    return Erased(
        query_rows=query_log.delete_rows([k for kind, k in doomed if kind == "query"]),
        feedback_rows=feedback.delete_rows([k for kind, k in doomed if kind == "feedback"]),
        drafts=candidates.delete_rows([k for kind, k in doomed if kind == "draft"]),
        handoffs=handoffs.remove_handoffs([str(k) for kind, k in doomed if kind == "handoff"])
        if handoffs is not None
        else 0,
        audit_mentions=mentions,
    )


def _audit_mentions(store: Store, finder: QuoteFinder, audit: AuditLog) -> int:
    """How many audit events' queries quote an erased text distinctively."""
    matcher = _Matcher((), finder)
    for event in audit.events():
        if event.query:
            matcher.consider(("audit", event.id), [event.query], ())
    return len(matcher.decide(store))


__all__ = ["MIN_QUOTE", "Erased", "QuoteFinder", "compact", "erase_from_logs"]
