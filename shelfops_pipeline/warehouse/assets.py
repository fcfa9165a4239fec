"""The unified tables: stores, products, inventory_snapshots and transactions, from every source.

`build_unified_assets` makes one asset per table over the given sources' readers, so a new source
joins by adding its reader. Each run replaces exactly its partition of the Parquet lake, streaming
rows in batches; the analysts' DuckDB file gets a view per table the first time it is written.
"""

from collections.abc import Callable, Iterable, Iterator, Sequence
from typing import Any

import dagster as dg
import pyarrow as pa

from shelfops_pipeline.warehouse import schema
from shelfops_pipeline.warehouse.lake import write_rows
from shelfops_pipeline.warehouse.metadata import column_schema, log_summary, partition_metadata
from shelfops_pipeline.warehouse.partitions import (
    customer_day,
    customer_days,
    customer_hour,
    customer_hours,
    customers,
)
from shelfops_pipeline.warehouse.resources import WarehouseResource
from shelfops_pipeline.warehouse.sources import RawPartitionMissing, SourceReader

GROUP = "warehouse"
KINDS = {"parquet", "duckdb"}

RowsOf = Callable[[SourceReader, WarehouseResource, str], Iterable[Any]]


def _publish(context: dg.AssetExecutionContext, warehouse: WarehouseResource, table: str) -> None:
    """Create the DuckDB views once per table; they read every later partition by themselves.

    A marker in the lake remembers that `table` has its view, so routine runs leave the DuckDB
    file alone (an analyst may hold it open). When another process holds it for long, the run
    still succeeds with a warning: the lake is written, and the next run publishes.
    """
    marker = warehouse.lake / f".view-{table}"
    if marker.exists() and warehouse.database.exists():
        return
    if not warehouse.publish():
        context.log.warning("the view of %s is created by the next run", table)
        return
    marker.touch()


def _counted(rows: Iterable[Any], counts: dict[str, int], source: str) -> Iterator[Any]:
    counts[source] = 0
    for row in rows:
        counts[source] += 1
        yield row


def _build(
    name: str,
    partitions_def: dg.PartitionsDefinition,
    table_schema: pa.Schema,
    readers: Sequence[SourceReader],
    deps: list[dg.AssetKey],
    lake_partition: Callable[[str], dict[str, str]],
    rows_of: RowsOf,
    description: str,
) -> dg.AssetsDefinition:
    @dg.asset(
        name=name,
        group_name=GROUP,
        partitions_def=partitions_def,
        deps=deps,
        kinds=KINDS,
        description=description,
        metadata={
            "dagster/column_schema": column_schema(table_schema),
            "dagster/table_name": _qualified(name),
        },
    )
    def unified(
        context: dg.AssetExecutionContext, warehouse: WarehouseResource
    ) -> dg.MaterializeResult:
        partition = lake_partition(context.partition_key)
        counts: dict[str, int] = {}
        try:
            with warehouse.writer(name, partition, table_schema) as writer:
                for reader in readers:
                    rows = rows_of(reader, warehouse, context.partition_key)
                    write_rows(writer, _counted(rows, counts, reader.source), table_schema)
        except RawPartitionMissing as error:
            raise dg.Failure(description=f"{name} {context.partition_key}: {error}") from error
        total = sum(counts.values())
        _publish(context, warehouse, name)
        log_summary(context, total, name, counts=counts)
        return dg.MaterializeResult(
            metadata={
                **partition_metadata(
                    _qualified(name), warehouse.file(name, partition), table_schema, total
                ),
                **{f"rows_from_{source}": n for source, n in counts.items()},
            }
        )

    return unified


def _qualified(name: str) -> str:
    return f"shelfops.{name}"


def build_unified_assets(readers: Sequence[SourceReader]) -> list[dg.AssetsDefinition]:
    """The four unified tables over `readers`, each depending on every source's raw asset."""

    def customer_partition(key: str) -> dict[str, str]:
        return {"customer_id": key}

    def day_partition(key: str) -> dict[str, str]:
        return customer_day(key).lake_partition

    def hour_partition(key: str) -> dict[str, str]:
        return customer_hour(key).lake_partition

    return [
        _build(
            "stores",
            customers,
            schema.STORES,
            readers,
            [r.raw.stores for r in readers],
            customer_partition,
            lambda r, w, key: r.stores(w, key),
            "Every store of one customer in every source: name, time zone, currency.",
        ),
        _build(
            "products",
            customer_days,
            schema.PRODUCTS,
            readers,
            [r.raw.products for r in readers],
            day_partition,
            lambda r, w, key: r.products(w, customer_day(key)),
            "Product versions a customer's catalog sync found on one day: name, SKU and price "
            "valid from `valid_from`; the latest version at or before a time tells what a "
            "product was called and priced at then.",
        ),
        _build(
            "inventory_snapshots",
            customer_hours,
            schema.INVENTORY_SNAPSHOTS,
            readers,
            [r.raw.inventory for r in readers],
            hour_partition,
            lambda r, w, key: r.inventory(w, customer_hour(key)),
            "Stock on hand and available per store and product at the end of one UTC hour.",
        ),
        _build(
            "transactions",
            customer_days,
            schema.TRANSACTIONS,
            readers,
            [r.raw.transactions for r in readers],
            day_partition,
            lambda r, w, key: r.transactions(w, customer_day(key)),
            "Every sold or returned line of one customer on one business day (the store's own "
            "date), with exact quantities and amounts in the line's currency.",
        ),
    ]
