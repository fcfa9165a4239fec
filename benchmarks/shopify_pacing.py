"""Shopify pacing by query cost, and a history backfill through bulk operations against paging.

Pacing: one shop's orders are paged `PASSES` times over through one client, against the
sandbox's standard-plan bucket (2000 points, restoring 100 a second), so the bucket empties and
the client must wait for it. The bound is what the bucket allows:

    bound = (total requested cost - initial bucket) / restore rate

Shopify takes a query's requested cost before running it and gives back the unused part, so the
total the bucket must have supplied is every query's actual cost except the last one's, plus the
requested cost of the last query (which must be whole in the bucket before it is sent); the
initial bucket is the full 2000 points and the restore rate 100 points a second. (The sum of requested costs alone, refunds
ignored, is reported too; it overstates the bound several times over.)

Bulk: one busy day of the busy world's shop exported through a bulk operation
(`orders.order_objects` past `bulk_after_days`), at the sandbox's default pace of 1,000 objects a
second. The floor is only the time the sandbox takes to write the result file, objects / pace.
Not in the floor, and reported apart from the request log: starting the operation; the poll
overshoot (the client notices completion on its next poll; waits grow from 0.05 s by 1.5 x but
stay under a twentieth of the time waited so far, and under 5 s); and, after completion,
downloading the file, storing it in SQLite, reassembling orders with their lines and fetching
the refunds' lines (this part grows with the export; no poll schedule can remove it).
"""

import asyncio
import json
import tempfile
import time
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

import httpx

from benchmarks.busy_world import NOW, BusyWorld, day_start
from benchmarks.served import RESULT_FILE, Window
from shelfops_pipeline.http.limiter import LimiterConfig, TokenBucket
from shelfops_pipeline.http.stats import CallStats
from shelfops_pipeline.sandbox.runner import serve_in_thread
from shelfops_pipeline.sandbox.server import Sandbox, build_sandbox
from shelfops_pipeline.sandbox.settings import SandboxSettings
from shelfops_pipeline.sandbox.shopify.throttle import ThrottleSettings
from shelfops_pipeline.sandbox.world.entities import Shop
from shelfops_pipeline.sources.shopify.bulk import BulkExporter, BulkState
from shelfops_pipeline.sources.shopify.client import (
    ShopifyApiClient,
    ShopifyClient,
    shopify_api_client,
)
from shelfops_pipeline.sources.shopify.orders import OrderWindow, order_objects
from shelfops_pipeline.sources.shopify.pacing import cost_report, is_throttled

FROZEN_NOW = NOW
EPOCH = datetime(2000, 1, 1, tzinfo=UTC)
PAGE_SIZE = 50
PASSES = 10
ALWAYS_BULK_DAYS = 0.0
# The refunds look-back of `shopify/orders` (OrdersSyncConfig's default).
REFUND_LOOKBACK_DAYS = 60


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


@dataclass(frozen=True)
class BulkPhases:
    """Where a bulk export's wall time went, from the request log (seconds from its start).

    `done_seen`: the download began, so the client knew the operation was done. `floor_end`: the
    start mutation's reply plus the floor, the earliest the sandbox can finish writing.
    """

    started_reply: float
    done_seen: float
    floor_end: float
    polls: int
    download_service: float
    after_download_requests: int

    def as_details(self, seconds: float) -> dict[str, float | int]:
        return {
            "start_mutation_replied_s": round(self.started_reply, 3),
            "completion_seen_s": round(self.done_seen, 3),
            "poll_overshoot_s": round(self.done_seen - self.floor_end, 3),
            "status_polls": self.polls,
            "after_completion_s": round(seconds - self.done_seen, 3),
            "download_service_s": round(self.download_service, 3),
            "refund_line_requests": self.after_download_requests,
        }


@dataclass(frozen=True)
class BulkFigures:
    orders: int
    objects: int
    objects_per_second: float
    seconds: float
    requests: int
    throttled: int
    phases: BulkPhases | None

    @property
    def floor_seconds(self) -> float:
        return self.objects / self.objects_per_second

    @property
    def ratio(self) -> float:
        return self.seconds / self.floor_seconds


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
    sandbox: Sandbox,
    base_url: str,
    stats: CallStats,
    transport: httpx.AsyncBaseTransport,
    shop: Shop | None = None,
) -> ShopifyApiClient:
    shop = shop or sandbox.world.shops[0]
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


async def _export(api: ShopifyApiClient, state: Path, window: OrderWindow) -> tuple[int, int]:
    """(orders, orders plus line items) of `window`, read through a bulk operation."""
    async with api:
        client = ShopifyClient(api)
        exporter = BulkExporter(client, BulkState(state))
        orders = objects = 0
        async for page in order_objects(client, exporter, window, ALWAYS_BULK_DAYS):
            orders += len(page)
            objects += len(page) + sum(len(o["lineItems"]["nodes"]) for o in page)
        return orders, objects


def measure_bulk(world: BusyWorld) -> BulkFigures:
    """The shop's last benchmarked day exported in bulk; `world` is served at standard limits."""
    zone = world.shop.timezone
    day = world.shopify_days[-1]
    start, end = day_start(day, zone), day_start(day + timedelta(days=1), zone)
    window = OrderWindow(start, start - timedelta(days=REFUND_LOOKBACK_DAYS), end, NOW)
    api = _api(world.sandbox, world.base_url, CallStats(), httpx.AsyncHTTPTransport(), world.shop)
    mark = world.log.mark()
    with tempfile.TemporaryDirectory() as state:
        started = time.monotonic()
        orders, objects = asyncio.run(_export(api, Path(state), window))
        seconds = time.monotonic() - started
    log = world.log.since(mark)
    pace = world.sandbox.settings.shopify.bulk.objects_per_second
    phases = _phases(log, started, objects / pace)
    return BulkFigures(orders, objects, pace, seconds, log.requests, log.throttled, phases)


def _phases(log: Window, started: float, floor: float) -> BulkPhases | None:
    """The export's phases: the first request starts the operation, GraphQL requests until the
    result file's download are status polls, those after it fetch the refunds' lines."""
    downloads = [
        i for i, e in enumerate(log.exchanges) if e.method == "GET" and RESULT_FILE.search(e.path)
    ]
    if len(downloads) != 1 or downloads[0] == 0:
        return None
    at = downloads[0]
    mutation, download = log.exchanges[0], log.exchanges[at]
    return BulkPhases(
        started_reply=mutation.finished - started,
        done_seen=download.started - started,
        floor_end=mutation.finished - started + floor,
        polls=at - 1,
        download_service=download.finished - download.started,
        after_download_requests=len(log.exchanges) - at - 1,
    )
