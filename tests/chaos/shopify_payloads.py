"""Valid Shopify GraphQL nodes (orders with line items and refunds, products with variants) as
Hypothesis strategies, shaped like the sandbox's replies, and what each must map to.

As in `square_payloads`, the `expected_*` functions read a node strictly, raise `Invalid` where it
cannot give rows, and otherwise return exactly the rows the mapping must give.
"""

from collections.abc import Mapping
from decimal import Decimal
from typing import Any
from zoneinfo import ZoneInfo

from hypothesis import strategies as st
from payload_spec import LIMIT, Invalid, instant, need, obj, text
from square_payloads import times

from shelfops_pipeline.sources.shopify.models import Shop
from shelfops_pipeline.warehouse.model import ProductRow, TransactionRow
from shelfops_pipeline.warehouse.money import minor_digits

SHOP = Shop("harbor-pantry.myshopify.com", "Harbor Pantry", "Asia/Tokyo", "JPY")
PAID = ("PAID", "PARTIALLY_REFUNDED", "REFUNDED")
STATUSES = (*PAID, "PENDING", "AUTHORIZED", "PARTIALLY_PAID", "VOIDED", "EXPIRED")
NUMBERS = st.integers(1, 10**13)
MINOR = st.integers(0, 10**9)


def gid(kind: str, number: int) -> str:
    return f"gid://shopify/{kind}/{number}"


def bag(amount_minor: int, currency: str) -> dict[str, Any]:
    amount = Decimal(amount_minor).scaleb(-minor_digits(currency))
    return {
        "shopMoney": {"amount": str(amount), "currencyCode": currency},
        "presentmentMoney": {"amount": str(amount * 2), "currencyCode": "EUR"},
    }


@st.composite
def line_items(draw: st.DrawFn, currency: str) -> dict[str, Any]:
    quantity, price = draw(st.integers(1, 50)), draw(MINOR)
    discount = draw(st.integers(0, quantity * price))
    variant = draw(st.one_of(st.none(), NUMBERS.map(lambda n: {"id": gid("ProductVariant", n)})))
    taxes = draw(st.lists(MINOR.map(lambda t: {"priceSet": bag(t, currency)}), max_size=2))
    return {
        "id": gid("LineItem", draw(NUMBERS)), "quantity": quantity, "variant": variant,
        "originalUnitPriceSet": bag(price, currency), "totalDiscountSet": bag(discount, currency),
        "discountedTotalSet": bag(quantity * price - discount, currency), "taxLines": taxes,
    }  # fmt: skip


@st.composite
def refunds(draw: st.DrawFn, currency: str, sold: list[dict[str, Any]]) -> dict[str, Any]:
    returned = []
    for line in draw(st.lists(st.sampled_from(sold), max_size=2)) if sold else []:
        price = draw(MINOR)
        returned.append(
            {"id": gid("RefundLineItem", draw(NUMBERS)), "quantity": draw(st.integers(1, 3)),
             "lineItem": {"id": line["id"], "variant": line["variant"]},
             "priceSet": bag(price, currency), "totalTaxSet": bag(draw(MINOR), currency),
             "subtotalSet": bag(draw(st.integers(0, price)), currency)}
        )  # fmt: skip
    return {
        "id": gid("Refund", draw(NUMBERS)), "createdAt": draw(times),
        "totalRefundedSet": bag(draw(MINOR), currency),
        "refundLineItems": {"nodes": returned, "pageInfo": {"hasNextPage": False}},
    }  # fmt: skip


@st.composite
def orders(draw: st.DrawFn, currency: str = SHOP.currency) -> dict[str, Any]:
    sold = draw(st.lists(line_items(currency), max_size=3))
    cancelled = draw(st.one_of(st.none(), times))
    location = draw(st.one_of(st.none(), NUMBERS.map(lambda n: {"id": gid("Location", n)})))
    return {
        "id": gid("Order", draw(NUMBERS)), "name": "#1001", "test": draw(st.booleans()),
        "createdAt": draw(times), "processedAt": draw(times), "updatedAt": draw(times),
        "cancelledAt": cancelled, "displayFinancialStatus": draw(st.sampled_from(STATUSES)),
        "currencyCode": currency, "presentmentCurrencyCode": "EUR", "location": location,
        "totalPriceSet": bag(draw(MINOR), currency),
        "lineItems": {"nodes": sold, "pageInfo": {"hasNextPage": False}},
        "refunds": draw(st.lists(refunds(currency, sold), max_size=2)),
    }  # fmt: skip


@st.composite
def products(draw: st.DrawFn) -> dict[str, Any]:
    variants = [
        {"id": gid("ProductVariant", draw(NUMBERS)), "title": draw(st.text(max_size=8)),
         "sku": draw(st.one_of(st.none(), st.text(max_size=8))),
         "price": str(Decimal(draw(MINOR)).scaleb(-2)), "updatedAt": draw(times)}
        for _ in range(draw(st.integers(0, 3)))
    ]  # fmt: skip
    return {
        "id": gid("Product", draw(NUMBERS)), "title": draw(st.text(max_size=12)),
        "variants": {"nodes": variants, "pageInfo": {"hasNextPage": False}},
    }  # fmt: skip


