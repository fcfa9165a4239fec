"""Shopify's raw lake tables: what the source assets keep, close to the API's own records.

The shop, its locations, products (variants nested) and orders (lines and refunds nested) keep
Shopify's GraphQL JSON (`payload`) beside a few typed columns, so the unified tables can be
rebuilt from the lake with a corrected mapping, without calling the API again. Stock is kept as
the levels read at the time of the sync (Shopify keeps no stock history).
"""

import json
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal
from typing import Any

import pyarrow as pa

from shelfops_pipeline.sources.shopify.mapping import day_total
from shelfops_pipeline.sources.shopify.models import (
    Shop,
    numeric_id,
    parse_order,
    parse_time,
    parse_variants,
)
from shelfops_pipeline.warehouse.money import minor_digits
from shelfops_pipeline.warehouse.partitions import CustomerDay, CustomerHour
from shelfops_pipeline.warehouse.schema import QUANTITY, UTC_TIME

LOCATIONS = "raw/shopify/locations"
CATALOG = "raw/shopify/catalog"
INVENTORY = "raw/shopify/inventory"
ORDERS = "raw/shopify/orders"

# A `locations` row is the shop itself or one of its locations.
SHOP_KIND = "shop"
LOCATION_KIND = "location"


def payload(obj: Mapping[str, Any]) -> str:
    return json.dumps(obj, separators=(",", ":"), sort_keys=True)


@dataclass(frozen=True)
class RawPlace:
    customer_id: str
    shop_domain: str
    kind: str
    object_id: str
    name: str
    payload: str


@dataclass(frozen=True)
class RawProduct:
    customer_id: str
    synced_on: date
    product_id: str
    updated_at: datetime
    title: str
    variant_count: int
    payload: str


@dataclass(frozen=True)
class RawStockLevel:
    """Stock of one variant at one location, read at `read_at` for the hour `snapshot_hour`."""

    customer_id: str
    snapshot_hour: datetime
    read_at: datetime
    variant_id: str
    location_id: str
    on_hand: Decimal
    available: Decimal


@dataclass(frozen=True)
class RawOrder:
    """An order with a line on `business_date` (the shop's zone); what Shopify reported for that
    day's lines in minor units of the shop currency."""

    customer_id: str
    business_date: date
    order_id: str
    name: str
    financial_status: str
    test: bool
    cancelled: bool
    processed_at: datetime
    currency: str
    day_total_minor: int
    line_count: int
    payload: str


LOCATIONS_SCHEMA = pa.schema(
    [
        ("customer_id", pa.string()),
        ("shop_domain", pa.string()),
        ("kind", pa.string()),
        ("object_id", pa.string()),
        ("name", pa.string()),
        ("payload", pa.string()),
    ]
)

CATALOG_SCHEMA = pa.schema(
    [
        ("customer_id", pa.string()),
        ("synced_on", pa.date32()),
        ("product_id", pa.string()),
        ("updated_at", UTC_TIME),
        ("title", pa.string()),
        ("variant_count", pa.int32()),
        ("payload", pa.string()),
    ]
)

INVENTORY_SCHEMA = pa.schema(
    [
        ("customer_id", pa.string()),
        ("snapshot_hour", UTC_TIME),
        ("read_at", UTC_TIME),
        ("variant_id", pa.string()),
        ("location_id", pa.string()),
        ("on_hand", QUANTITY),
        ("available", QUANTITY),
    ]
)

ORDERS_SCHEMA = pa.schema(
    [
        ("customer_id", pa.string()),
        ("business_date", pa.date32()),
        ("order_id", pa.string()),
        ("name", pa.string()),
        ("financial_status", pa.string()),
        ("test", pa.bool_()),
        ("cancelled", pa.bool_()),
        ("processed_at", UTC_TIME),
        ("currency", pa.string()),
        ("day_total_minor", pa.int64()),
        ("line_count", pa.int32()),
        ("payload", pa.string()),
    ]
)


def shop_row(obj: Mapping[str, Any], shop: Shop, customer_id: str) -> RawPlace:
    return RawPlace(customer_id, shop.domain, SHOP_KIND, shop.domain, shop.name, payload(obj))


def location_row(obj: Mapping[str, Any], shop: Shop, customer_id: str) -> RawPlace:
    location_id = numeric_id(obj.get("id"), "location")
    name = str(obj.get("name", ""))
    return RawPlace(customer_id, shop.domain, LOCATION_KIND, location_id, name, payload(obj))


def product_row(obj: Mapping[str, Any], day: CustomerDay) -> RawProduct:
    variants = parse_variants(obj)
    updated = parse_time(obj, "updatedAt", "product")
    return RawProduct(
        customer_id=day.customer_id,
        synced_on=day.day,
        product_id=numeric_id(obj.get("id"), "product"),
        updated_at=max([updated, *(v.updated_at for v in variants)]),
        title=str(obj.get("title", "")),
        variant_count=len(variants),
        payload=payload(obj),
    )


def order_row(obj: Mapping[str, Any], shop: Shop, day: CustomerDay) -> RawOrder | None:
    """The order's row when one of its lines falls on `day` in the shop's zone; else None."""
    order = parse_order(obj)
    reported = day_total(order, shop, day.day)
    if reported is None:
        return None
    minor = int(reported.total.scaleb(minor_digits(order.currency)))
    return RawOrder(
        customer_id=day.customer_id,
        business_date=day.day,
        order_id=order.id,
        name=order.name,
        financial_status=order.financial_status,
        test=order.test,
        cancelled=order.cancelled_at is not None,
        processed_at=order.processed_at,
        currency=order.currency,
        day_total_minor=minor,
        line_count=reported.lines,
        payload=payload(obj),
    )


def stock_row(
    level: Mapping[str, Any], hour: CustomerHour, read_at: datetime
) -> RawStockLevel | None:
    """One `inventoryLevels` node (with `item.variant` and `quantities`) as a stock row."""
    item = level.get("item") or {}
    variant = item.get("variant")
    location = level.get("location") or {}
    if not isinstance(variant, dict):
        return None
    quantities = {q["name"]: Decimal(q["quantity"]) for q in level.get("quantities") or ()}
    return RawStockLevel(
        customer_id=hour.customer_id,
        snapshot_hour=hour.hour,
        read_at=read_at,
        variant_id=numeric_id(variant.get("id"), "variant"),
        location_id=numeric_id(location.get("id"), "location"),
        on_hand=quantities.get("on_hand", Decimal(0)),
        available=quantities.get("available", Decimal(0)),
    )
