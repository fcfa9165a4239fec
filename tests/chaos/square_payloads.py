"""Valid Square payloads (orders, catalog items, inventory counts and changes, locations) as
Hypothesis strategies, shaped like the sandbox's replies, and what each must map to.

The `expected_*` functions are the specification, written apart from the parsers: they read a
payload strictly (`payload_spec`) and raise `Invalid` where it cannot give rows (then the parser
must refuse it with a named error); otherwise they return exactly the rows (or, for stock, the
records) the mapping must give.
"""

import string
from collections.abc import Mapping
from datetime import UTC, datetime, timedelta, timezone
from decimal import ROUND_HALF_UP, Decimal
from typing import Any
from zoneinfo import ZoneInfo

from hypothesis import strategies as st
from payload_spec import LIMIT, flag, instant, need, obj, objects, quantity, text, zone

from shelfops_pipeline.sources.square.models import InventoryChange, InventoryCount
from shelfops_pipeline.warehouse.model import ProductRow, StoreRow, TransactionRow
from shelfops_pipeline.warehouse.money import minor_digits

ORDER_STATES = ("OPEN", "COMPLETED", "CANCELED", "DRAFT")
IDS = st.text(string.ascii_uppercase + string.digits, min_size=6, max_size=26)
CURRENCIES = st.sampled_from(["USD", "GBP", "AUD", "JPY"])
ZONES = st.sampled_from(
    ["America/New_York", "Europe/London", "Australia/Sydney", "Asia/Tokyo", "Pacific/Kiritimati"]
)
OFFSETS = st.sampled_from([UTC, timezone(timedelta(hours=-5)), timezone(timedelta(hours=5.5))])
INSTANTS = st.datetimes(datetime(2020, 1, 1), datetime(2030, 12, 31), timezones=OFFSETS)
QUANTITIES = st.decimals(Decimal("0.00001"), Decimal("500"), places=5)


def rfc3339(instant: datetime, digits: int) -> str:
    """Square's varying precision: no fraction, or 3, 6 or 9 digits; `Z` for UTC."""
    text = instant.strftime("%Y-%m-%dT%H:%M:%S")
    if digits:
        text += "." + f"{instant.microsecond:06d}000"[:digits]
    offset = instant.strftime("%z")
    return text + ("Z" if offset == "+0000" else f"{offset[:3]}:{offset[3:]}")


times = st.builds(rfc3339, INSTANTS, st.sampled_from([0, 3, 6, 9]))


@st.composite
def lines(draw: st.DrawFn, currency: str, gross_name: str) -> dict[str, Any]:
    quantity = draw(QUANTITIES)
    base = draw(st.integers(0, 10**7))
    gross = int((base * quantity).to_integral_value(ROUND_HALF_UP))
    line = {
        "uid": draw(IDS),
        "name": draw(st.text(max_size=8)),
        "quantity": draw(st.sampled_from([str(quantity), str(quantity.normalize())])),
        "base_price_money": {"amount": base, "currency": currency},
        gross_name: {"amount": gross, "currency": currency},
        "total_discount_money": {"amount": draw(st.integers(0, gross)), "currency": currency},
        "total_tax_money": {"amount": draw(st.integers(0, 10**6)), "currency": currency},
    }
    if draw(st.booleans()):
        line["catalog_object_id"] = draw(IDS)
    return line


@st.composite
def orders(draw: st.DrawFn, location_id: str) -> dict[str, Any]:
    currency = draw(CURRENCIES)
    state = draw(st.sampled_from(["COMPLETED", *ORDER_STATES]))
    order: dict[str, Any] = {
        "id": draw(IDS), "location_id": location_id, "state": state,
        "created_at": draw(times), "updated_at": draw(times),
        "line_items": draw(st.lists(lines(currency, "gross_sales_money"), max_size=3)),
        "total_money": {"amount": draw(st.integers(0, 10**8)), "currency": currency},
    }  # fmt: skip
    if state == "COMPLETED" or draw(st.booleans()):
        order["closed_at"] = draw(times)
    if draw(st.booleans()):
        returned = draw(st.lists(lines(currency, "gross_return_money"), min_size=1, max_size=2))
        order["returns"] = [{"uid": draw(IDS), "return_line_items": returned}]
    return order


@st.composite
def locations(draw: st.DrawFn) -> dict[str, Any]:
    return {
        "id": draw(IDS), "name": draw(st.text(max_size=12)), "merchant_id": draw(IDS),
        "timezone": draw(ZONES), "currency": draw(CURRENCIES), "status": "ACTIVE",
        "type": draw(st.sampled_from(["PHYSICAL", "MOBILE"])),
    }  # fmt: skip


@st.composite
def items(draw: st.DrawFn) -> dict[str, Any]:
    item_id = draw(IDS)
    variations = []
    for _ in range(draw(st.integers(0, 3))):
        data: dict[str, Any] = {"item_id": item_id, "name": draw(st.text(max_size=8))}
        if draw(st.booleans()):
            data["sku"] = draw(IDS)
        if draw(st.booleans()):
            data["price_money"] = {
                "amount": draw(st.integers(0, 10**7)),
                "currency": draw(CURRENCIES),
            }
        variations.append(
            {"type": "ITEM_VARIATION", "id": draw(IDS), "updated_at": draw(times),
             "is_deleted": draw(st.booleans()), "item_variation_data": data}
        )  # fmt: skip
    return {
        "type": "ITEM", "id": item_id, "updated_at": draw(times), "is_deleted": draw(st.booleans()),
        "version": draw(st.integers(1, 2**53)),
        "item_data": {"name": draw(st.text(max_size=12)), "variations": variations},
    }  # fmt: skip


