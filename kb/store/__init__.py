"""SQLite adapter (sqlite-utils): the only package that imports sqlite_utils.

Each database is a file of its own in the data directory, with a module of its own:

* ``kb.sqlite`` (:mod:`kb.store.documents`, schema in :mod:`kb.store.schema`): documents,
  chunks, departments. Every ingest is one transaction; an index build snapshots it.
* ``embeddings.sqlite`` (:mod:`kb.store.embedding_cache`): document embeddings keyed by model
  and chunk content, so a rebuild only embeds what changed; beside them, the MeCab readings of
  chunk texts (:mod:`kb.store.readings_cache`), so a rebuild only reads what changed.
* ``feedback.sqlite`` (:mod:`kb.store.feedback`): the append-only feedback log.
* ``querylog.sqlite`` (:mod:`kb.store.querylog`): the append-only log of searches.
* ``trainer.sqlite`` (:mod:`kb.store.candidates`): draft FAQ entries awaiting approval.
* ``raw.sqlite`` (:mod:`kb.store.rawtext`): unmasked text, kept only on request.

Connection set-up (WAL, the lock timeout, :func:`while_locked`) is in :mod:`kb.store.sqlite`;
the records read and written are in :mod:`kb.store.types`.
"""

from __future__ import annotations

from kb.store.candidates import FaqCandidateStore
from kb.store.documents import Store
from kb.store.embedding_cache import EmbeddingCache
from kb.store.feedback import FeedbackStore
from kb.store.hashes import document_hash, text_hash
from kb.store.querylog import QueryLogStore
from kb.store.rawtext import RawTextStore
from kb.store.sqlite import LOCK_TIMEOUT_S, while_locked
from kb.store.types import ChunkRow, FaqCandidate, FeedbackRecord, QueryLogRecord, UpsertStats

__all__ = [
    "LOCK_TIMEOUT_S",
    "ChunkRow",
    "EmbeddingCache",
    "FaqCandidate",
    "FaqCandidateStore",
    "FeedbackRecord",
    "FeedbackStore",
    "QueryLogRecord",
    "QueryLogStore",
    "RawTextStore",
    "Store",
    "UpsertStats",
    "document_hash",
    "text_hash",
    "while_locked",
]
