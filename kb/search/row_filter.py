"""Which of a pane's rows a search may show under its :class:`~kb.types.Filters`.

Published only (and not past its 公開期限, judged at search time), categories, a date range
and departments, each read from the index's per-row metadata.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from kb.search.expiry import ExpiryFilter
from kb.types import Filters


@dataclass(frozen=True)
class RowFilter:
    """The per-row metadata the filters read, aligned with the index's rows."""

    published: np.ndarray
    category: np.ndarray
    date: np.ndarray
    expiry: ExpiryFilter
    departments: Sequence[tuple[str, ...]]

    def keep(self, pos: np.ndarray, filters: Filters) -> np.ndarray:
        """The rows of ``pos`` (in order) that ``filters`` lets through."""
        if filters.published_only:
            # Past its 公開期限 (judged now, not at build time): gone from the public side.
            pos = self.expiry.drop(pos[self.published[pos]])
        if filters.categories:
            pos = pos[np.isin(self.category[pos], list(filters.categories))]
        if filters.date_from:
            pos = pos[self.date[pos] >= filters.date_from]
        if filters.date_to:
            pos = pos[(self.date[pos] != "") & (self.date[pos] <= filters.date_to)]
        if filters.departments:
            wanted = set(filters.departments)
            keep = [i for i, p in enumerate(pos) if wanted & set(self.departments[p])]
            pos = pos[keep]
        return pos


__all__ = ["RowFilter"]
