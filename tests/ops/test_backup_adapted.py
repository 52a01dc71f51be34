"""A data folder served by its adapted model backs up and restores with it; a restore over
another folder never takes that folder's adaptation (kb.ops.backup, kb.ops.restore)."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

from kb.embed.adapt import ACTIVE_NAME, PAIRS_NAME, effective_model
from kb.ops.backup import create_backup
from kb.ops.restore import restore_backup
from kb.settings import Settings
from tests.ops.conftest import keyed, settings_for


def _adapt(data: Path, folder: str, weights: bytes) -> None:
    """Make ``folder`` the adapted model in use (as kb.index.adapt leaves it), with an export."""
    models = data / "models"
    (models / folder).mkdir(parents=True)
    (models / folder / "modules.json").write_text("[]", encoding="utf-8")
    (models / folder / "model.safetensors").write_bytes(weights)
    (models / f"onnx-{folder}-0123456789abcdef").mkdir()
    (models / f"onnx-{folder}-0123456789abcdef" / "model.onnx").write_bytes(weights + b" onnx")
    record = {"base_model": "fake", "folder": folder, "adopted_at": "2026-12-01T00:00:00+00:00"}
    (models / ACTIVE_NAME).write_text(json.dumps(record), encoding="utf-8")
    (models / PAIRS_NAME).write_text("0011223344556677\n", encoding="utf-8")


def _adapting(settings: Settings) -> Settings:
    return settings.model_copy(update={"adapt": True})


def test_the_adapted_model_in_use_is_backed_up_and_restored_without_with_models(
    data: Path, tmp_path: Path
) -> None:
    _adapt(data, "adapted-fake-aaaa", b"adapted weights")
    (data / "models" / "base-cache").mkdir()
    (data / "models" / "base-cache" / "model.onnx").write_bytes(b"rebuilt from the packages")
    settings = _adapting(settings_for(data))
    assert effective_model(settings) == "adapted:adapted-fake-aaaa"

    report = create_backup(settings, tmp_path / "backup")
    paths = {f.path for f in report.manifest.files}
    assert "models/adapted-fake-aaaa/model.safetensors" in paths
    assert "models/onnx-adapted-fake-aaaa-0123456789abcdef/model.onnx" in paths
    assert f"models/{ACTIVE_NAME}" in paths
    assert not [p for p in paths if "base-cache" in p]  # the base model's cache: rebuilt
    assert not report.manifest.with_models

    target = tmp_path / "elsewhere" / "data"
    restored = _adapting(keyed(target, data))
    restore_backup(restored, report.path)
    assert effective_model(restored) == "adapted:adapted-fake-aaaa"
    model = target / "models" / "adapted-fake-aaaa" / "model.safetensors"
    assert model.read_bytes() == b"adapted weights"
    # Without adaptation in use, only the data is backed up, as before.
    off = create_backup(settings_for(data), tmp_path / "backup-off")
    assert not [f for f in off.manifest.files if f.path.startswith("models/")]


def test_a_restore_over_a_folder_keeps_its_base_cache_but_not_its_adaptation(
    data: Path, tmp_path: Path
) -> None:
    backup = create_backup(settings_for(data), tmp_path / "backup").path  # base model serves
    _adapt(data, "adapted-fake-later", b"learnt after the backup")
    (data / "models" / "base-cache").mkdir()
    (data / "models" / "base-cache" / "model.onnx").write_bytes(b"exported once")
    assert effective_model(_adapting(settings_for(data))) == "adapted:adapted-fake-later"

    report = restore_backup(settings_for(data), backup, force=True)

    assert report.models == "kept"
    assert (data / "models" / "base-cache" / "model.onnx").read_bytes() == b"exported once"
    assert not (data / "models" / "adapted-fake-later").exists()
    assert not (data / "models" / ACTIVE_NAME).exists()
    # The restored data is served by the model it was built with: the base one.
    assert effective_model(_adapting(settings_for(data))) == "fake"
    # The replaced folder keeps its adaptation, with the rest of its data.
    assert report.previous is not None
    assert (report.previous / "models" / "adapted-fake-later" / "model.safetensors").is_file()
    assert (report.previous / "models" / ACTIVE_NAME).is_file()


def test_a_restore_over_a_folder_brings_the_backups_adaptation_not_the_folders(
    data: Path, tmp_path: Path
) -> None:
    _adapt(data, "adapted-fake-backed", b"backed up")
    backup = create_backup(_adapting(settings_for(data)), tmp_path / "backup").path
    for name in ("adapted-fake-backed", "onnx-adapted-fake-backed-0123456789abcdef"):
        shutil.rmtree(data / "models" / name)
    (data / "models" / ACTIVE_NAME).unlink()
    _adapt(data, "adapted-fake-other", b"another adaptation")

    restore_backup(settings_for(data), backup, force=True)

    assert effective_model(_adapting(settings_for(data))) == "adapted:adapted-fake-backed"
    assert (data / "models" / "adapted-fake-backed" / "model.safetensors").read_bytes() == (
        b"backed up"
    )
    assert not (data / "models" / "adapted-fake-other").exists()
