"""The client-side token bucket: paced by its config, corrected by what the server says."""

import asyncio
import time
from typing import Any

import pytest
from http_helpers import FakeTime

from shelfops_pipeline.http.limiter import LimiterConfig, LimiterRegistry, LimitKey, TokenBucket

pytestmark = pytest.mark.anyio


@pytest.fixture
def anyio_backend() -> str:
    return "asyncio"


def bucket(time: FakeTime, **config: Any) -> TokenBucket:
    return TokenBucket(LimiterConfig(**config), clock=time.clock, sleep=time.sleep)


async def test_a_full_bucket_allows_its_burst_then_paces_at_the_rate() -> None:
    fake = FakeTime()
    limiter = bucket(fake, rate_per_second=10, capacity=3, adaptive=False)
    waits = [await limiter.acquire() for _ in range(13)]
    assert waits[:3] == [0, 0, 0]
    assert waits[3:] == pytest.approx([0.1] * 10)
    assert fake.now - 1000.0 == pytest.approx(1.0)


async def test_a_cost_above_the_capacity_waits_for_a_full_bucket_and_goes_into_debt() -> None:
    fake = FakeTime()
    limiter = bucket(fake, rate_per_second=100, capacity=1000, adaptive=False)
    assert await limiter.acquire(cost=600) == 0
    assert await limiter.acquire(cost=1500) == pytest.approx(6.0)
    assert await limiter.acquire(cost=100) == pytest.approx(6.0)


async def test_a_429_with_retry_after_pauses_the_bucket_without_slowing_a_known_rate() -> None:
    fake = FakeTime()
    limiter = bucket(fake, rate_per_second=5, capacity=5, adaptive=False)
    limiter.throttled(retry_after=2.5)
    assert await limiter.acquire() == pytest.approx(2.5)
    assert limiter.rate == 5


async def test_without_a_published_rate_429s_slow_the_bucket_and_successes_recover_it() -> None:
    fake = FakeTime()
    limiter = bucket(fake, rate_per_second=8, capacity=4, recovery_per_success=0.25)
    limiter.throttled(retry_after=None)
    assert limiter.rate == 4
    limiter.throttled(retry_after=None)
    assert limiter.rate == 4, "429s within one bucket period count as one slowdown"
    fake.now += 1.0
    limiter.throttled(retry_after=None)
    assert limiter.rate == 2
    rates = []
    for _ in range(5):
        limiter.succeeded()
        rates.append(limiter.rate)
    assert rates == [4, 6, 8, 8, 8]


async def test_the_rate_never_drops_below_the_configured_floor() -> None:
    fake = FakeTime()
    limiter = bucket(fake, rate_per_second=1, capacity=1, min_rate_per_second=0.4)
    for _ in range(5):
        limiter.throttled(retry_after=None)
        fake.now += 10
    assert limiter.rate == 0.4


async def test_observe_adopts_the_servers_bucket_and_restore_rate() -> None:
    fake = FakeTime()
    limiter = bucket(fake, rate_per_second=10, capacity=10, adaptive=False)
    # Shopify REST: "X-Shopify-Shop-Api-Call-Limit: 32/40" at a leak of 2/s.
    limiter.observe(available=40 - 32, capacity=40, restore_rate=2)
    assert (limiter.capacity, limiter.rate, limiter.available) == (40, 2, 8)
    assert await limiter.acquire(cost=10) == pytest.approx(1.0)
    # GraphQL throttleStatus: maximumAvailable 2000, currentlyAvailable 1988, restoreRate 100.
    limiter.observe(available=1988, capacity=2000, restore_rate=100)
    assert await limiter.acquire(cost=2000) == pytest.approx(0.12)


async def test_a_throttled_bucket_stops_concurrent_callers_too() -> None:
    limiter = TokenBucket(LimiterConfig(rate_per_second=200, capacity=1, adaptive=False))
    stamps: list[float] = []

    async def caller() -> None:
        for _ in range(3):
            await limiter.acquire()
            stamps.append(time.monotonic())

    await limiter.acquire()
    limiter.throttled(retry_after=0.3)
    started = time.monotonic()
    await asyncio.gather(caller(), caller())
    assert len(stamps) == 6 and min(stamps) - started >= 0.29


def test_the_registry_shares_one_bucket_per_source_account_and_budget() -> None:
    registry = LimiterRegistry()
    key = LimitKey("shopify", "shop-a", "graphql_points")
    first = registry.bucket(key, LimiterConfig(rate_per_second=100, capacity=2000))
    assert registry.bucket(LimitKey("shopify", "shop-a", "graphql_points")) is first
    assert first.capacity == 2000
    assert registry.bucket(LimitKey("shopify", "shop-b", "graphql_points")) is not first
    assert registry.bucket(LimitKey("shopify", "shop-a", "rest_calls")) is not first


@pytest.mark.parametrize(
    "config",
    [
        {"rate_per_second": 0},
        {"capacity": -1},
        {"min_rate_per_second": 20},
        {"slowdown_factor": 1.0},
        {"recovery_per_success": -0.1},
    ],
)
def test_nonsense_limits_are_refused_with_the_reason(config: dict[str, float]) -> None:
    with pytest.raises(ValueError, match="must"):
        LimiterConfig(**config)
