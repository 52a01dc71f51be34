"""The trainer tools over one data directory: what ``kb trainer`` and ``/trainer`` call.

Topics are computed once per index build and department and kept until a new build serves
(approving a candidate makes one). The query log, feedback log and candidate store are the
files the service and the API write (``querylog.sqlite``, ``feedback.sqlite``,
``trainer.sqlite``).
"""

from __future__ import annotations

import threading
from collections.abc import Callable

from kb.embed.embedder import Embedder
from kb.errors import TrainerError
from kb.index.folder import current_index
from kb.index.lock import LockHolder, writer_lock
from kb.settings import Settings
from kb.store import EmbeddingCache, FaqCandidate, FaqCandidateStore, FeedbackStore, QueryLogStore
from kb.store import Store as KBStore
from kb.text.mecab import MeCabTokenizer
from kb.trainer.candidates import Approval, approve_candidate, draft_candidate, edit_candidate
from kb.trainer.corpus import TrainerCorpus, load_corpus
from kb.trainer.gaps import GapReport, gap_report, low_score_line
from kb.trainer.manual import ManualDraft, build_manual, resolve_department
from kb.trainer.topics import Topic, TopicSet, compute_topics

ALL_FEEDBACK = 1_000_000


class Trainer:
    """Topics, gaps, manual drafts and FAQ candidates of one data directory.

    Args:
        settings: Where the data lives and the low-score line.
        tokenizer: Shared MeCab tokenizer.
    """

    def __init__(self, settings: Settings, tokenizer: MeCabTokenizer | None = None) -> None:
        self.settings = settings
        self.tokenizer = tokenizer or MeCabTokenizer()
        self._lock = threading.Lock()
        self._corpus: TrainerCorpus | None = None
        self._topics: dict[str, TopicSet] = {}
        self._stores: dict[str, object] = {}
        self._approve_lock = threading.Lock()

    # --- stores, opened on first use ----------------------------------------------------

    def query_log(self) -> QueryLogStore:
        with self._lock:
            store = self._stores.get("querylog")
            if store is None:
                store = self._stores["querylog"] = QueryLogStore(self.settings.query_log_path)
        assert isinstance(store, QueryLogStore)
        return store

    def feedback(self) -> FeedbackStore:
        with self._lock:
            store = self._stores.get("feedback")
            if store is None:
                store = self._stores["feedback"] = FeedbackStore(self.settings.feedback_path)
        assert isinstance(store, FeedbackStore)
        return store

    def candidates(self) -> FaqCandidateStore:
        with self._lock:
            store = self._stores.get("candidates")
            if store is None:
                store = self._stores["candidates"] = FaqCandidateStore(self.settings.trainer_path)
        assert isinstance(store, FaqCandidateStore)
        return store

    def close(self) -> None:
        with self._lock:
            for store in self._stores.values():
                store.close()  # type: ignore[attr-defined]
            self._stores.clear()

    # --- analyses -----------------------------------------------------------------------

    def corpus(self) -> TrainerCorpus:
        """Cases and FAQ of the serving index (reloaded when another build serves)."""
        folder = current_index(self.settings.index_root)
        with self._lock:
            if self._corpus is None or self._corpus.folder != folder:
                self._corpus = load_corpus(folder)
                self._topics = {}
            return self._corpus

    @property
    def low_score(self) -> float:
        """The low-score line of logged queries."""
        return low_score_line(self.corpus().model, self.settings.trainer_low_score)

    @property
    def topic_low_score(self) -> float:
        """The low-score line of topic coverage (and related FAQ in manual drafts)."""
        return low_score_line(
            self.corpus().model, self.settings.trainer_topic_low_score, topics=True
        )

    def department(self, name: str) -> str:
        """The directory name of ``name`` (alias allowed); ``""`` stays ``""`` (overall)."""
        return resolve_department(self.corpus(), name) if name else ""

    def topics(self, department: str = "") -> TopicSet:
        """Topics of ``department``'s cases, or of all cases."""
        corpus = self.corpus()
        name = self.department(department)
        found = self._topics.get(name)
        if found is None:
            found = compute_topics(corpus, self.tokenizer, department=name)
            with self._lock:
                self._topics[name] = found
        return found

    def topic(self, topic_id: str) -> Topic:
        """A topic by id (``all-03``, ``市民課-02``)."""
        department, _, number = topic_id.rpartition("-")
        if not department or not number.isdigit():
            raise TrainerError(f"{topic_id!r} is not a topic id (like 'all-03' or '市民課-02')")
        found = self.topics("" if department == "all" else department).get(topic_id)
        if found is None:
            raise TrainerError(f"no topic {topic_id!r}")
        return found

    def gaps(self, *, department: str = "", min_count: int = 1, period: str = "month") -> GapReport:
        """Gap topics, gap queries, rates over time and FAQ help rates."""
        return gap_report(
            self.corpus(),
            self.topics(department),
            self.query_log().records(),
            self.feedback().recent(ALL_FEEDBACK),
            low_score=self.low_score,
            topic_low_score=self.topic_low_score,
            min_count=min_count,
            period=period,
        )

    def manual(self, department: str) -> ManualDraft:
        name = self.department(department)
        if not name:
            raise TrainerError("a manual draft needs a department (--department NAME)")
        return build_manual(
            self.corpus(),
            self.tokenizer,
            name,
            topics=self.topics(name),
            low_score=self.topic_low_score,
        )

    # --- FAQ candidates -----------------------------------------------------------------

    def draft(self, topic_id: str) -> FaqCandidate:
        """A new draft FAQ entry for a topic (normally a gap topic)."""
        return draft_candidate(
            self.corpus(), self.topic(topic_id), self.candidates(), self.tokenizer
        )

    def edit(self, candidate_id: str, *, question: str = "", answer: str = "") -> FaqCandidate:
        return edit_candidate(self.candidates(), candidate_id, question=question, answer=answer)

    def approve(
        self,
        candidate_id: str,
        embedder: Embedder,
        *,
        wait: float = 0.0,
        on_wait: Callable[[LockHolder | None], None] | None = None,
    ) -> Approval:
        """Publish a draft and switch the serving index to a build that includes it.

        Args:
            candidate_id: The draft.
            embedder: The document embedder for the build.
            wait: Seconds to wait while another process ingests, builds or approves
                (the writer lock, :func:`kb.index.lock.writer_lock`); 0: do not wait.
            on_wait: Called once with the other writer when this one starts waiting.

        Raises:
            TrainerError: No such draft, it was approved already, or no store.
            BusyError: Another process held the writer lock (for ``wait`` seconds).
        """
        if not self.settings.store_path.exists():
            # Opening it would create an empty store, and the next build would serve nothing
            # but the new entry.
            raise TrainerError(
                f"no store at {self.settings.store_path}: approving needs the data directory "
                "the index was built from"
            )
        # One writer at a time: a build snapshots the store when it starts, so a second build
        # started earlier but finishing later would serve without the first entry. Approvals
        # of this process queue; another process's writer (ingest, build) is waited for.
        with (
            self._approve_lock,
            writer_lock(self.settings, "approve", wait=wait, on_wait=on_wait),
        ):
            store = KBStore(self.settings.store_path)
            cache = EmbeddingCache(self.settings.data_dir / "embeddings.sqlite")
            return self._approve(candidate_id, embedder, store, cache)

    def _approve(
        self, candidate_id: str, embedder: Embedder, store: KBStore, cache: EmbeddingCache
    ) -> Approval:
        try:
            return approve_candidate(
                self.candidates(),
                candidate_id,
                store=store,
                embedder=embedder,
                index_root=self.settings.index_root,
                cache=cache,
                tokenizer=self.tokenizer,
            )
        finally:
            cache.close()
            store.close()


def approval_summary(approval: Approval) -> str:
    """An approval's result as the audit log records it (the API and ``kb trainer approve``)."""
    b = approval.build
    return (
        f"published faq:{approval.candidate.id} in index {b.path.name} ({b.embedded} chunk(s) "
        f"embedded, {b.cached} from cache) in {approval.seconds:.2f} s"
    )
