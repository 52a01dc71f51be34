"""Ingest: parse files → chunk/tokenize → store, in one transaction per run.

A file that cannot be read at all (bad encoding, missing column...) is reported and skipped; a
bad row is reported and skipped; every good row of every file is stored. All documents of one
run are written in a single transaction, so a crash or kill leaves the store as it was before
the run, and the serving index (a separate snapshot) is untouched either way.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path

from kb.errors import InputError
from kb.ingest.chunking import chunk_document, department_document
from kb.ingest.readers import iter_paths, read_path
from kb.store import Store, UpsertStats
from kb.text.mecab import MeCabTokenizer
from kb.types import Chunk, Department, DocKind, Document, RowError

Progress = Callable[[str, int, int], None]


@dataclass(frozen=True)
class IngestReport:
    files: tuple[str, ...]
    documents: int
    departments: int
    chunks: int
    stats: UpsertStats
    errors: tuple[RowError, ...] = field(default=())
    failed_files: tuple[str, ...] = field(default=())
    parse_seconds: float = 0.0
    tokenize_seconds: float = 0.0
    store_seconds: float = 0.0

    @property
    def ok(self) -> bool:
        return not self.errors and not self.failed_files


def ingest(
    paths: Sequence[Path],
    store: Store,
    *,
    kind: DocKind | None = None,
    tokenizer: MeCabTokenizer | None = None,
    progress: Progress | None = None,
) -> IngestReport:
    """Read ``paths`` (files or folders) and upsert everything good into ``store``."""
    tokenizer = tokenizer or MeCabTokenizer()
    files = list(iter_paths(paths))
    if not files:
        raise InputError(", ".join(str(p) for p in paths), "no supported files found")
    errors: list[RowError] = []
    failed: list[str] = []
    documents: dict[str, Document] = {}
    departments: dict[str, Department] = {}
    t0 = time.perf_counter()
    for i, path in enumerate(files):
        try:
            result = read_path(path, kind)
        except InputError as exc:
            failed.append(str(path))
            errors.append(RowError(exc.source, exc.line, exc.field, exc.message))
            continue
        errors.extend(result.errors)
        for doc in result.documents:
            if doc.doc_id in documents:
                errors.append(
                    RowError(doc.source, 0, "id", f"duplicate id {doc.doc_id}; the later one wins")
                )
            documents[doc.doc_id] = doc
        for dept in result.departments:
            departments[dept.name] = dept
        if progress:
            progress("parse", i + 1, len(files))
    t1 = time.perf_counter()
    for dept in departments.values():
        doc = department_document(dept)
        documents[doc.doc_id] = doc
    items: list[tuple[Document, list[Chunk]]] = []
    for j, doc in enumerate(documents.values()):
        items.append((doc, chunk_document(doc, tokenizer)))
        if progress and (j + 1) % 200 == 0:
            progress("tokenize", j + 1, len(documents))
    if progress:
        progress("tokenize", len(documents), len(documents))
    t2 = time.perf_counter()
    # Departments and documents land together: one transaction for the whole run.
    with store.transaction():
        if departments:
            store.upsert_departments(list(departments.values()))
        stats = store.upsert(items)
    t3 = time.perf_counter()
    return IngestReport(
        files=tuple(str(f) for f in files),
        documents=len(documents) - len(departments),
        departments=len(departments),
        chunks=sum(len(c) for _, c in items),
        stats=stats,
        errors=tuple(errors),
        failed_files=tuple(failed),
        parse_seconds=t1 - t0,
        tokenize_seconds=t2 - t1,
        store_seconds=t3 - t2,
    )
