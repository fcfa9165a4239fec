"""Typed Shopify records, parsed from GraphQL nodes at the client's boundary.

Money is kept in the shop's currency (`shopMoney`), as exact decimals quantized to the currency's
minor unit; the presentment currency the customer saw is kept for reference only (see
`mapping`). Ids are Shopify's numeric ids (the tail of each GID). A node missing a field the
pipeline relies on raises `MalformedRecord` naming the object and the field. The same parsers
read paged replies and reassembled bulk exports: both nest children as `{"nodes": [...]}`.
"""

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal, InvalidOperation
from typing import Any

from shelfops_pipeline.timestamps import parse_rfc3339
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


def numeric_id(gid: Any, what: str) -> str:
    """ "123" from "gid://shopify/Order/123" (and from an InventoryLevel's "...?query")."""
    if not isinstance(gid, str) or not gid.startswith("gid://shopify/"):
        raise MalformedRecord(f"Shopify {what} has no GID id: {gid!r}")
    return gid.rsplit("/", 1)[-1].split("?", 1)[0]


def _field(obj: Mapping[str, Any], name: str, what: str) -> Any:
    value = obj.get(name)
    if value is None:
        raise MalformedRecord(f"Shopify {what} {obj.get('id') or '?'} has no `{name}`")
    return value


def parse_time(obj: Mapping[str, Any], name: str, what: str) -> datetime:
    try:
        return parse_rfc3339(_field(obj, name, what))
    except (TypeError, ValueError) as error:
        raise MalformedRecord(
            f"Shopify {what} `{name}` is not a DateTime: {obj.get(name)!r}"
        ) from (error)


def _decimal(value: Any, what: str) -> Decimal:
    try:
        return Decimal(str(value))
    except InvalidOperation as error:
        raise MalformedRecord(f"Shopify {what} is not a decimal: {value!r}") from error


def shop_money(obj: Mapping[str, Any], name: str, what: str, currency: str) -> Decimal:
    """`<name>.shopMoney.amount` in the shop currency, to the currency's minor unit."""
    bag = obj.get(name)
    money = bag.get("shopMoney") if isinstance(bag, dict) else None
    if not isinstance(money, dict) or money.get("amount") is None:
        raise MalformedRecord(f"Shopify {what} {obj.get('id') or '?'} has no `{name}.shopMoney`")
    amount = _decimal(money["amount"], f"{what} `{name}`")
    return amount.quantize(Decimal(1).scaleb(-minor_digits(currency)))


def nodes(obj: Mapping[str, Any], name: str, what: str) -> list[dict[str, Any]]:
    """The nodes of a nested connection, refusing one cut short by paging."""
    connection = obj.get(name)
    if connection is None:
        return []
    info = connection.get("pageInfo") or {}
    if info.get("hasNextPage"):
        raise MalformedRecord(
            f"Shopify {what} {obj.get('id') or '?'} has more `{name}` than one page holds; "
            "sync this window with bulk operations, which export every nested object"
        )
    return list(connection.get("nodes") or ())


def _optional_id(obj: Any, what: str) -> str | None:
    if not isinstance(obj, dict) or obj.get("id") is None:
        return None
    return numeric_id(obj["id"], what)


def parse_shop(obj: Mapping[str, Any]) -> Shop:
    return Shop(
        domain=_field(obj, "myshopifyDomain", "shop"),
        name=str(obj.get("name", "")),
        timezone=_field(obj, "ianaTimezone", "shop"),
        currency=_field(obj, "currencyCode", "shop"),
    )


def parse_location(obj: Mapping[str, Any]) -> Location:
    return Location(
        id=numeric_id(_field(obj, "id", "location"), "location"),
        name=str(obj.get("name", "")),
        is_active=bool(obj.get("isActive", True)),
    )


def parse_variants(product: Mapping[str, Any]) -> list[Variant]:
    """The variants of one product node (`variants { nodes }`)."""
    product_id = numeric_id(_field(product, "id", "product"), "product")
    return [
        Variant(
            id=numeric_id(_field(v, "id", "variant"), "variant"),
            product_id=product_id,
            product_title=str(product.get("title", "")),
            title=str(v.get("title", "")),
            sku=str(v.get("sku") or ""),
            price=_decimal(_field(v, "price", "variant"), "variant price"),
            updated_at=parse_time(v, "updatedAt", "variant"),
        )
        for v in nodes(product, "variants", "product")
    ]


def _line_item(obj: Mapping[str, Any], currency: str) -> LineItem:
    what = "line item"
    tax = sum(
        (shop_money(line, "priceSet", "tax line", currency) for line in obj.get("taxLines") or ()),
        Decimal(0).quantize(Decimal(1).scaleb(-minor_digits(currency))),
    )
    return LineItem(
        id=numeric_id(_field(obj, "id", what), what),
        variant_id=_optional_id(obj.get("variant"), "variant"),
        quantity=int(_field(obj, "quantity", what)),
        unit_price=shop_money(obj, "originalUnitPriceSet", what, currency),
        discount=shop_money(obj, "totalDiscountSet", what, currency),
        tax=tax,
        net=shop_money(obj, "discountedTotalSet", what, currency),
    )


def _refund(obj: Mapping[str, Any], currency: str) -> Refund:
    what = "refund line item"
    lines = []
    for line in nodes(obj, "refundLineItems", "refund"):
        item = _field(line, "lineItem", what)
        lines.append(
            RefundLineItem(
                id=numeric_id(_field(line, "id", what), what),
                line_item_id=numeric_id(_field(item, "id", "line item"), "line item"),
                variant_id=_optional_id(item.get("variant"), "variant"),
                quantity=int(_field(line, "quantity", what)),
                unit_price=shop_money(line, "priceSet", what, currency),
                tax=shop_money(line, "totalTaxSet", what, currency),
                subtotal=shop_money(line, "subtotalSet", what, currency),
            )
        )
    return Refund(
        id=numeric_id(_field(obj, "id", "refund"), "refund"),
        created_at=parse_time(obj, "createdAt", "refund"),
        total=shop_money(obj, "totalRefundedSet", "refund", currency),
        line_items=tuple(lines),
    )


def parse_order(obj: Mapping[str, Any]) -> Order:
    what = "order"
    currency = _field(obj, "currencyCode", what)
    cancelled = obj.get("cancelledAt")
    return Order(
        id=numeric_id(_field(obj, "id", what), what),
        name=str(obj.get("name", "")),
        test=bool(obj.get("test", False)),
        created_at=parse_time(obj, "createdAt", what),
        processed_at=parse_time(obj, "processedAt", what),
        updated_at=parse_time(obj, "updatedAt", what),
        cancelled_at=parse_rfc3339(cancelled) if cancelled else None,
        financial_status=str(_field(obj, "displayFinancialStatus", what)),
        currency=currency,
        presentment_currency=str(obj.get("presentmentCurrencyCode") or currency),
        location_id=_optional_id(obj.get("location"), "location"),
        total=shop_money(obj, "totalPriceSet", what, currency),
        line_items=tuple(_line_item(li, currency) for li in nodes(obj, "lineItems", what)),
        refunds=tuple(_refund(r, currency) for r in obj.get("refunds") or ()),
    )
