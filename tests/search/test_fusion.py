from __future__ import annotations

import numpy as np
import pytest

from kb.search.fusion import fuse, minmax, ranks


def test_minmax_and_ranks() -> None:
    np.testing.assert_allclose(minmax(np.array([2.0, 4.0, 3.0])), [0.0, 1.0, 0.5])
    np.testing.assert_allclose(minmax(np.array([3.0, 3.0])), [1.0, 1.0])
    np.testing.assert_array_equal(ranks(np.array([0.1, 0.9, 0.5])), [3, 1, 2])


def test_convex_fusion_weights_both_sides() -> None:
    dense = np.array([0.9, 0.5, 0.1])
    lexical = np.array([0.0, 10.0, 5.0])
    np.testing.assert_allclose(fuse(dense, lexical, dense_weight=1.0), [1.0, 0.5, 0.0])
    np.testing.assert_allclose(fuse(dense, lexical, dense_weight=0.0), [0.0, 1.0, 0.5])
    mixed = fuse(dense, lexical, dense_weight=0.5)
    assert int(np.argmax(mixed)) == 1


def test_rrf_ignores_lexical_misses() -> None:
    dense = np.array([0.9, 0.5])
    lexical = np.array([0.0, 1.0])
    fused = fuse(dense, lexical, method="rrf", dense_weight=0.5)
    assert fused[0] == pytest.approx(0.5 / 61)
    assert fused[1] == pytest.approx(0.5 / 62 + 0.5 / 61)
