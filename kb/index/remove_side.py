"""What a removal (:mod:`kb.index.remove`) deletes besides the documents and their embeddings.

* **Readings** (the ``readings`` table beside the embeddings, :mod:`kb.store.readings_cache`):
  each chunk title's and text's morphemes, as written and in kana, go with the last chunk that
  has that title or text.
* **Procedures** (手続き): ``procedure:ID`` names a row of the store's ``procedures`` table;
  they are not documents (not chunked or embedded) but the index snapshot serves them, so a
  build follows.
* **Consultation records** (``records.sqlite``): erasing the case a closed record became
  (``case:desk-R000001``) removes the record (the citizen's words, the notes, the searches
  made) and every hand-off sheet written from it: a citizen who asks for their consultation to
  be erased expects all of it gone, not only its searchable copy. Other hand-offs that listed
  an erased case among their similar cases lose its id. The texts removed are returned, so the
  logs quoting them are erased too (:mod:`kb.index.erase`).

Each file is compacted after (its write-ahead log truncated); none is created.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from kb.settings import Settings
from kb.store.procedures import procedure_of
from kb.store.readings_cache import ReadingsCache
from kb.store.records import RecordStore, record_of_case
from kb.types import DocId


def split_ids(ids: Sequence[str]) -> tuple[list[str], list[str]]:
    """``ids`` as (document ids, procedure ids without their ``procedure:`` prefix)."""
    docs: list[str] = []
    procedures: list[str] = []
    for i in ids:
        local = procedure_of(i)
        if local is None:
            docs.append(i)
        else:
            procedures.append(local)
    return docs, procedures


def purge_readings(settings: Settings, used: set[str]) -> tuple[int, bool]:
    """Remove every cached reading that no stored chunk has any more.

    Those of the deleted documents, and of earlier versions of any document (an update leaves
    its old text's reading behind): both are text kb no longer holds.

    Args:
        settings: The data folder (the readings live in ``embeddings.sqlite``).
        used: The readings-cache keys of every stored chunk
            (:func:`kb.store.lifecycle.all_keys_in_use`), the documents already deleted.

    Returns:
        Rows removed, and whether the write-ahead log was truncated.
    """
    path = settings.data_dir / "embeddings.sqlite"
    if not path.exists():
        return 0, True
    cache = ReadingsCache(path)
    try:
        return cache.purge(cache.distinct("text_hash") - used), cache.compact()
    finally:
        cache.close()


@dataclass(frozen=True)
class RecordsPurged:
    """What :func:`purge_records` removed from ``records.sqlite``."""

    records: int = 0
    handoffs: int = 0
    """Hand-off sheets written from the records removed."""
    handoffs_changed: int = 0
    """Other hand-offs that listed an erased case among their similar cases."""
    texts: tuple[str, ...] = ()
    """The removed texts, for the erasure of the logs (never reported)."""
    wal_truncated: bool = True


def purge_records(settings: Settings, doc_ids: Sequence[str]) -> RecordsPurged:
    """Remove the records whose cases are among ``doc_ids``, with their hand-offs.

    Args:
        settings: The data folder (``records.sqlite``; nothing happens without one).
        doc_ids: The documents removed.
    """
    cases = [i for i in doc_ids if DocId.kind_of(i) == "case"]
    path = settings.records_path
    if not cases or not path.exists():
        return RecordsPurged()
    record_ids = [r for r in map(record_of_case, cases) if r is not None]
    records = RecordStore(path)
    try:
        texts: list[str] = []
        for record_id in record_ids:
            found = records.get(record_id)
            if found is not None:
                texts.extend([found.citizen_words, found.notes, found.actions, *found.queries])
        for sheet in records.handoffs(record_ids):
            texts.extend([sheet.summary, sheet.heard, sheet.done, sheet.bring])
        removed, sheets = records.remove_records(record_ids)
        changed = records.forget_cases(cases)
        ok = records.compact()
    finally:
        records.close()
    return RecordsPurged(removed, sheets, changed, tuple(t for t in texts if t), ok)


__all__ = ["RecordsPurged", "purge_readings", "purge_records", "split_ids"]
