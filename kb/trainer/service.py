"""The trainer tools over one data directory: what ``kb trainer`` and ``/trainer`` call.

Topics are computed once per index build and department and kept until a new build serves
(approving a candidate, withdrawing or republishing an FAQ entry makes one). The query log,
feedback log and candidate store are the files the service and the API write
(``querylog.sqlite``, ``feedback.sqlite``, ``trainer.sqlite``).
"""

from __future__ import annotations

import dataclasses
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass

from kb.embed.embedder import Embedder
from kb.errors import FaqRefused, IndexError_, TrainerError
from kb.index.builder import BuildReport
from kb.index.folder import current_index
from kb.index.lock import LockHolder, writer_lock
from kb.ingest.schema import split_multi
from kb.messages import msg
from kb.settings import Settings
from kb.store import EmbeddingCache, FaqCandidate, FaqCandidateStore, FeedbackStore, QueryLogStore
from kb.store import Store as KBStore
from kb.text.masking import Masker, mask_personal
from kb.text.mecab import MeCabTokenizer
from kb.trainer.candidates import Approval, approve_candidate, draft_candidate, edit_candidate
from kb.trainer.corpus import TrainerCorpus, load_corpus
from kb.trainer.gaps import GapReport, gap_report, low_score_line
from kb.trainer.lifecycle import (
    FaqEdit,
    check_draft,
    publish,
    rejected,
    revision_of,
    stored_faq,
    switched,
)
from kb.trainer.manual import ManualDraft, build_manual, resolve_department
from kb.trainer.topics import Topic, TopicSet, compute_topics
from kb.types import DocId, Document

