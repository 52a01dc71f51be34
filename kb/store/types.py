"""The records the store's databases read and write."""

from __future__ import annotations

from dataclasses import dataclass

from kb.types import DocKind


@dataclass(frozen=True)
class UpsertStats:
    """How many documents one :meth:`kb.store.Store.upsert` added, updated and left as they were."""

    added: int = 0
    updated: int = 0
    unchanged: int = 0


@dataclass(frozen=True)
class ChunkRow:
    """A stored chunk with its row id (the id used by FAISS and the lexical index)."""

    rowid: int
    chunk_id: str
    doc_id: str
    kind: DocKind
    title: str
    text: str
    title_tokens: tuple[str, ...]
    text_tokens: tuple[str, ...]
    content_hash: str

    @property
    def content(self) -> str:
        """Title and text, one per line (only the one that is there, if either is empty)."""
        return f"{self.title}\n{self.text}" if self.title and self.text else self.title or self.text


@dataclass(frozen=True)
class FeedbackRecord:
    """One piece of feedback from the staff console or the public widget.

    ``shown`` lists the doc ids (``"faq:F0001"``, ``"case:C0012"``, ``"department:市民課"``)
    that were on screen when it was given, so analytics can tell what was passed over.
    """

    source: str
    """``"staff"`` or ``"public"``."""
    query: str
    shown: tuple[str, ...] = ()
    helped_id: str = ""
    """The result that helped (staff) or that the citizen rated (public)."""
    right_department: str = ""
    """The department staff say was the right one."""
    helpful: bool | None = None
    """The citizen's answer to "was this helpful?" (public); ``None`` for staff feedback."""
    created_at: str = ""
    """UTC time, ISO 8601; set by :meth:`kb.store.FeedbackStore.add` when empty."""
    id: int = 0
    actor: str = ""
    """The staff key that gave it (empty for the widget): one counsellor's corrections count as
    one vote (:mod:`kb.search.feedback`)."""


@dataclass(frozen=True)
class QueryLogRecord:
    """One logged search: the masked query, what came back, and how well it scored.

    The query is masked (:func:`kb.text.masking.mask_personal`) *before* it reaches this
    record: the log holds no phone numbers, e-mail addresses, My Numbers or detectable names.
    """

    source: str
    """``"staff"`` (console search), ``"public"`` (widget search) or ``"suggest"``."""
    query: str
    result_ids: tuple[str, ...] = ()
    """Doc ids of the top results, best first (``"faq:F0001"``...)."""
    scores: tuple[float, ...] = ()
    """Their scores: the dense (cosine) score of FAQ hits, aligned with ``result_ids``."""
    top_faq_score: float | None = None
    """Best dense score of a published FAQ entry; ``None`` when no FAQ came back."""
    zero_hit: bool = False
    filtered: bool = False
    """The search was narrowed (a pane left out, a filter set): it says nothing about gaps."""
    answered: bool | None = None
    """Whether the FAQ pane found an answer (kb.search.confidence); ``None``: not searched,
    or logged before the decision existed."""
    created_at: str = ""
    """UTC time, ISO 8601; set by :meth:`kb.store.QueryLogStore.add` when empty."""
    id: int = 0


@dataclass(frozen=True)
class FaqCandidate:
    """A draft FAQ entry, waiting for a trainer's approval: a new entry written from a gap
    topic, or a revision of a stored FAQ entry (``target``).

    It is not in the search index until approved; approving it stores it as a published FAQ
    document (``faq:<id>``, or ``faq:<target>`` for a revision) and triggers an incremental
    index build.
    """

    id: str
    """``"FC0001"``: also the FAQ id once approved, unless it revises ``target``."""
    topic_id: str
    question: str
    answer: str
    department: str
    category: str = ""
    source_cases: tuple[str, ...] = ()
    status: str = "draft"
    """``"draft"``, ``"approved"`` or ``"rejected"``."""
    created_at: str = ""
    approved_at: str = ""
    target: str = ""
    """The local id of the FAQ entry this revises (``"F0001"``); empty for a new entry."""
    url: str = ""
    owner: str = ""
    """所管課: the department that keeps the entry correct."""
    updated: str = ""
    """更新日 (ISO date); set to the day of publication when left empty."""
    expires: str = ""
    """公開期限 (ISO date): the last day the entry is public; empty for none."""
    edited_by: str = ""
    """Who drafted or last edited it (key name, or the CLI user): with several approvers
    required, not the one who may give the last approval."""
    approvals: tuple[str, ...] = ()
    """Who approved it so far, in order (承認1, 承認2...)."""
    rejected_by: str = ""
    rejected_at: str = ""
    reason: str = ""
    """Why it was rejected (却下の理由)."""

    @property
    def faq_id(self) -> str:
        """The local id of the FAQ entry it publishes."""
        return self.target or self.id
