"""Adaptation by itself: when it starts, what it records, and that it switches only if better."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from kb.embed.adapt import (
    ACTIVE_NAME,
    LAST_NAME,
    effective_model,
    trained_pair_keys,
    write_trained_pair_keys,
)
from kb.embed.adapt_train import FastTuneReport, Validation
from kb.embed.embedder import FakeEmbedder
from kb.embed.tune_pairs import TrainingPair, pairs_from_store
from kb.index import adapt
from kb.index.folder import IndexRoot
from kb.index.update import rebuild
from kb.settings import Settings
from kb.store import Store
from kb.text.mecab import MeCabTokenizer
from tests.conftest import fill_store

BASE = "some/base-model"


class NamedFake(FakeEmbedder):
    """The fake embedder under a model id of the test's choosing (a model folder's path)."""

    def __init__(self, model_id: str, dim: int = 32) -> None:
        super().__init__(dim)
        self._id = model_id

    @property
    def model_id(self) -> str:
        return self._id


def _settings(tmp_path: Path, **extra: Any) -> Settings:
    values: dict[str, Any] = {"data_dir": tmp_path / "data", "model": BASE, "adapt": True}
    values.update(extra)
    return Settings(**values)


def _fill(settings: Settings, tokenizer: MeCabTokenizer) -> list[TrainingPair]:
    settings.data_dir.mkdir(parents=True, exist_ok=True)
    store = Store(settings.store_path)
    try:
        fill_store(store, tokenizer)
        return pairs_from_store(store)
    finally:
        store.close()


def test_adaptation_is_on_by_default_and_one_setting_turns_it_off(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    # On: a city gets the adapted model (the base model judges "no answer" beside it,
    # kb.search.judge); the test suite itself runs with KB_ADAPT=false (tests/conftest.py).
    assert Settings.model_fields["adapt"].default is True
    monkeypatch.delenv("KB_ADAPT", raising=False)
    assert Settings().adapt is True
    monkeypatch.setenv("KB_ADAPT", "false")
    assert Settings().adapt is False


def test_due_needs_enough_pairs_and_enough_change(tmp_path: Path) -> None:
    settings = _settings(tmp_path, adapt_min_pairs=20, adapt_min_change=0.2)
    pairs = [TrainingPair(f"質問{i}", f"回答{i}") for i in range(30)]
    assert not adapt.adaptation_due(settings, pairs[:19]).due
    first = adapt.adaptation_due(settings, pairs)
    assert first.due
    assert first.changed == 1.0
    settings.models_dir.mkdir(parents=True)
    write_trained_pair_keys(settings.models_dir, pairs)
    assert len(trained_pair_keys(settings.models_dir)) == 30
    assert not adapt.adaptation_due(settings, pairs).due  # nothing changed
    changed = pairs[:25] + [TrainingPair(f"新しい質問{i}", "新しい回答") for i in range(5)]
    share = adapt.adaptation_due(settings, changed)
    assert not share.due
    assert share.changed == pytest.approx(5 / 30)
    assert "17% of the pairs changed" in share.reason
    assert "starts at 20%" in share.reason
    more = pairs[:24] + [TrainingPair(f"新{i}", "新") for i in range(6)]
    assert adapt.adaptation_due(settings, more).due  # 6 of 30
    assert adapt.adaptation_due(settings, pairs[:24]).due  # 6 of 30 removed
    off = _settings(tmp_path, adapt=False)
    assert "KB_ADAPT=false" in adapt.adaptation_due(off, pairs).reason
    fake = _settings(tmp_path, model="fake:32")
    assert not adapt.adaptation_due(fake, pairs).due


def test_after_build_starts_a_detached_process_only_when_due(
    tmp_path: Path, tokenizer: MeCabTokenizer
) -> None:
    settings = _settings(tmp_path, adapt_min_pairs=20)
    _fill(settings, tokenizer)  # 10 FAQ/case pairs: too few
    started: list[tuple[list[str], dict[str, str], Path]] = []

    def record(command: list[str], env: dict[str, str], log: Path) -> None:
        started.append((command, env, log))

    assert not adapt.after_build(settings, spawn=record).due
    assert started == []
    many = _settings(tmp_path, adapt_min_pairs=20, adapt_min_change=0.1)
    store = Store(many.store_path)
    from kb.ingest.chunking import chunk_document
    from kb.types import Document

    docs = [Document(f"faq:X{i}", "faq", f"質問その{i}", f"回答その{i}です。") for i in range(15)]
    store.upsert((d, chunk_document(d, tokenizer)) for d in docs)
    store.close()
    due = adapt.after_build(many, spawn=record)
    assert due.due
    assert due.pairs == 25
    [(command, env, log)] = started
    assert command[1:] == ["-m", "kb.index.adapt"]
    assert env["KB_DATA_DIR"] == str(many.data_dir.resolve())
    assert env["KB_MODEL"] == BASE
    assert log == many.models_dir / adapt.LOG_NAME
    # A build with adaptation off, or one that cannot start a process, never fails.
    assert not adapt.after_build(_settings(tmp_path, adapt=False), spawn=record).due

    def broken(*_: object) -> None:
        raise OSError("no fork")

    assert "no fork" in adapt.after_build(many, spawn=broken).reason


def _fake_tune(gain: float) -> Any:
    def fake_tune(
        base: Path, train: list[TrainingPair], out: Path, *, heldout: list[TrainingPair], **_: Any
    ) -> FastTuneReport:
        out.mkdir(parents=True)
        (out / "modules.json").write_text("[]", encoding="utf-8")
        from kb.embed.adapt_config import FastTuneConfig

        before = Validation(len(heldout), 10, 0.5, 0.4, 0.8)
        after = Validation(len(heldout), 10, round(0.5 + gain, 4), 0.45, 0.85)
        return FastTuneReport(
            out, BASE, "upper-layers", FastTuneConfig(), len(train), len(heldout), 4, 1, 2.0,
            3.0, "h", 1.0, 0.5, before, after,
        )  # fmt: skip

    return fake_tune


@pytest.fixture
def fakes(monkeypatch: pytest.MonkeyPatch) -> None:
    """Adaptation without torch: a fake tune, the fake embedder under the folder's id."""
    monkeypatch.setattr("kb.embed.tune.base_model_path", lambda model, models_dir: Path(model))
    monkeypatch.setattr("kb.embed.embedder.load_embedder", lambda model, **_: NamedFake(str(model)))


