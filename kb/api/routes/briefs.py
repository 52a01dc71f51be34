"""Briefs for booked consultations (事前予約): one booking, or a day's, and the day view page.

Every brief is recorded in the audit log before it is returned (action ``brief``, the topic
masked as every search query is, the ids shown); the topic is never written anywhere else.
"""

from __future__ import annotations

import base64
import binascii
import tempfile
import time
from pathlib import Path
from typing import Annotated, Any

from fastapi import APIRouter, Body, HTTPException, Request
from fastapi.responses import FileResponse

from kb.api.auth import Principal
from kb.api.deps import AuditDep, SearcherDep, StaffDep, StateDep
from kb.api.ratelimit import BRIEFS_PER_MINUTE, limit_key
from kb.api.routes.pages import STATIC_DIR
from kb.api.schemas import ErrorOut
from kb.api.schemas_briefs import (
    FILE_MAX_BYTES,
    BookingIn,
    BriefOut,
    DayFileIn,
    DayIn,
    DayOut,
    RowErrorOut,
)
from kb.desk.bookings import (
    MAX_BOOKINGS,
    Booking,
    BookingFile,
    parse_channel,
    parse_when,
    read_bookings,
)
from kb.desk.briefs import Brief, BriefMaker, brief_dict
from kb.errors import InputError, QueryError
from kb.ingest.redact import shown_file_name
from kb.messages import msg
from kb.search.searcher import Searcher
from kb.security.audit import AuditLog

router = APIRouter(prefix="/api/v1", tags=["briefs"])
pages = APIRouter(include_in_schema=False)

_ERRORS: dict[int | str, dict[str, Any]] = {code: {"model": ErrorOut} for code in (422, 429, 503)}


def _booking(data: BookingIn) -> Booking:
    try:
        when = parse_when(data.datetime)
    except ValueError as exc:
        raise HTTPException(status_code=422, detail=f"datetime: {exc}") from None
    return Booking(when=when, channel=parse_channel(data.channel), topic=data.topic, id=data.id)


def _charge(request: Request, principal: Principal, bookings: int) -> None:
    """Take ``bookings`` from the key's budget of briefs: 429 with ``Retry-After`` past
    :data:`BRIEFS_PER_MINUTE` (a whole day's list at once)."""
    too_fast = msg("desk.briefing_too_fast", per_minute=int(BRIEFS_PER_MINUTE), burst=MAX_BOOKINGS)
    limiter = request.app.state.brief_limiter
    limit_key(limiter, principal.name, status=429, detail=too_fast, cost=float(bookings))


def _make(
    searcher: Searcher, audit: AuditLog, actor: str, role: str, bookings: list[Booking]
) -> list[Brief]:
    """The briefs of ``bookings``, each audited before any is returned."""
    maker = BriefMaker(searcher)
    briefs = []
    for booking in bookings:
        try:
            brief = maker.brief(booking)
        except QueryError as exc:
            where = f" ({booking.source})" if booking.source else ""
            raise QueryError(f"相談内容{where}: {exc}") from None
        briefs.append(brief)
    for brief in briefs:
        audit.append(
            "brief", actor=actor, role=role, query=brief.booking.topic, ids=brief.shown_ids()
        )
    return briefs


@router.post("/briefs", response_model=BriefOut, responses=_ERRORS)
async def brief(
    request: Request,
    searcher: SearcherDep,
    state: StateDep,
    principal: StaffDep,
    audit: AuditDep,
    booking: Annotated[BookingIn, Body()],
) -> BriefOut:
    """The brief of one booking: departments (and whom to invite), FAQ, similar closed cases,
    manual sections, the life events' procedures and the documents to bring."""
    found = _booking(booking)
    _charge(request, principal, 1)
    made = await state.run(_make, searcher, audit, principal.name, principal.role, [found])
    return BriefOut.model_validate(brief_dict(made[0]))


