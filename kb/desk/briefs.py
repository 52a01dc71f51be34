"""Briefs for booked consultations (事前予約): what to prepare before the citizen arrives.

Per booking, one search of its topic gives the likely departments, FAQ entries, similar closed
cases (with their outcomes) and manual sections; the life events recognised in the topic
(:mod:`kb.desk.lifeevents`) give the procedures ahead, and with the FAQ answers the documents
to ask the citizen to bring. When several departments have strong evidence, they are named as
the ones to invite to a joint or remote consultation.

A brief only reads: the caller audits it (the topic masked) before it is shown.
"""

from __future__ import annotations

import re
import time
from collections.abc import Iterable, Sequence
from dataclasses import asdict, dataclass
from typing import TYPE_CHECKING, Any

from kb.desk.bookings import Booking
from kb.desk.lifeevents import (
    LifeEventRecognizer,
    ProcedureBook,
    book_for,
    deadline_key,
    procedure_dict,
)
from kb.messages import msg
from kb.text.mecab import Morpheme
from kb.types import (
    CaseResult,
    DepartmentResult,
    DocId,
    FaqResult,
    ManualResult,
    Procedure,
    SearchResult,
)

if TYPE_CHECKING:
    from kb.search.searcher import Searcher

INVITE_RATIO = 0.5
"""A department is invited when its score is at least this share of the first one's..."""
INVITE_EVIDENCE = 2
"""...and at least this many FAQ entries or cases point to it; or when it has at least
this many procedures of the booking's life events."""
MAX_BRING = 12
"""The most documents listed to bring."""
MAX_NAMED = 3
"""The most procedures a topic without a life event brings in by name."""

_BRING_RE = re.compile(r"お持ちください|ご持参|持参|お持ちの上|ご用意ください|持ち物|必要書類")
_SENTENCE_RE = re.compile(r"[^。！？\n]+[。！？]?")
_GENERIC = frozenset(
    {"手続き", "手続", "申請", "変更", "届", "届出", "届け", "相談", "登録", "案内", "交付"}
    | {"受け取り", "資格", "申込み", "申込", "請求", "為る", "したい", "出来る"}
)


@dataclass(frozen=True)
class BringItem:
    """A document to ask the citizen to bring, and where the advice comes from."""

    item: str
    source: str
    """``procedure:P0070`` or ``faq:F0001``."""
    department: str = ""
    procedure: str = ""
    """The procedure it is for (its name), or empty for a FAQ answer's sentence."""


@dataclass(frozen=True)
class Invitee:
    """A department to invite to a joint or remote consultation, and why."""

    department: str
    phone: str
    reason: str


@dataclass(frozen=True)
class Brief:
    """The preparation for one booking."""

    booking: Booking
    departments: tuple[DepartmentResult, ...]
    faqs: tuple[FaqResult, ...]
    cases: tuple[CaseResult, ...]
    manuals: tuple[ManualResult, ...]
    answered: bool
    life_events: tuple[str, ...]
    conditions: tuple[str, ...]
    procedures: tuple[Procedure, ...]
    """The procedures of the recognised life events that apply, by deadline."""
    bring: tuple[BringItem, ...]
    invite: tuple[Invitee, ...]
    """Departments for a joint consultation; empty when one department suffices."""
    took_ms: float

    def shown_ids(self) -> list[str]:
        """Every document id the brief shows, for the audit log."""
        shown = (
            [DocId.of("department", d.name) for d in self.departments]
            + [DocId.of("faq", f.id) for f in self.faqs]
            + [DocId.of("case", c.id) for c in self.cases]
            + [DocId.of("manual", m.id) for m in self.manuals]
        )
        return list(dict.fromkeys(shown))


