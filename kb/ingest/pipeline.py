"""Ingest: parse files → chunk/tokenize → store, in one transaction per run.

A file that cannot be read at all (bad encoding, missing column...) is reported and skipped; a
bad row is reported and skipped; every good row of every file is stored. All documents of one
run are written in a single transaction, so a crash or kill leaves the store as it was before
the run, and the serving index (a separate snapshot) is untouched either way.

Personal data in the free text is masked (:mod:`kb.ingest.redact`) before anything is chunked,
hashed or stored, so the store, the indexes and every response only ever hold the masked text;
the unmasked text is kept only when a :class:`~kb.store.RawTextStore` is passed (the
``keep_raw_text`` setting). A file with more records than ``max_rows`` is refused whole.

File names are masked too: records, row errors and the report name a file by its label
(:meth:`~kb.ingest.redact.Redactor.file_label`), never by the name as written, and cell values
quoted in row errors are masked. A record whose id carries personal data is refused with a row
error (:meth:`~kb.ingest.redact.Redactor.id_problem`).
"""

from __future__ import annotations

import dataclasses
import time
from collections import Counter
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path

from kb.errors import InputError
from kb.faults import pause_point
from kb.ingest.chunking import chunk_document, department_document
from kb.ingest.columns import NO_MAPPING, ColumnMapping
from kb.ingest.departments import match_documents, unmatched_stored
from kb.ingest.limits import DEFAULT_LIMITS, InputLimits
from kb.ingest.readers import iter_paths, read_path
from kb.ingest.redact import Redactor, masker_for, phones_in, public_phones, relabel
from kb.messages import msg
from kb.store import RawTextStore, Store, UpsertStats, document_hash
from kb.store.lifecycle import Change, plan_upsert
from kb.store.records import CASE_PREFIX, reserved_case_id
from kb.text.masking import Masker
from kb.text.mecab import MeCabTokenizer
from kb.types import Chunk, Department, DocId, DocKind, Document, ParseResult, Procedure, RowError

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
    masked: int = 0
    """Documents whose text had personal data masked."""
    procedures: int = 0
    """Procedures (手続き) read; they are stored beside the documents, not chunked."""
    procedures_changed: int = 0
    """Procedures added or changed: the index snapshot must be rebuilt to serve them."""
    doc_ids: tuple[str, ...] = ()
    """Every document read and kept (departments' too): what ``kb ingest --sync`` keeps."""
    procedure_ids: tuple[str, ...] = ()
    """Every procedure read: what ``kb ingest --sync`` keeps of the procedures."""
    planned: tuple[tuple[str, str], ...] = ()
    """A dry run's ``(doc_id, "added" | "updated")`` pairs: what it would have written."""
    warnings: tuple[RowError, ...] = ()
    """Problems of rows that were stored all the same (an unknown channel, a column read
    past); they do not make the run fail."""

    @property
    def ok(self) -> bool:
        return not self.errors and not self.failed_files

    @property
    def stored(self) -> int:
        """Documents written (added or changed) by this run."""
        return self.stats.added + self.stats.updated


