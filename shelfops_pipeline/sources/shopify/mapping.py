"""Shopify records -> the unified model. Pure functions: no HTTP, no disk, no Dagster.

- Stores: each shop location is a store; orders taken online carry no location, so each shop
  also has one online store, `online-{handle}`. Shopify gives locations no time zone of their
  own: every store of a shop keeps the shop's (`ianaTimezone`) and its currency.
- Products: one per variant (`product_id` is the variant's numeric id, `item_id` its product's).
- Sales: the line items of an order that is paid (not PENDING or VOIDED), not cancelled and not
  a test order, at `processedAt` (when payment was captured).
- Returns: each refund line item of a non-test order, at the refund's `createdAt`, with negative
  quantity, discount, tax and net amount; the discount is the refunded share of the line's.
- Money: the warehouse holds the shop currency (`shopMoney`), the currency the merchant books
  and reports in. A customer shown another currency (`presentmentCurrencyCode`) paid an amount
  converted at the order's rate; it is not what the shop's books and payouts hold, so it is kept
  only in the raw order's JSON.
- Business dates are the shop's local dates at those instants.
"""

from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal
from zoneinfo import ZoneInfo

from shelfops_pipeline.sources.shopify.models import (
    LineItem,
    Location,
    Order,
    RefundLineItem,
    Shop,
    Variant,
)
from shelfops_pipeline.warehouse.model import ProductRow, StoreRow, TransactionRow

SOURCE = "shopify"
PAID_STATUSES = frozenset({"PAID", "PARTIALLY_REFUNDED", "REFUNDED"})


def shop_handle(domain: str) -> str:
    """ "harbor-pantry" from "harbor-pantry.myshopify.com"."""
    return domain.split(".", 1)[0]


def online_store_id(shop: Shop) -> str:
    return f"online-{shop_handle(shop.domain)}"


def store_rows(shop: Shop, locations: list[Location], customer_id: str) -> Iterator[StoreRow]:
    """The shop's locations as physical stores, then its online store."""
    for location in locations:
        yield _store(shop, customer_id, location.id, location.name, "physical")
    yield _store(shop, customer_id, online_store_id(shop), f"{shop.name} Online Store", "online")


def _store(shop: Shop, customer_id: str, store_id: str, name: str, kind: str) -> StoreRow:
    return StoreRow(
        store_id=store_id,
        customer_id=customer_id,
        source_system=SOURCE,
        account_id=shop.domain,
        name=name,
        timezone=shop.timezone,
        currency=shop.currency,
        kind=kind,
    )


def product_row(variant: Variant, shop: Shop, customer_id: str) -> ProductRow:
    return ProductRow(
        product_id=variant.id,
        customer_id=customer_id,
        source_system=SOURCE,
        item_id=variant.product_id,
        name=variant.product_title,
        variation_name=variant.title,
        sku=variant.sku,
        unit_price=variant.price,
        currency=shop.currency,
        is_deleted=False,
        valid_from=variant.updated_at,
    )


def is_sale(order: Order) -> bool:
    return not order.test and order.cancelled_at is None and order.financial_status in PAID_STATUSES


def transaction_rows(order: Order, shop: Shop, customer_id: str) -> Iterator[TransactionRow]:
    """Every sold and returned line of one order, whatever day each falls on."""
    if order.test:
        return
    store_id = order.location_id or online_store_id(shop)
    zone = ZoneInfo(shop.timezone)
    if is_sale(order):
        for line in order.line_items:
            yield _sale(order, store_id, customer_id, line, zone)
    for refund in order.refunds:
        for returned in refund.line_items:
            yield _return(order, store_id, customer_id, returned, refund.created_at, zone)


def _row(
    order: Order,
    store_id: str,
    customer_id: str,
    line_id: str,
    variant_id: str | None,
    kind: str,
    amounts: tuple[Decimal, Decimal, Decimal, Decimal, Decimal],
    occurred_at: datetime,
    zone: ZoneInfo,
) -> TransactionRow:
    quantity, unit_price, discount, tax, net = amounts
    return TransactionRow(
        transaction_id=f"{SOURCE}:{order.id}:{line_id}",
        customer_id=customer_id,
        source_system=SOURCE,
        store_id=store_id,
        product_id=variant_id or "",
        order_id=order.id,
        line_id=line_id,
        kind=kind,
        quantity=quantity,
        unit_price=unit_price,
        discount=discount,
        tax=tax,
        net_amount=net,
        currency=order.currency,
        occurred_at=occurred_at,
        business_date=occurred_at.astimezone(zone).date(),
    )


def _sale(
    order: Order, store_id: str, customer_id: str, line: LineItem, zone: ZoneInfo
) -> TransactionRow:
    amounts = (Decimal(line.quantity), line.unit_price, line.discount, line.tax, line.net)
    return _row(
        order, store_id, customer_id, line.id, line.variant_id, "sale", amounts,
        order.processed_at, zone,
    )  # fmt: skip


def _return(
    order: Order,
    store_id: str,
    customer_id: str,
    line: RefundLineItem,
    refunded_at: datetime,
    zone: ZoneInfo,
) -> TransactionRow:
    amounts = (Decimal(-line.quantity), line.unit_price, -line.discount, -line.tax, -line.subtotal)
    return _row(
        order, store_id, customer_id, line.id, line.variant_id, "return", amounts,
        refunded_at, zone,
    )  # fmt: skip


@dataclass(frozen=True)
class DayTotal:
    """What Shopify reports for an order's lines on one business day, to check the rows against:
    its total if sold that day, less what was refunded that day (tax included), and the lines."""

    total: Decimal
    lines: int


def day_total(order: Order, shop: Shop, day: date) -> DayTotal | None:
    """The order's reported total and line count on `day`; None when no line falls on it."""
    if order.test:
        return None
    zone = ZoneInfo(shop.timezone)
    total, lines = Decimal(0), 0
    if is_sale(order) and order.processed_at.astimezone(zone).date() == day:
        total += order.total
        lines += len(order.line_items)
    for refund in order.refunds:
        if refund.created_at.astimezone(zone).date() == day:
            total -= refund.total
            lines += len(refund.line_items)
    return DayTotal(total, lines) if lines else None
