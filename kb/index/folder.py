"""The one owner of an index's files: the builds under an index root and the ``CURRENT`` pointer.

Layout under ``index_root``::

    CURRENT                  name of the serving build (replaced atomically)
    20261122T031500123456-ab12cd/  one build: manifest.json, docs.sqlite (store snapshot),
                             dense-<kind>.faiss + dense.json (one FAISS index per kind),
                             rowids.npy (the chunks' row ids, grouped by kind:
                             :mod:`kb.index.layout`), vectors.npy, title_vectors.npy, bm25.npz,
                             bm25_vocab.json, readings.npz + readings_vocab.json (the
                             reading field), readings_words.json (the corpus's vocabulary),
                             routing.npz + routing.json (the department model, if any)
    .building-.../           a build in progress; left behind only by a crash, and removed
                             by the next writer (:meth:`IndexRoot.remove_abandoned_builds`)
    .publish.lock            held for the moment ``CURRENT`` is compared and replaced

The builder writes a build through :class:`IndexFolder`, the searcher and the trainer read it
back through it, and :class:`IndexRoot` alone moves the ``CURRENT`` pointer. A build that is
interrupted never touches ``CURRENT``, so the previous index keeps serving. A build records the
store generation it snapshotted (:meth:`kb.store.Store.generation`) in its manifest, and
:meth:`IndexRoot.publish` never replaces a serving build with one of an older generation: two
builds that overlap (one started before the other's ingest) cannot put the older snapshot back.
Every inconsistency found while opening a build is an :class:`~kb.errors.IndexError_`.
"""

from __future__ import annotations

import contextlib
import os
import secrets
import shutil
import time
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

import numpy as np

from kb.errors import IndexError_, StaleBuild
from kb.index.dense import DenseIndex, KindIndexes
from kb.index.layout import is_kind_ordered, kind_slices
from kb.index.lexical import LexicalIndex
from kb.index.lock import FileLock
from kb.index.manifest import Manifest
from kb.index.readings import Vocabulary
from kb.index.routing import RoutingModel
from kb.messages import msg
from kb.store import Store
from kb.types import Document

CURRENT = "CURRENT"
_SNAPSHOT = "docs.sqlite"
_ROWIDS = "rowids.npy"
_VECTORS = "vectors.npy"
_TITLE_VECTORS = "title_vectors.npy"
_READINGS = "readings"
_READINGS_WORDS = "readings_words.json"
_LEGACY_DENSE = "dense.faiss"
"""One FAISS index over every kind, written by builds made before the per-kind indexes."""
_BUILDING = ".building-"
_PUBLISH_LOCK = ".publish.lock"
_ABANDONED_AFTER_S = 6 * 3600
"""Age after which :meth:`IndexRoot.prune` removes a ``.building-*`` folder without the lock."""


