"""The long-lived search service: one embedder, the serving index, hot switch to new builds.

The service watches the ``CURRENT`` pointer of the index root; when a build replaces it, the
next query opens the new index (the embedder is kept), and queries in flight finish on the old
one. A broken new build is refused and the old searcher keeps serving.
"""

from __future__ import annotations

import gc
import logging
import threading
import time
from pathlib import Path

from kb.embed.embedder import Embedder, embedder_from_settings, wait_until_warm
from kb.errors import IndexError_, KBError
from kb.index.folder import IndexRoot
from kb.search.config import SearchConfig
from kb.search.feedback import DepartmentFeedback
from kb.search.judge import judge_embedder
from kb.search.query_cache import AnswerCache, QueryVectors
from kb.search.searcher import Searcher
from kb.settings import Settings, default_synonym_dictionary
from kb.store import FeedbackStore
from kb.text.mecab import MeCabTokenizer
from kb.text.synonym_dictionary import Scope
from kb.text.synonyms import SynonymTable, base_dictionary, ensure_synonyms_file, load_synonyms

log = logging.getLogger(__name__)

RETIRED_GRACE_SECONDS = 60.0
"""How long a replaced build stays open for the requests that were reading it."""
WARM_UP_QUERIES = ("住民票の写しを取りたい", "How do I get a copy of my residence certificate?")
"""What :meth:`SearchService.warm_up` searches for before the service is ready."""


def settle_heap() -> None:
    """Collect once, then move every object alive into the garbage collector's permanent
    generation (:func:`gc.freeze`), once the service is loaded.

    The loaded index is hundreds of thousands of long-lived objects (chunk metadata, the
    suggester, the vocabulary); a full collection walks them all: 22 ms on the demo corpus,
    73 ms at 100k chunks, taken inside whichever request happened to trigger it (the first
    one after start, then now and then). Frozen objects are never walked; they are still freed
    by reference counting (a replaced index has no reference cycles). A new index is frozen
    when it replaces the old one (:meth:`SearchService.searcher`).
    """
    gc.collect()
    gc.freeze()


