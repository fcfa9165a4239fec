"""The circuit breaker: opens on repeated failures, fails fast, half-opens, and is per account."""

from typing import Any

import pytest
from http_helpers import FakeTime

from shelfops_pipeline.http.breaker import (
    BreakerConfig,
    BreakerRegistry,
    CircuitBreaker,
    CircuitState,
)
from shelfops_pipeline.http.errors import CircuitOpen, UpstreamUnavailable

OUTAGE = UpstreamUnavailable(
    source="square",
    account="M1",
    method="POST",
    path="/v2/orders/search",
    status=503,
    detail="SERVICE_UNAVAILABLE: The service is temporarily unavailable",
)


def tripped(fake: FakeTime, threshold: int = 3, cool_down: float = 30.0) -> CircuitBreaker:
    breaker = CircuitBreaker("square", "M1", BreakerConfig(threshold, cool_down), clock=fake.clock)
    for _ in range(threshold):
        breaker.admit("POST", "/v2/orders/search")
        breaker.record_failure(OUTAGE)
    return breaker


def test_consecutive_failures_open_the_circuit_and_calls_fail_fast() -> None:
    fake = FakeTime()
    breaker = CircuitBreaker("square", "M1", BreakerConfig(3, 30.0), clock=fake.clock)
    for _ in range(2):
        breaker.record_failure(OUTAGE)
    breaker.record_success()
    for _ in range(2):
        breaker.record_failure(OUTAGE)
    assert breaker.state is CircuitState.CLOSED, "a success resets the count"
    breaker.record_failure(OUTAGE)
    assert breaker.state is CircuitState.OPEN
    fake.now += 12.5
    with pytest.raises(CircuitOpen) as raised:
        breaker.admit("GET", "/v2/locations")
    message = str(raised.value)
    assert "square" in message and "account M1" in message
    assert "POST /v2/orders/search -> HTTP 503" in message
    assert "half-opens in 17.5 s" in message
    assert raised.value.half_open_in_seconds == pytest.approx(17.5)


def test_after_the_cool_down_one_trial_call_goes_through_and_success_closes() -> None:
    fake = FakeTime()
    breaker = tripped(fake)
    fake.now += 30.0
    assert breaker.state is CircuitState.HALF_OPEN
    breaker.admit("GET", "/v2/locations")
    with pytest.raises(CircuitOpen, match="trial call"):
        breaker.admit("GET", "/v2/locations")
    breaker.record_success()
    assert breaker.state is CircuitState.CLOSED
    breaker.admit("GET", "/v2/locations")


def test_a_failed_trial_reopens_for_a_fresh_cool_down() -> None:
    fake = FakeTime()
    breaker = tripped(fake)
    fake.now += 31.0
    breaker.admit("GET", "/v2/locations")
    breaker.record_failure(OUTAGE)
    assert breaker.state is CircuitState.OPEN
    fake.now += 29.0
    with pytest.raises(CircuitOpen):
        breaker.admit("GET", "/v2/locations")


def test_an_abandoned_trial_lets_the_next_call_try() -> None:
    fake = FakeTime()
    breaker = tripped(fake)
    fake.now += 30.0
    breaker.admit("GET", "/v2/locations")
    breaker.release()
    breaker.admit("GET", "/v2/locations")


def test_breakers_are_kept_per_source_and_account() -> None:
    fake = FakeTime()
    registry = BreakerRegistry(clock=fake.clock)
    down = registry.breaker("square", "M1", BreakerConfig(failure_threshold=1))
    down.record_failure(OUTAGE)
    assert registry.breaker("square", "M1") is down
    assert down.state is CircuitState.OPEN
    registry.breaker("square", "M2").admit("GET", "/v2/locations")
    registry.breaker("shopify", "M1").admit("GET", "/admin/api/2026-04/shop.json")


@pytest.mark.parametrize("config", [{"failure_threshold": 0}, {"cool_down_seconds": 0}])
def test_nonsense_breaker_settings_are_refused(config: dict[str, Any]) -> None:
    with pytest.raises(ValueError, match="must"):
        BreakerConfig(**config)
