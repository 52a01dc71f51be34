"""The FAQ lifecycle: revise, check, approve (by one or more people), reject, withdraw, republish.

Every change that reaches the widget goes one way: the FAQ document is upserted into the live
store and the index is built incrementally (vectors of unchanged chunks from the embedding
cache), under the writer lock, audited by the caller (:class:`kb.trainer.service.Trainer`,
the trainer API, ``kb trainer``).

* **Revise**: an existing FAQ entry (ingested or approved earlier) is copied into a draft
  candidate whose ``target`` is its id; the trainer edits it (question, answer, departments,
  category, URL, 所管課, 更新日, 公開期限) and approves it like a new one.
* **Approve**: with ``faq_approvers`` 1 the first approval publishes. With 2 or more, each
  approval comes from a different person (承認1, 承認2...), and whoever drafted or last edited
  the candidate cannot give the last one: an edit after an approval voids it.
* **Reject** (却下): with a reason, kept and shown; a rejected candidate is never published.
* **Withdraw** (公開停止) / **republish** (再公開): the entry's ``published`` flag, with the
  same store write and build, so it leaves (or returns to) the widget, suggest and the public
  API at the switch; staff search keeps finding it.

Messages are for city staff, in Japanese (``KB_LANG=en``: English; :mod:`kb.messages`).
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import re
import unicodedata
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from kb.embed.embedder import Embedder
from kb.errors import FaqRefused, TrainerError
from kb.index.builder import BuildReport, build_index
from kb.ingest.chunking import chunk_document
from kb.ingest.schema import parse_faq_date, parse_url, split_multi
from kb.messages import MESSAGES, msg
from kb.search import expiry
from kb.store import EmbeddingCache, FaqCandidate, Store
from kb.text.masking import PLACEHOLDERS
from kb.text.mecab import MeCabTokenizer
from kb.types import DocId, Document

MAX_QUESTION_CHARS = 500
MAX_ANSWER_CHARS = 4000
MAX_FIELD_CHARS = 200
MAX_REASON_CHARS = 1000

FIELD_KEYS = {
    "question": "faq.field_question",
    "answer": "faq.field_answer",
    "department": "faq.field_department",
    "category": "faq.field_category",
    "url": "faq.field_url",
    "owner": "faq.field_owner",
    "updated": "faq.field_updated",
    "expires": "faq.field_expires",
}
"""The fields of an FAQ entry a trainer edits, and the catalogue keys of their names."""
FIELD_NAMES = {name: MESSAGES[key][0] for name, key in FIELD_KEYS.items()}
"""The fields' Japanese names (the command line's help)."""
_STATES = {"approved": "faq.state_approved", "rejected": "faq.state_rejected"}
_CONTROL_RE = re.compile("[\x00-\x08\x0b-\x1f\x7f]")


def _visible(text: str) -> bool:
    """Whether ``text`` shows anything: a character that is no space, control or format
    character (zero-width space, direction marks)."""
    return any(not ch.isspace() and unicodedata.category(ch) not in ("Cc", "Cf") for ch in text)


def now() -> str:
    """The time of an approval or rejection, UTC ISO 8601 to the second."""
    return dt.datetime.now(dt.UTC).isoformat(timespec="seconds")


@dataclass(frozen=True)
class FaqEdit:
    """What a trainer changes in a candidate; ``None`` keeps the field as it is.

    ``department`` may name several departments (``市民課、国際交流課``): the first is the
    contact the widget shows.
    """

    question: str | None = None
    answer: str | None = None
    department: str | None = None
    category: str | None = None
    url: str | None = None
    owner: str | None = None
    updated: str | None = None
    expires: str | None = None

    def checked(self) -> FaqEdit:
        """The edit with its values trimmed, dates in ISO form and the URL checked.

        Raises:
            FaqRefused: (``invalid``) an empty question or answer, a value too long, a URL that
                is not http(s), or a date that cannot be read.
        """
        out: dict[str, str | None] = {}
        for field in dataclasses.fields(self):
            value = getattr(self, field.name)
            if value is None:
                out[field.name] = None
                continue
            name = msg(FIELD_KEYS[field.name])
            # NUL and other control characters are no text a citizen can read (tab and line
            # break aside); an answer of zero-width and other format characters is empty.
            value = _CONTROL_RE.sub("", value).strip()
            limit = {"question": MAX_QUESTION_CHARS, "answer": MAX_ANSWER_CHARS}.get(
                field.name, MAX_FIELD_CHARS
            )
            if len(value) > limit:
                raise FaqRefused(
                    msg("faq.too_long", field=name, n=len(value), limit=limit), "invalid"
                )
            if field.name in ("question", "answer") and not _visible(value):
                raise FaqRefused(msg("faq.empty", field=name), "invalid")
            try:
                if field.name == "url":
                    value = parse_url(value)
                elif field.name in ("updated", "expires"):
                    value = parse_faq_date(value)
            except ValueError:
                key = "faq.bad_url" if field.name == "url" else "faq.bad_date"
                raise FaqRefused(msg(key, field=name, value=value), "invalid") from None
            out[field.name] = value
        return FaqEdit(**out)

    def applied(self, candidate: FaqCandidate) -> FaqCandidate:
        """``candidate`` with this (checked) edit's values in place of its own."""
        changes = {k: v for k, v in dataclasses.asdict(self).items() if v is not None}
        return dataclasses.replace(candidate, **changes)


