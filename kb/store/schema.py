"""``kb.sqlite``'s schema, and how a :class:`~kb.types.Document` and its chunks map to rows."""

from __future__ import annotations

import json
from typing import Any

from kb.store.procedures import create_procedures_table
from kb.types import Document

SCHEMA_VERSION = "1"
GENERATION_KEY = "generation"
"""The ``meta`` row counting the write transactions that changed ``kb.sqlite``."""
BUMP_GENERATION = (
    f"update meta set value = cast(value as integer) + 1 where key = '{GENERATION_KEY}'"
)
"""Run inside every write transaction: a snapshot then carries the generation it saw."""
FAQ_COLUMNS: dict[str, type] = {"owner": str, "updated": str, "expires": str}
"""Columns added after the first release (所管課, 更新日, 公開期限): an older ``kb.sqlite`` or
index snapshot may lack them, so readers take them as empty when missing."""


def create_schema(db: Any) -> None:
    """Create the tables of ``kb.sqlite`` that are missing, and record the schema version.

    Args:
        db: The ``sqlite_utils.Database`` to create them in.
    """
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
            **FAQ_COLUMNS,
        },
        pk="doc_id",
        if_not_exists=True,
    )
    # A store written before the FAQ columns existed gets them (empty) on its next write.
    documents = db["documents"]
    for name, kind in FAQ_COLUMNS.items():
        if name not in documents.columns_dict:
            documents.add_column(name, kind)
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
    create_procedures_table(db)
    db["meta"].create({"key": str, "value": str}, pk="key", if_not_exists=True)
    db["meta"].upsert({"key": "schema_version", "value": SCHEMA_VERSION}, pk="key")
    db["meta"].insert({"key": GENERATION_KEY, "value": "0"}, pk="key", ignore=True)


def doc_row(doc: Document, digest: str) -> dict[str, Any]:
    """The ``documents`` row of ``doc``.

    Args:
        doc: The document.
        digest: Its :func:`kb.store.document_hash`.

    Returns:
        Column → value, in the order of :data:`DOC_COLUMNS`.
    """
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
        "owner": doc.owner,
        "updated": doc.updated,
        "expires": doc.expires,
    }


def row_doc(row: dict[str, Any]) -> Document:
    """The document a ``documents`` row holds.

    Args:
        row: The row, column → value.

    Returns:
        The document.
    """
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
        owner=row.get("owner") or "",
        updated=row.get("updated") or "",
        expires=row.get("expires") or "",
    )


DOC_COLUMNS = tuple(doc_row(Document(doc_id="", kind="faq", title="", body=""), "").keys())
UPSERT_DOCUMENT = (
    f"insert into documents ({', '.join(DOC_COLUMNS)}) "
    f"values ({', '.join('?' * len(DOC_COLUMNS))}) on conflict(doc_id) do update set "
    + ", ".join(f"{c} = excluded.{c}" for c in DOC_COLUMNS if c != "doc_id")
)
"""What ``sqlite_utils`` ``upsert(pk="doc_id")`` runs, for many rows at once."""
CHUNK_COLUMNS = (
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
INSERT_CHUNK = (
    f"insert into chunks ({', '.join(CHUNK_COLUMNS)}) "
    f"values ({', '.join('?' * len(CHUNK_COLUMNS))})"
)