def ingest(
    paths: Sequence[Path],
    store: Store,
    *,
    kind: DocKind | None = None,
    tokenizer: MeCabTokenizer | None = None,
    progress: Progress | None = None,
    mask: bool = True,
    masker: Masker | None = None,
    keep_words: Sequence[str] = (),
    raw_store: RawTextStore | None = None,
    max_rows: int = 0,
    upload_id: str = "",
    limits: InputLimits = DEFAULT_LIMITS,
    dry_run: bool = False,
    mapping: ColumnMapping = NO_MAPPING,
) -> IngestReport:
    """Read ``paths`` (files or folders) and upsert everything good into ``store``.

    Args:
        paths: Files and folders.
        store: The live store.
        kind: Force the kind of CSV/JSONL files.
        tokenizer: Shared MeCab tokenizer.
        progress: Progress callback ``(stage, done, total)``.
        mask: Mask personal data before storing (turn off only for tests of raw behaviour).
        masker: The masker; default: one keeping the directory's phones and names (those of
            this run and those already stored), the landline numbers of published FAQ
            entries and ``keep_words``.
        keep_words: Words never masked as names (the city's place names).
        raw_store: Where to keep the unmasked text (``keep_raw_text``); ``None``: nowhere.
        max_rows: Refuse a file with more records than this (0: no limit).
        upload_id: The files are an admin upload with this id: they are labelled
            ``upload:<id>/<file name>`` instead of by their path (the report's ``files`` and
            ``failed_files`` too).
        limits: Size limits on each file (zip bombs, PDF pages, text, chunks); see
            :mod:`kb.ingest.limits`.
        dry_run: Read, mask and compare everything, write nothing (not the raw text either):
            ``stats`` and ``planned`` say what the run would add and change.
        mapping: The city's column mapping for CSV/JSONL/XLSX files (``--columns``, the
            ``columns_file`` setting).
    """
    tokenizer = tokenizer or MeCabTokenizer()
    files = list(iter_paths(paths))
    if not files:
        raise InputError(", ".join(str(p) for p in paths), msg("files.none_found"))
    errors: list[tuple[str, RowError]] = []  # (the file as read, its error)
    warnings: list[tuple[str, RowError]] = []
    failed: list[str] = []
    documents: dict[str, Document] = {}
    departments: dict[str, Department] = {}
    procedures: dict[str, Procedure] = {}
    origin: dict[str, str] = {}  # document id → the file it was read from
    directory_file = ""  # the (last) file that brought directory entries
    t0 = time.perf_counter()
    for i, path in enumerate(files):
        raw = str(path)
        try:
            result = read_path(path, kind, limits=limits, mapping=mapping)
        except InputError as exc:
            failed.append(raw)
            errors.append((raw, RowError(exc.source, exc.line, exc.field, exc.message)))
            continue
        except Exception as exc:  # a reader bug must not stop the batch or hide the file
            failed.append(raw)
            message = msg("files.reader_failed", problem=f"{type(exc).__name__}: {exc}")
            errors.append((raw, RowError(raw, 0, "", message)))
            continue
        over = _over_limit(result, max_rows)
        if over is not None:
            failed.append(raw)
            errors.append((raw, over))
            continue
        errors.extend((raw, e) for e in result.errors)
        warnings.extend((raw, w) for w in result.warnings)
        for doc in result.documents:
            if doc.doc_id in documents:
                # The later row is stored: a warning (errors count rows that were not).
                earlier = Path(documents[doc.doc_id].source).name  # file:line, no folder
                message = msg("files.duplicate_id", doc_id=doc.doc_id, first=earlier)
                warnings.append((raw, RowError(doc.source, 0, "id", message)))
            documents[doc.doc_id] = doc
            origin[doc.doc_id] = raw
        for dept in result.departments:
            departments[dept.name] = dept
            directory_file = raw
        for procedure in result.procedures:
            if procedure.id in procedures:
                message = f"duplicate procedure id {procedure.id}; the later one wins"
                errors.append((raw, RowError(procedure.source, 0, "id", message)))
            procedures[procedure.id] = procedure
        if progress:
            progress("parse", i + 1, len(files))
    t1 = time.perf_counter()
    known = {d.name: d for d in store.departments()}
    known.update(departments)
    warnings.extend(match_documents(documents, origin, known.values()))
    if departments:
        unmatched, docs = unmatched_stored(store.document_departments(), known.values(), documents)
        if unmatched:
            names = "、".join(f"{n} {c}" for n, c in unmatched.most_common(5))
            text = msg("warn.stored_departments_unmatched", docs=docs, names=names)
            warnings.append((directory_file, RowError(directory_file, 0, "department", text)))
    redactor: Redactor | None = None
    if mask:
        if masker is None:
            phones = public_phones(documents.values()) | phones_in(store.published_faq_texts())
            masker = masker_for(known.values(), tokenizer, keep_words, phones)
        redactor = Redactor(masker)
    labels = _labels(files, redactor, upload_id)
    documents = {
        k: dataclasses.replace(d, source=_relabel(d.source, labels)) for k, d in documents.items()
    }
    departments = {
        k: dataclasses.replace(d, source=_relabel(d.source, labels)) for k, d in departments.items()
    }
    procedures = {
        k: dataclasses.replace(p, source=_relabel(p.source, labels)) for k, p in procedures.items()
    }
    row_errors = [_reported(e, raw, labels[raw], redactor) for raw, e in errors]
    row_warnings = [_reported(w, raw, labels[raw], redactor) for raw, w in warnings]
    if redactor is not None:
        row_errors.extend(_refuse_personal_ids(documents, redactor))
    row_errors.extend(_refuse_desk_case_ids(documents, store))
    row_warnings.extend(_replaced_from_other_files(documents, store))
    for dept in departments.values():
        doc = department_document(dept)
        documents[doc.doc_id] = doc
    masked = 0
    raw_items: list[tuple[Document, str]] = []
    if redactor is not None:
        if progress:
            progress("mask", 0, len(documents))
        for doc_id, doc in list(documents.items()):
            clean = redactor.document(doc)
            if clean is not doc:
                masked += 1
                documents[doc_id] = clean
            if raw_store is not None and doc.kind != "department":
                raw_items.append((doc, document_hash(clean)))
        if progress:
            progress("mask", len(documents), len(documents))
    items: list[tuple[Document, list[Chunk]]] = []
    for j, doc in enumerate(documents.values()):
        items.append((doc, chunk_document(doc, tokenizer)))
        if progress and (j + 1) % 200 == 0:
            progress("tokenize", j + 1, len(documents))
    if progress:
        progress("tokenize", len(documents), len(documents))
    t2 = time.perf_counter()
    planned: dict[str, Change] = {}
    if dry_run:
        # Nothing is written: what the run would add, change or leave (`kb ingest --dry-run`).
        planned = plan_upsert(store, (doc for doc, _ in items))
        changed = 0
        counts = Counter(planned.values())
        stats = UpsertStats(counts["added"], counts["updated"], counts["unchanged"])
        raw_store = None
    else:
        # Departments and documents land together: one transaction for the whole run.
        with store.transaction():
            if departments:
                store.upsert_departments(list(departments.values()))
            changed = store.upsert_procedures(list(procedures.values())) if procedures else 0
            half = len(items) // 2
            first = store.upsert(items[:half])
            pause_point("ingest.store")
            second = store.upsert(items[half:])
            stats = UpsertStats(
                first.added + second.added,
                first.updated + second.updated,
                first.unchanged + second.unchanged,
            )
    if raw_store is not None and raw_items:
        raw_store.upsert(raw_items)
    t3 = time.perf_counter()
    return IngestReport(
        files=tuple(labels[str(f)] for f in files),
        documents=len(documents) - len(departments),
        departments=len(departments),
        chunks=sum(len(c) for _, c in items),
        stats=stats,
        errors=tuple(row_errors),
        failed_files=tuple(labels[f] for f in failed),
        parse_seconds=t1 - t0,
        tokenize_seconds=t2 - t1,
        store_seconds=t3 - t2,
        masked=masked,
        procedures=len(procedures),
        procedures_changed=changed,
        doc_ids=tuple(documents),
        procedure_ids=tuple(procedures),
        planned=tuple((i, c) for i, c in planned.items() if c != "unchanged"),
        warnings=tuple(row_warnings),
    )


