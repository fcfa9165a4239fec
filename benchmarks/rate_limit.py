"""Rate-limit efficiency: a Square pull under a server budget of R requests a second.

The bound for N requests is N / R seconds; the client should come within 5% of it while at most
1% of its requests are throttled (answered 429).
"""

import asyncio
import time
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime

from shelfops_pipeline.http.limiter import LimiterConfig, LimiterRegistry, LimitKey
from shelfops_pipeline.http.stats import CallStats
from shelfops_pipeline.sandbox.faults import FaultConfig
from shelfops_pipeline.sandbox.runner import serve_in_thread
from shelfops_pipeline.sandbox.server import build_sandbox
from shelfops_pipeline.sandbox.settings import SandboxSettings
from shelfops_pipeline.sources.square.client import SquareClient, square_api_client

FROZEN_NOW = datetime(2026, 11, 5, 18, 30, tzinfo=UTC)
TIME_BOUND_RATIO = 1.05
THROTTLED_BOUND = 0.01


@dataclass(frozen=True)
class RateFigures:
    budget_per_second: float
    requests: int
    throttled: int
    seconds: float

    @property
    def bound_seconds(self) -> float:
        return self.requests / self.budget_per_second

    @property
    def ratio(self) -> float:
        return self.seconds / self.bound_seconds

    @property
    def throttled_share(self) -> float:
        return self.throttled / max(1, self.requests)

    @property
    def within_bound(self) -> bool:
        return self.ratio <= TIME_BOUND_RATIO and self.throttled_share <= THROTTLED_BOUND


async def _pull_orders(
    base_url: str, merchant: str, token: str, rate: float, stats: CallStats
) -> None:
    async def auth() -> Mapping[str, str]:
        return {"Authorization": f"Bearer {token}"}

    limiter = LimiterRegistry().bucket(
        LimitKey("square", merchant), LimiterConfig(rate_per_second=rate, capacity=1)
    )
    async with square_api_client(
        f"{base_url}/square", merchant, auth, limiter=limiter, stats=stats
    ) as api:
        client = SquareClient(api, page_size=1)
        locations = [loc.id for loc in await client.locations()]
        start = datetime(2026, 10, 30, tzinfo=UTC)
        async for _ in client.orders(locations, "closed_at", start, FROZEN_NOW):
            pass


def measure_rate_limit(budget_per_second: float = 20.0, seed: int = 7) -> RateFigures:
    """Pull orders in small pages against a sandbox that allows `budget_per_second` per merchant."""
    faults = FaultConfig(budget_per_second=budget_per_second, budget_burst=10)
    sandbox = build_sandbox(
        SandboxSettings(seed=seed, scale="small", frozen_at=FROZEN_NOW, faults=faults)
    )
    merchant = sandbox.world.square_merchants[0]
    token = sandbox.tokens.personal_tokens()[merchant]
    stats = CallStats()
    with serve_in_thread(sandbox.app) as base_url:
        started = time.monotonic()
        asyncio.run(_pull_orders(base_url, merchant, token, budget_per_second, stats))
        seconds = time.monotonic() - started
        throttled = sandbox.fault_log.counts().get("budget_429", 0)
    return RateFigures(budget_per_second, stats.requests, throttled, seconds)
