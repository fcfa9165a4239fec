"""The sandbox benchmark for one scale: median startup time, then paging and memory figures."""

import statistics
from dataclasses import dataclass
from datetime import datetime

from benchmarks import square_paging
from benchmarks.sandbox_process import World, first_merchant, running_sandbox, square_client
from benchmarks.square_paging import Listing, PagingBudget

STARTUP_BOUND_SECONDS = 5.0
REQUEST_TIMEOUT_SECONDS = 120.0
PAGING_BUDGET_SECONDS = 900.0
MEGABYTE = 1024 * 1024


@dataclass(frozen=True)
class ScaleFigures:
    """Everything measured for one scale; `startup_seconds` is the median of the samples."""

    scale: str
    startup_seconds: float
    startup_samples: list[float]
    bound_seconds: float
    locations: int
    catalog: Listing
    inventory: Listing
    orders: Listing
    ready_rss_mb: float
    peak_rss_mb: float

    @property
    def ratio(self) -> float:
        return self.startup_seconds / self.bound_seconds

    @property
    def pages(self) -> int:
        return self.catalog.pages + self.inventory.pages + self.orders.pages

    @property
    def line_items_per_second(self) -> float:
        return self.orders.line_items / self.orders.seconds if self.orders.seconds else 0.0

    @property
    def within_bound(self) -> bool:
        return self.startup_seconds <= self.bound_seconds


def measure_scale(scale: str, seed: int, now: datetime, repeat: int) -> ScaleFigures:
    """Start the sandbox `repeat` times; the last run also pages the first merchant's data."""
    world = World(scale, seed, now.strftime("%Y-%m-%dT%H:%M:%SZ"))
    merchant = first_merchant(world)
    samples = [_startup_seconds(world, merchant.access_token) for _ in range(repeat - 1)]
    with running_sandbox(world, merchant.access_token) as sandbox:
        samples.append(sandbox.startup_seconds)
        ready_rss = sandbox.peak_rss_bytes()
        budget = PagingBudget(PAGING_BUDGET_SECONDS)
        timeout = REQUEST_TIMEOUT_SECONDS
        with square_client(sandbox.base_url, merchant.access_token, timeout) as client:
            catalog = square_paging.catalog(client, budget)
            inventory = square_paging.inventory_counts(client, budget)
            locations, orders = square_paging.day_of_orders(client, budget, now)
        peak_rss = sandbox.peak_rss_bytes()
    return ScaleFigures(
        scale=scale,
        startup_seconds=statistics.median(samples),
        startup_samples=samples,
        bound_seconds=STARTUP_BOUND_SECONDS,
        locations=locations,
        catalog=catalog,
        inventory=inventory,
        orders=orders,
        ready_rss_mb=ready_rss / MEGABYTE,
        peak_rss_mb=peak_rss / MEGABYTE,
    )


def _startup_seconds(world: World, token: str) -> float:
    with running_sandbox(world, token) as sandbox:
        return sandbox.startup_seconds
