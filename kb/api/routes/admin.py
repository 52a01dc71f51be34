"""Admin API: upload and ingest files, rebuild the index, manage keys, read the audit log.

Every route here is admin-only (the ``/api/v1/admin`` prefix, checked before routing, and
``AdminDep``) and every action that changes something is written to the audit log. The audit
log itself is only ever read here.
"""

from __future__ import annotations

import secrets
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

from fastapi import APIRouter, HTTPException, Query, Request, Response
from starlette.concurrency import run_in_threadpool
from starlette.datastructures import UploadFile
from starlette.types import Message

from kb.api.access import key_store
from kb.api.access_schemas import (
    AuditEventOut,
    AuditOut,
    BuildOut,
    IngestOut,
    KeyCreatedOut,
    KeyIn,
    KeyListOut,
    KeyOut,
    RowErrorOut,
)
from kb.api.deps import AdminDep, AuditDep, SettingsDep, StateDep
from kb.api.filenames import printable_name, upload_name_problem
from kb.api.schemas import ErrorOut
from kb.api.state import AppState
from kb.errors import AccessError, BusyError, InputError
from kb.index.lock import (
    UploadFolder,
    busy_message,
    create_private_file,
    read_holder,
    writer_holder,
    writer_lock,
)
from kb.ingest.readers import SUPPORTED_SUFFIXES
from kb.ingest.redact import shown_file_name
from kb.messages import Lang, language, msg
from kb.security.audit import AuditLog, parse_since
from kb.security.audit_actions import audited
from kb.security.keys import ApiKey
from kb.settings import Settings
from kb.types import DOC_KINDS, DocKind

if TYPE_CHECKING:
    from kb.embed.embedder import Embedder
    from kb.index.builder import BuildReport
    from kb.index.update import UpdateReport

router = APIRouter(prefix="/api/v1/admin", tags=["admin"])

MAX_FILES = 200
_CHUNK = 1024 * 1024

_busy = threading.Lock()


@contextmanager
def _exclusive(what: str, settings: Settings) -> Iterator[None]:
    """One ingest or build at a time, across processes; a second gets 409 instead of queueing.

    ``_busy`` turns away a second request to this worker at once; the writer lock
    (:func:`kb.index.lock.writer_lock`) those to the other workers and the command line's.
    """
    if not _busy.acquire(blocking=False):
        raise HTTPException(409, detail=busy_message(what, read_holder(settings.writer_lock_path)))
    try:
        with writer_lock(settings, what):
            yield
    except BusyError as exc:
        raise HTTPException(409, detail=str(exc)) from exc
    finally:
        _busy.release()


def _refuse_if_busy(what: str, settings: Settings) -> None:
    """409 before an upload is read when a writer runs already (it is checked again after)."""
    holder = writer_holder(settings)
    if _busy.locked() or holder is not None:
        raise HTTPException(409, detail=busy_message(what, holder))


def _key_out(key: ApiKey) -> KeyOut:
    return KeyOut(
        name=key.name,
        role=key.role,
        key_id=key.key_id,
        created_at=key.created_at,
        revoked_at=key.revoked_at,
        expires_at=key.expires_at,
        active=key.active,
    )


def _build_out(report: BuildReport) -> BuildOut:
    return BuildOut(
        index=report.path.name,
        chunks=report.chunks,
        embedded=report.embedded,
        cached=report.cached,
        seconds=round(report.seconds, 3),
    )


def _serving_embedder(state: AppState) -> Embedder | None:
    """The serving model (same weights; one thread for this background job), if loaded.

    Without a service yet, the build loads the model as `kb build` would.
    """
    return state.service.embedder if state.service is not None else None


def _build(settings: Settings, state: AppState) -> BuildOut:
    """Rebuild the index from the store; the serving searcher switches to it on its next query."""
    from kb.index.update import rebuild

    report = rebuild(settings, embedder=_serving_embedder(state), threads=settings.query_threads)
    return _build_out(report)


def _limited(request: Request, limit: int, lang: Lang) -> Request:
    """``request`` with a body that fails with 413 once it grows past ``limit`` bytes."""
    received = 0
    receive = request.receive

    async def counted() -> Message:
        nonlocal received
        message = await receive()
        if message["type"] == "http.request":
            received += len(message.get("body", b""))
            if received > limit:
                raise HTTPException(413, detail=_too_large(limit, lang))
        return message

    return Request(request.scope, counted)


def _too_large(limit: int, lang: Lang) -> str:
    return msg("upload.too_large", lang=lang, limit=limit)


