"""Circuit breakers over loopback: one merchant's outage fails fast and names the merchant,
while another merchant's pull, sharing the process-wide registries, completes meanwhile."""

import asyncio
import time
from collections.abc import Iterator
from contextlib import ExitStack
from datetime import timedelta
from typing import Any

import httpx
import pytest
from conftest import FROZEN_NOW, SEED, Running
from http_helpers import pull_square, sandbox_client

from shelfops_pipeline.http.breaker import BreakerConfig, BreakerRegistry
from shelfops_pipeline.http.client import ApiClient
from shelfops_pipeline.http.errors import CircuitOpen, UpstreamUnavailable
from shelfops_pipeline.http.limiter import LimiterRegistry, LimitKey
from shelfops_pipeline.http.retry import RetryConfig
from shelfops_pipeline.sandbox.faults import FaultConfig
from shelfops_pipeline.sandbox.faults.config import Outage
from shelfops_pipeline.sandbox.runner import serve_in_thread
from shelfops_pipeline.sandbox.server import Sandbox, build_sandbox
from shelfops_pipeline.sandbox.settings import SandboxSettings

OUTAGE = Outage("/square/v2/", FROZEN_NOW - timedelta(hours=1), FROZEN_NOW + timedelta(hours=1))
RETRIES = RetryConfig(max_attempts=10, initial_backoff_seconds=0.02, max_backoff_seconds=0.1)


def build(faults: FaultConfig) -> Sandbox:
    return build_sandbox(
        SandboxSettings(seed=SEED, scale="small", frozen_at=FROZEN_NOW, faults=faults)
    )


@pytest.fixture
def down_and_up() -> Iterator[tuple[Sandbox, str, str]]:
    """The same world served twice: once in a sustained outage, once healthy."""
    down = build(FaultConfig(outages=(OUTAGE,)))
    with ExitStack() as stack:
        down_url = stack.enter_context(serve_in_thread(down.app))
        up_url = stack.enter_context(serve_in_thread(build(FaultConfig()).app))
        yield down, down_url, up_url


def outage_count(base_url: str) -> int:
    return int(httpx.get(f"{base_url}/_sandbox/faults").json()["counts"]["outage"])


def test_an_outage_opens_one_merchants_circuit_while_another_merchant_pulls(
    down_and_up: tuple[Sandbox, str, str], small_sandbox: Running
) -> None:
    world, down_url, up_url = down_and_up
    struck, spared = world.world.square_merchants[:2]
    tokens = world.tokens.personal_tokens()
    breakers = BreakerRegistry()
    limiters = LimiterRegistry()
    config = BreakerConfig(failure_threshold=3, cool_down_seconds=60)

    def client_for(base_url: str, merchant: str) -> ApiClient:
        return sandbox_client(
            base_url,
            tokens[merchant],
            merchant,
            retry=RETRIES,
            breaker=breakers.breaker("square", merchant, config),
            limiter=limiters.bucket(LimitKey("square", merchant)),
        )

    async def strike() -> list[CircuitOpen]:
        refused: list[CircuitOpen] = []
        async with client_for(down_url, struck) as client:
            for path in ("/v2/locations", "/v2/catalog/list", "/v2/locations"):
                with pytest.raises(CircuitOpen) as raised:
                    await client.request_json("GET", path)
                refused.append(raised.value)
        return refused

    async def spare() -> dict[str, list[Any]]:
        async with client_for(up_url, spared) as client:
            return await pull_square(client)

    async def both() -> tuple[list[CircuitOpen], dict[str, list[Any]]]:
        return await asyncio.gather(strike(), spare())

    refused, pulled = asyncio.run(both())

    assert outage_count(down_url) == 3, "after three failures no request reached the server"
    message = str(refused[0])
    assert f"square call for account {struck} failed" in message
    assert "GET /v2/locations -> HTTP 503: SERVICE_UNAVAILABLE" in message
    assert "half-opens in" in message
    assert refused[0].half_open_in_seconds > 55
    assert breakers.breaker("square", spared).state == "closed"

    async def clean() -> dict[str, list[Any]]:
        spared_token = small_sandbox.sandbox.tokens.personal_tokens()[spared]
        async with sandbox_client(small_sandbox.base_url, spared_token, spared) as client:
            return await pull_square(client)

    assert pulled == asyncio.run(clean())


def test_an_open_circuit_fails_fast(down_and_up: tuple[Sandbox, str, str]) -> None:
    world, down_url, _ = down_and_up
    merchant = world.world.square_merchants[0]
    breakers = BreakerRegistry()
    breaker = breakers.breaker("square", merchant, BreakerConfig(failure_threshold=2))

    async def calls() -> float:
        token = world.tokens.personal_tokens()[merchant]
        async with sandbox_client(
            down_url, token, merchant, retry=RETRIES, breaker=breaker
        ) as client:
            with pytest.raises(CircuitOpen):
                await client.request_json("GET", "/v2/locations")
            started = time.monotonic()
            for _ in range(20):
                with pytest.raises(CircuitOpen):
                    await client.request_json("POST", "/v2/orders/search", json={})
            return time.monotonic() - started

    assert asyncio.run(calls()) < 0.1
    assert outage_count(down_url) == 2


def test_an_outage_that_asks_to_wait_beyond_the_budget_gives_up_at_once() -> None:
    sandbox = build(FaultConfig(outages=(OUTAGE,), retry_after=True))
    merchant = sandbox.world.square_merchants[0]
    token = sandbox.tokens.personal_tokens()[merchant]

    async def call(base_url: str) -> None:
        async with sandbox_client(base_url, token, merchant, retry=RETRIES) as client:
            await client.request_json("GET", "/v2/locations")

    with serve_in_thread(sandbox.app) as base_url:
        started = time.monotonic()
        with pytest.raises(UpstreamUnavailable) as raised:
            asyncio.run(call(base_url))
    assert raised.value.attempts == 1 and raised.value.retry_after == pytest.approx(3600)
    assert time.monotonic() - started < 2
