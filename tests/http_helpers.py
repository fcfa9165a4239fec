"""Fakes shared by the HTTP layer tests: a manual clock and sleep, and client builders."""

import asyncio
from collections.abc import Callable, Mapping
from typing import Any

import httpx

from shelfops_pipeline.http.breaker import BreakerConfig, CircuitBreaker
from shelfops_pipeline.http.client import ApiClient
from shelfops_pipeline.http.limiter import LimiterConfig, TokenBucket
from shelfops_pipeline.http.paginate import body_cursor_pages, query_cursor_pages
from shelfops_pipeline.http.retry import RetryConfig, RetryPolicy

TOKEN = "EAAAtest-secret-token-0123456789"


class FakeTime:
    """A monotonic clock that only moves when someone sleeps; records every sleep."""

    def __init__(self, start: float = 1000.0) -> None:
        self.now = start
        self.sleeps: list[float] = []

    def clock(self) -> float:
        return self.now

    async def sleep(self, seconds: float) -> None:
        self.sleeps.append(seconds)
        self.now += seconds
        await asyncio.sleep(0)


async def bearer(token: str = TOKEN) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


def mock_client(
    handler: Callable[[httpx.Request], httpx.Response],
    time: FakeTime,
    *,
    retry: RetryConfig | None = None,
    breaker: BreakerConfig | None = None,
    limiter: LimiterConfig | None = None,
    **options: Any,
) -> ApiClient:
    """An ApiClient on httpx.MockTransport whose waits all go through `time`."""
    defaults: Mapping[str, Any] = {
        "source": "square",
        "account": "MERCHANT1",
        "base_url": "https://api.example.test",
        "auth_headers": bearer,
    }
    return ApiClient(
        **{**defaults, **options},
        transport=httpx.MockTransport(handler),
        retry=RetryPolicy(
            retry or RetryConfig(max_attempts=4, initial_backoff_seconds=0.5),
            clock=time.clock,
            sleep=time.sleep,
        ),
        limiter=TokenBucket(
            limiter or LimiterConfig(rate_per_second=1000, capacity=1000),
            clock=time.clock,
            sleep=time.sleep,
        ),
        breaker=CircuitBreaker(
            options.get("source", "square"),
            options.get("account", "MERCHANT1"),
            breaker or BreakerConfig(failure_threshold=50),
            clock=time.clock,
        ),
    )


def sandbox_client(
    base_url: str,
    token: str,
    account: str,
    *,
    retry: RetryConfig | None = None,
    breaker: CircuitBreaker | None = None,
    limiter: TokenBucket | None = None,
    **options: Any,
) -> ApiClient:
    """A Square ApiClient on a loopback sandbox, with quick back-offs fit for tests."""

    async def auth() -> dict[str, str]:
        return {"Authorization": f"Bearer {token}"}

    quick = RetryConfig(max_attempts=8, initial_backoff_seconds=0.02, max_backoff_seconds=0.2)
    return ApiClient(
        source="square",
        account=account,
        base_url=f"{base_url}/square",
        auth_headers=auth,
        headers={"Square-Version": "2025-08-20"},
        retry=RetryPolicy(retry or quick),
        breaker=breaker or CircuitBreaker("square", account),
        limiter=limiter or TokenBucket(LimiterConfig(rate_per_second=1000, capacity=1000)),
        **options,
    )


async def pull_square(client: ApiClient) -> dict[str, list[Any]]:
    """Locations, the catalog (list and search) and every order, paged small to make many calls."""
    locations = (await client.request_json("GET", "/v2/locations"))["locations"]
    location_ids = [location["id"] for location in locations]
    catalog = [
        obj
        async for page in query_cursor_pages(client, "/v2/catalog/list")
        for obj in page["objects"]
    ]
    search = {"object_types": ["ITEM"], "include_deleted_objects": True, "limit": 10}
    items = [
        obj
        async for page in body_cursor_pages(client, "/v2/catalog/search", search)
        for obj in page.get("objects", [])
    ]
    orders_query = {"location_ids": location_ids, "limit": 40}
    orders = [
        order
        async for page in body_cursor_pages(client, "/v2/orders/search", orders_query)
        for order in page.get("orders", [])
    ]
    return {
        "locations": locations,
        "catalog": sorted(catalog, key=lambda obj: obj["id"]),
        "items": sorted(items, key=lambda obj: obj["id"]),
        "orders": sorted(orders, key=lambda order: order["id"]),
    }
