"""The retry policy: what is retried, how long it waits, and when it gives up."""

import logging
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime
from typing import Any

import pytest
from http_helpers import FakeTime

from shelfops_pipeline.http.errors import (
    ApiError,
    AuthRejected,
    BadRequest,
    CircuitOpen,
    NotFound,
    PayloadInvalid,
    RateLimited,
    UpstreamUnavailable,
)
from shelfops_pipeline.http.retry import (
    RetryConfig,
    RetryPolicy,
    parse_retry_after,
    retry_after_from_headers,
)
from shelfops_pipeline.http.stats import CallStats

pytestmark = pytest.mark.anyio

CALL = {"source": "square", "account": "M1", "method": "GET", "path": "/v2/locations"}


@pytest.fixture
def anyio_backend() -> str:
    return "asyncio"


def failure(error_class: type[ApiError], status: int | None, **extra: float) -> ApiError:
    return error_class(**CALL, status=status, detail="simulated", **extra)


def failing(errors: list[ApiError], result: str = "ok") -> Callable[[int], Awaitable[str]]:
    """An attempt function raising `errors` in turn, then returning `result`."""

    async def attempt(number: int) -> str:
        if number <= len(errors):
            raise errors[number - 1]
        return result

    return attempt


def policy(fake: FakeTime, **config: Any) -> RetryPolicy:
    return RetryPolicy(RetryConfig(**config), clock=fake.clock, sleep=fake.sleep)


async def test_transient_failures_are_retried_with_full_jitter_back_off() -> None:
    fake = FakeTime()
    stats = CallStats()
    errors = [
        failure(UpstreamUnavailable, 503),
        failure(UpstreamUnavailable, None),
        failure(PayloadInvalid, 200),
        failure(RateLimited, 429),
    ]
    retry = policy(fake, max_attempts=5, initial_backoff_seconds=1, max_backoff_seconds=3)
    assert await retry.run(failing(errors), label="t", stats=stats) == "ok"
    assert len(fake.sleeps) == 4
    for number, slept in enumerate(fake.sleeps, start=1):
        assert 0 <= slept <= min(3, 2 ** (number - 1))
    assert stats.retries == 4
    assert stats.backoff_wait_seconds == pytest.approx(sum(fake.sleeps))


async def test_the_attempt_cap_ends_the_retries_and_the_error_says_how_many() -> None:
    fake = FakeTime()
    retry = policy(fake, max_attempts=3, initial_backoff_seconds=0.1)
    with pytest.raises(UpstreamUnavailable) as raised:
        await retry.run(
            failing([failure(UpstreamUnavailable, 502)] * 9), label="t", stats=CallStats()
        )
    assert raised.value.attempts == 3
    assert "after 3 attempts" in str(raised.value)
    assert "square call for account M1" in str(raised.value)
    assert "Next step:" in str(raised.value)


async def test_the_time_cap_ends_the_retries_even_with_attempts_left() -> None:
    fake = FakeTime()
    retry = policy(fake, max_attempts=100, max_elapsed_seconds=25, initial_backoff_seconds=0.01)

    async def times_out(number: int) -> str:
        fake.now += 10.0
        raise failure(UpstreamUnavailable, None)

    with pytest.raises(UpstreamUnavailable) as raised:
        await retry.run(times_out, label="t", stats=CallStats())
    assert raised.value.attempts == 3
    assert fake.now - 1000.0 <= 31.0


async def test_a_servers_retry_after_is_waited_exactly() -> None:
    fake = FakeTime()
    errors = [
        failure(RateLimited, 429, retry_after=2.5),
        failure(UpstreamUnavailable, 503, retry_after=0.25),
    ]
    await policy(fake).run(failing(errors), label="t", stats=CallStats())
    assert fake.sleeps == [2.5, 0.25]


async def test_a_retry_after_beyond_the_time_budget_gives_up_at_once() -> None:
    fake = FakeTime()
    errors = [failure(UpstreamUnavailable, 503, retry_after=3600)]
    with pytest.raises(UpstreamUnavailable) as raised:
        await policy(fake, max_elapsed_seconds=120).run(
            failing(errors), label="t", stats=CallStats()
        )
    assert raised.value.attempts == 1 and fake.sleeps == []


