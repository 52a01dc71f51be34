"""RowFilter: which rows a pane may show under the search filters."""

from __future__ import annotations

import numpy as np

from kb.search.expiry import ExpiryFilter
from kb.search.row_filter import RowFilter
from kb.types import Filters


def _rows() -> RowFilter:
    return RowFilter(
        published=np.array([True, True, False, True]),
        category=np.array(["届出", "ごみ", "届出", "届出"], dtype=object),
        date=np.array(["2026-01-10", "", "2026-03-01", "2026-05-20"], dtype=object),
        expiry=ExpiryFilter(np.array(["", "", "", "2000-01-01"], dtype=object)),
        departments=[("市民課",), ("環境課",), ("市民課", "福祉課"), ("福祉課",)],
    )


def test_no_filter_keeps_the_same_rows_object() -> None:
    pos = np.arange(4)
    assert _rows().keep(pos, Filters()) is pos


def test_each_filter_narrows_the_rows() -> None:
    rows, pos = _rows(), np.arange(4)
    # Row 2 is unpublished, row 3 past its 公開期限.
    assert rows.keep(pos, Filters(published_only=True)).tolist() == [0, 1]
    assert rows.keep(pos, Filters(categories=("届出",))).tolist() == [0, 2, 3]
    assert rows.keep(pos, Filters(date_from="2026-02-01")).tolist() == [2, 3]
    # An undated row never passes an upper bound.
    assert rows.keep(pos, Filters(date_to="2026-04-01")).tolist() == [0, 2]
    assert rows.keep(pos, Filters(departments=("福祉課",))).tolist() == [2, 3]
    both = Filters(categories=("届出",), departments=("市民課",), published_only=True)
    assert rows.keep(pos, both).tolist() == [0]
