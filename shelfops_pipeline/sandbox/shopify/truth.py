"""Ground truth for Shopify: the lines a correct pipeline derives from a shop's orders.

A sale line counts when its order is paid (not pending), not cancelled, not a test order and
visible at `as_of`, at its `processed_at`; a return line is a refund line item, at its refund's
`created_at`. Both instants are what the API shows (whole seconds). The business date is the
local date of the store that took the order (the online store's is the shop's). Quantities and
prices are Shopify's: a line sold by weight is one unit priced at the weighed amount.
"""

from collections.abc import Iterator
from datetime import date, datetime
from decimal import Decimal

from shelfops_pipeline.sandbox.shopify.model import ShopifyLineItem, ShopifyOrder, ShopifyView
from shelfops_pipeline.sandbox.shopify.rest_order_list import UPDATE_HORIZON
from shelfops_pipeline.sandbox.truth_line import TruthLine, local_day_bounds
from shelfops_pipeline.sandbox.world.config import minor_unit_digits
from shelfops_pipeline.sandbox.world.entities import Store
from shelfops_pipeline.sandbox.world.money import to_major
from shelfops_pipeline.sandbox.world.world import World

PAID_STATUSES = frozenset({"PAID", "PARTIALLY_REFUNDED", "REFUNDED"})


def shopify_truth_lines(world: World, business_date: date, as_of: datetime) -> Iterator[TruthLine]:
    """Every Shopify sale or return line on `business_date` (stores' local time), as of `as_of`."""
    view = ShopifyView(world)
    for shop in world.shops:
        stores = world.stores_of(shop.domain)
        bounds = {store.id: local_day_bounds(store, business_date) for store in stores}
        earliest = min(start for start, _ in bounds.values()) - UPDATE_HORIZON
        latest = max(end for _, end in bounds.values())
        for order in view.orders(shop, as_of, earliest, latest):
            if order.test:
                continue
            start, end = bounds[order.store.id]
            yield from _order_lines(order, start, end, business_date)


def _shown(at: datetime) -> datetime:
    """An instant as Shopify writes it: whole seconds."""
    return at.replace(microsecond=0)


def _order_lines(
    order: ShopifyOrder, start: datetime, end: datetime, day: date
) -> Iterator[TruthLine]:
    store = order.store
    sold_at = _shown(order.processed_at)
    paid = order.financial_status in PAID_STATUSES and order.cancelled_at is None
    if paid and start <= sold_at < end:
        for item in order.line_items:
            yield _line(order, store, item, item.id, "sale", 1, item.quantity, sold_at, day,
                        item.discount_minor, item.tax_minor, item.discounted_total_minor)  # fmt: skip
    for refund in order.refunds:
        refunded_at = _shown(refund.created_at)
        if not start <= refunded_at < end:
            continue
        for back in refund.line_items:
            returned = back.return_line
            yield _line(order, store, back.line_item, back.id, "return", -1, back.quantity,
                        refunded_at, day, returned.discount_minor, back.tax_minor,
                        back.subtotal_minor)  # fmt: skip


def _line(
    order: ShopifyOrder, store: Store, item: ShopifyLineItem, line_id: int, kind: str,
    sign: int, quantity: int, occurred_at: datetime, day: date,
    discount: int, tax: int, net: int,
) -> TruthLine:  # fmt: skip
    digits = minor_unit_digits(order.currency)

    def major(minor: int) -> Decimal:
        return to_major(minor, digits)

    return TruthLine(
        transaction_id=f"shopify:{order.id}:{line_id}",
        customer_id=order.shop.customer_id,
        source_system="shopify",
        store_id=store.id,
        product_id=str(item.variant_id) if item.variant_id is not None else "",
        order_id=str(order.id),
        line_id=str(line_id),
        kind=kind,
        quantity=Decimal(sign * quantity),
        unit_price=major(item.unit_price_minor),
        discount=major(sign * discount),
        tax=major(sign * tax),
        net_amount=major(sign * net),
        currency=order.currency,
        occurred_at=occurred_at,
        business_date=day,
    )
