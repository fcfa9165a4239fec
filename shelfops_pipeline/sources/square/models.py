"""Typed Square records, parsed from the API's JSON at the client's boundary.

Money stays in minor units with its currency; quantities are exact decimals. A reply missing a
field the pipeline relies on raises `MalformedRecord` naming the object and the field.
"""

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal, InvalidOperation
from typing import Any

from shelfops_pipeline.timestamps import parse_rfc3339


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


def _field(obj: Mapping[str, Any], name: str, what: str) -> Any:
    value = obj.get(name)
    if value is None:
        raise MalformedRecord(
            f"Square {what} {obj.get('id') or obj.get('uid') or '?'} has no `{name}`"
        )
    return value


def _time(obj: Mapping[str, Any], name: str, what: str) -> datetime:
    try:
        return parse_rfc3339(_field(obj, name, what))
    except (TypeError, ValueError) as error:
        raise MalformedRecord(
            f"Square {what} `{name}` is not an RFC 3339 time: {obj.get(name)!r}"
        ) from error


def _decimal(obj: Mapping[str, Any], name: str, what: str) -> Decimal:
    try:
        return Decimal(str(_field(obj, name, what)))
    except InvalidOperation as error:
        raise MalformedRecord(
            f"Square {what} `{name}` is not a decimal: {obj.get(name)!r}"
        ) from error


def _money(obj: Mapping[str, Any], name: str, what: str, currency: str | None = None) -> Money:
    raw = obj.get(name)
    if raw is None:
        if currency is None:
            raise MalformedRecord(f"Square {what} has no `{name}`")
        return Money(0, currency)
    amount = raw.get("amount")
    if not isinstance(amount, int):
        raise MalformedRecord(f"Square {what} `{name}.amount` is not an integer: {amount!r}")
    return Money(amount, str(raw.get("currency") or currency))


def _version(obj: Mapping[str, Any]) -> int | None:
    """A catalog object's version: the milliseconds since the epoch of its last change."""
    version = obj.get("version")
    return version if isinstance(version, int) else None


def _net_total(obj: Mapping[str, Any], currency: str | None) -> Money | None:
    """`net_amounts.total_money`, else the total less the returned total."""
    net = obj.get("net_amounts")
    if isinstance(net, dict) and net.get("total_money"):
        return _money(net, "total_money", "order net amounts")
    if currency is None:
        return None
    total = _money(obj, "total_money", "order")
    returned = obj.get("return_amounts")
    if isinstance(returned, dict) and returned.get("total_money"):
        back = _money(returned, "total_money", "order return amounts")
        return Money(total.amount_minor - back.amount_minor, total.currency)
    return total


def parse_location(obj: Mapping[str, Any]) -> Location:
    return Location(
        id=_field(obj, "id", "location"),
        merchant_id=str(obj.get("merchant_id", "")),
        name=str(obj.get("name", "")),
        timezone=_field(obj, "timezone", "location"),
        currency=_field(obj, "currency", "location"),
        status=str(obj.get("status", "ACTIVE")),
        location_type=str(obj.get("type") or "PHYSICAL"),
    )


def parse_item(obj: Mapping[str, Any]) -> Item:
    data = obj.get("item_data") or {}
    return Item(
        id=_field(obj, "id", "item"),
        name=str(data.get("name", "")),
        updated_at=_time(obj, "updated_at", "item"),
        is_deleted=bool(obj.get("is_deleted", False)),
        variations=tuple(parse_variation(v) for v in data.get("variations") or ()),
        version=_version(obj),
    )


def parse_variation(obj: Mapping[str, Any]) -> Variation:
    data = obj.get("item_variation_data") or {}
    price = data.get("price_money")
    return Variation(
        id=_field(obj, "id", "variation"),
        item_id=str(data.get("item_id", "")),
        name=str(data.get("name", "")),
        sku=str(data.get("sku", "")),
        price=_money(data, "price_money", "variation") if price else None,
        updated_at=_time(obj, "updated_at", "variation"),
        is_deleted=bool(obj.get("is_deleted", False)),
        version=_version(obj),
    )


def parse_count(obj: Mapping[str, Any]) -> InventoryCount:
    return InventoryCount(
        variation_id=_field(obj, "catalog_object_id", "inventory count"),
        location_id=_field(obj, "location_id", "inventory count"),
        state=_field(obj, "state", "inventory count"),
        quantity=_decimal(obj, "quantity", "inventory count"),
        calculated_at=_time(obj, "calculated_at", "inventory count"),
    )


def parse_change(obj: Mapping[str, Any]) -> InventoryChange:
    kind = _field(obj, "type", "inventory change")
    body = obj.get("adjustment") if kind == "ADJUSTMENT" else obj.get("physical_count")
    if not isinstance(body, dict):
        raise MalformedRecord(f"Square inventory change of type {kind} has no matching body")
    return InventoryChange(
        id=_field(body, "id", "inventory change"),
        kind=kind,
        variation_id=_field(body, "catalog_object_id", "inventory change"),
        location_id=_field(body, "location_id", "inventory change"),
        from_state=body.get("from_state"),
        to_state=str(body.get("to_state") or body.get("state")),
        quantity=_decimal(body, "quantity", "inventory change"),
        occurred_at=_time(body, "occurred_at", "inventory change"),
    )


def parse_order(obj: Mapping[str, Any]) -> Order:
    total = obj.get("total_money")
    currency = total.get("currency") if isinstance(total, dict) else None
    lines = []
    for line in obj.get("line_items") or ():
        base = _money(line, "base_price_money", "line item")
        lines.append(
            LineItem(
                uid=_field(line, "uid", "line item"),
                variation_id=line.get("catalog_object_id"),
                name=str(line.get("name", "")),
                quantity=_decimal(line, "quantity", "line item"),
                base_price=base,
                gross=_money(line, "gross_sales_money", "line item", base.currency),
                discount=_money(line, "total_discount_money", "line item", base.currency),
                tax=_money(line, "total_tax_money", "line item", base.currency),
            )
        )
    returns = []
    for returned in obj.get("returns") or ():
        for line in returned.get("return_line_items") or ():
            base = _money(line, "base_price_money", "return line item")
            returns.append(
                ReturnLineItem(
                    uid=_field(line, "uid", "return line item"),
                    source_line_uid=line.get("source_line_item_uid"),
                    variation_id=line.get("catalog_object_id"),
                    name=str(line.get("name", "")),
                    quantity=_decimal(line, "quantity", "return line item"),
                    base_price=base,
                    gross=_money(line, "gross_return_money", "return line item", base.currency),
                    discount=_money(
                        line, "total_discount_money", "return line item", base.currency
                    ),
                    tax=_money(line, "total_tax_money", "return line item", base.currency),
                )
            )
    closed = obj.get("closed_at")
    return Order(
        id=_field(obj, "id", "order"),
        location_id=_field(obj, "location_id", "order"),
        state=_field(obj, "state", "order"),
        created_at=_time(obj, "created_at", "order"),
        updated_at=_time(obj, "updated_at", "order"),
        closed_at=parse_rfc3339(closed) if closed else None,
        line_items=tuple(lines),
        return_line_items=tuple(returns),
        total=_money(obj, "total_money", "order") if currency else None,
        net_total=_net_total(obj, currency),
    )
