"""``kb.sqlite``: documents, chunks and the department directory.

Every ingest is one transaction, so a crash or kill mid-ingest leaves it exactly as it was.

An index build snapshots ``kb.sqlite`` with ``VACUUM INTO`` into the index folder; the searcher
reads only that snapshot, never the live store, so ingests cannot disturb a serving index.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import threading
from collections.abc import Iterable, Iterator, Sequence
from pathlib import Path
from typing import Any

import numpy as np

from kb.errors import IndexError_
from kb.store.hashes import document_hash, text_hash
from kb.store.procedures import delete_procedures, read_procedures, write_procedures
from kb.store.schema import (
    BUMP_GENERATION,
    GENERATION_KEY,
    INSERT_CHUNK,
    UPSERT_DOCUMENT,
    create_schema,
    doc_row,
    row_doc,
)
from kb.store.sqlite import connect, truncate_wal
from kb.store.types import ChunkRow, UpsertStats
from kb.types import Chunk, Department, DocKind, Document, Procedure


def _in_batches(doc_ids: Sequence[str]) -> Iterator[tuple[list[str], str]]:
    """The distinct ``doc_ids`` in batches of 500 (under SQLite's variable limit), each with
    its ``?,?,…`` placeholders."""
    ids = list(dict.fromkeys(doc_ids))
    for start in range(0, len(ids), 500):
        part = ids[start : start + 500]
        yield part, ",".join("?" * len(part))


class Store:
    """Documents, chunks and the department directory in SQLite.

    Args:
        path: Database file; ``None`` for an in-memory database (tests).
        read_only: Open an existing file read-only (index snapshots).
    """

    def __init__(self, path: Path | None = None, *, read_only: bool = False) -> None:
        import sqlite_utils

        self.path = path
        self.read_only = read_only
        self._sqlite_utils = sqlite_utils
        # Readers may be called from several threads (the API's worker pool): one connection
        # per thread, because a sqlite3 connection must not be used concurrently.
        self._local = threading.local()
        self._lock = threading.RLock()
        self._readers: list[tuple[threading.Thread, Any]] = []
        """Each thread's connection, closed with the store (a serving build's snapshot is
        otherwise held open by the server's threads after a deletion replaced it), and closed
        when its thread has ended (anyio's idle workers do): a connection is in a reference
        cycle with its statement cache, so nothing else closes it before a full collection."""
        self._closed = False
        self._main = self._open()
        if not read_only:
            create_schema(self._main)

    def _open(self) -> Any:
        return self._sqlite_utils.Database(connect(self.path, self.read_only))

    @property
    def db(self) -> Any:
        """The calling thread's ``sqlite_utils.Database`` for reads (one per thread)."""
        if self.path is None:
            return self._main
        db = getattr(self._local, "db", None)
        if db is None:
            db = self._main if threading.current_thread() is threading.main_thread() else None
            if db is None:
                if self._closed:
                    raise IndexError_(f"{self.path} is closed: a newer index build serves")
                db = self._open()
                with self._lock:
                    live = []
                    for thread, other in self._readers:
                        if thread.is_alive():
                            live.append((thread, other))
                        else:
                            other.conn.close()
                    live.append((threading.current_thread(), db))
                    self._readers = live
            self._local.db = db
        return db

    def close(self) -> None:
        """Close the main connection and every thread's reading connection."""
        with self._lock:
            self._closed = True
            readers, self._readers = self._readers, []
        for _, db in readers:
            db.conn.close()
        self._main.close()

    # --- writes -------------------------------------------------------------------------

    @contextlib.contextmanager
    def transaction(self) -> Iterator[None]:
        """Group several writes into one transaction (nested writes become savepoints)."""
        with self._lock, self._main.atomic():
            yield

    def upsert(
        self, items: Iterable[tuple[Document, Sequence[Chunk]]], *, batch_size: int = 5000
    ) -> UpsertStats:
        """Insert or replace documents with their chunks, keyed by the stable ``doc_id``.

        A document whose content hash is unchanged keeps its chunk rows (and row ids), and
        only its ``source`` is rewritten if it differs; a changed one has its chunks replaced.
        Everything happens in one transaction: an error or a kill midway leaves the store as it
        was.

        Rows are written in batches of ``batch_size`` (``executemany``), in the order of
        ``items``, so they get the row ids a row-by-row write would give them.

        Args:
            items: ``(document, its chunks)`` pairs.
            batch_size: Rows per ``executemany``.

        Returns:
            How many documents were added, updated and left unchanged.
        """
        db = self._main
        conn = db.conn
        items = list(items)
        added = updated = unchanged = 0
        docs: list[tuple[Any, ...]] = []
        chunks: list[tuple[Any, ...]] = []
        sources: list[tuple[str, str, str]] = []

        def flush() -> None:
            if docs:
                conn.executemany(UPSERT_DOCUMENT, docs)
                docs.clear()
            if chunks:
                conn.executemany(INSERT_CHUNK, chunks)
                chunks.clear()

        with self._lock, db.atomic():
            stored = self._content_hashes([doc.doc_id for doc, _ in items])
            for doc, doc_chunks in items:
                digest = document_hash(doc)
                old = stored.get(doc.doc_id)
                if old == digest:
                    unchanged += 1
                    # Where it was read from is not content (nothing to re-embed), but a label
                    # stored earlier (a file name before masking, an older upload) is replaced.
                    sources.append((doc.source, doc.doc_id, doc.source))
                    continue
                if old is None:
                    added += 1
                else:
                    updated += 1
                    # Rows written so far go first, so row ids follow the order of ``items``.
                    flush()
                    conn.execute("delete from chunks where doc_id = ?", [doc.doc_id])
                stored[doc.doc_id] = digest
                docs.append(tuple(doc_row(doc, digest).values()))
                chunks.extend(
                    (
                        c.chunk_id,
                        c.doc_id,
                        c.kind,
                        c.ordinal,
                        c.title,
                        c.text,
                        " ".join(c.title_tokens),
                        " ".join(c.text_tokens),
                        text_hash(c.content),
                    )
                    for c in doc_chunks
                )
                if len(chunks) >= batch_size:
                    flush()
            flush()
            conn.executemany(
                "update documents set source = ? where doc_id = ? and source is not ?", sources
            )
            if added or updated:
                conn.execute(BUMP_GENERATION)
        return UpsertStats(added, updated, unchanged)

    def _content_hashes(self, doc_ids: Sequence[str]) -> dict[str, str]:
        """``doc_id → content_hash`` of those of ``doc_ids`` that are stored."""
        out: dict[str, str] = {}
        for part, marks in _in_batches(doc_ids):
            out.update(
                self._main.execute(
                    f"select doc_id, content_hash from documents where doc_id in ({marks})", part
                ).fetchall()
            )
        return out

    def delete_documents(self, doc_ids: Sequence[str]) -> int:
        """Remove documents and their chunks, in one transaction.

        The one place that deletes documents: everything in ``kb.sqlite`` keyed by a doc id
        (the ``documents`` row and its ``chunks`` rows) goes with it. The department directory
        is keyed by name and is left as it is.

        Args:
            doc_ids: The documents' ids; unknown ids are ignored.

        Returns:
            How many of the documents existed.
        """
        db = self._main
        with self._lock, db.atomic():
            n = 0
            for doc_id in doc_ids:
                cur = db.execute("delete from documents where doc_id = ?", [doc_id])
                n += cur.rowcount
                db.execute("delete from chunks where doc_id = ?", [doc_id])
            db.execute(BUMP_GENERATION)
        return n

    def delete_departments(self, names: Sequence[str]) -> int:
        """Remove entries of the department directory, in one transaction.

        Their ``department:<name>`` documents go through :meth:`delete_documents`; this removes
        the directory rows the searcher's contact details come from.

        Args:
            names: Directory names; unknown ones are ignored.

        Returns:
            How many entries existed.
        """
        db = self._main
        with self._lock, db.atomic():
            n = sum(
                int(db.execute("delete from departments where name = ?", [name]).rowcount)
                for name in names
            )
            if n:
                db.execute(BUMP_GENERATION)
        return n

    def compact(self) -> bool:
        """Truncate the write-ahead log after a deletion (:func:`kb.store.sqlite.truncate_wal`).

        Returns:
            Whether it was truncated completely (always ``True`` in memory or read-only).
        """
        if self.path is None or self.read_only:
            return True
        with self._lock:
            return truncate_wal(self._main.conn)

    def upsert_departments(self, departments: Sequence[Department]) -> int:
        """Insert or replace entries of the department directory, keyed by name.

        Args:
            departments: The entries.

        Returns:
            How many were written.
        """
        db = self._main
        with self._lock, db.atomic():
            db["departments"].upsert_all(
                (
                    {
                        "name": d.name,
                        "duties": d.duties,
                        "phone": d.phone,
                        "location": d.location,
                        "hours": d.hours,
                        "aliases": json.dumps(list(d.aliases), ensure_ascii=False),
                        "source": d.source,
                    }
                    for d in departments
                ),
                pk="name",
            )
            if departments:
                db.execute(BUMP_GENERATION)
        return len(departments)

    def upsert_procedures(self, procedures: Sequence[Procedure]) -> int:
        """Insert or replace life-event procedures by id; return how many were new or changed."""
        with self._lock, self._main.atomic():
            changed = write_procedures(self._main, procedures)
            if changed:
                self._main.execute(BUMP_GENERATION)
        return changed

    def delete_procedures(self, ids: Sequence[str]) -> int:
        """Remove life-event procedures by id, in one transaction; return how many existed."""
        with self._lock, self._main.atomic():
            removed = delete_procedures(self._main, ids)
            if removed:
                self._main.execute(BUMP_GENERATION)
        return removed

    def snapshot(self, target: Path) -> None:
        """Write a consistent copy of the whole store to ``target`` (``VACUUM INTO``)."""
        target.parent.mkdir(parents=True, exist_ok=True)
        if target.exists():
            target.unlink()
        self._main.execute("VACUUM INTO ?", [str(target)])

    # --- reads --------------------------------------------------------------------------

    def generation(self) -> int:
        """How many write transactions have changed the store: it only ever grows.

        Every write above bumps it in its own transaction, so a snapshot (``VACUUM INTO``)
        carries exactly the generation of the data it holds. An index build records it, and a
        build of an older snapshot never replaces a newer one
        (:meth:`kb.index.folder.IndexRoot.publish`).

        Returns:
            The generation; 0 for a store written before generations were counted.
        """
        row = self.db.execute("select value from meta where key = ?", [GENERATION_KEY]).fetchone()
        return int(row[0]) if row is not None else 0

    def counts(self) -> dict[str, int]:
        """Documents per kind, plus ``chunks`` and ``departments`` totals."""
        out: dict[str, int] = dict(
            self.db.execute(
                "select kind, count(*) from documents group by kind order by kind"
            ).fetchall()
        )
        out["chunks"] = self.db.execute("select count(*) from chunks").fetchone()[0]
        out["departments"] = self.db.execute("select count(*) from departments").fetchone()[0]
        return out

    def corpus_hash(self) -> str:
        """A hash of all stored content: equal stores have equal hashes."""
        h = hashlib.sha256()
        for (digest,) in self.db.execute("select content_hash from documents order by doc_id"):
            h.update(digest.encode())
        for row in self.db.execute("select * from departments order by name"):
            h.update(json.dumps(list(row), ensure_ascii=False).encode())
        return h.hexdigest()[:32]

    def iter_chunks(self, batch_size: int = 2000) -> Iterator[ChunkRow]:
        """All chunks ordered by row id."""
        last = -1
        while True:
            rows = self.db.execute(
                "select id, chunk_id, doc_id, kind, title, text, title_tokens, text_tokens, "
                "content_hash from chunks where id > ? order by id limit ?",
                [last, batch_size],
            ).fetchall()
            if not rows:
                return
            for r in rows:
                yield ChunkRow(
                    r[0], r[1], r[2], r[3], r[4], r[5],
                    tuple(r[6].split()), tuple(r[7].split()), r[8],
                )  # fmt: skip
            last = rows[-1][0]

    def chunk_metadata(self) -> dict[str, np.ndarray]:
        """Per-chunk arrays used for filtering: row id, kind, doc, date, published, category,
        departments, chunk id and 公開期限 (``expires``, empty for a snapshot from before it).

        Returned arrays are aligned and ordered by row id. Repeated values (kinds, dates,
        categories, department lists) are one shared object each: at 1M chunks a fresh string
        per row and column cost about 300 MB of the service's memory.
        """
        shared: dict[str, str] = {}

        def one(value: str | None) -> str:
            return shared.setdefault(value or "", value or "")

        rowid, doc_id, kind, date, published, category, departments, chunk_id, expires = (
            [] for _ in range(9)
        )
        columns = {r[1] for r in self.db.execute("pragma table_info(documents)")}
        cursor = self.db.execute(
            "select c.id, c.doc_id, c.kind, d.date, d.published, d.category, d.departments, "
            f"c.chunk_id, {'d.expires' if 'expires' in columns else 'null'} "
            "from chunks c join documents d on d.doc_id = c.doc_id order by c.id"
        )
        for r in cursor:
            rowid.append(r[0])
            doc_id.append(r[1])
            kind.append(one(r[2]))
            date.append(one(r[3]))
            published.append(bool(r[4]))
            category.append(one(r[5]))
            departments.append(one(r[6] or "[]"))
            chunk_id.append(r[7])
            expires.append(one(r[8]))
        return {
            "rowid": np.array(rowid, dtype=np.int64),
            "doc_id": np.array(doc_id, dtype=object),
            "kind": np.array(kind, dtype=object),
            "date": np.array(date, dtype=object),
            "published": np.array(published, dtype=bool),
            "category": np.array(category, dtype=object),
            "departments": np.array(departments, dtype=object),
            "chunk_id": np.array(chunk_id, dtype=object),
            "expires": np.array(expires, dtype=object),
        }

    def get_documents(self, doc_ids: Sequence[str]) -> dict[str, Document]:
        """The stored documents among ``doc_ids``.

        Args:
            doc_ids: The ids to look up; unknown ones are left out of the answer.

        Returns:
            ``doc_id → document``.
        """
        if not doc_ids:
            return {}
        out: dict[str, Document] = {}
        for part, marks in _in_batches(doc_ids):
            for row in self.db.query(f"select * from documents where doc_id in ({marks})", part):
                out[row["doc_id"]] = row_doc(row)
        return out

    def sources(self, doc_ids: Sequence[str]) -> dict[str, str]:
        """``doc_id → source`` (``file:line``) of the stored documents among ``doc_ids``."""
        out: dict[str, str] = {}
        for part, marks in _in_batches(doc_ids):
            sql = f"select doc_id, source from documents where doc_id in ({marks})"
            for row in self.db.query(sql, part):
                out[row["doc_id"]] = row["source"] or ""
        return out

    def departments(self) -> list[Department]:
        """The department directory, in name order."""
        return [
            Department(
                name=row["name"],
                duties=row["duties"],
                phone=row["phone"] or "",
                location=row["location"] or "",
                hours=row["hours"] or "",
                aliases=tuple(json.loads(row["aliases"] or "[]")),
                source=row["source"] or "",
            )
            for row in self.db.query("select * from departments order by name")
        ]

    def document_departments(self) -> list[tuple[str, tuple[str, ...]]]:
        """Each stored document's id and departments (directory entries left out)."""
        rows = self.db.execute(
            "select doc_id, departments from documents where kind != 'department'"
        )
        return [(r[0], tuple(json.loads(r[1] or "[]"))) for r in rows]

    def procedures(self) -> list[Procedure]:
        """The life-event procedures (手続き), in id order."""
        return read_procedures(self.db)

    def published_faq_texts(self) -> Iterator[str]:
        """Question and answer of every stored published FAQ entry (no :class:`Document` built)."""
        for title, body in self.db.execute(
            "select title, body from documents where kind = 'faq' and published = 1"
        ):
            yield title
            yield body

    def document_ids(self, kind: DocKind | None = None) -> list[str]:
        """The ids of the stored documents (of one ``kind``, if given), in id order."""
        if kind is None:
            return [r[0] for r in self.db.execute("select doc_id from documents order by doc_id")]
        return [
            r[0]
            for r in self.db.execute(
                "select doc_id from documents where kind = ? order by doc_id", [kind]
            )
        ]
