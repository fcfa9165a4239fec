"""Square's raw lake partitions read into unified rows, for the warehouse's unified assets.

No HTTP: the Square assets already wrote the raw partitions; this parses their JSON with the
client's parsers and maps it with `mapping`, exactly as a live sync would.
"""

import json
from collections.abc import Iterator

import dagster as dg

from shelfops_pipeline.sources.square import raw
from shelfops_pipeline.sources.square.mapping import (
    SOURCE,
    product_rows,
    store_row,
    transaction_rows,
)
from shelfops_pipeline.sources.square.models import (
    Location,
    parse_item,
    parse_location,
    parse_order,
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

SQUARE_RAW = RawAssets(
    stores=dg.AssetKey([SOURCE, "locations"]),
    products=dg.AssetKey([SOURCE, "catalog"]),
    inventory=dg.AssetKey([SOURCE, "inventory"]),
    transactions=dg.AssetKey([SOURCE, "orders"]),
)


def _missing(
    asset: dg.AssetKey, customer_id: str, when: str, hint: str = ""
) -> RawPartitionMissing:
    return RawPartitionMissing(
        f"{asset.to_user_string()} has no partition for customer {customer_id} at {when}; "
        f"materialize it first{hint}"
    )


class SquareReader:
    """The `SourceReader` of Square: locations, catalog, stock and orders from the lake."""

    source = SOURCE
    raw = SQUARE_RAW

    def locations(self, warehouse: WarehouseResource, customer_id: str) -> dict[str, Location]:
        """The customer's synced locations by id; empty when Square does not serve the customer."""
        table = warehouse.read(raw.LOCATIONS, {"customer_id": customer_id})
        if table is None:
            return {}
        parsed = (parse_location(json.loads(text)) for text in table.column("payload").to_pylist())
        return {location.id: location for location in parsed}

    def stores(self, warehouse: WarehouseResource, customer_id: str) -> Iterator[StoreRow]:
        for location in self.locations(warehouse, customer_id).values():
            yield store_row(location, customer_id)

    def products(self, warehouse: WarehouseResource, day: CustomerDay) -> Iterator[ProductRow]:
        locations = self.locations(warehouse, day.customer_id)
        if not locations:
            return
        batches = warehouse.batches(raw.CATALOG, day.lake_partition, ["payload"])
        if batches is None:
            raise _missing(
                self.raw.products,
                day.customer_id,
                day.day.isoformat(),
                " (Square serves the current catalog only: today's or yesterday's partition)",
            )
        currency = locations[min(locations)].currency
        for batch in batches:
            for text in batch.column("payload").to_pylist():
                yield from product_rows(parse_item(json.loads(text)), day.customer_id, currency)

    def inventory(
        self, warehouse: WarehouseResource, hour: CustomerHour
    ) -> Iterator[InventorySnapshotRow]:
        if not self.locations(warehouse, hour.customer_id):
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
                    product_id=level["variation_id"],
                    snapshot_hour=level["snapshot_hour"],
                    on_hand=level["in_stock"] + level["reserved_for_sale"],
                    available=level["in_stock"],
                )

    def transactions(
        self, warehouse: WarehouseResource, day: CustomerDay
    ) -> Iterator[TransactionRow]:
        locations = self.locations(warehouse, day.customer_id)
        if not locations:
            return
        batches = warehouse.batches(raw.ORDERS, day.lake_partition, ["payload"])
        if batches is None:
            raise _missing(self.raw.transactions, day.customer_id, day.day.isoformat())
        for batch in batches:
            for text in batch.column("payload").to_pylist():
                order = parse_order(json.loads(text))
                location = locations.get(order.location_id)
                if location is None:
                    raise RawPartitionMissing(
                        f"order {order.id} of customer {day.customer_id} is at location "
                        f"{order.location_id}, which {self.raw.stores.to_user_string()} does not "
                        "list; materialize it again for this customer"
                    )
                for row in transaction_rows(order, location, day.customer_id):
                    if row.business_date == day.day:
                        yield row

    def order_totals(self, warehouse: WarehouseResource, day: CustomerDay) -> Iterator[OrderTotal]:
        if not self.locations(warehouse, day.customer_id):
            return
        columns = ["order_id", "state", "currency", "net_total_minor", "line_count"]
        batches = warehouse.batches(raw.ORDERS, day.lake_partition, columns)
        if batches is None:
            raise _missing(self.raw.transactions, day.customer_id, day.day.isoformat())
        for batch in batches:
            for order in batch.to_pylist():
                if order["state"] == "COMPLETED":
                    currency = order["currency"]
                    yield OrderTotal(
                        order_id=order["order_id"],
                        currency=currency,
                        net_total=from_minor(order["net_total_minor"], currency),
                        lines=order["line_count"],
                    )
