"""Which partition runs apply a queued event: sales events re-sync the business days they touch
(`transactions_job`), stock events the UTC hour they fall in (`inventory_job`, once that hour is
over), catalog events today's catalog (`catalog_job`).

A provider plugs in with a `Planner`. A planner that cannot place an event yet raises `Deferred`
(not a failure: an hour still running) or `Unplaceable` (a failure the sensor retries and, when it
persists, dead-letters with the message).
"""

import json
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from shelfops_pipeline.timestamps import parse_rfc3339
from shelfops_pipeline.warehouse.jobs import CATALOG_JOB, INVENTORY_JOB, TRANSACTIONS_JOB
from shelfops_pipeline.warehouse.schedules import day_key, hour_key
from shelfops_pipeline.webhooks.queue import QueuedEvent


class Unplaceable(ValueError):
    """The event cannot be mapped to a partition (yet): a reason an operator can act on."""


class Deferred(Exception):
    """The event's partition cannot be built before `until` (its hour is not over)."""

    def __init__(self, until: datetime, reason: str) -> None:
        super().__init__(reason)
        self.until = until


@dataclass(frozen=True, order=True)
class Target:
    job: str
    partition_key: str


@dataclass(frozen=True)
class Placement:
    """What a planner needs besides the event: now, and a customer's store time zones by id."""

    now: datetime
    timezones: Callable[[str], Mapping[str, str]]


Planner = Callable[[QueuedEvent, str, Placement], list[Target]]


def _body(event: QueuedEvent) -> dict[str, Any]:
    parsed: dict[str, Any] = json.loads(event.body)
    return parsed


def _instant(value: object, what: str) -> datetime:
    if not isinstance(value, str):
        raise Unplaceable(f"{what} is missing")
    try:
        return parse_rfc3339(value)
    except ValueError as error:
        raise Unplaceable(f"{what} {value[:40]!r} is not an RFC 3339 time") from error


def _hour_target(customer: str, at: datetime, placement: Placement) -> list[Target]:
    hour = at.replace(minute=0, second=0, microsecond=0)
    ends = hour + timedelta(hours=1)
    if ends > placement.now:
        raise Deferred(ends, f"the stock of the hour ending {ends.isoformat()} is not known yet")
    return [Target(INVENTORY_JOB, str(hour_key(customer, hour)))]


def _day_targets(customer: str, days: Iterable[date]) -> list[Target]:
    return sorted({Target(TRANSACTIONS_JOB, str(day_key(customer, day))) for day in days})


def _catalog_target(customer: str, placement: Placement) -> list[Target]:
    return [Target(CATALOG_JOB, str(day_key(customer, placement.now.date())))]


def square_sale(body: Mapping[str, Any]) -> tuple[str, str, list[datetime], bool]:
    """(order id, location id, the times it changed, whether it is now completed) of a Square
    order or payment event."""
    data = body.get("data")
    obj = data.get("object") if isinstance(data, dict) else None
    if not isinstance(obj, dict) or not obj:
        raise Unplaceable("data.object is missing")
    name, record = next(iter(obj.items()))
    if not isinstance(record, dict):
        raise Unplaceable(f"data.object.{name} is not an object")
    fields = ("created_at", "updated_at")
    times = [_instant(record[f], f"{name}.{f}") for f in fields if f in record]
    order_id = record.get("order_id")
    location_id = record.get("location_id")
    if not isinstance(order_id, str) or not isinstance(location_id, str) or not times:
        raise Unplaceable(f"data.object.{name} names no order, location or time")
    completed = (name == "payment" and record.get("status") == "COMPLETED") or (
        name == "order_updated" and record.get("state") == "COMPLETED"
    )
    return order_id, location_id, times, completed


def square_sale_days(
    body: Mapping[str, Any], customer: str, placement: Placement
) -> tuple[str, list[date], bool]:
    """The order id, the business days (store time) the event touches, and whether completed."""
    order_id, location_id, times, completed = square_sale(body)
    timezone = placement.timezones(customer).get(location_id)
    if timezone is None:
        raise Unplaceable(
            f"location {location_id} is not among customer {customer}'s synced stores; "
            "materialize square/locations (stores_job) for this customer"
        )
    zone = ZoneInfo(timezone)
    return order_id, sorted({t.astimezone(zone).date() for t in times}), completed


def plan_square(event: QueuedEvent, customer: str, placement: Placement) -> list[Target]:
    body = _body(event)
    if event.kind == "sales":
        _, days, _ = square_sale_days(body, customer, placement)
        return _day_targets(customer, days)
    if event.kind == "inventory":
        return _hour_target(customer, _instant(body.get("created_at"), "created_at"), placement)
    return _catalog_target(customer, placement)


def _local_date(value: object, what: str) -> date:
    """Shopify times carry the shop's own offset, so their date is the shop's business day."""
    if not isinstance(value, str):
        raise Unplaceable(f"{what} is missing")
    try:
        return datetime.fromisoformat(value).date()
    except ValueError as error:
        raise Unplaceable(f"{what} {value[:40]!r} is not an ISO 8601 time") from error


# Shopify's REST webhook spelling of the statuses under which an order's lines are sales.
SHOPIFY_PAID_STATUSES = frozenset({"paid", "partially_refunded", "refunded"})


def shopify_sale_days(body: Mapping[str, Any], topic: str) -> tuple[str, list[date], bool]:
    """The order id, the business day (shop time) the event touches, and whether lines fall on
    that day: a paid, live, non-test order's sales, or a refund's returned lines."""
    if topic == "refunds/create":
        order_id = body.get("order_id")
        tests = [t.get("test") for t in body.get("transactions") or () if isinstance(t, dict)]
        has_lines = bool(body.get("refund_line_items")) and not any(tests)
        day = _local_date(body.get("created_at"), "created_at")
    else:
        order_id = body.get("id")
        has_lines = (
            body.get("test") is False
            and body.get("cancelled_at") is None
            and body.get("financial_status") in SHOPIFY_PAID_STATUSES
        )
        day = _local_date(body.get("processed_at") or body.get("created_at"), "processed_at")
    if not isinstance(order_id, int | str) or isinstance(order_id, bool):
        raise Unplaceable(f"the {topic} event names no order id")
    return str(order_id), [day], has_lines


def plan_shopify(event: QueuedEvent, customer: str, placement: Placement) -> list[Target]:
    body = _body(event)
    if event.kind == "sales":
        fields = [f for f in ("processed_at", "created_at", "updated_at") if body.get(f)]
        if not fields:
            raise Unplaceable("the order has no processed_at, created_at or updated_at")
        return _day_targets(customer, [_local_date(body[f], f) for f in fields])
    if event.kind == "inventory":
        return _hour_target(customer, _instant(body.get("updated_at"), "updated_at"), placement)
    return _catalog_target(customer, placement)


PLANNERS: dict[str, Planner] = {"square": plan_square, "shopify": plan_shopify}
