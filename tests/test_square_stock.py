"""Rebuilding past stock from Square's current counts and change history (pure functions)."""

from datetime import UTC, datetime, timedelta
from decimal import Decimal

from shelfops_pipeline.sources.square.models import InventoryChange, InventoryCount
from shelfops_pipeline.sources.square.stock import Rewinder, StockLevel, replay, stock_levels

T0 = datetime(2026, 11, 1, 12, tzinfo=UTC)


def _at(hours: float) -> datetime:
    return T0 + timedelta(hours=hours)


def _count(
    variation: str, quantity: str, calculated_hours: float, state: str = "IN_STOCK"
) -> InventoryCount:
    return InventoryCount(variation, "L1", state, Decimal(quantity), _at(calculated_hours))


def _move(
    variation: str, quantity: str, hours: float, from_state: str | None, to_state: str
) -> InventoryChange:
    return InventoryChange(
        f"{variation}-{hours}",
        "ADJUSTMENT",
        variation,
        "L1",
        from_state,
        to_state,
        Decimal(quantity),
        _at(hours),
    )


def _physical(variation: str, quantity: str, hours: float) -> InventoryChange:
    return InventoryChange(
        f"{variation}-pc-{hours}",
        "PHYSICAL_COUNT",
        variation,
        "L1",
        None,
        "IN_STOCK",
        Decimal(quantity),
        _at(hours),
    )


def test_later_sales_and_receipts_are_undone_and_changes_after_the_count_ignored() -> None:
    rewinder = Rewinder([_count("V", "7.5", 3), _count("V", "2", 3, "RESERVED_FOR_SALE")], _at(0))
    rewinder.undo([
        _move("V", "1.25", 1, "IN_STOCK", "SOLD"),        # sold after T0: add back
        _move("V", "4", 2, "NONE", "IN_STOCK"),           # received after T0: take away
        _move("V", "2", 2.5, "IN_STOCK", "RESERVED_FOR_SALE"),
        _move("V", "9", 4, "IN_STOCK", "SOLD"),           # after the count was read: not in it
        _move("V", "3", -1, "IN_STOCK", "SOLD"),          # before T0: already in the level
    ])  # fmt: skip
    assert stock_levels(rewinder) == [StockLevel("V", "L1", Decimal("6.75"), Decimal("0"))]


def test_a_later_physical_count_is_replayed_from_the_history_before_it() -> None:
    rewinder = Rewinder([_count("V", "10", 5), _count("W", "4", 5)], _at(0))
    rewinder.undo([_physical("V", "10", 3), _move("W", "1", 2, "IN_STOCK", "SOLD")])
    assert rewinder.reset_later == {("V", "L1")}
    history = [
        _physical("V", "20", -10),
        _move("V", "5", -9, "IN_STOCK", "SOLD"),
        _physical("V", "12", -5),
        _move("V", "2", -1, "IN_STOCK", "SOLD"),
        _move("V", "1", 1, "IN_STOCK", "SOLD"),
    ]
    assert stock_levels(rewinder, replay(history, _at(0))) == [
        StockLevel("V", "L1", Decimal("10"), Decimal("0")),
        StockLevel("W", "L1", Decimal("5"), Decimal("0")),
    ]


def test_a_series_with_no_history_before_the_instant_is_left_out() -> None:
    rewinder = Rewinder([_count("V", "10", 5)], _at(0))
    rewinder.undo([_physical("V", "10", 3)])
    assert stock_levels(rewinder, replay([_physical("V", "10", 3)], _at(0))) == []
