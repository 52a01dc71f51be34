from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

from kb.embed.embedder import FakeEmbedder
from kb.errors import IndexError_
from kb.index.folder import IndexFolder, current_index
from kb.index.routing import RoutingModel, labelled_chunks, train_routing
from kb.search.searcher import Searcher
from kb.store import Store


def _clusters(
    names: list[str], per: int = 20, dim: int = 16, seed: int = 0
) -> tuple[np.ndarray, np.ndarray, list[tuple[str, ...]], np.ndarray]:
    """Unit vectors around one random centre per department; the centres are returned too."""
    rng = np.random.default_rng(seed)
    centres = rng.standard_normal((len(names), dim)).astype(np.float32)
    centres /= np.linalg.norm(centres, axis=1, keepdims=True)
    rows, labels = [], []
    for i, name in enumerate(names):
        for _ in range(per):
            rows.append(centres[i] + 0.3 * rng.standard_normal(dim).astype(np.float32))
            labels.append((name,))
    x = np.asarray(rows, dtype=np.float32)
    x /= np.linalg.norm(x, axis=1, keepdims=True)
    return x, x[::-1].copy(), labels, centres


def test_learns_each_department_and_gives_probabilities() -> None:
    names = ["市民課", "税務課", "保険年金課"]
    x, _, labels, centres = _clusters(names)
    model = train_routing(x, x, labels)
    assert model is not None
    assert model.classes == tuple(sorted(names))
    assert model.samples == 2 * len(labels)
    for i, name in enumerate(names):
        probs = model.probabilities(centres[i])
        assert max(probs, key=probs.__getitem__) == name
        assert probs[name] > 0.8
        assert sum(probs.values()) == pytest.approx(1.0, abs=1e-5)


def test_two_departments_are_a_softmax_too() -> None:
    x, _, labels, centres = _clusters(["市民課", "税務課"])
    model = train_routing(x, x, labels)
    assert model is not None
    assert model.coef.shape == (2, x.shape[1])
    assert model.probabilities(centres[0])["市民課"] > 0.8
    assert model.probabilities(centres[1])["税務課"] > 0.8


def test_training_is_deterministic() -> None:
    x, t, labels, _ = _clusters(["市民課", "税務課", "保険年金課"], seed=3)
    first = train_routing(x, t, labels)
    second = train_routing(x, t, labels)
    assert first is not None
    assert second is not None
    assert np.array_equal(first.coef, second.coef)
    assert np.array_equal(first.intercept, second.intercept)


def test_unlabelled_chunks_are_left_out_and_one_department_is_no_model() -> None:
    x, t, labels, _ = _clusters(["市民課", "税務課"])
    only_one = [lab if lab[0] == "市民課" else () for lab in labels]
    assert train_routing(x, t, only_one) is None
    assert train_routing(x, t, [()] * len(labels)) is None
    # A chunk naming several departments is labelled with its lead one.
    several = [(*lab, "総務課") for lab in labels]
    model = train_routing(x, t, several)
    assert model is not None
    assert "総務課" not in model.classes


def test_misaligned_inputs_are_refused() -> None:
    x, t, labels, _ = _clusters(["市民課", "税務課"])
    with pytest.raises(ValueError, match="aligned"):
        train_routing(x, t[:-1], labels)


def test_a_vector_of_another_dimension_is_refused() -> None:
    x, t, labels, _ = _clusters(["市民課", "税務課"])
    model = train_routing(x, t, labels)
    assert model is not None
    with pytest.raises(ValueError, match="dimension 8"):
        model.probabilities(np.ones(8, dtype=np.float32))


def test_sample_is_bounded_keeps_every_department_and_is_deterministic() -> None:
    labels: list[tuple[str, ...]] = (
        [("市民課",)] * 900 + [("税務課",)] * 90 + [("選挙管理委員会",)] * 3
    )
    labels += [()] * 50
    pos, names = labelled_chunks(labels, limit=100)
    assert len(pos) == 100 == len(names)
    assert set(names) == {"市民課", "税務課", "選挙管理委員会"}
    assert names.count("選挙管理委員会") == 3
    assert all(labels[p] and labels[p][0] == n for p, n in zip(pos, names, strict=True))
    again, _ = labelled_chunks(labels, limit=100)
    assert np.array_equal(pos, again)
    under, _ = labelled_chunks(labels, limit=5000)
    assert len(under) == 993


def test_save_and_load(tmp_path: Path) -> None:
    x, t, labels, centres = _clusters(["市民課", "税務課", "保険年金課"])
    model = train_routing(x, t, labels)
    assert model is not None
    folder = IndexFolder(tmp_path)
    assert folder.load_routing() is None  # a build made before the model
    folder.save_routing(model)
    loaded = folder.load_routing()
    assert loaded is not None
    assert loaded.classes == model.classes
    assert loaded.probabilities(centres[1]) == model.probabilities(centres[1])
    folder.save_routing(None)  # nothing to write: the model stays
    assert folder.load_routing() is not None


def test_another_version_is_ignored_and_damaged_files_are_an_index_error(tmp_path: Path) -> None:
    x, t, labels, _ = _clusters(["市民課", "税務課"])
    model = train_routing(x, t, labels)
    assert model is not None
    model.save(tmp_path)
    meta = json.loads((tmp_path / "routing.json").read_text(encoding="utf-8"))
    (tmp_path / "routing.json").write_text(json.dumps({**meta, "version": "0"}), "utf-8")
    assert RoutingModel.load(tmp_path) is None
    (tmp_path / "routing.json").write_text(json.dumps({**meta, "classes": ["市民課"]}), "utf-8")
    with pytest.raises(IndexError_, match="department model"):
        IndexFolder(tmp_path).load_routing()
    (tmp_path / "routing.npz").write_bytes(b"not numpy")
    (tmp_path / "routing.json").write_text(json.dumps(meta), "utf-8")
    with pytest.raises(IndexError_, match="run `kb build`"):
        IndexFolder(tmp_path).load_routing()


def test_build_trains_the_model_and_the_searcher_uses_it(
    index_root: Path, store: Store, fake_embedder: FakeEmbedder
) -> None:
    folder = IndexFolder(current_index(index_root))
    model = folder.load_routing()
    assert model is not None
    names = {json.loads(d)[0] for d in store.chunk_metadata()["departments"] if json.loads(d)}
    assert set(model.classes) == names
    assert model.dim == fake_embedder.dim
    searcher = Searcher.open(index_root, fake_embedder)
    try:
        assert searcher.routing is not None
        result = searcher.search("転入届を出したい")
        assert result.departments
        assert all(0.0 <= d.score <= 1.0 for d in result.departments)
        assert [d.score for d in result.departments] == sorted(
            (d.score for d in result.departments), reverse=True
        )
    finally:
        searcher.close()