@st.composite
def counts(draw: st.DrawFn) -> dict[str, Any]:
    return {
        "catalog_object_id": draw(IDS), "catalog_object_type": "ITEM_VARIATION",
        "state": draw(st.sampled_from(["IN_STOCK", "RESERVED_FOR_SALE", "SOLD"])),
        "location_id": draw(IDS), "quantity": str(draw(QUANTITIES)), "calculated_at": draw(times),
    }  # fmt: skip


@st.composite
def changes(draw: st.DrawFn) -> dict[str, Any]:
    body = {"id": draw(IDS), "catalog_object_id": draw(IDS), "location_id": draw(IDS),
            "quantity": str(draw(QUANTITIES)), "occurred_at": draw(times)}  # fmt: skip
    if draw(st.booleans()):
        body |= {"from_state": "IN_STOCK", "to_state": "SOLD"}
        return {"type": "ADJUSTMENT", "adjustment": body}
    return {"type": "PHYSICAL_COUNT", "physical_count": body | {"state": "IN_STOCK"}}


def money(payload: Mapping[str, Any], name: str, currency: str | None) -> tuple[int, str]:
    """(minor units, currency); a missing discount or tax is zero."""
    if payload.get(name) is None and name in ("total_discount_money", "total_tax_money"):
        return 0, str(currency)
    bag = obj(payload.get(name), name)
    amount = bag.get("amount")
    need(type(amount) is int and abs(amount) < LIMIT, f"{name}.amount")
    code = bag.get("currency", currency)
    need(isinstance(code, str) and len(code) == 3 and code.isascii() and code.isupper(), name)
    need(currency is None or code == currency, f"{name} is in another currency")
    return amount, code


def expected_transactions(
    order: Mapping[str, Any], store_zone: str, customer: str
) -> list[TransactionRow]:
    state = text(order, "state")
    need(state in ORDER_STATES, "unknown state")
    if state != "COMPLETED" or order.get("closed_at") is None:
        return []
    closed = instant(order, "closed_at")
    order_id, store_id = text(order, "id"), text(order, "location_id")
    sold = objects(order, "line_items")
    returned = [
        line for back in objects(order, "returns") for line in objects(back, "return_line_items")
    ]
    expected = []
    for kind, sign, gross_name, group in (
        ("sale", 1, "gross_sales_money", sold),
        ("return", -1, "gross_return_money", returned),
    ):
        for line in group:
            base, currency = money(line, "base_price_money", None)
            gross = money(line, gross_name, currency)[0]
            discount = money(line, "total_discount_money", currency)[0]
            tax = money(line, "total_tax_money", currency)[0]
            digits = minor_digits(currency)
            uid = text(line, "uid")
            expected.append(
                TransactionRow(
                    f"square:{order_id}:{uid}", customer, "square", store_id,
                    text(line, "catalog_object_id", optional=True), order_id, uid, kind,
                    sign * quantity(line, "quantity"), Decimal(base).scaleb(-digits),
                    Decimal(sign * discount).scaleb(-digits), Decimal(sign * tax).scaleb(-digits),
                    Decimal(sign * (gross - discount)).scaleb(-digits), currency, closed,
                    closed.astimezone(ZoneInfo(store_zone)).date(),
                )
            )  # fmt: skip
    return expected


def expected_products(item: Mapping[str, Any], customer: str, currency: str) -> list[ProductRow]:
    data = obj(item.get("item_data") or {}, "item_data")
    item_id, updated = text(item, "id"), instant(item, "updated_at")
    rows = []
    for variation in objects(data, "variations"):
        details = obj(variation.get("item_variation_data") or {}, "item_variation_data")
        price = None
        if details.get("price_money") is not None:
            price = money(details, "price_money", None)
        rows.append(
            ProductRow(
                text(variation, "id"), customer, "square", item_id, text(data, "name", True),
                text(details, "name", True), text(details, "sku", True),
                Decimal(price[0]).scaleb(-minor_digits(price[1])) if price else None,
                price[1] if price else currency,
                flag(item, "is_deleted") or flag(variation, "is_deleted"),
                max(updated, instant(variation, "updated_at")),
            )
        )  # fmt: skip
    return rows


def expected_stores(location: Mapping[str, Any], customer: str) -> list[StoreRow]:
    kind = text(location, "type", optional=True) or "PHYSICAL"
    currency = text(location, "currency")
    need(len(currency) == 3 and currency.isascii() and currency.isupper(), "currency")
    return [
        StoreRow(
            text(location, "id"), customer, "square", text(location, "merchant_id", True),
            text(location, "name", True), zone(location, "timezone"), currency, kind.lower(),
        )
    ]  # fmt: skip


def expected_counts(count: Mapping[str, Any]) -> list[InventoryCount]:
    return [
        InventoryCount(
            text(count, "catalog_object_id"), text(count, "location_id"), text(count, "state"),
            quantity(count, "quantity"), instant(count, "calculated_at"),
        )
    ]  # fmt: skip


def expected_changes(change: Mapping[str, Any]) -> list[InventoryChange]:
    kind = text(change, "type")
    need(kind in ("ADJUSTMENT", "PHYSICAL_COUNT"), "unknown change type")
    body = obj(change.get("adjustment" if kind == "ADJUSTMENT" else "physical_count"), kind)
    from_state = body.get("from_state")
    need(from_state is None or bool(text(body, "from_state")), "from_state")
    return [
        InventoryChange(
            text(body, "id"), kind, text(body, "catalog_object_id"), text(body, "location_id"),
            from_state, text(body, "to_state" if kind == "ADJUSTMENT" else "state"),
            quantity(body, "quantity"), instant(body, "occurred_at"),
        )
    ]  # fmt: skip
