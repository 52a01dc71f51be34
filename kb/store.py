"""SQLite adapter (sqlite-utils): the only module that imports sqlite_utils.

Two databases live in the data directory:

* ``kb.sqlite``: documents, chunks, departments. Every ingest is one transaction, so a crash or
  kill mid-ingest leaves it exactly as it was.
* ``embeddings.sqlite``: a cache of document embeddings keyed by model and chunk content, so a
  rebuild only embeds what changed.

An index build snapshots ``kb.sqlite`` with ``VACUUM INTO`` into the index folder; the searcher
reads only that snapshot, never the live store, so ingests cannot disturb a serving index.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import sqlite3
import threading
import time
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from kb.types import Chunk, Department, DocKind, Document

SCHEMA_VERSION = "1"


def document_hash(doc: Document) -> str:
    """A hash of everything searchable or shown about ``doc`` (not where it was read from)."""
    payload = json.dumps(
        [
            doc.kind,
            doc.title,
            doc.body,
            list(doc.departments),
            doc.category,
            doc.date,
            doc.published,
            doc.url,
            doc.channel,
            doc.status,
            doc.doc_title,
            list(doc.heading_path),
        ],
        ensure_ascii=False,
    )
    return hashlib.sha256(payload.encode()).hexdigest()[:32]


def text_hash(text: str) -> str:
    return hashlib.sha256(text.encode()).hexdigest()[:32]


@dataclass(frozen=True)
class UpsertStats:
    added: int = 0
    updated: int = 0
    unchanged: int = 0


@dataclass(frozen=True)
class ChunkRow:
    """A stored chunk with its row id (the id used by FAISS and the lexical index)."""

    rowid: int
    chunk_id: str
    doc_id: str
    kind: DocKind
    title: str
    text: str
    title_tokens: tuple[str, ...]
    text_tokens: tuple[str, ...]
    content_hash: str

    @property
    def content(self) -> str:
        return f"{self.title}\n{self.text}" if self.title and self.text else self.title or self.text


LOCK_TIMEOUT_S = 30.0
"""How long a writer waits for another connection's lock."""


def while_locked(step: Callable[[], object]) -> None:
    """Run ``step``, again while another process holds the file, for up to the lock timeout.

    SQLite answers some statements on a file that another connection is creating with
    "database is locked" at once, without its busy handler: the switch to WAL, and a schema
    write after a read that another process's write overtook. Two ``kb serve --workers 2``
    processes opening a fresh ``feedback.sqlite`` together failed this way (measured: 15 of
    120 opens by 4 processes at once).
    """
    deadline = time.monotonic() + LOCK_TIMEOUT_S
    while True:
        try:
            step()
            return
        except sqlite3.OperationalError as exc:
            if "locked" not in str(exc) or time.monotonic() > deadline:
                raise
            time.sleep(0.02)


def _connect(path: Path | None, read_only: bool) -> sqlite3.Connection:
    if path is None:
        return sqlite3.connect(":memory:", check_same_thread=False)
    if read_only:
        conn = sqlite3.connect(f"file:{path}?mode=ro", uri=True, check_same_thread=False)
    else:
        path.parent.mkdir(parents=True, exist_ok=True)
        conn = sqlite3.connect(str(path), check_same_thread=False, timeout=LOCK_TIMEOUT_S)
        while_locked(lambda: conn.execute("PRAGMA journal_mode=WAL"))
        conn.execute("PRAGMA synchronous=NORMAL")
        # Replaced or deleted rows are zeroed, not left in free pages: text stored before it
        # was masked (or by an older masking version) does not linger in the file.
        conn.execute("PRAGMA secure_delete=ON")
    return conn


def _doc_row(doc: Document, digest: str) -> dict[str, Any]:
    return {
        "doc_id": doc.doc_id,
        "kind": doc.kind,
        "title": doc.title,
        "body": doc.body,
        "departments": json.dumps(list(doc.departments), ensure_ascii=False),
        "category": doc.category,
        "date": doc.date,
        "published": int(doc.published),
        "url": doc.url,
        "channel": doc.channel,
        "status": doc.status,
        "doc_title": doc.doc_title,
        "heading_path": json.dumps(list(doc.heading_path), ensure_ascii=False),
        "source": doc.source,
        "content_hash": digest,
    }


