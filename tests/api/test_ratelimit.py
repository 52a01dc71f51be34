"""The public CPU budget: token buckets priced by cost (a fake clock) and the search gate."""

from __future__ import annotations

import asyncio
import os
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import pytest
from fastapi.testclient import TestClient

from kb.api.access import FAILED_KEYS_BURST
from kb.api.ratelimit import (
    OTHER_COST,
    PUBLIC_THREAD_NICE,
    Busy,
    RateLimiter,
    SearchGate,
    search_cost,
)
from kb.api.routes.public import PUBLIC_FILTERS
from kb.embed import onnx_backend
from kb.search.searcher import Searcher
from tests.api.conftest import MakeClient


class FakeClock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def test_burst_then_sustained_rate() -> None:
    clock = FakeClock()
    limiter = RateLimiter(per_minute=60, burst=3, clock=clock)
    assert [limiter.hit("a") for _ in range(3)] == [0.0, 0.0, 0.0]
    wait = limiter.hit("a")
    assert wait == pytest.approx(1.0)  # one token a second
    clock.now += 0.5
    assert limiter.hit("a") == pytest.approx(0.5)
    clock.now += 0.5
    assert limiter.hit("a") == 0.0
    assert limiter.hit("a") > 0


def test_clients_have_separate_buckets() -> None:
    clock = FakeClock()
    limiter = RateLimiter(per_minute=6, burst=1, clock=clock)
    assert limiter.hit("10.0.0.1") == 0.0
    assert limiter.hit("10.0.0.1") == pytest.approx(10.0)
    assert limiter.hit("10.0.0.2") == 0.0


def test_bucket_never_exceeds_burst_after_idling() -> None:
    clock = FakeClock()
    limiter = RateLimiter(per_minute=60, burst=2, clock=clock)
    limiter.hit("a")
    clock.now += 3600
    assert [limiter.hit("a") == 0.0 for _ in range(3)] == [True, True, False]


def test_idle_buckets_are_evicted_when_full() -> None:
    clock = FakeClock()
    limiter = RateLimiter(per_minute=60, burst=1, clock=clock, max_clients=2)
    limiter.hit("a")
    limiter.hit("b")
    clock.now += 10  # both refilled: droppable
    assert limiter.hit("c") == 0.0
    assert len(limiter._buckets) == 1


@pytest.mark.parametrize(("wait", "header"), [(0.01, "1"), (1.0, "1"), (1.2, "2"), (59.5, "60")])
def test_retry_after_is_whole_seconds(wait: float, header: str) -> None:
    assert RateLimiter.retry_after(wait) == header


def test_public_api_answers_429_with_retry_after(make_client: MakeClient) -> None:
    client = make_client(public_rate_per_minute=30, public_rate_burst=2, reject_delay=0)
    clock = FakeClock()
    client.app.state.rate_limiter = RateLimiter(30, 2, clock=clock)  # type: ignore[attr-defined]
    # A suggestion costs a quarter token: the burst of 2 tokens is 8 of them.
    for _ in range(8):
        assert client.get("/public/v1/faq/suggest", params={"q": "住民"}).status_code == 200
    r = client.get("/public/v1/faq/suggest", params={"q": "住民"})
    assert r.status_code == 429
    assert r.headers["Retry-After"] == "1"  # 30/min: a quarter token every 0.5 s
    r = client.get("/public/v1/faq/search", params={"q": "住民票"})
    assert r.status_code == 429
    assert r.headers["Retry-After"] == "3"  # 1 + 3/40 tokens at half a token a second
    assert "detail" in r.json()
    # The staff API and the pages are not limited.
    assert client.get("/api/v1/search", params={"q": "住民票"}).status_code == 200
    clock.now += 3
    assert client.get("/public/v1/faq/search", params={"q": "住民票"}).status_code == 200
    assert client.get("/public/v1/faq/search", params={"q": "住民票"}).status_code == 429


def test_limiter_rejects_nonsense_settings() -> None:
    with pytest.raises(ValueError, match="per_minute"):
        RateLimiter(0, 1)


def test_a_request_takes_its_cost_and_waits_for_all_of_it() -> None:
    clock = FakeClock()
    limiter = RateLimiter(per_minute=60, burst=10, clock=clock)
    assert limiter.hit("a", 6.0) == 0.0
    assert limiter.hit("a", 6.0) == pytest.approx(2.0)  # 4 left, 2 more at one a second
    assert limiter.hit("a", 0.25) == 0.0
    clock.now += 2.25
    assert limiter.hit("a", 6.0) == 0.0
    # A price above the bucket is capped at the bucket: it waits, but can pass.
    clock.now += 3600
    assert limiter.hit("b", 50.0) == 0.0
    assert limiter.hit("b", 50.0) == pytest.approx(10.0)


def test_search_cost_grows_with_the_query_and_suggest_is_cheap() -> None:
    assert search_cost(10) == pytest.approx(1.25)
    assert search_cost(200) == pytest.approx(6.0)
    assert search_cost(200) > 4 * search_cost(10)
    assert search_cost(1) / 4 > OTHER_COST


