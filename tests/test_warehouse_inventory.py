"""Hourly stock: `inventory_snapshots` holds each item's level at the end of the hour, exactly as
the sandbox's stock curves have it, rebuilt from Square's current counts and change history; an
hour not over yet, or one before the history reaches, fails and says why."""

from collections.abc import Iterator
from datetime import datetime, timedelta
from decimal import Decimal

import pytest
from conftest import FROZEN_NOW
from warehouse_helpers import Lakehouse, lakehouse

from shelfops_pipeline.sandbox.square.inventory import TRACKING_LEAD
from shelfops_pipeline.warehouse.partitions import CustomerHour

STOCK = ["square/inventory", "inventory_snapshots"]
LAST_COMPLETE_HOUR = datetime(2026, 11, 5, 17, tzinfo=FROZEN_NOW.tzinfo)
# New York's repeated 1 AM on the day clocks went back: 05:00 and 06:00 UTC.
DST_HOURS = (
    datetime(2026, 11, 1, 5, tzinfo=FROZEN_NOW.tzinfo),
    datetime(2026, 11, 1, 6, tzinfo=FROZEN_NOW.tzinfo),
)


def hour_key(customer: str, hour: datetime) -> dict[str, str]:
    return {"customer": customer, "hour": hour.strftime("%Y-%m-%d-%H:%M")}


@pytest.fixture(scope="module")
def house(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Lakehouse]:
    with lakehouse(tmp_path_factory.mktemp("home")) as running:
        for customer in running.customers:
            assert running.materialize(["square/locations", "stores"], customer).success
        yield running


def _curve_levels(
    house: Lakehouse, customer: str, hour: datetime
) -> dict[tuple[str, str], Decimal]:
    """The sandbox's stock of every tracked item and store at the end of `hour`."""
    world = house.world
    merchant = house.customers[customer]
    end = hour + timedelta(hours=1)
    levels = {}
    for item in world.items(merchant):
        if not item.exists_at(world.now()):
            continue
        for variation in item.variations:
            for store in world.stores_of(merchant):
                curve = world.stock(variation.id, store.id, variation.sold_by_weight)
                levels[(store.id, variation.id)] = curve.quantity(curve.hour_of(end))
    return levels


def _snapshot(house: Lakehouse, customer: str, hour: datetime) -> dict[tuple[str, str], Decimal]:
    table = house.warehouse.read("inventory_snapshots", CustomerHour(customer, hour).lake_partition)
    assert table is not None
    rows = table.to_pylist()
    assert all(r["on_hand"] == r["available"] and r["snapshot_hour"] == hour for r in rows)
    return {(r["store_id"], r["product_id"]): r["available"] for r in rows}


def test_each_customers_last_hour_matches_the_stock_curves(house: Lakehouse) -> None:
    results = []
    for customer in sorted(house.customers):
        results.append(house.materialize(STOCK, hour_key(customer, LAST_COMPLETE_HOUR)))
        assert _snapshot(house, customer, LAST_COMPLETE_HOUR) == _curve_levels(
            house, customer, LAST_COMPLETE_HOUR
        )
    weighed = [
        q
        for q in _snapshot(house, sorted(house.customers)[0], LAST_COMPLETE_HOUR).values()
        if q != q.to_integral_value()
    ]
    assert weighed, "goods sold by weight should have fractional stock"
    first, last = (r.get_asset_check_evaluations() for r in (results[0], results[-1]))
    assert [e.passed for e in first if e.check_name == "inventory_snapshots_fresh"] == [False]
    assert [e.passed for e in last if e.check_name == "inventory_snapshots_fresh"] == [True]


def test_the_repeated_hour_of_the_dst_change_is_rebuilt_from_the_history(house: Lakehouse) -> None:
    customer = next(
        c
        for c, m in house.customers.items()
        if any(s.timezone == "America/New_York" for s in house.world.stores_of(m))
    )
    for hour in DST_HOURS:
        result = house.materialize(STOCK, hour_key(customer, hour))
        metadata = next(
            e
            for e in result.get_asset_materialization_events()
            if e.asset_key.path == ["square", "inventory"]
        ).materialization.metadata
        assert metadata["api_later_changes"].value > 1000
        assert _snapshot(house, customer, hour) == _curve_levels(house, customer, hour)


def test_an_hour_not_over_yet_fails(house: Lakehouse) -> None:
    customer = sorted(house.customers)[0]
    current = LAST_COMPLETE_HOUR + timedelta(hours=1)
    failed = house.materialize(STOCK, hour_key(customer, current), raise_on_error=False)
    assert not failed.success
    message = failed.get_step_failure_events()[0].event_specific_data.error.message
    assert "its closing stock is not known yet" in message
    assert not house.warehouse.file(
        "inventory_snapshots", CustomerHour(customer, current).lake_partition
    ).exists()


def test_an_hour_before_stock_tracking_began_fails_rather_than_guessing(house: Lakehouse) -> None:
    customer = sorted(house.customers)[0]
    tracking_start = house.world.history_start - TRACKING_LEAD
    before = tracking_start - timedelta(hours=3)
    failed = house.materialize(STOCK, hour_key(customer, before), raise_on_error=False)
    assert not failed.success
    message = failed.get_step_failure_events()[0].event_specific_data.error.message
    assert "cannot be rebuilt" in message and "never written as history" in message
    assert not house.warehouse.file(
        "raw/square/inventory", CustomerHour(customer, before).lake_partition
    ).exists()
    after = tracking_start + timedelta(hours=2)
    assert house.materialize(STOCK, hour_key(customer, after)).success
    assert _snapshot(house, customer, after) == _curve_levels(house, customer, after)