def _row_doc(row: dict[str, Any]) -> Document:
    return Document(
        doc_id=row["doc_id"],
        kind=row["kind"],
        title=row["title"],
        body=row["body"],
        departments=tuple(json.loads(row["departments"] or "[]")),
        category=row["category"] or "",
        date=row["date"] or "",
        published=bool(row["published"]),
        url=row["url"] or "",
        channel=row["channel"] or "",
        status=row["status"] or "",
        doc_title=row["doc_title"] or "",
        heading_path=tuple(json.loads(row["heading_path"] or "[]")),
        source=row["source"] or "",
    )


_DOC_COLUMNS = tuple(_doc_row(Document(doc_id="", kind="faq", title="", body=""), "").keys())
_UPSERT_DOCUMENT = (
    f"insert into documents ({', '.join(_DOC_COLUMNS)}) "
    f"values ({', '.join('?' * len(_DOC_COLUMNS))}) on conflict(doc_id) do update set "
    + ", ".join(f"{c} = excluded.{c}" for c in _DOC_COLUMNS if c != "doc_id")
)
"""What ``sqlite_utils`` ``upsert(pk="doc_id")`` runs, for many rows at once."""
_CHUNK_COLUMNS = (
    "chunk_id",
    "doc_id",
    "kind",
    "ordinal",
    "title",
    "text",
    "title_tokens",
    "text_tokens",
    "content_hash",
)
_INSERT_CHUNK = (
    f"insert into chunks ({', '.join(_CHUNK_COLUMNS)}) "
    f"values ({', '.join('?' * len(_CHUNK_COLUMNS))})"
)


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
        self._main = self._open()
        if not read_only:
            self._create_schema()

    def _open(self) -> Any:
        return self._sqlite_utils.Database(_connect(self.path, self.read_only))

    @property
    def db(self) -> Any:
        if self.path is None:
            return self._main
        db = getattr(self._local, "db", None)
        if db is None:
            db = self._main if threading.current_thread() is threading.main_thread() else None
            if db is None:
                db = self._open()
            self._local.db = db
        return db

    def close(self) -> None:
        self._main.close()

    def _create_schema(self) -> None:
        db = self._main
        db["documents"].create(
            {
                "doc_id": str,
                "kind": str,
                "title": str,
                "body": str,
                "departments": str,
                "category": str,
                "date": str,
                "published": int,
                "url": str,
                "channel": str,
                "status": str,
                "doc_title": str,
                "heading_path": str,
                "source": str,
                "content_hash": str,
            },
            pk="doc_id",
            if_not_exists=True,
        )
        db["chunks"].create(
            {
                "id": int,
                "chunk_id": str,
                "doc_id": str,
                "kind": str,
                "ordinal": int,
                "title": str,
                "text": str,
                "title_tokens": str,
                "text_tokens": str,
                "content_hash": str,
            },
            pk="id",
            if_not_exists=True,
        )
        db["chunks"].create_index(["chunk_id"], unique=True, if_not_exists=True)
        db["chunks"].create_index(["doc_id"], if_not_exists=True)
        db["departments"].create(
            {
                "name": str,
                "duties": str,
                "phone": str,
                "location": str,
                "hours": str,
                "aliases": str,
                "source": str,
            },
            pk="name",
            if_not_exists=True,
        )
        db["meta"].create({"key": str, "value": str}, pk="key", if_not_exists=True)
        db["meta"].upsert({"key": "schema_version", "value": SCHEMA_VERSION}, pk="key")

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

        A document whose content hash is unchanged keeps its chunk rows (and row ids); a
        changed one has its chunks replaced. Everything happens in one transaction: an error or
        a kill midway leaves the store as it was.

        Rows are written in batches of ``batch_size`` (``executemany``), in the order of
        ``items``, so they get the row ids a row-by-row write would give them.
        """
        db = self._main
        conn = db.conn
        items = list(items)
        added = updated = unchanged = 0
        docs: list[tuple[Any, ...]] = []
        chunks: list[tuple[Any, ...]] = []

        def flush() -> None:
            if docs:
                conn.executemany(_UPSERT_DOCUMENT, docs)
                docs.clear()
            if chunks:
                conn.executemany(_INSERT_CHUNK, chunks)
                chunks.clear()

        with self._lock, db.atomic():
            stored = self._content_hashes([doc.doc_id for doc, _ in items])
            for doc, doc_chunks in items:
                digest = document_hash(doc)
                old = stored.get(doc.doc_id)
                if old == digest:
                    unchanged += 1
                    continue
                if old is None:
                    added += 1
                else:
                    updated += 1
                    # Rows written so far go first, so row ids follow the order of ``items``.
                    flush()
                    conn.execute("delete from chunks where doc_id = ?", [doc.doc_id])
                stored[doc.doc_id] = digest
                docs.append(tuple(_doc_row(doc, digest).values()))
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
        return UpsertStats(added, updated, unchanged)

    def _content_hashes(self, doc_ids: Sequence[str]) -> dict[str, str]:
        """``doc_id → content_hash`` of those of ``doc_ids`` that are stored."""
        out: dict[str, str] = {}
        ids = list(dict.fromkeys(doc_ids))
        for start in range(0, len(ids), 500):
            part = ids[start : start + 500]
            marks = ",".join("?" * len(part))
            out.update(
                self._main.execute(
                    f"select doc_id, content_hash from documents where doc_id in ({marks})", part
                ).fetchall()
            )
        return out

    def delete_documents(self, doc_ids: Sequence[str]) -> int:
        """Remove documents and their chunks; returns how many documents existed."""
        db = self._main
        with self._lock, db.atomic():
            n = 0
            for doc_id in doc_ids:
                cur = db.execute("delete from documents where doc_id = ?", [doc_id])
                n += cur.rowcount
                db.execute("delete from chunks where doc_id = ?", [doc_id])
        return n

    def upsert_departments(self, departments: Sequence[Department]) -> int:
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
        return len(departments)

    def snapshot(self, target: Path) -> None:
        """Write a consistent copy of the whole store to ``target`` (``VACUUM INTO``)."""
        target.parent.mkdir(parents=True, exist_ok=True)
        if target.exists():
            target.unlink()
        self._main.execute("VACUUM INTO ?", [str(target)])

    # --- reads --------------------------------------------------------------------------

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
        """Per-chunk arrays used for filtering: row id, kind, doc, date, published, category.

        Returned arrays are aligned and ordered by row id. Repeated values (kinds, dates,
        categories, department lists) are one shared object each: at 1M chunks a fresh string
        per row and column cost about 300 MB of the service's memory.
        """
        shared: dict[str, str] = {}

        def one(value: str | None) -> str:
            return shared.setdefault(value or "", value or "")

        rowid, doc_id, kind, date, published, category, departments, chunk_id = (
            [] for _ in range(8)
        )
        cursor = self.db.execute(
            "select c.id, c.doc_id, c.kind, d.date, d.published, d.category, d.departments, "
            "c.chunk_id "
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
        return {
            "rowid": np.array(rowid, dtype=np.int64),
            "doc_id": np.array(doc_id, dtype=object),
            "kind": np.array(kind, dtype=object),
            "date": np.array(date, dtype=object),
            "published": np.array(published, dtype=bool),
            "category": np.array(category, dtype=object),
            "departments": np.array(departments, dtype=object),
            "chunk_id": np.array(chunk_id, dtype=object),
        }

    def get_documents(self, doc_ids: Sequence[str]) -> dict[str, Document]:
        if not doc_ids:
            return {}
        out: dict[str, Document] = {}
        ids = list(dict.fromkeys(doc_ids))
        for start in range(0, len(ids), 500):
            part = ids[start : start + 500]
            marks = ",".join("?" * len(part))
            for row in self.db.query(f"select * from documents where doc_id in ({marks})", part):
                out[row["doc_id"]] = _row_doc(row)
        return out

    def get_chunk(self, rowid: int) -> ChunkRow | None:
        r = self.db.execute(
            "select id, chunk_id, doc_id, kind, title, text, title_tokens, text_tokens, "
            "content_hash from chunks where id = ?",
            [rowid],
        ).fetchone()
        if r is None:
            return None
        return ChunkRow(
            r[0], r[1], r[2], r[3], r[4], r[5], tuple(r[6].split()), tuple(r[7].split()), r[8]
        )

    def departments(self) -> list[Department]:
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

    def published_faq_texts(self) -> Iterator[str]:
        """Question and answer of every stored published FAQ entry (no :class:`Document` built)."""
        for title, body in self.db.execute(
            "select title, body from documents where kind = 'faq' and published = 1"
        ):
            yield title
            yield body

    def document_ids(self, kind: DocKind | None = None) -> list[str]:
        if kind is None:
            return [r[0] for r in self.db.execute("select doc_id from documents order by doc_id")]
        return [
            r[0]
            for r in self.db.execute(
                "select doc_id from documents where kind = ? order by doc_id", [kind]
            )
        ]


class _SideDatabase:
    """A small SQLite file of its own beside ``kb.sqlite`` holding one table.

    Logs and drafts live apart from the store so that ingests and index snapshots never copy
    or lock them.

    Args:
        path: Database file; ``None`` for an in-memory database (tests).
        table: The table's name.
        columns: Its columns, as sqlite-utils takes them.
        pk: Its primary key.
        index: Columns to index, if any.
    """

    def __init__(
        self,
        path: Path | None,
        table: str,
        columns: dict[str, Any],
        *,
        pk: str | tuple[str, ...] = "id",
        index: Sequence[str] = (),
    ) -> None:
        import sqlite_utils

        self.path = path
        self._lock = threading.Lock()
        self._db = sqlite_utils.Database(_connect(path, read_only=False))

        def create() -> None:
            self._db.table(table).create(columns, pk=pk, if_not_exists=True)
            if index:
                self._db.table(table).create_index(list(index), if_not_exists=True)

        # Several processes (`kb serve --workers N`) may open a fresh file at once.
        while_locked(create)

    def close(self) -> None:
        self._db.close()


class EmbeddingCache(_SideDatabase):
    """Embeddings of chunk contents, keyed by (model id, content hash)."""

    def __init__(self, path: Path | None = None) -> None:
        super().__init__(
            path,
            "embeddings",
            {"model": str, "content_hash": str, "dim": int, "vector": bytes},
            pk=("model", "content_hash"),
        )

    def get(self, model: str, hashes: Sequence[str]) -> dict[str, np.ndarray]:
        out: dict[str, np.ndarray] = {}
        unique = list(dict.fromkeys(hashes))
        for start in range(0, len(unique), 500):
            part = unique[start : start + 500]
            marks = ",".join("?" * len(part))
            for h, dim, blob in self._db.execute(
                f"select content_hash, dim, vector from embeddings "
                f"where model = ? and content_hash in ({marks})",
                [model, *part],
            ):
                vec = np.frombuffer(blob, dtype=np.float32)
                if vec.shape[0] == dim:
                    out[h] = vec
        return out

    def put(self, model: str, items: Sequence[tuple[str, np.ndarray]]) -> None:
        with self._db.atomic():
            self._db.table("embeddings").upsert_all(
                (
                    {
                        "model": model,
                        "content_hash": h,
                        "dim": int(v.shape[0]),
                        "vector": np.ascontiguousarray(v, dtype=np.float32).tobytes(),
                    }
                    for h, v in items
                ),
                pk=("model", "content_hash"),
            )


@dataclass(frozen=True)
class FeedbackRecord:
    """One piece of feedback from the staff console or the public widget.

    ``shown`` lists the doc ids (``"faq:F0001"``, ``"case:C0012"``, ``"department:市民課"``)
    that were on screen when it was given, so analytics can tell what was passed over.
    """

    source: str
    """``"staff"`` or ``"public"``."""
    query: str
    shown: tuple[str, ...] = ()
    helped_id: str = ""
    """The result that helped (staff) or that the citizen rated (public)."""
    right_department: str = ""
    """The department staff say was the right one."""
    helpful: bool | None = None
    """The citizen's answer to "was this helpful?" (public); ``None`` for staff feedback."""
    created_at: str = ""
    """UTC time, ISO 8601; set by :meth:`FeedbackStore.add` when empty."""
    id: int = 0


