"""FAQ candidates: a draft FAQ entry for a gap topic, published only when a trainer approves.

Drafting is deterministic: the question is the sentence of the topic's representative cases
that carries most of the topic's keywords (preferring what the citizen *wants*: 〜たい,
分からない...), the answer the first sentences of their resolutions plus the department's
contact details. Both are masked like logged queries, and the trainer may edit them.

Approving stores the entry as a published FAQ document (``faq:FC0001``) in the live store and
builds a new index: every unchanged chunk's vectors come from the embedding cache, so only the
new entry is embedded, and the service switches to the new build on its next query. Revisions
of stored entries, rejection, a second approver, withdrawal and 公開期限 are in
:mod:`kb.trainer.lifecycle`.
"""

from __future__ import annotations

import dataclasses
import re
import time
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from kb.embed.embedder import Embedder
from kb.errors import FaqRefused, TrainerError
from kb.index.builder import BuildReport
from kb.ingest.chunking import split_sentences
from kb.ingest.redact import masker_for, phones_in
from kb.messages import msg
from kb.store import EmbeddingCache, FaqCandidate, FaqCandidateStore, Store
from kb.text.markup import html_to_text, looks_like_html
from kb.text.masking import EDITED, PLACEHOLDERS, mask_personal
from kb.text.mecab import MeCabTokenizer
from kb.trainer.corpus import TrainerCorpus
from kb.trainer.lifecycle import (
    FaqEdit,
    approvals_after,
    check_draft,
    edited,
    faq_document,
    now,
    publish,
    stored_faq,
)
from kb.trainer.topics import Topic
from kb.types import Document

__all__ = ["Approval", "approve_candidate", "draft_candidate", "edit_candidate", "faq_document"]

_WANT = re.compile(
    r"(たい|ほしい|欲しい|分から|わから|困って|不安|心配|どうすれば|どうしたら|どこで|"
    r"できますか|できるか|いいのか|よいのか|か[。？?」]?$)"
)
# "相談者は60代男性。" / "70代女性から電話。": who asked, not what was asked.
_WHO_ONLY = re.compile(
    r"^[^。]{0,25}(男性|女性|夫婦|母親|父親|世帯|\d+代)(から|より)?[^。]{0,6}。?$"
)
_PERSONA = re.compile(
    r"^(?:(?:電話|メール|窓口|LINE)(?:にて|で)[、,]\s*)?"
    r"(?:[^。、]{0,20}?(?:男性|女性|夫婦|母親|父親|世帯|住民|市民)(?:から)?[がはの、]\s*)?"
)
MAX_ANSWER_SENTENCES = 3


@dataclass(frozen=True)
class Approval:
    candidate: FaqCandidate
    build: BuildReport | None
    """The build that serves it; ``None`` when this approval did not publish (承認1 of 2)."""
    seconds: float
    """From the call to the new index being the serving one."""
    needed: int = 1
    """Approvals that publish (the ``faq_approvers`` setting)."""

    @property
    def published(self) -> bool:
        return self.build is not None


def _question_from(sentences: list[str], keywords: tuple[str, ...]) -> str:
    def score(s: str) -> tuple[int, int, int, int]:
        hits = sum(1 for k in keywords if k in s)
        want = 1 if _WANT.search(s.rstrip("」")) else 0
        # Topic words matter most; wanting something breaks ties (and beats one word).
        return (0 if _WHO_ONLY.match(s) else 1, 2 * hits + want, want, -len(s))

    best = max(sentences, key=score)
    best = _PERSONA.sub("", best, count=1).rstrip("。").strip("、 「」")
    if not best.endswith(("？", "?")):
        best += "。"
    return best


