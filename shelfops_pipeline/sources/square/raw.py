"""Square's raw lake tables: what the source assets keep, close to the API's own records.

Locations, catalog items and orders keep Square's JSON (`payload`) beside a few typed columns,
so the unified tables can be rebuilt from the lake with a corrected mapping, without calling the
API again. Stock is kept as the levels rebuilt for each hour's end (the API has no past stock).
"""

import json
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal
from typing import Any
from zoneinfo import ZoneInfo

import pyarrow as pa

from shelfops_pipeline.sources.square.models import (
    Location,
    MalformedRecord,
    parse_item,
    parse_location,
    parse_order,
)
from shelfops_pipeline.sources.square.stock import StockLevel
from shelfops_pipeline.warehouse.partitions import CustomerDay, CustomerHour
from shelfops_pipeline.warehouse.resources import WarehouseResource
from shelfops_pipeline.warehouse.schema import QUANTITY, UTC_TIME

LOCATIONS = "raw/square/locations"
CATALOG = "raw/square/catalog"
INVENTORY = "raw/square/inventory"
ORDERS = "raw/square/orders"

# Stored in each catalog partition's file: the catalog versions (ms since the epoch) it covers.
SINCE_VERSION = "square.catalog.since_version"
THROUGH_VERSION = "square.catalog.through_version"


def payload(obj: Mapping[str, Any]) -> str:
    return json.dumps(obj, separators=(",", ":"), sort_keys=True)


@dataclass(frozen=True)
class RawLocation:
    customer_id: str
    location_id: str
    merchant_id: str
    name: str
    timezone: str
    currency: str
    status: str
    payload: str


@dataclass(frozen=True)
class RawCatalogItem:
    customer_id: str
    synced_on: date
    item_id: str
    version: int | None
    updated_at: datetime
    is_deleted: bool
    name: str
    payload: str


@dataclass(frozen=True)
class RawStockLevel:
    """Stock of one variation at one location at the end of the hour starting `snapshot_hour`."""

    customer_id: str
    snapshot_hour: datetime
    variation_id: str
    location_id: str
    in_stock: Decimal
    reserved_for_sale: Decimal


@dataclass(frozen=True)
class RawOrder:
    """An order closed on `business_date` in its location's zone; totals in minor units."""

    customer_id: str
    business_date: date
    order_id: str
    location_id: str
    state: str
    closed_at: datetime
    currency: str
    net_total_minor: int
    line_count: int
    payload: str


LOCATIONS_SCHEMA = pa.schema(
    [
        ("customer_id", pa.string()),
        ("location_id", pa.string()),
        ("merchant_id", pa.string()),
        ("name", pa.string()),
        ("timezone", pa.string()),
        ("currency", pa.string()),
        ("status", pa.string()),
        ("payload", pa.string()),
    ]
)

CATALOG_SCHEMA = pa.schema(
    [
        ("customer_id", pa.string()),
        ("synced_on", pa.date32()),
        ("item_id", pa.string()),
        ("version", pa.int64()),
        ("updated_at", UTC_TIME),
        ("is_deleted", pa.bool_()),
        ("name", pa.string()),
        ("payload", pa.string()),
    ]
)

INVENTORY_SCHEMA = pa.schema(
    [
        ("customer_id", pa.string()),
        ("snapshot_hour", UTC_TIME),
        ("variation_id", pa.string()),
        ("location_id", pa.string()),
        ("in_stock", QUANTITY),
        ("reserved_for_sale", QUANTITY),
    ]
)

ORDERS_SCHEMA = pa.schema(
    [
        ("customer_id", pa.string()),
        ("business_date", pa.date32()),
        ("order_id", pa.string()),
        ("location_id", pa.string()),
        ("state", pa.string()),
        ("closed_at", UTC_TIME),
        ("currency", pa.string()),
        ("net_total_minor", pa.int64()),
        ("line_count", pa.int32()),
        ("payload", pa.string()),
    ]
)


