"""Orders of a window, paged or exported in bulk: the same JSON either way.

Paged queries serve short, incremental windows; a window reaching further back than
`bulk_after_days` (a history backfill, a rerun of an old day) is exported with one bulk
operation instead, which Shopify runs server-side without spending the shop's query points on
every page. A bulk export cannot nest connections inside an order's `refunds` list, so the
refunds of the orders it lists with refunds are fetched again by order id, line items nested as
the paged query has them.
"""

from collections.abc import AsyncIterator
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from shelfops_pipeline.sources.shopify import queries
from shelfops_pipeline.sources.shopify.bulk import BulkExporter
from shelfops_pipeline.sources.shopify.client import ShopifyClient, order_search

# Windows reaching further back than this go through bulk operations (configurable per asset).
DEFAULT_BULK_AFTER_DAYS = 7.0


@dataclass(frozen=True)
class OrderWindow:
    """Orders created in [created_from, created_before) and updated at or after `updated_from`,
    read at `now`."""

    updated_from: datetime
    created_from: datetime
    created_before: datetime
    now: datetime

    @property
    def span(self) -> timedelta:
        return self.now - self.updated_from

    def uses_bulk(self, bulk_after_days: float) -> bool:
        return self.span > timedelta(days=bulk_after_days)


async def order_objects(
    client: ShopifyClient,
    exporter: BulkExporter,
    window: OrderWindow,
    bulk_after_days: float = DEFAULT_BULK_AFTER_DAYS,
) -> AsyncIterator[list[dict[str, Any]]]:
    """The window's orders, lines and refunds nested, a page at a time."""
    if not window.uses_bulk(bulk_after_days):
        async for page in client.order_objects(
            window.updated_from, window.created_from, window.created_before
        ):
            yield page
        return
    search = order_search(window.updated_from, window.created_from, window.created_before)
    async for page in exporter.export(queries.orders_bulk(search)):
        yield await _with_refund_lines(client, page)


async def _with_refund_lines(
    client: ShopifyClient, page: list[dict[str, Any]]
) -> list[dict[str, Any]]:
    refunded = [order["id"] for order in page if order.get("refunds")]
    if not refunded:
        return page
    refunds = await client.order_refunds(refunded)
    for order in page:
        if order.get("refunds"):
            order["refunds"] = refunds[order["id"]]
    return page
