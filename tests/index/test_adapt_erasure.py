"""An erased document does not outlive its erasure in an adapted model's weights."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from kb.embed.adapt import (
    ACTIVE_NAME,
    ERASED_NAME,
    PAIRS_NAME,
    effective_model,
    erased_since,
    retire_adapted,
    trained_pair_keys,
)
from kb.embed.adapt_train import FastTuneReport
from kb.embed.tune_pairs import TrainingPair, pairs_from_documents, pairs_from_store
from kb.index import adapt
from kb.index.folder import IndexRoot
from kb.index.remove import remove_documents
from kb.index.update import rebuild
from kb.ingest.chunking import department_document
from kb.settings import Settings
from kb.store import Store
from kb.text.mecab import MeCabTokenizer
from tests.index.test_adapt import BASE, NamedFake, _fake_tune, _fill, _settings, fakes
from tests.sample import DEPARTMENTS

__all__ = ["fakes"]  # the fixture, imported to be used here


def _adapted(settings: Settings, tokenizer: MeCabTokenizer, monkeypatch: pytest.MonkeyPatch) -> str:
    """A data folder served by an adapted model (fake training); its model id."""
    _fill(settings, tokenizer)
    rebuild(settings, embedder=NamedFake(BASE))
    monkeypatch.setattr("kb.embed.adapt_train.fast_tune", _fake_tune(0.05))
    record = adapt.run_adaptation(settings, force=True)
    assert record["kept"] is True
    model_id = effective_model(settings)
    assert model_id == "adapted:" + record["folder"]
    return model_id


def _pairs_of(settings: Settings, doc_id: str) -> list[TrainingPair]:
    store = Store(settings.store_path, read_only=True)
    try:
        return pairs_from_documents(store.get_documents([doc_id]).values())
    finally:
        store.close()


def test_erasing_a_case_the_model_learnt_from_deletes_the_model_and_serves_the_base(
    tmp_path: Path, tokenizer: MeCabTokenizer, fakes: None, monkeypatch: pytest.MonkeyPatch
) -> None:
    from kb.search.service import SearchService

    settings = _settings(tmp_path)
    model_id = _adapted(settings, tokenizer, monkeypatch)
    folder = settings.models_dir / model_id.removeprefix("adapted:")
    assert folder.is_dir()
    assert _pairs_of(settings, "case:C2"), "the case gives a training pair"
    monkeypatch.setattr(
        "kb.search.service.embedder_from_settings", lambda s, **_: NamedFake(s.model)
    )
    service = SearchService.from_settings(settings)
    assert service.searcher().manifest.model == model_id

    # The server hands its (adapted) embedder in, as the admin API does.
    report = remove_documents(settings, ["case:C2"], NamedFake(model_id), actor="test")

    assert report.retired_models == (folder.name,)
    assert not folder.exists()
    assert not (settings.models_dir / ACTIVE_NAME).exists()
    assert not (settings.models_dir / PAIRS_NAME).exists()
    assert trained_pair_keys(settings.models_dir) == []
    assert effective_model(settings) == BASE
    assert IndexRoot(settings.index_root).current().manifest().model == BASE
    assert report.to_json()["retired_models"] == [folder.name]
    assert folder.name in report.summary()
    # The running service follows the new build back to the base model.
    assert service.searcher().manifest.model == BASE
    assert service.embedder.model_id == BASE
    # And the next build adapts anew, without the case.
    store = Store(settings.store_path, read_only=True)
    try:
        pairs = pairs_from_store(store)
    finally:
        store.close()
    assert adapt.adaptation_due(settings.model_copy(update={"adapt_min_pairs": 1}), pairs).due


def test_deleting_without_erasure_or_what_it_never_learnt_keeps_the_model(
    tmp_path: Path, tokenizer: MeCabTokenizer, fakes: None, monkeypatch: pytest.MonkeyPatch
) -> None:
    settings = _settings(tmp_path)
    model_id = _adapted(settings, tokenizer, monkeypatch)
    # An FAQ entry deleted without --erase: a public text, nothing to erase.
    faq = remove_documents(settings, ["faq:F1"], NamedFake(model_id), actor="test")
    assert faq.retired_models == ()
    assert effective_model(settings) == model_id
    assert IndexRoot(settings.index_root).current().manifest().model == model_id
    # A directory entry, erased: the model never learnt a pair from it.
    department = next(i for i in _department_ids(settings) if not _pairs_of(settings, i))
    erased = remove_documents(settings, [department], NamedFake(model_id), actor="test", erase=True)
    assert erased.erased
    assert erased.retired_models == ()
    assert effective_model(settings) == model_id
    # ... but the erasure is noted, for an adaptation running meanwhile.
    marker = json.loads((settings.models_dir / ERASED_NAME).read_text(encoding="utf-8"))
    assert marker["retired"] == []


def _department_ids(settings: Settings) -> list[str]:
    return [department_document(d).doc_id for d in DEPARTMENTS]


def test_an_adaptation_that_overlapped_an_erasure_never_serves(
    tmp_path: Path, tokenizer: MeCabTokenizer, fakes: None, monkeypatch: pytest.MonkeyPatch
) -> None:
    settings = _settings(tmp_path)
    _fill(settings, tokenizer)
    rebuild(settings, embedder=NamedFake(BASE))
    serving = IndexRoot(settings.index_root).current().name
    trained = _fake_tune(0.05)

    def erased_while_training(*args: Any, **kwargs: Any) -> FastTuneReport:
        report = trained(*args, **kwargs)
        retire_adapted(settings.models_dir, retire=False)  # a case erased meanwhile
        return report

    monkeypatch.setattr("kb.embed.adapt_train.fast_tune", erased_while_training)
    record = adapt.run_adaptation(settings, force=True)

    assert record["kept"] is False
    assert record["reason"] == adapt.ERASED_REASON
    assert not (settings.models_dir / record["folder"]).exists()
    assert not (settings.models_dir / ACTIVE_NAME).exists()
    assert trained_pair_keys(settings.models_dir) == []  # the next build adapts anew
    assert effective_model(settings) == BASE
    assert IndexRoot(settings.index_root).current().name == serving


def test_erased_since_compares_times_and_distrusts_an_unreadable_marker(tmp_path: Path) -> None:
    from datetime import UTC, datetime, timedelta

    models = tmp_path / "models"
    before = datetime.now(UTC) - timedelta(seconds=1)
    assert not erased_since(models, before)  # no folder, no marker
    models.mkdir()
    assert retire_adapted(models, retire=True) == []
    assert erased_since(models, before)
    assert not erased_since(models, datetime.now(UTC) + timedelta(seconds=1))
    (models / ERASED_NAME).write_text('{"erased_at": "yesterday"}', encoding="utf-8")
    assert erased_since(models, datetime.now(UTC))


def test_an_erasure_in_another_data_folder_leaves_this_ones_model(
    tmp_path: Path, tokenizer: MeCabTokenizer, fakes: None, monkeypatch: pytest.MonkeyPatch
) -> None:
    # An outside probe shared one model cache between two data folders (as a restore drill
    # does): erasing a case in the second deleted the first's adapted model, which had learnt
    # from the same demo case text.
    from datetime import UTC, datetime, timedelta

    settings = _settings(tmp_path, model_cache_dir=tmp_path / "models")
    model_id = _adapted(settings, tokenizer, monkeypatch)
    record = json.loads((settings.models_dir / ACTIVE_NAME).read_text(encoding="utf-8"))
    assert record["data_dir"] == str(settings.data_dir.resolve())
    other = settings.model_copy(update={"data_dir": tmp_path / "other", "adapt": False})
    assert other.models_dir == settings.models_dir
    _fill(other, tokenizer)
    rebuild(other, embedder=NamedFake(BASE))
    assert _pairs_of(other, "case:C2") == _pairs_of(settings, "case:C2")

    report = remove_documents(other, ["case:C2"], NamedFake(BASE), actor="test")

    assert report.retired_models == ()
    assert effective_model(settings) == model_id
    assert (settings.models_dir / model_id.removeprefix("adapted:")).is_dir()
    began = datetime.now(UTC) - timedelta(minutes=1)
    assert erased_since(settings.models_dir, began, other.data_dir)
    assert not erased_since(settings.models_dir, began, settings.data_dir)
