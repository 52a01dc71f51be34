"""What deleting, syncing and erasing need to read from ``kb.sqlite``.

The writes stay in :class:`~kb.store.Store` (:meth:`~kb.store.Store.delete_documents` is the
one place that deletes documents); these are the reads around them: which embedding-cache rows
a document's chunks use, which of those another chunk still needs, what an ingest would change
without writing it, and which texts of the live store contain a fragment.
"""

from __future__ import annotations

from collections.abc import Callable, Collection, Iterable, Sequence
from typing import Literal

from kb.store.documents import Store
from kb.store.hashes import document_hash, text_hash
from kb.store.sqlite import in_parts
from kb.store.types import ChunkRow
from kb.types import Document

Change = Literal["added", "updated", "unchanged"]


def chunk_embedding_keys(title: str, content: str) -> tuple[str, str]:
    """The embedding-cache keys of one chunk: its full text's and its title's.

    The same rule as the index build (:func:`kb.index.builder.build_index` embeds ``content``
    and ``title or content``, each under :func:`~kb.store.text_hash`).

    Args:
        title: The chunk's title (may be empty).
        content: The chunk's content (:attr:`ChunkRow.content`).
    """
    return text_hash(content), text_hash(title or content)


def embedding_keys(store: Store, doc_ids: Sequence[str]) -> set[str]:
    """The embedding-cache keys of the chunks of ``doc_ids`` (unknown ids have none)."""
    keys: set[str] = set()
    for part, marks in in_parts(doc_ids):
        for title, text in store.db.execute(
            f"select title, text from chunks where doc_id in ({marks})", part
        ):
            row = ChunkRow(0, "", "", "faq", title or "", text or "", (), (), "")
            keys.update(chunk_embedding_keys(row.title, row.content))
    return keys


def keys_in_use(store: Store, keys: Collection[str]) -> set[str]:
    """Those of ``keys`` that a chunk of the store still embeds (the same text elsewhere).

    One pass over the chunks; a title is hashed only when some key could be its.
    """
    wanted = set(keys)
    used: set[str] = set()
    if not wanted:
        return used
    for title, content_hash in store.db.execute("select title, content_hash from chunks"):
        if content_hash in wanted:
            used.add(content_hash)
        # Without a title, the title key is the content's (checked above).
        if title and text_hash(title) in wanted:
            used.add(text_hash(title))
    return used


def all_keys_in_use(store: Store) -> tuple[set[str], set[str]]:
    """The embedding-cache keys and the readings-cache keys of every chunk of the store.

    What a cache row must have to be kept: a key no chunk has is the text of a deleted
    document or of an earlier version of one (:func:`chunk_embedding_keys`, :func:`text_keys`).
    """
    embedded: set[str] = set()
    read: set[str] = set()
    for title, text, content_hash in store.db.execute(
        "select title, text, content_hash from chunks"
    ):
        embedded.add(content_hash)
        embedded.add(text_hash(title) if title else content_hash)
        read.update((text_hash(title or ""), text_hash(text or "")))
    return embedded, read


def text_keys(store: Store, doc_ids: Sequence[str]) -> set[str]:
    """The readings-cache keys of the chunks of ``doc_ids``: their titles' and texts' hashes.

    The same rule as the index build (:class:`kb.index.readings.CachedReadings` keys a chunk's
    title and its text, each as stored, under :func:`~kb.store.text_hash`).
    """
    keys: set[str] = set()
    for part, marks in in_parts(doc_ids):
        for title, text in store.db.execute(
            f"select title, text from chunks where doc_id in ({marks})", part
        ):
            keys.update((text_hash(title or ""), text_hash(text or "")))
    return keys


def text_keys_in_use(store: Store, keys: Collection[str]) -> set[str]:
    """Those of ``keys`` (:func:`text_keys`) that a chunk of the store still has."""
    wanted = set(keys)
    used: set[str] = set()
    if not wanted:
        return used
    for title, text in store.db.execute("select title, text from chunks"):
        used.update(k for k in (text_hash(title or ""), text_hash(text or "")) if k in wanted)
        if len(used) == len(wanted):
            break
    return used


def plan_upsert(store: Store, docs: Iterable[Document]) -> dict[str, Change]:
    """What :meth:`Store.upsert` would do with each document, without writing anything.

    Args:
        store: The live store.
        docs: The documents as an ingest would store them (masked).

    Returns:
        ``doc_id → "added" | "updated" | "unchanged"``.
    """
    docs = list(docs)
    stored: dict[str, str] = {}
    for part, marks in in_parts(d.doc_id for d in docs):
        stored.update(
            store.db.execute(
                f"select doc_id, content_hash from documents where doc_id in ({marks})", part
            ).fetchall()
        )
    out: dict[str, Change] = {}
    for doc in docs:
        old = stored.get(doc.doc_id)
        if old is None:
            out[doc.doc_id] = "added"
        else:
            out[doc.doc_id] = "unchanged" if old == document_hash(doc) else "updated"
    return out


def fragments_in_store(
    store: Store, fragments: Collection[str], compact: Callable[[str], str]
) -> set[str]:
    """Those of ``fragments`` found in the text of some stored chunk.

    Args:
        store: The live store.
        fragments: Text fragments, in the form ``compact`` gives the chunk texts.
        compact: ``str → str``: how a chunk's title and text are put into that form.

    Returns:
        The fragments that occur in a chunk's compacted title or text.
    """
    left = set(fragments)
    found: set[str] = set()
    if not left:
        return found
    for title, text in store.db.execute("select title, text from chunks"):
        whole = compact(f"{title or ''}\n{text or ''}")
        hits = {f for f in left if f in whole}
        if hits:
            found |= hits
            left -= hits
            if not left:
                break
    return found


__all__ = [
    "Change",
    "chunk_embedding_keys",
    "embedding_keys",
    "fragments_in_store",
    "keys_in_use",
    "plan_upsert",
    "text_keys",
    "text_keys_in_use",
]
