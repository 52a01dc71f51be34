"""Consultation records (相談記録) and hand-off sheets (引継ぎ票) for the staff console.

Staff role. Every step is audited with ids only, never the text: ``record.create``,
``record.update``, ``record.close`` and ``handoff`` as start/result pairs
(:func:`kb.security.audit_actions.audited`), ``record.list``, ``record.open``,
``record.export``, ``handoff.open`` and ``handoff.print`` as single events. A citizen's name
and phone number sent for a printed sheet go into that response only.
"""

from __future__ import annotations

import datetime as dt
from typing import Annotated, Any

from fastapi import APIRouter, HTTPException, Query, Request
from fastapi.responses import Response
from pydantic import BaseModel
from starlette.concurrency import run_in_threadpool

from kb.api.auth import Principal
from kb.api.deps import AuditDep, SearcherDep, SettingsDep, StaffDep, StateDep
from kb.api.ratelimit import CLOSES_PER_MINUTE, DESK_CHARS_PER_MINUTE, limit_key
from kb.api.schemas import ErrorOut
from kb.api.schemas_desk import (
    ClosedOut,
    HandoffIn,
    HandoffOut,
    RecordIn,
    RecordListOut,
    RecordOut,
    RecordSummaryOut,
    SheetIn,
)
from kb.api.state import opened_once
from kb.desk.export import export_bytes
from kb.desk.handoff import (
    CitizenContact,
    get_handoff,
    sheet_docx,
    sheet_for,
    sheet_html,
    write_handoff,
)
from kb.desk.records import Closure, Desk, closure_summary
from kb.errors import BusyError, DeskError
from kb.messages import msg
from kb.search.searcher import Searcher
from kb.security.audit import AuditLog
from kb.security.audit_actions import audited
from kb.settings import Settings
from kb.store.records import RECORD_STATUSES, Handoff

router = APIRouter(prefix="/api/v1", tags=["consultation records"])

_DOCX = "application/vnd.openxmlformats-officedocument.wordprocessingml.document"
_XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
_STATUS = {"invalid": 422, "not_found": 404, "closed": 409, "conflict": 409, "unavailable": 503}
_ERRORS: dict[int | str, dict[str, Any]] = {
    code: {"model": ErrorOut} for code in (404, 409, 422, 429, 503)
}
_DATE = r"^\d{4}-\d{2}-\d{2}$"


def desk_of(request: Request, searcher: Searcher) -> Desk:
    """The app's :class:`Desk`, created on first use (sharing the searcher's tokenizer)."""
    settings: Settings = request.app.state.settings
    return opened_once(request.app, "desk", lambda: Desk(settings, searcher.tokenizer))


def _http(exc: DeskError) -> HTTPException:
    return HTTPException(status_code=_STATUS.get(exc.reason, 422), detail=str(exc))


def _note(audit: AuditLog, action: str, principal: Principal, ids: list[str]) -> None:
    audit.append(action, actor=principal.name, role=principal.role, ids=ids)


def _charge_text(request: Request, principal: Principal, body: BaseModel) -> None:
    """Take the characters of ``body``'s texts from the key's budget (they are all masked, in
    Python): 429 with ``Retry-After`` past :data:`DESK_CHARS_PER_MINUTE`."""
    too_fast = msg("desk.writing_too_fast", per_minute=int(DESK_CHARS_PER_MINUTE))
    limiter = request.app.state.desk_text_limiter
    cost = float(text_chars(body.model_dump()))
    limit_key(limiter, principal.name, status=429, detail=too_fast, cost=cost)


def text_chars(value: object) -> int:
    """The characters of every string in ``value`` (a model's fields, lists of strings)."""
    if isinstance(value, str):
        return len(value)
    if isinstance(value, dict):
        return sum(text_chars(v) for v in value.values())
    if isinstance(value, (list, tuple)):
        return sum(text_chars(v) for v in value)
    return 0


