"""Our pipeline end to end on the busy world: API bytes to `transactions` rows, in a child process.

Each sync is what `shelfops sync` runs for one customer over some of the benchmarked days: per
partition, the source asset pages the API and streams the raw orders to the lake, then
`transactions` maps them and replaces its partition, then the checks run. The child's report splits its time by step, so we see whether mapping and writing overlap
the waiting on the rate limit or follow it.
"""

import json
import sys
import time
from dataclasses import dataclass
from datetime import date
from pathlib import Path
from typing import Any

import pyarrow.parquet as pq

from benchmarks import truth
from benchmarks.busy_world import NOW_TEXT, BusyWorld, child_env
from benchmarks.child import ChildRun, run_child
from benchmarks.results import REPO
from benchmarks.served import Window

# What `shelfops sync` rebuilds by default; `products` is today's catalog (the checks on
# `transactions` need every sold product in it).
TABLES = ("stores", "products", "transactions")
SYNC_TIMEOUT_SECONDS = 1200.0
DECODE_REPEATS = 3


@dataclass
class OurSync:
    source: str
    child: ChildRun
    window: Window
    report: dict[str, Any]
    lines: int
    orders: int
    match: truth.Match

    def seconds_by_kind(self) -> dict[str, float]:
        """Step seconds summed: the source assets (extract and raw write), the unified tables
        (map and write), the checks; the rest of the wall time is process start and Dagster."""
        sums = {"extract": 0.0, "map_and_write": 0.0, "checks": 0.0}
        for run in self.report.get("runs", []):
            for step, seconds in run["steps"].items():
                if step.startswith(("square__", "shopify__")):
                    sums["extract"] += seconds
                elif step in TABLES:
                    sums["map_and_write"] += seconds
                else:
                    sums["checks"] += seconds
        sums["other"] = self.child.seconds - sum(sums.values())
        return {k: round(v, 2) for k, v in sums.items()}

    @property
    def lines_per_second(self) -> float:
        return self.lines / self.child.seconds


def _lines(lake: Path, customer: str, days: list[date]) -> int:
    files = [
        lake / "transactions" / f"customer_id={customer}" / f"business_date={day}" / "part.parquet"
        for day in days
    ]
    return sum(pq.ParquetFile(f).metadata.num_rows for f in files if f.is_file())


def sales_orders(world: BusyWorld, account: str, days: list[date]) -> int:
    """Sale orders the account's stores took on `days` (returns not counted)."""
    return sum(
        1
        for store in world.stores(account)
        for day in days
        for order in world.sandbox.world.orders_of_store_day(store.id, day)
        if not order.is_return
    )


def our_sync(
    world: BusyWorld, folder: Path, source: str, days: list[date], truth_rows: list[dict[str, str]]
) -> OurSync:
    """Sync one customer's stores, today's catalog and `days` of transactions in a child."""
    customer, account = world.account(source)
    home = folder / "home"
    world.connect(home)
    report = folder / "report.json"
    command = [
        sys.executable, "-m", "benchmarks.sync_child", "--home", str(home),
        "--square-url", f"{world.base_url}/square",
        "--shopify-url", f"{world.base_url}/shopify/{{handle}}",
        "--as-of", NOW_TEXT, "--customer", customer,
        "--start", days[0].isoformat(), "--end", days[-1].isoformat(),
        *[part for table in TABLES for part in ("--table", table)], "--report", str(report),
    ]  # fmt: skip
    mark = world.log.mark()
    child = run_child(
        command, child_env(home), log=folder / "sync.log", cwd=REPO,
        timeout_seconds=SYNC_TIMEOUT_SECONDS,
    )  # fmt: skip
    window = world.log.since(mark)
    if not child.ok:
        raise RuntimeError(f"our {source} sync exited {child.returncode}: {child.output_tail}")
    lake = home / "lake"
    return OurSync(
        source=source,
        child=child,
        window=window,
        report=json.loads(report.read_text()),
        lines=_lines(lake, customer, days),
        orders=sales_orders(world, account, days),
        match=truth.ours(lake, customer, days, truth_rows),
    )


def decode_seconds(bodies: list[bytes]) -> float:
    """The least time `json.loads` takes over every API reply of a sync (best of a few)."""
    best = float("inf")
    for _ in range(DECODE_REPEATS):
        started = time.perf_counter()
        for body in bodies:
            json.loads(body)
        best = min(best, time.perf_counter() - started)
    return best
