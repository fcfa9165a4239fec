"""Shopify sales through Dagster into `transactions`, exact to the truth, beside Square's.

The small world's shops are connected with their custom apps' tokens; every business date is
materialized (shop and locations, today's catalog, orders and transactions per customer and
day, with the unified checks) against the sandbox over loopback, and read back through the
DuckDB views. One customer trades on both Square and Shopify; one on Shopify alone.

One deliberate difference from `truth_lines`: a line whose variant has since been deleted has no
product, because Shopify's GraphQL API returns `variant: null` for it (the truth keeps the id).
"""

from collections.abc import Iterator
from datetime import date, timedelta
from pathlib import Path
from typing import Any

import dagster as dg
import pytest
from conftest import FROZEN_NOW
from warehouse_helpers import QUIET, Lakehouse, connect_shops, day_key, lakehouse

from shelfops_pipeline.sandbox.shopify.bulk import BulkSettings
from shelfops_pipeline.sandbox.shopify.endpoint import GraphQLSettings
from shelfops_pipeline.sandbox.shopify.model import ShopifyView
from shelfops_pipeline.sandbox.truth import COLUMNS, truth_lines
from shelfops_pipeline.sources.shopify.assets import shopify_assets, shopify_reader
from shelfops_pipeline.sources.square.assets import square_assets, square_reader
from shelfops_pipeline.warehouse.assets import build_unified_assets
from shelfops_pipeline.warehouse.checks import build_unified_checks

READERS = [square_reader, shopify_reader]
ASSETS = [*square_assets, *shopify_assets, *build_unified_assets(READERS)]
CHECKS = build_unified_checks(READERS)
SELECT = f"SELECT {', '.join(COLUMNS)} FROM shelfops.transactions"
PAGED = {"ops": {"shopify__orders": {"config": {"bulk_after_days": 10_000}}}}


class Synced:
    def __init__(self, house: Lakehouse, both: str, shopify_only: str) -> None:
        self.house = house
        self.both = both
        self.shopify_only = shopify_only
        self.results: list[dg.ExecuteInProcessResult] = []

    def materialize(
        self, keys: list[str], partition: str | dict[str, str], run_config: Any = None
    ) -> dg.ExecuteInProcessResult:
        selected = [next(a for a in ASSETS if a.key.to_user_string() == k) for k in keys]
        key = partition if isinstance(partition, str) else dg.MultiPartitionKey(partition)
        result = dg.materialize(
            [*ASSETS, *CHECKS],
            selection=dg.AssetSelection.assets(*selected)
            | dg.AssetSelection.checks_for_assets(*selected),
            partition_key=key,
            resources=self.house.resources,
            instance=self.house.instance,
            run_config={**QUIET, **(run_config or {})},
        )
        self.results.append(result)
        return result


@pytest.fixture(scope="module")
def synced(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Synced]:
    with lakehouse(tmp_path_factory.mktemp("home")) as house:
        base_url = house.resources["square"].base_url.removesuffix("/square")
        shops = connect_shops(house, base_url)
        both = next(c for c in shops if c in house.customers)
        shopify_only = next(c for c in shops if c not in house.customers)
        house.instance.add_dynamic_partitions("customers", [shopify_only])
        state = Synced(house, both, shopify_only)
        today = FROZEN_NOW.date()
        state.materialize(["square/locations", "shopify/locations", "stores"], both)
        state.materialize(["shopify/locations", "stores"], shopify_only)
        for day in house.world.business_days():
            state.materialize(
                ["square/orders", "shopify/orders", "transactions"], day_key(both, day), PAGED
            )
            state.materialize(["shopify/orders", "transactions"], day_key(shopify_only, day), PAGED)
        state.materialize(["shopify/catalog", "products"], day_key(shopify_only, today))
        yield state


def _truth(house: Lakehouse, day: date, source: str) -> set[tuple[Any, ...]]:
    view = ShopifyView(house.world)
    lines = set()
    for line in truth_lines(house.world, day):
        if line.source_system != source:
            continue
        row = {name: getattr(line, name) for name in COLUMNS}
        if source == "shopify" and row["product_id"]:
            shop = next(s for s in house.world.shops if s.customer_id == line.customer_id)
            if view.variant(shop, int(row["product_id"]), FROZEN_NOW) is None:
                row["product_id"] = ""
        lines.add(tuple(row[name] for name in COLUMNS))
    return lines


def _warehouse(house: Lakehouse, day: date, source: str) -> set[tuple[Any, ...]]:
    rows = house.query(f"{SELECT} WHERE business_date = ? AND source_system = ?", day, source)
    assert len(rows) == len(set(rows))
    return set(rows)


def test_every_business_date_equals_the_shopify_truth(synced: Synced) -> None:
    house = synced.house
    total = 0
    for day in house.world.business_days():
        expected = _truth(house, day, "shopify")
        assert _warehouse(house, day, "shopify") == expected, day
        total += len(expected)
    assert total > 500
    kinds = {row[0] for row in house.query(f"SELECT DISTINCT kind FROM ({SELECT})")}
    assert kinds == {"sale", "return"}


