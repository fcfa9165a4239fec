"""World changes as Shopify webhooks, each payload the REST object as it was at that instant.

Every change has one instant, so (start, end] windows slice the stream without overlap, and an
event's ids and body depend only on the seed and the change: a redelivery is byte-identical.

- orders/create when an order appears (offline POS sales: when uploaded); orders/updated when it
  is later paid, cancelled or refunded, with orders/cancelled and refunds/create beside it.
- products/update when a product is renamed or repriced.
- inventory_levels/update for every move of a level (a variant at a location).
"""

from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from shelfops_pipeline.sandbox.shopify.model import (
    ID_DIGITS,
    ShopifyLocation,
    ShopifyVariant,
    ShopifyView,
)
from shelfops_pipeline.sandbox.shopify.rest_orders import OrderSerializer
from shelfops_pipeline.sandbox.shopify.versions import CURRENT_STABLE
from shelfops_pipeline.sandbox.shopify.webhook_signing import shopify_message
from shelfops_pipeline.sandbox.timestamps import rfc3339
from shelfops_pipeline.sandbox.webhook_delivery import WebhookMessage
from shelfops_pipeline.sandbox.world.entities import Order, Shop
from shelfops_pipeline.sandbox.world.ids import numeric_id, stable_uuid
from shelfops_pipeline.sandbox.world.world import World

TOPICS = (
    "orders/create", "orders/updated", "orders/cancelled", "refunds/create",
    "products/update", "inventory_levels/update",
)  # fmt: skip
# Same-instant webhooks go out in the order a client would expect them.
_RANK = {topic: rank for rank, topic in enumerate(TOPICS)}


@dataclass(frozen=True)
class _Change:
    at: datetime
    topic: str
    shop: Shop
    subject: str
    build: Callable[[], dict[str, Any]]

    @property
    def sort_key(self) -> tuple[datetime, int, str]:
        return (self.at, _RANK[self.topic], self.subject)


def shopify_events_between(
    world: World, start: datetime, end: datetime, api_version: str = CURRENT_STABLE
) -> list[WebhookMessage]:
    """Every webhook for changes in (start, end], oldest first; the clock caps `end`."""
    changes = _changes_between(world, ShopifyView(world), start, end)
    return [_message(world.seed, change, api_version) for change in changes]


def shopify_recent_events(
    world: World, count: int, api_version: str = CURRENT_STABLE
) -> list[WebhookMessage]:
    """The `count` latest webhooks as of the world's clock, oldest first."""
    view = ShopifyView(world)
    end = world.now()
    earliest = world.history_start
    span = timedelta(hours=1)
    while True:
        start = max(end - span, earliest)
        changes = _changes_between(world, view, start, end)
        if len(changes) >= count or start <= earliest:
            break
        span *= 4
    latest = changes[-count:] if count else []
    return [_message(world.seed, change, api_version) for change in latest]


def _message(seed: int, change: _Change, api_version: str) -> WebhookMessage:
    stage = change.at.isoformat()
    event_id = stable_uuid(seed, "shopify-event", change.topic, change.subject, stage)
    return shopify_message(
        topic=change.topic,
        shop=change.shop.domain,
        payload=change.build(),
        event_id=event_id,
        webhook_id=stable_uuid(seed, "shopify-webhook", event_id),
        triggered_at=rfc3339(change.at, 9),
        api_version=api_version,
    )


def _changes_between(
    world: World, view: ShopifyView, start: datetime, end: datetime
) -> list[_Change]:
    end = min(end, world.now())
    if end <= start:
        return []
    changes = [
        change
        for shop in world.shops
        for change in (
            *_order_changes(world, view, shop, start, end),
            *_product_changes(world, view, shop, start, end),
            *_inventory_changes(view, shop, start, end),
        )
        if start < change.at <= end
    ]
    changes.sort(key=lambda c: c.sort_key)
    return changes


