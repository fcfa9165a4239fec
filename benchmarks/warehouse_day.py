"""One business day into the warehouse, at the `small` and the `large` scale: wall time and peak
memory of `shelfops sync` (stores, today's catalog and one day of sales of every Square customer,
through Dagster, checks included).

The sandbox serves from this process on the real clock with its limits off (no budget, no
faults); every Square customer is connected through OAuth first. The sync runs as a child
process, so its peak resident set (from wait4) is its own. A baseline child that only loads the
code location shows what Python and Dagster hold before any data. Pages and batches are streamed
into the partition files, never the whole day held at once, so the peak must stay within half
again the small day's while the day's lines grow about fiftyfold.
"""

import json
import os
import platform
import subprocess
import sys
import tempfile
import time
from dataclasses import asdict, dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pyarrow.parquet as pq

from benchmarks.report import results_path
from shelfops_pipeline.credentials.keys import ensure_local_key_file, load_keys
from shelfops_pipeline.credentials.paths import store_path
from shelfops_pipeline.credentials.store import CredentialStore
from shelfops_pipeline.demo.merchants import DemoSandbox, connect_merchants
from shelfops_pipeline.sandbox.runner import serve_in_thread
from shelfops_pipeline.sandbox.server import build_sandbox
from shelfops_pipeline.sandbox.settings import SandboxSettings

SCALES = ("small", "large")
SEED = 7
# A business day that has ended in every zone, with most late offline orders uploaded.
DAY_BACK = 3
# Memory is bounded when the large day's peak stays within this factor of the small day's while
# its lines grow about fiftyfold: pages and batches stream, the day is never held whole.
PEAK_RATIO_BOUND = 1.5
SYNC_TIMEOUT_SECONDS = 1800.0
MEGABYTE = 1024 * 1024
KILOBYTE = 1024


class BenchmarkFailure(RuntimeError):
    """A child process of the benchmark failed."""


@dataclass(frozen=True)
class Child:
    seconds: float
    peak_rss_mb: float


@dataclass(frozen=True)
class DayFigures:
    scale: str
    day: str
    customers: int
    lines: int
    seconds: float
    peak_rss_mb: float
    baseline_rss_mb: float

    @property
    def growth_mb(self) -> float:
        return max(0.0, self.peak_rss_mb - self.baseline_rss_mb)


def run_child(command: list[str], env: dict[str, str]) -> Child:
    """Run `command` to its end; its wall time and peak RSS (ru_maxrss is in KiB on Linux)."""
    with tempfile.TemporaryFile("w+") as log:
        started = time.perf_counter()
        process = subprocess.Popen(
            command, env=env, stdout=log, stderr=subprocess.STDOUT, text=True
        )
        _, status, usage = os.wait4(process.pid, 0)
        seconds = time.perf_counter() - started
        process.returncode = os.waitstatus_to_exitcode(status)
        if process.returncode != 0:
            log.seek(0)
            tail = "\n".join(log.read().splitlines()[-15:])
            raise BenchmarkFailure(f"{' '.join(command[:3])} exited {process.returncode}:\n{tail}")
    return Child(seconds, usage.ru_maxrss * KILOBYTE / MEGABYTE)


def _lines(home: Path, day: str) -> int:
    files = (home / "lake" / "transactions").glob(f"customer_id=*/business_date={day}/part.parquet")
    return sum(pq.ParquetFile(f).metadata.num_rows for f in files)


def measure_day(scale: str, baseline_rss_mb: float) -> DayFigures:
    """Serve `scale`, connect its Square customers, and time one day's sync in a child process."""
    sandbox = build_sandbox(SandboxSettings(seed=SEED, scale=scale))
    day = (datetime.now(UTC).date() - timedelta(days=DAY_BACK)).isoformat()
    with tempfile.TemporaryDirectory(prefix=f"shelfops-bench-{scale}-") as folder:
        home = Path(folder)
        ensure_local_key_file(home)
        store = CredentialStore(store_path(home), keys=load_keys(home))
        with serve_in_thread(sandbox.app) as base_url:
            demo = DemoSandbox(sandbox, base_url)
            connections = connect_merchants(demo, store)
            env = {
                **os.environ,
                **demo.env(),
                "SHELFOPS_HOME": str(home),
                "DAGSTER_HOME": str(home / "dagster"),
                "DAGSTER_DISABLE_TELEMETRY": "1",
            }
            shelfops = str(Path(sys.executable).parent / "shelfops")
            tables = ["--table", "stores", "--table", "products", "--table", "transactions"]
            child = run_child([shelfops, "sync", "--start", day, "--end", day, *tables], env)
        return DayFigures(
            scale=scale,
            day=day,
            customers=len(connections),
            lines=_lines(home, day),
            seconds=child.seconds,
            peak_rss_mb=child.peak_rss_mb,
            baseline_rss_mb=baseline_rss_mb,
        )


def baseline_rss_mb() -> float:
    """Peak RSS of a process that only loads the code location, as the sync does first."""
    return run_child(
        [sys.executable, "-c", "import shelfops_pipeline.definitions"], dict(os.environ)
    ).peak_rss_mb


def within_bound(small: DayFigures, large: DayFigures) -> bool:
    return large.peak_rss_mb <= PEAK_RATIO_BOUND * small.peak_rss_mb


def measure_warehouse_days() -> list[DayFigures]:
    baseline = baseline_rss_mb()
    return [measure_day(scale, baseline) for scale in SCALES]


def report(figures: list[DayFigures]) -> str:
    """A few lines for people: each scale, then how the large day grew over the small one."""
    lines = [
        f"  {f.scale:<5}  {f.customers} customers, {f.lines:,} lines on {f.day}: "
        f"{f.seconds:.1f} s, peak RSS {f.peak_rss_mb:.0f} MB "
        f"({f.growth_mb:.0f} MB over the {f.baseline_rss_mb:.0f} MB of loading the code location)"
        for f in figures
    ]
    small, large = figures[0], figures[-1]
    if small.lines and small.seconds:
        lines.append(
            f"  large / small: lines x{large.lines / small.lines:.1f}, "
            f"time x{large.seconds / small.seconds:.1f}, "
            f"peak memory x{large.peak_rss_mb / small.peak_rss_mb:.2f} "
            f"(bound x{PEAK_RATIO_BOUND:g})"
        )
    return "\n".join(lines)


def write_json(figures: list[DayFigures]) -> Path:
    """Next to the sandbox figures: `$SHELFOPS_HOME/bench/warehouse_day.json`."""
    document = {
        "benchmark": "warehouse_day",
        "measured_at": datetime.now(UTC).isoformat(timespec="seconds"),
        "host": {"python": platform.python_version(), "cpus": os.cpu_count()},
        "seed": SEED,
        "within_bound": within_bound(figures[0], figures[-1]),
        "scales": {f.scale: {**asdict(f), "growth_mb": f.growth_mb} for f in figures},
    }
    path = results_path().with_name("warehouse_day.json")
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(document, indent=2) + "\n")
    return path
