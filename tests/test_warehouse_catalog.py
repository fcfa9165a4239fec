"""The catalog syncs: the current catalog into `products`, incrementally, and never as history.

Square serves only today's catalog: yesterday's and today's partitions sync (the first one in
full, deleted items included, later ones only what changed since), a past day's fails and says
why, and a sale of a product the warehouse has not synced is flagged by its check.
"""

from collections.abc import Iterator
from datetime import date, timedelta
from pathlib import Path
from typing import Any

import pytest
from conftest import FROZEN_NOW
from warehouse_helpers import Lakehouse, day_key, lakehouse

from shelfops_pipeline.sandbox.world.config import minor_unit_digits
from shelfops_pipeline.sandbox.world.money import to_major

TODAY = FROZEN_NOW.date()
YESTERDAY = TODAY - timedelta(days=1)
CATALOG = ["square/catalog", "products"]
FULL_REFRESH = {"ops": {"square__catalog": {"config": {"full_refresh": True}}}}


@pytest.fixture(scope="module")
def house(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Lakehouse]:
    with lakehouse(tmp_path_factory.mktemp("home")) as running:
        for customer in running.customers:
            assert running.materialize(["square/locations", "stores"], customer).success
        yield running


def _metadata(result: Any, key: str) -> dict[str, Any]:
    events = [
        e for e in result.get_asset_materialization_events() if e.asset_key.to_user_string() == key
    ]
    assert len(events) == 1
    return {name: value.value for name, value in events[0].materialization.metadata.items()}


def _world_products(house: Lakehouse, customer: str) -> set[tuple[Any, ...]]:
    """What Square shows now: every variation of every item created so far, deleted or not."""
    merchant = house.customers[customer]
    now = house.world.now()
    expected = set()
    for item in house.world.items(merchant):
        if item.created_at > now:
            continue
        deleted = item.deleted_at is not None and item.deleted_at <= now
        for variation in item.variations:
            currency = house.world.stores_of(merchant)[0].currency
            price = to_major(variation.price_at(now), minor_unit_digits(currency))
            expected.add(
                (
                    variation.id,
                    item.id,
                    item.name_at(now),
                    variation.name,
                    variation.sku,
                    price,
                    deleted,
                )
            )
    return expected


def _products(house: Lakehouse, customer: str, day: date) -> set[tuple[Any, ...]]:
    partition = {"customer_id": customer, "business_date": day.isoformat()}
    table = house.warehouse.read("products", partition)
    assert table is not None
    columns = ["product_id", "item_id", "name", "variation_name", "sku", "unit_price", "is_deleted"]
    rows = table.select(columns).to_pylist()
    assert all(r["valid_from"] <= FROZEN_NOW for r in table.select(["valid_from"]).to_pylist())
    return {tuple(row[c] for c in columns) for row in rows}


def test_the_first_sync_takes_the_whole_catalog_and_later_ones_only_changes(
    house: Lakehouse,
) -> None:
    for customer in sorted(house.customers):
        first = house.materialize(CATALOG, day_key(customer, YESTERDAY))
        whole = _world_products(house, customer)
        assert any(product[-1] for product in whole), "the world should hold a deleted item"
        assert _products(house, customer, YESTERDAY) == whole
        items = _metadata(first, "square/catalog")["dagster/partition_row_count"]
        assert items == len({p[1] for p in whole})

        second = house.materialize(CATALOG, day_key(customer, TODAY))
        catalog = _metadata(second, "square/catalog")
        assert catalog["dagster/partition_row_count"] == 0
        assert catalog["since_version"] > 0
        assert _metadata(second, "products")["dagster/partition_row_count"] == 0

        again = house.materialize(CATALOG, day_key(customer, YESTERDAY))
        assert _metadata(again, "square/catalog")["dagster/partition_row_count"] == items

        full = house.materialize(CATALOG, day_key(customer, TODAY), run_config=FULL_REFRESH)
        assert _metadata(full, "square/catalog")["dagster/partition_row_count"] == items
        assert _products(house, customer, TODAY) == whole
    yen = house.query("SELECT unit_price FROM shelfops.products WHERE currency = 'JPY'")
    assert yen and all(price == price.to_integral_value() >= 10 for (price,) in yen)


def test_a_past_catalog_partition_fails_saying_the_api_has_only_the_current_one(
    house: Lakehouse,
) -> None:
    customer = sorted(house.customers)[0]
    past = TODAY - timedelta(days=5)
    failed = house.materialize(CATALOG, day_key(customer, past), raise_on_error=False)
    assert not failed.success
    message = failed.get_step_failure_events()[0].event_specific_data.error.message
    assert f"square/catalog cannot be synced for {past}" in message
    assert "serves only the current catalog" in message
    raw_file = house.warehouse.file(
        "raw/square/catalog", {"customer_id": customer, "business_date": past.isoformat()}
    )
    assert not raw_file.exists()
    assert not house.warehouse.file(
        "products", {"customer_id": customer, "business_date": past.isoformat()}
    ).exists()


def test_a_sale_of_an_unsynced_product_is_flagged(tmp_path: Path) -> None:
    with lakehouse(tmp_path / "home") as fresh:
        customer = sorted(fresh.customers)[0]
        assert fresh.materialize(["square/locations", "stores"], customer).success
        sales = fresh.materialize(["square/orders", "transactions"], day_key(customer, YESTERDAY))
        verdicts = {e.check_name: e for e in sales.get_asset_check_evaluations()}
        existence = verdicts["transactions_stores_and_products_exist"]
        assert not existence.passed and existence.metadata["missing_products"].value > 0
        assert existence.metadata["missing_stores"].value == 0
        assert fresh.materialize(CATALOG, day_key(customer, TODAY)).success
        again = fresh.materialize(["transactions"], day_key(customer, YESTERDAY))
        verdicts = {e.check_name: e for e in again.get_asset_check_evaluations()}
        assert verdicts["transactions_stores_and_products_exist"].passed
