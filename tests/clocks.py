"""Sandbox clocks for tests: one moved by hand (tokens that expire, histories that grow), one that
runs faster than real time (live feeds)."""

import time
from datetime import UTC, datetime, timedelta

from shelfops_pipeline.sandbox.clock import SandboxClock


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
    """Real time sped up, so a live feed sees minutes of the world in a fraction of a second."""

    def __init__(self, speed: float) -> None:
        super().__init__()
        self.origin, self.started, self.speed = datetime.now(UTC), time.monotonic(), speed

    def now(self) -> datetime:
        return self.origin + timedelta(seconds=(time.monotonic() - self.started) * self.speed)
