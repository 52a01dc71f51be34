"""Topics: k-means clusters of closed cases with c-TF-IDF keywords."""

from __future__ import annotations

import numpy as np
import pytest

from kb.index.dense import kmeans
from kb.text.mecab import MeCabTokenizer
from kb.trainer.corpus import TrainerCorpus
from kb.trainer.topics import compute_topics, default_k, keyword_terms, month_range, trend


def test_kmeans_finds_separated_groups_and_is_deterministic() -> None:
    rng = np.random.default_rng(3)
    centers = np.eye(6, dtype=np.float32)[:3]
    x = np.concatenate([c + 0.05 * rng.normal(size=(20, 6)) for c in centers]).astype(np.float32)
    x /= np.linalg.norm(x, axis=1, keepdims=True)
    centroids, labels = kmeans(x, 3, seed=7)
    assert centroids.shape == (3, 6)
    np.testing.assert_allclose(np.linalg.norm(centroids, axis=1), 1.0, rtol=1e-4)
    # Every group lands in one cluster of its own.
    groups = [set(labels[i * 20 : (i + 1) * 20].tolist()) for i in range(3)]
    assert all(len(g) == 1 for g in groups)
    assert len(set().union(*groups)) == 3
    _, again = kmeans(x, 3, seed=7)
    assert (again == labels).all()


def test_kmeans_clamps_k_and_handles_one_cluster() -> None:
    x = np.eye(4, dtype=np.float32)[:2]
    centroids, labels = kmeans(x, 10)
    assert len(centroids) == 2
    assert sorted(labels.tolist()) == [0, 1]
    centroids, labels = kmeans(x, 1)
    assert labels.tolist() == [0, 0]
    np.testing.assert_allclose(np.linalg.norm(centroids[0]), 1.0, rtol=1e-5)


def test_keyword_terms_joins_noun_runs_and_drops_generic_words(tokenizer: MeCabTokenizer) -> None:
    terms = keyword_terms(
        tokenizer, "30代男性から相談。マイナンバーカードを紛失し、転入届も出したい。"
    )
    assert "マイナンバーカード" in terms
    assert "転入届" in terms
    assert "認知症" in keyword_terms(tokenizer, "母が認知症と診断された")  # noun + suffix
    assert "相談" not in terms
    assert "男性" not in terms
    assert not any(ch.isdigit() for t in terms for ch in t)
    # A masked case's placeholders are no topic's words (an outside tester saw 氏名 and 番号).
    masked = keyword_terms(tokenizer, "[氏名]さんの口座[番号]について。[電話番号]に連絡")
    assert masked == ["口座"]


def test_month_range_fills_empty_months() -> None:
    assert month_range(["2025-11-03", "2026-02-01", ""]) == (
        "2025-11",
        "2025-12",
        "2026-01",
        "2026-02",
    )
    assert month_range([]) == ()


def test_default_k() -> None:
    assert default_k(2) == 1
    assert default_k(10) == 2
    assert default_k(640) == 18
    assert default_k(100_000) == 30


def test_overall_topics_recover_the_groups(
    corpus: TrainerCorpus, tokenizer: MeCabTokenizer
) -> None:
    topics = compute_topics(corpus, tokenizer, k=3)
    assert [t.size for t in topics.topics] == [4, 3, 3]
    by_keyword = {t.keywords[0]: t for t in topics.topics}
    assert "マイナンバーカード" in by_keyword
    mynumber = by_keyword["マイナンバーカード"]
    assert mynumber.id == "all-01"
    assert mynumber.case_ids[0] in mynumber.representative
    assert len(mynumber.representative) == 3
    assert set(mynumber.case_ids) == {"case:C001", "case:C002", "case:C003", "case:C004"}
    assert mynumber.channel == "窓口"
    assert dict(mynumber.channels) == {"窓口": 3, "電話": 1}
    assert dict(mynumber.departments) == {"市民課": 4, "国際交流課": 1}
    assert topics.months == ("2025-04", "2025-05", "2025-06", "2025-07")
    assert dict(mynumber.monthly) == {"2025-04": 1, "2025-05": 2, "2025-06": 0, "2025-07": 1}
    labels = " ".join(t.label for t in topics.topics)
    assert "粗大ごみ" in labels
    assert "定期購入" in labels
    # Representatives are the members nearest the centroid, in order.
    i = [c.doc_id for c in corpus.cases].index(mynumber.representative[0])
    j = [c.doc_id for c in corpus.cases].index(mynumber.representative[-1])
    centroid = topics.centroids[0]
    assert corpus.case_vectors[i] @ centroid >= corpus.case_vectors[j] @ centroid


def test_department_topics_only_cluster_that_departments_cases(
    corpus: TrainerCorpus, tokenizer: MeCabTokenizer
) -> None:
    topics = compute_topics(corpus, tokenizer, department="国際交流課")
    assert len(topics.topics) == 1
    assert topics.topics[0].case_ids == ("case:C004",)
    assert topics.topics[0].id == "国際交流課-01"
    assert compute_topics(corpus, tokenizer, department="存在しない課").topics == ()


def test_topics_are_deterministic(corpus: TrainerCorpus, tokenizer: MeCabTokenizer) -> None:
    a = compute_topics(corpus, tokenizer)
    b = compute_topics(corpus, tokenizer)
    assert a.topics == b.topics


@pytest.mark.parametrize(("monthly", "expected"), [((1, 1, 1, 1), 1.0), ((4, 0, 0, 0), 0.0)])
def test_trend(
    corpus: TrainerCorpus, tokenizer: MeCabTokenizer, monthly: tuple[int, ...], expected: float
) -> None:
    import dataclasses

    topic = compute_topics(corpus, tokenizer, k=3).topics[0]
    months = ("2025-04", "2025-05", "2025-06", "2025-07")
    changed = dataclasses.replace(topic, monthly=tuple(zip(months, monthly, strict=True)))
    assert trend(changed, recent=3) == expected