async def _save_uploads(request: Request, settings: Settings, folder: Path) -> list[Path]:
    lang = settings.lang
    content_type = request.headers.get("content-type", "")
    if not content_type.startswith("multipart/form-data"):
        raise HTTPException(415, detail=msg("upload.not_multipart", lang=lang))
    length = request.headers.get("content-length")
    if length is not None and length.isdigit() and int(length) > settings.max_upload_bytes:
        raise HTTPException(413, detail=_too_large(settings.max_upload_bytes, lang))
    limited = _limited(request, settings.max_upload_bytes, lang)
    form = await limited.form(max_files=MAX_FILES, max_fields=MAX_FILES)
    try:
        uploads = [v for v in form.getlist("files") if isinstance(v, UploadFile)]
        if not uploads:
            raise HTTPException(422, detail=msg("upload.no_files", lang=lang))
        paths: list[Path] = []
        for upload in uploads:
            # NUL, control characters or an over-long name would fail open() with a 500.
            problem = upload_name_problem(upload.filename or "")
            if problem is not None:
                shown = shown_file_name(printable_name(upload.filename or ""))
                detail = msg("upload.bad_name", lang=lang, name=repr(shown), problem=problem)
                raise HTTPException(422, detail=detail)
            # Only the base name is used: '../../x.csv' cannot write outside the folder.
            name = Path((upload.filename or "").replace("\\", "/")).name
            if not name or name.startswith("."):
                shown = shown_file_name(upload.filename or "")
                detail = msg("upload.bad_name_plain", lang=lang, name=repr(shown))
                raise HTTPException(422, detail=detail)
            if Path(name).suffix.lower() not in SUPPORTED_SUFFIXES:
                raise HTTPException(
                    415,
                    detail=msg(
                        "upload.unsupported",
                        lang=lang,
                        name=shown_file_name(name),
                        supported=", ".join(SUPPORTED_SUFFIXES),
                    ),
                )
            target = folder / name
            if target.exists():
                detail = msg("upload.twice", lang=lang, name=shown_file_name(name))
                raise HTTPException(422, detail=detail)
            with create_private_file(target) as out:
                while chunk := await upload.read(_CHUNK):
                    out.write(chunk)
            paths.append(target)
        return paths
    finally:
        await form.close()


_UPLOAD_BODY: dict[str, Any] = {
    "requestBody": {
        "required": True,
        "content": {
            "multipart/form-data": {
                "schema": {
                    "type": "object",
                    "required": ["files"],
                    "properties": {
                        "files": {
                            "type": "array",
                            "items": {"type": "string", "format": "binary"},
                            "description": "CSV, JSONL, Markdown, text, DOCX or PDF files.",
                        }
                    },
                }
            }
        },
    }
}


@router.post(
    "/ingest",
    response_model=IngestOut,
    openapi_extra=_UPLOAD_BODY,
    responses={
        409: {"model": ErrorOut},
        413: {"model": ErrorOut},
        415: {"model": ErrorOut},
        422: {"model": ErrorOut},
    },
)
async def ingest_upload(
    request: Request,
    principal: AdminDep,
    audit: AuditDep,
    settings: SettingsDep,
    state: StateDep,
    kind: Annotated[str | None, Query(description="Kind of every file (default: detect).")] = None,
    build: Annotated[bool, Query(description="Rebuild the index afterwards.")] = True,
) -> IngestOut:
    """Store uploaded FAQ, case, manual or department files (then rebuild the index).

    Bad rows are reported with file, line and field and skipped; the good ones are stored.
    The uploaded files are deleted afterwards: only what ingest stores (masked) is kept.
    File names are masked like the text: the store, the row errors and the audit log name a
    file ``upload:<upload_id>/<masked name>`` (the response and the log give ``upload_id``).
    """
    from kb.index.update import ingest_and_build
    from kb.ingest.summary import summary_lines

    if kind is not None and kind not in DOC_KINDS:
        kinds = ", ".join(DOC_KINDS)
        detail = msg("upload.bad_kind", lang=settings.lang, kind=repr(kind), kinds=kinds)
        raise HTTPException(422, detail=detail)
    doc_kind: DocKind | None = kind  # narrowed by the check above
    upload_id = secrets.token_hex(8)
    _refuse_if_busy("ingest", settings)
    # Private (0700 folder, 0600 files), removed in the finally below; what a killed server
    # leaves is removed at the next start (kb.index.update.clean_leftovers).
    uploads = UploadFolder(settings)
    folder = uploads.path
    try:
        paths = await _save_uploads(request, settings, folder)
        with _exclusive("ingest", settings):

            def run() -> UpdateReport:
                # The intent is written before anything is stored: a server killed during the
                # ingest or the build leaves it in the log (`kb audit verify`: "unfinished").
                # The ingest's messages are in the service's language (KB_LANG).
                with (
                    language(settings.lang),
                    audited(
                        audit,
                        "ingest",
                        actor=principal.name,
                        role=principal.role,
                        ids=[shown_file_name(p.name) for p in paths],
                        detail=f"upload {upload_id}: kind {kind or 'detected'}, build {build}",
                    ) as outcome,
                ):
                    update = ingest_and_build(
                        settings,
                        paths,
                        kind=doc_kind,
                        build=build,
                        embedder=_serving_embedder(state),
                        threads=settings.query_threads,
                        upload_id=upload_id,
                    )
                    outcome.ids = tuple(Path(f).name for f in update.ingest.files)
                    outcome.detail = _ingest_summary(upload_id, update)
                return update

            try:
                update = await run_in_threadpool(run)
            except InputError as exc:
                raise HTTPException(422, detail=str(exc)) from exc
            report = update.ingest
            s = report.stats
            built = _build_out(update.build) if update.build is not None else None
    finally:
        uploads.close()
    out = IngestOut(
        upload_id=upload_id,
        files=[Path(f).name for f in report.files],
        documents=report.documents,
        departments=report.departments,
        chunks=report.chunks,
        added=s.added,
        updated=s.updated,
        unchanged=s.unchanged,
        errors=[
            RowErrorOut(source=Path(e.source).name, line=e.line, field=e.field, message=e.message)
            for e in report.errors
        ],
        build=built,
        stored=report.stored,
        warnings=[
            RowErrorOut(source=Path(w.source).name, line=w.line, field=w.field, message=w.message)
            for w in report.warnings
        ],
        messages=summary_lines(report, details=False, lang=settings.lang),
    )
    return out


