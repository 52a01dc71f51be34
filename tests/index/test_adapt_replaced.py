"""An adaptation whose data folder was replaced while it trained publishes nothing anywhere.

The background adaptation is a detached process: it outlives the server and the build that
started it. If the data folder is replaced meanwhile (a restore renames another folder into
place; an operator deletes the folder and starts afresh at the same path), publishing would
write a record naming a model that is not there, and build an index into the new folder from
whatever store it finds there; the service then refused to start (``ManifestMismatch``).
"""

from __future__ import annotations

import shutil
from pathlib import Path
from typing import Any

import pytest

from kb.embed.adapt import ACTIVE_NAME, LAST_NAME, effective_model
from kb.embed.adapt_train import FastTuneReport
from kb.index import adapt
from kb.index.folder import IndexRoot
from kb.index.update import rebuild
from kb.settings import Settings
from kb.text.mecab import MeCabTokenizer
from tests.index.test_adapt import BASE, NamedFake, _fake_tune, _fill, _settings, fakes

__all__ = ["fakes"]  # the fixture, imported to be used here


def _built(tmp_path: Path, tokenizer: MeCabTokenizer, **extra: Any) -> Settings:
    """A data folder with the sample corpus, built with the base model."""
    settings = _settings(tmp_path, **extra)
    _fill(settings, tokenizer)
    rebuild(settings, embedder=NamedFake(BASE))
    return settings


def test_a_folder_deleted_and_made_anew_while_it_trained_gets_nothing(
    tmp_path: Path, tokenizer: MeCabTokenizer, fakes: None, monkeypatch: pytest.MonkeyPatch
) -> None:
    settings = _built(tmp_path, tokenizer)
    trained = _fake_tune(0.05)

    def replaced_while_training(*args: Any, **kwargs: Any) -> FastTuneReport:
        report = trained(*args, **kwargs)
        shutil.rmtree(settings.data_dir)  # the model went with it
        settings.data_dir.mkdir()  # a fresh checkout at the same path, not yet set up
        return report

    monkeypatch.setattr("kb.embed.adapt_train.fast_tune", replaced_while_training)
    record = adapt.run_adaptation(settings, force=True)

    assert record["kept"] is False
    assert record["reason"] == adapt.REPLACED_REASON
    assert list(settings.data_dir.iterdir()) == []  # no store, index, lock or record made
    assert effective_model(settings) == BASE


def test_a_restore_renamed_into_place_while_it_trained_keeps_serving_its_own_index(
    tmp_path: Path, tokenizer: MeCabTokenizer, fakes: None, monkeypatch: pytest.MonkeyPatch
) -> None:
    settings = _built(tmp_path, tokenizer)
    other = _built(tmp_path / "backup", tokenizer)  # the restored folder: its own index
    restored_index = IndexRoot(other.index_root).current().name
    trained = _fake_tune(0.05)

    def restored_while_training(*args: Any, **kwargs: Any) -> FastTuneReport:
        report = trained(*args, **kwargs)  # the model is saved in the folder being replaced
        settings.data_dir.rename(tmp_path / "data.previous")
        other.data_dir.rename(settings.data_dir)
        return report

    monkeypatch.setattr("kb.embed.adapt_train.fast_tune", restored_while_training)
    record = adapt.run_adaptation(settings, force=True)

    assert record["kept"] is False
    assert record["reason"] == adapt.REPLACED_REASON
    assert not (settings.models_dir / ACTIVE_NAME).exists()
    assert not (settings.models_dir / LAST_NAME).exists()
    assert IndexRoot(settings.index_root).current().name == restored_index
    assert IndexRoot(settings.index_root).current().manifest().model == BASE
    assert effective_model(settings) == BASE


def test_a_restored_folder_keeps_the_model_of_the_same_name_that_serves_it(
    tmp_path: Path, tokenizer: MeCabTokenizer, fakes: None, monkeypatch: pytest.MonkeyPatch
) -> None:
    # One model cache for the folder and its restored copy (KB_MODEL_CACHE_DIR).
    settings = _built(tmp_path, tokenizer, model_cache_dir=tmp_path / "cache")
    monkeypatch.setattr("kb.embed.adapt_train.fast_tune", _fake_tune(0.05))
    first = adapt.run_adaptation(settings, force=True)
    assert first["kept"] is True
    serving = effective_model(settings)
    trained = _fake_tune(0.05)

    def restored_while_training(*args: Any, **kwargs: Any) -> FastTuneReport:
        shutil.rmtree(settings.models_dir / first["folder"])  # trained anew in its place
        report = trained(*args, **kwargs)  # the same pairs: the same folder name
        settings.data_dir.rename(tmp_path / "data.previous")
        shutil.copytree(tmp_path / "data.previous", settings.data_dir)  # a restored copy
        return report

    monkeypatch.setattr("kb.embed.adapt_train.fast_tune", restored_while_training)
    again = adapt.run_adaptation(settings, force=True)

    assert again["reason"] == adapt.REPLACED_REASON
    assert again["folder"] == first["folder"]
    assert (settings.models_dir / first["folder"] / "modules.json").is_file()
    assert effective_model(settings) == serving
