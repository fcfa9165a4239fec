"""The warehouse's sales: Square orders through Dagster into `transactions`, exact to the truth.

Every business date of the small world is materialized in this process (locations and stores per
customer, today's catalog and products, then orders and transactions per customer and day, with
their checks) against the sandbox over loopback, and read back as an analyst does, through the
DuckDB views. Reruns, a write that dies midway and a corrupted day are then played on that lake.
"""

from collections.abc import Iterator
from datetime import date, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import dagster as dg
import duckdb
import pyarrow.parquet as pq
import pytest
from conftest import FROZEN_NOW
from warehouse_helpers import Lakehouse, day_key, lakehouse

from shelfops_pipeline.sandbox.truth import COLUMNS, truth_lines
from shelfops_pipeline.sources.square.assets import square_reader
from shelfops_pipeline.warehouse.model import TransactionRow
from shelfops_pipeline.warehouse.partitions import CustomerDay
from shelfops_pipeline.warehouse.resources import WarehouseResource

SALES = ["square/orders", "transactions"]
SELECT_TRUTH_COLUMNS = f"SELECT {', '.join(COLUMNS)} FROM shelfops.transactions"


class History:
    """The lake after every day was synced, and what each run reported."""

    def __init__(self, house: Lakehouse) -> None:
        self.house = house
        self.results: list[dg.ExecuteInProcessResult] = []


@pytest.fixture(scope="module")
def history(tmp_path_factory: pytest.TempPathFactory) -> Iterator[History]:
    with lakehouse(tmp_path_factory.mktemp("home")) as house:
        synced = History(house)
        today = FROZEN_NOW.date()
        for customer in sorted(house.customers):
            synced.results.append(house.materialize(["square/locations", "stores"], customer))
            synced.results.append(
                house.materialize(["square/catalog", "products"], day_key(customer, today))
            )
        for customer in sorted(house.customers):
            for day in house.world.business_days():
                synced.results.append(house.materialize(SALES, day_key(customer, day)))
        yield synced


def _truth(house: Lakehouse, day: date) -> set[tuple[Any, ...]]:
    return {
        tuple(getattr(line, name) for name in COLUMNS)
        for line in truth_lines(house.world, day)
        if line.source_system == "square"
    }


def _warehouse_day(house: Lakehouse, day: date) -> set[tuple[Any, ...]]:
    rows = house.query(f"{SELECT_TRUTH_COLUMNS} WHERE business_date = ?", day)
    assert len(rows) == len(set(rows))
    return set(rows)


def test_every_business_date_equals_the_truth(history: History) -> None:
    house = history.house
    days = house.world.business_days()
    assert date(2026, 11, 1) in days
    for day in days:
        assert _warehouse_day(house, day) == _truth(house, day), day
    everything = house.query(f"{SELECT_TRUTH_COLUMNS}")
    assert len(everything) == sum(len(_truth(house, day)) for day in days)


def test_the_hard_cases_are_in_the_history(history: History) -> None:
    house = history.house
    jpy = house.query(
        "SELECT net_amount, unit_price FROM shelfops.transactions WHERE currency = 'JPY'"
    )
    assert jpy and all(v == v.to_integral_value() for row in jpy for v in row)
    assert house.query(
        "SELECT count(*) FROM shelfops.transactions WHERE quantity <> round(quantity)"
    )[0][0]
    dst_day = house.query(
        "SELECT count(*) FROM shelfops.transactions WHERE business_date = DATE '2026-11-01' "
        "AND store_id IN (SELECT store_id FROM shelfops.stores WHERE timezone LIKE 'America/%')"
    )
    assert dst_day[0][0] > 0
    returns = house.query(
        "SELECT r.order_id, r.business_date FROM shelfops.transactions r WHERE r.kind = 'return'"
    )
    sale_days = dict(
        house.query("SELECT order_id, min(business_date) FROM shelfops.transactions GROUP BY 1")
    )
    later = 0
    for order_id, returned_on in returns:
        merchant = house.customers[_customer_of_order(house, order_id)]
        original = house.world.find_order(merchant, order_id)
        assert original is not None and original.source_order_id is not None
        if original.source_order_id in sale_days:
            later += sale_days[original.source_order_id] < returned_on
    assert later > 0


