from __future__ import annotations

from pathlib import Path

import numpy as np

from kb.index.dense import DenseIndex


def _data(n: int = 500, d: int = 16) -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(0)
    v = rng.normal(size=(n, d)).astype(np.float32)
    v /= np.linalg.norm(v, axis=1, keepdims=True)
    return v, np.arange(100, 100 + n, dtype=np.int64)


def test_flat_search_is_exact() -> None:
    vectors, ids = _data()
    index = DenseIndex.build(vectors, ids, kind="flat")
    q = vectors[7]
    scores, got = index.search(q, 5)
    expected = ids[np.argsort(-(vectors @ q))[:5]]
    np.testing.assert_array_equal(got, expected)
    assert got[0] == ids[7]
    assert scores[0] > 0.999


def test_allowed_ids_restrict_results() -> None:
    vectors, ids = _data()
    index = DenseIndex.build(vectors, ids, kind="flat")
    allowed = np.sort(ids[::7]).astype(np.int64)
    _, got = index.search(vectors[3], 20, allowed)
    assert set(got.tolist()) <= set(allowed.tolist())
    assert len(got) == 20


def test_hnsw_recall_against_exact_search() -> None:
    vectors, ids = _data(2000, 32)
    exact = DenseIndex.build(vectors, ids, kind="flat")
    approx = DenseIndex.build(vectors, ids, kind="hnsw")
    recalls = []
    for i in range(0, 2000, 100):
        _, a = approx.search(vectors[i] + 0.01, 10)
        _, e = exact.search(vectors[i] + 0.01, 10)
        recalls.append(len(set(a.tolist()) & set(e.tolist())) / 10)
    assert np.mean(recalls) >= 0.98


def test_save_and_load(tmp_path: Path) -> None:
    vectors, ids = _data(50)
    index = DenseIndex.build(vectors, ids)
    index.save(tmp_path / "d.faiss")
    loaded = DenseIndex.load(tmp_path / "d.faiss", index.kind)
    assert loaded.size == 50
    np.testing.assert_array_equal(loaded.search(vectors[1], 3)[1], index.search(vectors[1], 3)[1])


def test_every_thread_searches_single_threaded() -> None:
    import threading

    import faiss

    vectors, ids = _data(50)
    index = DenseIndex.build(vectors, ids)
    seen: list[int] = []

    def search() -> None:
        index.search(vectors[0], 3)
        seen.append(faiss.omp_get_max_threads())

    thread = threading.Thread(target=search)
    thread.start()
    thread.join()
    assert seen == [1]