def test_a_customer_on_both_sources_has_both_sales_side_by_side(synced: Synced) -> None:
    house = synced.house
    rows = house.query(
        "SELECT source_system, count(*) FROM shelfops.transactions WHERE customer_id = ? "
        "GROUP BY source_system ORDER BY source_system",
        synced.both,
    )
    counts = dict(rows)
    assert set(counts) == {"shopify", "square"} and min(counts.values()) > 50
    for day in house.world.business_days():
        square_truth = {line for line in _truth(house, day, "square") if line[1] == synced.both}
        assert _warehouse(house, day, "square") == square_truth, day
    stores = set(
        house.query(
            "SELECT source_system, kind FROM shelfops.stores WHERE customer_id = ?", synced.both
        )
    )
    assert {("shopify", "online"), ("shopify", "physical"), ("square", "physical")} <= stores


def test_every_partitioned_check_passes(synced: Synced) -> None:
    """Lines match Shopify's reported order totals and counts; ids are unique. (Freshness looks
    at the latest day only; products exist is left out: the catalog was synced for one customer.)"""
    evaluations = [
        check
        for result in synced.results
        for check in result.get_asset_check_evaluations()
        if check.check_name
        in {
            "transactions_ids_unique",
            "transactions_lines_match_order_totals",
            "transactions_row_count_matches_source",
        }
    ]
    assert len(evaluations) == 3 * 2 * len(synced.house.world.business_days())
    assert [(e.check_name, e.metadata.get("examples")) for e in evaluations if not e.passed] == []


def past_hour_of_stock(synced: Synced, customer: str) -> dg.ExecuteInProcessResult:
    partition = {"customer": customer, "hour": "2026-11-04-10:00"}
    selected = [next(a for a in ASSETS if a.key.to_user_string() == "shopify/inventory")]
    return dg.materialize(
        [*ASSETS],
        selection=dg.AssetSelection.assets(*selected),
        partition_key=dg.MultiPartitionKey(partition),
        resources=synced.house.resources,
        instance=synced.house.instance,
        run_config=QUIET,
        raise_on_error=False,
    )


def test_a_past_hour_of_stock_fails_clearly(synced: Synced) -> None:
    result = past_hour_of_stock(synced, synced.shopify_only)
    assert not result.success
    failure = next(e for e in result.all_events if e.is_step_failure)
    assert "Shopify serves only the current stock" in str(failure.step_failure_data.error)


def test_a_past_hour_of_a_customer_without_a_shop_is_empty_not_failed(synced: Synced) -> None:
    square_only = next(c for c in synced.house.customers if c != synced.both)
    result = past_hour_of_stock(synced, square_only)
    assert result.success
    (materialization,) = result.asset_materializations_for_node("shopify__inventory")
    assert materialization.metadata["shopify_connected"].value is False


def test_the_last_complete_hour_of_stock_is_written(synced: Synced) -> None:
    hour = (FROZEN_NOW.replace(minute=0) - timedelta(hours=1)).strftime("%Y-%m-%d-%H:00")
    partition = {"customer": synced.shopify_only, "hour": hour}
    result = synced.materialize(["shopify/inventory", "inventory_snapshots"], partition)
    assert result.success
    rows = synced.house.query(
        "SELECT count(*) FROM shelfops.inventory_snapshots WHERE source_system = 'shopify'"
    )
    assert rows[0][0] > 0


def test_an_old_day_read_in_bulk_equals_the_paged_day(synced: Synced) -> None:
    house = synced.house
    day = house.world.business_days()[0]
    partition = day_key(synced.shopify_only, day)
    before = _warehouse(house, day, "shopify")
    bulk = {"ops": {"shopify__orders": {"config": {"bulk_after_days": 0}}}}
    result = synced.materialize(["shopify/orders", "transactions"], partition, bulk)
    metadata = result.asset_materializations_for_node("shopify__orders")[0].metadata
    assert metadata["bulk"].value is True
    assert _warehouse(house, day, "shopify") == before
    state = Path(house.home) / "shopify" / "shopify-bulk-operations.sqlite"
    assert state.exists()


def test_a_failed_bulk_export_fails_the_partition_and_writes_nothing(tmp_path: Path) -> None:
    failing = GraphQLSettings(bulk=BulkSettings(objects_per_second=100_000, fail_after_objects=25))
    with lakehouse(tmp_path, shopify=failing) as house:
        base_url = house.resources["square"].base_url.removesuffix("/square")
        shops = connect_shops(house, base_url)
        customer = next(c for c in shops if c not in house.customers)
        house.instance.add_dynamic_partitions("customers", [customer])
        Synced(house, "", customer).materialize(["shopify/locations", "stores"], customer)
        day = house.world.business_days()[0]
        orders = next(a for a in ASSETS if a.key.to_user_string() == "shopify/orders")
        result = dg.materialize(
            [*ASSETS, *CHECKS],
            selection=dg.AssetSelection.assets(orders),
            partition_key=dg.MultiPartitionKey(day_key(customer, day)),
            resources=house.resources,
            instance=house.instance,
            run_config={**QUIET, "ops": {"shopify__orders": {"config": {"bulk_after_days": 0}}}},
            raise_on_error=False,
        )
        assert not result.success
        (failure,) = [e for e in result.all_events if e.is_step_failure]
        assert failure.step_failure_data is not None
        message = str(failure.step_failure_data.error)
        assert "FAILED" in message, message
        written = list(Path(tmp_path, "lake").rglob(f"*{customer}*/business_date={day}/*.parquet"))
        assert written == []
