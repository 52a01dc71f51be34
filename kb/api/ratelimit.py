"""The public API's CPU budget: per-client token buckets priced by cost, and a search gate.

A request takes tokens in proportion to the work it causes (:func:`search_cost`, declared on
the route with :func:`priced`): the query embedding dominates a search and grows with the
query's length, while a suggestion never embeds. An empty bucket is a 429 with
``Retry-After``, held back for a moment (``Settings.reject_delay``) so that a flood slows down.
Buckets are per client address (:func:`kb.api.proxies.client_key`), so one address cannot
spend more than its share.

Many addresses together could still fill the cores, so :class:`SearchGate` lets only a few
public searches run at once (one by default), within a budget shared by all clients, and turns
away the excess with 503: staff searches keep the rest of the search pool and the other cores.

All of it is in-process, so it limits per worker process. The clock is injectable so tests
never sleep.
"""

from __future__ import annotations

import asyncio
import contextlib
import contextvars
import functools
import logging
import math
import os
import sys
import threading
import time
import unicodedata
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from typing import Any, TypeVar

from fastapi import HTTPException, Request

from kb.api.proxies import client_key, peer_host
from kb.embed.embedder import set_background_thread
from kb.settings import Settings

log = logging.getLogger(__name__)

T = TypeVar("T")

SEARCH_COST = 1.0
"""Tokens a public search takes whatever its length (MeCab, BM25, FAISS, the response)."""
SEARCH_CHARS_PER_TOKEN = 40
"""Query characters per extra token: a 10-character search costs 1.25 tokens, a 200-character
one 6. On the demo index they take about 25 and 65-85 ms of one core (``bench/abuse.py``,
``costs_ms``): long questions, the abuser's tool, are priced a little above their CPU."""
OTHER_COST = 0.25
"""Tokens of any other public request: suggestions (under 1 ms of work, no embedding) and
feedback. The widget asks for suggestions on every pause in typing."""

CLOSES_PER_MINUTE = 6.0
"""Records one staff key may close (完了) per minute, six at once. Each close stores a case and
builds the index under the writer lock (about 2.4 s of CPU on 2 cores); a counsellor closes a
consultation every few minutes at most, and a key closing record after record would otherwise
hold the lock from every other writer."""

FAQ_CHANGES_PER_MINUTE = 6.0
"""FAQ withdrawals and republications one trainer key may make per minute, six at once: each
builds the index under the writer lock, as a record close does."""

DESK_CHARS_PER_MINUTE = 60_000.0
"""Characters of record and hand-off text one staff key may have masked per minute; a bucket
of :data:`DESK_CHARS_BURST`. Masking runs in Python at about 40,000 characters a second, and
one request may carry some 320,000 characters (a record's notes, words, actions and queries
at their limits): without a budget, a key saving such records back to back kept a core busy
and slowed every colleague's search (outside attacker, round 7). A counsellor's save is a few
thousand characters."""

DESK_CHARS_BURST = 400_000
"""Characters a staff key may send at once: any single request within the fields' limits."""

BRIEFS_PER_MINUTE = 20.0
"""Bookings one staff key may have briefed per minute, in a bucket of
:data:`kb.desk.bookings.MAX_BOOKINGS`: a day's list at once, then a full list again about ten
minutes later. A brief is several searches (about 0.2 s of CPU for a long topic): 200 long
topics in one request took 43 s of CPU (outside attacker, round 7)."""

FEEDBACK_SHARES = 10
"""One client address may record at most this share of the public feedback budget (1/10)."""

Endpoint = TypeVar("Endpoint", bound=Callable[..., Any])


@dataclass
class _Bucket:
    tokens: float
    updated: float


