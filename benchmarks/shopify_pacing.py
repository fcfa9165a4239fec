"""Shopify pacing by query cost, and a history backfill through bulk operations against paging.

Pacing: one shop's orders are paged `PASSES` times over through one client, against the
sandbox's standard-plan bucket (2000 points, restoring 100 a second), so the bucket empties and
the client must wait for it. The bound is what the bucket allows:

    bound = (total requested cost - initial bucket) / restore rate

Shopify takes a query's requested cost before running it and gives back the unused part, so the
total the bucket must have supplied is every query's actual cost except the last one's, plus the
requested cost of the last query (which must be whole in the bucket before it is sent); the
initial bucket is the full 2000 points and the restore rate 100 points a second. The client should
come within 1.10 x the bound with no THROTTLED reply. (The sum of requested costs alone, refunds
ignored, is reported too; it overstates the bound several times over.)

Backfill: the same shop's whole history read once paged and once through a bulk operation
(`orders.order_objects` either way), at the sandbox's default bulk pace.
"""

import asyncio
import json
import tempfile
import time
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

import httpx

from shelfops_pipeline.http.limiter import LimiterConfig, TokenBucket
from shelfops_pipeline.http.stats import CallStats
from shelfops_pipeline.sandbox.runner import serve_in_thread
from shelfops_pipeline.sandbox.server import Sandbox, build_sandbox
from shelfops_pipeline.sandbox.settings import SandboxSettings
from shelfops_pipeline.sandbox.shopify.throttle import ThrottleSettings
from shelfops_pipeline.sources.shopify.bulk import BulkExporter, BulkState
from shelfops_pipeline.sources.shopify.client import (
    ShopifyApiClient,
    ShopifyClient,
    shopify_api_client,
)
from shelfops_pipeline.sources.shopify.orders import OrderWindow, order_objects
from shelfops_pipeline.sources.shopify.pacing import cost_report, is_throttled

FROZEN_NOW = datetime(2026, 11, 5, 18, 30, tzinfo=UTC)
EPOCH = datetime(2000, 1, 1, tzinfo=UTC)
HISTORY = OrderWindow(EPOCH, EPOCH, FROZEN_NOW, FROZEN_NOW)
TIME_BOUND_RATIO = 1.10
PAGE_SIZE = 50
PASSES = 10
ALWAYS_PAGED_DAYS = 1_000_000.0
ALWAYS_BULK_DAYS = 0.0


@dataclass(frozen=True)
class PacingFigures:
    orders: int
    requests: int
    requested_cost: float
    charged_cost: float
    initial_bucket: float
    restore_rate: float
    throttled: int
    seconds: float

    @property
    def bound_seconds(self) -> float:
        return max(0.0, self.charged_cost - self.initial_bucket) / self.restore_rate

    @property
    def ratio(self) -> float:
        return self.seconds / self.bound_seconds if self.bound_seconds else float("inf")

    @property
    def within_bound(self) -> bool:
        return self.ratio <= TIME_BOUND_RATIO and self.throttled == 0


@dataclass(frozen=True)
class BackfillFigures:
    orders_paged: int
    paged_seconds: float
    orders_bulk: int
    bulk_seconds: float

    @property
    def equal_counts(self) -> bool:
        return self.orders_paged == self.orders_bulk


class CostRecorder(httpx.AsyncBaseTransport):
    """Reads `extensions.cost` off every GraphQL reply: requested and actual points, THROTTLED."""

    def __init__(self) -> None:
        self._inner = httpx.AsyncHTTPTransport()
        self.requested = 0.0
        self.actual = 0.0
        self.throttled = 0
        self.last_requested = 0.0
        self.last_actual = 0.0

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        response = await self._inner.handle_async_request(request)
        content = await response.aread()
        await response.aclose()
        self._record(content)
        return httpx.Response(
            response.status_code,
            headers=response.headers,
            content=content,
            extensions=response.extensions,
            request=request,
        )

    def _record(self, content: bytes) -> None:
        try:
            body = json.loads(content)
        except ValueError:
            return
        if is_throttled(body):
            self.throttled += 1
        report = cost_report(body)
        if report is not None:
            self.last_requested = report.requested or 0.0
            self.last_actual = report.actual or 0.0
            self.requested += self.last_requested
            self.actual += self.last_actual

    async def aclose(self) -> None:
        await self._inner.aclose()


