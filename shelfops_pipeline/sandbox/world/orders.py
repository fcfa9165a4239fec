"""Order generation for one store and one local business day, deterministic for the seed."""

import random
from collections.abc import Sequence
from datetime import date, datetime, time, timedelta
from decimal import Decimal
from zoneinfo import ZoneInfo

from shelfops_pipeline.sandbox.world.entities import (
    Item,
    Line,
    Order,
    Refund,
    ReturnLine,
    Store,
)
from shelfops_pipeline.sandbox.world.ids import mixed_id, upper_id
from shelfops_pipeline.sandbox.world.money import percent_of, round_minor

# Relative order volume by local hour: breakfast, lunch and after-work peaks, open until midnight.
HOURLY_CURVE: dict[int, float] = {
    7: 0.3, 8: 0.8, 9: 0.7, 10: 0.6, 11: 0.9, 12: 1.4, 13: 1.2, 14: 0.7, 15: 0.6,
    16: 0.7, 17: 1.0, 18: 1.2, 19: 1.0, 20: 0.7, 21: 0.5, 22: 0.35, 23: 0.25,
}  # fmt: skip
WEEKDAY_FACTOR = (0.85, 0.9, 0.95, 1.0, 1.2, 1.35, 1.1)
# Latest an order's timestamps can trail its creation: a 72 h upload, then a return 10 days on.
MAX_ORDER_LAG = timedelta(days=15)
DISCOUNT_PERCENTS = (Decimal(10), Decimal(20))


def discount_ids(seed: int, merchant_id: str) -> dict[Decimal, str]:
    return {p: upper_id(seed, 24, "discount", merchant_id, p) for p in DISCOUNT_PERCENTS}


def generate_store_day(
    seed: int,
    store: Store,
    business_day: date,
    items: Sequence[Item],
    orders_per_day: int,
) -> list[Order]:
    """Sale orders opened at `store` on local `business_day`, with the return orders they cause."""
    rng = random.Random(f"{seed}:orders:{store.id}:{business_day.isoformat()}")
    zone = ZoneInfo(store.timezone)
    count = round(orders_per_day * WEEKDAY_FACTOR[business_day.weekday()] * rng.uniform(0.85, 1.15))
    hours = list(HOURLY_CURVE)
    weights = list(HOURLY_CURVE.values())
    starts = sorted(
        datetime.combine(business_day, time(rng.choices(hours, weights)[0]), zone)
        + timedelta(seconds=rng.randint(0, 3599), microseconds=rng.randint(0, 999999))
        for _ in range(count)
    )
    discounts = discount_ids(seed, store.merchant_id)
    orders: list[Order] = []
    for number, local_start in enumerate(starts):
        created_at = local_start.astimezone(ZoneInfo("UTC"))
        order_id = mixed_id(seed, 27, "order", store.id, business_day.isoformat(), number)
        lines = _lines(seed, rng, order_id, store, items, created_at, discounts)
        if not lines:
            continue
        orders.extend(_order_with_returns(seed, rng, order_id, store, created_at, lines))
    return orders


def _lines(
    seed: int,
    rng: random.Random,
    order_id: str,
    store: Store,
    items: Sequence[Item],
    at: datetime,
    discounts: dict[Decimal, str],
) -> tuple[Line, ...]:
    lines = []
    for position in range(rng.choice((1, 1, 2, 2, 3, 4))):
        uid = mixed_id(seed, 22, "line", order_id, position)
        if rng.random() < 0.03:
            # A custom amount of 1 to 40 major units (dollars, pounds) or 100 to 4,000 yen.
            price = rng.randint(1, 40) * 100
            lines.append(
                _priced_line(
                    uid,
                    None,
                    None,
                    "Custom Amount",
                    None,
                    Decimal(1),
                    False,
                    price,
                    None,
                    None,
                    True,
                    store,
                )
            )
            continue
        item = _pick_item(rng, items, at)
        if item is None:
            continue
        variation = rng.choice(item.variations)
        if variation.sold_by_weight:
            quantity = Decimal(rng.randint(25, 300)).scaleb(-2)
        else:
            quantity = Decimal(rng.choices((1, 2, 3, 4), (70, 20, 7, 3))[0])
        percent = rng.choice(DISCOUNT_PERCENTS) if rng.random() < 0.15 else None
        lines.append(
            _priced_line(
                uid, variation.id, item.id, item.name_at(at), variation.name, quantity,
                variation.sold_by_weight, variation.price_at(at),
                percent, discounts[percent] if percent else None, item.taxable, store,
                catalog_version=int(item.updated_at(at).timestamp() * 1000),
            )
        )  # fmt: skip
    return tuple(lines)


def _pick_item(rng: random.Random, items: Sequence[Item], at: datetime) -> Item | None:
    # Earlier items sell more often (a long tail); retry a few times past items not on sale.
    for _ in range(8):
        index = min(int(rng.paretovariate(1.2)) - 1, len(items) - 1)
        item = items[(index + rng.randrange(3)) % len(items)]
        if item.exists_at(at):
            return item
    return None


