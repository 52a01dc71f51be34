"""Dispatch from a source file to its reader, and expansion of folders into files.

The format readers import their external libraries (python-docx, pypdf, openpyxl,
charset-normalizer) only when a file of that format is read, so importing this module stays
cheap.

Every file is read under :class:`~kb.ingest.limits.InputLimits`: the format readers check
their own (zip, PDF, text size) and :func:`read_path` the chunk limits of what they produced.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Iterable, Iterator
from pathlib import Path

from kb.errors import InputError
from kb.ingest.columns import NO_MAPPING, ColumnMapping
from kb.ingest.limits import DEFAULT_LIMITS, InputLimits, limit_chunks, text_too_long
from kb.messages import msg
from kb.types import DocKind, ParseResult

TABULAR_SUFFIXES = (".csv", ".jsonl", ".xlsx")
MANUAL_SUFFIXES = (".md", ".markdown", ".txt", ".docx", ".pdf")
SUPPORTED_SUFFIXES = TABULAR_SUFFIXES + MANUAL_SUFFIXES
"""File extensions :func:`read_path` can read (compared case-insensitively)."""
RESAVE_SUFFIXES = (".xls", ".xlsm", ".xlsb", ".ods")
"""Spreadsheets to save again as ``.xlsx`` or CSV: the error says so."""


def read_path(
    path: Path,
    kind: DocKind | None = None,
    *,
    limits: InputLimits = DEFAULT_LIMITS,
    mapping: ColumnMapping = NO_MAPPING,
) -> ParseResult:
    """Read one source file into documents (FAQ, cases, manual sections) or departments.

    Args:
        path: A ``.csv``, ``.jsonl``, ``.xlsx``, ``.md``/``.markdown``, ``.txt``, ``.docx`` or
            ``.pdf`` file.
        kind: Force the kind of a CSV/JSONL/XLSX file (``faq``, ``case``, ``department``) instead
            of detecting it from the columns. Other formats are always manuals, so only
            ``None`` or ``"manual"`` is accepted for them.
        limits: Size limits; a CSV/JSONL record over ``max_chunks_per_record`` or with a
            field over ``max_record_title_chars`` / ``max_record_body_chars`` becomes a row
            error, a manual over any limit is refused whole.
        mapping: The city's column mapping for CSV/JSONL/XLSX files (headers, channel
            spellings, the sheet of a workbook).

    Returns:
        The good records and the bad rows that were skipped.

    Raises:
        InputError: The file is missing, of an unsupported type, cannot be read at all, or is
            a manual over a limit or without any body text.
        SchemaError: The columns of a CSV/JSONL file do not fit its kind.
    """
    source = str(path)
    suffix = path.suffix.lower()
    if path.is_dir():  # a folder the walk could not list (:func:`_walk`)
        try:
            with os.scandir(path):
                pass
        except OSError as exc:
            problem = exc.strerror or type(exc).__name__
            raise InputError(source, msg("files.unreadable_folder", problem=problem)) from None
        raise InputError(source, msg("files.is_dir"))
    if suffix in RESAVE_SUFFIXES:
        raise InputError(source, msg("files.old_excel", suffix=path.suffix))
    if suffix not in SUPPORTED_SUFFIXES:
        supported = ", ".join(SUPPORTED_SUFFIXES)
        raise InputError(source, msg("files.unsupported", suffix=path.suffix, supported=supported))
    if not path.exists():
        raise InputError(source, msg("files.missing"))
    if not path.is_file():
        raise InputError(source, msg("files.not_regular"))
    if suffix in TABULAR_SUFFIXES:
        if kind == "manual":
            raise InputError(source, msg("files.not_manual_table", suffix=suffix))
        from kb.ingest.procedures import is_procedures_file, read_procedures

        # Procedures (a life-events column) are not a search kind: no chunks to limit.
        if kind is None and is_procedures_file(path, limits=limits):
            return read_procedures(path, limits=limits)
        result = _table_reader(suffix)(path, kind, limits=limits, mapping=mapping)
        return limit_chunks(result, limits, manual=False)
    if kind not in (None, "manual"):
        raise InputError(source, msg("files.manual_kind", suffix=suffix, kind=kind))
    if suffix in _TEXT_SUFFIXES:
        _check_text_size(path, limits.max_manual_chars)
    result = _manual_reader(suffix)(path, limits)
    if not result.documents:
        # A manual of only a title or headings would be "read" as nothing, silently.
        raise InputError(source, msg("files.no_body"))
    chars = sum(len(doc.body) for doc in result.documents)
    if chars > limits.max_manual_chars:
        raise text_too_long(source, chars, limits.max_manual_chars)
    return limit_chunks(result, limits, manual=True)


_TEXT_SUFFIXES = (".md", ".markdown", ".txt")


def _check_text_size(path: Path, max_chars: int) -> None:
    """Refuse a text file whose size alone proves it over ``max_chars``, before reading it.

    Markdown and plain text are decoded whole; no encoding takes more than 4 bytes a character.
    """
    size = path.stat().st_size
    if size > 4 * max_chars + 4:  # a UTF-32 byte-order mark takes 4 more
        raise InputError(str(path), msg("limits.text_file_size", size=size, limit=max_chars))


def _table_reader(suffix: str) -> Callable[..., ParseResult]:
    if suffix == ".xlsx":
        from kb.ingest.xlsx_reader import read_xlsx

        return read_xlsx
    if suffix == ".jsonl":
        from kb.ingest.jsonl import read_jsonl

        return read_jsonl
    from kb.ingest.tabular import read_csv

    return read_csv


def _manual_reader(suffix: str) -> Callable[[Path, InputLimits], ParseResult]:
    if suffix in (".md", ".markdown"):
        from kb.ingest.markdown import read_markdown

        return lambda path, _limits: read_markdown(path)
    if suffix == ".txt":
        from kb.ingest.markdown import read_plain_text

        return lambda path, _limits: read_plain_text(path)
    if suffix == ".docx":
        from kb.ingest.docx_reader import read_docx

        return lambda path, limits: read_docx(path, limits=limits)
    from kb.ingest.pdf_reader import read_pdf

    return lambda path, limits: read_pdf(path, limits=limits)


def is_ignored(name: str) -> bool:
    """Whether a file or folder found inside a folder is skipped by :func:`iter_paths`.

    Hidden names (``.git``, ``.DS_Store``), names starting with ``_`` (drafts, ``__pycache__``)
    and README files (``README.md``, ``readme.txt``...) document the folder; they are not
    sources.
    """
    return name.startswith((".", "_", "~$")) or name.casefold().split(".")[0] == "readme"


def iter_paths(paths: Iterable[Path]) -> Iterator[Path]:
    """Expand the paths given to ``kb ingest`` into the files to read.

    Folders are walked recursively in sorted order, yielding the files with a supported
    extension that :func:`is_ignored` does not skip (an old ``.xls`` lying there is not an
    error); of a workbook and a CSV file of the same name side by side (``cases.xlsx`` and its
    export ``cases.csv``), only the CSV is read, so that no row is read twice. Paths given
    explicitly are yielded as they are, even with an unsupported extension or when missing, so
    that :func:`read_path` reports them. A file reached twice is yielded once.

    Args:
        paths: Files and folders.

    Yields:
        Files, in order of the arguments and, within a folder, sorted by relative path.
    """
    seen: set[Path] = set()
    for path in paths:
        if path.is_dir():
            candidates: Iterable[Path] = _walk(path)
        else:
            candidates = (path,)
        for candidate in candidates:
            key = candidate.resolve()
            if key not in seen:
                seen.add(key)
                yield candidate


def _walk(folder: Path) -> Iterator[Path]:
    """The supported files under ``folder``, and the folders that could not be listed: those
    are read as errors, so that ``--sync`` removes nothing when a subfolder was not read (it
    took the records of an unreadable folder for deleted ones). Linked folders are followed
    (a shared folder linked in), each real folder once."""
    found: list[Path] = []
    unlisted: list[Path] = []
    seen: set[str] = set()

    def failed(exc: OSError) -> None:
        unlisted.append(Path(exc.filename) if exc.filename else folder)

    for root, dirs, files in os.walk(folder, onerror=failed, followlinks=True):
        real = os.path.realpath(root)
        if real in seen:  # a link back up the tree, or a second link to one folder
            dirs[:] = []
            continue
        seen.add(real)
        dirs[:] = [d for d in dirs if not is_ignored(d)]
        exported = {Path(name).stem for name in files if Path(name).suffix.lower() == ".csv"}
        found.extend(
            Path(root) / name
            for name in files
            if not is_ignored(name)
            and Path(name).suffix.lower() in SUPPORTED_SUFFIXES
            and not (Path(name).suffix.lower() == ".xlsx" and Path(name).stem in exported)
        )
    yield from sorted(found + unlisted, key=lambda p: p.relative_to(folder).parts)