def _customer_of_order(house: Lakehouse, order_id: str) -> str:
    return house.query(
        "SELECT customer_id FROM shelfops.transactions WHERE order_id = ?", order_id
    )[0][0]


def test_late_closed_orders_count_on_their_closing_day_and_unsold_orders_are_absent(
    history: History,
) -> None:
    house = history.house
    world = house.world
    now = world.now()
    dated = dict(house.query("SELECT DISTINCT order_id, business_date FROM shelfops.transactions"))
    after_midnight, unsold = 0, 0
    for store in world.stores:
        zone = ZoneInfo(store.timezone)
        for day in world.business_days():
            for order in world.orders_of_store_day(store.id, day):
                if not order.visible_at(now):
                    continue
                state = order.state_at(now)
                if state in ("CANCELED", "OPEN"):
                    unsold += 1
                    assert order.id not in dated
                    continue
                closed = order.closed_at_as_of(now)
                if closed is None:
                    continue
                closed_day = closed.astimezone(zone).date()
                if closed_day > order.created_at.astimezone(zone).date():
                    after_midnight += 1
                    assert dated[order.id] == closed_day
    assert after_midnight > 0 and unsold > 0


def test_every_check_is_attached_and_passes(history: History) -> None:
    evaluations = [e for r in history.results for e in r.get_asset_check_evaluations()]
    names = {e.check_name for e in evaluations}
    assert names == {
        "transactions_ids_unique",
        "transactions_lines_match_order_totals",
        "transactions_row_count_matches_source",
        "transactions_stores_and_products_exist",
        "transactions_fresh",
    }
    partitioned = [e for e in evaluations if e.check_name != "transactions_fresh"]
    assert len(partitioned) == 4 * len(history.house.customers) * len(
        history.house.world.business_days()
    )
    assert all(e.passed for e in partitioned), [e.check_name for e in partitioned if not e.passed]
    last = history.results[-1].get_asset_check_evaluations()
    assert [e.passed for e in last if e.check_name == "transactions_fresh"] == [True]


def test_metadata_counts_rows_and_calls_and_holds_no_token(history: History) -> None:
    house = history.house
    text = []
    for result in history.results:
        for event in result.get_asset_materialization_events():
            metadata = event.materialization.metadata
            assert metadata["dagster/partition_row_count"].value >= 0
            assert "dagster/column_schema" in metadata and "preview" in metadata
            if event.asset_key.path[0] == "square":
                assert metadata["http_calls"].value >= 1
                assert "http_retries" in metadata
            text.extend(f"{key}={value.value}" for key, value in metadata.items())
    dumped = "\n".join(text)
    tokens = house.access_tokens()
    assert len(tokens) == len(house.customers)
    assert all(len(token) > 20 and token not in dumped for token in tokens)
    day = house.world.business_days()[3]
    customer = sorted(house.customers)[0]
    written = house.query(
        "SELECT count(*) FROM shelfops.transactions WHERE customer_id = ? AND business_date = ?",
        customer,
        day,
    )[0][0]
    reported = [
        e.materialization.metadata["dagster/partition_row_count"].value
        for r in history.results
        for e in r.get_asset_materialization_events()
        if e.asset_key == dg.AssetKey("transactions")
        and e.partition == str(dg.MultiPartitionKey(day_key(customer, day)))
    ]
    assert reported == [written]


def _day_files(house: Lakehouse, customer: str, day: date) -> list[str]:
    folder = house.warehouse.file("transactions", CustomerDay(customer, day).lake_partition).parent
    return sorted(p.name for p in folder.iterdir())


def test_materializing_a_day_again_leaves_exactly_the_truth(history: History) -> None:
    house = history.house
    day = date(2026, 11, 1)
    for customer in sorted(house.customers):
        assert house.materialize(SALES, day_key(customer, day)).success
        assert _day_files(house, customer, day) == ["part.parquet"]
    assert _warehouse_day(house, day) == _truth(house, day)


