"""Checks on the unified tables, each aimed at a bug other connectors shipped: rows duplicated by
reruns, lines that do not add up to their order, rows lost or invented between the API and the
table, sales of stores or products the warehouse does not know, and syncs that silently stopped.

Partitioned checks read the partition just written; the freshness checks look at every
registered customer's latest partition.
"""

from collections import Counter, defaultdict
from collections.abc import Sequence
from datetime import UTC, datetime, timedelta
from decimal import Decimal

import dagster as dg

from shelfops_pipeline.warehouse.partitions import (
    CustomerDay,
    customer_day,
    customer_days,
    customers,
)
from shelfops_pipeline.warehouse.resources import WarehouseResource
from shelfops_pipeline.warehouse.sources import SourceReader

TRANSACTIONS = dg.AssetKey("transactions")
INVENTORY_SNAPSHOTS = dg.AssetKey("inventory_snapshots")
# The previous business day is due after local midnight everywhere, plus a day for late runs.
TRANSACTIONS_DUE = timedelta(days=2)
# The last complete hour is due, plus two hours for a late or retried run.
INVENTORY_DUE = timedelta(hours=3)
EXAMPLES = 5


def _day(context: dg.AssetCheckExecutionContext) -> CustomerDay:
    return customer_day(context.partition_key)


def _not_written(day: CustomerDay) -> dg.AssetCheckResult:
    return dg.AssetCheckResult(
        passed=False,
        description=f"transactions has no partition for {day.customer_id} on {day.day}",
    )


def _ids_unique() -> dg.AssetChecksDefinition:
    @dg.asset_check(asset=TRANSACTIONS, partitions_def=customer_days, blocking=True)
    def transactions_ids_unique(
        context: dg.AssetCheckExecutionContext, warehouse: WarehouseResource
    ) -> dg.AssetCheckResult:
        """Every transaction id appears once: a rerun replaced the day instead of appending."""
        day = _day(context)
        table = warehouse.read("transactions", day.lake_partition)
        if table is None:
            return _not_written(day)
        repeated = {
            i: n for i, n in Counter(table.column("transaction_id").to_pylist()).items() if n > 1
        }
        return dg.AssetCheckResult(
            passed=not repeated,
            metadata={
                "rows": table.num_rows,
                "repeated_ids": len(repeated),
                "examples": sorted(repeated)[:EXAMPLES],
            },
        )

    return transactions_ids_unique


def _lines_match_totals(readers: Sequence[SourceReader]) -> dg.AssetChecksDefinition:
    @dg.asset_check(asset=TRANSACTIONS, partitions_def=customer_days)
    def transactions_lines_match_order_totals(
        context: dg.AssetCheckExecutionContext, warehouse: WarehouseResource
    ) -> dg.AssetCheckResult:
        """Each order's lines (net amount plus tax) add up to the total the source reported."""
        day = _day(context)
        table = warehouse.read("transactions", day.lake_partition)
        if table is None:
            return _not_written(day)
        sums: dict[tuple[str, str], Decimal] = defaultdict(Decimal)
        for row in table.select(["source_system", "order_id", "net_amount", "tax"]).to_pylist():
            sums[(row["source_system"], row["order_id"])] += row["net_amount"] + row["tax"]
        expected: dict[tuple[str, str], Decimal] = {}
        for reader in readers:
            for order in reader.order_totals(warehouse, day):
                expected[(reader.source, order.order_id)] = order.net_total
        wrong = sorted(
            order_id
            for source_order in sums.keys() | expected.keys()
            if sums.get(source_order, Decimal(0)) != expected.get(source_order, Decimal(0))
            for order_id in source_order[1:]
        )
        return dg.AssetCheckResult(
            passed=not wrong,
            metadata={
                "orders": len(expected),
                "mismatched_orders": len(wrong),
                "examples": wrong[:EXAMPLES],
            },
        )

    return transactions_lines_match_order_totals


def _row_count_matches(readers: Sequence[SourceReader]) -> dg.AssetChecksDefinition:
    @dg.asset_check(asset=TRANSACTIONS, partitions_def=customer_days)
    def transactions_row_count_matches_source(
        context: dg.AssetCheckExecutionContext, warehouse: WarehouseResource
    ) -> dg.AssetCheckResult:
        """One row per sold or returned line the source's API reported for the day, per source."""
        day = _day(context)
        table = warehouse.read("transactions", day.lake_partition)
        if table is None:
            return _not_written(day)
        rows = Counter(table.column("source_system").to_pylist())
        reported = {r.source: sum(o.lines for o in r.order_totals(warehouse, day)) for r in readers}
        metadata: dict[str, int] = {}
        for source, lines in reported.items():
            metadata[f"{source}_rows"] = rows.get(source, 0)
            metadata[f"{source}_lines_reported"] = lines
        unknown = set(rows) - set(reported)
        return dg.AssetCheckResult(
            passed=not unknown and all(rows.get(s, 0) == n for s, n in reported.items()),
            metadata={**metadata, "unknown_sources": len(unknown)},
        )

    return transactions_row_count_matches_source