def _check_dates(date_from: str | None, date_to: str | None) -> None:
    for name, value in (("date_from", date_from), ("date_to", date_to)):
        if value:
            try:
                dt.date.fromisoformat(value)
            except ValueError:
                raise HTTPException(
                    status_code=422, detail=f"{name}: '{value}' は実在する日付ではありません"
                ) from None


# --- records --------------------------------------------------------------------------------


@router.get("/records", response_model=RecordListOut, responses=_ERRORS)
def list_records(
    request: Request,
    searcher: SearcherDep,
    principal: StaffDep,
    audit: AuditDep,
    status: Annotated[str | None, Query(description="対応中 or 完了")] = None,
    department: Annotated[str | None, Query(max_length=200)] = None,
    date_from: Annotated[str | None, Query(pattern=_DATE)] = None,
    date_to: Annotated[str | None, Query(pattern=_DATE)] = None,
    limit: Annotated[int, Query(ge=1, le=1000)] = 200,
) -> RecordListOut:
    """Records, newest first, filtered by status, department and consultation date."""
    found = _find(request, searcher, status, department, date_from, date_to, limit)
    _note(audit, "record.list", principal, [r.id for r in found])
    return RecordListOut(
        records=[
            RecordSummaryOut(
                id=r.id,
                status=r.status,
                date=r.date,
                channel=r.channel,
                citizen_words=r.citizen_words[:120],
                departments=list(r.departments),
                updated_at=r.updated_at,
            )
            for r in found
        ]
    )


def _find(
    request: Request,
    searcher: Searcher,
    status: str | None,
    department: str | None,
    date_from: str | None,
    date_to: str | None,
    limit: int | None,
) -> list[Any]:
    if status and status not in RECORD_STATUSES:
        raise HTTPException(
            status_code=422, detail=f"status は {' または '.join(RECORD_STATUSES)} です"
        )
    _check_dates(date_from, date_to)
    desk = desk_of(request, searcher)
    name = ""
    if department:
        try:
            name = desk.context(searcher).department(department)
        except DeskError as exc:
            raise _http(exc) from exc
    return desk.records().find(
        status=status or "",
        department=name,
        date_from=date_from or "",
        date_to=date_to or "",
        limit=limit,
    )


@router.get("/records/export", responses={200: {"content": {"text/csv": {}, _XLSX: {}}}, **_ERRORS})
def export_records(
    request: Request,
    searcher: SearcherDep,
    principal: StaffDep,
    audit: AuditDep,
    format: Annotated[str, Query(pattern="^(csv|xlsx)$")] = "csv",
    status: Annotated[str | None, Query()] = None,
    department: Annotated[str | None, Query(max_length=200)] = None,
    date_from: Annotated[str | None, Query(pattern=_DATE)] = None,
    date_to: Annotated[str | None, Query(pattern=_DATE)] = None,
) -> Response:
    """Records as ingest's case columns (CSV with BOM, or xlsx): ``kb ingest`` reads the CSV."""
    found = _find(request, searcher, status, department, date_from, date_to, None)
    data = export_bytes(found, format)
    _note(audit, "record.export", principal, [r.id for r in found])
    name = f"records-{dt.date.today():%Y%m%d}.{format}"
    media = "text/csv; charset=utf-8" if format == "csv" else _XLSX
    return Response(
        data, media_type=media, headers={"Content-Disposition": f'attachment; filename="{name}"'}
    )


@router.post("/records", response_model=RecordOut, status_code=201, responses=_ERRORS)
def create_record(
    request: Request, body: RecordIn, searcher: SearcherDep, principal: StaffDep, audit: AuditDep
) -> RecordOut:
    """Start a record (対応中) from the current consultation; its texts are masked."""
    _charge_text(request, principal, body)
    desk = desk_of(request, searcher)
    try:
        with audited(audit, "record.create", actor=principal.name, role=principal.role) as done:
            record = desk.create(body.draft(), desk.context(searcher), actor=principal.name)
            done.ids = (record.id,)
    except DeskError as exc:
        raise _http(exc) from exc
    return RecordOut.of(record)


