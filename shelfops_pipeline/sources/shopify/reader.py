"""Shopify's raw lake partitions read into unified rows, for the warehouse's unified assets.

No HTTP: the Shopify assets already wrote the raw partitions; this parses their JSON with the
client's parsers and maps it with `mapping`, exactly as a live sync would.
"""

import json
from collections.abc import Iterator
from dataclasses import dataclass

import dagster as dg

from shelfops_pipeline.sources.shopify import raw
from shelfops_pipeline.sources.shopify.mapping import (
    SOURCE,
    product_row,
    store_rows,
    transaction_rows,
)
from shelfops_pipeline.sources.shopify.models import (
    Location,
    Shop,
    parse_location,
    parse_order,
    parse_shop,
    parse_variants,
)
from shelfops_pipeline.warehouse.model import (
    InventorySnapshotRow,
    ProductRow,
    StoreRow,
    TransactionRow,
)
from shelfops_pipeline.warehouse.money import from_minor
from shelfops_pipeline.warehouse.partitions import CustomerDay, CustomerHour
from shelfops_pipeline.warehouse.resources import WarehouseResource
from shelfops_pipeline.warehouse.sources import OrderTotal, RawAssets, RawPartitionMissing

SHOPIFY_RAW = RawAssets(
    stores=dg.AssetKey([SOURCE, "locations"]),
    products=dg.AssetKey([SOURCE, "catalog"]),
    inventory=dg.AssetKey([SOURCE, "inventory"]),
    transactions=dg.AssetKey([SOURCE, "orders"]),
)


@dataclass(frozen=True)
class SyncedShop:
    shop: Shop
    locations: tuple[Location, ...]


def _missing(
    asset: dg.AssetKey, customer_id: str, when: str, hint: str = ""
) -> RawPartitionMissing:
    return RawPartitionMissing(
        f"{asset.to_user_string()} has no partition for customer {customer_id} at {when}; "
        f"materialize it first{hint}"
    )


class ShopifyReader:
    """The `SourceReader` of Shopify: shop and locations, catalog, stock and orders from the lake."""

    source = SOURCE
    raw = SHOPIFY_RAW

    def shop(self, warehouse: WarehouseResource, customer_id: str) -> SyncedShop | None:
        """The customer's synced shop; None when Shopify does not serve the customer."""
        table = warehouse.read(raw.LOCATIONS, {"customer_id": customer_id})
        if table is None:
            return None
        shop, locations = None, []
        for row in table.select(["kind", "payload"]).to_pylist():
            obj = json.loads(row["payload"])
            if row["kind"] == raw.SHOP_KIND:
                shop = parse_shop(obj)
            else:
                locations.append(parse_location(obj))
        if shop is None:
            raise RawPartitionMissing(
                f"{self.raw.stores.to_user_string()} for customer {customer_id} holds no shop "
                "row; materialize it again"
            )
        return SyncedShop(shop, tuple(sorted(locations, key=lambda loc: loc.id)))

    def stores(self, warehouse: WarehouseResource, customer_id: str) -> Iterator[StoreRow]:
        synced = self.shop(warehouse, customer_id)
        if synced is not None:
            yield from store_rows(synced.shop, list(synced.locations), customer_id)

    def products(self, warehouse: WarehouseResource, day: CustomerDay) -> Iterator[ProductRow]:
        synced = self.shop(warehouse, day.customer_id)
        if synced is None:
            return
        batches = warehouse.batches(raw.CATALOG, day.lake_partition, ["payload"])
        if batches is None:
            raise _missing(
                self.raw.products,
                day.customer_id,
                day.day.isoformat(),
                " (Shopify serves the current catalog only: today's or yesterday's partition)",
            )
        for batch in batches:
            for text in batch.column("payload").to_pylist():
                for variant in parse_variants(json.loads(text)):
                    yield product_row(variant, synced.shop, day.customer_id)

    def inventory(
        self, warehouse: WarehouseResource, hour: CustomerHour
    ) -> Iterator[InventorySnapshotRow]:
        if self.shop(warehouse, hour.customer_id) is None:
            return
        batches = warehouse.batches(raw.INVENTORY, hour.lake_partition)
        if batches is None:
            raise _missing(self.raw.inventory, hour.customer_id, hour.hour.isoformat())
        for batch in batches:
            for level in batch.to_pylist():
                yield InventorySnapshotRow(
                    customer_id=hour.customer_id,
                    source_system=SOURCE,
                    store_id=level["location_id"],
                    product_id=level["variant_id"],
                    snapshot_hour=level["snapshot_hour"],
                    on_hand=level["on_hand"],
                    available=level["available"],
                )

    def transactions(
        self, warehouse: WarehouseResource, day: CustomerDay
    ) -> Iterator[TransactionRow]:
        synced = self.shop(warehouse, day.customer_id)
        if synced is None:
            return
        batches = warehouse.batches(raw.ORDERS, day.lake_partition, ["payload"])
        if batches is None:
            raise _missing(self.raw.transactions, day.customer_id, day.day.isoformat())
        for batch in batches:
            for text in batch.column("payload").to_pylist():
                order = parse_order(json.loads(text))
                for row in transaction_rows(order, synced.shop, day.customer_id):
                    if row.business_date == day.day:
                        yield row

    def order_totals(self, warehouse: WarehouseResource, day: CustomerDay) -> Iterator[OrderTotal]:
        if self.shop(warehouse, day.customer_id) is None:
            return
        columns = ["order_id", "currency", "day_total_minor", "line_count"]
        batches = warehouse.batches(raw.ORDERS, day.lake_partition, columns)
        if batches is None:
            raise _missing(self.raw.transactions, day.customer_id, day.day.isoformat())
        for batch in batches:
            for order in batch.to_pylist():
                currency = order["currency"]
                yield OrderTotal(
                    order_id=order["order_id"],
                    currency=currency,
                    net_total=from_minor(order["day_total_minor"], currency),
                    lines=order["line_count"],
                )