def _priced_line(
    uid: str,
    variation_id: str | None,
    item_id: str | None,
    name: str,
    variation_name: str | None,
    quantity: Decimal,
    sold_by_weight: bool,
    base_price_minor: int,
    discount_percent: Decimal | None,
    discount_id: str | None,
    taxable: bool,
    store: Store,
    catalog_version: int | None = None,
) -> Line:
    gross = round_minor(quantity * base_price_minor)
    discount = percent_of(gross, discount_percent) if discount_percent else 0
    tax = percent_of(gross - discount, store.tax_percent) if taxable else 0
    return Line(
        uid=uid,
        variation_id=variation_id,
        item_id=item_id,
        name=name,
        variation_name=variation_name,
        quantity=quantity,
        sold_by_weight=sold_by_weight,
        base_price_minor=base_price_minor,
        gross_minor=gross,
        discount_minor=discount,
        discount_id=discount_id,
        tax_minor=tax,
        catalog_version=catalog_version,
    )


def _order_with_returns(
    seed: int,
    rng: random.Random,
    order_id: str,
    store: Store,
    created_at: datetime,
    lines: tuple[Line, ...],
) -> list[Order]:
    roll = rng.random()
    late_evening = created_at.astimezone(ZoneInfo(store.timezone)).hour >= 23
    # Evening tabs stay open a while, so some close after local midnight.
    duration = (
        timedelta(minutes=rng.randint(15, 50))
        if late_evening
        else timedelta(seconds=rng.randint(20, 400))
    )
    closed_at: datetime | None = created_at + duration
    final_state = "COMPLETED"
    visible_from = created_at
    source_name = "Square Point of Sale"
    if roll < 0.04:
        final_state = "CANCELED"
    elif roll < 0.06:
        closed_at, final_state = None, "OPEN"
    elif roll < 0.10:
        # Taken offline: uploaded hours later but keeps its original created_at.
        visible_from = created_at + timedelta(hours=rng.randint(1, 71), minutes=rng.randint(0, 59))
        source_name = "Square Point of Sale (offline)"
    tender_type = rng.choice(("CARD", "CARD", "CARD", "CASH"))
    tender_id = mixed_id(seed, 29, "tender", order_id) if final_state == "COMPLETED" else None
    sale = Order(
        id=order_id,
        store_id=store.id,
        merchant_id=store.merchant_id,
        currency=store.currency,
        created_at=created_at,
        visible_from=visible_from,
        closed_at=closed_at,
        final_state=final_state,
        source_name=source_name,
        tender_id=tender_id,
        tender_type=tender_type,
        lines=lines,
    )
    if final_state != "COMPLETED" or closed_at is None or rng.random() >= 0.05:
        return [sale]
    returned_at = max(closed_at, visible_from) + timedelta(
        days=rng.randint(1, 10), hours=rng.randint(0, 8), seconds=rng.randint(0, 3599)
    )
    return_order = _return_order(seed, rng, sale, returned_at)
    refund = Refund(
        id=mixed_id(seed, 29, "refund", order_id),
        created_at=returned_at,
        amount_minor=sum(r.total_minor for r in return_order.return_lines),
        return_order_id=return_order.id,
    )
    return [_with_refund(sale, refund), return_order]


def _return_order(seed: int, rng: random.Random, sale: Order, returned_at: datetime) -> Order:
    source = rng.choice(sale.lines)
    quantity = source.quantity
    if not source.sold_by_weight and quantity > 1:
        quantity = Decimal(rng.randint(1, int(quantity)))
    share = quantity / source.quantity
    gross = round_minor(quantity * source.base_price_minor)
    discount = round_minor(source.discount_minor * share)
    tax = round_minor(source.tax_minor * share)
    return_id = mixed_id(seed, 27, "return", sale.id)
    line = ReturnLine(
        uid=mixed_id(seed, 22, "return-line", sale.id, source.uid),
        source_line_uid=source.uid,
        variation_id=source.variation_id,
        name=source.name,
        quantity=quantity,
        sold_by_weight=source.sold_by_weight,
        base_price_minor=source.base_price_minor,
        gross_minor=gross,
        discount_minor=discount,
        tax_minor=tax,
    )
    return Order(
        id=return_id,
        store_id=sale.store_id,
        merchant_id=sale.merchant_id,
        currency=sale.currency,
        created_at=returned_at,
        visible_from=returned_at,
        closed_at=returned_at + timedelta(seconds=rng.randint(5, 90)),
        final_state="COMPLETED",
        source_name="Square Point of Sale",
        tender_id=None,
        tender_type="CARD",
        source_order_id=sale.id,
        return_lines=(line,),
    )


def _with_refund(sale: Order, refund: Refund) -> Order:
    return Order(**{**sale.__dict__, "refund": refund})