class FeedbackStore(_SideDatabase):
    """Append-only feedback log in its own SQLite file (``DATA_DIR/feedback.sqlite``).

    It lives apart from ``kb.sqlite`` so that ingests and index snapshots never copy or lock
    it, and rows are only ever inserted: the trainer and analytics read a faithful history.

    Args:
        path: Database file; ``None`` for an in-memory database (tests).
    """

    def __init__(self, path: Path | None = None) -> None:
        super().__init__(
            path,
            "feedback",
            {
                "id": int,
                "created_at": str,
                "source": str,
                "query": str,
                "shown": str,
                "helped_id": str,
                "right_department": str,
                "helpful": int,
            },
            index=["created_at"],
        )

    def add(self, record: FeedbackRecord) -> FeedbackRecord:
        """Append ``record``; returns it with its id and time filled in."""
        import datetime as dt

        created = record.created_at or dt.datetime.now(dt.UTC).isoformat(timespec="milliseconds")
        row = {
            "created_at": created,
            "source": record.source,
            "query": record.query,
            "shown": json.dumps(list(record.shown), ensure_ascii=False),
            "helped_id": record.helped_id,
            "right_department": record.right_department,
            "helpful": None if record.helpful is None else int(record.helpful),
        }
        with self._lock, self._db.atomic():
            table = self._db.table("feedback").insert(row)
            rowid = int(table.last_rowid or 0)
        return FeedbackRecord(
            source=record.source,
            query=record.query,
            shown=record.shown,
            helped_id=record.helped_id,
            right_department=record.right_department,
            helpful=record.helpful,
            created_at=created,
            id=rowid,
        )

    def recent(self, limit: int = 100) -> list[FeedbackRecord]:
        """The latest ``limit`` records, newest first."""
        with self._lock:
            rows = list(self._db.query("select * from feedback order by id desc limit ?", [limit]))
        return [
            FeedbackRecord(
                source=r["source"],
                query=r["query"],
                shown=tuple(json.loads(r["shown"] or "[]")),
                helped_id=r["helped_id"] or "",
                right_department=r["right_department"] or "",
                helpful=None if r["helpful"] is None else bool(r["helpful"]),
                created_at=r["created_at"],
                id=int(r["id"]),
            )
            for r in rows
        ]

    def count(self) -> int:
        with self._lock:
            return int(self._db.execute("select count(*) from feedback").fetchone()[0])

    def max_id(self) -> int:
        """The id of the latest record (0 when empty): a cheap "anything new?" check."""
        with self._lock:
            return int(self._db.execute("select coalesce(max(id), 0) from feedback").fetchone()[0])

    def department_labels(self, after_id: int = 0) -> list[tuple[int, str, str]]:
        """``(id, query, right department)`` of 「正しい担当課は…」 records after ``after_id``."""
        with self._lock:
            rows = self._db.execute(
                "select id, query, right_department from feedback "
                "where id > ? and right_department != '' order by id",
                [after_id],
            ).fetchall()
        return [(int(r[0]), str(r[1]), str(r[2])) for r in rows]