class RateLimiter:
    """Token bucket per key (the client's IP address).

    A client may spend ``burst`` tokens at once, then ``per_minute`` tokens a minute; a
    request costs one token unless :meth:`hit` is told otherwise.

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

    def hit(self, key: str, cost: float = 1.0) -> float:
        """Take ``cost`` tokens for ``key`` (at most ``burst``: any request can pass eventually).

        Returns:
            0.0 when the request may proceed, else the seconds to wait before retrying.
        """
        cost = min(max(cost, 0.0), self.burst)
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
            if bucket.tokens >= cost:
                bucket.tokens -= cost
                return 0.0
            return (cost - bucket.tokens) / self.rate

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


def search_cost(chars: int) -> float:
    """Tokens a public search of ``chars`` characters takes."""
    return SEARCH_COST + max(0, chars) / SEARCH_CHARS_PER_TOKEN


def public_search_cost(request: Request) -> float:
    """What a public search request costs: its ``q`` up to the length that will be searched."""
    settings: Settings = request.app.state.settings
    query = unicodedata.normalize("NFKC", request.query_params.get("q", ""))
    return search_cost(min(len(query), settings.public_max_query_chars))


def priced(cost: Callable[[Request], float]) -> Callable[[Endpoint], Endpoint]:
    """Declare what a request to this public route costs (:func:`rate_limited` charges it).

    Routes without a price cost :data:`OTHER_COST`.
    """

    def mark(endpoint: Endpoint) -> Endpoint:
        endpoint.kb_cost = cost  # type: ignore[attr-defined]
        return endpoint

    return mark


def limit_key(
    limiter: RateLimiter, key: str, *, status: int, detail: str, cost: float = 1.0
) -> None:
    """Take ``cost`` tokens from ``key``'s bucket (a key's name, or one bucket for everyone);
    ``status`` with ``Retry-After`` when it is empty (:data:`CLOSES_PER_MINUTE`,
    :data:`FAQ_CHANGES_PER_MINUTE`, :data:`DESK_CHARS_PER_MINUTE`, :data:`BRIEFS_PER_MINUTE`,
    the public feedback budget)."""
    wait = limiter.hit(key, cost)
    if wait > 0:
        headers = {"Retry-After": RateLimiter.retry_after(wait)}
        raise HTTPException(status_code=status, detail=detail, headers=headers)


async def charge(request: Request, cost: float) -> None:
    """Take ``cost`` tokens from the caller's bucket; 429 with ``Retry-After`` when it is empty.

    The caller is its address as :class:`kb.api.proxies.ForwardedForMiddleware` left it:
    ``X-Forwarded-For`` counts only from a trusted proxy. A refused request is held for up to
    ``reject_delay`` seconds (never longer than the client would have to wait anyway)
    before its 429 goes out: a client that retries at once, as a flood does, then sends about
    one request a second per connection instead of hundreds, each taking the event loop and the
    interpreter from the staff searches in flight.
    """
    limiter: RateLimiter = request.app.state.rate_limiter
    wait = limiter.hit(client_key(peer_host(request.scope)), cost)
    if wait <= 0:
        return
    settings: Settings = request.app.state.settings
    hold = min(wait, settings.reject_delay)
    if hold > 0:
        await asyncio.sleep(hold)
    raise HTTPException(
        status_code=429,
        detail="too many requests; please retry later",
        headers={"Retry-After": RateLimiter.retry_after(wait - hold)},
    )


async def rate_limited(request: Request) -> None:
    """Dependency of every public route: charge the route's price, in one go before it runs.

    The price is the one :func:`priced` declared on the route, else :data:`OTHER_COST`.
    """
    cost = getattr(request.scope.get("endpoint"), "kb_cost", None)
    await charge(request, cost(request) if callable(cost) else OTHER_COST)


class Busy(Exception):
    """The public searches of all clients together are over :class:`SearchGate`'s limits."""


BUDGET_BURST_SECONDS = 10
"""The shared public budget may be spent this many seconds' worth at once."""


