"""Delete documents everywhere kb keeps them, at once: the one path of every removal.

``kb delete``, ``DELETE /api/v1/admin/documents/{id}``, ``kb ingest --sync`` and the trainer's
hard delete all come here. Under the writer lock (:func:`kb.index.lock.writer_lock`):

1. the documents and their chunks leave ``kb.sqlite`` (:meth:`Store.delete_documents`; a
   ``department:`` id takes its directory entry with it; ``procedure:ID`` names a life-event
   procedure of the same file);
2. the embedding-cache rows of their chunks' texts go, unless another stored chunk has the same
   text (its vector is still needed), and so do their cached readings;
3. their unmasked text leaves ``raw.sqlite`` (``keep_raw_text``); the case of a consultation
   record (``case:desk-R000001``) takes the record and its hand-offs out of ``records.sqlite``
   (:mod:`kb.index.remove_side`);
4. on erasure, the log rows that quote them or name them go too (:mod:`kb.index.erase`);
5. a new index is built without them (every other vector comes from the cache) and published,
   so each pane, suggest and the reading field lose them at the next switch of the service;
6. every older build (each holds a snapshot with their text) and every abandoned one is
   removed, and the write-ahead log of every SQLite file touched is truncated. The store's
   connections delete with ``secure_delete`` (:func:`kb.store.sqlite.connect`), so no freed
   page keeps the text either.

The audit log gets ``delete.start`` before anything changes and ``delete`` (ids and counts,
never text) after: who removed what.

**Cases are always erased** (step 4): a case is a consultation record, and it is deleted
because a citizen asked or because it was recorded by mistake; either way a search that quoted
it must not outlive it. FAQ entries, manual sections and directory entries are public texts:
queries quoting them are kept for the gap analysis unless ``erase`` is asked.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from kb.embed.embedder import Embedder, embedder_from_settings
from kb.errors import DocumentNotFound, InputError
from kb.index.builder import BuildReport, Progress, build_index
from kb.index.erase import Erased, erase_from_logs
from kb.index.folder import IndexRoot
from kb.index.lock import LockHolder, writer_lock
from kb.index.remove_side import purge_readings, purge_records, split_ids
from kb.messages import msg
from kb.security.audit import AuditLog
from kb.security.audit_actions import audited
from kb.settings import Settings
from kb.store import (
    EmbeddingCache,
    FaqCandidateStore,
    FeedbackStore,
    QueryLogStore,
    RawTextStore,
    Store,
)
from kb.store.lifecycle import all_keys_in_use
from kb.store.procedures import procedure_of, procedure_ref
from kb.store.records import RecordStore
from kb.types import DocId


@dataclass(frozen=True)
class RemoveReport:
    """What one removal did, file by file (counts and ids only: never text)."""

    removed: tuple[str, ...]
    """The documents deleted."""
    erased: bool
    """The logs were searched for rows quoting or naming them (:mod:`kb.index.erase`)."""
    cache_rows: int = 0
    """Embedding-cache rows removed (texts no other chunk has)."""
    raw_rows: int = 0
    """``raw.sqlite`` rows removed (unmasked text, kept only with ``keep_raw_text``)."""
    directory_entries: int = 0
    """Department-directory entries removed (``department:`` ids)."""
    readings_rows: int = 0
    """Cached readings removed (titles and texts no other chunk has)."""
    records: int = 0
    """Consultation records removed with their cases (``case:desk-R000001``)."""
    handoffs: int = 0
    """Hand-off sheets removed with their records."""
    logs: Erased = field(default_factory=Erased)
    """Log rows removed on erasure, and audit events that quote them (kept)."""
    builds_removed: int = 0
    """Older and abandoned index builds removed (each held a snapshot with the text)."""
    wal_truncated: bool = True
    """Every touched SQLite file's write-ahead log was truncated (False: a reader kept one
    busy; its old pages go at the next checkpoint)."""
    build: BuildReport | None = None
    """The build that serves without them (``None``: not built, e.g. ``--no-build``)."""
    retired_models: tuple[str, ...] = ()
    """Adapted models deleted because they learnt from an erased document (the base model
    serves until the next adaptation)."""

    def to_json(self) -> dict[str, Any]:
        """The report as the API and ``kb delete --json`` give it."""
        out = asdict(self)
        out["removed"] = list(self.removed)
        out["retired_models"] = list(self.retired_models)
        out["build"] = (
            None
            if self.build is None
            else {
                "index": self.build.path.name,
                "chunks": self.build.chunks,
                "embedded": self.build.embedded,
                "cached": self.build.cached,
                "seconds": round(self.build.seconds, 3),
            }
        )
        return out

    def summary(self) -> str:
        """One line for the audit log's ``delete`` event (counts, no text)."""
        logs = self.logs
        built = f"; index {self.build.path.name}" if self.build is not None else ""
        erased = (
            f"; erased {logs.query_rows} query-log, {logs.feedback_rows} feedback and "
            f"{logs.drafts} draft row(s), {logs.audit_mentions} audit event(s) quote it (kept)"
            if self.erased
            else ""
        )
        records = (
            f"; {self.records} consultation record(s) and {self.handoffs} hand-off(s) removed"
            if self.records or self.handoffs
            else ""
        )
        retired = (
            f"; adapted model(s) {', '.join(self.retired_models)} deleted (learnt from it)"
            if self.retired_models
            else ""
        )
        return (
            f"{len(self.removed)} document(s) deleted, {self.cache_rows} cached vector(s), "
            f"{self.readings_rows} cached reading(s), "
            f"{self.raw_rows} raw text(s), {self.builds_removed} old build(s) removed"
            + records
            + erased
            + retired
            + built
        )


