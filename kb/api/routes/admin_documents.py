"""Admin API: delete a document everywhere (``DELETE /api/v1/admin/documents/{id}``).

Admin-only like every route under ``/api/v1/admin`` (checked before routing, and
``AdminDep``). The work is :func:`kb.index.remove.remove_documents`, the same as ``kb delete``:
the audit log records the admin's key name and the id, never the text.
"""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, HTTPException, Query
from pydantic import BaseModel, Field
from starlette.concurrency import run_in_threadpool

from kb.api.deps import AdminDep, AuditDep, SettingsDep, StateDep
from kb.api.schemas import ErrorOut
from kb.errors import DocumentNotFound, InputError
from kb.index.remove import RemoveReport, remove_documents

router = APIRouter(prefix="/api/v1/admin", tags=["admin"])


class DeleteOut(BaseModel):
    """What a deletion removed, file by file (counts and ids only)."""

    removed: list[str] = Field(description="The documents deleted.")
    erased: bool = Field(description="Log rows quoting or naming them were erased too.")
    cache_rows: int = Field(description="Embedding-cache rows removed.")
    raw_rows: int = Field(description="Unmasked texts removed (keep_raw_text).")
    directory_entries: int = Field(description="Department-directory entries removed.")
    readings_rows: int = Field(description="Cached readings (kana) of their texts removed.")
    records: int = Field(description="Consultation records removed with their cases.")
    handoffs: int = Field(description="Hand-off sheets removed with those records.")
    query_rows: int = Field(description="Query-log rows erased.")
    feedback_rows: int = Field(description="Feedback rows erased.")
    drafts: int = Field(description="FAQ drafts erased.")
    audit_mentions: int = Field(
        description="Audit events whose masked query quotes it: kept, the log is append-only."
    )
    builds_removed: int = Field(description="Older index builds removed (they held the text).")
    wal_truncated: bool = Field(description="Every SQLite write-ahead log touched was emptied.")
    index: str | None = Field(description="The build serving without them.")
    retired_models: list[str] = Field(
        description="Adapted models deleted because they learnt from an erased document."
    )

    @classmethod
    def of(cls, report: RemoveReport) -> DeleteOut:
        logs = report.logs
        return cls(
            removed=list(report.removed),
            erased=report.erased,
            cache_rows=report.cache_rows,
            raw_rows=report.raw_rows,
            directory_entries=report.directory_entries,
            readings_rows=report.readings_rows,
            records=report.records,
            handoffs=report.handoffs,
            query_rows=logs.query_rows,
            feedback_rows=logs.feedback_rows,
            drafts=logs.drafts,
            audit_mentions=logs.audit_mentions,
            builds_removed=report.builds_removed,
            wal_truncated=report.wal_truncated,
            index=report.build.path.name if report.build is not None else None,
            retired_models=list(report.retired_models),
        )


@router.delete(
    "/documents/{doc_id:path}",
    response_model=DeleteOut,
    responses={
        404: {"model": ErrorOut},
        409: {"model": ErrorOut},
        422: {"model": ErrorOut},
    },
)
async def delete_document(
    doc_id: str,
    principal: AdminDep,
    audit: AuditDep,
    settings: SettingsDep,
    state: StateDep,
    erase: Annotated[
        bool, Query(description="Also erase log rows quoting an FAQ entry (always for cases).")
    ] = False,
) -> DeleteOut:
    """Delete one document (``faq:F0001``, ``case:R6-001``...) from every file kb keeps.

    ``case:desk-R000001`` (a closed consultation record) takes the record and its hand-off
    sheets with it; ``procedure:P001`` deletes a life-event procedure.

    The store, the embedding cache, the raw text and every index build lose it, and a new
    index without it serves when this returns: search, suggest, the widget and the detail pages
    no longer find it. A case is also erased from the query log, the feedback log and the FAQ
    drafts. 404 for an id that is not stored (nothing changes), 409 while another ingest,
    build, approval or deletion runs.
    """
    service = state.service
    embedder = service.embedder if service is not None else None

    def run() -> RemoveReport:
        return remove_documents(
            settings,
            [doc_id],
            embedder,
            actor=principal.name,
            role=principal.role,
            erase=erase,
            audit=audit,
            wait=settings.api_writer_wait,
        )

    try:
        report = await run_in_threadpool(run)
    except DocumentNotFound as exc:
        raise HTTPException(404, detail=str(exc)) from exc
    except InputError as exc:
        raise HTTPException(422, detail=str(exc)) from exc
    # BusyError: 409 from the app's handler (kb.api.app), as for every writer.
    if service is not None:
        # Open the new build now: the next search (of any pane) does not pay for it.
        await run_in_threadpool(service.searcher)
    return DeleteOut.of(report)