def _reported(error: RowError, raw: str, label: str, redactor: Redactor | None) -> RowError:
    """A row error or warning as the report gives it: the file by its label, values masked."""
    if redactor is not None:
        return redactor.row_error(error, raw, label)
    return RowError(relabel(error.source, raw, label), error.line, error.field, error.message)


def _labels(files: Sequence[Path], redactor: Redactor | None, upload_id: str) -> dict[str, str]:
    """The label of each file read (see :meth:`Redactor.file_label`), by its path as read."""
    out: dict[str, str] = {}
    for path in files:
        raw = str(path)
        if redactor is not None:
            out[raw] = redactor.file_label(raw, upload_id)
        else:
            out[raw] = f"upload:{upload_id}/{path.name}" if upload_id else raw
    return out


def _relabel(source: str, labels: dict[str, str]) -> str:
    """A record's ``source`` (``path`` or ``path:line``) with its file's label."""
    path, sep, line = source.rpartition(":")
    if sep and line.isdigit() and path in labels:
        return labels[path] + sep + line
    return labels.get(source, source)


def _refuse_personal_ids(documents: dict[str, Document], redactor: Redactor) -> list[RowError]:
    """Drop the records whose id carries personal data; one row error per record (per manual).

    Runs after the records were relabelled, so errors name the file by its label.
    """
    errors: list[RowError] = []
    reported: set[str] = set()
    for doc_id, doc in list(documents.items()):
        problem = redactor.id_problem(doc)
        if problem is None:
            continue
        del documents[doc_id]
        path, sep, line = doc.source.rpartition(":")
        if doc.kind == "manual":
            file = path if sep and line.isdigit() else doc.source
            if file not in reported:
                reported.add(file)
                errors.append(RowError(file, 0, "id", problem))
        elif sep and line.isdigit():
            errors.append(RowError(path, int(line), "id", problem))
        else:
            errors.append(RowError(doc.source, 0, "id", problem))
    return errors