def check_draft(
    candidate: FaqCandidate | None, candidate_id: str, known: Sequence[str]
) -> FaqCandidate:
    """``candidate`` if it is a draft.

    Raises:
        TrainerError: There is no such candidate (the message lists the known ones).
        FaqRefused: (``conflict``) it was approved or rejected already.
    """
    if candidate is None:
        shown = ", ".join(known) or msg("faq.none")
        raise TrainerError(msg("faq.no_candidate", id=repr(candidate_id), known=shown))
    if candidate.status != "draft":
        key = _STATES.get(candidate.status)
        state = msg(key) if key is not None else candidate.status
        raise FaqRefused(msg("faq.not_draft", id=candidate_id, state=state), "conflict")
    return candidate


def edited(candidate: FaqCandidate, edit: FaqEdit, by: str) -> FaqCandidate:
    """``candidate`` edited by ``by``: earlier approvals no longer count (they saw other text).

    Raises:
        FaqRefused: (``invalid``) see :meth:`FaqEdit.checked`.
    """
    changed = edit.checked().applied(candidate)
    if changed == candidate:
        return candidate
    return dataclasses.replace(changed, edited_by=by or candidate.edited_by, approvals=())


def approvals_after(candidate: FaqCandidate, by: str, needed: int) -> tuple[str, ...]:
    """The candidate's approvals with ``by``'s added, if ``by`` may give it.

    Args:
        candidate: A draft.
        by: Who approves (an API key's name, or the CLI user).
        needed: Approvals that publish (the ``faq_approvers`` setting).

    Raises:
        FaqRefused: ``conflict`` when ``by`` approved it already; ``forbidden`` when ``by``
            drafted or last edited it and this approval would publish it (only with
            ``needed`` 2 or more); ``invalid`` when ``by`` is unknown and it matters, or when
            its text holds a masked span (:func:`check_no_placeholders`).
    """
    check_no_placeholders(candidate)
    if needed <= 1:
        return (*candidate.approvals, by)
    if not by:
        raise FaqRefused(msg("faq.approver_unknown"), "invalid")
    if by in candidate.approvals:
        n = candidate.approvals.index(by) + 1
        raise FaqRefused(msg("faq.approved_twice", by=by, id=candidate.id, n=n), "conflict")
    publishes = len(candidate.approvals) + 1 >= needed
    if publishes and by == candidate.edited_by:
        raise FaqRefused(
            msg("faq.drafter_publishes", by=by, id=candidate.id, needed=needed), "forbidden"
        )
    return (*candidate.approvals, by)


def check_no_placeholders(candidate: FaqCandidate) -> None:
    """Refuse to approve a draft whose question or answer holds a masked span ([氏名] ...).

    A draft made from closed cases is masked, but a placeholder shows that the sentence was
    about one person, and what the masking missed around it (a rare name, a building) would go
    to the public widget with it. A published FAQ never needs one: the trainer rewrites the
    sentence in general terms first.

    Raises:
        FaqRefused: (``invalid``) naming the placeholders and the fields that hold them.
    """
    found = [
        (field, placeholder)
        for field, text in (
            ("faq.field_question", candidate.question),
            ("faq.field_answer", candidate.answer),
        )
        for placeholder in PLACEHOLDERS
        if placeholder in text
    ]
    if found:
        fields = "・".join(dict.fromkeys(msg(field) for field, _ in found))
        marks = "・".join(dict.fromkeys(placeholder for _, placeholder in found))
        raise FaqRefused(msg("faq.placeholders", fields=fields, marks=marks), "invalid")


