"""The Dagster UI, served on loopback from workspace.yaml, shows the lineage from each Square source
asset to its unified table, the checks on the tables, and the schedules and sensor; under
`make ui`, the sensor registers the customers and a multi-partition backfill fills its partitions."""

import os
import shutil
import signal
import subprocess
import sys
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import httpx
import pytest
from service_helpers import REPO, graphql, service, wait_for, wait_until_answering

from shelfops_pipeline.credentials.keys import ensure_local_key_file
from shelfops_pipeline.sandbox.runner import free_loopback_port

# The webserver answers in about 4 s on 2 cores; the whole file must stay well under a minute.
pytestmark = pytest.mark.timeout(60)
READY_TIMEOUT_SECONDS = 45.0
STOP_TIMEOUT_SECONDS = 15.0

ASSET_GRAPH = """
{ assetNodes {
    assetKey { path } groupName description
    dependencyKeys { path }
    assetChecksOrError { ... on AssetChecks { checks { name } } }
    metadataEntries { label ... on TableSchemaMetadataEntry { schema { columns { name } } } }
} }
"""
AUTOMATION = """
{ repositoriesOrError { ... on RepositoryConnection { nodes {
    location { name }
    schedules { name cronSchedule executionTimezone pipelineName }
    sensors { name }
} } } }
"""


@pytest.fixture(scope="module")
def ui(tmp_path_factory: pytest.TempPathFactory) -> Iterator[httpx.Client]:
    """`dagster-webserver -w workspace.yaml` on a free loopback port, with a fresh instance."""
    home = tmp_path_factory.mktemp("dagster_home")
    shutil.copy(REPO / "dagster.yaml", home / "dagster.yaml")
    port = free_loopback_port()
    env = {
        **os.environ,
        "DAGSTER_HOME": str(home),
        "DAGSTER_DISABLE_TELEMETRY": "1",
        "SHELFOPS_HOME": str(tmp_path_factory.mktemp("shelfops_home")),
    }
    command = ["dagster-webserver", "-w", "workspace.yaml", "-h", "127.0.0.1", "-p", str(port)]
    log = home / "webserver.log"
    with (
        service(command, env, log, stop_timeout=STOP_TIMEOUT_SECONDS) as process,
        httpx.Client(base_url=f"http://127.0.0.1:{port}", timeout=30, trust_env=False) as client,
    ):
        wait_until_answering(client, process, log, READY_TIMEOUT_SECONDS)
        yield client


def test_each_source_asset_feeds_its_unified_table(ui: httpx.Client) -> None:
    nodes = {"/".join(n["assetKey"]["path"]): n for n in graphql(ui, ASSET_GRAPH)["assetNodes"]}
    parents = {
        key: {"/".join(dep["path"]) for dep in node["dependencyKeys"]}
        for key, node in nodes.items()
        if node["groupName"] == "warehouse"
    }
    assert parents == {
        "stores": {"square/locations", "shopify/locations"},
        "products": {"square/catalog", "shopify/catalog"},
        "inventory_snapshots": {"square/inventory", "shopify/inventory"},
        "transactions": {"square/orders", "shopify/orders"},
    }
    for source in ("square", "shopify"):
        group = {key for key, node in nodes.items() if node["groupName"] == source}
        assert group == {
            f"{source}/{name}" for name in ("locations", "catalog", "inventory", "orders")
        }
    assert all(node["description"] for node in nodes.values())


def test_the_checks_and_column_schemas_are_on_the_tables(ui: httpx.Client) -> None:
    nodes = {"/".join(n["assetKey"]["path"]): n for n in graphql(ui, ASSET_GRAPH)["assetNodes"]}
    transactions = nodes["transactions"]
    assert {c["name"] for c in transactions["assetChecksOrError"]["checks"]} == {
        "transactions_ids_unique",
        "transactions_lines_match_order_totals",
        "transactions_row_count_matches_source",
        "transactions_stores_and_products_exist",
        "transactions_fresh",
        "transactions_webhooks_reconciled",
        "transactions_webhook_dead_letters",
    }
    assert {c["name"] for c in nodes["inventory_snapshots"]["assetChecksOrError"]["checks"]} == {
        "inventory_snapshots_fresh"
    }
    schema = next(
        e for e in transactions["metadataEntries"] if e["label"] == "dagster/column_schema"
    )
    columns = [column["name"] for column in schema["schema"]["columns"]]
    assert columns[:2] == ["transaction_id", "customer_id"]
    assert "net_amount" in columns and "business_date" in columns