def _refuse_desk_case_ids(documents: dict[str, Document], store: Store) -> list[RowError]:
    """Drop the cases whose id is the desk's (``desk-R000001``) unless the store holds them.

    A closed consultation record is the case ``case:desk-R000001``
    (:mod:`kb.store.records`): a file may read such a case back (the desk's own export) but
    never add one, so a city's case numbers and the desk's can never meet.
    """
    reserved = [
        d
        for d in documents.values()
        if d.kind == "case" and reserved_case_id(DocId.local_of(d.doc_id))
    ]
    stored = store.get_documents([d.doc_id for d in reserved]) if reserved else {}
    errors: list[RowError] = []
    for doc in reserved:
        if doc.doc_id in stored:
            continue
        del documents[doc.doc_id]
        path, sep, line = doc.source.rpartition(":")
        where = (path, int(line)) if sep and line.isdigit() else (doc.source, 0)
        text = msg("desk.reserved_case_id", id=DocId.local_of(doc.doc_id), prefix=CASE_PREFIX)
        errors.append(RowError(*where, "id", text))
    return errors


def _replaced_from_other_files(documents: dict[str, Document], store: Store) -> list[RowError]:
    """A warning per file for its records that replace a stored record of the same id read
    from another file: a hand-kept workbook numbered from 1 each year would otherwise overwrite
    the year before without a word (ingesting the same file again is an update, and silent)."""
    sources = store.sources([d.doc_id for d in documents.values() if d.kind != "department"])
    replaced: dict[str, list[tuple[int, str, str]]] = {}
    for doc in documents.values():
        old = sources.get(doc.doc_id)
        path, _, number = doc.source.rpartition(":")
        if not old or Path(old.rpartition(":")[0]).name == Path(path).name:
            continue
        entry = (int(number) if number.isdigit() else 0, DocId.local_of(doc.doc_id), old)
        replaced.setdefault(path, []).append(entry)
    warnings: list[RowError] = []
    for path, entries in replaced.items():
        entries.sort()
        line, _, old = entries[0]
        ids = "、".join(local for _, local, _ in entries[:3])
        text = msg(
            "ingest.replaced_other_file",
            count=len(entries),
            ids=ids,
            old=old.rpartition(":")[0] or old,
        )
        warnings.append(RowError(path, line, "id", text))
    return warnings


def _over_limit(result: ParseResult, max_rows: int) -> RowError | None:
    """The error refusing a file with more than ``max_rows`` records, or ``None``."""
    records = len(result.documents) + len(result.departments) + len(result.procedures)
    rows = records + sum(1 for e in result.errors if e.line)
    if not max_rows or rows <= max_rows:
        return None
    lines = sorted(
        {
            int(src.rsplit(":", 1)[1])
            for src in [d.source for d in result.documents]
            + [d.source for d in result.departments]
            + [p.source for p in result.procedures]
            if ":" in src and src.rsplit(":", 1)[1].isdigit()
        }
        | {e.line for e in result.errors if e.line}
    )
    line = lines[max_rows] if len(lines) > max_rows else 0
    return RowError(result.source, line, "", msg("files.too_many_rows", limit=max_rows))
