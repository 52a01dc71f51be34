"""A backup folder: its layout, its manifest and its checksums.

Layout::

    manifest.json      what this is (BackupManifest): kb version, model, index, audit head,
                       and every file with its size and SHA-256
    SHA256SUMS         the same checksums for `sha256sum -c SHA256SUMS` (manifest.json too)
    data/...           DATA_DIR as kb would find it: every database (an online-backup copy),
                       the other files (synonyms.tsv...), indexes/CURRENT and the serving build
    audit/audit.anchor the audit anchor, cut at the copied log's last event
    models/...         the model cache, only with --with-models

Every file and folder is private (0600 / 0700): a backup holds what the data folder holds.
"""

from __future__ import annotations

import hashlib
import json
import os
from dataclasses import asdict, dataclass, field, fields
from pathlib import Path, PurePosixPath
from typing import Any

from kb.embed.content_hash import file_sha256
from kb.errors import BackupError
from kb.messages import msg

FORMAT = 1
"""The manifest's format; a restore refuses a backup of a later format."""

MANIFEST_NAME = "manifest.json"
SUMS_NAME = "SHA256SUMS"
DATA = "data"
AUDIT = "audit"
MODELS = "models"
ANCHOR = f"{AUDIT}/audit.anchor"

_BLOCK = 1 << 20


def human_size(size: int) -> str:
    """``512 B``, ``34.0 MB``, ``1.2 GB``."""
    if size < 1000:
        return f"{size} B"
    value = size / 1000
    for unit in ("KB", "MB"):
        if value < 1000:
            return f"{value:.1f} {unit}"
        value /= 1000
    return f"{value:.1f} GB"


@dataclass(frozen=True)
class FileEntry:
    """One file of a backup."""

    path: str
    """Relative to the backup folder, with ``/`` (``data/kb.sqlite``)."""
    size: int
    sha256: str
    kind: str
    """``database`` (an online-backup copy), ``file``, ``index``, ``anchor`` or ``model``."""


@dataclass(frozen=True)
class AuditHead:
    """The copied audit log: how far it goes and which key signed it."""

    events: int
    head: str
    """The hash of its last event (``""`` when it has none)."""
    key_id: str
    """The public id of its HMAC key (``""`` when no event was signed yet)."""
    anchored: int = 0
    """The last event in the copied anchor (0: no anchor copied)."""


@dataclass(frozen=True)
class BackupManifest:
    """What a backup holds (``manifest.json``)."""

    kb_version: str
    created_at: str
    """UTC, ISO 8601."""
    source: str
    """The data folder that was copied (for people; a restore goes wherever it is told)."""
    model: str
    """The configured model's name (``KB_MODEL``)."""
    model_hash: str
    """Its content (:func:`kb.embed.content_hash.model_content_hash`); ``""``: name only."""
    index: str
    """The serving index build copied (``indexes/<index>``); ``""`` when none served."""
    index_generation: int
    """The store generation that build was made from (-1: no index)."""
    store_generation: int
    """The copied store's generation (-1: no store); never below ``index_generation``."""
    with_models: bool
    audit: AuditHead | None
    files: tuple[FileEntry, ...] = field(default=())
    format: int = FORMAT

    @property
    def size(self) -> int:
        """Bytes in all files together."""
        return sum(f.size for f in self.files)

    def write(self, root: Path) -> None:
        """Write ``manifest.json`` and ``SHA256SUMS`` into ``root`` (0600 each, synced)."""
        data = json.dumps(asdict(self), ensure_ascii=False, indent=2) + "\n"
        write_private(root / MANIFEST_NAME, data.encode("utf-8"))
        lines = [f"{f.sha256}  {f.path}\n" for f in self.files]
        lines.append(f"{file_sha256(root / MANIFEST_NAME)}  {MANIFEST_NAME}\n")
        write_private(root / SUMS_NAME, "".join(lines).encode("utf-8"))

    @classmethod
    def read(cls, root: Path) -> BackupManifest:
        """The manifest of the backup folder ``root``.

        Raises:
            BackupError: ``root`` is not a backup, or its manifest is unreadable, damaged
                (not the one ``SHA256SUMS`` names) or of a later format.
        """
        path = root / MANIFEST_NAME
        if not path.is_file():
            raise BackupError(msg("restore.no_manifest", src=root))
        try:
            data: Any = json.loads(path.read_text(encoding="utf-8"))
            fmt = int(data.get("format", 0))
            if fmt > FORMAT:
                raise BackupError(msg("restore.newer_format", path=path, format=fmt))
            audit = data.get("audit")
            manifest = cls(
                **{
                    **data,
                    "audit": AuditHead(**audit) if audit is not None else None,
                    "files": tuple(FileEntry(**f) for f in data["files"]),
                }
            )
            for record in (manifest, manifest.audit, *manifest.files):
                _check_field_types(record)
        except BackupError:
            raise
        except (
            OSError,
            ValueError,
            TypeError,
            KeyError,
            AttributeError,
            OverflowError,
            RecursionError,
        ) as exc:
            raise BackupError(msg("restore.bad_manifest", path=path, error=exc)) from exc
        listed = _listed_sum(root / SUMS_NAME, MANIFEST_NAME)
        if listed is not None and listed != file_sha256(path):
            raise BackupError(msg("restore.bad_manifest", path=path, error="SHA256SUMS"))
        seen: set[str] = set()
        for entry in manifest.files:
            rel = PurePosixPath(entry.path)
            if (
                # Written as kb writes it, or "data//etc/x" would read as the absolute /etc/x
                # once the restore splits off its first part.
                rel.as_posix() != entry.path
                or not rel.parts
                or rel.is_absolute()
                or ".." in rel.parts
                or "\\" in entry.path
                or rel.parts[0] not in (DATA, AUDIT, MODELS)
            ):
                raise BackupError(
                    msg("restore.bad_manifest", path=path, error=f"path {entry.path!r}")
                )
            if entry.path in seen:
                raise BackupError(
                    msg("restore.bad_manifest", path=path, error=f"path {entry.path!r} twice")
                )
            seen.add(entry.path)
        return manifest


