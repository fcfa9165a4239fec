"""The code location: each job rebuilds one unified table from its source assets, with its checks,
and the Square resource takes its URL and app from the environment when a run starts."""

import dagster as dg
import pytest

from shelfops_pipeline.definitions import defs
from shelfops_pipeline.warehouse.jobs import JOB_OF_TABLE


def test_the_code_location_loads_with_its_jobs_schedules_and_sensor() -> None:
    dg.Definitions.validate_loadable(defs)
    assert {s.name for s in defs.schedules or ()} == {
        "hourly_inventory_schedule",
        "daily_stores_schedule",
        "daily_catalog_schedule",
        "daily_transactions_schedule",
    }
    assert {s.name for s in defs.sensors or ()} == {
        "connected_customers_sensor",
        "webhook_events_sensor",
        "run_failure_alert_sensor",
    }


@pytest.mark.parametrize(
    ("table", "source_asset"),
    [
        ("stores", "locations"),
        ("products", "catalog"),
        ("transactions", "orders"),
        ("inventory_snapshots", "inventory"),
    ],
)
def test_each_job_rebuilds_one_table_from_each_sources_asset(table: str, source_asset: str) -> None:
    job = defs.resolve_job_def(JOB_OF_TABLE[table])
    keys = {key.to_user_string() for key in job.asset_layer.executable_asset_keys}
    assert keys == {table, f"square/{source_asset}", f"shopify/{source_asset}"}


def test_the_transactions_job_runs_every_transactions_check() -> None:
    job = defs.resolve_job_def(JOB_OF_TABLE["transactions"])
    checks = {key.name for key in job.asset_layer.asset_graph.asset_check_keys}
    assert {
        "transactions_ids_unique",
        "transactions_lines_match_order_totals",
        "transactions_row_count_matches_source",
        "transactions_stores_and_products_exist",
        "transactions_fresh",
    } <= checks


def test_a_run_without_the_square_url_in_the_environment_names_the_variable(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    for name in ("SHELFOPS_SQUARE_BASE_URL", "SHELFOPS_SQUARE_CLIENT_ID"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("SHELFOPS_SQUARE_CLIENT_SECRET", "unused")
    job = defs.resolve_job_def(JOB_OF_TABLE["stores"])
    with dg.instance_for_test() as instance:
        instance.add_dynamic_partitions("customers", ["cust-001"])
        with pytest.raises(dg.DagsterInvalidConfigError, match="SHELFOPS_SQUARE_BASE_URL"):
            job.execute_in_process(instance=instance, partition_key="cust-001")
