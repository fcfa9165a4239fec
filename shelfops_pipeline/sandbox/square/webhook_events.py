"""World changes as Square webhook events, each built as the API would show it at that instant.

Every change has one instant, so (start, end] windows slice the event stream without overlap, and
an event's id and body depend only on the seed and the change: a redelivery is byte-identical.

- order.created when an order becomes visible (offline orders: when uploaded); order.updated
  when it later closes, is canceled or refunded.
- payment.created when a completed order's card or cash tender is taken; card payments are
  APPROVED first, then payment.updated when captured (COMPLETED); payment.updated on a refund.
- inventory.count.updated per location and minute, listing every variation whose stock moved
  in that minute, sent when the minute ends.
"""

import math
from collections import defaultdict
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from shelfops_pipeline.sandbox.square.inventory import TRACKING_LEAD
from shelfops_pipeline.sandbox.square.serialize import JsonObject, SquareSerializer, money
from shelfops_pipeline.sandbox.timestamps import rfc3339
from shelfops_pipeline.sandbox.world.config import minor_unit_digits
from shelfops_pipeline.sandbox.world.entities import Order, Store
from shelfops_pipeline.sandbox.world.ids import mixed_id, stable_uuid, unit_fraction
from shelfops_pipeline.sandbox.world.inventory import StockCurve
from shelfops_pipeline.sandbox.world.world import World

INVENTORY_BUCKET = timedelta(minutes=1)
# Same-instant events go out in the order a client would expect to see them.
_RANK = {"order.created": 0, "order.updated": 1, "payment.created": 2, "payment.updated": 3}
_INVENTORY_RANK = 4
_CARD_BRANDS = ("VISA", "VISA", "MASTERCARD", "AMERICAN_EXPRESS")
# Customers hand over the next round note: 5 units of a two-decimal currency, 1,000 yen.
_CASH_NOTE_MINOR = {0: 1000, 2: 500}


@dataclass(frozen=True)
class _Change:
    """One event-to-be: when it happens, what it is about, and how to build its `data.object`."""

    at: datetime
    rank: int
    event_type: str
    data_type: str
    data_id: str
    stage: str
    merchant_id: str
    build: Callable[[], JsonObject]


def square_events_between(
    world: World, serializer: SquareSerializer, start: datetime, end: datetime
) -> list[JsonObject]:
    """Every Square event for changes in (start, end], oldest first; the clock caps `end`."""
    return [_event(serializer.seed, c) for c in _changes_between(world, serializer, start, end)]


def square_recent_events(
    world: World, serializer: SquareSerializer, count: int
) -> list[JsonObject]:
    """The `count` latest events as of the world's clock, oldest first."""
    end = world.now()
    earliest = world.history_start - TRACKING_LEAD
    span = timedelta(hours=1)
    while True:
        start = max(end - span, earliest)
        changes = _changes_between(world, serializer, start, end)
        if len(changes) >= count or start <= earliest:
            break
        span *= 4
    latest = changes[-count:] if count else []
    return [_event(serializer.seed, c) for c in latest]


def _changes_between(
    world: World, serializer: SquareSerializer, start: datetime, end: datetime
) -> list[_Change]:
    end = min(end, world.now())
    if end <= start:
        return []
    changes = [
        change
        for store in world.stores
        for change in (
            *_order_changes(world, serializer, store, start, end),
            *_inventory_changes(world, serializer, store, start, end),
        )
        if start < change.at <= end
    ]
    changes.sort(key=lambda c: (c.at, c.rank, c.data_id, c.stage))
    return changes


def _event(seed: int, change: _Change) -> JsonObject:
    return {
        "merchant_id": change.merchant_id,
        "type": change.event_type,
        "event_id": stable_uuid(
            seed, "square-webhook", change.event_type, change.data_id, change.stage
        ),
        "created_at": rfc3339(change.at, 9),
        "data": {"type": change.data_type, "id": change.data_id, "object": change.build()},
    }


# Orders and payments ------------------------------------------------------------------------