def draft_candidate(
    corpus: TrainerCorpus,
    topic: Topic,
    candidates: FaqCandidateStore,
    tokenizer: MeCabTokenizer | None = None,
    *,
    by: str = "",
) -> FaqCandidate:
    """Write (and store) a draft FAQ entry for ``topic``, drafted by ``by``.

    Raises:
        TrainerError: The topic has no case in the corpus.
    """
    cases = [c for c in (corpus.case(i) for i in topic.representative) if c is not None]
    if not cases:
        raise TrainerError(msg("trainer.topic_without_cases", id=topic.id))
    tok = tokenizer or MeCabTokenizer()
    question_sentences = [s for c in cases for s in split_sentences(c.title)]
    question = mask_personal(_question_from(question_sentences, topic.keywords), tok)
    answer_sentences: list[str] = []
    for case in cases:
        for sentence in split_sentences(case.body)[:1]:
            if sentence not in answer_sentences:
                answer_sentences.append(sentence)
    answer = mask_personal("".join(answer_sentences[:MAX_ANSWER_SENTENCES]), tok)
    owner = topic.department or (topic.departments[0][0] if topic.departments else "")
    dept = corpus.department(owner)
    if dept is not None:
        # The department's own contact details are public: appended after masking.
        contact = "、".join(x for x in (dept.phone and f"電話 {dept.phone}", dept.location) if x)
        answer += f"詳しくは{dept.name}" + (f"（{contact}）" if contact else "")
        answer += "へお問い合わせください。"
    candidate = FaqCandidate(
        id=candidates.next_id(),
        topic_id=topic.id,
        question=question,
        answer=answer,
        department=owner,
        category=next((c.category for c in cases if c.category), ""),
        source_cases=tuple(c.doc_id for c in cases),
        created_at=now(),
        edited_by=by,
    )
    return candidates.save(candidate)


def edit_candidate(
    candidates: FaqCandidateStore,
    candidate_id: str,
    *,
    question: str = "",
    answer: str = "",
    edit: FaqEdit | None = None,
    by: str = "",
) -> FaqCandidate:
    """Change a draft (empty question/answer, or ``None`` in ``edit``: keep).

    Args:
        candidates: The candidate store.
        candidate_id: The draft.
        question: A new question (shorthand for ``edit.question``).
        answer: A new answer (shorthand for ``edit.answer``).
        edit: Any of the draft's fields, checked (:meth:`FaqEdit.checked`).
        by: Who edits: recorded as its last editor, and earlier approvals no longer count.

    Raises:
        TrainerError: No such draft.
        FaqRefused: It is approved or rejected already, or a value is refused.
    """
    candidate = _draft(candidates, candidate_id)
    edit = dataclasses.replace(
        edit or FaqEdit(),
        question=question.strip() or (edit.question if edit else None),
        answer=answer.strip() or (edit.answer if edit else None),
    )
    changed = edited(candidate, edit, by)
    return candidates.save(changed) if changed != candidate else candidate


def check_no_personal_data(
    doc: Document, store: Store, tokenizer: MeCabTokenizer | None, keep_words: Sequence[str]
) -> None:
    """Refuse to publish an FAQ entry in which the masking finds personal data.

    A draft is masked when it is made from cases, but a trainer's edit is not: an approval
    would publish what the edit added (a citizen's name, a mobile number, an e-mail address)
    to the public widget. The entry's text is read as the widget shows it (HTML as its
    text), every field at once as well as each alone (a number split between the question and
    the answer), the URL included, with the rules of records but the two a public answer needs
    (:data:`~kb.text.masking.EDITED`: facility addresses, office landlines) and the
    directory's names and phones and the published FAQ's numbers kept. It is refused, not
    published masked: a published answer with [氏名] in it helps nobody.

    Raises:
        FaqRefused: (``invalid``) naming the fields and what was found, never the text.
    """
    phones = phones_in(store.published_faq_texts())
    masker = masker_for(store.departments(), tokenizer, keep_words, phones)
    fields = (
        ("faq.field_question", doc.title),
        ("faq.field_answer", doc.body),
        ("faq.field_category", doc.category),
        ("faq.field_department", "、".join(doc.departments)),
        ("faq.field_owner", doc.owner),
        ("faq.field_url", doc.url),
    )
    # As written (a mailto: link) and as the widget shows it (<b>楠瀬</b><b>咲良</b>様).
    shown = [(name, html_to_text(text)) for name, text in fields if looks_like_html(text)]
    joined = ("faq.field_all", "".join(text for _, text in [*fields, *shown]))
    found = [
        (name, placeholder)
        for name, text in [*fields, *shown, joined]
        if text
        for placeholder in _added_placeholders(text, masker.mask(text, EDITED))
    ]
    if found:
        names = [name for name, _ in found if name != "faq.field_all"] or ["faq.field_all"]
        where = "・".join(dict.fromkeys(msg(name) for name in names))
        marks = "・".join(dict.fromkeys(placeholder for _, placeholder in found))
        raise FaqRefused(msg("faq.personal_data", fields=where, marks=marks), "invalid")