def _api(
    sandbox: Sandbox, base_url: str, stats: CallStats, transport: httpx.AsyncBaseTransport
) -> ShopifyApiClient:
    shop = sandbox.world.shops[0]
    token = sandbox.shopify_tokens.custom_apps[shop.domain].access_token
    throttle = ThrottleSettings()

    async def auth_headers() -> dict[str, str]:
        return {"X-Shopify-Access-Token": token}

    limiter = TokenBucket(
        LimiterConfig(
            rate_per_second=throttle.restore_rate,
            capacity=throttle.maximum_available,
            adaptive=False,
        )
    )
    return shopify_api_client(
        f"{base_url}/shopify/{shop.handle}",
        shop.domain,
        auth_headers,
        limiter=limiter,
        stats=stats,
        transport=transport,
    )


async def _page_repeatedly(api: ShopifyApiClient, passes: int) -> int:
    async with api:
        client = ShopifyClient(api, page_size=PAGE_SIZE)
        orders = 0
        for _ in range(passes):
            async for page in client.order_objects(EPOCH, EPOCH, FROZEN_NOW):
                orders += len(page)
        return orders


def measure_pacing(seed: int = 7, passes: int = PASSES) -> PacingFigures:
    """Page one shop's orders `passes` times in pages of `PAGE_SIZE` under the standard bucket."""
    sandbox = build_sandbox(SandboxSettings(seed=seed, scale="small", frozen_at=FROZEN_NOW))
    throttle = ThrottleSettings()
    stats = CallStats()
    recorder = CostRecorder()
    with serve_in_thread(sandbox.app) as base_url:
        api = _api(sandbox, base_url, stats, recorder)
        started = time.monotonic()
        orders = asyncio.run(_page_repeatedly(api, passes))
        seconds = time.monotonic() - started
    return PacingFigures(
        orders=orders,
        requests=stats.requests,
        requested_cost=recorder.requested,
        charged_cost=recorder.actual - recorder.last_actual + recorder.last_requested,
        initial_bucket=throttle.maximum_available,
        restore_rate=throttle.restore_rate,
        throttled=recorder.throttled + stats.throttled,
        seconds=seconds,
    )


async def _read_history(api: ShopifyApiClient, state: Path, bulk_after_days: float) -> int:
    async with api:
        client = ShopifyClient(api)
        exporter = BulkExporter(client, BulkState(state))
        count = 0
        async for page in order_objects(client, exporter, HISTORY, bulk_after_days):
            count += len(page)
        return count


def measure_backfill(seed: int = 7) -> BackfillFigures:
    """One shop's whole history, paged then exported in bulk, each with a fresh bucket."""
    timings: list[tuple[int, float]] = []
    for bulk_after_days in (ALWAYS_PAGED_DAYS, ALWAYS_BULK_DAYS):
        sandbox = build_sandbox(SandboxSettings(seed=seed, scale="small", frozen_at=FROZEN_NOW))
        with serve_in_thread(sandbox.app) as base_url, tempfile.TemporaryDirectory() as state:
            api = _api(sandbox, base_url, CallStats(), httpx.AsyncHTTPTransport())
            started = time.monotonic()
            count = asyncio.run(_read_history(api, Path(state), bulk_after_days))
            timings.append((count, time.monotonic() - started))
    (paged, paged_seconds), (bulk, bulk_seconds) = timings
    return BackfillFigures(paged, paged_seconds, bulk, bulk_seconds)
