"""The webhook receiver under load, and the time from a delivery to its row in `transactions`.

Throughput: `shelfops webhooks serve` runs as its own process on a fresh data directory, and the
load generator (`benchmarks.webhook_load`) as another; it posts BURST distinct signed Square
events (the sandbox's own, each re-identified so all are new) with IN_FLIGHT requests open at
once. Every 200 means the event was committed with `synchronous=FULL`. Both share this machine's
two cores, so the figures are a lower bound.

Delivery to row: the sandbox on the real clock, its Square customers connected and their stores
synced; a sales event of the last hour is delivered, the sensor ticks after its full default
interval (the worst case: the event arrived just after a tick) and its transactions run executes
in this process; the clock stops when the order's lines are in the partition.
"""

import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path
from typing import Any

import dagster as dg
import httpx

from benchmarks.results import REPO
from benchmarks.webhook_load import KEY_ENV, attempt
from shelfops_pipeline.credentials.keys import ensure_local_key_file, load_keys
from shelfops_pipeline.credentials.paths import HOME_ENV, store_path
from shelfops_pipeline.credentials.store import CredentialStore
from shelfops_pipeline.demo.merchants import DemoSandbox, connect_square_merchants
from shelfops_pipeline.sandbox.runner import free_loopback_port, serve_in_thread
from shelfops_pipeline.sandbox.server import build_sandbox
from shelfops_pipeline.sandbox.settings import SandboxSettings
from shelfops_pipeline.sandbox.square.serialize import SquareSerializer
from shelfops_pipeline.sandbox.square.webhook_events import square_events_between
from shelfops_pipeline.sandbox.square.webhook_signing import SquareWebhookSigner, square_message
from shelfops_pipeline.sources.square.assets import square_assets, square_reader
from shelfops_pipeline.sources.square.resources import SquareResource
from shelfops_pipeline.warehouse.assets import build_unified_assets
from shelfops_pipeline.warehouse.checks import build_unified_checks
from shelfops_pipeline.warehouse.jobs import STORES_JOB, warehouse_jobs
from shelfops_pipeline.warehouse.partitions import customer_day
from shelfops_pipeline.warehouse.resources import WarehouseResource
from shelfops_pipeline.webhooks.checks import webhook_checks
from shelfops_pipeline.webhooks.sensors import SENSOR_INTERVAL_SECONDS, webhook_events_sensor
from shelfops_pipeline.webhooks.settings import SQUARE_KEY_ENV, SQUARE_URL_ENV

SEED = 7
BURST = 5000
# Deliveries open at once. httpx's client costs about 2.5 times the receiver's CPU per request; at
# 64 open its pool contention, not the receiver, sets the latency on two cores.
IN_FLIGHT = 8
SIGNATURE_KEY = "bench-signature-key"
READY_TIMEOUT_SECONDS = 30.0
LOAD_TIMEOUT_SECONDS = 300.0
GOAL_EVENTS_PER_SECOND = 500.0
GOAL_P99_MS = 100.0
GOAL_DELIVERY_TO_ROW_SECONDS = 60.0
QUIET = {"loggers": {"console": {"config": {"log_level": "ERROR"}}}}


@dataclass(frozen=True)
class RunningReceiver:
    url: str
    pid: int

    def cpu_seconds(self) -> float:
        """User plus system CPU time of the receiver process so far (Linux /proc)."""
        fields = Path(f"/proc/{self.pid}/stat").read_text().rsplit(")", 1)[1].split()
        return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


