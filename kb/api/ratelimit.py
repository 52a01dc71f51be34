"""Per-client token buckets for the public API (a 429 with ``Retry-After`` when empty).

In-process, so it limits per worker; the public widget runs on one process per city. The clock
is injectable so tests never sleep.
"""

from __future__ import annotations

import math
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass


@dataclass
class _Bucket:
    tokens: float
    updated: float


class RateLimiter:
    """Token bucket per key (the client's IP address).

    A client may make ``burst`` requests at once, then ``per_minute`` requests a minute.

    Args:
        per_minute: Sustained rate (tokens added per minute).
        burst: Bucket size.
        clock: Monotonic time in seconds (tests pass a fake one).
        max_clients: Buckets kept; idle (full) buckets are dropped beyond this.
    """

    def __init__(
        self,
        per_minute: float,
        burst: int,
        *,
        clock: Callable[[], float] = time.monotonic,
        max_clients: int = 10_000,
    ) -> None:
        if per_minute <= 0 or burst < 1:
            raise ValueError("per_minute must be > 0 and burst >= 1")
        self.rate = per_minute / 60.0
        self.burst = float(burst)
        self.clock = clock
        self.max_clients = max_clients
        self._buckets: dict[str, _Bucket] = {}
        self._lock = threading.Lock()

    def hit(self, key: str) -> float:
        """Take one token for ``key``.

        Returns:
            0.0 when the request may proceed, else the seconds to wait before retrying.
        """
        now = self.clock()
        with self._lock:
            bucket = self._buckets.get(key)
            if bucket is None:
                if len(self._buckets) >= self.max_clients:
                    self._evict(now)
                bucket = _Bucket(self.burst, now)
                self._buckets[key] = bucket
            else:
                elapsed = max(0.0, now - bucket.updated)
                bucket.tokens = min(self.burst, bucket.tokens + elapsed * self.rate)
                bucket.updated = now
            if bucket.tokens >= 1.0:
                bucket.tokens -= 1.0
                return 0.0
            return (1.0 - bucket.tokens) / self.rate

    @staticmethod
    def retry_after(wait: float) -> str:
        """``wait`` as a ``Retry-After`` header value (whole seconds, at least 1)."""
        return str(max(1, math.ceil(wait)))

    def _evict(self, now: float) -> None:
        full = [
            k
            for k, b in self._buckets.items()
            if b.tokens + (now - b.updated) * self.rate >= self.burst
        ]
        for k in full:
            del self._buckets[k]
        if len(self._buckets) >= self.max_clients:
            # Everyone is active: drop the stalest half rather than grow without bound.
            stale = sorted(self._buckets, key=lambda k: self._buckets[k].updated)
            for k in stale[: len(stale) // 2]:
                del self._buckets[k]