@router.get("/records/{record_id}", response_model=RecordOut, responses=_ERRORS)
def get_record(
    request: Request, record_id: str, searcher: SearcherDep, principal: StaffDep, audit: AuditDep
) -> RecordOut:
    """One record with the ids of its hand-off sheets."""
    desk = desk_of(request, searcher)
    try:
        record = desk.get(record_id)
    except DeskError as exc:
        raise _http(exc) from exc
    handoffs = [h.id for h in desk.records().handoffs([record.id])]
    _note(audit, "record.open", principal, [record.id, *handoffs])
    return RecordOut.of(record, handoffs)


def _changed(body: RecordIn) -> str:
    """The names of the fields a request changes (the audit's detail; never their text)."""
    names = sorted(k for k, v in body.model_dump().items() if v is not None)
    return "fields: " + ", ".join(names) if names else ""


@router.patch("/records/{record_id}", response_model=RecordOut, responses=_ERRORS)
def update_record(
    request: Request,
    record_id: str,
    body: RecordIn,
    searcher: SearcherDep,
    principal: StaffDep,
    audit: AuditDep,
) -> RecordOut:
    """Change an open record (a closed one is 409)."""
    _charge_text(request, principal, body)
    desk = desk_of(request, searcher)
    ids = [record_id[:20]]
    try:
        with audited(
            audit,
            "record.update",
            actor=principal.name,
            role=principal.role,
            ids=ids,
            detail=_changed(body),
        ):
            record = desk.update(
                record_id, body.draft(), desk.context(searcher), actor=principal.name
            )
    except DeskError as exc:
        raise _http(exc) from exc
    return RecordOut.of(record, [h.id for h in desk.records().handoffs([record.id])])


@router.post("/records/{record_id}/close", response_model=ClosedOut, responses=_ERRORS)
async def close_record(
    request: Request,
    record_id: str,
    state: StateDep,
    searcher: SearcherDep,
    principal: StaffDep,
    audit: AuditDep,
    body: RecordIn | None = None,
) -> ClosedOut:
    """Close a record (完了): it becomes a case, searchable by the next search.

    Its last changes (if any) are saved with it. The case is stored and the index built the
    incremental way (embedding cache) under the writer lock: 409 while another ingest, build
    or approval writes.
    """
    service = state.service
    if service is None:
        raise HTTPException(status_code=503, detail="the search service is not loaded yet")
    # CLOSES_PER_MINUTE: each close holds the writer lock for a build.
    too_fast = msg("desk.closing_too_fast", per_minute=int(CLOSES_PER_MINUTE))
    limit_key(request.app.state.close_limiter, principal.name, status=429, detail=too_fast)
    desk = desk_of(request, searcher)
    draft = (body or RecordIn()).draft()

    def close() -> Closure:
        ctx = desk.context(searcher)
        ids = [record_id[:20]]
        with audited(
            audit, "record.close", actor=principal.name, role=principal.role, ids=ids
        ) as done:
            closure = desk.close(record_id, draft, ctx, service.embedder, actor=principal.name)
            done.ids = (closure.record.id, closure.record.case_id)
            done.detail = closure_summary(closure)
        return closure

    try:
        closure = await run_in_threadpool(close)
    except DeskError as exc:
        raise _http(exc) from exc
    except BusyError as exc:
        raise HTTPException(status_code=409, detail=str(exc)) from exc
    # Open the new build now, so the counsellor's next search does not wait for it.
    await state.run(service.searcher)
    return ClosedOut(
        record=RecordOut.of(closure.record),
        seconds=closure.seconds,
        index=closure.build.path.name,
        embedded=closure.build.embedded,
        cached=closure.build.cached,
    )


# --- hand-offs ------------------------------------------------------------------------------


