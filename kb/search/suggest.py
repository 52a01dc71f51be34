"""Type-ahead suggestions over the questions of published FAQ entries (the public widget).

Suggest runs on every pause in the citizen's typing, so it never embeds: it is built once per
index from the snapshot store and answers from memory with

* character bigrams of the normalized question (an inverted index: candidates are the questions
  sharing a bigram with the query), which copes with partial words while typing, and
* MeCab lemmas, so 「ゴミ」 finds 「ごみ」 and 「引っ越した」 finds 「引っ越し」,
* character bigrams of the question's hiragana reading, so 「じゅうみ」, typed before it is
  converted, finds 「住民票の写し…」 (the typed text's reading is matched, so 「住民ひょう」
  does too),

plus a bonus for questions that start with or contain the typed text (or its reading). Only
published FAQ entries are ever loaded into it, so nothing else can come out of it; one past its
公開期限 is skipped from that day on (:mod:`kb.search.expiry`).
"""

from __future__ import annotations

import bisect
import threading
import weakref
from collections import defaultdict
from collections.abc import Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np

from kb.index.readings import reading_segments
from kb.search import expiry
from kb.text.normalize import normalize
from kb.types import DocId

if TYPE_CHECKING:
    import numpy.typing as npt

    from kb.search.searcher import Searcher
    from kb.store import Store
    from kb.text.mecab import MeCabTokenizer


SHORT = 3
"""Typed text this short is suggested only questions that hold it (its characters, its
reading or its lemmas), never ones that share part of it."""
SHORT_CHECKED = 256
"""Most questions whose reading is checked for a short text's whole reading."""


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
    reading: str
    """The question's hiragana reading, punctuation and spaces removed."""
    lemmas: frozenset[str]


def _compact(text: str) -> str:
    return "".join(normalize(text).split())