def test_the_schedules_and_the_customer_sensor_are_served(ui: httpx.Client) -> None:
    (location,) = graphql(ui, AUTOMATION)["repositoriesOrError"]["nodes"]
    assert location["location"]["name"] == "shelfops_pipeline"
    schedules = {
        s["name"]: (s["cronSchedule"], s["executionTimezone"], s["pipelineName"])
        for s in location["schedules"]
    }
    assert schedules == {
        "hourly_inventory_schedule": ("5 * * * *", "UTC", "inventory_job"),
        "daily_stores_schedule": ("15 12 * * *", "UTC", "stores_job"),
        "daily_catalog_schedule": ("30 12 * * *", "UTC", "catalog_job"),
        "daily_transactions_schedule": ("30 12 * * *", "UTC", "transactions_job"),
    }
    assert {s["name"] for s in location["sensors"]} == {
        "connected_customers_sensor",
        "webhook_events_sensor",
        "run_failure_alert_sensor",
    }


STORES_RUNS = """
{ runsOrError(filter: {pipelineName: "stores_job"}) { ... on Runs { results { status } } } }
"""
LAUNCH_BACKFILL = """
mutation($params: LaunchBackfillParams!) { launchPartitionBackfill(backfillParams: $params) {
    __typename ... on LaunchBackfillSuccess { backfillId } ... on PythonError { message }
} }
"""
BACKFILL_STATUS = """
query($id: String!) { partitionBackfillOrError(backfillId: $id) {
    ... on PartitionBackfill { status }
} }
"""
DONE = {"COMPLETED", "COMPLETED_SUCCESS", "COMPLETED_FAILED", "FAILED", "CANCELED"}


@pytest.mark.slow
@pytest.mark.skipif(
    os.environ.get("SHELFOPS_SLOW") != "1",
    reason="starts `dagster dev` and waits for a dozen runs (about 2 minutes); SHELFOPS_SLOW=1",
)
@pytest.mark.timeout(420)
def test_make_ui_registers_customers_and_runs_a_multi_partition_backfill(tmp_path: Path) -> None:
    ensure_local_key_file(tmp_path)
    (tmp_path / "dagster").mkdir()
    shutil.copy(REPO / "dagster.yaml", tmp_path / "dagster" / "dagster.yaml")
    env = {
        **{k: v for k, v in os.environ.items() if k != "SHELFOPS_ENCRYPTION_KEYS"},
        "SHELFOPS_HOME": str(tmp_path),
        "DAGSTER_HOME": str(tmp_path / "dagster"),
        "DAGSTER_DISABLE_TELEMETRY": "1",
    }
    port = free_loopback_port()
    shelfops = Path(sys.executable).parent / "shelfops"
    command = [str(shelfops), "ui", "--port", str(port), "--sandbox-port", "0"]
    log = tmp_path / "ui.log"
    with log.open("wb") as output:
        process = subprocess.Popen(
            command, cwd=REPO, env=env, stdout=output, stderr=subprocess.STDOUT,
            start_new_session=True,
        )  # fmt: skip
    try:
        with httpx.Client(base_url=f"http://127.0.0.1:{port}", timeout=30, trust_env=False) as ui:
            wait_until_answering(ui, process, log)

            def stores_synced() -> bool | None:
                runs = graphql(ui, STORES_RUNS)["runsOrError"]["results"]
                statuses = [run["status"] for run in runs]
                assert "FAILURE" not in statuses, log.read_text()[-3000:]
                # A daily stores schedule tick may add runs; the sensor's three must succeed.
                return statuses.count("SUCCESS") >= 3 or None

            wait_for("the sensor's three stores runs", 180, stores_synced)

            today = datetime.now(UTC).date()
            days = [str(today - timedelta(days=back)) for back in (5, 4)]
            params = {
                "assetSelection": [{"path": ["square", "orders"]}, {"path": ["transactions"]}],
                "partitionNames": [f"cust-001|{day}" for day in days],
            }
            reply = graphql(ui, LAUNCH_BACKFILL, params=params)["launchPartitionBackfill"]
            assert reply["__typename"] == "LaunchBackfillSuccess", reply

            def finished() -> str | None:
                backfill = graphql(ui, BACKFILL_STATUS, id=reply["backfillId"])
                status: str = backfill["partitionBackfillOrError"]["status"]
                return status if status in DONE else None

            assert wait_for("the backfill", 240, finished) == "COMPLETED_SUCCESS"
    finally:
        if process.poll() is None:
            process.send_signal(signal.SIGTERM)
            try:
                process.wait(timeout=STOP_TIMEOUT_SECONDS * 3)
            except subprocess.TimeoutExpired:
                os.killpg(process.pid, signal.SIGKILL)
                process.wait()
    lake = tmp_path / "lake" / "transactions"
    assert sorted(p.name for p in (lake / "customer_id=cust-001").iterdir()) == [
        f"business_date={day}" for day in days
    ]
    assert [p.name for p in lake.iterdir()] == ["customer_id=cust-001"]
    assert "stopped" in log.read_text()