@dataclass(frozen=True)
class QueryLogRecord:
    """One logged search: the masked query, what came back, and how well it scored.

    The query is masked (:func:`kb.text.masking.mask_personal`) *before* it reaches this
    record: the log holds no phone numbers, e-mail addresses, My Numbers or detectable names.
    """

    source: str
    """``"staff"`` (console search), ``"public"`` (widget search) or ``"suggest"``."""
    query: str
    result_ids: tuple[str, ...] = ()
    """Doc ids of the top results, best first (``"faq:F0001"``...)."""
    scores: tuple[float, ...] = ()
    """Their scores: the dense (cosine) score of FAQ hits, aligned with ``result_ids``."""
    top_faq_score: float | None = None
    """Best dense score of a published FAQ entry; ``None`` when no FAQ came back."""
    zero_hit: bool = False
    created_at: str = ""
    """UTC time, ISO 8601; set by :meth:`QueryLogStore.add` when empty."""
    id: int = 0


class QueryLogStore(_SideDatabase):
    """Append-only log of searches in its own SQLite file (``DATA_DIR/querylog.sqlite``).

    Args:
        path: Database file; ``None`` for an in-memory database (tests).
    """

    def __init__(self, path: Path | None = None) -> None:
        super().__init__(
            path,
            "queries",
            {
                "id": int,
                "created_at": str,
                "source": str,
                "query": str,
                "result_ids": str,
                "scores": str,
                "top_faq_score": float,
                "zero_hit": int,
            },
            index=["created_at"],
        )

    def add(self, record: QueryLogRecord) -> QueryLogRecord:
        """Append ``record``; returns it with its id and time filled in."""
        return self.add_many([record])[0]

    def add_many(self, records: Sequence[QueryLogRecord]) -> list[QueryLogRecord]:
        """Append several records in one transaction (replays, imports)."""
        import dataclasses
        import datetime as dt

        out: list[QueryLogRecord] = []
        with self._lock, self._db.atomic():
            for record in records:
                created = record.created_at or dt.datetime.now(dt.UTC).isoformat(
                    timespec="milliseconds"
                )
                table = self._db.table("queries").insert(
                    {
                        "created_at": created,
                        "source": record.source,
                        "query": record.query,
                        "result_ids": json.dumps(list(record.result_ids), ensure_ascii=False),
                        "scores": json.dumps([round(s, 4) for s in record.scores]),
                        "top_faq_score": record.top_faq_score,
                        "zero_hit": int(record.zero_hit),
                    }
                )
                rowid = int(table.last_rowid or 0)
                out.append(dataclasses.replace(record, created_at=created, id=rowid))
        return out

    def records(self, *, since: str = "", sources: Sequence[str] = ()) -> list[QueryLogRecord]:
        """Logged searches in time order, optionally from ``since`` (ISO) and some sources."""
        sql = "select * from queries where created_at >= ?"
        params: list[Any] = [since]
        if sources:
            sql += f" and source in ({','.join('?' * len(sources))})"
            params.extend(sources)
        with self._lock:
            rows = list(self._db.query(sql + " order by created_at, id", params))
        return [
            QueryLogRecord(
                source=r["source"],
                query=r["query"],
                result_ids=tuple(json.loads(r["result_ids"] or "[]")),
                scores=tuple(json.loads(r["scores"] or "[]")),
                top_faq_score=r["top_faq_score"],
                zero_hit=bool(r["zero_hit"]),
                created_at=r["created_at"],
                id=int(r["id"]),
            )
            for r in rows
        ]

    def count(self) -> int:
        with self._lock:
            return int(self._db.execute("select count(*) from queries").fetchone()[0])


