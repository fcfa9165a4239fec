"""The production profile: a Dagster instance in PostgreSQL, served by `dagster-webserver` and
operated by `dagster-daemon`, each its own process as in a deployment, sharing only the database.
A backfill of 14 business days for two merchants, launched through the webserver, is run by the
daemon's queue within the profile's limits (read back from the run records in PostgreSQL), and the
warehouse then holds exactly the sandbox's truth for those days."""

import os
import time
from collections import defaultdict
from collections.abc import Iterable, Iterator
from contextlib import ExitStack, contextmanager
from dataclasses import astuple, dataclass
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import dagster as dg
import httpx
import pytest
from click.testing import CliRunner
from credential_helpers import SEED, OAuthSandbox, Recorder, connect_customer, isolate
from postgres_helpers import Postgres, postgres_home, throwaway_postgres
from service_helpers import graphql, service, wait_for, wait_until_answering

from shelfops_pipeline.cli import cli
from shelfops_pipeline.credentials.keys import ensure_local_key_file
from shelfops_pipeline.credentials.store import CredentialStore
from shelfops_pipeline.sandbox.runner import free_loopback_port, serve_in_thread
from shelfops_pipeline.sandbox.server import build_sandbox
from shelfops_pipeline.sandbox.settings import SandboxSettings
from shelfops_pipeline.sandbox.truth import truth_lines
from shelfops_pipeline.warehouse.resources import WarehouseResource

# 2.5 to 3 minutes on 2 cores (one run per merchant at a time, 14 each, about 10 s apart), more
# when the machine is busy with other work; the budget is 10 minutes.
pytestmark = pytest.mark.timeout(600)

DAYS = 14
# The newest day is old enough that no offline order can still arrive (up to 72 hours late).
NEWEST_DAY_BACK = 6
HISTORY_DAYS = NEWEST_DAY_BACK + DAYS + 2
CUSTOMER_TAG = "dagster/partition/customer"
PARTITION_TAG = "dagster/partition"
BACKFILL_TAG = "dagster/backfill"
BACKFILL_TIMEOUT_SECONDS = 480.0
# The runs' own executor: one process per run instead of one per step, as on a small machine.
IN_PROCESS = {"execution": {"config": {"in_process": {}}}}
SYNCED_ASSETS = [["square", "orders"], ["shopify", "orders"], ["transactions"]]

LAUNCH_BACKFILL = """
mutation($params: LaunchBackfillParams!) { launchPartitionBackfill(backfillParams: $params) {
    __typename ... on LaunchBackfillSuccess { backfillId } ... on PythonError { message }
} }
"""


@pytest.fixture(scope="session")
def postgres() -> Iterator[Postgres]:
    with throwaway_postgres(f"pytest-{os.getpid()}", free_loopback_port()) as running:
        yield running


@contextmanager
def _served_sandbox() -> Iterator[OAuthSandbox]:
    """The small world on the real clock, its history reaching back past the backfill's days."""
    sandbox = build_sandbox(SandboxSettings(seed=SEED, scale="small", days=HISTORY_DAYS))
    recorder = Recorder(sandbox.app)
    customers = [
        (c.id, c.square_merchant_id) for c in sandbox.world.customers if c.square_merchant_id
    ]
    with serve_in_thread(recorder) as base_url:
        yield OAuthSandbox(sandbox, recorder, base_url, customers)


def _launch_backfill(ui: httpx.Client, partition_keys: list[str]) -> str:
    """`launchPartitionBackfill`, as the UI's Materialize dialog sends it; the backfill's id."""
    params = {
        "assetSelection": [{"path": path} for path in SYNCED_ASSETS],
        "partitionNames": partition_keys,
        "runConfigData": IN_PROCESS,
    }
    launched = graphql(ui, LAUNCH_BACKFILL, params=params)["launchPartitionBackfill"]
    assert launched["__typename"] == "LaunchBackfillSuccess", launched
    backfill_id: str = launched["backfillId"]
    return backfill_id


def peak_overlap(spans: Iterable[tuple[float, float]]) -> int:
    """The most spans open at one instant; a span that ends as another starts does not overlap."""
    edges = sorted((t, step) for start, end in spans for t, step in ((start, 1), (end, -1)))
    open_now = peak = 0
    for _, step in edges:
        open_now += step
        peak = max(peak, open_now)
    return peak


def test_peak_overlap_counts_spans_open_at_the_same_instant() -> None:
    assert peak_overlap([]) == 0
    assert peak_overlap([(0, 2), (2, 4), (4, 5)]) == 1
    assert peak_overlap([(0, 3), (1, 4), (2, 5), (4.5, 6)]) == 3


@dataclass(frozen=True)
class Limits:
    """The profile's limits as the instance parsed them."""

    runs_per_customer: int
    runs: int
    pool_steps: int

    @classmethod
    def of(cls, instance: dg.DagsterInstance) -> "Limits":
        config = instance.get_concurrency_config()
        queue = config.run_queue_config
        assert queue is not None, "the profile must queue runs"
        (per_customer,) = (
            limit["limit"] for limit in queue.tag_concurrency_limits if limit["key"] == CUSTOMER_TAG
        )
        pool_steps = config.pool_config.default_pool_limit
        assert pool_steps is not None, "the profile must limit the API pools"
        return cls(int(per_customer), queue.max_concurrent_runs, pool_steps)


