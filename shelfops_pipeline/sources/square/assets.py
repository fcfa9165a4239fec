"""Square's source assets: each connected customer's locations, catalog, stock and orders, kept in
the lake close to the API's own records (`raw.py`), one partition per customer and day or hour.

Every asset calls the API through `SquareResource` (the customer's credentials, a shared rate
limit and breaker per merchant), streams pages into one partition file that replaces the old one
atomically, and reports rows, window and call counters. The `square_api` pool keeps backfills
from stampeding the API. A partition the API cannot truthfully serve fails and says why.
"""

import asyncio
from collections import Counter
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta
from typing import Any

import dagster as dg
import pyarrow.parquet as pq
from pydantic import Field

from shelfops_pipeline.credentials.errors import CredentialError
from shelfops_pipeline.gc_pause import collector_paused
from shelfops_pipeline.http.errors import ApiError
from shelfops_pipeline.http.stats import CallStats
from shelfops_pipeline.sources.square import raw, stock
from shelfops_pipeline.sources.square.client import SquareClient
from shelfops_pipeline.sources.square.mapping import SOURCE
from shelfops_pipeline.sources.square.models import Location, MalformedRecord
from shelfops_pipeline.sources.square.reader import SQUARE_RAW, SquareReader
from shelfops_pipeline.sources.square.resources import SquareResource
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

GROUP = "square"
POOL = "square_api"
KINDS = {"square", "parquet"}
CLOSED_STATES = ("COMPLETED", "CANCELED")
AFTER_LOCATIONS = [dg.AssetDep(SQUARE_RAW.stores, partition_mapping=BY_CUSTOMER)]

square_reader = SquareReader()


class CatalogSyncConfig(dg.Config):
    full_refresh: bool = Field(
        default=False,
        description="Fetch every item, deleted ones included, instead of the changes since the "
        "customer's last catalog sync.",
    )


def _stamp(at: datetime) -> str:
    return at.isoformat().replace("+00:00", "Z")


@contextmanager
def _failures_as_dagster(what: str, stats: CallStats) -> Iterator[None]:
    """API, credential and payload errors become one Dagster failure naming the partition."""
    try:
        yield
    except (ApiError, CredentialError, MalformedRecord) as error:
        raise dg.Failure(
            description=f"{what} failed: {error}", metadata=dict(stats.as_metadata())
        ) from error


def _synced_locations(warehouse: WarehouseResource, customer_id: str) -> dict[str, Location]:
    locations = square_reader.locations(warehouse, customer_id)
    if not locations:
        raise dg.Failure(
            description=f"square/locations has no partition for customer {customer_id}; "
            "materialize it first: stores' time zones decide each order's business day",
            allow_retries=False,
        )
    return locations


@dg.asset(
    key_prefix=[SOURCE],
    group_name=GROUP,
    partitions_def=customers,
    pool=POOL,
    kinds=KINDS,
    metadata=table_definition_metadata(raw.LOCATIONS, raw.LOCATIONS_SCHEMA),
)
def locations(
    context: dg.AssetExecutionContext, square: SquareResource, warehouse: WarehouseResource
) -> dg.MaterializeResult:
    """Square locations of one customer: the stores, with their time zone and currency."""
    customer_id = context.partition_key
    if skipped := skip_unconnected(context, square.store(), customer_id, SOURCE):
        return skipped
    stats = CallStats()

    async def fetch() -> list[dict[str, Any]]:
        async with square.client(customer_id, stats) as client:
            return await client.location_objects()

    with _failures_as_dagster(f"square/locations for {customer_id}", stats):
        rows = [raw.location_row(obj, customer_id) for obj in asyncio.run(fetch())]
    partition = {"customer_id": customer_id}
    with warehouse.writer(raw.LOCATIONS, partition, raw.LOCATIONS_SCHEMA) as writer:
        count = write_rows(writer, rows, raw.LOCATIONS_SCHEMA)
    log_summary(context, count, "the current locations", stats)
    return partition_result(warehouse, raw.LOCATIONS, partition, raw.LOCATIONS_SCHEMA, count, stats)