@router.post("/briefs/day", response_model=DayOut, responses=_ERRORS)
async def brief_day(
    request: Request,
    searcher: SearcherDep,
    state: StateDep,
    principal: StaffDep,
    audit: AuditDep,
    day: Annotated[DayIn, Body()],
) -> DayOut:
    """The briefs of a day's bookings given as JSON, in time order."""
    bookings = sorted((_booking(b) for b in day.bookings), key=lambda b: b.when)
    _charge(request, principal, len(bookings))
    t0 = time.perf_counter()
    made = await state.run(_make, searcher, audit, principal.name, principal.role, bookings)
    return DayOut(
        briefs=[BriefOut.model_validate(brief_dict(b)) for b in made],
        took_ms=(time.perf_counter() - t0) * 1000,
    )


@router.post("/briefs/file", response_model=DayOut, responses=_ERRORS)
async def brief_file(
    request: Request,
    searcher: SearcherDep,
    state: StateDep,
    principal: StaffDep,
    audit: AuditDep,
    upload: Annotated[DayFileIn, Body()],
) -> DayOut:
    """The briefs of a day's bookings file (CSV or xlsx, base64): bad rows are reported, the
    good ones briefed; columns other than 予約日時 / 相談方法 / 相談内容 / 予約番号 are not read."""
    # Its name comes back in every brief's source and in errors: masked, as an ingest's.
    name = shown_file_name(Path(upload.filename).name)
    suffix = Path(name).suffix.lower()
    if suffix not in (".csv", ".xlsx"):
        raise HTTPException(
            status_code=422, detail=f"{name}: CSV か xlsx のファイルを選んでください"
        )
    try:
        data = base64.b64decode(upload.content_base64, validate=True)
    except (binascii.Error, ValueError):
        raise HTTPException(status_code=422, detail=msg("briefs.not_base64", name=name)) from None
    if len(data) > FILE_MAX_BYTES:
        raise HTTPException(
            status_code=422,
            detail=msg("briefs.too_large", name=name, size=len(data), limit=FILE_MAX_BYTES),
        )
    t0 = time.perf_counter()
    parsed = await state.run(_read_upload, name, suffix, data)
    _charge(request, principal, len(parsed.bookings))
    made = await state.run(
        _make, searcher, audit, principal.name, principal.role, list(parsed.bookings)
    )
    return DayOut(
        briefs=[BriefOut.model_validate(brief_dict(b)) for b in made],
        errors=[RowErrorOut(**e.__dict__) for e in parsed.errors],
        ignored_columns=list(parsed.ignored_columns),
        took_ms=(time.perf_counter() - t0) * 1000,
    )


def _read_upload(name: str, suffix: str, data: bytes) -> BookingFile:
    """Parse an uploaded bookings file; its errors name it by its own name, not a temp path."""
    with tempfile.TemporaryDirectory(prefix="kb-bookings-") as folder:
        path = Path(folder) / f"bookings{suffix}"
        path.write_bytes(data)
        try:
            parsed = read_bookings(path)
        except InputError as exc:
            where = f"{name}:{exc.line}" if exc.line else name
            field = f" {exc.field}:" if exc.field else ""
            raise HTTPException(status_code=422, detail=f"{where}:{field} {exc.message}") from None
    shown = str(path)

    def rename(source: str) -> str:
        return name + source[len(shown) :] if source.startswith(shown) else source

    return BookingFile(
        source=name,
        bookings=tuple(
            Booking(b.when, b.channel, b.topic, b.id, rename(b.source)) for b in parsed.bookings
        ),
        errors=tuple(type(e)(rename(e.source), e.line, e.field, e.message) for e in parsed.errors),
        ignored_columns=parsed.ignored_columns,
    )


@pages.get("/briefs")
def day_view() -> FileResponse:
    """The day view of booked consultations: a page shell (its data needs a staff key)."""
    return FileResponse(
        STATIC_DIR / "briefs.html", media_type="text/html", headers={"Cache-Control": "no-cache"}
    )