def test_public_searches_are_charged_by_length(make_client: MakeClient) -> None:
    # The finding: 30 public 500-character queries from one address within the burst kept both
    # cores busy for 12 s. Now a long query is cut to 200 characters and costs 6 tokens.
    client = make_client(public_rate_burst=30, public_rate_per_minute=0.01, reject_delay=0)
    sentence = "引っ越しに伴って必要な住民票や国民健康保険の手続きについて教えてください。"
    long_query = sentence * (500 // len(sentence))
    statuses = [
        client.get("/public/v1/faq/search", params={"q": long_query}).status_code for _ in range(30)
    ]
    assert statuses == [200] * 5 + [429] * 25
    short = make_client(public_rate_burst=30, public_rate_per_minute=0.01, reject_delay=0)
    question = "粗大ごみの出し方は？"
    statuses = [
        short.get("/public/v1/faq/search", params={"q": question}).status_code for _ in range(30)
    ]
    assert statuses == [200] * 24 + [429] * 6  # 10 characters: 1.25 tokens each


def test_retry_after_waits_for_the_whole_price(make_client: MakeClient) -> None:
    client = make_client(public_rate_burst=6, public_rate_per_minute=1, reject_delay=0)
    q = {"q": "あ" * 200}
    assert client.get("/public/v1/faq/search", params=q).status_code == 200
    r = client.get("/public/v1/faq/search", params=q)
    assert r.status_code == 429
    assert 355 <= int(r.headers["Retry-After"]) <= 360  # 6 tokens at one a minute


class _Recorder:
    """Counts public and staff searches in flight (the searcher is slowed down to overlap)."""

    def __init__(self, delay: float = 0.05) -> None:
        self.delay = delay
        self.lock = threading.Lock()
        self.now = {"public": 0, "staff": 0}
        self.most = {"public": 0, "staff": 0}
        self.overlap = 0
        """Staff searches that started while a public one was running."""

    def wrap(self, search: Any) -> Any:
        def slow(searcher: Any, query: str, **kwargs: Any) -> Any:
            kind = "public" if kwargs.get("filters") == PUBLIC_FILTERS else "staff"
            with self.lock:
                self.now[kind] += 1
                self.most[kind] = max(self.most[kind], self.now[kind])
                if kind == "staff" and self.now["public"]:
                    self.overlap += 1
            try:
                time.sleep(self.delay)
                return search(searcher, query, **kwargs)
            finally:
                with self.lock:
                    self.now[kind] -= 1

        return slow


def test_public_searches_take_turns_and_staff_searches_do_not_wait_for_them(
    make_client: MakeClient, monkeypatch: pytest.MonkeyPatch
) -> None:
    client = make_client(public_rate_burst=10_000, public_search_queue=100)
    recorder = _Recorder()
    monkeypatch.setattr(Searcher, "search", recorder.wrap(Searcher.search))

    def public(i: int) -> int:
        return client.get("/public/v1/faq/search", params={"q": f"住民票 {i}"}).status_code

    def staff(i: int) -> int:
        time.sleep(0.02)
        return client.get("/api/v1/search", params={"q": f"児童手当 {i}"}).status_code

    with ThreadPoolExecutor(8) as pool:
        publics = [pool.submit(public, i) for i in range(6)]
        staffs = [pool.submit(staff, i) for i in range(3)]
        statuses = [f.result() for f in publics + staffs]
    assert statuses == [200] * 9
    assert recorder.most["public"] == 1
    assert recorder.overlap >= 1


def test_public_searches_beyond_the_queue_get_503(
    make_client: MakeClient, monkeypatch: pytest.MonkeyPatch
) -> None:
    client = make_client(
        public_rate_burst=10_000, public_search_concurrency=1, public_search_queue=1, reject_delay=0
    )
    recorder = _Recorder(delay=0.3)
    monkeypatch.setattr(Searcher, "search", recorder.wrap(Searcher.search))
    with ThreadPoolExecutor(6) as pool:
        futures = [
            pool.submit(client.get, "/public/v1/faq/search", params={"q": "住民票"})
            for _ in range(6)
        ]
        answers = [f.result() for f in futures]
    statuses = sorted(r.status_code for r in answers)
    assert 200 in statuses
    assert 503 in statuses
    assert set(statuses) == {200, 503}
    busy = next(r for r in answers if r.status_code == 503)
    assert busy.headers["Retry-After"] == "1"
    assert "retry" in busy.json()["detail"]
    assert recorder.most["public"] == 1


def test_gate_runs_one_at_a_time_and_refuses_beyond_its_queue() -> None:
    gate = SearchGate(concurrency=1, queue=2)
    release = threading.Event()
    lock = threading.Lock()
    running = [0, 0]  # now, most

    def work(n: int) -> int:
        with lock:
            running[0] += 1
            running[1] = max(running)
        release.wait(5)
        with lock:
            running[0] -= 1
        return n

    async def scenario() -> tuple[list[int], int]:
        tasks = [asyncio.create_task(gate.run(work, n)) for n in (1, 2, 3)]
        await asyncio.sleep(0.05)
        assert gate.waiting == 2
        with pytest.raises(Busy):
            await gate.run(work, 4)
        release.set()
        return list(await asyncio.gather(*tasks)), gate.waiting

    assert asyncio.run(scenario()) == ([1, 2, 3], 0)
    assert running[1] == 1
    gate.close()


def test_a_caller_that_goes_away_keeps_its_turn_until_the_work_ends() -> None:
    gate = SearchGate(concurrency=1, queue=5)
    events: list[str] = []
    started, release = threading.Event(), threading.Event()

    def slow() -> None:
        events.append("slow start")
        started.set()
        release.wait(5)
        events.append("slow end")

    def quick() -> None:
        events.append("quick")

    async def scenario() -> list[str]:
        first = asyncio.create_task(gate.run(slow))
        assert await asyncio.to_thread(started.wait, 5)
        first.cancel()  # the client hung up; its search still runs
        second = asyncio.create_task(gate.run(quick))
        await asyncio.sleep(0.05)
        assert events == ["slow start"]
        release.set()
        await second
        return events

    assert asyncio.run(scenario()) == ["slow start", "slow end", "quick"]
    gate.close()


def test_public_searches_run_on_background_threads_of_lower_priority() -> None:
    gate = SearchGate(concurrency=1, queue=1)

    def where() -> tuple[str, int, bool]:
        nice = os.getpriority(os.PRIO_PROCESS, threading.get_native_id())
        return threading.current_thread().name, nice, onnx_backend._is_background()

    name, nice, background = asyncio.run(gate.run(where))
    gate.close()
    assert name.startswith("kb-public")
    assert background
    assert nice == min(19, os.getpriority(os.PRIO_PROCESS, 0) + PUBLIC_THREAD_NICE)
    assert not onnx_backend._is_background()  # this thread is not one of them


def test_gate_rejects_nonsense_settings() -> None:
    with pytest.raises(ValueError, match="concurrency"):
        SearchGate(0, 1)


def test_a_refused_request_is_held_but_never_longer_than_its_wait(make_client: MakeClient) -> None:
    client = make_client(reject_delay=1.5)
    clock = FakeClock()
    client.app.state.rate_limiter = RateLimiter(60, 6, clock=clock)  # type: ignore[attr-defined]
    suggest = {"q": "住民"}
    for _ in range(24):  # 6 tokens, a quarter each
        assert client.get("/public/v1/faq/suggest", params=suggest).status_code == 200
    t = time.perf_counter()
    r = client.get("/public/v1/faq/suggest", params=suggest)
    held = time.perf_counter() - t
    assert r.status_code == 429
    assert 0.25 <= held < 1.5  # a quarter token at one a second: 0.25 s, all of it held
    assert r.headers["Retry-After"] == "1"
    t = time.perf_counter()
    r = client.get("/public/v1/faq/search", params={"q": "あ" * 200})  # 6 tokens: 6 s
    held = time.perf_counter() - t
    assert r.status_code == 429
    assert 1.5 <= held < 5.0  # held for reject_delay only
    assert r.headers["Retry-After"] == "5"  # 4.5 s still to wait after the hold


def test_the_invalid_key_lockout_holds_its_429_too(make_client: MakeClient) -> None:
    client = make_client(role=None, reject_delay=0.3)
    bad = {"Authorization": "Bearer kb_0badc0de_" + "A" * 43}
    for _ in range(FAILED_KEYS_BURST):
        assert client.get("/api/v1/departments", headers=bad).status_code == 401
    t = time.perf_counter()
    r = client.get("/api/v1/departments", headers=bad)
    assert r.status_code == 429
    assert time.perf_counter() - t >= 0.3


def test_the_shared_budget_turns_away_a_crowd_of_addresses() -> None:
    clock = FakeClock()
    gate = SearchGate(1, 8, budget_per_minute=60, clock=clock)  # 1 token/s, 10 at once

    async def scenario() -> list[str]:
        out = []
        for _ in range(3):
            try:
                out.append(await gate.run(str, "ok", cost=4))
            except Busy:
                out.append("busy")
        clock.now += 2
        out.append(await gate.run(str, "ok", cost=4))
        return out

    assert asyncio.run(scenario()) == ["ok", "ok", "busy", "ok"]
    gate.close()


def test_public_searches_from_many_addresses_share_one_budget(make_client: MakeClient) -> None:
    app_client = make_client(public_search_budget_per_minute=60, reject_delay=0)  # 10 at once
    statuses = []
    for i in range(10):
        client = TestClient(app_client.app, client=(f"203.0.113.{i}", 40000))
        statuses.append(
            client.get("/public/v1/faq/search", params={"q": "粗大ごみの出し方は？"}).status_code
        )
    assert statuses == [200] * 8 + [503] * 2  # 1.25 tokens each of the 10
    # Suggestions never embed: they do not draw on the search budget.
    assert client.get("/public/v1/faq/suggest", params={"q": "粗大"}).status_code == 200
