"""``embeddings.sqlite``: document embeddings keyed by model and chunk content."""

from __future__ import annotations

from collections.abc import Collection, Sequence
from pathlib import Path

import numpy as np

from kb.store.sqlite import SideDatabase, in_parts, write_transaction


class EmbeddingCache(SideDatabase):
    """Embeddings of chunk contents, keyed by (model id, content hash).

    A rebuild of the index only embeds the chunks whose content is not in the cache.

    Args:
        path: Database file; ``None`` for an in-memory database (tests).
    """

    def __init__(self, path: Path | None = None) -> None:
        super().__init__(
            path,
            "embeddings",
            {"model": str, "content_hash": str, "dim": int, "vector": bytes},
            pk=("model", "content_hash"),
        )

    def get(self, model: str, hashes: Sequence[str]) -> dict[str, np.ndarray]:
        """The cached vectors of ``hashes`` under ``model``.

        Args:
            model: The embedding model's id.
            hashes: Content hashes (:func:`kb.store.text_hash`); repeats are looked up once.

        Returns:
            ``content hash → vector`` for those that are cached.
        """
        out: dict[str, np.ndarray] = {}
        for part, marks in in_parts(hashes):
            for h, dim, blob in self._db.execute(
                f"select content_hash, dim, vector from embeddings "
                f"where model = ? and content_hash in ({marks})",
                [model, *part],
            ):
                vec = np.frombuffer(blob, dtype=np.float32)
                if vec.shape[0] == dim:
                    out[h] = vec
        return out

    def purge(self, hashes: Collection[str]) -> int:
        """Remove the vectors of ``hashes`` under every model, in one transaction.

        Args:
            hashes: Content hashes (:func:`kb.store.text_hash`) of texts no longer stored.

        Returns:
            How many rows were removed.
        """
        return self.delete_where_in("content_hash", hashes)

    def put(self, model: str, items: Sequence[tuple[str, np.ndarray]]) -> None:
        """Store ``(content hash, vector)`` pairs under ``model`` in one transaction.

        Args:
            model: The embedding model's id.
            items: The pairs; a pair already cached is replaced.
        """
        with write_transaction(self._db):
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
