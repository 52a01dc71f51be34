"""A synthetic trainer corpus: three clear groups of closed cases with hand-made vectors.

The vectors put each group around its own axis, so the expected topics are known exactly;
texts carry each group's words, so the keywords are known too.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pytest

from kb.embed.embedder import FakeEmbedder
from kb.index.builder import build_index
from kb.settings import Settings
from kb.store import EmbeddingCache, Store
from kb.text.mecab import MeCabTokenizer
from kb.trainer.corpus import TrainerCorpus
from kb.trainer.service import Trainer
from kb.types import Department, Document
from tests.conftest import fill_store

DIM = 8
DEPARTMENTS = (
    Department("市民課", "住民票、マイナンバーカード", "099-555-1101", "本庁舎1階", "平日"),
    Department("ごみ減量推進課", "ごみの分別、粗大ごみ", "099-555-1113", "東館1階", "平日"),
    Department("消費生活センター", "悪質商法、定期購入", "099-555-1115", "市民会館3階", "平日"),
    Department("国際交流課", "外国人相談、通訳", "099-555-1125", "本庁舎4階", "平日"),
)

# (summary, resolution, departments, channel)
GROUP_A = [
    ("マイナンバーカードを紛失した。悪用されないか心配。", "市民課でマイナンバーカードの再交付を受け付けた。警察への遺失届を案内した。", ("市民課",), "窓口"),
    ("マイナンバーカードの暗証番号を忘れた。再設定したい。", "市民課で暗証番号の再設定を行った。", ("市民課",), "窓口"),
    ("マイナンバーカードの電子証明書の期限が切れる通知が来た。", "市民課で電子証明書を更新した。", ("市民課",), "電話"),
    ("外国籍でマイナンバーカードを作りたいが申請書が分からない。", "国際交流課の通訳と市民課で申請を手伝った。", ("市民課", "国際交流課"), "窓口"),
]  # fmt: skip
GROUP_B = [
    ("粗大ごみの出し方が分からない。ソファを捨てたい。", "ごみ減量推進課で粗大ごみの申込方法と処理券を案内した。", ("ごみ減量推進課",), "電話"),
    ("引っ越しで粗大ごみがたくさん出る。まとめて出したい。", "ごみ減量推進課で臨時収集を案内した。", ("ごみ減量推進課",), "電話"),
    ("粗大ごみの処理券はどこで買えるか知りたい。", "ごみ減量推進課で取扱店を案内した。", ("ごみ減量推進課",), "窓口"),
]  # fmt: skip
GROUP_C = [
    ("定期購入の健康食品を解約したいが業者に連絡がつかない。", "消費生活センターの相談員が事業者に連絡し解約できた。", ("消費生活センター",), "電話"),
    ("お試しのつもりが定期購入になっていた。解約したい。", "消費生活センターで解約の方法を助言した。", ("消費生活センター",), "メール"),
    ("定期購入の化粧品の請求が続いている。", "消費生活センターで事業者とのあっせんを行った。", ("消費生活センター",), "電話"),
]  # fmt: skip
DATES = ["2025-04-03", "2025-05-10", "2025-05-20", "2025-07-01"]


def _vector(axis: int, jitter: int) -> np.ndarray:
    v = np.full(DIM, 0.02, dtype=np.float32)
    v[axis] = 1.0
    v[(axis + 3 + jitter) % DIM] += 0.15 * (jitter + 1)
    return v / np.linalg.norm(v)


def make_corpus(*, faq_axes: tuple[int, ...] = (0, 2)) -> TrainerCorpus:
    """Cases in groups A (axis 0), B (axis 1), C (axis 2); a published FAQ on each of
    ``faq_axes`` (by default: A and C have one, B has none)."""
    cases = []
    vectors = []
    n = 0
    for axis, group in enumerate((GROUP_A, GROUP_B, GROUP_C)):
        for j, (summary, resolution, depts, channel) in enumerate(group):
            n += 1
            cases.append(
                Document(
                    f"case:C{n:03d}", "case", summary, resolution, depts,
                    category="test", date=DATES[j % len(DATES)], channel=channel, status="完了",
                )
            )  # fmt: skip
            vectors.append(_vector(axis, j))
    faq_texts = {
        0: ("マイナンバーカードをなくしました。", "市民課で再交付の手続きをしてください。", "市民課"),
        1: ("粗大ごみの出し方を教えてください。", "申込後、処理券を貼って出してください。", "ごみ減量推進課"),
        2: ("定期購入を解約したい。", "消費生活センターにご相談ください。", "消費生活センター"),
    }  # fmt: skip
    faqs = []
    faq_vectors = []
    for axis in faq_axes:
        q, a, dept = faq_texts[axis]
        faqs.append(Document(f"faq:F{axis + 1:03d}", "faq", q, a, (dept,), published=True))
        faq_vectors.append(_vector(axis, 0))
    return TrainerCorpus(
        folder=__import__("pathlib").Path("/nonexistent"),
        model="fake-hash-8",
        cases=tuple(cases),
        case_vectors=np.stack(vectors),
        faqs=tuple(faqs),
        faq_vectors=np.stack(faq_vectors) if faq_vectors else np.zeros((0, DIM), np.float32),
        departments=DEPARTMENTS,
    )


@pytest.fixture
def corpus() -> TrainerCorpus:
    return make_corpus()


def make_data_dir(data_dir: Path, tokenizer: MeCabTokenizer) -> Settings:
    """A data directory over the sample corpus: store, built index and its embedding cache,
    where the trainer's approvals and withdrawals find them (model ``fake``)."""
    settings = Settings(data_dir=data_dir, model="fake")
    store = Store(settings.store_path)
    fill_store(store, tokenizer)
    cache = EmbeddingCache(data_dir / "embeddings.sqlite")
    build_index(store, FakeEmbedder(64), settings.index_root, cache=cache)
    cache.close()
    store.close()
    return settings


@pytest.fixture
def trainer(tmp_path: Path, tokenizer: MeCabTokenizer) -> Iterator[Trainer]:
    """A data directory over the sample corpus with a built index and its embedding cache."""
    t = Trainer(make_data_dir(tmp_path, tokenizer), tokenizer)
    yield t
    t.close()