@pytest.mark.parametrize(
    ("error_class", "status"),
    [
        (BadRequest, 400),
        (BadRequest, 422),
        (AuthRejected, 403),
        (NotFound, 404),
    ],
)
async def test_requests_that_cannot_succeed_are_never_retried(
    error_class: type[ApiError], status: int
) -> None:
    fake = FakeTime()
    calls: list[int] = []

    async def attempt(number: int) -> str:
        calls.append(number)
        raise failure(error_class, status)

    with pytest.raises(error_class):
        await policy(fake).run(attempt, label="t", stats=CallStats())
    assert calls == [1] and fake.sleeps == []


async def test_an_open_circuit_is_not_retried() -> None:
    fake = FakeTime()
    open_circuit = CircuitOpen(
        **CALL, status=None, detail="x", last_failure="y", half_open_in_seconds=3
    )
    with pytest.raises(CircuitOpen):
        await policy(fake).run(failing([open_circuit]), label="t", stats=CallStats())
    assert fake.sleeps == []


async def test_a_401_refreshes_the_token_once_and_retries_at_once() -> None:
    fake = FakeTime()
    refreshes: list[int] = []
    seen: list[str] = []
    token = {"value": "old"}

    async def refresh() -> None:
        refreshes.append(1)
        token["value"] = "new"

    async def attempt(number: int) -> str:
        seen.append(token["value"])
        if token["value"] == "old":
            raise failure(AuthRejected, 401)
        return "ok"

    assert (
        await policy(fake).run(attempt, label="t", stats=CallStats(), refresh_auth=refresh) == "ok"
    )
    assert refreshes == [1] and seen == ["old", "new"] and fake.sleeps == [0.0]


async def test_a_401_after_the_refresh_is_final_and_says_so() -> None:
    fake = FakeTime()
    refreshes: list[int] = []

    async def refresh() -> None:
        refreshes.append(1)

    with pytest.raises(AuthRejected) as raised:
        await policy(fake).run(
            failing([failure(AuthRejected, 401)] * 5),
            label="t",
            stats=CallStats(),
            refresh_auth=refresh,
        )
    assert refreshes == [1] and raised.value.attempts == 2
    assert "after refreshing the token" in str(raised.value)
    assert "shelfops connect" in str(raised.value)


async def test_a_401_without_a_way_to_refresh_is_final() -> None:
    fake = FakeTime()
    with pytest.raises(AuthRejected) as raised:
        await policy(fake).run(failing([failure(AuthRejected, 401)]), label="t", stats=CallStats())
    assert raised.value.attempts == 1


async def test_each_retry_is_logged_at_warning_with_what_why_and_how_long(
    caplog: pytest.LogCaptureFixture,
) -> None:
    fake = FakeTime()
    errors = [failure(UpstreamUnavailable, 503), failure(RateLimited, 429, retry_after=1.5)]
    with caplog.at_level(logging.WARNING, logger="shelfops_pipeline.http.retry"):
        await policy(fake).run(failing(errors), label="square GET /v2/locations", stats=CallStats())
    lines = [r.getMessage() for r in caplog.records if r.levelno == logging.WARNING]
    assert len(lines) == 2
    assert lines[0].startswith("square GET /v2/locations: attempt 1 of 6 failed")
    assert "HTTP 503" in lines[0]
    assert "HTTP 429" in lines[1] and "retrying in 1.50 s" in lines[1]


@pytest.mark.parametrize(
    ("value", "seconds"),
    [
        ("3", 3.0),
        ("0.25", 0.25),
        (" 7 ", 7.0),
        ("-4", 0.0),
        ("Thu, 05 Nov 2026 18:30:30 GMT", 30.0),
        ("Thu, 05 Nov 2026 18:29:00 GMT", 0.0),
        ("soon", None),
        ("nan", None),
        ("", None),
        (None, None),
    ],
)
def test_retry_after_reads_seconds_and_http_dates(value: str | None, seconds: float | None) -> None:
    now = datetime(2026, 11, 5, 18, 30, tzinfo=UTC)
    assert parse_retry_after(value, now) == seconds


def test_retry_after_ms_wins_over_retry_after() -> None:
    assert retry_after_from_headers({"retry-after-ms": "1500", "retry-after": "9"}) == 1.5
    assert retry_after_from_headers({"retry-after": "9"}) == 9.0
    assert retry_after_from_headers({}) is None


@pytest.mark.parametrize(
    "config",
    [{"max_attempts": 0}, {"max_elapsed_seconds": 0}, {"initial_backoff_seconds": 90}],
)
def test_nonsense_retry_budgets_are_refused(config: dict[str, Any]) -> None:
    with pytest.raises(ValueError, match="must"):
        RetryConfig(**config)
