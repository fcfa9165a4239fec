"""Typed Shopify records, parsed from GraphQL nodes at the client's boundary.

Money is kept in the shop's currency (`shopMoney`), as exact decimals quantized to the currency's
minor unit; the presentment currency the customer saw is kept for reference only (see
`mapping`). Ids are Shopify's numeric ids (the tail of each GID). A node missing a field the
pipeline relies on, or garbling one (see `sources.fields`), raises `MalformedRecord` naming the
object and the field; so does a financial status the API did not document. The same parsers
read paged replies and reassembled bulk exports: both nest children as `{"nodes": [...]}`.
"""

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal
from typing import Any

from shelfops_pipeline.sources.fields import FieldReader
from shelfops_pipeline.warehouse.money import minor_digits


class MalformedRecord(ValueError):
    """A Shopify object lacks, or garbles, a field the pipeline needs."""


@dataclass(frozen=True)
class Shop:
    domain: str
    name: str
    timezone: str
    currency: str


@dataclass(frozen=True)
class Location:
    id: str
    name: str
    is_active: bool


@dataclass(frozen=True)
class Variant:
    id: str
    product_id: str
    product_title: str
    title: str
    sku: str
    price: Decimal
    updated_at: datetime


@dataclass(frozen=True)
class LineItem:
    id: str
    variant_id: str | None
    quantity: int
    unit_price: Decimal
    discount: Decimal
    tax: Decimal
    # After discounts, before tax.
    net: Decimal


@dataclass(frozen=True)
class RefundLineItem:
    id: str
    line_item_id: str
    variant_id: str | None
    quantity: int
    unit_price: Decimal
    tax: Decimal
    # The refunded amount before tax (after the line's discount share).
    subtotal: Decimal

    @property
    def discount(self) -> Decimal:
        """The line's discount share refunded: the price of what came back less its subtotal."""
        return self.unit_price * self.quantity - self.subtotal


@dataclass(frozen=True)
class Refund:
    id: str
    created_at: datetime
    # What Shopify reports refunded, tax included.
    total: Decimal
    line_items: tuple[RefundLineItem, ...]


@dataclass(frozen=True)
class Order:
    id: str
    name: str
    test: bool
    created_at: datetime
    processed_at: datetime
    updated_at: datetime
    cancelled_at: datetime | None
    financial_status: str
    currency: str
    presentment_currency: str
    location_id: str | None
    # What Shopify reports the order totals, tax included.
    total: Decimal
    line_items: tuple[LineItem, ...]
    refunds: tuple[Refund, ...]


FIELDS = FieldReader("Shopify", MalformedRecord)
FINANCIAL_STATUSES = frozenset(
    {"PENDING", "AUTHORIZED", "PARTIALLY_PAID", "PAID", "PARTIALLY_REFUNDED", "REFUNDED", "VOIDED",
     "EXPIRED"}
)  # fmt: skip
# Variant prices are stored as decimal(20, 4) whatever the shop's currency.
PRICE_QUANTUM = Decimal("0.0001")


def numeric_id(gid: Any, what: str) -> str:
    """ "123" from "gid://shopify/Order/123" (and from an InventoryLevel's "...?query")."""
    valid = isinstance(gid, str) and gid.startswith("gid://shopify/")
    tail = gid.rsplit("/", 1)[-1].split("?", 1)[0] if valid else ""
    if not tail.strip() or not tail.isprintable():
        raise MalformedRecord(f"Shopify {what} has no GID `id`: {gid!r}"[:200])
    return tail


def _gid(obj: Mapping[str, Any], what: str) -> str:
    return numeric_id(FIELDS.present(obj, "id", what), what)


def parse_time(obj: Mapping[str, Any], name: str, what: str) -> datetime:
    return FIELDS.time(obj, name, what)


def shop_money(obj: Mapping[str, Any], name: str, what: str, currency: str) -> Decimal:
    """`<name>.shopMoney.amount` in the shop currency, exact to the currency's minor unit."""
    bag = FIELDS.object(obj, name, what)
    money = FIELDS.object(bag, "shopMoney", f"{what} `{name}`") if bag else None
    if money is None:
        raise FIELDS.fail(obj, what, f"has no `{name}.shopMoney`")
    code = money.get("currencyCode")
    if code is not None and code != currency:
        raise FIELDS.fail(
            obj, what, f"`{name}.shopMoney.currencyCode` is {code!r}, not the shop's {currency}"
        )
    minor = Decimal(1).scaleb(-minor_digits(currency))
    return FIELDS.decimal(money, "amount", f"{what} `{name}.shopMoney`", minor).quantize(minor)


def nodes(obj: Mapping[str, Any], name: str, what: str) -> list[Mapping[str, Any]]:
    """The nodes of a nested connection, refusing one cut short by paging."""
    connection = FIELDS.object(obj, name, what)
    if connection is None:
        return []
    info = FIELDS.object(connection, "pageInfo", f"{what} `{name}`") or {}
    if info.get("hasNextPage"):
        raise MalformedRecord(
            f"Shopify {what} {obj.get('id') or '?'} has more `{name}` than one page holds "
            "(`pageInfo.hasNextPage`); sync this window with bulk operations, which export every "
            "nested object"
        )
    return FIELDS.objects(connection, "nodes", f"{what} `{name}`")


