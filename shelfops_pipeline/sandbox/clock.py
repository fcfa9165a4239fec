"""The sandbox's notion of now: the real clock, or an instant frozen for repeatable runs."""

from datetime import UTC, datetime


class SandboxClock:
    """Tells the emulators what time it is; frozen clocks make every reply repeatable."""

    def __init__(self, frozen_at: datetime | None = None) -> None:
        if frozen_at is not None and frozen_at.tzinfo is None:
            raise ValueError(
                "a frozen sandbox time must carry a UTC offset, e.g. 2026-11-05T12:00Z"
            )
        self._frozen_at = frozen_at.astimezone(UTC) if frozen_at else None

    @property
    def frozen(self) -> bool:
        return self._frozen_at is not None

    def now(self) -> datetime:
        return self._frozen_at or datetime.now(UTC)
