"""Ground truth: the transactions lines a correct pipeline must produce for one business date.

Square's lines are made here and Shopify's in `shopify.truth`. For Square, a sale counts when
its order is COMPLETED, at the instant it closed; a return counts when its return order closed.
Open, canceled and not-yet-uploaded orders are not sales. The business date is the store's local
date at that instant. Amounts are exact decimals in the line's currency; returns carry negative
quantity, discount, tax and net amount. Timestamps are what the API shows, so a line is dated
with the precision the provider wrote.
"""

from collections.abc import Iterator
from datetime import date, datetime
from decimal import Decimal
from zoneinfo import ZoneInfo

from shelfops_pipeline.sandbox.shopify.truth import shopify_truth_lines
from shelfops_pipeline.sandbox.timestamps import parse_rfc3339, rfc3339, varied_precision
from shelfops_pipeline.sandbox.truth_line import COLUMNS, TruthLine, local_day_bounds
from shelfops_pipeline.sandbox.world.config import minor_unit_digits
from shelfops_pipeline.sandbox.world.entities import Order, Store
from shelfops_pipeline.sandbox.world.money import to_major
from shelfops_pipeline.sandbox.world.world import World

__all__ = ["COLUMNS", "TruthLine", "truth_lines"]


def truth_lines(
    world: World, business_date: date, as_of: datetime | None = None
) -> list[TruthLine]:
    """Every sold or returned line on `business_date`, as the API shows things at `as_of`."""
    as_of = as_of or world.now()
    lines = [
        line for store in world.stores for line in _store_lines(world, store, business_date, as_of)
    ]
    lines.extend(shopify_truth_lines(world, business_date, as_of))
    return sorted(lines, key=lambda line: line.transaction_id)


def _store_lines(world: World, store: Store, day: date, as_of: datetime) -> Iterator[TruthLine]:
    start, end = local_day_bounds(store, day)
    zone = ZoneInfo(store.timezone)
    digits = minor_unit_digits(store.currency)
    for order in world.orders_touching(store.id, start, end):
        closed = order.closed_at_as_of(as_of)
        if closed is None or not order.visible_at(as_of) or order.state_at(as_of) != "COMPLETED":
            continue
        shown = parse_rfc3339(rfc3339(closed, varied_precision(world.seed, order.id)))
        if not start <= shown < end:
            continue
        yield from _order_lines(store, order, shown, shown.astimezone(zone).date(), digits)


def _order_lines(
    store: Store, order: Order, occurred_at: datetime, business_date: date, digits: int
) -> Iterator[TruthLine]:
    def major(minor: int) -> Decimal:
        return to_major(minor, digits)

    def row(line_id: str, product: str | None, kind: str, sign: int, quantity: Decimal,
            unit: int, discount: int, tax: int, gross: int) -> TruthLine:  # fmt: skip
        return TruthLine(
            transaction_id=f"square:{order.id}:{line_id}",
            customer_id=store.customer_id,
            source_system="square",
            store_id=store.id,
            product_id=product or "",
            order_id=order.id,
            line_id=line_id,
            kind=kind,
            quantity=sign * quantity,
            unit_price=major(unit),
            discount=major(sign * discount),
            tax=major(sign * tax),
            net_amount=major(sign * (gross - discount)),
            currency=order.currency,
            occurred_at=occurred_at,
            business_date=business_date,
        )

    for line in order.lines:
        yield row(line.uid, line.variation_id, "sale", 1, line.quantity, line.base_price_minor,
                  line.discount_minor, line.tax_minor, line.gross_minor)  # fmt: skip
    for back in order.return_lines:
        yield row(back.uid, back.variation_id, "return", -1, back.quantity, back.base_price_minor,
                  back.discount_minor, back.tax_minor, back.gross_minor)  # fmt: skip