def _added_placeholders(before: str, after: str) -> list[str]:
    return [p for p in PLACEHOLDERS if after.count(p) > before.count(p)]


def _draft(candidates: FaqCandidateStore, candidate_id: str) -> FaqCandidate:
    found = candidates.get(candidate_id)
    if found is None:
        return check_draft(None, candidate_id, [c.id for c in candidates.all()])
    return check_draft(found, candidate_id, ())


def approve_candidate(
    candidates: FaqCandidateStore,
    candidate_id: str,
    *,
    store: Store,
    embedder: Embedder,
    index_root: Path,
    cache: EmbeddingCache,
    tokenizer: MeCabTokenizer | None = None,
    by: str = "",
    approvers: int = 1,
    keep_words: Sequence[str] = (),
) -> Approval:
    """Approve a draft; the approval that completes ``approvers`` publishes it.

    Publishing stores it as a published FAQ entry (``faq:<id>``, or the entry a revision
    replaces) and builds the index incrementally. Run it under the writer lock
    (:func:`kb.index.lock.writer_lock`), as :meth:`kb.trainer.service.Trainer.approve`
    does: the store write and the build then never overlap another ingest, build or approval,
    and two approvals of one candidate never overlap.

    Args:
        candidates: The candidate store.
        candidate_id: The draft.
        store: The live store.
        embedder: The document embedder for the build.
        index_root: Where the index builds go.
        cache: The embedding cache.
        tokenizer: Shared MeCab tokenizer.
        by: Who approves (an API key's name, or the CLI user).
        approvers: Approvals that publish (the ``faq_approvers`` setting).
        keep_words: Words never masked as names (the ``mask_keep_words`` setting).

    Raises:
        TrainerError: No such draft, or the entry it revises was removed.
        FaqRefused: It was approved or rejected already, or ``by`` may not approve it
            (:func:`~kb.trainer.lifecycle.approvals_after`), or its text holds personal
            data (:func:`check_no_personal_data`).
    """
    started = time.perf_counter()
    candidate = _draft(candidates, candidate_id)
    approvals = approvals_after(candidate, by, approvers)
    base = None
    if candidate.target:
        try:
            base = stored_faq(store, candidate.target)
        except TrainerError:
            raise TrainerError(
                msg("faq.target_gone", id=candidate.id, target=candidate.target)
            ) from None
    doc = faq_document(candidate, base)
    check_no_personal_data(doc, store, tokenizer, keep_words)
    if len(approvals) < approvers:
        # 承認1 (of 2...): recorded; the entry stays unpublished until the last approval.
        noted = candidates.save(dataclasses.replace(candidate, approvals=approvals))
        return Approval(noted, None, round(time.perf_counter() - started, 3), needed=approvers)
    report = publish(
        store, [doc], embedder=embedder, index_root=index_root, cache=cache, tokenizer=tokenizer
    )
    approved = candidates.save(
        dataclasses.replace(
            candidate,
            status="approved",
            approvals=approvals,
            updated=doc.updated,
            approved_at=now(),
        )
    )
    return Approval(approved, report, round(time.perf_counter() - started, 3), needed=approvers)
