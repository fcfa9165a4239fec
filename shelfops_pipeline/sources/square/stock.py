"""Stock at a past instant, rebuilt from Square's current counts and its change history.

Square serves current counts only. The level at an earlier instant is the current count with
every later adjustment undone. A physical count sets a level outright and cannot be undone, so a
series with one after that instant is replayed forward instead, over its whole change history up
to the instant (Square starts every state at zero). A series with no change by then was not
tracked yet and is left out: its level was unknown, not zero. Pure functions: no HTTP.
"""

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal

from shelfops_pipeline.sources.square.models import InventoryChange, InventoryCount

AVAILABLE = "IN_STOCK"
RESERVED = "RESERVED_FOR_SALE"
STATES = (AVAILABLE, RESERVED)
PHYSICAL_COUNT = "PHYSICAL_COUNT"

# (variation_id, location_id), and the same with the inventory state.
Series = tuple[str, str]
StateKey = tuple[str, str, str]


@dataclass(frozen=True)
class StockLevel:
    variation_id: str
    location_id: str
    in_stock: Decimal
    reserved_for_sale: Decimal


def _effect(change: InventoryChange, state: str) -> Decimal:
    """How an adjustment moved the quantity in `state`."""
    effect = Decimal(0)
    if change.to_state == state:
        effect += change.quantity
    if change.from_state == state:
        effect -= change.quantity
    return effect


class Rewinder:
    """Current counts, taken back to `at` one page of later changes at a time.

    A change newer than its count's `calculated_at` arrived after the count was read and is not
    in it, so it is not undone. Series without a current count are left out.
    """

    def __init__(self, counts: Iterable[InventoryCount], at: datetime) -> None:
        self.at = at
        self.levels: dict[StateKey, Decimal] = {}
        self._known_at: dict[StateKey, datetime] = {}
        self.reset_later: set[Series] = set()
        for count in counts:
            if count.state in STATES:
                key = (count.variation_id, count.location_id, count.state)
                self.levels[key] = count.quantity
                self._known_at[key] = count.calculated_at

    def undo(self, later: Iterable[InventoryChange]) -> None:
        for change in later:
            if change.occurred_at <= self.at:
                continue
            for state in STATES:
                key = (change.variation_id, change.location_id, state)
                if key not in self.levels or change.occurred_at > self._known_at[key]:
                    continue
                if change.kind != PHYSICAL_COUNT:
                    self.levels[key] -= _effect(change, state)
                elif change.to_state == state:
                    self.reset_later.add((change.variation_id, change.location_id))


def replay(history: Iterable[InventoryChange], at: datetime) -> dict[StateKey, Decimal]:
    """Levels at `at` from the complete change history up to it."""
    levels: dict[StateKey, Decimal] = {}
    ordered = sorted(
        (c for c in history if c.occurred_at <= at), key=lambda c: (c.occurred_at, c.id)
    )
    for change in ordered:
        for state in STATES:
            key = (change.variation_id, change.location_id, state)
            if change.kind == PHYSICAL_COUNT:
                if change.to_state == state:
                    levels[key] = change.quantity
            elif effect := _effect(change, state):
                levels[key] = levels.get(key, Decimal(0)) + effect
    return levels


def stock_levels(
    rewound: Rewinder, replayed: dict[StateKey, Decimal] | None = None
) -> list[StockLevel]:
    """One level per tracked series: rewound ones, and reset ones from the replay."""
    replayed = replayed or {}
    by_series: dict[Series, dict[str, Decimal]] = {}
    for (variation, location, state), quantity in rewound.levels.items():
        if (variation, location) not in rewound.reset_later:
            by_series.setdefault((variation, location), {})[state] = quantity
    for (variation, location, state), quantity in replayed.items():
        if (variation, location) in rewound.reset_later:
            by_series.setdefault((variation, location), {})[state] = quantity
    return [
        StockLevel(
            variation, location, states.get(AVAILABLE, Decimal(0)), states.get(RESERVED, Decimal(0))
        )
        for (variation, location), states in sorted(by_series.items())
    ]