def parse_ids(ids: Sequence[str]) -> list[str]:
    """The ids as stored (``faq:F0001``), in order, each once.

    Raises:
        InputError: No id, or one that is not ``KIND:ID`` (the message says the form).
    """
    from kb.types import DOC_KINDS

    out: list[str] = []
    for text in ids:
        procedure = procedure_of(text.strip())
        if procedure is not None:
            out.append(procedure_ref(procedure))
            continue
        try:
            out.append(str(DocId.parse(text.strip())))
        except ValueError:
            kinds = ", ".join([*DOC_KINDS, "procedure"])
            shown = _shown([text])
            raise InputError(shown, msg("delete.bad_id", id=shown, kinds=kinds)) from None
    if not out:
        raise InputError("kb delete", msg("delete.no_ids"))
    return list(dict.fromkeys(out))


def _shown(ids: Sequence[str]) -> str:
    """``ids`` for a message, control and other invisible characters written as escapes (an
    ESC in an id would drive the staff's terminal)."""
    return ", ".join("".join(c if c.isprintable() else f"\\x{ord(c):02x}" for c in i) for i in ids)


def erases(ids: Sequence[str], erase: bool) -> bool:
    """Whether a removal of ``ids`` erases: when asked, and always for a case."""
    return erase or any(DocId.kind_of(i) == "case" for i in ids)


def remove_documents(
    settings: Settings,
    ids: Sequence[str],
    embedder: Embedder | None = None,
    *,
    actor: str,
    role: str = "cli",
    erase: bool = False,
    build: bool = True,
    audit: AuditLog | None = None,
    wait: float = 0.0,
    on_wait: Callable[[LockHolder | None], None] | None = None,
    progress: Progress | None = None,
) -> RemoveReport:
    """Delete documents from every file kb keeps and serve an index without them.

    Args:
        settings: The data folder.
        ids: Document ids (``faq:F0001``, ``case:R6-001``...). Every one must be stored:
            otherwise nothing is deleted.
        embedder: The document embedder for the new build (default: the configured model,
            loaded only now). Only texts missing from the cache are embedded: none, normally.
        actor: Who removes them, for the audit log (key name, ``cli:<user>``).
        role: The actor's role (``admin``, ``trainer``, ``cli``).
        erase: Also remove the log rows quoting or naming them (always done for cases).
        build: Build and publish an index without them (``False`` leaves the serving index
            holding them until the next build; the old builds are then kept too).
        audit: The audit log to write to (default: the data folder's, opened here).
        wait: Seconds to wait for another writer (0: :class:`~kb.errors.BusyError` at once).
        on_wait: Called once with the other writer when this one starts waiting.
        progress: Progress callback for the build.

    Returns:
        What was removed.

    Raises:
        InputError: An id is not of the form ``KIND:ID``.
        DocumentNotFound: An id is not stored (nothing was deleted).
        BusyError: Another ingest, build, approval or deletion holds the writer lock.
        AuditError: The audit log cannot be written (nothing was deleted).
    """
    doc_ids = parse_ids(ids)
    # An erasure does not queue behind other writers (writer_lock's priority).
    with writer_lock(settings, "delete", wait=wait, on_wait=on_wait, priority=True):
        if not settings.store_path.exists():
            raise DocumentNotFound(msg("delete.not_found", ids=_shown(doc_ids)), tuple(doc_ids))
        store = Store(settings.store_path)
        log = audit if audit is not None else AuditLog.from_settings(settings)
        try:
            known = set(store.get_documents(doc_ids))
            known.update(procedure_ref(p.id) for p in store.procedures())
            missing = tuple(i for i in doc_ids if i not in known)
            if missing:
                # A deletion killed after the store and before its build (or whose build failed)
                # left them in the serving index: deleting them again finishes that deletion.
                held = IndexRoot(settings.index_root).holding(missing)
                missing = tuple(i for i in missing if i not in held)
            if missing:
                raise DocumentNotFound(msg("delete.not_found", ids=_shown(missing)), missing)
            return remove_locked(
                settings,
                store,
                doc_ids,
                embedder,
                audit=log,
                actor=actor,
                role=role,
                erase=erase,
                build=build,
                progress=progress,
            )
        finally:
            store.close()
            if audit is None:
                log.close()


