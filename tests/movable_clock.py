"""A sandbox clock the test moves by hand, for tokens that expire and histories that grow."""

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