class BriefMaker:
    """Makes briefs from one searcher (the serving index) and its procedures.

    Args:
        searcher: The searcher of the serving index.
        k: Results per pane.
        recognizer: The life-event recognizer (default: one on the searcher's tokenizer).
        book: The procedures (default: those of the searcher's index).
    """

    def __init__(
        self,
        searcher: Searcher,
        *,
        k: int = 3,
        recognizer: LifeEventRecognizer | None = None,
        book: ProcedureBook | None = None,
    ) -> None:
        self.searcher = searcher
        self.k = k
        self.recognizer = recognizer or LifeEventRecognizer(searcher.tokenizer)
        self.book = book or book_for(searcher)

    def brief(self, booking: Booking) -> Brief:
        """The brief of one booking.

        Raises:
            QueryError: The topic is empty.
        """
        t0 = time.perf_counter()
        result = self.searcher.search(
            fit_topic(booking.topic, self.searcher.config.max_query_chars), k=self.k
        )
        found = self.recognizer.recognize(booking.topic)
        if found.events:
            checklist = self.book.checklist(found.events, found.conditions)
            procedures = tuple(sorted(checklist.procedures, key=deadline_key))
        else:
            procedures = self._named_procedures(booking.topic, result)
        return Brief(
            booking=booking,
            departments=result.departments,
            faqs=result.faqs,
            cases=result.cases,
            manuals=result.manuals,
            answered=result.answered,
            life_events=found.events,
            conditions=found.conditions,
            procedures=procedures,
            bring=_bring(procedures, result.faqs if result.confidence.faq != "none" else ()),
            invite=self._invite(result, procedures),
            took_ms=(time.perf_counter() - t0) * 1000,
        )

    def briefs(self, bookings: Iterable[Booking]) -> list[Brief]:
        """The briefs of ``bookings``, in their order."""
        return [self.brief(b) for b in bookings]

    def _named_procedures(self, topic: str, result: SearchResult) -> tuple[Procedure, ...]:
        """Without a life event: the procedures of the first departments that the topic names
        (「児童手当の申請」 → 児童手当の認定請求), by shared content words."""
        words = set(self.searcher.tokenizer.lemmas(topic)) - _GENERIC
        if not words:
            return ()
        top = {d.name for d in result.departments[:2]}
        compounds = _compounds(self.searcher.tokenizer.morphemes(topic))
        scored: list[tuple[float, Procedure]] = []
        for p in self.book.procedures:
            if p.department not in top:
                continue
            name = set(self.searcher.tokenizer.lemmas(p.name)) - _GENERIC
            shared = len(words & name)
            if shared:
                # 「児童手当」 prefers 児童手当の認定請求 to 児童扶養手当: fewer words it lacks.
                bonus = 0.5 if any(c in p.name for c in compounds) else 0.0
                scored.append((shared + bonus - 0.1 * len(name - words), p))
        scored.sort(key=lambda sp: (-sp[0], deadline_key(sp[1])))
        return tuple(p for _, p in scored[:MAX_NAMED])

    def _invite(self, result: SearchResult, procedures: Sequence[Procedure]) -> tuple[Invitee, ...]:
        out: dict[str, Invitee] = {}
        depts = result.departments
        if depts and result.confidence.department != "none":
            top = depts[0].score
            for d in depts:
                evidence = [e for e in d.evidence if DocId.kind_of(e) in ("faq", "case")]
                if d.score >= INVITE_RATIO * top and len(evidence) >= INVITE_EVIDENCE:
                    out[d.name] = Invitee(
                        d.name, d.phone, msg("desk.invite_evidence", n=len(evidence))
                    )
        counts: dict[str, int] = {}
        for p in procedures:
            counts[p.department] = counts.get(p.department, 0) + 1
        for name, n in counts.items():
            if n >= INVITE_EVIDENCE and name not in out:
                dept = self.book.departments.get(name)
                phone = dept.phone if dept else ""
                out[name] = Invitee(name, phone, msg("desk.invite_procedures", n=n))
        return tuple(out.values()) if len(out) >= 2 else ()


def fit_topic(topic: str, max_chars: int) -> str:
    """A booking's topic cut to what one search takes: the citizen wrote it at home and may
    have written at length. Cut after the last sentence end within ``max_chars`` when that
    keeps at least half, else at ``max_chars``; life events are read from the whole topic."""
    if len(topic) <= max_chars:
        return topic
    head = topic[:max_chars]
    end = max(head.rfind(mark) for mark in "。！？!?\n")
    return head[: end + 1] if end + 1 >= max_chars // 2 else head


def _compounds(morphemes: Sequence[Morpheme]) -> list[str]:
    """The runs of two or more nouns in a text (児童 + 手当 → 児童手当)."""
    runs: list[list[str]] = [[]]
    for m in morphemes:
        if m.pos1 == "名詞":
            runs[-1].append(m.surface)
        elif runs[-1]:
            runs.append([])
    return ["".join(run) for run in runs if len(run) >= 2]


def _bring(procedures: Sequence[Procedure], faqs: Sequence[FaqResult]) -> tuple[BringItem, ...]:
    """What to ask the citizen to bring: the procedures' documents, then FAQ answers' advice."""
    items: dict[str, BringItem] = {}
    for p in procedures:
        for doc in p.documents:
            items.setdefault(doc, BringItem(doc, f"procedure:{p.id}", p.department, p.name))
    for f in faqs:
        for sentence in _SENTENCE_RE.findall(f.answer):
            text = sentence.strip()
            if _BRING_RE.search(text):
                items.setdefault(text, BringItem(text, DocId.of("faq", f.id), f.department))
    return tuple(list(items.values())[:MAX_BRING])


def brief_dict(brief: Brief) -> dict[str, Any]:
    """A brief as JSON: the panes as the search JSON has them, then the desk's additions."""
    b = brief.booking
    return {
        "booking": {
            "id": b.id,
            "datetime": b.when,
            "channel": b.channel,
            "topic": b.topic,
            "source": b.source,
        },
        "took_ms": round(brief.took_ms, 1),
        "answered": brief.answered,
        "departments": [{**asdict(d), "evidence": list(d.evidence)} for d in brief.departments],
        "faqs": [asdict(f) for f in brief.faqs],
        "cases": [asdict(c) for c in brief.cases],
        "manuals": [asdict(m) for m in brief.manuals],
        "life_events": list(brief.life_events),
        "conditions": list(brief.conditions),
        "procedures": [procedure_dict(p) for p in brief.procedures],
        "bring": [asdict(i) for i in brief.bring],
        "invite": [asdict(i) for i in brief.invite],
        "joint": bool(brief.invite),
    }