def _run_spans(
    records: Iterable[dg.RunRecord], read_at: float
) -> tuple[dict[str, list[tuple[float, float]]], list[tuple[float, float]]]:
    """Start and end of every run that started (one still going ends at `read_at`), by the
    customer its partition names, and all together.

    Day and hour runs name the customer in the customer dimension's tag; a stores run's whole
    partition key is the customer."""
    by_customer: dict[str, list[tuple[float, float]]] = defaultdict(list)
    every: list[tuple[float, float]] = []
    for record in records:
        if record.start_time is None:
            continue
        span = (record.start_time, record.end_time or read_at)
        tags = record.dagster_run.tags
        by_customer[tags.get(CUSTOMER_TAG) or tags[PARTITION_TAG]].append(span)
        every.append(span)
    return by_customer, every


def _assert_warehouse_is_the_truth(
    home: Path, oauth: OAuthSandbox, customers: list[str], days: list[date]
) -> None:
    warehouse = WarehouseResource(shelfops_home=str(home))
    for customer in customers:
        for day in days:
            written = warehouse.read(
                "transactions", {"customer_id": customer, "business_date": day.isoformat()}
            )
            assert written is not None, f"no transactions for {customer} on {day}"
            expected = {
                astuple(line)
                for line in truth_lines(oauth.sandbox.world, day)
                if line.customer_id == customer and line.source_system == "square"
            }
            assert expected, f"the sandbox sold nothing for {customer} on {day}"
            assert {tuple(row.values()) for row in written.to_pylist()} == expected


def test_a_backfill_on_the_postgres_profile_keeps_the_limits_and_fills_the_truth(
    postgres: Postgres, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    isolate(monkeypatch, tmp_path)
    ensure_local_key_file(tmp_path)
    monkeypatch.setenv("DAGSTER_HOME", str(postgres_home(tmp_path / "dagster")))
    for name, value in postgres.env.items():
        monkeypatch.setenv(name, value)
    newest = datetime.now(UTC).date() - timedelta(days=NEWEST_DAY_BACK)
    days = [newest - timedelta(days=back) for back in reversed(range(DAYS))]
    port = free_loopback_port()
    daemon_log, web_log = tmp_path / "daemon.log", tmp_path / "webserver.log"

    with _served_sandbox() as oauth, ExitStack() as running, dg.DagsterInstance.get() as instance:
        store = CredentialStore()
        customers = [connect_customer(oauth, store, index).customer_id for index in (0, 2)]
        for name, value in oauth.env().items():
            monkeypatch.setenv(name, value)
        # Registers both customers in the instance and syncs their stores, in this process.
        stores = ["sync", "--start", str(newest), "--end", str(newest), "--table", "stores"]
        synced = CliRunner().invoke(cli, stores)
        assert synced.exit_code == 0, synced.output
        env = {**os.environ, "DAGSTER_DISABLE_TELEMETRY": "1"}
        workspace = ["-w", "workspace.yaml"]
        web = ["dagster-webserver", *workspace, "-h", "127.0.0.1", "-p", str(port)]
        webserver = running.enter_context(service(web, env, web_log))
        ui = running.enter_context(
            httpx.Client(base_url=f"http://127.0.0.1:{port}", timeout=30, trust_env=False)
        )
        wait_until_answering(ui, webserver, web_log)
        keys = [f"{customer}|{day}" for customer in customers for day in days]
        # The webserver records the backfill in PostgreSQL; the daemon, started after it, finds
        # it there on its first pass (it looks for new backfills every 30 s after that).
        backfill_id = _launch_backfill(ui, keys)
        daemon = running.enter_context(
            service(["dagster-daemon", "run", *workspace], env, daemon_log)
        )

        def services_alive() -> None:
            assert webserver.poll() is None, web_log.read_text()[-3000:]
            assert daemon.poll() is None, daemon_log.read_text()[-3000:]

        def backfill_ran() -> bool | None:
            """Every partition's run succeeded (the backfill's own status follows within 30 s)."""
            services_alive()
            runs = instance.get_runs(dg.RunsFilter(tags={BACKFILL_TAG: backfill_id}))
            ended = [run for run in runs if run.is_finished]
            assert all(run.is_success for run in ended), daemon_log.read_text()[-3000:]
            return len(ended) == len(keys) or None

        wait_for("the backfill's runs", BACKFILL_TIMEOUT_SECONDS, backfill_ran)
        records, read_at = instance.get_run_records(), time.time()
        materialized = instance.get_materialized_partitions(dg.AssetKey("transactions"))
        pools = {pool.name: pool.limit for pool in instance.event_log_storage.get_pool_limits()}
        limits = Limits.of(instance)

    backfill_runs = [r for r in records if r.dagster_run.tags.get(BACKFILL_TAG) == backfill_id]
    assert sorted(r.dagster_run.tags[PARTITION_TAG] for r in backfill_runs) == sorted(keys)
    assert set(keys) <= materialized
    by_customer, every = _run_spans(records, read_at)
    assert set(customers) <= set(by_customer)
    peaks = {customer: peak_overlap(spans) for customer, spans in by_customer.items()}
    assert all(peak <= limits.runs_per_customer for peak in peaks.values()), peaks
    # The queue held each merchant to its limit, not the whole instance: they ran side by side.
    assert 2 <= peak_overlap(every) <= limits.runs
    # Every API-bound step took a slot of its source's pool, which got the profile's limit.
    assert pools == {"square_api": limits.pool_steps, "shopify_api": limits.pool_steps}
    _assert_warehouse_is_the_truth(tmp_path, oauth, customers, days)
