"""Request and response schemas of the consultation desk: records and hand-off sheets."""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import BaseModel, Field

from kb.desk.handoff import MAX_CONTACT_CHARS, HandoffDraft
from kb.desk.records import (
    MAX_NOTES_CHARS,
    MAX_QUERIES,
    MAX_QUERY_CHARS,
    MAX_SHORT_CHARS,
    MAX_WORDS_CHARS,
    RecordDraft,
)
from kb.store.records import ConsultationRecord, Handoff

ShortText = Annotated[str, Field(max_length=MAX_SHORT_CHARS)]
QueryText = Annotated[str, Field(max_length=MAX_QUERY_CHARS)]


class RecordIn(BaseModel):
    """A new record, or changes to an open one (a field left out is kept as it is).

    Every text is masked before it is stored (names, phone numbers, addresses...).
    """

    citizen_words: str | None = Field(
        default=None, max_length=MAX_WORDS_CHARS, description="What the citizen said."
    )
    notes: str | None = Field(
        default=None, max_length=MAX_NOTES_CHARS, description="The counsellor's notes."
    )
    actions: str | None = Field(
        default=None, max_length=MAX_WORDS_CHARS, description="What was done."
    )
    channel: str | None = Field(
        default=None, max_length=20, description="窓口, 電話, メール, LINE or オンライン."
    )
    category: str | None = Field(
        default=None, max_length=MAX_SHORT_CHARS, description="分類 (category)."
    )
    departments: list[ShortText] | None = Field(
        default=None, max_length=30, description="Departments involved (directory names)."
    )
    queries: list[QueryText] | None = Field(
        default=None,
        max_length=MAX_QUERIES,
        description="The searches made in this consultation, oldest first.",
    )
    date: str | None = Field(
        default=None, max_length=30, description="The consultation's date (default: today)."
    )

    def draft(self) -> RecordDraft:
        return RecordDraft(
            citizen_words=self.citizen_words,
            notes=self.notes,
            actions=self.actions,
            channel=self.channel,
            category=self.category,
            departments=self.departments,
            queries=self.queries,
            date=self.date,
        )


class RecordOut(BaseModel):
    id: str
    status: str
    date: str
    channel: str
    category: str
    citizen_words: str
    notes: str
    actions: str
    departments: list[str]
    queries: list[str]
    created_by: str
    created_at: str
    updated_at: str
    closed_at: str
    updated_by: str = Field(default="", description="The key that last changed it.")
    closed_by: str = Field(default="", description="The key that closed it.")
    case_id: str = Field(description="The case document a closed record is stored as; ''.")
    handoffs: list[str] = Field(default_factory=list, description="Hand-off sheet ids.")

    @classmethod
    def of(cls, r: ConsultationRecord, handoffs: list[str] | None = None) -> RecordOut:
        return cls(
            id=r.id,
            status=r.status,
            date=r.date,
            channel=r.channel,
            category=r.category,
            citizen_words=r.citizen_words,
            notes=r.notes,
            actions=r.actions,
            departments=list(r.departments),
            queries=list(r.queries),
            created_by=r.created_by,
            created_at=r.created_at,
            updated_at=r.updated_at,
            closed_at=r.closed_at,
            updated_by=r.updated_by,
            closed_by=r.closed_by,
            case_id=r.case_id if r.closed else "",
            handoffs=handoffs or [],
        )


class RecordSummaryOut(BaseModel):
    """One line of the records list."""

    id: str
    status: str
    date: str
    channel: str
    citizen_words: str = Field(description="The first 120 characters.")
    departments: list[str]
    updated_at: str


class RecordListOut(BaseModel):
    records: list[RecordSummaryOut]


class ClosedOut(BaseModel):
    record: RecordOut
    seconds: float = Field(description="From the request to the new index serving.")
    index: str
    embedded: int
    cached: int


class HandoffIn(BaseModel):
    """A hand-off sheet; empty texts are taken from the record (words, notes, actions)."""

    to_department: str = Field(
        default="",
        max_length=MAX_SHORT_CHARS,
        description="The receiving department (a directory name) or outside body.",
    )
    to_outside: str = Field(
        default="", max_length=MAX_SHORT_CHARS, description="An outside body and its contact."
    )
    urgency: str = Field(default="通常", max_length=10, description="通常, 至急 or 緊急.")
    summary: str = Field(
        default="", max_length=MAX_WORDS_CHARS, description="The consultation in brief."
    )
    heard: str = Field(
        default="", max_length=MAX_NOTES_CHARS, description="What was heard (masked)."
    )
    done: str = Field(default="", max_length=MAX_WORDS_CHARS, description="What was done.")
    bring: str = Field(
        default="", max_length=MAX_SHORT_CHARS * 5, description="What the citizen brings."
    )

    def draft(self) -> HandoffDraft:
        return HandoffDraft(
            to_department=self.to_department,
            to_outside=self.to_outside,
            urgency=self.urgency,
            summary=self.summary,
            heard=self.heard,
            done=self.done,
            bring=self.bring,
        )


class HandoffOut(BaseModel):
    id: str
    record_id: str
    to_department: str
    to_outside: str
    urgency: str
    summary: str
    heard: str
    done: str
    bring: str
    case_ids: list[str]
    manual_ids: list[str]
    created_by: str
    created_at: str

    @classmethod
    def of(cls, h: Handoff) -> HandoffOut:
        return cls(
            id=h.id,
            record_id=h.record_id,
            to_department=h.to_department,
            to_outside=h.to_outside,
            urgency=h.urgency,
            summary=h.summary,
            heard=h.heard,
            done=h.done,
            bring=h.bring,
            case_ids=list(h.case_ids),
            manual_ids=list(h.manual_ids),
            created_by=h.created_by,
            created_at=h.created_at,
        )


class SheetIn(BaseModel):
    """How to print a hand-off: the citizen's name and phone only if the counsellor adds them.

    They are put on this one sheet and nowhere else: never stored, logged or audited.
    """

    format: Literal["html", "docx"] = Field(
        default="html", description="html: the A4 print view; docx: a Word file."
    )
    citizen_name: str = Field(
        default="",
        max_length=MAX_CONTACT_CHARS,
        description="Printed on the sheet only; never stored or logged.",
    )
    citizen_phone: str = Field(
        default="",
        max_length=MAX_CONTACT_CHARS,
        description="Printed on the sheet only; never stored or logged.",
    )