def _stores_and_products_exist() -> dg.AssetChecksDefinition:
    @dg.asset_check(asset=TRANSACTIONS, partitions_def=customer_days)
    def transactions_stores_and_products_exist(
        context: dg.AssetCheckExecutionContext, warehouse: WarehouseResource
    ) -> dg.AssetCheckResult:
        """Every transaction's store is in `stores` and its product in `products` (custom-amount
        lines have no product). Sync the catalog before the sales, or this flags the gap."""
        day = _day(context)
        table = warehouse.read("transactions", day.lake_partition)
        if table is None:
            return _not_written(day)
        customer = {"customer_id": day.customer_id}
        stores = warehouse.read("stores", customer)
        products = warehouse.read_all("products", customer)
        known_stores = set(stores.column("store_id").to_pylist()) if stores is not None else set()
        known_products = (
            set(products.column("product_id").to_pylist()) if products is not None else set()
        )
        missing_stores = set(table.column("store_id").to_pylist()) - known_stores
        missing_products = set(table.column("product_id").to_pylist()) - known_products - {""}
        return dg.AssetCheckResult(
            passed=not missing_stores and not missing_products,
            metadata={
                "missing_stores": len(missing_stores),
                "missing_products": len(missing_products),
                "examples": sorted(missing_stores | missing_products)[:EXAMPLES],
            },
        )

    return transactions_stores_and_products_exist


def _freshness(latest: dict[str, str | None], due: str, what: str) -> dg.AssetCheckResult:
    stale = sorted(customer for customer, seen in latest.items() if seen is None or seen < due)
    return dg.AssetCheckResult(
        passed=not stale,
        severity=dg.AssetCheckSeverity.WARN,
        description=f"{len(stale)} of {len(latest)} customers have no {what} since {due}",
        metadata={"due": due, "stale_customers": stale, "latest": dg.MetadataValue.json(latest)},
    )


def _transactions_fresh() -> dg.AssetChecksDefinition:
    @dg.asset_check(asset=TRANSACTIONS)
    def transactions_fresh(
        context: dg.AssetCheckExecutionContext, warehouse: WarehouseResource
    ) -> dg.AssetCheckResult:
        """Every registered customer's sales reach the previous business day (a day's grace)."""
        due = (warehouse.now().date() - TRANSACTIONS_DUE).isoformat()
        latest: dict[str, str | None] = {}
        for customer_id in context.instance.get_dynamic_partitions(customers.name):
            days = warehouse.partition_values(
                "transactions", {"customer_id": customer_id}, "business_date"
            )
            latest[customer_id] = days[-1] if days else None
        return _freshness(latest, due, "business day of sales")

    return transactions_fresh


def _inventory_fresh() -> dg.AssetChecksDefinition:
    @dg.asset_check(asset=INVENTORY_SNAPSHOTS)
    def inventory_snapshots_fresh(
        context: dg.AssetCheckExecutionContext, warehouse: WarehouseResource
    ) -> dg.AssetCheckResult:
        """Every registered customer's stock reaches the last complete hour (two hours' grace)."""
        due = _hour_text(warehouse.now() - INVENTORY_DUE)
        latest: dict[str, str | None] = {}
        for customer_id in context.instance.get_dynamic_partitions(customers.name):
            customer = {"customer_id": customer_id}
            days = warehouse.partition_values("inventory_snapshots", customer, "snapshot_date")
            hours = (
                warehouse.partition_values(
                    "inventory_snapshots", {**customer, "snapshot_date": days[-1]}, "hour"
                )
                if days
                else []
            )
            latest[customer_id] = f"{days[-1]}T{hours[-1]}:00Z" if hours else None
        return _freshness(latest, due, "hour of stock")

    return inventory_snapshots_fresh


def _hour_text(at: datetime) -> str:
    """The start of the UTC hour holding `at`, as the partition folders spell it."""
    return at.astimezone(UTC).strftime("%Y-%m-%dT%H:00Z")


def build_unified_checks(readers: Sequence[SourceReader]) -> list[dg.AssetChecksDefinition]:
    """The checks of the unified tables built over `readers`."""
    return [
        _ids_unique(),
        _lines_match_totals(readers),
        _row_count_matches(readers),
        _stores_and_products_exist(),
        _transactions_fresh(),
        _inventory_fresh(),
    ]
