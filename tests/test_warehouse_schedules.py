"""Schedules ask for one run per registered customer and partition; the sensor registers connected
customers once, however often its tick is replayed."""

from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import dagster as dg
import pytest
from cryptography.fernet import Fernet, MultiFernet

from shelfops_pipeline.credentials.models import TokenSet
from shelfops_pipeline.credentials.paths import store_path
from shelfops_pipeline.credentials.secret import Secret
from shelfops_pipeline.credentials.store import CredentialStore
from shelfops_pipeline.warehouse.schedules import (
    daily_catalog_schedule,
    daily_stores_schedule,
    daily_transactions_schedule,
    hourly_inventory_schedule,
)
from shelfops_pipeline.warehouse.sensors import connected_customers_sensor

CUSTOMERS = ["cust-001", "cust-002"]
TICK = datetime(2026, 11, 5, 12, 30, tzinfo=UTC)


@pytest.fixture
def instance() -> Iterator[dg.DagsterInstance]:
    with dg.instance_for_test() as test_instance:
        yield test_instance


def _requests(
    schedule: dg.ScheduleDefinition, instance: dg.DagsterInstance, tick: datetime = TICK
) -> list[dg.RunRequest]:
    context = dg.build_schedule_context(instance=instance, scheduled_execution_time=tick)
    result = schedule(context)
    assert isinstance(result, list), result
    assert len({r.run_key for r in result}) == len(result), "run keys repeat within a tick"
    return result


def _keys(requests: list[dg.RunRequest]) -> set[str]:
    return {str(r.partition_key) for r in requests}


def test_daily_sales_sync_the_previous_day_and_resync_the_two_before(
    instance: dg.DagsterInstance,
) -> None:
    instance.add_dynamic_partitions("customers", CUSTOMERS)
    requests = _requests(daily_transactions_schedule, instance)
    assert _keys(requests) == {
        f"{customer}|{day}"
        for customer in CUSTOMERS
        for day in ("2026-11-04", "2026-11-03", "2026-11-02")
    }


def test_daily_catalog_and_stores_cover_each_customer_once(instance: dg.DagsterInstance) -> None:
    instance.add_dynamic_partitions("customers", CUSTOMERS)
    assert _keys(_requests(daily_catalog_schedule, instance)) == {
        "cust-001|2026-11-04",
        "cust-002|2026-11-04",
    }
    assert _keys(_requests(daily_stores_schedule, instance)) == set(CUSTOMERS)


def test_hourly_inventory_asks_for_the_hour_that_just_ended(instance: dg.DagsterInstance) -> None:
    instance.add_dynamic_partitions("customers", CUSTOMERS)
    tick = datetime(2026, 11, 5, 0, 5, tzinfo=UTC)
    assert _keys(_requests(hourly_inventory_schedule, instance, tick)) == {
        "cust-001|2026-11-04-23:00",
        "cust-002|2026-11-04-23:00",
    }


def test_a_customer_registered_later_joins_the_next_tick(instance: dg.DagsterInstance) -> None:
    context = dg.build_schedule_context(instance=instance, scheduled_execution_time=TICK)
    assert isinstance(daily_catalog_schedule(context), dg.SkipReason)
    instance.add_dynamic_partitions("customers", ["cust-007"])
    assert _keys(_requests(daily_catalog_schedule, instance)) == {"cust-007|2026-11-04"}


def _connect(store: CredentialStore, customer_id: str) -> str:
    connection = store.upsert_connection(
        customer_id=customer_id,
        source="square",
        account=f"M-{customer_id}",
        scopes=["ORDERS_READ"],
        tokens=TokenSet(Secret("not-a-real-token"), None),
    )
    return connection.id


def _tick(instance: dg.DagsterInstance) -> dg.SensorResult | dg.SkipReason:
    result = connected_customers_sensor(dg.build_sensor_context(instance=instance))
    assert isinstance(result, dg.SensorResult | dg.SkipReason)
    return result


def test_the_sensor_registers_active_customers_once_even_when_replayed(
    instance: dg.DagsterInstance, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("SHELFOPS_HOME", str(tmp_path))
    assert isinstance(_tick(instance), dg.SkipReason)

    store = CredentialStore(store_path(), keys=MultiFernet([Fernet(Fernet.generate_key())]))
    for customer in CUSTOMERS:
        _connect(store, customer)
    store.mark(_connect(store, "cust-009"), "revoked")

    first = _tick(instance)
    replayed = _tick(instance)
    assert isinstance(first, dg.SensorResult)
    assert first.dynamic_partitions_requests == [
        dg.AddDynamicPartitionsRequest("customers", CUSTOMERS)
    ]
    assert [(r.run_key, r.partition_key) for r in first.run_requests or ()] == [
        ("register:cust-001", "cust-001"),
        ("register:cust-002", "cust-002"),
    ]
    assert replayed == first, "a tick that was not committed asks for the same runs again"

    instance.add_dynamic_partitions("customers", CUSTOMERS)
    assert isinstance(_tick(instance), dg.SkipReason)
    assert instance.get_dynamic_partitions("customers") == CUSTOMERS