def _handoff(
    request: Request,
    body: HandoffIn,
    searcher: Searcher,
    principal: Principal,
    audit: AuditLog,
    record_id: str,
) -> HandoffOut:
    _charge_text(request, principal, body)
    desk = desk_of(request, searcher)
    ids = [record_id[:20]] if record_id else []
    try:
        with audited(audit, "handoff", actor=principal.name, role=principal.role, ids=ids) as done:
            handoff = write_handoff(
                desk,
                body.draft(),
                desk.context(searcher),
                searcher,
                actor=principal.name,
                record_id=record_id,
            )
            done.ids = _handoff_ids(handoff)
    except DeskError as exc:
        raise _http(exc) from exc
    return HandoffOut.of(handoff)


def _handoff_ids(h: Handoff) -> tuple[str, ...]:
    """A hand-off's id, its record's and the documents it shows (for the audit log)."""
    return (h.id, *([h.record_id] if h.record_id else []), *h.case_ids, *h.manual_ids)


@router.post(
    "/records/{record_id}/handoffs", response_model=HandoffOut, status_code=201, responses=_ERRORS
)
def record_handoff(
    request: Request,
    record_id: str,
    body: HandoffIn,
    searcher: SearcherDep,
    principal: StaffDep,
    audit: AuditDep,
) -> HandoffOut:
    """Write a hand-off sheet from a record (linked to it)."""
    return _handoff(request, body, searcher, principal, audit, record_id)


@router.post("/handoffs", response_model=HandoffOut, status_code=201, responses=_ERRORS)
def search_handoff(
    request: Request, body: HandoffIn, searcher: SearcherDep, principal: StaffDep, audit: AuditDep
) -> HandoffOut:
    """Write a hand-off sheet from the current search alone (no record)."""
    return _handoff(request, body, searcher, principal, audit, "")


@router.get("/handoffs/{handoff_id}", response_model=HandoffOut, responses=_ERRORS)
def read_handoff(
    request: Request, handoff_id: str, searcher: SearcherDep, principal: StaffDep, audit: AuditDep
) -> HandoffOut:
    """One hand-off sheet's stored (masked) content."""
    try:
        handoff = get_handoff(desk_of(request, searcher), handoff_id)
    except DeskError as exc:
        raise _http(exc) from exc
    _note(audit, "handoff.open", principal, list(_handoff_ids(handoff)))
    return HandoffOut.of(handoff)


@router.post(
    "/handoffs/{handoff_id}/sheet",
    responses={200: {"content": {"text/html": {}, _DOCX: {}}}, **_ERRORS},
)
def print_sheet(
    request: Request,
    handoff_id: str,
    body: SheetIn,
    searcher: SearcherDep,
    settings: SettingsDep,
    principal: StaffDep,
    audit: AuditDep,
) -> Response:
    """The sheet to print: an A4 HTML page or a Word file.

    The citizen's name and phone travel in this request's body (never in its URL) and come
    back in this response only; the audit event says whether they were on it, not what they
    were.
    """
    desk = desk_of(request, searcher)
    contact = CitizenContact(body.citizen_name, body.citizen_phone)
    try:
        handoff = get_handoff(desk, handoff_id)
        sheet = sheet_for(
            desk,
            handoff,
            searcher,
            contact,
            sender=settings.contact_name,
            sender_phone=settings.contact_phone,
        )
    except DeskError as exc:
        raise _http(exc) from exc
    audit.append(
        "handoff.print",
        actor=principal.name,
        role=principal.role,
        ids=list(_handoff_ids(handoff)),
        detail=f"{body.format}, citizen contact {'on' if contact else 'not on'} the sheet",
    )
    headers = {"Cache-Control": "no-store"}
    if body.format == "html":
        return Response(sheet_html(sheet), media_type="text/html; charset=utf-8", headers=headers)
    data = sheet_docx(sheet)
    headers["Content-Disposition"] = f'attachment; filename="handoff-{handoff.id}.docx"'
    return Response(data, media_type=_DOCX, headers=headers)
