"""Request and response schemas of the briefs (事前予約) and life-event checklist routes."""

from __future__ import annotations

from pydantic import BaseModel, Field

from kb.api.schemas import CaseOut, DepartmentOut, FaqOut, ManualOut
from kb.desk.bookings import MAX_BOOKINGS

TOPIC_MAX_CHARS = 1_000
"""The longest topic accepted at the edge; the search's ``max_query_chars`` is the real limit."""
FILE_MAX_BYTES = 2 * 1024 * 1024
"""The largest bookings file accepted (a day's bookings are a few kilobytes)."""
FILE_MAX_BASE64 = (FILE_MAX_BYTES + 2) // 3 * 4


class BookingIn(BaseModel):
    """One booked consultation."""

    topic: str = Field(
        min_length=1,
        max_length=TOPIC_MAX_CHARS,
        description="相談内容: what the citizen wrote when booking (the search's own length "
        "limit, max_query_chars, applies too).",
    )
    datetime: str = Field(
        min_length=1, max_length=40, description="予約日時 (2026-06-01 09:30, 2026/6/1 9:30...)."
    )
    channel: str = Field(
        default="", max_length=40, description="相談方法 (窓口, 電話, オンライン)."
    )
    id: str = Field(default="", max_length=80, description="予約番号, if the system gives one.")


class DayIn(BaseModel):
    """A day's bookings, as JSON."""

    bookings: list[BookingIn] = Field(
        min_length=1, max_length=MAX_BOOKINGS, description="The bookings, in any order."
    )


class DayFileIn(BaseModel):
    """A day's bookings as the booking system exported them (CSV or xlsx), base64-encoded."""

    filename: str = Field(min_length=1, max_length=255, description="Its name (.csv or .xlsx).")
    content_base64: str = Field(
        min_length=1,
        max_length=FILE_MAX_BASE64,
        description="The file's bytes, base64 (at most 2 MiB before encoding).",
    )


class BookingOut(BaseModel):
    id: str
    datetime: str
    channel: str
    topic: str
    source: str = ""


class ProcedureOut(BaseModel):
    id: str
    name: str
    department: str
    life_events: list[str]
    conditions: list[str]
    deadline: str
    deadline_days: int | None
    documents: list[str]
    fee: str
    where: str
    easy: str = Field(description="やさしい日本語 wording, or empty.")
    note: str
    url: str


class BringOut(BaseModel):
    item: str
    source: str = Field(description="procedure:ID or faq:ID the advice comes from.")
    department: str
    procedure: str


class InviteOut(BaseModel):
    department: str
    phone: str
    reason: str


class BriefOut(BaseModel):
    """The preparation for one booking; panes shaped like the search response's."""

    booking: BookingOut
    took_ms: float
    answered: bool
    departments: list[DepartmentOut]
    faqs: list[FaqOut]
    cases: list[CaseOut] = Field(description="Similar closed cases with their outcomes.")
    manuals: list[ManualOut]
    life_events: list[str]
    conditions: list[str]
    procedures: list[ProcedureOut]
    bring: list[BringOut] = Field(description="Documents to ask the citizen to bring.")
    invite: list[InviteOut] = Field(
        description="Departments to invite to a joint or remote consultation (empty: one)."
    )
    joint: bool


class RowErrorOut(BaseModel):
    source: str
    line: int
    field: str
    message: str


class DayOut(BaseModel):
    briefs: list[BriefOut]
    errors: list[RowErrorOut] = []
    ignored_columns: list[str] = Field(
        default=[], description="Columns of the file that were not read (氏名, 電話番号...)."
    )
    took_ms: float


class ChecklistGroupOut(BaseModel):
    department: str
    phone: str
    location: str
    procedures: list[ProcedureOut]


class LifeEventsOut(BaseModel):
    """The life events recognised in a query and the checklist for the ticked conditions."""

    events: list[str] = Field(description="The events of the checklist (recognised or chosen).")
    recognized: list[str] = Field(description="The events recognised in the query.")
    recognized_conditions: list[str] = Field(description="Conditions to pre-tick.")
    conditions: list[str] = Field(description="The conditions the checklist was filtered by.")
    available_conditions: list[str]
    all_events: list[str] = Field(description="Every life event with procedures, to pick from.")
    groups: list[ChecklistGroupOut]
    hidden: int = Field(description="Procedures left out for an unticked condition.")