class SearchService:
    """Owns the embedder and the current :class:`Searcher`."""

    def __init__(
        self,
        index_root: Path,
        embedder: Embedder,
        config: SearchConfig | None = None,
        tokenizer: MeCabTokenizer | None = None,
        synonyms_path: Path | None = None,
        feedback_store: FeedbackStore | None = None,
        synonym_dictionary: Path | None = default_synonym_dictionary(),  # noqa: B008 - a path
        synonym_scope: Scope = "group",
        query_cache_size: int = 1024,
    ) -> None:
        self.index_root = index_root
        self._root = IndexRoot(index_root)
        self.feedback_store = feedback_store
        self.department_feedback = DepartmentFeedback()
        """「正しい担当課は…」 feedback as a kNN vote, shared by every searcher of the service."""
        self._feedback_seen = 0
        self._feedback_lock = threading.Lock()
        self.synonyms_path = synonyms_path
        """The city's synonym file, layered on ``synonym_dictionary`` (SudachiDict's)."""
        self.synonym_dictionary = synonym_dictionary
        self.synonym_scope: Scope = synonym_scope
        self._synonyms_stamp: float | None = None
        self._synonyms = SynonymTable()
        self.embedder = embedder
        self.config = config or SearchConfig()
        self.tokenizer = tokenizer or MeCabTokenizer()
        self._lock = threading.Lock()
        self._searcher: Searcher | None = None
        self._retired: list[tuple[float, Searcher]] = []
        """Searchers of replaced builds, with when they were replaced (:meth:`_close_retired`)."""
        self._pointer_stamp: tuple[float, int] | None = None
        self.query_cache_size = query_cache_size
        self.query_vectors = QueryVectors(embedder, query_cache_size)
        """Recent query vectors, kept across index switches while the model stays."""
        self._judge: Embedder | None = None
        self.settings: Settings | None = None
        """Set by :meth:`from_settings`: lets the service follow an index built with the
        adapted model (or back with the base model) by loading that model."""

    @classmethod
    def from_settings(cls, settings: Settings, config: SearchConfig | None = None) -> SearchService:
        embedder = embedder_from_settings(
            settings,
            threads=settings.query_threads,
            solo_threads=settings.solo_query_threads,
        )
        cfg = config or SearchConfig.from_settings(settings)
        synonyms = ensure_synonyms_file(settings.synonyms_path)
        service = cls(
            settings.index_root,
            embedder,
            cfg,
            synonyms_path=synonyms,
            feedback_store=FeedbackStore(settings.feedback_path),
            synonym_dictionary=settings.synonym_dictionary,
            synonym_scope=settings.synonym_scope,
            query_cache_size=settings.query_cache_size,
        )
        service.settings = settings
        return service

    def _embedder_for(self, folder: Path) -> Embedder:
        """The embedder of the model ``folder`` was built with, if it is the base model or the
        adapted model in use; otherwise the current one (the searcher then refuses the index
        and the previous one keeps serving)."""
        settings = self.settings
        if settings is None:
            return self.embedder
        from kb.embed.adapt import effective_model
        from kb.index.folder import IndexFolder

        model = IndexFolder(folder).manifest().model
        if model == self.embedder.model_id or model not in (
            effective_model(settings),
            settings.model,
        ):
            return self.embedder
        log.info("the new index was built with %s: loading that model", model)
        return embedder_from_settings(
            settings.model_copy(update={"model": model, "adapt": False}),
            threads=settings.query_threads,
            solo_threads=settings.solo_query_threads,
        )

    def _judge_for(self, embedder: Embedder) -> Embedder | None:
        """The base model, when ``embedder`` is a model adapted from it: it judges "no answer"
        (:mod:`kb.search.judge`); loaded once, kept while adapted models serve."""
        from kb.embed.adapt import ADAPTED_PREFIX

        settings = self.settings
        if settings is None or not embedder.model_id.startswith(ADAPTED_PREFIX):
            return None
        if self._judge is None:
            log.info("an adapted model serves: %s judges no-answer", settings.model)
            self._judge = judge_embedder(settings)
        return self._judge

    def _embedding_cache(self) -> Path | None:
        return self.settings.data_dir / "embeddings.sqlite" if self.settings else None

    def sync_feedback(self) -> int:
        """Add 「正しい担当課は…」 records stored since the last call to the department vote.

        Cheap when nothing is new (one ``max(id)`` query); each new record embeds its query
        once, and every record is looked at once: the widget's anonymous feedback, which holds
        no department, moves the mark past itself, so a flood of it is never read again (it
        was, on every request, until a staff member's next correction). Returns how many were
        added.
        """
        store = self.feedback_store
        if store is None:
            return 0
        latest = store.max_id()
        if latest <= self._feedback_seen:
            return 0
        with self._feedback_lock:
            if latest <= self._feedback_seen:
                return 0  # another request read them meanwhile
            fresh = store.department_labels(self._feedback_seen, latest)
            items = [(i, q, d) for i, q, d, _ in fresh]
            who = {i: actor for i, _, _, actor in fresh if actor}
            added = self.department_feedback.add(self.embedder, items, who) if items else 0
            self._feedback_seen = latest
            return added

    def synonyms(self) -> SynonymTable:
        """The synonym dictionary with the city's file on top, re-read when staff edit it.

        The dictionary is read once per process (:func:`~kb.text.synonyms.base_dictionary`;
        missing, a warning names the set-up command and the city's file works alone).
        """
        path = self.synonyms_path
        try:
            stamp = path.stat().st_mtime if path is not None else 0.0
        except OSError:
            if self._synonyms_stamp is not None:
                return self._synonyms  # mid-save, or removed: keep what was loaded
            path, stamp = None, -1.0
        if stamp != self._synonyms_stamp:
            base = base_dictionary(self.synonym_dictionary, self.tokenizer)
            try:
                self._synonyms = load_synonyms(path, self.tokenizer, base, self.synonym_scope)
            except KBError:
                # A typo in the file must not take search down: keep the last good table.
                log.exception(
                    "synonym dictionary %s is invalid; keeping the previous one", self.synonyms_path
                )
                if self._synonyms_stamp is None:  # none yet: the base dictionary alone
                    self._synonyms = load_synonyms(None, self.tokenizer, base, self.synonym_scope)
            self._synonyms_stamp = stamp
        return self._synonyms

    def searcher(self) -> Searcher:
        """The searcher of the serving index, reopened if a new build took over."""
        try:
            self.sync_feedback()
        except Exception:  # feedback must never take search down
            log.exception("could not read new department feedback")
        stamp = self._root.stamp()
        current = self._searcher
        if self._retired:
            with self._lock:
                self._close_retired()
        if current is not None and stamp == self._pointer_stamp:
            current.synonyms = self.synonyms()
            return current
        with self._lock:
            if self._searcher is not None and stamp == self._pointer_stamp:
                return self._searcher
            try:
                folder = self._root.current().path
                if self._searcher is not None and folder == self._searcher.folder:
                    self._pointer_stamp = stamp
                    return self._searcher
                embedder = self._embedder_for(folder)
                fresh = Searcher(
                    folder,
                    embedder,
                    self.tokenizer,
                    self.config,
                    self.synonyms(),
                    judge=self._judge_for(embedder),
                    embedding_cache=self._embedding_cache(),
                )
            except KBError:
                if self._searcher is None:
                    raise
                log.exception("new index could not be opened; still serving the previous one")
                self._pointer_stamp = stamp
                return self._searcher
            if embedder is not self.embedder:
                # The feedback vote holds query vectors of the previous model: embed anew.
                self.embedder = embedder
                self.department_feedback = DepartmentFeedback()
                self._feedback_seen = 0
            fresh.department_feedback = self.department_feedback
            self.query_vectors = self.query_vectors.for_embedder(self.embedder)
            fresh.query_vectors = self.query_vectors
            fresh.answers = AnswerCache(self.query_cache_size)
            if gc.get_freeze_count():
                gc.freeze()  # the server settled its heap after loading: the new index too
            if self._searcher is not None:
                self._retired.append((time.monotonic(), self._searcher))
            self._searcher = fresh
            self._pointer_stamp = stamp
            self._close_retired()
            return fresh

    def _close_retired(self, *, grace: float = RETIRED_GRACE_SECONDS) -> int:
        """Close the searchers of builds replaced ``grace`` seconds ago or more (under the lock).

        A replaced build's files stay open while a request may still be reading them; after
        that its snapshot (every thread's connection to it) is closed, so that a build removed
        by a deletion is gone from the disk and from the process, not held until a restart.
        """
        now = time.monotonic()
        due = [s for at, s in self._retired if now - at >= grace]
        self._retired = [(at, s) for at, s in self._retired if now - at < grace]
        for searcher in due:
            try:
                searcher.close()
            except Exception:  # closing must never take search down
                log.exception("could not close the replaced index %s", searcher.folder)
        return len(due)

    def warm_up(self) -> None:
        """Open the index and run queries so the first real query is as fast as the rest.

        One query in Japanese and one in English: with int8 queries (the ONNX default), text
        that is not Japanese runs on the float32 graph, whose session would otherwise open
        inside the first foreign resident's search (1.36 s at 100k chunks, measured).

        The public suggester is built here too: it analyses every published question (about 5 s
        for 20k questions on 2 cores), which the first citizen typing would otherwise wait for.
        """
        from kb.search.suggest import suggester_for

        searcher = self.searcher()
        for query in WARM_UP_QUERIES:
            try:
                searcher.search(query, k=3)
            except IndexError_:
                raise
            except KBError:
                log.warning("warm-up query %r failed", query, exc_info=True)
        suggester_for(searcher)
        # The all-core session for lone queries opens in the background meanwhile.
        wait_until_warm(self.embedder)