@dataclass(frozen=True)
class FaqCandidate:
    """A draft FAQ entry written from a gap topic, waiting for a trainer's approval.

    It is not in the search index until approved; approving it stores it as a published FAQ
    document (``faq:<id>``) and triggers an incremental index build.
    """

    id: str
    """``"FC0001"``: also the FAQ id once approved."""
    topic_id: str
    question: str
    answer: str
    department: str
    category: str = ""
    source_cases: tuple[str, ...] = ()
    status: str = "draft"
    """``"draft"`` or ``"approved"``."""
    created_at: str = ""
    approved_at: str = ""


class FaqCandidateStore(_SideDatabase):
    """Draft FAQ entries and their approval state (``DATA_DIR/trainer.sqlite``).

    Args:
        path: Database file; ``None`` for an in-memory database (tests).
    """

    def __init__(self, path: Path | None = None) -> None:
        super().__init__(
            path,
            "faq_candidates",
            {
                "id": str,
                "topic_id": str,
                "question": str,
                "answer": str,
                "department": str,
                "category": str,
                "source_cases": str,
                "status": str,
                "created_at": str,
                "approved_at": str,
            },
        )

    @staticmethod
    def _row(c: FaqCandidate) -> dict[str, Any]:
        return {
            "id": c.id,
            "topic_id": c.topic_id,
            "question": c.question,
            "answer": c.answer,
            "department": c.department,
            "category": c.category,
            "source_cases": json.dumps(list(c.source_cases), ensure_ascii=False),
            "status": c.status,
            "created_at": c.created_at,
            "approved_at": c.approved_at,
        }

    def next_id(self) -> str:
        with self._lock:
            n = int(self._db.execute("select count(*) from faq_candidates").fetchone()[0])
        return f"FC{n + 1:04d}"

    def save(self, candidate: FaqCandidate) -> FaqCandidate:
        """Insert or replace ``candidate`` (keyed by its id)."""
        with self._lock, self._db.atomic():
            self._db.table("faq_candidates").upsert(self._row(candidate), pk="id")
        return candidate

    def get(self, candidate_id: str) -> FaqCandidate | None:
        return next((c for c in self.all() if c.id == candidate_id), None)

    def all(self) -> list[FaqCandidate]:
        with self._lock:
            rows = list(self._db.query("select * from faq_candidates order by id"))
        return [
            FaqCandidate(
                id=r["id"],
                topic_id=r["topic_id"],
                question=r["question"],
                answer=r["answer"],
                department=r["department"] or "",
                category=r["category"] or "",
                source_cases=tuple(json.loads(r["source_cases"] or "[]")),
                status=r["status"],
                created_at=r["created_at"] or "",
                approved_at=r["approved_at"] or "",
            )
            for r in rows
        ]