@dataclass(frozen=True)
class IndexFolder:
    """One index build folder (complete, or still being written)."""

    path: Path

    @property
    def name(self) -> str:
        return self.path.name

    # --- the store snapshot ---------------------------------------------------------------

    def write_snapshot(self, store: Store) -> Store:
        """Copy the live store into the build and open the copy read-only."""
        store.snapshot(self.path / _SNAPSHOT)
        return self.open_snapshot()

    def open_snapshot(self) -> Store:
        """The build's own copy of the store, read-only."""
        return Store(self.path / _SNAPSHOT, read_only=True)

    # --- vectors and row ids --------------------------------------------------------------

    def write_vectors(
        self, rowids: np.ndarray, vectors: np.ndarray, title_vectors: np.ndarray
    ) -> None:
        """Row ids and the full-text and title vectors, aligned row by row."""
        np.save(self.path / _ROWIDS, rowids)
        # Kept beside FAISS so fusion can score lexical-only candidates exactly (mmapped).
        np.save(self.path / _VECTORS, vectors)
        np.save(self.path / _TITLE_VECTORS, title_vectors)

    def rowids(self) -> np.ndarray:
        return np.asarray(self._load(_ROWIDS))

    def vectors(self) -> np.ndarray:
        """Full-text vectors, memory-mapped."""
        return self._load(_VECTORS, mmap=True)

    def title_vectors(self) -> np.ndarray:
        """Title-only vectors (FAQ question, case summary, heading path), memory-mapped."""
        return self._load(_TITLE_VECTORS, mmap=True)

    def _load(self, name: str, *, mmap: bool = False) -> np.ndarray:
        try:
            array: np.ndarray = np.load(self.path / name, mmap_mode="r" if mmap else None)
        except (OSError, ValueError) as exc:
            raise IndexError_(
                f"index {self.path} is incomplete: {name} cannot be read ({exc}); run `kb build`"
            ) from exc
        return array

    def check_rowids(self, snapshot_rowids: np.ndarray) -> np.ndarray:
        """The build's row ids, after checking they are the snapshot's chunks (``snapshot_rowids``
        ascending) in row-id order or grouped by kind (:mod:`kb.index.layout`)."""
        rowids = self.rowids()
        if not np.array_equal(rowids, snapshot_rowids) and not (
            rowids.shape == snapshot_rowids.shape
            and is_kind_ordered(rowids)
            and np.array_equal(np.sort(rowids), snapshot_rowids)
        ):
            raise self._inconsistent()
        return rowids

    def align(self, meta: dict[str, np.ndarray]) -> dict[str, np.ndarray]:
        """The snapshot's chunk metadata (:meth:`~kb.store.Store.chunk_metadata`, in row-id
        order) in the build's row order, after :meth:`check_rowids`."""
        rowids = self.check_rowids(meta["rowid"])
        if np.array_equal(rowids, meta["rowid"]):
            return meta
        rows = np.searchsorted(meta["rowid"], rowids)
        aligned = {name: column[rows] for name, column in meta.items()}
        if kind_slices(aligned["kind"]) is None:
            raise self._inconsistent()
        return aligned

    def _inconsistent(self) -> IndexError_:
        return IndexError_(
            f"index {self.path} is inconsistent: chunk ids differ from the snapshot; run `kb build`"
        )

    # --- the dense and lexical indexes ----------------------------------------------------

    def save_dense(self, dense: KindIndexes) -> None:
        dense.save(self.path)

    def load_dense(self, dense_kind: str) -> KindIndexes | DenseIndex:
        """The per-kind FAISS indexes, or the single index of a build made before them."""
        per_kind = KindIndexes.load(self.path)
        if per_kind is not None:
            return per_kind
        return DenseIndex.load(self.path / _LEGACY_DENSE, dense_kind)

    def save_lexical(self, lexical: LexicalIndex) -> None:
        lexical.save(self.path)

    def load_lexical(self) -> LexicalIndex:
        return LexicalIndex.load(self.path)

    def save_readings(self, field: LexicalIndex, vocabulary: Vocabulary) -> None:
        """The reading field and the vocabulary (:mod:`kb.index.readings`)."""
        field.save(self.path, _READINGS)
        vocabulary.save(self.path / _READINGS_WORDS)

    def load_readings(self) -> tuple[LexicalIndex, Vocabulary]:
        """The reading field and the vocabulary; :class:`IndexError_` for a build without
        them (made by an older kb) or of another readings version."""
        vocabulary = Vocabulary.load(self.path / _READINGS_WORDS)
        try:
            field = LexicalIndex.load(self.path, _READINGS)
        except (OSError, ValueError, KeyError) as exc:
            raise IndexError_(
                f"index {self.path} is incomplete: its reading field cannot be read ({exc});"
                " run `kb build`"
            ) from exc
        return field, vocabulary

    def save_routing(self, model: RoutingModel | None) -> None:
        """The department model (:mod:`kb.index.routing`); ``None`` writes nothing."""
        if model is not None:
            model.save(self.path)

    def load_routing(self) -> RoutingModel | None:
        """The department model; ``None`` for a build without one (older, or no labels)."""
        try:
            return RoutingModel.load(self.path)
        except (OSError, ValueError, KeyError) as exc:
            raise IndexError_(
                f"index {self.path} is incomplete: its department model cannot be read ({exc});"
                " run `kb build`"
            ) from exc

    # --- the manifest ---------------------------------------------------------------------

    def write_manifest(self, manifest: Manifest) -> None:
        manifest.write(self.path)

    def manifest(self) -> Manifest:
        return Manifest.read(self.path)