def _ingest_summary(upload_id: str, update: UpdateReport) -> str:
    """The result of an upload for the audit log: counts, row errors, the new index."""
    report = update.ingest
    s = report.stats
    return (
        f"upload {upload_id}: {report.documents} documents, {report.departments} departments "
        f"({s.added} added, {s.updated} updated, {s.unchanged} unchanged), "
        f"{len(report.errors)} row error(s)"
        + (f"; built {update.build.path.name}" if update.build is not None else "")
    )


@router.post("/build", response_model=BuildOut, responses={409: {"model": ErrorOut}})
async def build(
    principal: AdminDep, audit: AuditDep, settings: SettingsDep, state: StateDep
) -> BuildOut:
    """Rebuild the index from the store (only changed texts are embedded again)."""

    def run() -> BuildOut:
        with audited(audit, "build", actor=principal.name, role=principal.role) as outcome:
            out = _build(settings, state)
            outcome.detail = f"built {out.index}: {out.chunks} chunks ({out.embedded} embedded)"
        return out

    with _exclusive("build", settings):
        return await run_in_threadpool(run)


@router.get("/keys", response_model=KeyListOut)
def list_keys(request: Request, principal: AdminDep, audit: AuditDep) -> KeyListOut:
    """Every key, active and revoked (names, roles, public ids; never secrets or hashes)."""
    keys = key_store(request.app).list()
    audit.append("keys.list", actor=principal.name, role=principal.role, detail=f"{len(keys)} keys")
    return KeyListOut(keys=[_key_out(k) for k in keys])


@router.post(
    "/keys", response_model=KeyCreatedOut, status_code=201, responses={409: {"model": ErrorOut}}
)
def create_key(
    body: KeyIn, request: Request, response: Response, principal: AdminDep, audit: AuditDep
) -> KeyCreatedOut:
    """Create a key; the response is the only place its secret ever appears."""
    try:
        key, secret = key_store(request.app).create(
            body.name, body.role, expires_days=body.expires_days
        )
    except AccessError as exc:
        raise HTTPException(409 if exc.reason == "conflict" else 422, detail=str(exc)) from exc
    audit.append(
        "keys.create",
        actor=principal.name,
        role=principal.role,
        ids=[key.name],
        detail=f"{key.role} key {key.key_id}",
    )
    response.headers["Cache-Control"] = "no-store"
    return KeyCreatedOut(**_key_out(key).model_dump(), key=secret)


@router.delete("/keys/{name}", response_model=KeyOut, responses={404: {"model": ErrorOut}})
def revoke_key(name: str, request: Request, principal: AdminDep, audit: AuditDep) -> KeyOut:
    """Revoke the active key ``name``; it stops working at once, also on other workers."""
    try:
        key = key_store(request.app).revoke(name)
    except AccessError as exc:
        raise HTTPException(404, detail=str(exc)) from exc
    audit.append(
        "keys.revoke",
        actor=principal.name,
        role=principal.role,
        ids=[key.name],
        detail=f"{key.role} key {key.key_id}",
    )
    return _key_out(key)


@router.get("/audit", response_model=AuditOut, responses={422: {"model": ErrorOut}})
def read_audit(
    principal: AdminDep,
    audit: AuditDep,
    since: Annotated[str, Query(description="ISO date or date-time (UTC unless given).")] = "",
    limit: Annotated[int, Query(ge=1, le=10_000)] = 1000,
) -> AuditOut:
    """Audit events from ``since`` on, oldest first (read-only: nothing can change the log)."""
    try:
        start = parse_since(since) if since else ""
    except InputError as exc:
        raise HTTPException(422, detail=str(exc)) from exc
    events = list(audit.events(since=start, limit=limit))
    _record_read(audit, principal.name, principal.role, since, len(events))
    return AuditOut(
        events=[
            AuditEventOut(
                id=e.id,
                created_at=e.created_at,
                actor=e.actor,
                role=e.role,
                action=e.action,
                query=e.query,
                ids=list(e.ids),
                detail=e.detail,
                hash=e.hash,
            )
            for e in events
        ]
    )


def _record_read(audit: AuditLog, actor: str, role: str, since: str, n: int) -> None:
    audit.append("audit.read", actor=actor, role=role, detail=f"since {since or '-'}: {n} events")