def test_a_write_that_dies_midway_leaves_the_previous_day_whole(
    history: History, monkeypatch: pytest.MonkeyPatch
) -> None:
    house = history.house
    customer, day = sorted(house.customers)[0], date(2026, 10, 31)
    original_write = pq.ParquetWriter.write_table

    def write_then_die(self: pq.ParquetWriter, table: Any, *args: Any, **kwargs: Any) -> None:
        original_write(self, table, *args, **kwargs)
        raise OSError("No space left on device")

    with monkeypatch.context() as patch:
        patch.setattr(pq.ParquetWriter, "write_table", write_then_die)
        failed = house.materialize(["transactions"], day_key(customer, day), raise_on_error=False)
    assert not failed.success
    assert _day_files(house, customer, day) == ["part.parquet"]
    assert _warehouse_day(house, day) == _truth(house, day)
    folder = house.warehouse.file("transactions", CustomerDay(customer, day).lake_partition).parent
    (folder / ".part-killed.tmp").write_bytes(b"PAR1 half a file from a killed run")
    assert _warehouse_day(house, day) == _truth(house, day)
    assert house.materialize(["transactions"], day_key(customer, day)).success
    assert _warehouse_day(house, day) == _truth(house, day)
    (folder / ".part-killed.tmp").unlink()


class RepeatingFirstLine:
    """Square's reader, except that each day's first transaction line comes out twice."""

    source = square_reader.source
    raw = square_reader.raw

    def __getattr__(self, name: str) -> Any:
        return getattr(square_reader, name)

    def transactions(
        self, warehouse: WarehouseResource, day: CustomerDay
    ) -> Iterator[TransactionRow]:
        rows = iter(square_reader.transactions(warehouse, day))
        first = next(rows)
        yield from (first, first, *rows)


def test_a_repeated_transaction_id_fails_the_blocking_uniqueness_check(history: History) -> None:
    house = history.house
    key = day_key(sorted(house.customers)[1], date(2026, 11, 2))
    corrupted = house.materialize(
        ["transactions"], key, readers=[RepeatingFirstLine()], raise_on_error=False
    )
    assert not corrupted.success
    verdicts = {e.check_name: e for e in corrupted.get_asset_check_evaluations()}
    assert not verdicts["transactions_ids_unique"].passed
    assert verdicts["transactions_ids_unique"].metadata["repeated_ids"].value == 1
    assert not verdicts["transactions_row_count_matches_source"].passed
    assert (
        verdicts["transactions_lines_match_order_totals"].metadata["mismatched_orders"].value == 1
    )
    repaired = house.materialize(["transactions"], key)
    assert all(
        e.passed
        for e in repaired.get_asset_check_evaluations()
        if e.check_name != "transactions_fresh"
    )


def test_transactions_before_their_orders_were_synced_fail_clearly(history: History) -> None:
    house = history.house
    customer = sorted(house.customers)[0]
    unsynced = house.world.start_date - timedelta(days=30)
    failed = house.materialize(["transactions"], day_key(customer, unsynced), raise_on_error=False)
    assert not failed.success
    message = failed.get_step_failure_events()[0].event_specific_data.error.message
    assert f"square/orders has no partition for customer {customer} at {unsynced}" in message
    assert not house.warehouse.file(
        "transactions", CustomerDay(customer, unsynced).lake_partition
    ).exists()


def test_the_views_work_from_any_directory(
    history: History, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    house = history.house
    monkeypatch.chdir(house.home.parent)
    relative = WarehouseResource(shelfops_home=house.home.name)
    relative.publish()
    monkeypatch.chdir(tmp_path)
    connection = duckdb.connect(str(house.warehouse.database), read_only=True)
    try:
        count = connection.execute("SELECT count(*) FROM shelfops.transactions").fetchone()
    finally:
        connection.close()
    expected = sum(len(_truth(house, day)) for day in house.world.business_days())
    assert count == (expected,)
