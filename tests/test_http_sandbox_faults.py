"""The shared HTTP layer against the Square sandbox over loopback, with faults injected.

A pull of one merchant (locations, catalog list and search, every order, paged small so it takes
many calls) must return exactly what a fault-free pull returns, however the sandbox misbehaves:
server errors, 429 bursts, slow replies, dropped connections, cut-short bodies and a request
budget. Retries and throttling must show in the client's counters.
"""

import asyncio
import time
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import httpx
import pytest
from conftest import FROZEN_NOW, SEED, Running
from http_helpers import pull_square, sandbox_client

from shelfops_pipeline.http.breaker import BreakerConfig, CircuitBreaker
from shelfops_pipeline.http.client import ApiClient, Timeouts
from shelfops_pipeline.http.limiter import LimiterConfig, TokenBucket
from shelfops_pipeline.http.retry import RetryConfig
from shelfops_pipeline.sandbox.faults import FaultConfig
from shelfops_pipeline.sandbox.faults.config import RANDOM_KINDS
from shelfops_pipeline.sandbox.runner import serve_in_thread
from shelfops_pipeline.sandbox.server import build_sandbox
from shelfops_pipeline.sandbox.settings import SandboxSettings

# 10% of each of the seven kinds fails 70% of requests, so this budget is far above the default.
PATIENT = RetryConfig(max_attempts=25, initial_backoff_seconds=0.01, max_backoff_seconds=0.1)
# Read timeout that only a slow fault exceeds: on a loaded 2-core machine a normal loopback reply
# took over 0.3 s once, which counted as one more timeout than the sandbox injected.
SLOW_ENOUGH_TO_BE_A_FAULT = 0.8


@contextmanager
def faulty_sandbox(faults: FaultConfig) -> Iterator[tuple[str, str, str]]:
    """Serve a small world with `faults`; yields (base URL, first merchant, its token)."""
    sandbox = build_sandbox(
        SandboxSettings(seed=SEED, scale="small", frozen_at=FROZEN_NOW, faults=faults)
    )
    merchant = sandbox.world.square_merchants[0]
    with serve_in_thread(sandbox.app) as base_url:
        yield base_url, merchant, sandbox.tokens.personal_tokens()[merchant]


def pull(client: ApiClient) -> dict[str, list[Any]]:
    async def run() -> dict[str, list[Any]]:
        async with client:
            return await pull_square(client)

    return asyncio.run(run())


def fault_counts(base_url: str) -> dict[str, int]:
    return httpx.get(f"{base_url}/_sandbox/faults").json()["counts"]


@pytest.fixture(scope="module")
def clean_pull(small_sandbox: Running) -> dict[str, list[Any]]:
    merchant = small_sandbox.sandbox.world.square_merchants[0]
    token = small_sandbox.sandbox.tokens.personal_tokens()[merchant]
    client = sandbox_client(small_sandbox.base_url, token, merchant)
    result = pull(client)
    assert client.stats.retries == 0 and len(result["orders"]) > 100
    return result


def test_a_pull_through_every_kind_of_fault_returns_the_clean_pull(
    clean_pull: dict[str, list[Any]],
) -> None:
    rate = 0.1
    faults = FaultConfig(**{kind.value: rate for kind in RANDOM_KINDS}, slow_seconds=20)
    with faulty_sandbox(faults) as (base_url, merchant, token):
        client = sandbox_client(
            base_url,
            token,
            merchant,
            retry=PATIENT,
            breaker=CircuitBreaker("square", merchant, BreakerConfig(failure_threshold=25)),
            timeouts=Timeouts(read=SLOW_ENOUGH_TO_BE_A_FAULT),
        )
        result = pull(client)
        counts = fault_counts(base_url)
    assert result == clean_pull
    assert all(counts[kind.value] > 0 for kind in RANDOM_KINDS), counts
    stats = client.stats
    assert stats.retries == sum(counts.values())
    assert stats.throttled == counts["burst_429"]
    assert stats.errors["payload_invalid"] == counts["truncate"]
    assert stats.errors["upstream_unavailable"] == sum(
        counts[k] for k in ("error_500", "error_502", "error_503", "slow", "drop")
    )
    assert stats.pages == stats.calls - 1


def test_slow_replies_trip_the_read_timeout_and_are_retried(
    clean_pull: dict[str, list[Any]], caplog: pytest.LogCaptureFixture
) -> None:
    with faulty_sandbox(FaultConfig(slow=0.25, slow_seconds=30)) as (base_url, merchant, token):
        client = sandbox_client(
            base_url,
            token,
            merchant,
            retry=PATIENT,
            timeouts=Timeouts(read=SLOW_ENOUGH_TO_BE_A_FAULT),
        )
        started = time.monotonic()
        result = pull(client)
        elapsed = time.monotonic() - started
        counts = fault_counts(base_url)
    assert result == clean_pull
    assert counts["slow"] > 0 and client.stats.errors["upstream_unavailable"] == counts["slow"]
    assert elapsed < counts["slow"] * SLOW_ENOUGH_TO_BE_A_FAULT + 5, (
        "each slow reply costs one read timeout, not 30 s"
    )
    assert f"no reply within the read timeout of {SLOW_ENOUGH_TO_BE_A_FAULT:g} s" in caplog.text


def test_budget_429s_teach_an_adaptive_limiter_to_slow_down(
    clean_pull: dict[str, list[Any]],
) -> None:
    budget = FaultConfig(budget_per_second=20, budget_burst=4)
    limiter = TokenBucket(LimiterConfig(rate_per_second=100, capacity=4))
    with faulty_sandbox(budget) as (base_url, merchant, token):
        client = sandbox_client(base_url, token, merchant, retry=PATIENT, limiter=limiter)
        result = pull(client)
        counts = fault_counts(base_url)
    assert result == clean_pull
    assert 0 < client.stats.throttled == counts["budget_429"]
    assert limiter.rate < 100


def test_a_limiter_set_just_under_the_budget_meets_no_429() -> None:
    budget = FaultConfig(budget_per_second=20, budget_burst=5)
    # A token of burst and 5% of rate in hand: the server's bucket starts when our first request
    # arrives, a millisecond or two after ours, and the first request is the slowest to arrive.
    limiter = TokenBucket(LimiterConfig(rate_per_second=19, capacity=4, adaptive=False))
    with faulty_sandbox(budget) as (base_url, merchant, token):
        client = sandbox_client(base_url, token, merchant, limiter=limiter)
        pull(client)
        counts = fault_counts(base_url)
    assert counts["budget_429"] == 0 and client.stats.throttled == 0
    assert client.stats.requests > 10 and client.stats.limiter_wait_seconds > 0