def _reference(obj: Mapping[str, Any], name: str, what: str) -> str | None:
    """The id of the object `obj[name]` refers to; None when it refers to none (`null`)."""
    target = FIELDS.object(obj, name, what)
    return None if target is None else _gid(target, f"{what} `{name}`")


def parse_shop(obj: Mapping[str, Any]) -> Shop:
    return Shop(
        domain=FIELDS.text(obj, "myshopifyDomain", "shop"),
        name=FIELDS.optional_text(obj, "name", "shop"),
        timezone=FIELDS.timezone(obj, "ianaTimezone", "shop"),
        currency=FIELDS.currency(obj, "currencyCode", "shop"),
    )


def parse_location(obj: Mapping[str, Any]) -> Location:
    return Location(
        id=_gid(obj, "location"),
        name=FIELDS.optional_text(obj, "name", "location"),
        is_active=FIELDS.flag(obj, "isActive", "location", default=True),
    )


def parse_variants(product: Mapping[str, Any]) -> list[Variant]:
    """The variants of one product node (`variants { nodes }`)."""
    product_id = _gid(product, "product")
    title = FIELDS.optional_text(product, "title", "product")
    return [
        Variant(
            id=_gid(v, "variant"),
            product_id=product_id,
            product_title=title,
            title=FIELDS.optional_text(v, "title", "variant"),
            sku=FIELDS.optional_text(v, "sku", "variant"),
            price=FIELDS.decimal(v, "price", "variant", PRICE_QUANTUM),
            updated_at=FIELDS.time(v, "updatedAt", "variant"),
        )
        for v in nodes(product, "variants", "product")
    ]


def _line_item(obj: Mapping[str, Any], currency: str) -> LineItem:
    what = "line item"
    tax = sum(
        (
            shop_money(line, "priceSet", "tax line", currency)
            for line in FIELDS.objects(obj, "taxLines", what)
        ),
        Decimal(0).quantize(Decimal(1).scaleb(-minor_digits(currency))),
    )
    return LineItem(
        id=_gid(obj, what),
        variant_id=_reference(obj, "variant", what),
        quantity=FIELDS.integer(obj, "quantity", what),
        unit_price=shop_money(obj, "originalUnitPriceSet", what, currency),
        discount=shop_money(obj, "totalDiscountSet", what, currency),
        tax=tax,
        net=shop_money(obj, "discountedTotalSet", what, currency),
    )


def _refund(obj: Mapping[str, Any], currency: str) -> Refund:
    what = "refund line item"
    lines = []
    for line in nodes(obj, "refundLineItems", "refund"):
        item = FIELDS.object(line, "lineItem", what)
        if item is None:
            raise FIELDS.fail(line, what, "has no `lineItem`")
        lines.append(
            RefundLineItem(
                id=_gid(line, what),
                line_item_id=_gid(item, "line item"),
                variant_id=_reference(item, "variant", "line item"),
                quantity=FIELDS.integer(line, "quantity", what),
                unit_price=shop_money(line, "priceSet", what, currency),
                tax=shop_money(line, "totalTaxSet", what, currency),
                subtotal=shop_money(line, "subtotalSet", what, currency),
            )
        )
    return Refund(
        id=_gid(obj, "refund"),
        created_at=FIELDS.time(obj, "createdAt", "refund"),
        total=shop_money(obj, "totalRefundedSet", "refund", currency),
        line_items=tuple(lines),
    )


def parse_order(obj: Mapping[str, Any]) -> Order:
    what = "order"
    currency = FIELDS.currency(obj, "currencyCode", what)
    presentment = obj.get("presentmentCurrencyCode")
    return Order(
        id=_gid(obj, what),
        name=FIELDS.optional_text(obj, "name", what),
        test=FIELDS.flag(obj, "test", what),
        created_at=FIELDS.time(obj, "createdAt", what),
        processed_at=FIELDS.time(obj, "processedAt", what),
        updated_at=FIELDS.time(obj, "updatedAt", what),
        cancelled_at=None
        if obj.get("cancelledAt") is None
        else FIELDS.time(obj, "cancelledAt", what),
        financial_status=FIELDS.choice(obj, "displayFinancialStatus", what, FINANCIAL_STATUSES),
        currency=currency,
        presentment_currency=currency
        if presentment is None
        else FIELDS.currency(obj, "presentmentCurrencyCode", what),
        location_id=_reference(obj, "location", what),
        total=shop_money(obj, "totalPriceSet", what, currency),
        line_items=tuple(_line_item(li, currency) for li in nodes(obj, "lineItems", what)),
        refunds=tuple(_refund(r, currency) for r in FIELDS.objects(obj, "refunds", what)),
    )
