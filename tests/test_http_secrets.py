"""No token or Authorization value leaks from the HTTP layer: not in logs at DEBUG (ours, httpx's
or httpcore's), not in exception messages, not in the metadata counters."""

import asyncio
import logging
from typing import Any

import pytest
from conftest import FROZEN_NOW, SEED
from http_helpers import pull_square

from shelfops_pipeline.http.client import ApiClient, Timeouts
from shelfops_pipeline.http.errors import ApiError, AuthRejected, BadRequest, NotFound
from shelfops_pipeline.http.limiter import LimiterConfig, TokenBucket
from shelfops_pipeline.http.retry import RetryConfig, RetryPolicy
from shelfops_pipeline.http.stats import CallStats
from shelfops_pipeline.sandbox.faults import FaultConfig
from shelfops_pipeline.sandbox.faults.config import RANDOM_KINDS
from shelfops_pipeline.sandbox.runner import serve_in_thread
from shelfops_pipeline.sandbox.server import build_sandbox
from shelfops_pipeline.sandbox.settings import SandboxSettings

STALE_TOKEN = "EAAAstale-token-that-the-sandbox-never-issued"
RETRIES = RetryConfig(max_attempts=25, initial_backoff_seconds=0.01, max_backoff_seconds=0.05)


def test_no_token_reaches_logs_errors_or_metadata(caplog: pytest.LogCaptureFixture) -> None:
    faults = FaultConfig(**{kind.value: 0.05 for kind in RANDOM_KINDS}, slow_seconds=10)
    sandbox = build_sandbox(
        SandboxSettings(seed=SEED, scale="small", frozen_at=FROZEN_NOW, faults=faults)
    )
    merchant = sandbox.world.square_merchants[0]
    token = sandbox.tokens.personal_tokens()[merchant]
    current = {"token": STALE_TOKEN}
    stats = CallStats()
    errors: list[ApiError] = []

    async def auth() -> dict[str, str]:
        return {"Authorization": f"Bearer {current['token']}"}

    async def refresh() -> None:
        current["token"] = token

    def client(base_url: str, **options: Any) -> ApiClient:
        return ApiClient(
            source="square",
            account=merchant,
            base_url=f"{base_url}/square",
            auth_headers=auth,
            retry=RetryPolicy(RETRIES),
            limiter=TokenBucket(LimiterConfig(rate_per_second=1000, capacity=1000)),
            timeouts=Timeouts(read=0.3),
            stats=stats,
            **options,
        )

    async def session(base_url: str) -> None:
        # Starts with a stale token: the first 401 refreshes it, then the pull goes through faults.
        async with client(base_url, refresh_auth=refresh) as refreshing:
            await pull_square(refreshing)
            for method, path, body in (
                ("GET", "/v2/orders/doesnotexist", None),
                ("POST", "/v2/orders/search", {"location_ids": ["LNOPE"]}),
            ):
                try:
                    await refreshing.request_json(method, path, json=body)
                except ApiError as error:
                    errors.append(error)
        current["token"] = STALE_TOKEN
        async with client(base_url) as stale:
            try:
                await stale.request_json("GET", "/v2/locations", params={"access_token": token})
            except ApiError as error:
                errors.append(error)

    caplog.set_level(logging.DEBUG)
    with serve_in_thread(sandbox.app) as base_url:
        asyncio.run(session(base_url))

    assert [type(e) for e in errors] == [NotFound, BadRequest, AuthRejected]
    loggers = {record.name for record in caplog.records}
    assert {"shelfops_pipeline.http.client", "shelfops_pipeline.http.retry", "httpx"} <= loggers
    assert any(name.startswith("httpcore") for name in loggers)
    metadata = stats.as_metadata()
    assert metadata["http_retries"] > 0 and metadata["http_errors_auth_rejected"] == 2
    assert "access_token=[redacted]" in caplog.text
    texts = [caplog.text, *(str(e) for e in errors), *(repr(e) for e in errors), str(metadata)]
    for secret in (token, STALE_TOKEN):
        assert all(secret not in text for text in texts)
