from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
import pytest

from kb.index.dense import KindIndexes


def _data(n: int = 300, d: int = 16) -> tuple[np.ndarray, np.ndarray, list[str]]:
    rng = np.random.default_rng(1)
    v = rng.normal(size=(n, d)).astype(np.float32)
    v /= np.linalg.norm(v, axis=1, keepdims=True)
    kinds = ["faq" if i % 3 == 0 else "case" for i in range(n)]
    kinds[5] = "department"
    return v, np.arange(10, 10 + n, dtype=np.int64), kinds


def test_each_kind_searches_only_its_own_vectors(tmp_path: Path) -> None:
    vectors, ids, kinds = _data()
    index = KindIndexes.build(vectors, ids, kinds)
    assert sorted(index.indexes) == ["case", "department", "faq"]
    faq = index.get("faq")
    assert faq is not None
    faq_ids = {int(i) for i, k in zip(ids, kinds, strict=True) if k == "faq"}
    _, got = faq.search(vectors[1], 20)  # vectors[1] is a case
    assert set(got.tolist()) <= faq_ids
    assert len(got) == 20
    # Exact within the kind.
    rows = [i for i, k in enumerate(kinds) if k == "faq"]
    expected = ids[rows][np.argsort(-(vectors[rows] @ vectors[1]))[:20]]
    np.testing.assert_array_equal(got, expected)
    assert index.description == "case=flat:199 department=flat:1 faq=flat:100"
    assert index.get("manual") is None

    index.save(tmp_path)
    loaded = KindIndexes.load(tmp_path)
    assert loaded is not None
    assert loaded.description == index.description
    loaded_faq = loaded.get("faq")
    assert loaded_faq is not None
    np.testing.assert_array_equal(loaded_faq.search(vectors[1], 20)[1], got)


def test_folder_without_per_kind_indexes_loads_as_none(tmp_path: Path) -> None:
    assert KindIndexes.load(tmp_path) is None


def test_kinds_must_label_every_vector() -> None:
    vectors, ids, kinds = _data()
    with pytest.raises(ValueError, match="label every vector"):
        KindIndexes.build(vectors, ids, kinds[:-1])


def _exact_top(vectors: np.ndarray, ids: np.ndarray, rows: Any, q: np.ndarray) -> set[int]:
    """The exact top 10 ids among ``rows`` for ``q``."""
    return set(ids[rows][np.argsort(-(vectors[rows] @ q))[:10]].tolist())


def test_ivf_above_the_threshold(monkeypatch: pytest.MonkeyPatch) -> None:
    import kb.index.dense as dense

    monkeypatch.setattr(dense, "EXACT_MAX", 250)
    vectors, ids, kinds = _data(1200)
    index = KindIndexes.build(vectors, ids, kinds)
    assert index.description == "case=ivf:799 department=flat:1 faq=ivf:400"
    case = index.get("case")
    assert case is not None
    rows = np.array([i for i, k in enumerate(kinds) if k == "case"])
    recalls = []
    for q in vectors[:50]:
        exact = _exact_top(vectors, ids, rows, q)
        recalls.append(len(exact & set(case.search(q, 10)[1].tolist())) / 10)
    assert np.mean(recalls) >= 0.98
    # A filtered search probes every list: exact within the allowed ids.
    allowed = np.sort(ids[rows][::9])
    _, got = case.search(vectors[0], 10, allowed)
    in_allowed = np.isin(ids, allowed)
    expected = ids[in_allowed][np.argsort(-(vectors[in_allowed] @ vectors[0]))[:10]]
    assert got.tolist() == expected.tolist()


def test_hnsw_on_request() -> None:
    vectors, ids, kinds = _data(600)
    index = KindIndexes.build(vectors, ids, kinds, kind="hnsw")
    assert index.description == "case=hnsw:399 department=hnsw:1 faq=hnsw:200"
    faq = index.get("faq")
    assert faq is not None
    rows = [i for i, k in enumerate(kinds) if k == "faq"]
    recalls = []
    for q in vectors[:50]:
        exact = _exact_top(vectors, ids, rows, q)
        recalls.append(len(exact & set(faq.search(q, 10)[1].tolist())) / 10)
    assert np.mean(recalls) >= 0.98


def test_sq8_codes_above_the_second_threshold(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    import kb.index.dense as dense

    monkeypatch.setattr(dense, "EXACT_MAX", 250)
    monkeypatch.setattr(dense, "SQ8_MIN", 600)
    vectors, ids, kinds = _data(1200)
    index = KindIndexes.build(vectors, ids, kinds)
    assert index.description == "case=ivfsq8:799 department=flat:1 faq=ivf:400"
    case = index.get("case")
    assert case is not None
    rows = np.array([i for i, k in enumerate(kinds) if k == "case"])
    # 1 byte per dimension instead of 4 (plus 8-byte ids and the centroids: at 16 dimensions
    # under half the size; at 384, about a quarter).
    index.save(tmp_path)
    plain = dense.DenseIndex.build(vectors[rows], ids[rows], kind="ivf")
    plain.save(tmp_path / "plain.faiss")
    assert (tmp_path / "dense-case.faiss").stat().st_size < 0.5 * (
        tmp_path / "plain.faiss"
    ).stat().st_size
    # The codes only pick candidates; re-scored with the float32 vectors (as the searcher
    # does), the top 10 is the exact one.
    position = {int(i): n for n, i in enumerate(ids)}
    recalls = []
    for q in vectors[:50]:
        exact = _exact_top(vectors, ids, rows, q)
        _, cand = case.search(q, 100)
        rescored = sorted(cand.tolist(), key=lambda i: -float(vectors[position[i]] @ q))[:10]
        recalls.append(len(exact & set(rescored)) / 10)
    assert np.mean(recalls) >= 0.99
    # Filtered searches stay within the filter and exact.
    allowed = np.sort(ids[rows][::5])
    _, got = case.search(vectors[0], 10, allowed)
    assert set(got.tolist()) <= set(allowed.tolist())
    assert len(got) == 10
