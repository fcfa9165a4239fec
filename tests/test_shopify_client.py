"""The Shopify GraphQL client over loopback: pacing by query cost against the standard-plan bucket
(2000 points, 100 restored a second), THROTTLED replies retried after the wait the bucket needs,
and warnings when the server serves another API version.

Four pagers read every order of one shop at once, each page requesting about 550 points: more
than the bucket holds for all four together. Sharing the shop's limiter, fed by `throttleStatus`
on every reply, they are never throttled; with a limiter each, blind to the others, they are
(another shop, so the first test's bucket does not interfere).
"""

import asyncio
import logging
from collections.abc import Iterator
from datetime import UTC, datetime

import pytest
from conftest import FROZEN_NOW, SEED

from shelfops_pipeline.http.limiter import LimiterConfig, TokenBucket
from shelfops_pipeline.http.stats import CallStats
from shelfops_pipeline.sandbox.runner import serve_in_thread
from shelfops_pipeline.sandbox.server import Sandbox, build_sandbox
from shelfops_pipeline.sandbox.settings import SandboxSettings
from shelfops_pipeline.sources.shopify.client import (
    API_VERSION,
    ShopifyApiClient,
    ShopifyClient,
    shopify_api_client,
)

EPOCH = datetime(2000, 1, 1, tzinfo=UTC)
PAGERS = 4


@pytest.fixture(scope="module")
def served() -> Iterator[tuple[Sandbox, str]]:
    sandbox = build_sandbox(SandboxSettings(seed=SEED, scale="small", frozen_at=FROZEN_NOW))
    with serve_in_thread(sandbox.app) as base_url:
        yield sandbox, base_url


def standard_bucket() -> TokenBucket:
    return TokenBucket(LimiterConfig(rate_per_second=100, capacity=2000, adaptive=False))


def api_for(
    served: tuple[Sandbox, str], limiter: TokenBucket, stats: CallStats, shop_index: int = 1
) -> ShopifyApiClient:
    sandbox, base_url = served
    shop = sandbox.world.shops[shop_index]
    token = sandbox.shopify_tokens.custom_apps[shop.domain].access_token

    async def auth_headers() -> dict[str, str]:
        return {"X-Shopify-Access-Token": token}

    return shopify_api_client(
        f"{base_url}/shopify/{shop.handle}", shop.domain, auth_headers, limiter=limiter, stats=stats
    )


async def page_all_orders(api: ShopifyApiClient) -> int:
    async with api:
        client = ShopifyClient(api, page_size=100)
        return sum([len(p) async for p in client.orders(EPOCH, EPOCH, FROZEN_NOW)])


async def concurrent_pagers(
    served: tuple[Sandbox, str], shared: bool
) -> tuple[list[int], CallStats]:
    stats = CallStats()
    bucket = standard_bucket()
    apis = [api_for(served, bucket if shared else standard_bucket(), stats) for _ in range(PAGERS)]
    counts = await asyncio.gather(*(page_all_orders(api) for api in apis))
    return list(counts), stats


def test_pacing_by_cost_pages_many_orders_without_a_throttled_reply(
    served: tuple[Sandbox, str],
) -> None:
    counts, stats = asyncio.run(concurrent_pagers(served, shared=True))
    calls = stats.as_metadata()
    assert counts[0] > 300 and len(set(counts)) == 1
    assert calls["http_throttled"] == 0
    assert calls["http_limiter_wait_seconds"] > 0


def test_blind_clients_are_throttled_and_recover_after_the_wait_the_bucket_needs(
    served: tuple[Sandbox, str],
) -> None:
    """The control: with a bucket each, four first pages want more points than the shop has."""

    async def first_page(api: ShopifyApiClient) -> int:
        async with api:
            client = ShopifyClient(api, page_size=100)
            async for page in client.orders(EPOCH, EPOCH, FROZEN_NOW):
                return len(page)
        return 0

    async def run() -> tuple[list[int], CallStats]:
        stats = CallStats()
        apis = [api_for(served, standard_bucket(), stats, shop_index=0) for _ in range(PAGERS)]
        return list(await asyncio.gather(*(first_page(api) for api in apis))), stats

    counts, stats = asyncio.run(run())
    assert stats.as_metadata()["http_throttled"] > 0
    assert counts == [100] * PAGERS


def test_each_query_cost_is_learned_from_the_first_reply(served: tuple[Sandbox, str]) -> None:
    async def run() -> tuple[float, float]:
        async with api_for(served, standard_bucket(), CallStats()) as api:
            client = ShopifyClient(api, page_size=100)
            body = {"query": "query Shop { shop { myshopifyDomain } }", "variables": {}}
            unknown = api.costs.requested(body)
            await client.data(body["query"])
            return unknown, api.costs.requested(body)

    unknown, learned = asyncio.run(run())
    assert unknown == 1000  # not in the table: the ceiling
    assert learned == 1


def test_a_server_speaking_another_version_is_reported_once(
    served: tuple[Sandbox, str], caplog: pytest.LogCaptureFixture
) -> None:
    async def run() -> None:
        async with api_for(served, standard_bucket(), CallStats()) as api:
            api.observer.api_version = "2025-07"
            client = ShopifyClient(api)
            await client.shop()
            await client.shop()

    with caplog.at_level(logging.WARNING, "shelfops_pipeline.sources.shopify.pacing"):
        asyncio.run(run())
    warnings = [r.getMessage() for r in caplog.records if "served API version" in r.getMessage()]
    assert len(warnings) == 1
    assert API_VERSION in warnings[0] and "2025-07" in warnings[0]
