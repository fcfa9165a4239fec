"""Typed Square records, parsed from the API's JSON at the client's boundary.

Money stays in minor units with its currency; quantities are exact decimals. A reply missing a
field the pipeline relies on, or garbling one (see `sources.fields`), raises `MalformedRecord`
naming the object and the field.
"""

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal
from typing import Any

from shelfops_pipeline.sources.fields import CURRENCY_CODE, LIMIT, FieldReader


class MalformedRecord(ValueError):
    """A Square object lacks, or garbles, a field the pipeline needs."""


@dataclass(frozen=True)
class Money:
    amount_minor: int
    currency: str


@dataclass(frozen=True)
class Location:
    id: str
    merchant_id: str
    name: str
    timezone: str
    currency: str
    status: str
    location_type: str = "PHYSICAL"


@dataclass(frozen=True)
class Variation:
    id: str
    item_id: str
    name: str
    sku: str
    price: Money | None
    updated_at: datetime
    is_deleted: bool
    version: int | None = None


@dataclass(frozen=True)
class Item:
    id: str
    name: str
    updated_at: datetime
    is_deleted: bool
    variations: tuple[Variation, ...]
    version: int | None = None


@dataclass(frozen=True)
class InventoryCount:
    variation_id: str
    location_id: str
    state: str
    quantity: Decimal
    calculated_at: datetime


@dataclass(frozen=True)
class InventoryChange:
    """An adjustment (from_state -> to_state) or a physical count (sets the level)."""

    id: str
    kind: str
    variation_id: str
    location_id: str
    from_state: str | None
    to_state: str
    quantity: Decimal
    occurred_at: datetime


@dataclass(frozen=True)
class LineItem:
    uid: str
    variation_id: str | None
    name: str
    quantity: Decimal
    base_price: Money
    gross: Money
    discount: Money
    tax: Money


@dataclass(frozen=True)
class ReturnLineItem:
    uid: str
    source_line_uid: str | None
    variation_id: str | None
    name: str
    quantity: Decimal
    base_price: Money
    gross: Money
    discount: Money
    tax: Money


@dataclass(frozen=True)
class Order:
    id: str
    location_id: str
    state: str
    created_at: datetime
    updated_at: datetime
    closed_at: datetime | None
    line_items: tuple[LineItem, ...]
    return_line_items: tuple[ReturnLineItem, ...]
    total: Money | None
    # Sales minus returns, tax included (`net_amounts.total_money`).
    net_total: Money | None = None


FIELDS = FieldReader("Square", MalformedRecord)
ORDER_STATES = frozenset({"OPEN", "COMPLETED", "CANCELED", "DRAFT"})
CHANGE_TYPES = frozenset({"ADJUSTMENT", "PHYSICAL_COUNT"})


def _money(
    obj: Mapping[str, Any],
    name: str,
    what: str,
    currency: str | None = None,
    absent_is_zero: bool = False,
) -> Money:
    """`obj[name]` as Money. A line's amounts are all in its base price's `currency` (a valid
    code), which each must repeat or leave out; a discount or tax left out is zero.

    Each line holds four amounts, so a well-formed one is accepted at once; anything else takes
    the field-by-field path, which names what is wrong.
    """
    raw = obj.get(name)
    if type(raw) is dict:
        amount = raw.get("amount")
        code = raw.get("currency", currency)
        if (
            type(amount) is int
            and -LIMIT < amount < LIMIT
            and (code == currency if currency is not None else _is_code(code))
        ):
            return Money(amount, code)
    raw = FIELDS.object(obj, name, what)
    if raw is None:
        if currency is None or not absent_is_zero:
            raise FIELDS.fail(obj, what, f"has no `{name}`")
        return Money(0, currency)
    amount = FIELDS.integer(raw, "amount", f"{what} `{name}`")
    code = FIELDS.currency(raw, "currency", f"{what} `{name}`") if "currency" in raw else currency
    if code is None:
        raise FIELDS.fail(obj, what, f"has no `{name}.currency`")
    if currency is not None and code != currency:
        raise FIELDS.fail(obj, what, f"`{name}` is in {code}, the line's base price in {currency}")
    return Money(amount, code)


def _is_code(value: Any) -> bool:
    return type(value) is str and CURRENCY_CODE.fullmatch(value) is not None


def _version(obj: Mapping[str, Any]) -> int | None:
    """A catalog object's version: the milliseconds since the epoch of its last change."""
    version = obj.get("version")
    return version if isinstance(version, int) and not isinstance(version, bool) else None


def _net_total(obj: Mapping[str, Any], currency: str | None) -> Money | None:
    """`net_amounts.total_money`, else the total less the returned total."""
    net = FIELDS.object(obj, "net_amounts", "order")
    if net and net.get("total_money"):
        return _money(net, "total_money", "order net amounts")
    if currency is None:
        return None
    total = _money(obj, "total_money", "order")
    returned = FIELDS.object(obj, "return_amounts", "order")
    if returned and returned.get("total_money"):
        back = _money(returned, "total_money", "order return amounts")
        return Money(total.amount_minor - back.amount_minor, total.currency)
    return total


def parse_location(obj: Mapping[str, Any]) -> Location:
    return Location(
        id=FIELDS.text(obj, "id", "location"),
        merchant_id=FIELDS.optional_text(obj, "merchant_id", "location"),
        name=FIELDS.optional_text(obj, "name", "location"),
        timezone=FIELDS.timezone(obj, "timezone", "location"),
        currency=FIELDS.currency(obj, "currency", "location"),
        status=FIELDS.optional_text(obj, "status", "location") or "ACTIVE",
        location_type=FIELDS.optional_text(obj, "type", "location") or "PHYSICAL",
    )


