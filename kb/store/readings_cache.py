"""The ``readings`` table of ``embeddings.sqlite``: MeCab readings of chunk texts, by content.

An index build needs the reading of every chunk's title and text (:mod:`kb.index.readings`);
running MeCab over the whole corpus was most of the CPU of a build whose embeddings all came
from the cache (closing a consultation record, approving an FAQ). The readings of a text only
depend on the text and the tokenizer, so they are kept here keyed by (tokenizer version, text
hash), beside the embeddings they share a lifecycle with: a build reads them back for every
unchanged text, and deleting or erasing a document purges both (:mod:`kb.index.remove`).

The rows hold the text's morphemes as written and read (kana): text of the documents, so
purged with them. The encoding of a reading is the index's (:mod:`kb.index.readings`); this
table stores it as an opaque string.
"""

from __future__ import annotations

from collections.abc import Collection, Sequence
from pathlib import Path

from kb.store.sqlite import SideDatabase, in_parts, write_transaction


class ReadingsCache(SideDatabase):
    """Encoded readings keyed by (tokenizer version, text hash).

    Args:
        path: Database file (the embedding cache's, ``DATA_DIR/embeddings.sqlite``); ``None``
            for an in-memory database (tests).
    """

    def __init__(self, path: Path | None = None) -> None:
        super().__init__(
            path,
            "readings",
            {"version": str, "text_hash": str, "data": str},
            pk=("version", "text_hash"),
        )

    def get(self, version: str, hashes: Sequence[str]) -> dict[str, str]:
        """The cached readings of ``hashes`` under the tokenizer ``version``.

        Args:
            version: The tokenizer's version (:data:`kb.text.mecab.TOKENIZER_VERSION`).
            hashes: Text hashes (:func:`kb.store.text_hash`); repeats are looked up once.

        Returns:
            ``text hash → encoded readings`` for those that are cached.
        """
        out: dict[str, str] = {}
        with self._lock:
            for part, marks in in_parts(hashes):
                out.update(
                    self._db.execute(
                        f"select text_hash, data from readings "
                        f"where version = ? and text_hash in ({marks})",
                        [version, *part],
                    ).fetchall()
                )
        return out

    def put(self, version: str, items: Sequence[tuple[str, str]]) -> None:
        """Store ``(text hash, encoded readings)`` pairs under ``version`` in one transaction."""
        if not items:
            return
        with self._lock, write_transaction(self._db):
            self._db.conn.executemany(
                "insert or replace into readings (version, text_hash, data) values (?, ?, ?)",
                [(version, h, data) for h, data in items],
            )

    def purge(self, hashes: Collection[str]) -> int:
        """Remove the readings of ``hashes`` under every version, in one transaction.

        Args:
            hashes: Hashes of texts no longer stored (:func:`kb.store.lifecycle.text_keys`).

        Returns:
            How many rows were removed.
        """
        return self.delete_where_in("text_hash", hashes)

    def count(self) -> int:
        """How many readings are cached (every version)."""
        with self._lock:
            return int(self._db.execute("select count(*) from readings").fetchone()[0])


__all__ = ["ReadingsCache"]