def _order_changes(
    world: World, serializer: SquareSerializer, store: Store, start: datetime, end: datetime
) -> Iterator[_Change]:
    for order in world.orders_touching(store.id, start, end):
        shown = order.visible_from
        moments = [("order.created", shown, "created")]
        if order.closed_at is not None and order.closed_at > shown:
            moments.append(("order.updated", order.closed_at, order.final_state.lower()))
        if order.refund is not None and order.refund.created_at > shown:
            moments.append(("order.updated", order.refund.created_at, "refunded"))
        for event_type, at, stage in moments:
            summary = "order_created" if event_type == "order.created" else "order_updated"
            yield _Change(
                at=at,
                rank=_RANK[event_type],
                event_type=event_type,
                data_type=summary,
                data_id=order.id,
                stage=stage,
                merchant_id=order.merchant_id,
                build=_order_summary(serializer, store, order, at, summary),
            )
        yield from _payment_changes(serializer, store, order)


def _order_summary(
    serializer: SquareSerializer, store: Store, order: Order, at: datetime, summary: str
) -> Callable[[], JsonObject]:
    def build() -> JsonObject:
        shown = serializer.order(order, at, store.tax_percent, store.country)
        fields = ["order_id", "version", "location_id", "state", "created_at"]
        if summary == "order_updated":
            fields.append("updated_at")
        source = {**shown, "order_id": shown["id"]}
        return {summary: {field: source[field] for field in fields}}

    return build


def _payment_changes(serializer: SquareSerializer, store: Store, order: Order) -> Iterator[_Change]:
    if order.final_state != "COMPLETED" or order.tender_id is None or order.closed_at is None:
        return
    payment_id = order.tender_id
    taken = order.closed_at
    decided = taken + timedelta(milliseconds=50 + 350 * _fraction(serializer, payment_id, "auth"))
    card = order.tender_type == "CARD"
    captured = taken + timedelta(seconds=1 + 3 * _fraction(serializer, payment_id, "capture"))
    stages = [("payment.created", decided, "APPROVED" if card else "COMPLETED")]
    if card:
        stages.append(("payment.updated", captured, "COMPLETED"))
    if order.refund is not None:
        stages.append(("payment.updated", order.refund.created_at, "REFUNDED"))
    for event_type, at, stage in stages:
        # Offline payments reach Square with their order, when the device uploads them.
        sent = max(at, order.visible_from)
        yield _Change(
            at=sent,
            rank=_RANK[event_type],
            event_type=event_type,
            data_type="payment",
            data_id=payment_id,
            stage=stage,
            merchant_id=order.merchant_id,
            build=_payment(serializer, store, order, stage, at, (decided, captured)),
        )


def _fraction(serializer: SquareSerializer, payment_id: str, name: str) -> float:
    return unit_fraction(serializer.seed, "payment", payment_id, name)


def _payment(
    serializer: SquareSerializer,
    store: Store,
    order: Order,
    stage: str,
    at: datetime,
    card_times: tuple[datetime, datetime],
) -> Callable[[], JsonObject]:
    """The payment as of `at`; `card_times` are when a card payment was authorized and captured."""

    def build() -> JsonObject:
        shown = serializer.order(order, at, store.tax_percent, store.country)
        tender = shown["tenders"][0]
        amount = tender["amount_money"]
        payment_id = tender["id"]
        completed = stage != "APPROVED"
        payment: JsonObject = {
            "id": payment_id,
            "created_at": tender["created_at"],
            "updated_at": rfc3339(at, 3),
            "amount_money": amount,
            "tip_money": money(0, amount["currency"]),
            "total_money": amount,
            "approved_money": amount,
            "status": "COMPLETED" if completed else "APPROVED",
            "source_type": order.tender_type,
            "location_id": order.store_id,
            "order_id": order.id,
            "receipt_number": payment_id[:4],
            "receipt_url": f"https://squareupsandbox.com/receipt/preview/{payment_id}",
            "application_details": {"square_product": "SQUARE_POS"},
            "version_token": mixed_id(serializer.seed, 45, "payment-version", payment_id, stage),
        }
        if order.tender_type == "CARD":
            authorized, captured = card_times
            payment["card_details"] = _card_details(
                serializer, store, payment_id, authorized, captured if completed else None
            )
        else:
            payment["cash_details"] = _cash_details(amount)
        refund = shown.get("refunds")
        if stage == "REFUNDED" and refund:
            payment["refunded_money"] = refund[0]["amount_money"]
            payment["refund_ids"] = [refund[0]["id"]]
        return {"payment": payment}

    return build