class IndexRoot:
    """The folder holding the builds and the ``CURRENT`` pointer to the serving one."""

    def __init__(self, path: Path) -> None:
        self.path = path

    @property
    def pointer(self) -> Path:
        return self.path / CURRENT

    def current(self) -> IndexFolder:
        """The serving build; :class:`IndexError_` if there is none."""
        try:
            name = self.pointer.read_text(encoding="utf-8").strip()
        except OSError as exc:
            raise IndexError_(msg("index.none", path=self.path)) from exc
        folder = self.path / name
        if not name or not folder.is_dir():
            raise IndexError_(msg("index.pointer_dangling", pointer=self.pointer, name=name[:80]))
        return IndexFolder(folder)

    def has_index(self) -> bool:
        """Whether a build is serving."""
        try:
            self.current()
        except IndexError_:
            return False
        return True

    def stamp(self) -> tuple[float, int] | None:
        """Changes whenever the pointer is replaced (modification time and inode)."""
        try:
            st = self.pointer.stat()
        except OSError:
            return None
        return (st.st_mtime, st.st_ino)

    def start_build(self) -> IndexFolder:
        """A fresh, empty folder for a build in progress (invisible to readers)."""
        self.path.mkdir(parents=True, exist_ok=True)
        build_id = f"{datetime.now(UTC):%Y%m%dT%H%M%S%f}-{secrets.token_hex(3)}"
        tmp = self.path / f"{_BUILDING}{build_id}"
        tmp.mkdir()
        return IndexFolder(tmp)

    def publish(self, building: IndexFolder, *, live_generation: int | None = None) -> IndexFolder:
        """Move a finished build into place and make it the serving one, atomically.

        The comparison and the switch happen under ``.publish.lock``, so two processes that
        publish at once cannot both win. A build whose store generation (in its manifest) is
        older than the serving build's is refused and removed: the serving build was made from
        a later snapshot of the same store and already holds everything the refused one had.

        Args:
            building: A finished build from :meth:`start_build`, its manifest written.
            live_generation: The live store's generation now. A serving build *newer* than the
                live store was made from a store since replaced (a restored backup, a fresh
                data folder): it is no reason to refuse this one.

        Returns:
            The published build.

        Raises:
            StaleBuild: The build is older than the serving one; it was discarded.
            IndexError_: The build has no readable manifest.
        """
        generation = building.manifest().generation
        build_id = building.name.removeprefix(_BUILDING)
        final = self.path / build_id
        with self._publishing():
            serving = self._serving_generation()
            if serving is not None:
                folder, serving_generation = serving
                newer_store = live_generation is not None and serving_generation > live_generation
                if generation < serving_generation and not newer_store:
                    self.discard(building)
                    raise StaleBuild(
                        f"index build {build_id} was discarded: it holds the store as of "
                        f"generation {generation}, but the serving index {folder.name} was "
                        f"built from the later generation {serving_generation} and already "
                        "holds everything it had",
                        serving=folder.path,
                        generation=generation,
                        serving_generation=serving_generation,
                    )
            os.replace(building.path, final)
            _fsync_dir(self.path)
            _write_atomic(self.pointer, build_id + "\n")
        return IndexFolder(final)

    @contextlib.contextmanager
    def _publishing(self) -> Iterator[None]:
        lock = FileLock(self.path / _PUBLISH_LOCK)
        lock.acquire()
        try:
            yield
        finally:
            lock.release()

    def serving_generation(self) -> int | None:
        """The store generation the serving build was made from; ``None`` if none serves."""
        serving = self._serving_generation()
        return None if serving is None else serving[1]

    def holding(self, doc_ids: Sequence[str]) -> set[str]:
        """Which of ``doc_ids`` the serving build or an older complete build still holds."""
        return set(self.held_documents(doc_ids))

    def held_documents(self, doc_ids: Sequence[str]) -> dict[str, Document]:
        """The documents of ``doc_ids`` that the serving build or an older complete build
        still holds, as the newest of them holds each (an erasure killed after the store
        forgot them reads their text here)."""
        found: dict[str, Document] = {}
        folders = [self.current(), *reversed(self.old_builds())] if self.has_index() else []
        for folder in folders:
            if not (folder.path / _SNAPSHOT).is_file():
                continue
            snapshot = folder.open_snapshot()
            try:
                found.update(snapshot.get_documents([i for i in doc_ids if i not in found]))
            finally:
                snapshot.close()
        return found

    def _serving_generation(self) -> tuple[IndexFolder, int] | None:
        """The serving build and its store generation; ``None`` if none serves (or unreadable)."""
        try:
            folder = self.current()
            return folder, folder.manifest().generation
        except IndexError_:
            return None

    @staticmethod
    def discard(building: IndexFolder) -> None:
        """Remove a build that failed or was interrupted."""
        shutil.rmtree(building.path, ignore_errors=True)

    def prune(self, keep: int) -> None:
        """Remove old builds (never the serving one) and leftovers of crashed builds."""
        try:
            serving = self.current().name
        except IndexError_:
            serving = ""
        builds = sorted(p for p in self.path.iterdir() if p.is_dir() and not p.name.startswith("."))
        # Build names sort by time; the serving build is kept whatever its age.
        old = [b for b in builds if b.name != serving]
        for stale_build in old[: max(0, len(builds) - keep)]:
            shutil.rmtree(stale_build, ignore_errors=True)
        for stale in self.path.glob(f"{_BUILDING}*"):
            # Another build may be running right now; only remove what is clearly abandoned.
            with contextlib.suppress(OSError):
                if time.time() - stale.stat().st_mtime > _ABANDONED_AFTER_S:
                    shutil.rmtree(stale, ignore_errors=True)

    def old_builds(self) -> list[IndexFolder]:
        """The complete builds other than the serving one, oldest first.

        Each holds the store as it was when it was built: after a deletion, the text of what
        was deleted (:mod:`kb.index.remove` removes them once a build without it serves).
        """
        if not self.path.is_dir():
            return []
        try:
            serving = self.current().name
        except IndexError_:
            serving = ""
        return [
            IndexFolder(p)
            for p in sorted(self.path.iterdir())
            if p.is_dir() and not p.name.startswith(".") and p.name != serving
        ]

    def built_at(self, folder: IndexFolder) -> datetime:
        """When ``folder`` was built: its name's time stamp (UTC), else its modification time."""
        try:
            return datetime.strptime(folder.name[:21], "%Y%m%dT%H%M%S%f").replace(tzinfo=UTC)
        except ValueError:
            return datetime.fromtimestamp(folder.path.stat().st_mtime, UTC)

    def remove_build(self, folder: IndexFolder) -> None:
        """Remove a complete build that is not serving (refused for the serving one)."""
        with self._publishing():
            if self.has_index() and self.current().name == folder.name:
                raise IndexError_(f"index {folder.name} is serving: it cannot be removed")
            shutil.rmtree(folder.path, ignore_errors=True)

    def remove_abandoned_builds(self) -> int:
        """Remove every ``.building-*`` folder; call it only while holding the writer lock.

        Every build runs under the writer lock (:func:`kb.index.lock.writer_lock`), so while
        the caller holds it no build is running and each such folder is a killed one's.

        Returns:
            How many folders were removed.
        """
        if not self.path.is_dir():
            return 0
        removed = 0
        for stale in self.path.glob(f"{_BUILDING}*"):
            shutil.rmtree(stale, ignore_errors=True)
            removed += not stale.exists()
        return removed


def current_index(index_root: Path) -> Path:
    """The folder of the serving index under ``index_root``; :class:`IndexError_` if none."""
    return IndexRoot(index_root).current().path


def _write_atomic(path: Path, text: str) -> None:
    tmp = path.with_name(f".{path.name}.{secrets.token_hex(4)}.tmp")
    with open(tmp, "w", encoding="utf-8") as fh:
        fh.write(text)
        fh.flush()
        os.fsync(fh.fileno())
    os.replace(tmp, path)


def _fsync_dir(path: Path) -> None:
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


__all__ = ["CURRENT", "IndexFolder", "IndexRoot", "current_index"]