GAP_WINDOW = 100_000
"""Searches and feedback records a gap report reads: the latest this many of each. Both logs
are filled by the public widget, so the report's cost is bounded whatever a flood added (an
attacker's 690,000 feedback rows took 16 s and 1.5 GB more memory per report)."""


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
        self._gaps_lock = threading.Lock()
        self._gaps: tuple[TrainerCorpus, tuple[str, int, str, int, int], GapReport] | None = None
        """The latest gap report and what it was made of (:meth:`gaps`)."""

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
            raise TrainerError(msg("trainer.bad_topic_id", id=topic_id))
        found = self.topics("" if department == "all" else department).get(topic_id)
        if found is None:
            raise TrainerError(msg("trainer.no_topic", id=topic_id))
        return found

    def gaps(self, *, department: str = "", min_count: int = 1, period: str = "month") -> GapReport:
        """Gap topics, gap queries, rates over time and FAQ help rates, over the latest
        :data:`GAP_WINDOW` searches and feedback records.

        One report is made at a time (two trainers opening the dashboard together wait for
        one another, not both hold the logs in memory), and a report is reused while
        neither log has grown.
        """
        with self._gaps_lock:
            corpus, topics = self.corpus(), self.topics(department)
            logs = self.query_log(), self.feedback()
            # A publication makes a new corpus (compared as an object: it holds arrays); a
            # search or a feedback record a new latest id.
            key = (topics.department, min_count, period, logs[0].max_id(), logs[1].max_id())
            cached = self._gaps
            if cached is None or cached[0] is not corpus or cached[1] != key:
                report = gap_report(
                    corpus,
                    topics,
                    logs[0].records(latest=GAP_WINDOW),
                    logs[1].recent(GAP_WINDOW),
                    low_score=self.low_score,
                    topic_low_score=self.topic_low_score,
                    min_count=min_count,
                    period=period,
                )
                cached = self._gaps = (corpus, key, report)
            return cached[2]

    def manual(self, department: str) -> ManualDraft:
        name = self.department(department)
        if not name:
            raise TrainerError(msg("trainer.manual_needs_department"))
        return build_manual(
            self.corpus(),
            self.tokenizer,
            name,
            topics=self.topics(name),
            low_score=self.topic_low_score,
        )

    # --- FAQ candidates and entries (kb.trainer.lifecycle) -------------------------------

    def draft(self, topic_id: str, *, by: str = "") -> FaqCandidate:
        """A new draft FAQ entry for a topic (normally a gap topic), drafted by ``by``."""
        return draft_candidate(
            self.corpus(), self.topic(topic_id), self.candidates(), self.tokenizer, by=by
        )

    def edit(
        self,
        candidate_id: str,
        *,
        question: str = "",
        answer: str = "",
        edit: FaqEdit | None = None,
        by: str = "",
    ) -> FaqCandidate:
        """Change a draft's fields (:func:`kb.trainer.candidates.edit_candidate`).

        A department is written as the directory names it (an alias becomes its name); one
        the directory does not hold is refused (``FaqRefused``, ``invalid``), unless the city
        has no directory.
        """
        if edit is not None and edit.department and edit.department.strip():
            edit = dataclasses.replace(edit, department=self._directory_names(edit.department))
        with self._approve_lock:
            return edit_candidate(
                self.candidates(), candidate_id, question=question, answer=answer, edit=edit, by=by
            )

    def _directory_names(self, departments: str) -> str:
        """``departments`` (``市民課、国際交流課``) as the directory names them, joined by 、."""
        try:
            known = self.corpus().departments
        except IndexError_:  # no index yet: nothing to check against
            return departments
        if not known:
            return departments
        names: list[str] = []
        for name in split_multi(departments):
            found = next((d.name for d in known if name == d.name or name in d.aliases), None)
            if found is None:
                shown = mask_personal(name, self.tokenizer)[:40]
                raise FaqRefused(msg("faq.unknown_department", name=shown), "invalid")
            names.append(found)
        return "、".join(dict.fromkeys(names))

    def revise(self, faq_id: str, *, by: str = "") -> FaqCandidate:
        """A draft revising the stored FAQ entry ``faq_id``: the open one if there is one.

        Raises:
            TrainerError: No store, or no such FAQ entry.
        """
        store = self._read_store()
        try:
            doc = stored_faq(store, faq_id)
        finally:
            store.close()
        local = DocId.local_of(doc.doc_id)
        with self._approve_lock:
            found = self.candidates().open_revision(local)
            if found is not None:
                return found
            candidates = self.candidates()
            return candidates.save(revision_of(doc, candidates.next_id(), by))

    def reject(self, candidate_id: str, reason: str, *, by: str = "") -> FaqCandidate:
        """Reject a draft with a reason (却下); it stays listed, never published.

        Raises:
            TrainerError: No such draft.
            FaqRefused: It was approved or rejected already, or no reason was given.
        """
        with self._approve_lock:
            candidates = self.candidates()
            candidate = check_draft(
                candidates.get(candidate_id), candidate_id, [c.id for c in candidates.all()]
            )
            # The reason is shown on the trainer page and kept: no citizen's name in it.
            reason = Masker(self.tokenizer).mask(reason)
            return candidates.save(rejected(candidate, by, reason))

    def faqs(self) -> list[Document]:
        """Every stored FAQ entry (published, withdrawn or expired), in id order.

        Raises:
            TrainerError: No store.
        """
        store = self._read_store()
        try:
            docs = store.get_documents(store.document_ids("faq"))
        finally:
            store.close()
        return [docs[k] for k in sorted(docs)]

    def approve(
        self,
        candidate_id: str,
        embedder: Embedder,
        *,
        by: str = "",
        wait: float = 0.0,
        on_wait: Callable[[LockHolder | None], None] | None = None,
    ) -> Approval:
        """Approve a draft; the approval that completes ``faq_approvers`` publishes it and
        switches the serving index to a build that includes it.

        Args:
            candidate_id: The draft.
            embedder: The document embedder for the build.
            by: Who approves (an API key's name, or the CLI user).
            wait: Seconds to wait while another process ingests, builds or approves
                (the writer lock, :func:`kb.index.lock.writer_lock`); 0: do not wait.
            on_wait: Called once with the other writer when this one starts waiting.

        Raises:
            TrainerError: No such draft, or no store.
            FaqRefused: It was approved or rejected already, or ``by`` may not approve it.
            BusyError: Another process held the writer lock (for ``wait`` seconds).
        """
        approvers = self.settings.faq_approvers
        with self._writing("approve", wait, on_wait) as (store, cache):
            return approve_candidate(
                self.candidates(),
                candidate_id,
                store=store,
                embedder=embedder,
                index_root=self.settings.index_root,
                cache=cache,
                tokenizer=self.tokenizer,
                by=by,
                approvers=approvers,
                keep_words=self.settings.mask_keep_words,
            )

    def set_published(
        self,
        faq_id: str,
        published: bool,
        embedder: Embedder,
        *,
        wait: float = 0.0,
        on_wait: Callable[[LockHolder | None], None] | None = None,
    ) -> FaqChange:
        """Withdraw (公開停止, ``published`` false) or republish (再公開) a stored FAQ entry.

        The entry stays in the store (staff search finds it); the public widget, suggest and
        API drop or regain it when the service switches to the build this makes.

        Raises:
            TrainerError: No store, or no such FAQ entry.
            FaqRefused: It is withdrawn (published) already; or (``forbidden``) a republication
                while ``faq_approvers`` is 2 or more: nothing reaches the widget on one
                person's word then, and an entry stored unpublished (職員向け) was never
                approved at all; a revision goes through the approvals.
            BusyError: Another process held the writer lock (for ``wait`` seconds).
        """
        started = time.perf_counter()
        what = "republish" if published else "withdraw"
        needed = self.settings.faq_approvers
        if published and needed >= 2:
            raise FaqRefused(
                msg("faq.republish_needs_approval", id=faq_id, needed=needed), "forbidden"
            )
        with self._writing(what, wait, on_wait) as (store, cache):
            doc = switched(stored_faq(store, faq_id), published)
            report = publish(
                store,
                [doc],
                embedder=embedder,
                index_root=self.settings.index_root,
                cache=cache,
                tokenizer=self.tokenizer,
            )
        return FaqChange(doc, report, round(time.perf_counter() - started, 3))

    def _read_store(self) -> KBStore:
        if not self.settings.store_path.exists():
            raise TrainerError(msg("trainer.no_store", path=self.settings.store_path))
        return KBStore(self.settings.store_path, read_only=True)

    @contextmanager
    def _writing(
        self,
        what: str,
        wait: float,
        on_wait: Callable[[LockHolder | None], None] | None,
    ) -> Iterator[tuple[KBStore, EmbeddingCache]]:
        """The live store and the embedding cache, under the writer lock."""
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
            writer_lock(self.settings, what, wait=wait, on_wait=on_wait),
        ):
            store = KBStore(self.settings.store_path)
            cache = EmbeddingCache(self.settings.data_dir / "embeddings.sqlite")
            try:
                yield store, cache
            finally:
                cache.close()
                store.close()


@dataclass(frozen=True)
class FaqChange:
    """A withdrawn or republished FAQ entry and the build that serves the change."""

    document: Document
    build: BuildReport
    seconds: float


def approval_summary(approval: Approval) -> str:
    """An approval's result as the audit log records it (the API and ``kb trainer approve``)."""
    c = approval.candidate
    who = f" by {c.approvals[-1]}" if c.approvals and c.approvals[-1] else ""
    b = approval.build
    if b is None:
        return (
            f"approval {len(c.approvals)} of {approval.needed}{who} for faq:{c.faq_id} "
            f"(candidate {c.id}); not published yet"
        )
    return (
        f"published faq:{c.faq_id} (candidate {c.id}){who} in index {b.path.name} "
        f"({b.embedded} chunk(s) embedded, {b.cached} from cache) in {approval.seconds:.2f} s"
    )


def change_summary(change: FaqChange) -> str:
    """A withdrawal or republication as the audit log records it."""
    b = change.build
    state = "published" if change.document.published else "withdrawn"
    return (
        f"{state} {change.document.doc_id} in index {b.path.name} ({b.embedded} chunk(s) "
        f"embedded, {b.cached} from cache) in {change.seconds:.2f} s"
    )
