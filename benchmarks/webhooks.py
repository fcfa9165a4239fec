"""The webhook receiver under load, and the time from a delivery to its row in `transactions`.

Throughput: `shelfops webhooks serve` runs as its own process on a fresh data directory; a client
in this process posts BURST distinct signed Square events (the sandbox's own, each re-identified
so all are new) with IN_FLIGHT requests open at once. Every 200 means the event was committed
with `synchronous=FULL`. Both share this machine's cores, so the figures are a lower bound.

Delivery to row: the sandbox on the real clock, its Square customers connected and their stores
synced; a sales event of the last hour is delivered, the sensor ticks after its full default
interval (the worst case: the event arrived just after a tick) and its transactions run executes
in this process; the clock stops when the order's lines are in the partition.
"""

import asyncio
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import asdict, dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import dagster as dg
import httpx

from benchmarks.report import results_path
from shelfops_pipeline.credentials.keys import ensure_local_key_file, load_keys
from shelfops_pipeline.credentials.paths import HOME_ENV, store_path
from shelfops_pipeline.credentials.store import CredentialStore
from shelfops_pipeline.demo.merchants import DemoSandbox, connect_merchants
from shelfops_pipeline.sandbox.runner import free_loopback_port, serve_in_thread
from shelfops_pipeline.sandbox.server import build_sandbox
from shelfops_pipeline.sandbox.settings import SandboxSettings
from shelfops_pipeline.sandbox.square.serialize import SquareSerializer
from shelfops_pipeline.sandbox.square.webhook_events import square_events_between
from shelfops_pipeline.sandbox.square.webhook_signing import SquareWebhookSigner, square_message
from shelfops_pipeline.sandbox.webhook_delivery import DeliveryAttempt, WebhookMessage
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
GOAL_EVENTS_PER_SECOND = 500.0
GOAL_P99_MS = 100.0
GOAL_DELIVERY_TO_ROW_SECONDS = 60.0
QUIET = {"loggers": {"console": {"config": {"log_level": "ERROR"}}}}


@dataclass(frozen=True)
class WebhookFigures:
    events: int
    seconds: float
    events_per_second: float
    p50_ms: float
    p99_ms: float
    receiver_cpu_ms_per_event: float
    delivery_to_row_seconds: float
    sensor_interval_seconds: float

    @property
    def within_goals(self) -> bool:
        return (
            self.events_per_second >= GOAL_EVENTS_PER_SECOND
            and self.p99_ms < GOAL_P99_MS
            and self.delivery_to_row_seconds < GOAL_DELIVERY_TO_ROW_SECONDS
        )


def _attempt(message: WebhookMessage) -> DeliveryAttempt:
    return DeliveryAttempt(message, 0, None, datetime.now(UTC))


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


def _distinct_events(count: int) -> list[dict[str, Any]]:
    """`count` Square events: the sandbox's latest, re-identified so each is new."""
    world = build_sandbox(SandboxSettings(seed=SEED, scale="small")).world
    now = world.now()
    events = square_events_between(world, SquareSerializer(SEED), now - timedelta(hours=6), now)
    if not events:
        raise RuntimeError("the sandbox produced no webhook events")
    return [{**events[n % len(events)], "event_id": f"bench-{n:06d}"} for n in range(count)]


async def _post_all(url: str, messages: list[WebhookMessage]) -> tuple[float, list[float]]:
    signer = SquareWebhookSigner(SIGNATURE_KEY, url)
    prepared = [(m.body, signer.headers(_attempt(m))) for m in messages]
    latencies: list[float] = []
    slots = asyncio.Semaphore(IN_FLIGHT)
    limits = httpx.Limits(max_connections=IN_FLIGHT, max_keepalive_connections=IN_FLIGHT)

    async def post(client: httpx.AsyncClient, body: bytes, headers: dict[str, str]) -> None:
        async with slots:
            started = time.perf_counter()
            reply = await client.post(url, content=body, headers=headers)
            latencies.append(time.perf_counter() - started)
        if reply.status_code != 200:
            raise RuntimeError(f"the receiver answered {reply.status_code}: {reply.text[:200]}")

    async with httpx.AsyncClient(timeout=30, limits=limits) as client:
        started = time.perf_counter()
        await asyncio.gather(*(post(client, body, headers) for body, headers in prepared))
        return time.perf_counter() - started, latencies


def _percentile(values: list[float], share: float) -> float:
    return statistics.quantiles(values, n=100, method="inclusive")[int(share * 100) - 1]


@dataclass(frozen=True)
class Burst:
    events: int
    seconds: float
    latencies: list[float]
    receiver_cpu_seconds: float


def measure_throughput(burst: int = BURST) -> Burst:
    messages = [square_message(event) for event in _distinct_events(burst)]
    with (
        tempfile.TemporaryDirectory(prefix="shelfops-bench-webhooks-") as folder,
        _receiver(Path(folder)) as receiver,
    ):
        cpu_before = receiver.cpu_seconds()
        seconds, latencies = asyncio.run(_post_all(receiver.url, messages))
        cpu = receiver.cpu_seconds() - cpu_before
    return Burst(len(messages), seconds, latencies, cpu)


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
            connect_merchants(demo, store)
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
    headers = SquareWebhookSigner(SIGNATURE_KEY, url).headers(_attempt(message))
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


def measure_webhooks() -> WebhookFigures:
    burst = measure_throughput()
    return WebhookFigures(
        events=burst.events,
        seconds=burst.seconds,
        events_per_second=burst.events / burst.seconds,
        p50_ms=statistics.median(burst.latencies) * 1000,
        p99_ms=_percentile(burst.latencies, 0.99) * 1000,
        receiver_cpu_ms_per_event=burst.receiver_cpu_seconds / burst.events * 1000,
        delivery_to_row_seconds=measure_delivery_to_row(),
        sensor_interval_seconds=SENSOR_INTERVAL_SECONDS,
    )


def report(figures: WebhookFigures) -> str:
    f = figures
    return (
        f"  {f.events} signed events acknowledged in {f.seconds:.2f} s: "
        f"{f.events_per_second:.0f} events/s (goal >= {GOAL_EVENTS_PER_SECOND:g}), "
        f"ack latency p50 {f.p50_ms:.1f} ms, p99 {f.p99_ms:.1f} ms (goal < {GOAL_P99_MS:g}); "
        f"the receiver spent {f.receiver_cpu_ms_per_event:.2f} ms of CPU per event\n"
        f"  delivery to row in transactions: {f.delivery_to_row_seconds:.1f} s with a "
        f"{f.sensor_interval_seconds:g} s sensor interval, worst case "
        f"(goal < {GOAL_DELIVERY_TO_ROW_SECONDS:g})"
    )


def write_json(figures: WebhookFigures) -> Path:
    """Next to the other figures: `$SHELFOPS_HOME/bench/webhooks.json`."""
    document = {
        "benchmark": "webhooks",
        "measured_at": datetime.now(UTC).isoformat(timespec="seconds"),
        "host": {"cpus": os.cpu_count()},
        "in_flight": IN_FLIGHT,
        "within_goals": figures.within_goals,
        **asdict(figures),
    }
    path = results_path().with_name("webhooks.json")
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(document, indent=2) + "\n")
    return path
