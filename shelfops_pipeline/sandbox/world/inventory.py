"""Stock on hand per variation and store, moving every hour: sold down, then restocked in cycles."""

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from decimal import Decimal

from shelfops_pipeline.sandbox.world.ids import unit_fraction

HOUR = 3600


@dataclass(frozen=True)
class StockCurve:
    """A closed-form stock level, so any hour is computed without replaying history.

    Quantities are in quanta: whole units, or hundredths of a kilogram or pound for goods sold by
    weight. Each change lands `offset_seconds` into its hour.
    """

    par: int
    cycle_hours: int
    phase: int
    salt: int
    offset_seconds: int
    quantum: Decimal

    def level(self, hour: int) -> int:
        into_cycle = (hour + self.phase) % self.cycle_hours
        sold = into_cycle * self.par * 8 // (10 * self.cycle_hours)
        wobble = ((hour * 2654435761) ^ self.salt) >> 11 & 1
        return max(0, self.par - sold - wobble)

    def hour_of(self, at: datetime) -> int:
        return (int(at.timestamp()) - self.offset_seconds) // HOUR

    def changed_at(self, hour: int) -> datetime:
        return datetime.fromtimestamp(hour * HOUR + self.offset_seconds, UTC)

    def quantity(self, hour: int) -> Decimal:
        return self.level(hour) * self.quantum

    def last_change_hour(self, hour: int) -> int:
        """The latest hour at or before `hour` in which the level moved (a day back at most)."""
        for back in range(24):
            if self.level(hour - back) != self.level(hour - back - 1):
                return hour - back
        return hour - 24

    def changes_between(self, start: datetime, end: datetime) -> list[tuple[int, int]]:
        """(hour, delta in quanta) for every move with start < changed_at <= end."""
        first, last = self.hour_of(start) + 1, self.hour_of(end)
        moves = []
        for hour in range(first, last + 1):
            delta = self.level(hour) - self.level(hour - 1)
            if delta:
                moves.append((hour, delta))
        return moves


def stock_curve(seed: int, variation_id: str, store_id: str, sold_by_weight: bool) -> StockCurve:
    def fraction(name: str) -> float:
        return unit_fraction(seed, "stock", variation_id, store_id, name)

    cycle_days = 2 + int(fraction("cycle") * 5)
    return StockCurve(
        par=(1000 + int(fraction("par") * 7000))
        if sold_by_weight
        else 20 + int(fraction("par") * 100),
        cycle_hours=cycle_days * 24,
        phase=int(fraction("phase") * cycle_days * 24),
        salt=int(fraction("salt") * 2**31),
        offset_seconds=int(fraction("offset") * (HOUR - 1)),
        quantum=Decimal("0.01") if sold_by_weight else Decimal(1),
    )


def hour_start(hour: int) -> datetime:
    return datetime(1970, 1, 1, tzinfo=UTC) + timedelta(hours=hour)
