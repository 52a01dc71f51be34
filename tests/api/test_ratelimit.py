"""Per-client token buckets: a fake clock, no sleeping."""

from __future__ import annotations

import pytest

from kb.api.ratelimit import RateLimiter
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
    client = make_client(public_rate_per_minute=30, public_rate_burst=2)
    clock = FakeClock()
    client.app.state.rate_limiter = RateLimiter(30, 2, clock=clock)  # type: ignore[attr-defined]
    for _ in range(2):
        assert client.get("/public/v1/faq/suggest", params={"q": "住民"}).status_code == 200
    r = client.get("/public/v1/faq/search", params={"q": "住民票"})
    assert r.status_code == 429
    assert r.headers["Retry-After"] == "2"  # 30/min: a token every 2 s
    assert "detail" in r.json()
    # The staff API and the pages are not limited.
    assert client.get("/api/v1/search", params={"q": "住民票"}).status_code == 200
    clock.now += 2
    assert client.get("/public/v1/faq/suggest", params={"q": "住民"}).status_code == 200


def test_limiter_rejects_nonsense_settings() -> None:
    with pytest.raises(ValueError, match="per_minute"):
        RateLimiter(0, 1)