def parse_item(obj: Mapping[str, Any]) -> Item:
    data = FIELDS.object(obj, "item_data", "item") or {}
    return Item(
        id=FIELDS.text(obj, "id", "item"),
        name=FIELDS.optional_text(data, "name", "item"),
        updated_at=FIELDS.time(obj, "updated_at", "item"),
        is_deleted=FIELDS.flag(obj, "is_deleted", "item"),
        variations=tuple(parse_variation(v) for v in FIELDS.objects(data, "variations", "item")),
        version=_version(obj),
    )


def parse_variation(obj: Mapping[str, Any]) -> Variation:
    data = FIELDS.object(obj, "item_variation_data", "variation") or {}
    return Variation(
        id=FIELDS.text(obj, "id", "variation"),
        item_id=FIELDS.optional_text(data, "item_id", "variation"),
        name=FIELDS.optional_text(data, "name", "variation"),
        sku=FIELDS.optional_text(data, "sku", "variation"),
        price=None if data.get("price_money") is None else _money(data, "price_money", "variation"),
        updated_at=FIELDS.time(obj, "updated_at", "variation"),
        is_deleted=FIELDS.flag(obj, "is_deleted", "variation"),
        version=_version(obj),
    )


def parse_count(obj: Mapping[str, Any]) -> InventoryCount:
    what = "inventory count"
    return InventoryCount(
        variation_id=FIELDS.text(obj, "catalog_object_id", what),
        location_id=FIELDS.text(obj, "location_id", what),
        state=FIELDS.text(obj, "state", what),
        quantity=FIELDS.decimal(obj, "quantity", what),
        calculated_at=FIELDS.time(obj, "calculated_at", what),
    )


def parse_change(obj: Mapping[str, Any]) -> InventoryChange:
    """An adjustment or a physical count; other types (transfers) are refused, not guessed at."""
    what = "inventory change"
    kind = FIELDS.choice(obj, "type", what, CHANGE_TYPES)
    body_name = "adjustment" if kind == "ADJUSTMENT" else "physical_count"
    body = FIELDS.object(obj, body_name, what)
    if body is None:
        raise FIELDS.fail(obj, what, f"of type {kind} has no `{body_name}`")
    return InventoryChange(
        id=FIELDS.text(body, "id", what),
        kind=kind,
        variation_id=FIELDS.text(body, "catalog_object_id", what),
        location_id=FIELDS.text(body, "location_id", what),
        from_state=FIELDS.optional_id(body, "from_state", what),
        to_state=FIELDS.text(body, "to_state" if kind == "ADJUSTMENT" else "state", what),
        quantity=FIELDS.decimal(body, "quantity", what),
        occurred_at=FIELDS.time(body, "occurred_at", what),
    )


def _line_item(line: Mapping[str, Any]) -> LineItem:
    what = "line item"
    base = _money(line, "base_price_money", what)
    return LineItem(
        uid=FIELDS.text(line, "uid", what),
        variation_id=FIELDS.optional_id(line, "catalog_object_id", what),
        name=FIELDS.optional_text(line, "name", what),
        quantity=FIELDS.decimal(line, "quantity", what),
        base_price=base,
        gross=_money(line, "gross_sales_money", what, base.currency),
        discount=_money(line, "total_discount_money", what, base.currency, absent_is_zero=True),
        tax=_money(line, "total_tax_money", what, base.currency, absent_is_zero=True),
    )


def _return_line_item(line: Mapping[str, Any]) -> ReturnLineItem:
    what = "return line item"
    base = _money(line, "base_price_money", what)
    return ReturnLineItem(
        uid=FIELDS.text(line, "uid", what),
        source_line_uid=FIELDS.optional_id(line, "source_line_item_uid", what),
        variation_id=FIELDS.optional_id(line, "catalog_object_id", what),
        name=FIELDS.optional_text(line, "name", what),
        quantity=FIELDS.decimal(line, "quantity", what),
        base_price=base,
        gross=_money(line, "gross_return_money", what, base.currency),
        discount=_money(line, "total_discount_money", what, base.currency, absent_is_zero=True),
        tax=_money(line, "total_tax_money", what, base.currency, absent_is_zero=True),
    )


def parse_order(obj: Mapping[str, Any]) -> Order:
    total = FIELDS.object(obj, "total_money", "order")
    currency = total.get("currency") if total else None
    returns = [
        _return_line_item(line)
        for returned in FIELDS.objects(obj, "returns", "order")
        for line in FIELDS.objects(returned, "return_line_items", "return")
    ]
    return Order(
        id=FIELDS.text(obj, "id", "order"),
        location_id=FIELDS.text(obj, "location_id", "order"),
        state=FIELDS.choice(obj, "state", "order", ORDER_STATES),
        created_at=FIELDS.time(obj, "created_at", "order"),
        updated_at=FIELDS.time(obj, "updated_at", "order"),
        closed_at=None if obj.get("closed_at") is None else FIELDS.time(obj, "closed_at", "order"),
        line_items=tuple(_line_item(line) for line in FIELDS.objects(obj, "line_items", "order")),
        return_line_items=tuple(returns),
        total=_money(obj, "total_money", "order") if currency else None,
        net_total=_net_total(obj, currency),
    )