def _order_changes(
    world: World, view: ShopifyView, shop: Shop, start: datetime, end: datetime
) -> Iterator[_Change]:
    writer = OrderSerializer(world.seed, shop)
    for store in world.stores_of(shop.domain):
        for order in world.orders_touching(store.id, start, end):
            if order.is_return:
                continue
            number = numeric_id(world.seed, ID_DIGITS, "Order", order.id)
            moments = [(order.visible_from, ("orders/create",))]
            if order.closed_at is not None and order.closed_at > order.visible_from:
                cancelled = order.final_state == "CANCELED"
                topics = (
                    ("orders/updated", "orders/cancelled") if cancelled else ("orders/updated",)
                )
                moments.append((order.closed_at, topics))
            if order.refund is not None:
                moments.append((order.refund.created_at, ("orders/updated", "refunds/create")))
            for at, topics in moments:
                for topic in topics:
                    build = _order_payload(view, writer, shop, order, number, at, topic)
                    yield _Change(at, topic, shop, str(number), build)


def _order_payload(
    view: ShopifyView,
    writer: OrderSerializer,
    shop: Shop,
    order: Order,
    number: int,
    at: datetime,
    topic: str,
) -> Callable[[], dict[str, Any]]:
    def build() -> dict[str, Any]:
        shown = view.order(shop, number, at)
        if shown is None:
            raise LookupError(f"order {order.id} is not visible at {at}")
        if topic == "refunds/create":
            return writer.refund(shown, shown.refunds[-1])
        return writer.order(shown)

    return build


def _product_changes(
    world: World, view: ShopifyView, shop: Shop, start: datetime, end: datetime
) -> Iterator[_Change]:
    writer = OrderSerializer(world.seed, shop)
    for item in world.items(shop.domain):
        edits = [t for t in item.change_times() if t not in (item.created_at, item.deleted_at)]
        for at in edits:
            if start < at <= end and item.exists_at(at):
                product_id = numeric_id(world.seed, ID_DIGITS, "Product", item.id)
                build = _product_payload(view, writer, shop, product_id, at)
                yield _Change(at, "products/update", shop, str(product_id), build)


def _product_payload(
    view: ShopifyView, writer: OrderSerializer, shop: Shop, product_id: int, at: datetime
) -> Callable[[], dict[str, Any]]:
    def build() -> dict[str, Any]:
        product = view.product(shop, product_id, at)
        if product is None:
            raise LookupError(f"product {product_id} does not exist at {at}")
        item_ids = [v.inventory_item_id for v in product.variants]
        available: dict[int, int] = {}
        for level in view.inventory_levels(shop, at, inventory_item_ids=item_ids):
            item_id = level.inventory_item_id
            available[item_id] = available.get(item_id, 0) + level.quantities["available"]
        return writer.product(product, available)

    return build


def _inventory_changes(
    view: ShopifyView, shop: Shop, start: datetime, end: datetime
) -> Iterator[_Change]:
    writer = OrderSerializer(view.seed, shop)
    locations = view.locations(shop)
    for product in view.products(shop, end):
        for variant in product.variants:
            for location in locations:
                curve = view.world.stock(
                    variant.variation.id, location.store.id, variant.variation.sold_by_weight
                )
                for hour, _delta in curve.changes_between(start, end):
                    at = curve.changed_at(hour)
                    if product.item.exists_at(at):
                        build = _level_payload(view, writer, variant, location, at)
                        subject = f"{variant.inventory_item_id}@{location.id}"
                        yield _Change(at, "inventory_levels/update", shop, subject, build)


def _level_payload(
    view: ShopifyView,
    writer: OrderSerializer,
    variant: ShopifyVariant,
    location: ShopifyLocation,
    at: datetime,
) -> Callable[[], dict[str, Any]]:
    def build() -> dict[str, Any]:
        return writer.inventory_level(view.inventory_level(variant, location, at))

    return build
