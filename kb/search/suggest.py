"""Type-ahead suggestions over the questions of published FAQ entries (the public widget).

Suggest runs on every pause in the citizen's typing, so it never embeds: it is built once per
index from the snapshot store and answers from memory with

* character bigrams of the normalized question (an inverted index: candidates are the questions
  sharing a bigram with the query), which copes with partial words while typing, and
* MeCab lemmas, so 「ゴミ」 finds 「ごみ」 and 「引っ越した」 finds 「引っ越し」,

plus a bonus for questions that start with or contain the typed text. Only published FAQ
entries are ever loaded into it, so nothing else can come out of it.
"""

from __future__ import annotations

import threading
import weakref
from collections import defaultdict
from dataclasses import dataclass
from typing import TYPE_CHECKING

from kb.text.normalize import normalize

if TYPE_CHECKING:
    from kb.search.searcher import Searcher
    from kb.store import Store
    from kb.text.mecab import MeCabTokenizer


@dataclass(frozen=True)
class Suggestion:
    """One suggested FAQ question."""

    id: str
    """The FAQ's local id (``"F0001"``)."""
    question: str
    department: str
    score: float


@dataclass(frozen=True)
class _Entry:
    id: str
    question: str
    department: str
    key: str
    """Normalized question, whitespace removed: what typed text is matched against."""
    lemmas: frozenset[str]


def _compact(text: str) -> str:
    return "".join(normalize(text).split())


def _grams(text: str) -> set[str]:
    if len(text) < 2:
        return {text} if text else set()
    return {text[i : i + 2] for i in range(len(text) - 1)}


class Suggester:
    """In-memory suggestion index over published FAQ questions.

    Args:
        entries: ``(local id, question, department)`` of published FAQ entries only.
        tokenizer: The MeCab tokenizer shared with the searcher.
    """

    def __init__(self, entries: list[tuple[str, str, str]], tokenizer: MeCabTokenizer) -> None:
        self.tokenizer = tokenizer
        self._entries: list[_Entry] = []
        self._by_gram: dict[str, list[int]] = defaultdict(list)
        self._by_char: dict[str, list[int]] = defaultdict(list)
        self._by_lemma: dict[str, list[int]] = defaultdict(list)
        for local_id, question, department in entries:
            key = _compact(question)
            lemmas = frozenset(tokenizer.lemmas(normalize(question)))
            idx = len(self._entries)
            self._entries.append(_Entry(local_id, question, department, key, lemmas))
            for gram in _grams(key):
                if len(gram) == 2:
                    self._by_gram[gram].append(idx)
            for ch in set(key):
                self._by_char[ch].append(idx)
            for lemma in lemmas:
                self._by_lemma[lemma].append(idx)
        self.published_ids: frozenset[str] = frozenset(e.id for e in self._entries)
        """Local ids of the published FAQ entries: the only ids the public API may return."""

    @classmethod
    def from_store(cls, store: Store, tokenizer: MeCabTokenizer) -> Suggester:
        """Build from the published FAQ entries of a (snapshot) store."""
        docs = store.get_documents(store.document_ids("faq"))
        entries = [
            (
                doc.doc_id.partition(":")[2] or doc.doc_id,
                doc.title,
                doc.departments[0] if doc.departments else "",
            )
            for doc in sorted(docs.values(), key=lambda d: d.doc_id)
            if doc.kind == "faq" and doc.published
        ]
        return cls(entries, tokenizer)

    def __len__(self) -> int:
        return len(self._entries)

    def suggest(self, text: str, limit: int = 8) -> list[Suggestion]:
        """Questions matching what has been typed so far, best first.

        Args:
            text: The partial query.
            limit: At most this many suggestions.
        """
        key = _compact(text)[:100]
        if not key:
            return []
        grams = _grams(key)
        index = self._by_gram if len(key) >= 2 else self._by_char
        gram_hits: dict[int, int] = defaultdict(int)
        for gram in grams:
            for idx in index.get(gram, ()):
                gram_hits[idx] += 1
        lemma_hits: dict[int, int] = defaultdict(int)
        lemmas = set(self.tokenizer.lemmas(normalize(text))) if len(key) >= 2 else set()
        for lemma in lemmas:
            for idx in self._by_lemma.get(lemma, ()):
                lemma_hits[idx] += 1
        scored: list[tuple[float, int, int]] = []
        for idx in gram_hits.keys() | lemma_hits.keys():
            entry = self._entries[idx]
            coverage = gram_hits.get(idx, 0) / len(grams)
            lemma_cover = lemma_hits.get(idx, 0) / len(lemmas) if lemmas else 0.0
            if coverage < 0.5 and lemma_cover == 0.0:
                continue
            score = coverage + 0.8 * lemma_cover
            if entry.key.startswith(key):
                score += 1.0
            elif key in entry.key:
                score += 0.5
            scored.append((score, len(entry.key), idx))
        scored.sort(key=lambda t: (-t[0], t[1], t[2]))
        return [
            Suggestion(
                id=self._entries[idx].id,
                question=self._entries[idx].question,
                department=self._entries[idx].department,
                score=round(score, 4),
            )
            for score, _, idx in scored[:limit]
        ]


_cache: weakref.WeakKeyDictionary[Searcher, Suggester] = weakref.WeakKeyDictionary()
_cache_lock = threading.Lock()


def suggester_for(searcher: Searcher) -> Suggester:
    """The suggester of ``searcher``'s index, built on first use and kept with the searcher.

    A hot-switched index gets a new searcher and so a fresh suggester; the old one goes with
    the old searcher.
    """
    found = _cache.get(searcher)
    if found is not None:
        return found
    with _cache_lock:
        found = _cache.get(searcher)
        if found is None:
            found = Suggester.from_store(searcher.store, searcher.tokenizer)
            _cache[searcher] = found
        return found