@dg.asset(
    key_prefix=[SOURCE],
    group_name=GROUP,
    partitions_def=customer_days,
    pool=POOL,
    kinds=KINDS,
    metadata=table_definition_metadata(raw.CATALOG, raw.CATALOG_SCHEMA),
)
def catalog(
    context: dg.AssetExecutionContext,
    config: CatalogSyncConfig,
    square: SquareResource,
    warehouse: WarehouseResource,
) -> dg.MaterializeResult:
    """Square catalog items (variations nested) of one customer changed since its last sync.

    One partition per sync day, deleted items included. Square serves the current catalog only,
    so only today's and yesterday's partitions (UTC) can be synced; `products` keeps the history.
    """
    day = customer_day(context.partition_key)
    if skipped := skip_unconnected(context, square.store(), day.customer_id, SOURCE):
        return skipped
    today = warehouse.now().date()
    if day.day < today - timedelta(days=1):
        raise dg.Failure(
            description=f"square/catalog cannot be synced for {day.day}: Square's API serves only "
            "the current catalog, so a past day's catalog cannot be rebuilt, and today's is never "
            f"written as history. Sync today's or yesterday's partition ({today} or "
            f"{today - timedelta(days=1)}); `products` keeps every version from its sync day on.",
            allow_retries=False,
        )
    window = raw.catalog_window(warehouse, day, config.full_refresh)
    since = None if window.since is None else datetime.fromtimestamp(window.since / 1000, UTC)
    stats = CallStats()
    skipped = Counter[str]()

    async def fetch(writer: pq.ParquetWriter) -> int:
        written, through = 0, window.since
        async with square.client(day.customer_id, stats) as client:
            async for page in client.catalog_change_objects(since):
                rows = [raw.catalog_row(obj, day) for obj in page]
                kept = [row for row in rows if window.covers(row.version)]
                skipped["items already synced on a later day"] += len(rows) - len(kept)
                through = max([through or 0, *(r.version or 0 for r in kept)]) or None
                written += write_rows(writer, kept, raw.CATALOG_SCHEMA)
        writer.add_key_value_metadata(raw.catalog_versions(window.since, through))
        return written

    with (
        _failures_as_dagster(f"square/catalog for {context.partition_key}", stats),
        warehouse.writer(raw.CATALOG, day.lake_partition, raw.CATALOG_SCHEMA) as writer,
    ):
        count = asyncio.run(fetch(writer))
    scope = "every item" if window.since is None else f"items changed after version {window.since}"
    log_summary(context, count, scope, stats, skipped)
    return partition_result(
        warehouse,
        raw.CATALOG,
        day.lake_partition,
        raw.CATALOG_SCHEMA,
        count,
        stats,
        since_version=window.since or 0,
        full_refresh=config.full_refresh,
    )