class RawTextStore:
    """Unmasked text of ingested records (``DATA_DIR/raw.sqlite``), kept only on request.

    Written only when the ``keep_raw_text`` setting is on; the API never opens it, and an index
    build never snapshots it (it is a separate file from ``kb.sqlite``). The file is created
    readable by its owner only.

    Args:
        path: Database file; ``None`` for an in-memory database (tests).
    """

    def __init__(self, path: Path | None = None) -> None:
        import os

        import sqlite_utils

        self.path = path
        if path is not None and not path.exists():
            path.parent.mkdir(parents=True, exist_ok=True)
            os.close(os.open(path, os.O_CREAT | os.O_WRONLY, 0o600))
        self._db = sqlite_utils.Database(_connect(path, read_only=False))
        self._db.table("raw_documents").create(
            {"doc_id": str, "title": str, "body": str, "masked_hash": str, "source": str},
            pk="doc_id",
            if_not_exists=True,
        )

    def upsert(self, items: Sequence[tuple[Document, str]]) -> int:
        """Store ``(raw document, hash of its masked form)`` pairs in one transaction."""
        with self._db.atomic():
            self._db.table("raw_documents").upsert_all(
                (
                    {
                        "doc_id": doc.doc_id,
                        "title": doc.title,
                        "body": doc.body,
                        "masked_hash": masked_hash,
                        "source": doc.source,
                    }
                    for doc, masked_hash in items
                ),
                pk="doc_id",
            )
        return len(items)

    def get(self, doc_id: str) -> tuple[str, str] | None:
        """``(title, body)`` as read from the source file, or ``None``."""
        row = self._db.execute(
            "select title, body from raw_documents where doc_id = ?", [doc_id]
        ).fetchone()
        return None if row is None else (row[0], row[1])

    def count(self) -> int:
        return int(self._db.execute("select count(*) from raw_documents").fetchone()[0])

    def close(self) -> None:
        self._db.close()
