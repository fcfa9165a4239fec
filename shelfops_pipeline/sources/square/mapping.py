"""Square records -> the unified model. Pure functions: no HTTP, no disk, no Dagster.

A sale counts when its order is COMPLETED, at `closed_at`; a return counts when its return order
closed. OPEN, CANCELED and DRAFT orders are not sales. The business date is the store's local
date at that instant, so day boundaries and daylight-saving days follow the store's clock.
"""

from collections.abc import Iterator
from datetime import datetime
from zoneinfo import ZoneInfo

from shelfops_pipeline.sources.square.models import (
    Item,
    LineItem,
    Location,
    Order,
    ReturnLineItem,
)
from shelfops_pipeline.warehouse.model import ProductRow, StoreRow, TransactionRow
from shelfops_pipeline.warehouse.money import from_minor

SOURCE = "square"


def store_row(location: Location, customer_id: str) -> StoreRow:
    """A Square location as a store; its kind is Square's location type, lower-cased."""
    return StoreRow(
        store_id=location.id,
        customer_id=customer_id,
        source_system=SOURCE,
        account_id=location.merchant_id,
        name=location.name,
        timezone=location.timezone,
        currency=location.currency,
        kind=location.location_type.lower(),
    )


def product_rows(item: Item, customer_id: str, currency: str) -> Iterator[ProductRow]:
    """One product version per variation, valid from the later of its and its item's change.

    `currency` is the merchant's, used for variations sold at a variable price (no price).
    """
    for variation in item.variations:
        price = variation.price
        yield ProductRow(
            product_id=variation.id,
            customer_id=customer_id,
            source_system=SOURCE,
            item_id=item.id,
            name=item.name,
            variation_name=variation.name,
            sku=variation.sku,
            unit_price=from_minor(price.amount_minor, price.currency) if price else None,
            currency=price.currency if price else currency,
            is_deleted=item.is_deleted or variation.is_deleted,
            valid_from=max(item.updated_at, variation.updated_at),
        )


def transaction_rows(
    order: Order, location: Location, customer_id: str
) -> Iterator[TransactionRow]:
    """The sold and returned lines of one order; nothing unless it is COMPLETED and closed."""
    if order.state != "COMPLETED" or order.closed_at is None:
        return
    for line in order.line_items:
        yield _row(order, order.closed_at, location, customer_id, line, "sale")
    for returned in order.return_line_items:
        yield _row(order, order.closed_at, location, customer_id, returned, "return")


def _row(
    order: Order,
    occurred_at: datetime,
    location: Location,
    customer_id: str,
    line: LineItem | ReturnLineItem,
    kind: str,
) -> TransactionRow:
    sign = -1 if kind == "return" else 1
    currency = line.base_price.currency
    return TransactionRow(
        transaction_id=f"{SOURCE}:{order.id}:{line.uid}",
        customer_id=customer_id,
        source_system=SOURCE,
        store_id=order.location_id,
        product_id=line.variation_id or "",
        order_id=order.id,
        line_id=line.uid,
        kind=kind,
        quantity=sign * line.quantity,
        unit_price=from_minor(line.base_price.amount_minor, currency),
        discount=from_minor(sign * line.discount.amount_minor, currency),
        tax=from_minor(sign * line.tax.amount_minor, currency),
        net_amount=from_minor(
            sign * (line.gross.amount_minor - line.discount.amount_minor), currency
        ),
        currency=currency,
        occurred_at=occurred_at,
        business_date=occurred_at.astimezone(ZoneInfo(location.timezone)).date(),
    )