async def _stock_at(
    client: SquareClient,
    location_ids: list[str],
    at: datetime,
    now: datetime,
    counted: Counter[str],
) -> list[stock.StockLevel]:
    """Current counts rewound to `at`; series a later physical count reset are replayed."""
    counts = [c async for page in client.inventory_counts(location_ids, stock.STATES) for c in page]
    counted["counts"] = len(counts)
    rewinder = stock.Rewinder(counts, at)
    async for page in client.inventory_changes(location_ids, at, now):
        counted["later changes"] += len(page)
        rewinder.undo(page)
    if not rewinder.reset_later:
        return stock.stock_levels(rewinder)
    variations = sorted({variation for variation, _ in rewinder.reset_later})
    history = [
        c
        async for page in client.inventory_changes(location_ids, None, at, variations)
        for c in page
    ]
    counted["replayed changes"] = len(history)
    return stock.stock_levels(rewinder, stock.replay(history, at))


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
    context: dg.AssetExecutionContext, square: SquareResource, warehouse: WarehouseResource
) -> dg.MaterializeResult:
    """Square stock of one customer at the end of one UTC hour, per variation and location.

    Rebuilt from the current counts and the change history after the hour (a physical count
    since then is replayed from the history before it). An hour not over yet, or one before the
    history reaches, fails: current stock is never written as the past.
    """
    hour = customer_hour(context.partition_key)
    if skipped := skip_unconnected(context, square.store(), hour.customer_id, SOURCE):
        return skipped
    at = hour.hour + timedelta(hours=1)
    now = warehouse.now()
    if at > now:
        raise dg.Failure(
            description=f"square/inventory for {context.partition_key}: the hour ends at "
            f"{_stamp(at)}, after now ({_stamp(now)}); its closing stock is not known yet",
            allow_retries=False,
        )
    location_ids = sorted(_synced_locations(warehouse, hour.customer_id))
    stats = CallStats()
    counted = Counter[str]()

    async def fetch() -> list[stock.StockLevel]:
        async with square.client(hour.customer_id, stats) as client:
            return await _stock_at(client, location_ids, at, now, counted)

    with _failures_as_dagster(f"square/inventory for {context.partition_key}", stats):
        levels = asyncio.run(fetch())
    if counted["counts"] and not levels:
        raise dg.Failure(
            description=f"square/inventory for {context.partition_key}: stock at {_stamp(at)} "
            f"cannot be rebuilt: Square's change history for customer {hour.customer_id} holds "
            "no count or adjustment up to that time (stock tracking began later), and current "
            "stock is never written as history",
            metadata=dict(stats.as_metadata()),
            allow_retries=False,
        )
    rows = [raw.stock_row(level, hour) for level in levels]
    with warehouse.writer(raw.INVENTORY, hour.lake_partition, raw.INVENTORY_SCHEMA) as writer:
        count = write_rows(writer, rows, raw.INVENTORY_SCHEMA)
    log_summary(context, count, f"stock at {_stamp(at)}", stats, counted)
    return partition_result(
        warehouse,
        raw.INVENTORY,
        hour.lake_partition,
        raw.INVENTORY_SCHEMA,
        count,
        stats,
        stock_at=_stamp(at),
        **{f"api_{name.replace(' ', '_')}": n for name, n in counted.items()},
    )


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
    context: dg.AssetExecutionContext, square: SquareResource, warehouse: WarehouseResource
) -> dg.MaterializeResult:
    """Square orders of one customer closed on one business day, in each store's own time zone.

    Completed and canceled orders, with Square's JSON. POS devices upload offline orders up to
    72 hours late, so a rerun of a recent day picks up what arrived since.
    """
    day = customer_day(context.partition_key)
    if skipped := skip_unconnected(context, square.store(), day.customer_id, SOURCE):
        return skipped
    locations = _synced_locations(warehouse, day.customer_id)
    start, end = local_day_window(day.day, (loc.timezone for loc in locations.values()))
    stats = CallStats()
    counted = Counter[str]()

    async def fetch(writer: pq.ParquetWriter) -> int:
        written = 0
        async with square.client(day.customer_id, stats) as client:
            pages = client.order_objects(sorted(locations), "closed_at", start, end, CLOSED_STATES)
            async for page in pages:
                counted["orders received"] += len(page)
                rows = [r for obj in page if (r := raw.order_row(obj, day, locations)) is not None]
                counted["canceled"] += sum(row.state == "CANCELED" for row in rows)
                written += write_rows(writer, rows, raw.ORDERS_SCHEMA)
        return written

    with (
        _failures_as_dagster(f"square/orders for {context.partition_key}", stats),
        warehouse.writer(raw.ORDERS, day.lake_partition, raw.ORDERS_SCHEMA) as writer,
        collector_paused(),
    ):
        count = asyncio.run(fetch(writer))
    log_summary(context, count, f"orders closed {_stamp(start)}..{_stamp(end)}", stats, counted)
    return partition_result(
        warehouse,
        raw.ORDERS,
        day.lake_partition,
        raw.ORDERS_SCHEMA,
        count,
        stats,
        window_start=_stamp(start),
        window_end=_stamp(end),
        api_orders_received=counted["orders received"],
        canceled_orders=counted["canceled"],
    )


square_assets = [locations, catalog, inventory, orders]
