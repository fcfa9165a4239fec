"""Bulk exports over loopback: the reassembled export equals the paged read, grouped or not; a
FAILED operation (the sandbox's `fail_after_objects`) fails clearly; an export whose run was
killed is resumed, not started again."""

import asyncio
import sqlite3
from collections.abc import AsyncIterator, Iterator
from contextlib import asynccontextmanager, closing, contextmanager
from dataclasses import replace
from datetime import UTC, datetime
from pathlib import Path

import pytest
from conftest import FROZEN_NOW, SEED

from shelfops_pipeline.http.limiter import LimiterConfig, TokenBucket
from shelfops_pipeline.sandbox.runner import serve_in_thread
from shelfops_pipeline.sandbox.server import Sandbox, build_sandbox
from shelfops_pipeline.sandbox.settings import SandboxSettings
from shelfops_pipeline.sandbox.shopify.bulk import BulkSettings
from shelfops_pipeline.sandbox.shopify.endpoint import GraphQLSettings
from shelfops_pipeline.sources.shopify.bulk import (
    BulkConfig,
    BulkExporter,
    BulkExportFailed,
    BulkState,
)
from shelfops_pipeline.sources.shopify.client import ShopifyClient, shopify_api_client
from shelfops_pipeline.sources.shopify.models import Order, parse_order
from shelfops_pipeline.sources.shopify.orders import OrderWindow, order_objects

EPOCH = datetime(2000, 1, 1, tzinfo=UTC)
HISTORY = OrderWindow(EPOCH, EPOCH, FROZEN_NOW, FROZEN_NOW)
FAST = BulkSettings(objects_per_second=100_000)


@contextmanager
def sandbox_with(bulk: BulkSettings) -> Iterator[tuple[Sandbox, str]]:
    settings = SandboxSettings(
        seed=SEED, scale="small", frozen_at=FROZEN_NOW, shopify=GraphQLSettings(bulk=bulk)
    )
    sandbox = build_sandbox(settings)
    with serve_in_thread(sandbox.app) as base_url:
        yield sandbox, base_url


@pytest.fixture(scope="module")
def served() -> Iterator[tuple[Sandbox, str]]:
    with sandbox_with(FAST) as running:
        yield running


@asynccontextmanager
async def shop_client(served: tuple[Sandbox, str]) -> AsyncIterator[ShopifyClient]:
    sandbox, base_url = served
    shop = sandbox.world.shops[1]
    token = sandbox.shopify_tokens.custom_apps[shop.domain].access_token

    async def auth_headers() -> dict[str, str]:
        return {"X-Shopify-Access-Token": token}

    limiter = TokenBucket(LimiterConfig(rate_per_second=100, capacity=2000, adaptive=False))
    async with shopify_api_client(
        f"{base_url}/shopify/{shop.handle}", shop.domain, auth_headers, limiter=limiter
    ) as api:
        yield ShopifyClient(api)


async def read_orders(
    served: tuple[Sandbox, str], state: Path, bulk_after_days: float, config: BulkConfig
) -> list[Order]:
    async with shop_client(served) as client:
        exporter = BulkExporter(client, BulkState(state), config)
        pages = order_objects(client, exporter, HISTORY, bulk_after_days)
        orders = [parse_order(obj) async for page in pages for obj in page]
        return sorted(orders, key=lambda order: order.id)


@pytest.mark.parametrize("grouped", [True, False], ids=["grouped", "ungrouped"])
def test_a_history_export_reassembled_equals_the_paged_orders(
    served: tuple[Sandbox, str], tmp_path: Path, grouped: bool
) -> None:
    config = BulkConfig(group_objects=grouped, page_size=40)
    paged = asyncio.run(read_orders(served, tmp_path, 10_000, config))
    exported = asyncio.run(read_orders(served, tmp_path, 0, config))
    assert len(paged) > 300
    assert any(order.refunds for order in paged)
    assert exported == paged


def test_a_failed_operation_fails_with_a_clear_message(tmp_path: Path) -> None:
    with sandbox_with(replace(FAST, fail_after_objects=25)) as served:
        with pytest.raises(BulkExportFailed) as failed:
            asyncio.run(read_orders(served, tmp_path, 0, BulkConfig()))
        assert "ended FAILED with error INTERNAL_SERVER_ERROR after 25 objects" in str(failed.value)
        assert "partial result is offered, which is never used" in str(failed.value)
        assert "nothing was written" in str(failed.value)
        assert _only_operation(BulkState(tmp_path)) is None


def test_a_killed_export_is_resumed_not_started_again(tmp_path: Path) -> None:
    """The first run is cancelled while its operation is still being written (as a killed
    process would be); the second finds the operation id in the state and reads its result."""

    async def killed_then_resumed(served: tuple[Sandbox, str]) -> tuple[str, bool, int]:
        first = asyncio.create_task(read_orders(served, tmp_path, 0, BulkConfig()))
        state = BulkState(tmp_path)
        for _ in range(500):
            if started := _only_operation(state):
                break
            await asyncio.sleep(0.01)
        assert started, "the first run never started its bulk operation"
        first.cancel()
        with pytest.raises(asyncio.CancelledError):
            await first
        async with shop_client(served) as client:
            exporter = BulkExporter(client, state)
            count = 0
            async for page in order_objects(client, exporter, HISTORY, 0):
                count += len(page)
            current = await client.data("{ currentBulkOperation { id } }")
        assert current["currentBulkOperation"]["id"] == started
        return started, exporter.resumed, count

    with sandbox_with(replace(FAST, start_delay_seconds=0.5)) as served:
        started, resumed, count = asyncio.run(killed_then_resumed(served))
    assert started.startswith("gid://shopify/BulkOperation/")
    assert resumed
    assert count > 300
    assert _only_operation(BulkState(tmp_path)) is None


def _only_operation(state: BulkState) -> str | None:
    with closing(sqlite3.connect(state.path)) as db:
        rows = db.execute("SELECT operation_id FROM operations").fetchall()
    return str(rows[0][0]) if rows else None
