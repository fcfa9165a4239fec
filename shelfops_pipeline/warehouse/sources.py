"""What the unified assets need from a source: its raw assets and readers of its raw partitions.

A source (Square now, Shopify later) joins the warehouse by handing `build_unified_assets` one
`SourceReader`. Readers make no HTTP calls: they read the raw lake partitions the source's own
assets wrote and map them with the source's pure mapping. A customer the source does not serve
(no raw partitions at all) yields nothing; a customer it serves whose raw partition is missing
is an error, so a table is never silently written short.
"""

from collections.abc import Iterable
from dataclasses import dataclass
from decimal import Decimal
from typing import Protocol

import dagster as dg

from shelfops_pipeline.warehouse.model import (
    InventorySnapshotRow,
    ProductRow,
    StoreRow,
    TransactionRow,
)
from shelfops_pipeline.warehouse.partitions import CustomerDay, CustomerHour
from shelfops_pipeline.warehouse.resources import WarehouseResource


class RawPartitionMissing(LookupError):
    """A source serves this customer, but the raw partition a table needs was not synced."""


@dataclass(frozen=True)
class RawAssets:
    """The source asset each unified table is built from, partitioned like that table."""

    stores: dg.AssetKey
    products: dg.AssetKey
    inventory: dg.AssetKey
    transactions: dg.AssetKey


@dataclass(frozen=True)
class OrderTotal:
    """One completed order as the source reported it, to check the transaction lines against:
    its net total (sales minus returns, tax included, in major units) and its line count."""

    order_id: str
    currency: str
    net_total: Decimal
    lines: int


class SourceReader(Protocol):
    """Reads one source's raw lake partitions into unified rows."""

    @property
    def source(self) -> str: ...

    @property
    def raw(self) -> RawAssets: ...

    def stores(self, warehouse: WarehouseResource, customer_id: str) -> Iterable[StoreRow]: ...

    def products(self, warehouse: WarehouseResource, day: CustomerDay) -> Iterable[ProductRow]: ...

    def inventory(
        self, warehouse: WarehouseResource, hour: CustomerHour
    ) -> Iterable[InventorySnapshotRow]: ...

    def transactions(
        self, warehouse: WarehouseResource, day: CustomerDay
    ) -> Iterable[TransactionRow]: ...

    def order_totals(self, warehouse: WarehouseResource, day: CustomerDay) -> Iterable[OrderTotal]:
        """The completed orders behind `transactions(warehouse, day)`."""
        ...