def remove_locked(
    settings: Settings,
    store: Store,
    doc_ids: Sequence[str],
    embedder: Embedder | None,
    *,
    audit: AuditLog,
    actor: str,
    role: str,
    erase: bool = False,
    build: bool = True,
    detail: str = "",
    progress: Progress | None = None,
) -> RemoveReport:
    """:func:`remove_documents` for a caller that holds the writer lock and opened the store.

    ``kb ingest --sync`` calls it after its ingest, so one build serves both.
    """
    erase = erases(doc_ids, erase)
    asked = ", ".join(x for x in (detail, "erase" if erase else "") if x)
    with audited(audit, "delete", actor=actor, role=role, ids=doc_ids, detail=asked) as outcome:
        retired = _retire_adapted(settings, store, doc_ids) if erase else ()
        report = _purge(settings, store, doc_ids, erase=erase, audit=audit)
        # Ids no longer stored, held by index builds only (an interrupted deletion): the build
        # below removes them, so they count as removed.
        rest = tuple(i for i in doc_ids if i not in report.removed)
        report = dataclasses.replace(
            report, removed=(*report.removed, *rest), retired_models=retired
        )
        if build:
            report = _rebuild_and_clean(settings, store, report, embedder, progress)
        outcome.detail = report.summary()
    return report


def _retire_adapted(settings: Settings, store: Store, doc_ids: Sequence[str]) -> tuple[str, ...]:
    """Step 0 of an erasure: the adapted model goes if it learnt from these documents.

    Returns:
        The adapted model folders removed (:func:`kb.embed.adapt.retire_adapted`).
    """
    from kb.embed.adapt import learnt_from, owned_by, retire_adapted
    from kb.embed.tune_pairs import pairs_from_documents

    models_dir = settings.models_dir
    docs = store.get_documents(split_ids(doc_ids)[0]).values()
    learnt = owned_by(models_dir, settings.data_dir) and learnt_from(
        models_dir, pairs_from_documents(docs)
    )
    return tuple(retire_adapted(models_dir, retire=learnt, data_dir=settings.data_dir))