def test_not_better_keeps_the_base_model_and_says_why(
    tmp_path: Path, tokenizer: MeCabTokenizer, fakes: None, monkeypatch: pytest.MonkeyPatch
) -> None:
    settings = _settings(tmp_path, adapt_min_gain=0.01)
    _fill(settings, tokenizer)
    rebuild(settings, embedder=NamedFake(BASE))
    serving = IndexRoot(settings.index_root).current().name
    monkeypatch.setattr("kb.embed.adapt_train.fast_tune", _fake_tune(0.005))
    record = adapt.run_adaptation(settings, force=True)
    assert record["kept"] is False
    assert record["validation"]["improved_by"] == pytest.approx(0.005)
    assert not (settings.models_dir / ACTIVE_NAME).exists()
    assert not (settings.models_dir / record["folder"]).exists()  # removed: it never serves
    assert json.loads((settings.models_dir / LAST_NAME).read_text())["kept"] is False
    assert effective_model(settings) == BASE
    assert IndexRoot(settings.index_root).current().name == serving
    status = adapt.adaptation_status(settings)
    assert status["adapted"] is None
    assert status["last_attempt"]["kept"] is False
    assert status["serving"] == BASE
    assert status["running"] is False


def test_better_is_recorded_built_audited_and_served(
    tmp_path: Path, tokenizer: MeCabTokenizer, fakes: None, monkeypatch: pytest.MonkeyPatch
) -> None:
    from kb.search.service import SearchService

    settings = _settings(tmp_path)
    pairs = _fill(settings, tokenizer)
    rebuild(settings, embedder=NamedFake(BASE))
    monkeypatch.setattr(
        "kb.search.service.embedder_from_settings", lambda s, **_: NamedFake(s.model)
    )
    service = SearchService.from_settings(settings)
    assert service.searcher().manifest.model == BASE

    monkeypatch.setattr("kb.embed.adapt_train.fast_tune", _fake_tune(0.05))
    record = adapt.run_adaptation(settings, force=True)
    assert record["kept"] is True
    folder = settings.models_dir / record["folder"]
    assert record["folder"].startswith("adapted-base-model-")
    model_id = "adapted:" + folder.name  # not a path: it survives a move of DATA_DIR
    assert effective_model(settings) == model_id
    assert record["train_pairs"] + record["heldout_pairs"] == len(pairs)
    assert record["validation"]["adapted"]["mrr_at_10"] > record["validation"]["base"]["mrr_at_10"]
    current = IndexRoot(settings.index_root).current()
    assert current.name == record["index"]
    assert current.manifest().model == model_id
    # Every vector was embedded before the writer lock; the build itself found them cached.
    assert record["embedded"] == 0
    from kb.security.audit import AuditLog

    audit = AuditLog.from_settings(settings)
    try:
        events = [e.action for e in audit.events()]
    finally:
        audit.close()
    assert events[-2:] == ["build.start", "build"]

    # The running service follows the pointer and loads the adapted model with the index.
    searcher = service.searcher()
    assert searcher.manifest.model == model_id
    assert service.embedder.model_id == model_id
    status = adapt.adaptation_status(settings)
    assert status["serving"] == model_id
    assert status["no_answer_judged_by"] == BASE
    assert status["adapted"]["validation"]["improved_by"] == pytest.approx(0.05)

    # Later builds keep the adapted model, even when handed the server's old embedder.
    again = rebuild(settings, embedder=NamedFake(BASE))
    assert again.cached == again.chunks  # the adapted model's vectors, from the cache
    assert IndexRoot(settings.index_root).current().manifest().model == model_id
    # KB_ADAPT=false: the base model is one setting away.
    off = settings.model_copy(update={"adapt": False})
    assert effective_model(off) == BASE
    assert rebuild(off, embedder=NamedFake(BASE)).path.exists()
    assert IndexRoot(off.index_root).current().manifest().model == BASE
    assert np.isfinite(service.searcher().search("住民票", k=1).faqs[0].score)


def test_one_adaptation_at_a_time(tmp_path: Path) -> None:
    from kb.errors import BusyError
    from kb.index.lock import FileLock

    settings = _settings(tmp_path)
    settings.models_dir.mkdir(parents=True)
    held = FileLock(settings.models_dir / adapt.LOCK_NAME)
    assert held.try_acquire()
    try:
        assert adapt.is_running(settings)
        with pytest.raises(BusyError, match="another adaptation"):
            adapt.run_adaptation(settings, force=True)
    finally:
        held.release()
    assert not adapt.is_running(settings)