@contextmanager
def _receiver(home: Path) -> Iterator[RunningReceiver]:
    """`shelfops webhooks serve` in a child process."""
    port = free_loopback_port()
    url = f"http://127.0.0.1:{port}/webhooks/square"
    env = {**os.environ, "SHELFOPS_HOME": str(home), SQUARE_KEY_ENV: SIGNATURE_KEY,
           SQUARE_URL_ENV: url}  # fmt: skip
    command = [sys.executable, "-m", "shelfops_pipeline.webhooks", "--port", str(port),
               "--log-level", "warning"]  # fmt: skip
    child = subprocess.Popen(command, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    try:
        deadline = time.monotonic() + READY_TIMEOUT_SECONDS
        while True:
            try:
                if httpx.get(url, timeout=1).status_code == 405:
                    break
            except httpx.TransportError:
                if time.monotonic() > deadline or child.poll() is not None:
                    raise RuntimeError("the webhook receiver did not start") from None
                time.sleep(0.05)
        yield RunningReceiver(url, child.pid)
    finally:
        child.terminate()
        child.wait(timeout=10)


def percentile(values: list[float], share: float) -> float:
    return statistics.quantiles(values, n=100, method="inclusive")[int(share * 100) - 1]


@dataclass(frozen=True)
class Burst:
    events: int
    seconds: float
    latencies: list[float]
    receiver_cpu_seconds: float


def measure_throughput(burst: int = BURST) -> Burst:
    """The receiver and the load generator, each in its own process."""
    with (
        tempfile.TemporaryDirectory(prefix="shelfops-bench-webhooks-") as folder,
        _receiver(Path(folder)) as receiver,
    ):
        out = Path(folder) / "load.json"
        command = [sys.executable, "-m", "benchmarks.webhook_load", "--url", receiver.url,
                   "--count", str(burst), "--in-flight", str(IN_FLIGHT), "--out", str(out)]  # fmt: skip
        env = {**os.environ, KEY_ENV: SIGNATURE_KEY}
        cpu_before = receiver.cpu_seconds()
        done = subprocess.run(
            command, env=env, cwd=REPO, capture_output=True, text=True,
            timeout=LOAD_TIMEOUT_SECONDS, check=False,
        )  # fmt: skip
        cpu = receiver.cpu_seconds() - cpu_before
        if done.returncode != 0:
            raise RuntimeError(f"the load generator failed: {done.stderr.strip()[-300:]}")
        load = json.loads(out.read_text())
    if load["refused"]:
        raise RuntimeError(f"the receiver refused {load['refused']} of {burst} valid events")
    return Burst(burst, load["seconds"], load["latencies"], cpu)


def _definitions(resources: dict[str, Any]) -> dg.Definitions:
    return dg.Definitions(
        assets=[*square_assets, *build_unified_assets([square_reader])],
        asset_checks=[*build_unified_checks([square_reader]), *webhook_checks],
        jobs=warehouse_jobs,
        sensors=[webhook_events_sensor],
        resources=resources,
    )


@contextmanager
def _home_env(home: Path) -> Iterator[None]:
    """SHELFOPS_HOME set to `home` while the block runs: the runs read their keys from it."""
    previous = os.environ.get(HOME_ENV)
    os.environ[HOME_ENV] = str(home)
    try:
        yield
    finally:
        if previous is None:
            del os.environ[HOME_ENV]
        else:
            os.environ[HOME_ENV] = previous


def measure_delivery_to_row() -> float:
    """Seconds from posting one sales event to its order's lines in `transactions`."""
    sandbox = build_sandbox(SandboxSettings(seed=SEED, scale="small"))
    with tempfile.TemporaryDirectory(prefix="shelfops-bench-webhook-row-") as folder:
        home = Path(folder)
        ensure_local_key_file(home)
        store = CredentialStore(store_path(home), keys=load_keys(home))
        with (
            _home_env(home),
            serve_in_thread(sandbox.app) as base_url,
            _receiver(home) as receiver,
        ):
            demo = DemoSandbox(sandbox, base_url)
            connect_square_merchants(demo, store)
            app = sandbox.tokens.application
            resources = {
                "square": SquareResource(
                    base_url=demo.square_url, shelfops_home=str(home), client_id=app.client_id,
                    client_secret=app.client_secret, requests_per_second=1000, burst=1000,
                ),
                "warehouse": WarehouseResource(shelfops_home=str(home)),
            }  # fmt: skip
            defs = _definitions(resources)
            with dg.DagsterInstance.ephemeral(tempdir=str(home / "dagster")) as instance:
                customers = sorted(customer for customer, _ in demo.merchants())
                instance.add_dynamic_partitions("customers", customers)
                for customer in customers:
                    defs.resolve_job_def(STORES_JOB).execute_in_process(
                        partition_key=customer, instance=instance, run_config=QUIET
                    )
                return _deliver_and_apply(sandbox.world, defs, instance, home, receiver.url)


def _deliver_and_apply(
    world: Any, defs: dg.Definitions, instance: dg.DagsterInstance, home: Path, url: str
) -> float:
    now = world.now()
    events = square_events_between(world, SquareSerializer(SEED), now - timedelta(hours=1), now)
    sale = next(e for e in reversed(events) if e["type"] == "payment.updated")
    order_id = sale["data"]["object"]["payment"]["order_id"]
    message = square_message(sale)
    headers = SquareWebhookSigner(SIGNATURE_KEY, url).headers(attempt(message))
    delivered = time.perf_counter()
    reply = httpx.post(url, content=message.body, headers=headers, timeout=10)
    if reply.status_code != 200:
        raise RuntimeError(f"the receiver answered {reply.status_code}")
    time.sleep(SENSOR_INTERVAL_SECONDS)
    warehouse = WarehouseResource(shelfops_home=str(home))
    context = dg.build_sensor_context(
        instance=instance, definitions=defs, resources={"warehouse": warehouse}
    )
    result = webhook_events_sensor(context)
    if not isinstance(result, dg.SensorResult) or not result.run_requests:
        raise RuntimeError(f"the sensor requested no run: {result}")
    for request in result.run_requests:
        assert request.job_name is not None and request.run_key is not None
        defs.resolve_job_def(request.job_name).execute_in_process(
            partition_key=request.partition_key,
            instance=instance,
            tags={"dagster/run_key": request.run_key},
            run_config=QUIET,
        )
        day = customer_day(str(request.partition_key))
        table = warehouse.read("transactions", day.lake_partition)
        if table is not None and order_id in table.column("order_id").to_pylist():
            return time.perf_counter() - delivered
    raise RuntimeError(f"order {order_id} did not reach transactions")
