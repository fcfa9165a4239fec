"""Shopify's source assets: each connected customer's shop and locations, catalog, stock and
orders, kept in the lake close to the GraphQL API's own records (`raw.py`), one partition per
customer and day or hour.

Every asset calls the API through `ShopifyResource` (the customer's credentials, the shop's
shared points bucket and breaker), streams pages into one partition file that replaces the old
one atomically, and reports rows, window and call counters. The `shopify_api` pool keeps
backfills from stampeding the API. Order windows reaching further back than `bulk_after_days`
are exported with bulk operations (`orders.py`). A partition the API cannot truthfully serve
fails and says why, and writes nothing.
"""

import asyncio
from collections import Counter
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import datetime, timedelta
from pathlib import Path

import dagster as dg
import pyarrow.parquet as pq
from pydantic import Field

from shelfops_pipeline.credentials.errors import CredentialError
from shelfops_pipeline.credentials.paths import shelfops_home
from shelfops_pipeline.http.errors import ApiError
from shelfops_pipeline.http.stats import CallStats
from shelfops_pipeline.sources.shopify import queries, raw
from shelfops_pipeline.sources.shopify.bulk import BulkExporter, BulkExportFailed, BulkState
from shelfops_pipeline.sources.shopify.mapping import SOURCE
from shelfops_pipeline.sources.shopify.models import MalformedRecord, Shop
from shelfops_pipeline.sources.shopify.orders import (
    DEFAULT_BULK_AFTER_DAYS,
    OrderWindow,
    order_objects,
)
from shelfops_pipeline.sources.shopify.reader import SHOPIFY_RAW, ShopifyReader, SyncedShop
from shelfops_pipeline.sources.shopify.resources import ShopifyResource
from shelfops_pipeline.warehouse.connections import skip_unconnected
from shelfops_pipeline.warehouse.lake import write_rows
from shelfops_pipeline.warehouse.metadata import (
    log_summary,
    partition_result,
    table_definition_metadata,
)
from shelfops_pipeline.warehouse.partitions import (
    BY_CUSTOMER,
    customer_day,
    customer_days,
    customer_hour,
    customer_hours,
    customers,
    local_day_window,
)
from shelfops_pipeline.warehouse.resources import WarehouseResource

GROUP = "shopify"
POOL = "shopify_api"
KINDS = {"shopify", "parquet"}
AFTER_LOCATIONS = [dg.AssetDep(SHOPIFY_RAW.stores, partition_mapping=BY_CUSTOMER)]
BULK_STATE_FOLDER = "shopify"

shopify_reader = ShopifyReader()


def _stamp(at: datetime) -> str:
    return at.isoformat().replace("+00:00", "Z")


def _bulk_state(shopify: ShopifyResource) -> BulkState:
    home = Path(shopify.shelfops_home) if shopify.shelfops_home else shelfops_home()
    return BulkState(home / BULK_STATE_FOLDER)


class CatalogSyncConfig(dg.Config):
    bulk: bool = Field(
        default=False,
        description="Export the catalog with a bulk operation instead of paging (large catalogs).",
    )


class OrdersSyncConfig(dg.Config):
    bulk_after_days: float = Field(
        default=DEFAULT_BULK_AFTER_DAYS,
        ge=0,
        description="A day whose start lies further back than this many days is read with a bulk "
        "operation (the window runs from the day's start to now); nearer days are paged.",
    )
    refund_lookback_days: int = Field(
        default=60,
        ge=1,
        description="Refunds are found on orders created up to this many days before the day.",
    )


@contextmanager
def _failures_as_dagster(what: str, stats: CallStats) -> Iterator[None]:
    """API, credential, payload and bulk errors become one Dagster failure naming the partition."""
    try:
        yield
    except (ApiError, CredentialError, MalformedRecord, BulkExportFailed) as error:
        raise dg.Failure(
            description=f"{what} failed: {error}", metadata=dict(stats.as_metadata())
        ) from error


def _synced_shop(warehouse: WarehouseResource, customer_id: str) -> SyncedShop:
    synced = shopify_reader.shop(warehouse, customer_id)
    if synced is None:
        raise dg.Failure(
            description=f"shopify/locations has no partition for customer {customer_id}; "
            "materialize it first: the shop's time zone decides each order's business day",
            allow_retries=False,
        )
    return synced