class _Terms:
    """The entries holding each term of one kind (bigram, reading bigram or lemma).

    A term held by at least 1/16 of the entries is kept as one byte per entry (no more memory
    than its list of 8-byte positions) and counted with one vector addition; a rarer one as the
    list of its entries, counted by adding one at each. At 225k questions a common bigram such
    as 「ます」 is in 150k of them: scattering its list took 0.3 ms, the addition 0.01 ms.
    """

    def __init__(self, postings: dict[str, list[int]], n: int) -> None:
        self._n = n
        dense = max(1, n // 16)
        self._lists: dict[str, npt.NDArray[np.int64]] = {}
        self._marks: dict[str, npt.NDArray[np.uint8]] = {}
        for term, ids in postings.items():
            if len(ids) >= dense:
                mark = np.zeros(n, dtype=np.uint8)
                mark[ids] = 1
                self._marks[term] = mark
            else:
                self._lists[term] = np.asarray(ids, dtype=np.int64)

    def count(self, terms: set[str]) -> npt.NDArray[np.unsignedinteger] | None:
        """How many of ``terms`` each entry holds (``[n]``); ``None`` if none is indexed."""
        found = False
        dtype = np.uint8 if len(terms) < 256 else np.uint16
        counts: npt.NDArray[np.unsignedinteger] = np.zeros(self._n, dtype=dtype)
        for term in terms:
            mark = self._marks.get(term)
            if mark is not None:
                np.add(counts, mark, out=counts)
                found = True
                continue
            ids = self._lists.get(term)
            if ids is not None:
                counts[ids] = counts[ids] + 1  # a list holds each entry once
                found = True
        return counts if found else None


def _share(
    hits: npt.NDArray[np.unsignedinteger] | None, at: npt.NDArray[np.int64], of: int
) -> np.ndarray:
    """``hits / of`` at the entries ``at`` (float64; 0 without hits)."""
    return hits[at] / of if hits is not None else np.zeros(at.size)


def _reading(text: str, tokenizer: MeCabTokenizer) -> str:
    return "".join(reading_segments(tokenizer.readings(normalize(text))))


def _grams(text: str) -> set[str]:
    if len(text) < 2:
        return {text} if text else set()
    return {text[i : i + 2] for i in range(len(text) - 1)}


class Suggester:
    """In-memory suggestion index over published FAQ questions.

    Args:
        entries: ``(local id, question, department)`` of published FAQ entries only.
        tokenizer: The MeCab tokenizer shared with the searcher.
        expires: Local id → 公開期限 (ISO) of the entries that have one.
    """

    def __init__(
        self,
        entries: list[tuple[str, str, str]],
        tokenizer: MeCabTokenizer,
        *,
        expires: Mapping[str, str] | None = None,
    ) -> None:
        self.tokenizer = tokenizer
        self._expires_by_id = {k: v for k, v in (expires or {}).items() if v}
        self._entries: list[_Entry] = []
        by_gram: dict[str, list[int]] = defaultdict(list)
        by_char: dict[str, list[int]] = defaultdict(list)
        by_lemma: dict[str, list[int]] = defaultdict(list)
        by_reading: dict[str, list[int]] = defaultdict(list)
        for local_id, question, department in entries:
            key = _compact(question)
            # One MeCab pass gives both: a morpheme's term is its lemma in the lexical index.
            morphemes = tokenizer.readings(normalize(question))
            lemmas = frozenset(r.term for r in morphemes if r.term)
            reading = "".join(reading_segments(morphemes))
            idx = len(self._entries)
            self._entries.append(_Entry(local_id, question, department, key, reading, lemmas))
            for gram in _grams(key):
                if len(gram) == 2:
                    by_gram[gram].append(idx)
            for gram in _grams(reading):
                if len(gram) == 2:
                    by_reading[gram].append(idx)
            for ch in set(key):
                by_char[ch].append(idx)
            for lemma in lemmas:
                by_lemma[lemma].append(idx)
        # Posting lists as arrays or byte vectors: a query counts its hits in vector
        # operations instead of a Python loop over postings.
        n = len(self._entries)
        self._by_gram = _Terms(by_gram, n)
        self._by_lemma = _Terms(by_lemma, n)
        self._by_reading = _Terms(by_reading, n)
        self._key_len = np.array([len(e.key) for e in self._entries], dtype=np.int64)
        # A single typed character: every question holding it scores alike (2 if it starts
        # with it, else 1.5), so each character's list is kept in answer order (starts with it
        # first, then shorter questions, then the order of the entries) and its answer is the
        # head of the list. At 225k questions the one-character prefixes of the most common
        # characters scored 100k questions each (70-90 ms).
        first = np.array([e.key[:1] for e in self._entries], dtype="<U1")
        self._by_char: dict[str, npt.NDArray[np.int64]] = {}
        for ch, listed in by_char.items():
            ids = np.asarray(listed, dtype=np.int64)
            order = np.lexsort((ids, self._key_len[ids], first[ids] != ch))
            self._by_char[ch] = ids[order]
        self._keys = [e.key for e in self._entries]
        self._readings = [e.reading for e in self._entries]
        self._by_key = _SortedTexts(self._keys)
        self._by_reading_text = _SortedTexts(self._readings)
        self.published_ids: frozenset[str] = frozenset(e.id for e in self._entries)
        """Local ids of the published FAQ entries: the only ids the public API may return
        (those past their 公開期限 too: :meth:`is_public` says whether one is shown today)."""
        self._expiry = expiry.ExpiryFilter(
            np.array([self._expires_by_id.get(e.id, "") for e in self._entries], dtype=object)
        )

    @classmethod
    def from_store(cls, store: Store, tokenizer: MeCabTokenizer) -> Suggester:
        """Build from the published FAQ entries of a (snapshot) store."""
        docs = store.get_documents(store.document_ids("faq"))
        published = [
            doc
            for doc in sorted(docs.values(), key=lambda d: d.doc_id)
            if doc.kind == "faq" and doc.published
        ]
        entries = [
            (DocId.local_of(doc.doc_id), doc.title, doc.departments[0] if doc.departments else "")
            for doc in published
        ]
        expires = {DocId.local_of(doc.doc_id): doc.expires for doc in published if doc.expires}
        return cls(entries, tokenizer, expires=expires)

    def is_public(self, local_id: str) -> bool:
        """Whether the FAQ ``local_id`` is published and not past its 公開期限 today."""
        return local_id in self.published_ids and not expiry.is_expired(
            self._expires_by_id.get(local_id, "")
        )

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
        if len(key) == 1:
            return self._one_character(key, limit)
        grams = _grams(key)
        n = len(self._entries)
        gram_hits = self._by_gram.count(grams)
        lemmas = set(self.tokenizer.lemmas(normalize(text)))
        lemma_hits = self._by_lemma.count(lemmas)
        # The typed text's reading against the questions' readings: kana typed before
        # conversion, or half converted, meets the kanji of the question.
        reading = _reading(text[:100], self.tokenizer)
        reading_grams = {g for g in _grams(reading) if len(g) == 2}
        reading_hits = self._by_reading.count(reading_grams)
        # Candidates: half of the bigrams (of the text or of its reading), or a lemma. Counted
        # in bytes over every question; the shares below only for the candidates (at 225k
        # questions each pass of float arithmetic over all of them cost 0.2-0.5 ms).
        wanted = np.zeros(n, dtype=bool)
        for hits, total in ((gram_hits, len(grams)), (reading_hits, len(reading_grams))):
            if hits is not None:
                # coverage >= 0.5 exactly: hits >= ceil(total / 2)
                np.logical_or(wanted, hits >= (total + 1) // 2, out=wanted)
        if lemma_hits is not None:
            np.logical_or(wanted, lemma_hits > 0, out=wanted)
        candidates = self._expiry.drop(np.flatnonzero(wanted))
        if candidates.size == 0:
            return []
        coverage = key_cover = _share(gram_hits, candidates, len(grams))
        # A question holds the typed text only if it holds all of its bigrams; with a single
        # bigram, holding it is holding the text (and the same for the reading).
        key_whole = coverage >= 1.0
        reading_whole = np.zeros(candidates.size, dtype=bool)
        if reading_grams:
            reading_cover = _share(reading_hits, candidates, len(reading_grams))
            coverage = np.maximum(coverage, reading_cover)
            reading_whole = reading_cover >= 1.0
        look = np.flatnonzero(reading_whole) if len(key) <= SHORT and len(reading) > 2 else None
        if look is not None and 0 < look.size <= SHORT_CHECKED:
            # Short text: its reading's bigrams all found apart (うん|てん|めん|きょ has てん
            # and んき) is not its reading (てんき). Checked where few questions have them all
            # (a common reading is held by some of them anyway).
            readings = self._readings
            found = [reading in readings[i] for i in candidates[look].tolist()]
            reading_whole[look[~np.asarray(found, dtype=bool)]] = False
        lemma_cover = (
            _share(lemma_hits, candidates, len(lemmas)) if lemmas else np.zeros(candidates.size)
        )
        base = coverage + 0.8 * lemma_cover
        # Bonus: 1 for a question that starts with the typed text (or its reading), found for
        # all candidates at once in the sorted questions; 0.5 for one that contains it, which
        # only a question holding all of its bigrams can, so only those are looked at.
        prefix = self._by_key.starting_with(key, candidates)
        if reading:
            prefix |= self._by_reading_text.starting_with(reading, candidates)
        # Questions that hold what was typed (its bigrams or its reading's, or every lemma):
        # when there are any, the others are noise beside them (ほいく: 原付バイク and
        # 介護保険料はいくら share only いく).
        # One word typed only: 「児童手当 申請」 must still show the 児童手当 questions that do
        # not say 申請.
        holds = prefix | key_whole | reading_whole | (lemma_cover >= 1.0)
        if len(key) <= SHORT and not holds.any():
            # Two or three characters that no question holds: a question that shares only a
            # bigram of their reading is chance (天気 → 運転免許, ハンコ → 申告 by んこ); one
            # that shares their own characters or a lemma is typed towards (年金払 → 年金…払う).
            own = (key_cover >= 0.5) | (lemma_cover > 0)
            candidates, base, prefix = candidates[own], base[own], prefix[own]
            key_whole, reading_whole = key_whole[own], reading_whole[own]
            if candidates.size == 0:
                return []
        if len(text.split()) == 1 and holds.any() and not holds.all():
            candidates, base, prefix = candidates[holds], base[holds], prefix[holds]
            key_whole, reading_whole = key_whole[holds], reading_whole[holds]
        maybe = ~prefix & (key_whole | reading_whole)
        if candidates.size > limit:
            # Only questions whose best possible score reaches the limit-th best sure score
            # can still be among the top.
            sure = base + prefix
            floor = np.partition(sure, candidates.size - limit)[candidates.size - limit]
            keep = sure + 0.5 * maybe >= floor
            candidates, base, prefix, maybe, key_whole, reading_whole = (
                candidates[keep],
                base[keep],
                prefix[keep],
                maybe[keep],
                key_whole[keep],
                reading_whole[keep],
            )
        bonus = prefix.astype(np.float64)
        # Sure to contain it: all bigrams of a two-character text (or reading) are the text.
        contains = (key_whole & (len(key) == 2)) | (reading_whole & (len(reading) == 2))
        bonus[maybe & contains] = 0.5
        look = np.flatnonzero(maybe & ~contains)
        if look.size:
            keys, readings = self._keys, self._readings
            long_reading = reading if len(reading) >= 2 else None
            found = [
                key in keys[i] or (long_reading is not None and long_reading in readings[i])
                for i in candidates[look].tolist()
            ]
            bonus[look[np.asarray(found, dtype=bool)]] = 0.5
        score = base + bonus
        order = np.lexsort((candidates, self._key_len[candidates], -score))[:limit]
        scored = [(float(score[j]), int(candidates[j])) for j in order]
        return [
            Suggestion(
                id=self._entries[idx].id,
                question=self._entries[idx].question,
                department=self._entries[idx].department,
                score=round(score, 4),
            )
            for score, idx in scored
        ]

    def _one_character(self, ch: str, limit: int) -> list[Suggestion]:
        """The questions holding the single typed character ``ch``, from its ranked list."""
        ranked = self._by_char.get(ch)
        if ranked is None:
            return []
        # Of the first ``limit + expired`` at least ``limit`` are shown today (or all there are).
        head = self._expiry.drop(ranked[: limit + self._expiry.expired().size])[:limit]
        out = []
        for idx in head.tolist():
            entry = self._entries[idx]
            out.append(
                Suggestion(
                    id=entry.id,
                    question=entry.question,
                    department=entry.department,
                    score=2.0 if entry.key.startswith(ch) else 1.5,
                )
            )
        return out


class _SortedTexts:
    """Texts in sorted order, so that those starting with a prefix are one range of it."""

    def __init__(self, texts: list[str]) -> None:
        order = sorted(range(len(texts)), key=texts.__getitem__)
        self._sorted = [texts[i] for i in order]
        self._rank = np.empty(len(texts), dtype=np.int64)
        self._rank[order] = np.arange(len(texts), dtype=np.int64)

    def starting_with(self, prefix: str, ids: npt.NDArray[np.int64]) -> npt.NDArray[np.bool_]:
        """Which of the texts ``ids`` start with ``prefix``."""
        lo = bisect.bisect_left(self._sorted, prefix)
        hi = bisect.bisect_left(self._sorted, prefix + "\U0010ffff")
        rank = self._rank[ids]
        return (rank >= lo) & (rank < hi)


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