def _purge(
    settings: Settings, store: Store, doc_ids: Sequence[str], *, erase: bool, audit: AuditLog
) -> RemoveReport:
    """Steps 1-4: the store, the embedding cache, the raw text and (erasure) the logs."""
    doc_part, procedure_ids = split_ids(doc_ids)
    docs = store.get_documents(doc_part)
    ids = [i for i in doc_part if i in docs]
    wanted = set(procedure_ids)
    procedures = [p for p in store.procedures() if p.id in wanted]
    texts = [t for d in docs.values() for t in (d.title, d.body)]
    texts.extend(t for p in procedures for t in (p.name, p.easy, p.note) if t)
    names = [DocId.local_of(i) for i in ids if DocId.kind_of(i) == "department"]
    with store.transaction():
        store.delete_documents(ids)
        directory = store.delete_departments(names) if names else 0
        store.delete_procedures([p.id for p in procedures])
    # Every cached vector and reading no stored chunk has: the deleted documents' and any
    # earlier version's of any document (an outside probe found a deleted case's first text).
    embedded, read = all_keys_in_use(store)
    readings_rows, wal_ok = purge_readings(settings, read)
    # Documents the store no longer has but a build still holds: a deletion killed after
    # step 1, run again. Their desk record, raw text and words in the logs go all the same,
    # their text read from the build's snapshot.
    missing = [i for i in doc_part if i not in docs]
    held = IndexRoot(settings.index_root).held_documents(missing) if missing else {}
    texts.extend(t for d in held.values() for t in (d.title, d.body))
    gone = [*ids, *held]
    records = purge_records(settings, gone)
    texts.extend(records.texts)
    wal_ok &= records.wal_truncated
    cache = EmbeddingCache(_cache_path(settings))
    try:
        cache_rows = cache.purge(cache.distinct("content_hash") - embedded)
        wal_ok &= cache.compact()
    finally:
        cache.close()
    raw_rows = 0
    if settings.raw_text_path.exists():
        raw = RawTextStore(settings.raw_text_path)
        try:
            texts.extend(t for i in gone if (got := raw.get(i)) is not None for t in got)
            raw_rows = raw.delete(gone)
            wal_ok &= raw.compact()
        finally:
            raw.close()
    logs = Erased()
    if erase:
        logs, logs_ok = _erase_logs(settings, store, gone, texts, audit)
        wal_ok &= logs_ok
    return RemoveReport(
        removed=(*ids, *(procedure_ref(p.id) for p in procedures)),
        erased=erase,
        cache_rows=cache_rows,
        raw_rows=raw_rows,
        directory_entries=directory,
        readings_rows=readings_rows,
        records=records.records,
        handoffs=records.handoffs + logs.handoffs,
        logs=logs,
        wal_truncated=wal_ok and store.compact(),
    )


def _erase_logs(
    settings: Settings, store: Store, ids: Sequence[str], texts: Sequence[str], audit: AuditLog
) -> tuple[Erased, bool]:
    """Step 4: the query log, the feedback log and the FAQ drafts (files that exist only)."""

    def opened(path: Path, kind: Callable[[Path | None], Any]) -> Any:
        # An absent log is read as an empty one: erasure creates no file.
        return kind(path if path.exists() else None)

    query_log = opened(settings.query_log_path, QueryLogStore)
    feedback = opened(settings.feedback_path, FeedbackStore)
    candidates = opened(settings.trainer_path, FaqCandidateStore)
    path = settings.records_path
    records = RecordStore(path) if path.exists() else None
    try:
        erased = erase_from_logs(
            store,
            ids,
            texts,
            query_log=query_log,
            feedback=feedback,
            candidates=candidates,
            handoffs=records,
            audit=audit,
        )
        ok = all([query_log.compact(), feedback.compact(), candidates.compact()])
        ok &= records is None or records.compact()
    finally:
        for db in (query_log, feedback, candidates, records):
            if db is not None:
                db.close()
    return erased, ok


def _rebuild_and_clean(
    settings: Settings,
    store: Store,
    report: RemoveReport,
    embedder: Embedder | None,
    progress: Progress | None,
) -> RemoveReport:
    """Steps 5-6: build without them, then remove every build that still holds them."""
    from kb.embed.adapt import stale_embedder

    if embedder is not None and stale_embedder(settings, embedder.model_id):
        embedder = None  # the server's adapted model, retired by this erasure
    model = embedder or embedder_from_settings(settings, threads=settings.threads)
    cache = EmbeddingCache(_cache_path(settings))
    try:
        built = build_index(store, model, settings.index_root, cache=cache, progress=progress)
    finally:
        cache.close()
    removed = remove_old_builds(settings)
    return dataclasses.replace(report, build=built, builds_removed=removed)


def remove_old_builds(settings: Settings) -> int:
    """Remove every index build but the serving one (and abandoned ``.building-*`` folders).

    Call it under the writer lock, once a build without the deleted documents serves.

    Returns:
        How many folders were removed.
    """
    root = IndexRoot(settings.index_root)
    if not root.has_index():
        return 0
    old = root.old_builds()
    for folder in old:
        root.remove_build(folder)
    return len(old) + root.remove_abandoned_builds()


def _cache_path(settings: Settings) -> Path:
    return settings.data_dir / "embeddings.sqlite"


__all__ = [
    "RemoveReport",
    "erases",
    "parse_ids",
    "remove_documents",
    "remove_locked",
    "remove_old_builds",
]
