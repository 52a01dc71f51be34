"""公開期限: the last day an FAQ entry is public, checked when a query comes in.

An index is built once and may serve for weeks, so an entry whose 公開期限 passes meanwhile must
leave the public widget on the day by itself, without a rebuild: the public search, suggest and
the public feedback route compare each entry's date with :func:`today` at query time. Staff
search still finds the entry, marked 期限切れ (:attr:`kb.types.FaqResult.expired`).

The date is the last day shown: an entry with 公開期限 ``2025-03-31`` is public on 31 March
and gone on 1 April. Days are counted in Japan time (UTC+9, no daylight saving), whatever the
server's own time zone, so a server on UTC does not keep an entry up until 9:00.
"""

from __future__ import annotations

import datetime as dt

import numpy as np

JST = dt.timezone(dt.timedelta(hours=9), "JST")


def today() -> str:
    """Today's date in Japan, ISO ``YYYY-MM-DD``: the day 公開期限 is compared with.

    Every expiry check calls this through the module (``expiry.today()``), so a test can
    replace it (``monkeypatch.setattr("kb.search.expiry.today", lambda: "2030-06-02")``).
    """
    return dt.datetime.now(JST).date().isoformat()


def is_expired(expires: str, on: str | None = None) -> bool:
    """Whether an entry with 公開期限 ``expires`` (ISO, or empty: none) is past it on ``on``.

    Args:
        expires: The entry's last public day, or ``""``.
        on: The day to judge (default: :func:`today`).
    """
    return bool(expires) and expires < (on or today())


class ExpiryFilter:
    """The positions (chunks or entries) whose 公開期限 has passed, per day.

    Args:
        expires: Each position's 公開期限 (ISO text, ``""`` for none), an object array.
    """

    def __init__(self, expires: np.ndarray) -> None:
        dated = np.flatnonzero(expires != "") if expires.size else np.zeros(0, np.int64)
        self._positions = dated.astype(np.int64)
        self._dates = expires[dated] if dated.size else np.zeros(0, object)
        self._memo: tuple[str, np.ndarray] | None = None

    def expired(self, on: str | None = None) -> np.ndarray:
        """The sorted positions whose 公開期限 is before ``on`` (default: :func:`today`)."""
        day = on or today()
        memo = self._memo
        if memo is None or memo[0] != day:
            gone = self._positions[self._dates < day] if self._positions.size else self._positions
            memo = self._memo = (day, gone)
        return memo[1]

    def drop(self, positions: np.ndarray, on: str | None = None) -> np.ndarray:
        """``positions`` without the expired ones (the same array when none is expired)."""
        gone = self.expired(on)
        if gone.size == 0 or positions.size == 0:
            return positions
        return positions[~np.isin(positions, gone)]