def rejected(candidate: FaqCandidate, by: str, reason: str) -> FaqCandidate:
    """``candidate`` rejected by ``by`` for ``reason`` (却下).

    Raises:
        FaqRefused: (``invalid``) no reason given, or one that is too long.
    """
    reason = reason.strip()
    if not reason:
        raise FaqRefused(msg("faq.reason_missing"), "invalid")
    if len(reason) > MAX_REASON_CHARS:
        raise FaqRefused(
            msg(
                "faq.too_long", field=msg("faq.field_reason"), n=len(reason), limit=MAX_REASON_CHARS
            ),
            "invalid",
        )
    return dataclasses.replace(
        candidate, status="rejected", rejected_by=by, rejected_at=now(), reason=reason
    )


def revision_of(doc: Document, candidate_id: str, by: str) -> FaqCandidate:
    """A draft that revises the stored FAQ entry ``doc``, holding its current values."""
    return FaqCandidate(
        id=candidate_id,
        topic_id="",
        question=doc.title,
        answer=doc.body,
        department="、".join(doc.departments),
        category=doc.category,
        created_at=now(),
        target=DocId.local_of(doc.doc_id),
        url=doc.url,
        owner=doc.owner,
        updated=doc.updated,
        expires=doc.expires,
        edited_by=by,
    )


def faq_document(candidate: FaqCandidate, base: Document | None = None) -> Document:
    """The published FAQ document an approved candidate becomes.

    Args:
        candidate: The candidate.
        base: The stored entry a revision replaces: what the candidate does not hold (its
            source file and line) is kept.
    """
    fields = {
        "title": candidate.question,
        "body": candidate.answer,
        "departments": split_multi(candidate.department),
        "category": candidate.category,
        "url": candidate.url,
        "owner": candidate.owner,
        "updated": candidate.updated or expiry.today(),
        "expires": candidate.expires,
        "published": True,
    }
    if base is not None:
        return dataclasses.replace(base, **fields)  # type: ignore[arg-type]
    return Document(
        doc_id=DocId.of("faq", candidate.id),
        kind="faq",
        source=f"trainer:{candidate.topic_id}",
        **fields,  # type: ignore[arg-type]
    )


def stored_faq(store: Store, faq_id: str) -> Document:
    """The stored FAQ entry ``faq_id`` (a local id, ``faq:`` allowed).

    Raises:
        TrainerError: No such FAQ entry.
    """
    local = DocId.local_of(faq_id) if faq_id.startswith("faq:") else faq_id
    doc = store.get_documents([DocId.of("faq", local)]).get(DocId.of("faq", local))
    if doc is None or doc.kind != "faq":
        raise TrainerError(msg("faq.no_faq", id=local))
    return doc


def switched(doc: Document, published: bool) -> Document:
    """``doc`` withdrawn (``published`` false) or published again.

    Raises:
        FaqRefused: (``conflict``) it is so already.
    """
    if doc.published == published:
        key = "faq.already_public" if published else "faq.already_withdrawn"
        raise FaqRefused(msg(key, id=DocId.local_of(doc.doc_id)), "conflict")
    return dataclasses.replace(doc, published=published)


def publish(
    store: Store,
    docs: Sequence[Document],
    *,
    embedder: Embedder,
    index_root: Path,
    cache: EmbeddingCache,
    tokenizer: MeCabTokenizer | None = None,
) -> BuildReport:
    """Store ``docs`` and build the index that serves them (only changed chunks embedded).

    Run it under the writer lock (:func:`kb.index.lock.writer_lock`): the store write and the
    build then never overlap another ingest, build or approval.
    """
    tok = tokenizer or MeCabTokenizer()
    store.upsert([(doc, chunk_document(doc, tok)) for doc in docs])
    return build_index(store, embedder, index_root, cache=cache)
