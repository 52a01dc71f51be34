"""Queries seen recently, so that one asked again is neither embedded nor searched again.

Two bounded LRU caches, in memory and per process, never written anywhere (queries are personal
data: a resident's words at the desk):

* :class:`QueryVectors`, held by the search service across index switches: the query vector of
  each recently embedded text, keyed on the model (its id and the query graph in use) and the
  normalized query text that was embedded, so the same vector comes back bit for bit. A new
  model gets a new, empty cache (:meth:`QueryVectors.for_embedder`). A question picked from the
  suggestions is the same text each time it is picked: embedded by its first search only.
* :class:`AnswerCache`, one per searcher (so per index build): the whole answer of a recent
  search, keyed on everything the answer depends on (query, depth, filters, mode, limit, the
  search configuration, the day, which decides 公開期限) and valid only while the synonym table
  and the department feedback it was computed with are unchanged.

``KB_QUERY_CACHE_SIZE`` bounds each (entries); 0 turns both off.
"""

from __future__ import annotations

import threading
from collections import OrderedDict
from collections.abc import Callable, Hashable
from dataclasses import dataclass
from typing import Generic, TypeVar

import numpy as np

from kb.embed.embedder import Embedder

V = TypeVar("V")


class LRU(Generic[V]):
    """A bounded, thread-safe least-recently-used map (``size`` 0: stores nothing)."""

    def __init__(self, size: int) -> None:
        if size < 0:
            raise ValueError(f"cache size must be 0 or more, not {size}")
        self.size = size
        self._items: OrderedDict[Hashable, V] = OrderedDict()
        self._lock = threading.Lock()
        self.hits = 0
        self.misses = 0

    def get(self, key: Hashable) -> V | None:
        with self._lock:
            value = self._items.get(key)
            if value is None:
                self.misses += 1
                return None
            self._items.move_to_end(key)
            self.hits += 1
            return value

    def put(self, key: Hashable, value: V) -> None:
        if not self.size:
            return
        with self._lock:
            self._items[key] = value
            self._items.move_to_end(key)
            while len(self._items) > self.size:
                self._items.popitem(last=False)

    def clear(self) -> None:
        with self._lock:
            self._items.clear()

    def __len__(self) -> int:
        return len(self._items)


def model_key(embedder: Embedder) -> str:
    """What decides a query's vector: the model id, and the graph queries run on (the ONNX
    backend's int8 query graph gives other vectors than the float32 one)."""
    return f"{embedder.model_id}|{getattr(embedder, 'backend', '')}"


class QueryVectors:
    """Query vectors of recent queries (a bounded LRU), for one model.

    Args:
        embedder: The query embedder; the cache answers for this model only.
        size: How many recent queries to keep (0: none).
    """

    def __init__(self, embedder: Embedder, size: int) -> None:
        self.embedder = embedder
        self.model = model_key(embedder)
        self._recent: LRU[np.ndarray] = LRU(size)
        self.embedded = 0
        """Texts embedded through this cache (the misses)."""

    def for_embedder(self, embedder: Embedder) -> QueryVectors:
        """This cache if ``embedder`` is its model, else a new, empty one (the old model's
        vectors would be wrong for the new one, and are dropped with it)."""
        if embedder is self.embedder or model_key(embedder) == self.model:
            return self
        return QueryVectors(embedder, self._recent.size)

    def encode(self, text: str, *, public: bool = False) -> np.ndarray:
        """The query vector of ``text`` (an analysed, normalized query), embedded only if it
        was not seen recently by the same audience.

        ``public``: a search of the public API. Public and staff searches never share an
        entry: a public search that answered faster for a text a counsellor searched would
        tell anyone that the text was asked at the desk.
        """
        key = (self.model, public, text)
        found = self._recent.get(key)
        if found is not None:
            return found
        vector: np.ndarray = self.embedder.encode_queries([text])[0]
        vector.setflags(write=False)  # shared by every search that asks again
        self.embedded += 1
        self._recent.put(key, vector)
        return vector

    @property
    def hits(self) -> int:
        return self._recent.hits

    def __len__(self) -> int:
        return len(self._recent)

    def clear(self) -> None:
        """Forget the recent queries."""
        self._recent.clear()


@dataclass(frozen=True)
class _Answer(Generic[V]):
    synonyms: object
    feedback: object
    feedback_size: int
    value: V


class AnswerCache(Generic[V]):
    """Recent answers of one searcher, valid while its synonyms and feedback are unchanged.

    Args:
        size: How many answers to keep (0: none).
    """

    def __init__(self, size: int) -> None:
        self._lru: LRU[_Answer[V]] = LRU(size)
        self.hits = 0

    def answer(
        self,
        key: Hashable,
        synonyms: object,
        feedback: object,
        feedback_size: int,
        compute: Callable[[], V],
    ) -> tuple[V, bool]:
        """The cached answer for ``key``, or ``compute()``'s (then kept); and whether it was
        cached. ``synonyms`` and ``feedback`` are compared by identity, ``feedback_size`` by
        value: a reloaded synonym file or new department feedback computes anew."""
        found = self._lru.get(key)
        if (
            found is not None
            and found.synonyms is synonyms
            and found.feedback is feedback
            and found.feedback_size == feedback_size
        ):
            self.hits += 1
            return found.value, True
        value = compute()
        self._lru.put(key, _Answer(synonyms, feedback, feedback_size, value))
        return value, False

    def __len__(self) -> int:
        return len(self._lru)

    def clear(self) -> None:
        self._lru.clear()


__all__ = ["LRU", "AnswerCache", "QueryVectors", "model_key"]