def numeric(node: Mapping[str, Any], what: str) -> str:
    value = node.get("id")
    need(isinstance(value, str) and value.startswith("gid://shopify/"), f"{what} id")
    tail = value.rsplit("/", 1)[-1].split("?", 1)[0]
    need(bool(tail.strip()) and tail.isprintable(), f"{what} id")
    return tail


def reference(node: Mapping[str, Any], name: str) -> str | None:
    target = node.get(name)
    return None if target is None else numeric(obj(target, name), name)


def connection(node: Mapping[str, Any], name: str) -> list[Mapping[str, Any]]:
    value = node.get(name)
    if value is None:
        return []
    info = obj(obj(value, name).get("pageInfo") or {}, "pageInfo")
    need(not info.get("hasNextPage"), "a cut connection")
    found = value.get("nodes") or []
    need(isinstance(found, list), f"{name}.nodes")
    return [obj(item, name) for item in found]


def amount(node: Mapping[str, Any], name: str, currency: str) -> Decimal:
    money = obj(obj(node.get(name), name).get("shopMoney"), f"{name}.shopMoney")
    need(money.get("currencyCode") in (None, currency), f"{name} in another currency")
    value = money.get("amount")
    need(type(value) in (str, int, float), f"{name}.amount")
    try:
        number = Decimal(str(value).strip())
    except ArithmeticError:
        raise Invalid(f"{name}.amount") from None
    minor = Decimal(1).scaleb(-minor_digits(currency))
    need(number.is_finite() and abs(number) < LIMIT, f"{name}.amount is out of range")
    need(number == number.quantize(minor), f"{name}.amount is finer than the minor unit")
    return number.quantize(minor)


def count(node: Mapping[str, Any], name: str) -> int:
    value = node.get(name)
    need(type(value) is int and abs(value) < LIMIT, name)
    return value


def expected_transactions(order: Mapping[str, Any], customer: str) -> list[TransactionRow]:
    test = order.get("test", False)
    need(test is None or isinstance(test, bool), "test")
    if test:
        return []
    currency = text(order, "currencyCode")
    need(len(currency) == 3 and currency.isascii() and currency.isupper(), "currencyCode")
    status = text(order, "displayFinancialStatus")
    need(status in STATUSES, "unknown financial status")
    cancelled = None if order.get("cancelledAt") is None else instant(order, "cancelledAt")
    order_id = numeric(order, "order")
    location = reference(order, "location")
    store = location or "online-harbor-pantry"
    zone = ZoneInfo(SHOP.timezone)

    def row(
        line_id: str, variant: str | None, kind: str, values: tuple[Decimal, ...], at: Any
    ) -> TransactionRow:
        return TransactionRow(
            f"shopify:{order_id}:{line_id}", customer, "shopify", store, variant or "", order_id,
            line_id, kind, *values, currency, at, at.astimezone(zone).date(),
        )  # fmt: skip

    rows = []
    if cancelled is None and status in PAID:
        processed = instant(order, "processedAt")
        for line in connection(order, "lineItems"):
            taxes = line.get("taxLines") or []
            need(isinstance(taxes, list), "taxLines")
            tax = sum((amount(obj(t, "taxLines"), "priceSet", currency) for t in taxes), Decimal(0))
            values = (
                Decimal(count(line, "quantity")), amount(line, "originalUnitPriceSet", currency),
                amount(line, "totalDiscountSet", currency), tax,
                amount(line, "discountedTotalSet", currency),
            )  # fmt: skip
            rows.append(
                row(
                    numeric(line, "line item"),
                    reference(line, "variant"),
                    "sale",
                    values,
                    processed,
                )
            )
    refunds = order.get("refunds") or []
    need(isinstance(refunds, list), "refunds")
    for refund in map(lambda r: obj(r, "refunds"), refunds):
        refunded = instant(refund, "createdAt")
        for line in connection(refund, "refundLineItems"):
            item = obj(line.get("lineItem"), "lineItem")
            numeric(item, "line item")
            quantity, price = count(line, "quantity"), amount(line, "priceSet", currency)
            subtotal = amount(line, "subtotalSet", currency)
            values = (
                Decimal(-quantity), price, -(price * quantity - subtotal),
                -amount(line, "totalTaxSet", currency), -subtotal,
            )  # fmt: skip
            rows.append(
                row(
                    numeric(line, "refund line item"),
                    reference(item, "variant"),
                    "return",
                    values,
                    refunded,
                )
            )
    return rows


def expected_products(product: Mapping[str, Any], customer: str) -> list[ProductRow]:
    product_id = numeric(product, "product")
    rows = []
    for variant in connection(product, "variants"):
        price = variant.get("price")
        need(type(price) in (str, int, float), "price")
        try:
            unit = Decimal(str(price).strip())
        except ArithmeticError:
            raise Invalid("price") from None
        need(
            unit.is_finite() and abs(unit) < LIMIT and unit == unit.quantize(Decimal("0.0001")),
            "price",
        )
        rows.append(
            ProductRow(
                numeric(variant, "variant"), customer, "shopify", product_id,
                text(product, "title", True), text(variant, "title", True),
                text(variant, "sku", True), unit, SHOP.currency, False,
                instant(variant, "updatedAt"),
            )
        )  # fmt: skip
    return rows
