"""Sandbox clocks for tests: one moved by hand (tokens that expire, histories that grow), one that
runs faster than real time (live feeds)."""

import time
from datetime import UTC, datetime, timedelta

from shelfops_pipeline.sandbox.clock import SandboxClock

# Busy moments of the seeded small world: a Thursday afternoon in its New York and London stores,
# and late morning the same day in its Tokyo and Sydney shops.
SQUARE_STORES_BUSY = datetime(2026, 11, 5, 18, 30, tzinfo=UTC)
SHOPIFY_SHOPS_BUSY = datetime(2026, 11, 5, 1, 30, tzinfo=UTC)


class MovableClock(SandboxClock):
    """A frozen sandbox clock the test moves (by default starting at the real now)."""

    def __init__(self, start: datetime | None = None) -> None:
        moment = start or datetime.now(UTC)
        super().__init__(moment)
        self.moment = moment

    def now(self) -> datetime:
        return self.moment

    def advance(self, **delta: float) -> None:
        self.moment += timedelta(**delta)


class FastClock(SandboxClock):
    """Real time sped up, so a live feed sees minutes of the world in a fraction of a second.

    A test counting deliveries starts it at a fixed busy moment of its stores: from the real now
    the stores may be closed, and the count would depend on the hour the suite runs.
    """

    def __init__(self, speed: float, start: datetime | None = None) -> None:
        super().__init__()
        self.origin = start or datetime.now(UTC)
        self.started, self.speed = time.monotonic(), speed

    def now(self) -> datetime:
        return self.origin + timedelta(seconds=(time.monotonic() - self.started) * self.speed)