def _card_details(
    serializer: SquareSerializer,
    store: Store,
    payment_id: str,
    authorized_at: datetime,
    captured_at: datetime | None,
) -> JsonObject:
    seed = serializer.seed
    brands = (*_CARD_BRANDS, "JCB") if store.country == "JP" else _CARD_BRANDS
    brand = brands[int(unit_fraction(seed, "card-brand", payment_id) * len(brands))]
    timeline = {"authorized_at": rfc3339(authorized_at, 3)}
    if captured_at is not None:
        timeline["captured_at"] = rfc3339(captured_at, 3)
    return {
        "status": "CAPTURED" if captured_at is not None else "AUTHORIZED",
        "card": {
            "card_brand": brand,
            "last_4": f"{int(unit_fraction(seed, 'card-last-4', payment_id) * 10_000):04d}",
            "exp_month": 1 + int(unit_fraction(seed, "card-month", payment_id) * 12),
            "exp_year": 2027 + int(unit_fraction(seed, "card-year", payment_id) * 5),
            "card_type": "CREDIT",
            "prepaid_type": "NOT_PREPAID",
        },
        "entry_method": "CONTACTLESS",
        "card_payment_timeline": timeline,
    }


def _cash_details(amount: JsonObject) -> JsonObject:
    currency = amount["currency"]
    note = _CASH_NOTE_MINOR[minor_unit_digits(currency)]
    supplied = max(note, math.ceil(amount["amount"] / note) * note)
    return {
        "buyer_supplied_money": money(supplied, currency),
        "change_back_money": money(supplied - amount["amount"], currency),
    }


# Inventory ------------------------------------------------------------------------------------


def _inventory_changes(
    world: World, serializer: SquareSerializer, store: Store, start: datetime, end: datetime
) -> Iterator[_Change]:
    tracking_start = world.history_start - TRACKING_LEAD
    bucket_seconds = INVENTORY_BUCKET.total_seconds()
    moves: dict[int, list[tuple[str, StockCurve, bool]]] = defaultdict(list)
    for item in world.items(store.merchant_id):
        for variation in item.variations:
            curve = world.stock(variation.id, store.id, variation.sold_by_weight)
            first_change = curve.changed_at(curve.hour_of(tracking_start))
            since = max(start - INVENTORY_BUCKET, first_change)
            for hour, _delta in curve.changes_between(since, end):
                at = curve.changed_at(hour)
                if item.exists_at(at):
                    bucket = math.ceil(at.timestamp() / bucket_seconds)
                    moves[bucket].append((variation.id, curve, variation.sold_by_weight))
    for bucket, moved in moves.items():
        # A minute's batch goes out when the minute is over, so a later tick never resends it.
        sent = datetime.fromtimestamp(bucket * bucket_seconds, UTC)
        yield _Change(
            at=sent,
            rank=_INVENTORY_RANK,
            event_type="inventory.count.updated",
            data_type="inventory_counts",
            data_id=stable_uuid(serializer.seed, "inventory-counts", store.id, bucket),
            stage="",
            merchant_id=store.merchant_id,
            build=_counts(serializer, store, moved, sent),
        )


def _counts(
    serializer: SquareSerializer,
    store: Store,
    moved: list[tuple[str, StockCurve, bool]],
    at: datetime,
) -> Callable[[], JsonObject]:
    def build() -> JsonObject:
        counts = [
            serializer.count(variation_id, store.id, curve, at, weighted)
            for variation_id, curve, weighted in sorted(moved, key=lambda m: m[0])
        ]
        return {"inventory_counts": counts}

    return build
