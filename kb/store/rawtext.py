"""``raw.sqlite``: the unmasked text of ingested records, kept only on request."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

from kb.store.sqlite import connect, truncate_wal
from kb.types import Document


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
        self._db = sqlite_utils.Database(connect(path, read_only=False))
        self._db.table("raw_documents").create(
            {"doc_id": str, "title": str, "body": str, "masked_hash": str, "source": str},
            pk="doc_id",
            if_not_exists=True,
        )

    def upsert(self, items: Sequence[tuple[Document, str]]) -> int:
        """Store ``(raw document, hash of its masked form)`` pairs in one transaction.

        Args:
            items: The pairs; a document already stored is replaced.

        Returns:
            How many pairs were written.
        """
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
        """``(title, body)`` as read from the source file, or ``None``.

        Args:
            doc_id: The document's id.

        Returns:
            Its raw title and body, if stored.
        """
        row = self._db.execute(
            "select title, body from raw_documents where doc_id = ?", [doc_id]
        ).fetchone()
        return None if row is None else (row[0], row[1])

    def delete(self, doc_ids: Sequence[str]) -> int:
        """Remove the raw text of ``doc_ids`` (zeroed in the file: ``secure_delete``).

        Args:
            doc_ids: The documents' ids; unknown ones are ignored.

        Returns:
            How many were stored.
        """
        with self._db.atomic():
            return sum(
                self._db.execute("delete from raw_documents where doc_id = ?", [d]).rowcount
                for d in doc_ids
            )

    def compact(self) -> bool:
        """Truncate the write-ahead log after a deletion (:func:`kb.store.sqlite.truncate_wal`)."""
        return True if self.path is None else truncate_wal(self._db.conn)

    def count(self) -> int:
        """How many documents are stored."""
        return int(self._db.execute("select count(*) from raw_documents").fetchone()[0])

    def close(self) -> None:
        """Close the connection."""
        self._db.close()