def catalog_versions(since: int | None, through: int | None) -> dict[str, str]:
    """The file metadata recording the catalog versions a partition covers."""
    return {
        SINCE_VERSION: "" if since is None else str(since),
        THROUGH_VERSION: "" if through is None else str(through),
    }


def stored_version(metadata: Mapping[str, str] | None, key: str) -> int | None:
    value = (metadata or {}).get(key, "")
    return int(value) if value else None


@dataclass(frozen=True)
class CatalogWindow:
    """The catalog versions one sync day covers: after `since` (all when None) up to `until`."""

    since: int | None
    until: int | None

    def covers(self, version: int | None) -> bool:
        if version is None:
            return True
        return (self.since is None or version > self.since) and (
            self.until is None or version <= self.until
        )


def catalog_window(
    warehouse: WarehouseResource, day: CustomerDay, full_refresh: bool
) -> CatalogWindow:
    """From the last sync before `day` on, and, when a later day was synced already, up to where
    that sync began, so a rerun never repeats a version another day holds."""
    prefix = {"customer_id": day.customer_id}
    synced = warehouse.partition_values(CATALOG, prefix, "business_date")
    key = day.day.isoformat()
    earlier = [d for d in synced if d < key]
    later = [d for d in synced if d > key]

    def stored(on: str, name: str) -> int | None:
        partition = {**prefix, "business_date": on}
        return stored_version(warehouse.partition_metadata(CATALOG, partition), name)

    since = None if full_refresh or not earlier else stored(earlier[-1], THROUGH_VERSION)
    until = stored(later[0], SINCE_VERSION) if later else None
    return CatalogWindow(since, until)


def location_row(obj: Mapping[str, Any], customer_id: str) -> RawLocation:
    location = parse_location(obj)
    return RawLocation(
        customer_id=customer_id,
        location_id=location.id,
        merchant_id=location.merchant_id,
        name=location.name,
        timezone=location.timezone,
        currency=location.currency,
        status=location.status,
        payload=payload(obj),
    )


def catalog_row(obj: Mapping[str, Any], day: CustomerDay) -> RawCatalogItem:
    item = parse_item(obj)
    return RawCatalogItem(
        customer_id=day.customer_id,
        synced_on=day.day,
        item_id=item.id,
        version=item.version,
        updated_at=item.updated_at,
        is_deleted=item.is_deleted,
        name=item.name,
        payload=payload(obj),
    )


def order_row(
    obj: Mapping[str, Any], day: CustomerDay, locations: Mapping[str, Location]
) -> RawOrder | None:
    """The order's row when it closed on `day` in its own location's zone; None otherwise."""
    order = parse_order(obj)
    location = locations.get(order.location_id)
    if location is None:
        raise MalformedRecord(
            f"Square order {order.id} is at location {order.location_id}, which square/locations "
            f"does not list for customer {day.customer_id}; materialize square/locations again"
        )
    if order.closed_at is None:
        return None
    if order.closed_at.astimezone(ZoneInfo(location.timezone)).date() != day.day:
        return None
    net = order.net_total
    return RawOrder(
        customer_id=day.customer_id,
        business_date=day.day,
        order_id=order.id,
        location_id=order.location_id,
        state=order.state,
        closed_at=order.closed_at,
        currency=net.currency if net else location.currency,
        net_total_minor=net.amount_minor if net else 0,
        line_count=len(order.line_items) + len(order.return_line_items),
        payload=payload(obj),
    )


def stock_row(level: StockLevel, hour: CustomerHour) -> RawStockLevel:
    return RawStockLevel(
        customer_id=hour.customer_id,
        snapshot_hour=hour.hour,
        variation_id=level.variation_id,
        location_id=level.location_id,
        in_stock=level.in_stock,
        reserved_for_sale=level.reserved_for_sale,
    )
