"""FAQ candidates: a draft FAQ entry for a gap topic, published only when a trainer approves.

Drafting is deterministic: the question is the sentence of the topic's representative cases
that carries most of the topic's keywords (preferring what the citizen *wants*: 〜たい,
分からない...), the answer the first sentences of their resolutions plus the department's
contact details. Both are masked like logged queries, and the trainer may edit them.

Approving stores the entry as a published FAQ document (``faq:FC0001``) in the live store and
builds a new index: every unchanged chunk's vectors come from the embedding cache, so only the
new entry is embedded, and the service switches to the new build on its next query.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import re
import time
from dataclasses import dataclass
from pathlib import Path

from kb.embed.embedder import Embedder
from kb.errors import TrainerError
from kb.index.builder import BuildReport, build_index
from kb.ingest.chunking import chunk_document, split_sentences
from kb.store import EmbeddingCache, FaqCandidate, FaqCandidateStore, Store
from kb.text.masking import mask_personal
from kb.text.mecab import MeCabTokenizer
from kb.trainer.corpus import TrainerCorpus
from kb.trainer.topics import Topic
from kb.types import DocId, Document

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
    build: BuildReport
    seconds: float
    """From the call to the new index being the serving one."""


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
) -> FaqCandidate:
    """Write (and store) a draft FAQ entry for ``topic``.

    Raises:
        TrainerError: The topic has no case in the corpus.
    """
    cases = [c for c in (corpus.case(i) for i in topic.representative) if c is not None]
    if not cases:
        raise TrainerError(f"topic {topic.id} has no cases to draft an FAQ entry from")
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
        created_at=dt.datetime.now(dt.UTC).isoformat(timespec="seconds"),
    )
    return candidates.save(candidate)


def edit_candidate(
    candidates: FaqCandidateStore, candidate_id: str, *, question: str = "", answer: str = ""
) -> FaqCandidate:
    """Change a draft's question and/or answer (empty: keep)."""
    candidate = _draft(candidates, candidate_id)
    return candidates.save(
        dataclasses.replace(
            candidate,
            question=question.strip() or candidate.question,
            answer=answer.strip() or candidate.answer,
        )
    )


def _draft(candidates: FaqCandidateStore, candidate_id: str) -> FaqCandidate:
    candidate = candidates.get(candidate_id)
    if candidate is None:
        known = ", ".join(c.id for c in candidates.all()) or "none"
        raise TrainerError(f"no FAQ candidate {candidate_id!r} (known: {known})")
    if candidate.status != "draft":
        raise TrainerError(f"FAQ candidate {candidate_id} is already {candidate.status}")
    return candidate


def faq_document(candidate: FaqCandidate) -> Document:
    """The published FAQ document an approved candidate becomes."""
    return Document(
        doc_id=DocId.of("faq", candidate.id),
        kind="faq",
        title=candidate.question,
        body=candidate.answer,
        departments=(candidate.department,) if candidate.department else (),
        category=candidate.category,
        published=True,
        source=f"trainer:{candidate.topic_id}",
    )


def approve_candidate(
    candidates: FaqCandidateStore,
    candidate_id: str,
    *,
    store: Store,
    embedder: Embedder,
    index_root: Path,
    cache: EmbeddingCache,
    tokenizer: MeCabTokenizer | None = None,
) -> Approval:
    """Publish a draft: store it as a published FAQ entry and build the index incrementally.

    Run it under the writer lock (:func:`kb.index.lock.writer_lock`), as
    :meth:`kb.trainer.service.Trainer.approve` does: the store write and the build then never
    overlap another ingest, build or approval.

    Raises:
        TrainerError: No such draft, or it was approved already.
    """
    started = time.perf_counter()
    candidate = _draft(candidates, candidate_id)
    doc = faq_document(candidate)
    store.upsert([(doc, chunk_document(doc, tokenizer or MeCabTokenizer()))])
    report = build_index(store, embedder, index_root, cache=cache)
    approved = candidates.save(
        dataclasses.replace(
            candidate,
            status="approved",
            approved_at=dt.datetime.now(dt.UTC).isoformat(timespec="seconds"),
        )
    )
    return Approval(approved, report, round(time.perf_counter() - started, 3))
