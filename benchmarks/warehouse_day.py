"""One business day into the warehouse, at the `small` and the `large` scale: wall time and peak
memory of `shelfops sync` (stores, today's catalog and one day of sales of every Square customer,
through Dagster, checks included).

The sandbox serves from this process on the real clock with its limits off (no budget, no
faults); every Square customer is connected through OAuth first. The sync runs as a child
process, so its peak resident set (from wait4) is its own. A baseline child that only loads the
code location shows what Python and Dagster hold before any data. Pages and batches are streamed
into the partition files, never the whole day held at once, so the peak must stay under twice
the small day's while the day's lines grow about fiftyfold.
"""

import os
import sys
import tempfile
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pyarrow.parquet as pq

from benchmarks.child import ChildRun, run_child
from shelfops_pipeline.credentials.keys import ensure_local_key_file, load_keys
from shelfops_pipeline.credentials.paths import store_path
from shelfops_pipeline.credentials.store import CredentialStore
from shelfops_pipeline.demo.merchants import DemoSandbox, connect_square_merchants
from shelfops_pipeline.sandbox.runner import serve_in_thread
from shelfops_pipeline.sandbox.server import build_sandbox
from shelfops_pipeline.sandbox.settings import SandboxSettings

SCALES = ("small", "large")
SEED = 7
# A business day that has ended in every zone, with most late offline orders uploaded.
DAY_BACK = 3
# Memory is bounded when the large day's peak stays under this factor of the small day's while
# its lines grow about fiftyfold: pages and batches stream, the day is never held whole.
PEAK_RATIO_BOUND = 2.0
SYNC_TIMEOUT_SECONDS = 1800.0


class BenchmarkFailure(RuntimeError):
    """A child process of the benchmark failed."""


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


def _run(command: list[str], env: dict[str, str], folder: Path) -> ChildRun:
    child = run_child(command, env, log=folder / "child.log", timeout_seconds=SYNC_TIMEOUT_SECONDS)
    if not child.ok:
        raise BenchmarkFailure(
            f"{' '.join(command[:3])} exited {child.returncode}:\n{child.output_tail}"
        )
    return child


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
            connections = connect_square_merchants(demo, store)
            env = {
                **os.environ,
                **demo.env(),
                "SHELFOPS_HOME": str(home),
                "DAGSTER_HOME": str(home / "dagster"),
                "DAGSTER_DISABLE_TELEMETRY": "1",
            }
            shelfops = str(Path(sys.executable).parent / "shelfops")
            tables = ["--table", "stores", "--table", "products", "--table", "transactions"]
            child = _run([shelfops, "sync", "--start", day, "--end", day, *tables], env, home)
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
    with tempfile.TemporaryDirectory(prefix="shelfops-bench-baseline-") as folder:
        command = [sys.executable, "-c", "import shelfops_pipeline.definitions"]
        return _run(command, dict(os.environ), Path(folder)).peak_rss_mb


def within_bound(small: DayFigures, large: DayFigures) -> bool:
    return large.peak_rss_mb <= PEAK_RATIO_BOUND * small.peak_rss_mb


def measure_warehouse_days() -> list[DayFigures]:
    baseline = baseline_rss_mb()
    return [measure_day(scale, baseline) for scale in SCALES]