@dg.asset(
    key_prefix=[SOURCE],
    group_name=GROUP,
    partitions_def=customers,
    pool=POOL,
    kinds=KINDS,
    metadata=table_definition_metadata(raw.LOCATIONS, raw.LOCATIONS_SCHEMA),
)
def locations(
    context: dg.AssetExecutionContext, shopify: ShopifyResource, warehouse: WarehouseResource
) -> dg.MaterializeResult:
    """The customer's Shopify shop (time zone, currency) and its locations: the stores."""
    customer_id = context.partition_key
    if skipped := skip_unconnected(context, shopify.store(), customer_id, SOURCE):
        return skipped
    stats = CallStats()

    async def fetch() -> list[raw.RawPlace]:
        async with shopify.client(customer_id, stats) as client:
            shop_obj = await client.shop_object()
            shop = Shop(
                domain=str(shop_obj["myshopifyDomain"]),
                name=str(shop_obj.get("name", "")),
                timezone=str(shop_obj["ianaTimezone"]),
                currency=str(shop_obj["currencyCode"]),
            )
            places = [raw.shop_row(shop_obj, shop, customer_id)]
            places += [
                raw.location_row(obj, shop, customer_id) for obj in await client.location_objects()
            ]
            return places

    with _failures_as_dagster(f"shopify/locations for {customer_id}", stats):
        rows = asyncio.run(fetch())
    partition = {"customer_id": customer_id}
    with warehouse.writer(raw.LOCATIONS, partition, raw.LOCATIONS_SCHEMA) as writer:
        count = write_rows(writer, rows, raw.LOCATIONS_SCHEMA)
    log_summary(context, count, "the shop and its current locations", stats)
    return partition_result(warehouse, raw.LOCATIONS, partition, raw.LOCATIONS_SCHEMA, count, stats)


@dg.asset(
    key_prefix=[SOURCE],
    group_name=GROUP,
    partitions_def=customer_days,
    pool=POOL,
    kinds=KINDS,
    metadata=table_definition_metadata(raw.CATALOG, raw.CATALOG_SCHEMA),
    deps=AFTER_LOCATIONS,
)
def catalog(
    context: dg.AssetExecutionContext,
    config: CatalogSyncConfig,
    shopify: ShopifyResource,
    warehouse: WarehouseResource,
) -> dg.MaterializeResult:
    """Shopify products (variants nested) of one customer, as the catalog stands at the sync.

    Shopify serves the current catalog only, so only today's and yesterday's partitions (UTC)
    can be synced; `products` keeps the history.
    """
    day = customer_day(context.partition_key)
    today = warehouse.now().date()
    if day.day < today - timedelta(days=1):
        raise dg.Failure(
            description=f"shopify/catalog cannot be synced for {day.day}: Shopify's API serves "
            "only the current catalog, so a past day's catalog cannot be rebuilt. Sync today's or "
            f"yesterday's partition ({today} or {today - timedelta(days=1)}).",
            allow_retries=False,
        )
    if skipped := skip_unconnected(context, shopify.store(), day.customer_id, SOURCE):
        return skipped
    _synced_shop(warehouse, day.customer_id)
    stats = CallStats()

    async def fetch(writer: pq.ParquetWriter) -> int:
        written = 0
        async with shopify.client(day.customer_id, stats) as client:
            if config.bulk:
                pages = BulkExporter(client, _bulk_state(shopify)).export(queries.PRODUCTS_BULK)
            else:
                pages = client.product_objects()
            async for page in pages:
                rows = [raw.product_row(obj, day) for obj in page]
                written += write_rows(writer, rows, raw.CATALOG_SCHEMA)
        return written

    with (
        _failures_as_dagster(f"shopify/catalog for {context.partition_key}", stats),
        warehouse.writer(raw.CATALOG, day.lake_partition, raw.CATALOG_SCHEMA) as writer,
    ):
        count = asyncio.run(fetch(writer))
    log_summary(context, count, "every current product", stats)
    return partition_result(
        warehouse, raw.CATALOG, day.lake_partition, raw.CATALOG_SCHEMA, count, stats,
        bulk=config.bulk,
    )  # fmt: skip


