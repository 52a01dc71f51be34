"""Ingest files and rebuild the index: the one path shared by ``kb ingest`` and the admin upload.

Ingest stores what it read (masked, in one transaction per file batch); the index is rebuilt
only when something was added or changed, or when no index serves yet. The embedder is loaded
only when a build is needed.

The callers hold the writer lock (:func:`kb.index.lock.writer_lock`) around these, and clear
what a killed run left behind (:func:`clean_leftovers`) when they start.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path

from kb.embed.embedder import Embedder, embedder_from_settings
from kb.errors import BusyError
from kb.index.builder import BuildReport, Progress, build_index
from kb.index.folder import IndexRoot
from kb.index.lock import LockHolder, holds_writer_lock, remove_abandoned_uploads, writer_lock
from kb.index.remove import RemoveReport, remove_locked
from kb.index.sync import SyncPlan, plan_sync
from kb.ingest.columns import mapping_from_settings
from kb.ingest.limits import InputLimits
from kb.ingest.pipeline import IngestReport, ingest
from kb.settings import Settings
from kb.store import EmbeddingCache, RawTextStore, Store
from kb.types import DocKind


@dataclass(frozen=True)
class UpdateReport:
    """What one ingest-and-build did."""

    ingest: IngestReport
    build: BuildReport | None
    """``None`` when nothing changed and an index already served (or no build was asked)."""
    sync: SyncPlan | None = None
    """With ``sync``: what the files made go (or would, or why nothing went)."""
    removed: RemoveReport | None = None
    """With ``sync``: the removal (:func:`kb.index.remove.remove_locked`), if one ran."""


@dataclass(frozen=True)
class Leftovers:
    """What :func:`clean_leftovers` removed."""

    builds: int
    """``.building-*`` folders of killed builds."""
    uploads: int
    """Upload folders of killed or crashed requests (unmasked files)."""
    writer_busy: bool = False
    """Another writer was running: its build folder was not touched (nor any other)."""

    def __bool__(self) -> bool:
        return bool(self.builds or self.uploads)

    def describe(self) -> str:
        """``removed 1 abandoned index build and 2 upload folders left by an interrupted run``."""
        return (
            f"removed {self.builds} abandoned index build(s) and {self.uploads} upload "
            "folder(s) left by an interrupted run"
        )


def clean_leftovers(settings: Settings, held: LockHolder | None = None) -> Leftovers:
    """Remove what killed builds and uploads left in the data folder.

    ``.building-*`` folders are removed only under the writer lock (while it is held, no
    build runs): with ``held``, the caller's own; otherwise it is tried without waiting, and
    if another writer has it, build folders are left alone. Upload folders are removed when
    no upload is in use (:func:`kb.index.lock.remove_abandoned_uploads`).

    Args:
        settings: Where the data folder is.
        held: The caller's writer lock, as :func:`kb.index.lock.writer_lock` yielded it.

    Returns:
        What was removed. Nothing is created in a data folder that does not exist yet.
    """
    if not settings.data_dir.is_dir():
        return Leftovers(0, 0)
    uploads = remove_abandoned_uploads(settings)
    root = IndexRoot(settings.index_root)
    if held is not None:
        if not holds_writer_lock(settings, held):
            raise RuntimeError("clean_leftovers: the writer lock given is not held here")
        return Leftovers(root.remove_abandoned_builds(), uploads)
    try:
        with writer_lock(settings, "clean-up"):
            return Leftovers(root.remove_abandoned_builds(), uploads)
    except BusyError:
        return Leftovers(0, uploads, writer_busy=True)


def rebuild(
    settings: Settings,
    *,
    store: Store | None = None,
    embedder: Embedder | None = None,
    threads: int | None = None,
    progress: Progress | None = None,
) -> BuildReport:
    """Build a new index from the store and make it the serving one.

    Args:
        settings: Where the store, the embedding cache and the index root are.
        store: An open store to build from (default: open ``settings.store_path``).
        embedder: The document embedder; default: the configured model, loaded now.
        threads: Model threads when the embedder is loaded here (default ``settings.threads``).
        progress: Optional progress callback.
    """
    from kb.embed.adapt import stale_embedder
    from kb.index.adapt import after_build

    own_store = store is None
    live = store if store is not None else Store(settings.store_path)
    if embedder is not None and stale_embedder(settings, embedder.model_id):
        embedder = None  # a server's, from before an adaptation or an erasure switched models
    model = embedder or embedder_from_settings(settings, threads=threads or settings.threads)
    cache = EmbeddingCache(settings.data_dir / "embeddings.sqlite")
    try:
        report = build_index(live, model, settings.index_root, cache=cache, progress=progress)
    finally:
        cache.close()
        if own_store:
            live.close()
    if not report.discarded:
        after_build(settings)  # a background adaptation, if the corpus changed enough
    return report


def ingest_and_build(
    settings: Settings,
    paths: Sequence[Path],
    *,
    kind: DocKind | None = None,
    build: bool = True,
    embedder: Embedder | None = None,
    threads: int | None = None,
    progress: Progress | None = None,
    on_ingested: Callable[[IngestReport], None] | None = None,
    upload_id: str = "",
    sync: bool = False,
    dry_run: bool = False,
    force: bool = False,
    actor: str = "",
    role: str = "cli",
) -> UpdateReport:
    """Ingest ``paths`` into the store, then rebuild the index when that changed anything.

    Args:
        settings: Store, masking, row limits and index locations.
        paths: Files or folders to read.
        kind: Kind of every file (default: detected per file).
        build: Rebuild afterwards when something was added or updated, or no index serves.
        embedder: The document embedder for the build (default: loaded only if a build runs).
        threads: Model threads when the embedder is loaded here.
        progress: Optional progress callback for both stages.
        on_ingested: Called with the ingest report before the build starts (the build may take
            minutes; the command line prints what was stored first).
        upload_id: The files are the admin upload with this id (see
            :func:`kb.ingest.pipeline.ingest`).
        sync: The files are the truth for their kinds: stored documents of those kinds that
            they lack are removed (:mod:`kb.index.sync`; nothing is removed after a row error).
        dry_run: Write nothing: ``ingest.planned`` and ``sync`` say what would change.
        force: With ``sync``: remove even all of a kind, or most of a large one.
        actor: Who syncs, for the audit log's ``delete`` event (default ``cli:<user>``).
        role: The actor's role.

    Raises:
        InputError: A file cannot be read at all (bad rows are reported, not raised).
    """
    # A dry run creates no store: without one, everything would be added.
    store = Store(settings.store_path if settings.store_path.exists() or not dry_run else None)
    raw = RawTextStore(settings.raw_text_path) if settings.keep_raw_text and not dry_run else None
    try:
        report = ingest(
            list(paths),
            store,
            kind=kind,
            progress=progress,
            keep_words=settings.mask_keep_words,
            raw_store=raw,
            max_rows=settings.max_rows_per_file,
            upload_id=upload_id,
            limits=InputLimits.from_settings(settings),
            dry_run=dry_run,
            mapping=mapping_from_settings(settings),
        )
        if raw is not None:
            raw.close()
            raw = None
        if on_ingested is not None:
            on_ingested(report)
        plan = plan_sync(store, report, kind=kind, force=force) if sync else None
        if dry_run:
            return UpdateReport(ingest=report, build=None, sync=plan)
        if plan is not None and plan.removes:
            removed = _remove_for_sync(
                settings,
                store,
                plan,
                embedder,
                actor=actor,
                role=role,
                build=build,
                progress=progress,
            )
            return UpdateReport(ingest=report, build=removed.build, sync=plan, removed=removed)
        s = report.stats
        built = None
        # Procedures are served from the build's snapshot: a change to them needs a build too.
        fresh = s.added or s.updated or report.procedures_changed
        # An ingest or a deletion killed before its build (or whose build failed) left the store
        # ahead of the serving index: the next ingest builds, even if it changes nothing.
        serving = IndexRoot(settings.index_root).serving_generation()
        if build and (fresh or serving is None or serving < store.generation()):
            built = rebuild(
                settings, store=store, embedder=embedder, threads=threads, progress=progress
            )
        return UpdateReport(ingest=report, build=built, sync=plan)
    finally:
        if raw is not None:
            raw.close()
        store.close()


def _remove_for_sync(
    settings: Settings,
    store: Store,
    plan: SyncPlan,
    embedder: Embedder | None,
    *,
    actor: str,
    role: str,
    build: bool,
    progress: Progress | None,
) -> RemoveReport:
    """The removal of ``--sync``, audited as a ``delete``; its build serves the ingest too."""
    from kb.security.audit import AuditLog
    from kb.security.commands import cli_actor

    audit = AuditLog.from_settings(settings)
    try:
        return remove_locked(
            settings,
            store,
            plan.removes,
            embedder,
            audit=audit,
            actor=actor or cli_actor(),
            role=role,
            build=build,
            detail="kb ingest --sync",
            progress=progress,
        )
    finally:
        audit.close()
