"""`kb eval` scores the model as a city gets it: the base alone, or with KB_ADAPT / --adapt the
adapted model beside the base."""

from __future__ import annotations

import argparse
import json
from pathlib import Path
from typing import Any

import pytest

from kb.evaluation import runner
from kb.settings import Settings
from tests.evaluation.test_query_files import dataset_dir  # noqa: F401 - a fixture
from tests.index.test_adapt import NamedFake

RECORD = {
    "folder": "eval-adapted-x",
    "train_pairs": 3,
    "heldout_pairs": 1,
    "base": {"mrr_at_10": 0.5},
    "adapted": {"mrr_at_10": 1.0},
    "improved_by": 0.5,
    "kept": True,
    "seconds": 1.0,
    "cpu_seconds": 2.0,
}


def _run(dataset: Path, out: Path, *extra: str) -> argparse.Namespace:
    parser = argparse.ArgumentParser()
    runner.add_arguments(parser)
    return parser.parse_args(
        [str(dataset), "--modes", "lexical,hybrid", "--json", str(out), *extra]
    )


@pytest.fixture
def adapted(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> list[str]:
    """A fake adaptation (kept) and embedders named after the model they stand for."""
    folder = tmp_path / "models" / "eval-adapted-x"
    calls: list[str] = []

    def adapt(dataset: Any, settings: Settings) -> tuple[Path, dict[str, Any]]:
        calls.append(dataset.name)
        return folder, RECORD

    monkeypatch.setattr(runner, "adapted_model_for", adapt)
    monkeypatch.setattr(runner, "embedder_from_settings", lambda s, **_: NamedFake(s.model, 64))
    return calls


def test_default_scores_adapted_and_base_side_by_side(
    dataset_dir: Path,  # noqa: F811
    tmp_path: Path,
    adapted: list[str],
    capsys: pytest.CaptureFixture[str],
) -> None:
    settings = Settings(data_dir=tmp_path / "data", model="base-model", adapt=True)
    out = tmp_path / "m.json"
    assert runner.run_cli(_run(dataset_dir, out), settings) == 0
    printed = capsys.readouterr().out
    assert "base model (--no-adapt)" in printed
    assert "MRR@10 0.500 (base) -> 1.000 (adapted): kept" in printed
    assert "hybrid: nDCG@10" in printed
    data = json.loads(out.read_text(encoding="utf-8"))
    assert data["model"].endswith("eval-adapted-x")  # the default is the adapted model
    assert data["base"]["model"] == "base-model"
    assert data["adaptation"]["kept"] is True
    assert set(data["base"]["modes"]) == {"lexical", "hybrid"}
    assert adapted == ["tiny-faq", "tiny-faq"]


def test_no_adapt_and_kb_adapt_false_score_the_base_alone(
    dataset_dir: Path,  # noqa: F811
    tmp_path: Path,
    adapted: list[str],
    capsys: pytest.CaptureFixture[str],
) -> None:
    on = Settings(data_dir=tmp_path / "data", model="base-model", adapt=True)
    off = on.model_copy(update={"adapt": False})
    for settings, extra in ((on, ("--no-adapt",)), (off, ())):
        out = tmp_path / "m.json"
        assert runner.run_cli(_run(dataset_dir, out, *extra), settings) == 0
        data = json.loads(out.read_text(encoding="utf-8"))
        assert data["model"] == "base-model"
        assert "base" not in data
        assert "adaptation" not in data
    assert adapted == []
    assert "base model (--no-adapt)" not in capsys.readouterr().out


def test_adapt_scores_both_when_kb_adapt_is_off(
    dataset_dir: Path,  # noqa: F811
    tmp_path: Path,
    adapted: list[str],
) -> None:
    off = Settings(data_dir=tmp_path / "data", model="base-model", adapt=False)
    for flag in ("--adapt", "--tune"):
        out = tmp_path / "m.json"
        assert runner.run_cli(_run(dataset_dir, out, flag), off) == 0
        data = json.loads(out.read_text(encoding="utf-8"))
        assert data["model"].endswith("eval-adapted-x")
        assert data["base"]["model"] == "base-model"
    assert adapted == ["tiny-faq"] * 4


def test_a_corpus_too_small_for_a_city_to_adapt_is_not_adapted(
    dataset_dir: Path,  # noqa: F811
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    # A city's kb adapts from KB_ADAPT_MIN_PAIRS pairs on; "as a city gets it" must agree.
    def never(*_: Any, **__: Any) -> None:
        raise AssertionError("a corpus under the minimum was trained on")

    monkeypatch.setattr("kb.embed.adapt_train.fast_tune", never)
    settings = Settings(data_dir=tmp_path / "data", model="base-model", adapt=True)
    dataset = runner.load_dataset(dataset_dir, "queries.jsonl")
    folder, record = runner.adapted_model_for(dataset, settings)
    assert folder is None
    assert record["kept"] is False
    assert record["min_pairs"] == settings.adapt_min_pairs > record["too_few"]