@dg.asset(
    key_prefix=[SOURCE],
    group_name=GROUP,
    partitions_def=customer_hours,
    pool=POOL,
    kinds=KINDS,
    metadata=table_definition_metadata(raw.INVENTORY, raw.INVENTORY_SCHEMA),
    deps=AFTER_LOCATIONS,
)
def inventory(
    context: dg.AssetExecutionContext, shopify: ShopifyResource, warehouse: WarehouseResource
) -> dg.MaterializeResult:
    """Shopify stock of one customer for the hour that just ended, per variant and location.

    Shopify keeps no stock history: the levels are read now and stand for the end of the last
    complete hour, so only that hour can be synced (the hourly schedule asks for it); an hour
    not over yet, or any earlier one, fails rather than write today's stock as the past.
    """
    hour = customer_hour(context.partition_key)
    # A customer without a shop has nothing here for any hour, so no hour can be too old.
    if skipped := skip_unconnected(context, shopify.store(), hour.customer_id, SOURCE):
        return skipped
    end = hour.hour + timedelta(hours=1)
    now = warehouse.now()
    if not end <= now < end + timedelta(hours=1):
        raise dg.Failure(
            description=f"shopify/inventory for {context.partition_key}: Shopify serves only the "
            f"current stock, which stands for the last complete hour (ended {_stamp(end)}) only "
            f"until an hour after it ends; now is {_stamp(now)}. Sync the hour that ended last.",
            allow_retries=False,
        )
    synced = _synced_shop(warehouse, hour.customer_id)
    stats = CallStats()

    async def fetch() -> list[raw.RawStockLevel]:
        levels: list[raw.RawStockLevel] = []
        async with shopify.client(hour.customer_id, stats) as client:
            for location in synced.locations:
                gid = f"gid://shopify/Location/{location.id}"
                async for page in client.inventory_level_objects(gid):
                    levels += [r for obj in page if (r := raw.stock_row(obj, hour, now))]
        return levels

    with _failures_as_dagster(f"shopify/inventory for {context.partition_key}", stats):
        rows = asyncio.run(fetch())
    with warehouse.writer(raw.INVENTORY, hour.lake_partition, raw.INVENTORY_SCHEMA) as writer:
        count = write_rows(writer, rows, raw.INVENTORY_SCHEMA)
    log_summary(context, count, f"stock read at {_stamp(now)}", stats)
    return partition_result(
        warehouse, raw.INVENTORY, hour.lake_partition, raw.INVENTORY_SCHEMA, count, stats,
        read_at=_stamp(now),
    )  # fmt: skip


@dg.asset(
    key_prefix=[SOURCE],
    group_name=GROUP,
    partitions_def=customer_days,
    pool=POOL,
    kinds=KINDS,
    metadata=table_definition_metadata(raw.ORDERS, raw.ORDERS_SCHEMA),
    deps=AFTER_LOCATIONS,
)
def orders(
    context: dg.AssetExecutionContext,
    config: OrdersSyncConfig,
    shopify: ShopifyResource,
    warehouse: WarehouseResource,
) -> dg.MaterializeResult:
    """Shopify orders of one customer with a sale or a refund on one business day (shop's zone).

    Every order touched since the day began and created in the refund look-back before its end
    is read, so refunds of earlier orders land on the day they were made. Days further back than
    `bulk_after_days` are exported with a bulk operation; a rerun resumes the one in progress.
    """
    day = customer_day(context.partition_key)
    if skipped := skip_unconnected(context, shopify.store(), day.customer_id, SOURCE):
        return skipped
    synced = _synced_shop(warehouse, day.customer_id)
    start, end = local_day_window(day.day, [synced.shop.timezone])
    now = warehouse.now()
    window = OrderWindow(start, start - timedelta(days=config.refund_lookback_days), end, now)
    bulk = window.uses_bulk(config.bulk_after_days)
    stats = CallStats()
    counted = Counter[str]()

    async def fetch(writer: pq.ParquetWriter) -> int:
        written = 0
        async with shopify.client(day.customer_id, stats) as client:
            exporter = BulkExporter(client, _bulk_state(shopify))
            async for page in order_objects(client, exporter, window, config.bulk_after_days):
                counted["orders received"] += len(page)
                rows = [r for obj in page if (r := raw.order_row(obj, synced.shop, day))]
                written += write_rows(writer, rows, raw.ORDERS_SCHEMA)
            counted["bulk operations resumed"] += exporter.resumed
        return written

    with (
        _failures_as_dagster(f"shopify/orders for {context.partition_key}", stats),
        warehouse.writer(raw.ORDERS, day.lake_partition, raw.ORDERS_SCHEMA) as writer,
    ):
        count = asyncio.run(fetch(writer))
    scope = f"orders updated since {_stamp(start)} ({'bulk' if bulk else 'paged'})"
    log_summary(context, count, scope, stats, counted)
    return partition_result(
        warehouse, raw.ORDERS, day.lake_partition, raw.ORDERS_SCHEMA, count, stats,
        window_start=_stamp(start), window_end=_stamp(end), bulk=bulk,
        api_orders_received=counted["orders received"],
        bulk_operations_resumed=counted["bulk operations resumed"],
    )  # fmt: skip


shopify_assets = [locations, catalog, inventory, orders]
