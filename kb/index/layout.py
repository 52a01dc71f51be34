"""The order of the chunks in an index build, and finding a chunk's row from its id.

A build stores its chunks grouped by kind (FAQ, cases, manual sections, the directory), each
kind in row-id order (:func:`kind_order`): every kind is then one slice of the rows, so a pane
works on a slice of the lexical scores instead of picking its chunks out of all of them (at 1M
chunks that picking took 0.75 ms of a search). Builds made before this are in row-id order;
both are read (:func:`kind_slices` says whether a kind is a slice).

FAISS ids are the store's row ids; :class:`RowFinder` turns them back into rows.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from kb.index.lexical import LexicalScores
from kb.types import DOC_KINDS, DocKind


def kind_order(kinds: Sequence[str]) -> np.ndarray:
    """The row order of a build whose chunks (in row-id order) have ``kinds``: grouped by kind
    in :data:`~kb.types.DOC_KINDS` order (others after, by name), row-id order within a kind."""
    rank: dict[str, int] = {k: i for i, k in enumerate(DOC_KINDS)}
    others = sorted(set(kinds) - set(rank))
    rank.update({k: len(DOC_KINDS) + i for i, k in enumerate(others)})
    codes = np.fromiter((rank[k] for k in kinds), dtype=np.int64, count=len(kinds))
    return np.argsort(codes, kind="stable")


def kind_slices(kinds: np.ndarray) -> dict[str, slice] | None:
    """Each kind's rows as a slice, or ``None`` if some kind's rows are not contiguous (a build
    in row-id order)."""
    if kinds.size == 0:
        return {}
    change = np.flatnonzero(kinds[1:] != kinds[:-1]) + 1
    starts = [0, *change.tolist()]
    ends = [*change.tolist(), int(kinds.size)]
    names = [str(kinds[s]) for s in starts]
    if len(set(names)) != len(names):
        return None
    return {name: slice(s, e) for name, s, e in zip(names, starts, ends, strict=True)}


def is_kind_ordered(rowids: np.ndarray) -> bool:
    """Whether ``rowids`` can be a kind-ordered build's: a few ascending runs (one per kind)."""
    descents = int(np.count_nonzero(np.diff(rowids) < 0)) if rowids.size > 1 else 0
    return descents < len(DOC_KINDS)


class RowFinder:
    """The rows of chunk row ids (FAISS ids), in a build of either order.

    Args:
        rowids: The build's row ids, row by row.
    """

    def __init__(self, rowids: np.ndarray) -> None:
        self._order: np.ndarray | None = None
        if rowids.size > 1 and bool(np.any(np.diff(rowids) < 0)):
            self._order = np.argsort(rowids, kind="stable")
            self._sorted = rowids[self._order]
        else:
            self._sorted = rowids

    def rows(self, ids: np.ndarray) -> np.ndarray:
        """The rows of ``ids`` (each must be in the build)."""
        at = np.searchsorted(self._sorted, ids)
        return at if self._order is None else self._order[at]


class KindRows:
    """Each kind's rows in a build, and a query's lexical matches split by kind.

    Args:
        kinds: The kind of each row.
    """

    def __init__(self, kinds: np.ndarray) -> None:
        self.slices = kind_slices(kinds)
        self.positions: dict[DocKind, np.ndarray] = {}
        self._code: np.ndarray | None = None
        if self.slices is not None:
            for k in DOC_KINDS:
                part = self.slices.get(k, slice(0, 0))
                self.positions[k] = np.arange(part.start, part.stop, dtype=np.int64)
        else:
            self._code = np.full(len(kinds), -1, dtype=np.int8)
            for code, k in enumerate(DOC_KINDS):
                self.positions[k] = np.flatnonzero(kinds == k)
                self._code[self.positions[k]] = code

    def matches(self, kind: DocKind, lex: LexicalScores) -> tuple[np.ndarray, np.ndarray]:
        """The rows of ``kind`` with a lexical score above 0, ascending, and their scores."""
        if self.slices is not None:
            part = self.slices.get(kind, slice(0, 0))
            return lex.matches_in(part.start, part.stop)
        # A build in row-id order: the matches are split once per query, for every pane.
        by_kind = lex.memo.get("by_kind")
        if by_kind is None:
            rows, values = lex.matches()
            assert self._code is not None
            codes = self._code[rows]
            by_kind = lex.memo["by_kind"] = {
                k: (rows[codes == i], values[codes == i]) for i, k in enumerate(DOC_KINDS)
            }
        found: tuple[np.ndarray, np.ndarray] = by_kind[kind]
        return found

    def top(self, kind: DocKind, positions: np.ndarray, lex: LexicalScores, n: int) -> np.ndarray:
        """Rows of the ``n`` best lexical scores above 0 among ``positions`` (of ``kind``)."""
        if positions is self.positions[kind]:
            # An unfiltered pane: only the chunks that match a query term, instead of a pass
            # over every chunk of the kind.
            rows, values = self.matches(kind, lex)
        else:
            values = lex.at(positions)
            keep = values > 0
            rows, values = positions[keep], values[keep]
        top = min(n, int(rows.size))
        if not top:
            return rows[:0]
        return rows[np.argpartition(-values, top - 1)[:top]]


__all__ = ["KindRows", "RowFinder", "is_kind_ordered", "kind_order", "kind_slices"]