_FIELD_TYPES: dict[str, type] = {"str": str, "int": int, "bool": bool}


def _check_field_types(record: object) -> None:
    """Raise ``TypeError`` naming the first text, number or yes/no field of ``record`` (a
    manifest dataclass, or ``None``) whose value is of another type: a hand-edited or damaged
    manifest reads as one, not as a crash half-way through a restore."""
    if record is None:
        return
    for item in fields(record):  # type: ignore[arg-type]
        expected = _FIELD_TYPES.get(str(item.type))
        value = getattr(record, item.name)
        if expected is not None and type(value) is not expected:
            raise TypeError(f"{item.name}: {type(value).__name__} {str(value)[:40]!r}")


def _listed_sum(sums: Path, name: str) -> str | None:
    """The checksum ``SHA256SUMS`` gives for ``name``; ``None`` when it gives none."""
    try:
        lines = sums.read_text(encoding="utf-8").splitlines()
    except (OSError, UnicodeDecodeError):
        return None
    for line in lines:
        digest, _, listed = line.partition("  ")
        if listed == name:
            return digest
    return None


def private_dir(path: Path) -> None:
    """Create ``path`` and its missing parents inside a backup, mode 0700."""
    path.mkdir(mode=0o700, parents=True, exist_ok=True)


def write_private(path: Path, data: bytes) -> None:
    """Write a new private file (0600) and sync it."""
    private_dir(path.parent)
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC | os.O_CLOEXEC, 0o600)
    try:
        os.write(fd, data)
        os.fsync(fd)
    finally:
        os.close(fd)


def copy_hashed(source: Path, target: Path) -> tuple[int, str]:
    """Copy a file to a new private file (0600, synced), hashing what was copied.

    Returns:
        The bytes copied and their SHA-256: what ``target`` holds, whatever ``source`` became.

    Raises:
        FileNotFoundError: ``source`` is gone.
        FileExistsError: ``target`` exists.
    """
    private_dir(target.parent)
    digest = hashlib.sha256()
    size = 0
    with source.open("rb") as src:
        fd = os.open(target, os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_CLOEXEC, 0o600)
        try:
            while block := src.read(_BLOCK):
                digest.update(block)
                size += len(block)
                view = memoryview(block)
                while view:
                    view = view[os.write(fd, view) :]
            os.fsync(fd)
        finally:
            os.close(fd)
    return size, digest.hexdigest()


def sync_tree(root: Path) -> None:
    """fsync every folder under ``root`` (files are synced as they are written)."""
    for folder, _, _ in os.walk(root):
        fd = os.open(folder, os.O_RDONLY)
        try:
            os.fsync(fd)
        finally:
            os.close(fd)


__all__ = [
    "ANCHOR",
    "AUDIT",
    "DATA",
    "FORMAT",
    "MANIFEST_NAME",
    "MODELS",
    "SUMS_NAME",
    "AuditHead",
    "BackupManifest",
    "FileEntry",
    "copy_hashed",
    "private_dir",
    "sync_tree",
    "write_private",
]