class SearchGate:
    """The public searches of all clients together: a share of the CPU and a turn each.

    Per worker process: at most ``concurrency`` public searches run at once and ``queue`` more
    wait; together they spend at most ``budget_per_minute`` tokens (the prices of
    :func:`search_cost`). Beyond either, :class:`Busy`. Each client's own bucket comes first;
    this is for many addresses at once, so that the counsellors keep the rest of the machine.

    The searches run on the gate's own threads, not on the staff's search pool, as background
    work (:func:`background_thread`): one model thread each, at a lower priority, never holding
    back a staff query from using every core.

    Args:
        concurrency: Public searches that may run together (each embeds its query on a core).
        queue: Searches that may wait for a turn; one more is refused.
        budget_per_minute: Tokens all public searches together may spend per minute.
        clock: Monotonic time in seconds for the budget (tests pass a fake one).
    """

    def __init__(
        self,
        concurrency: int,
        queue: int,
        budget_per_minute: float = math.inf,
        *,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        if concurrency < 1 or queue < 0:
            raise ValueError("concurrency must be >= 1 and queue >= 0")
        self.concurrency = concurrency
        self.queue = queue
        self.budget = None
        if math.isfinite(budget_per_minute):
            burst = max(1, math.ceil(budget_per_minute / 60 * BUDGET_BURST_SECONDS))
            self.budget = RateLimiter(budget_per_minute, burst, clock=clock, max_clients=1)
        self._waiting = 0
        self._semaphore: asyncio.Semaphore | None = None
        self._loop: asyncio.AbstractEventLoop | None = None
        self._executor: ThreadPoolExecutor | None = None
        self._executor_lock = threading.Lock()

    @classmethod
    def from_settings(cls, settings: Settings) -> SearchGate:
        return cls(
            settings.public_search_concurrency,
            settings.public_search_queue,
            settings.public_search_budget_per_minute,
        )

    @property
    def waiting(self) -> int:
        """Searches waiting for a turn now."""
        return self._waiting

    def _current(self) -> asyncio.Semaphore:
        loop = asyncio.get_running_loop()
        if self._semaphore is None or self._loop is not loop:
            # A semaphore belongs to one event loop; a restarted app (tests) runs a new one.
            self._semaphore = asyncio.Semaphore(self.concurrency)
            self._loop = loop
            self._waiting = 0
        return self._semaphore

    @property
    def executor(self) -> ThreadPoolExecutor:
        """The gate's own threads: background ones, of lower priority than the staff's."""
        with self._executor_lock:
            if self._executor is None:
                self._executor = ThreadPoolExecutor(
                    self.concurrency, thread_name_prefix="kb-public", initializer=background_thread
                )
            return self._executor

    async def run(self, fn: Callable[..., T], /, *args: Any, cost: float = 1.0, **kwargs: Any) -> T:
        """``fn(*args, **kwargs)`` on the gate's threads in turn, once ``cost`` fits the budget.

        The turn is given back when ``fn`` returns, not when the caller stops waiting for it: a
        client that hangs up cannot free a slot while its search still runs on a core.

        Raises:
            Busy: ``queue`` searches are waiting already, or the budget is spent.
        """
        semaphore = self._current()
        if semaphore.locked() and self._waiting >= self.queue:
            raise Busy
        if self.budget is not None and self.budget.hit("public", cost) > 0:
            raise Busy
        self._waiting += 1
        try:
            await semaphore.acquire()
        finally:
            self._waiting -= 1
        loop = asyncio.get_running_loop()

        def release(_: object) -> None:
            with contextlib.suppress(RuntimeError):  # the loop is closed: nobody waits
                loop.call_soon_threadsafe(semaphore.release)

        call = functools.partial(contextvars.copy_context().run, fn, *args, **kwargs)
        try:
            future = self.executor.submit(call)
        except BaseException:
            semaphore.release()
            raise
        future.add_done_callback(release)
        return await asyncio.wrap_future(future)

    def close(self) -> None:
        """Stop the gate's threads (a search still running finishes first)."""
        with self._executor_lock:
            executor, self._executor = self._executor, None
        if executor is not None:
            executor.shutdown(wait=False, cancel_futures=True)


PUBLIC_THREAD_NICE = 10
"""How much lower the public search threads run than the rest (Linux ``nice``): when the cores
are contended, the kernel gives a staff search about nine times their share."""


def background_thread() -> None:
    """Make the calling thread a public-search one: background queries, a lower priority."""
    set_background_thread()
    try:
        # On Linux the nice value is per thread; elsewhere this may lower the whole process or
        # fail, so it is done only where it is known to be per thread.
        if sys.platform.startswith("linux"):
            os.setpriority(os.PRIO_PROCESS, threading.get_native_id(), PUBLIC_THREAD_NICE)
    except OSError:
        log.debug("could not lower the public search thread's priority", exc_info=True)
