"""`GET orders.json`: Shopify's order filters over the world's orders, streamed page by page.

Filters: `ids`, `since_id`, `status` (`open` by default, so closed and cancelled orders need
`status=any`), `financial_status`, `fulfillment_status`, `created_at_*`, `updated_at_*` and
`processed_at_*` (`_min` and `_max` both inclusive). Orders come newest first (`created_at
desc`); `order=created_at asc` reverses that and `since_id` sorts by id. Without
`read_all_orders` only the last 60 days of orders are visible, silently (api-notes section 7).

Orders are walked a day of creation at a time from the cursor, so a page costs the orders it
looks at, not the whole history.
"""

from collections.abc import Callable, Iterator, Mapping
from datetime import UTC, datetime, timedelta
from typing import TypeVar
from zoneinfo import ZoneInfo

from shelfops_pipeline.sandbox.shopify.admin_errors import AdminApiError
from shelfops_pipeline.sandbox.shopify.model import ShopifyOrder, ShopifyView
from shelfops_pipeline.sandbox.shopify.rest_paging import Direction, SortKey
from shelfops_pipeline.sandbox.shopify.shops import AdminCall
from shelfops_pipeline.sandbox.timestamps import parse_rfc3339

DEFAULT_ORDER_WINDOW = timedelta(days=60)
# An order changes for at most two weeks after it is created (offline upload, then a return).
UPDATE_HORIZON = timedelta(days=15)
WALK_STEP = timedelta(days=1)
STATUSES: dict[str, Callable[[ShopifyOrder], bool]] = {
    "open": lambda o: o.closed_at is None and o.cancelled_at is None,
    "closed": lambda o: o.closed_at is not None,
    "cancelled": lambda o: o.cancelled_at is not None,
    "any": lambda o: True,
}
FINANCIAL = ("pending", "authorized", "partially_paid", "paid", "partially_refunded", "refunded")
FINANCIAL_STATUSES: dict[str, Callable[[str], bool]] = {
    **{name: (lambda s, name=name: s == name) for name in (*FINANCIAL, "voided")},
    "unpaid": lambda s: s in ("pending", "authorized", "partially_paid"),
    "any": lambda s: True,
}
FULFILLMENT_STATUSES: dict[str, Callable[[str | None], bool]] = {
    "shipped": lambda s: s == "fulfilled",
    "partial": lambda s: s == "partial",
    "unshipped": lambda s: s is None,
    "unfulfilled": lambda s: s in (None, "partial"),
    "any": lambda s: True,
}
TIME_FILTERS = ("created_at", "updated_at", "processed_at")
V = TypeVar("V")


def _micros(at: datetime) -> int:
    return int(at.timestamp() * 1_000_000)


def order_key(order: ShopifyOrder) -> SortKey:
    return (_micros(order.created_at), order.id)


def _choice(filters: Mapping[str, str], name: str, choices: Mapping[str, V], default: str) -> V:
    value = filters.get(name, default)
    if value not in choices:
        raise AdminApiError(400, {name: f"{name} is not one of {', '.join(choices)}."})
    return choices[value]


def parse_instant(filters: Mapping[str, str], name: str, zone: ZoneInfo) -> datetime | None:
    text = filters.get(name)
    if not text:
        return None
    try:
        return parse_rfc3339(text)
    except ValueError:
        pass
    try:
        # Shopify reads a timestamp without an offset in the shop's own time zone.
        return datetime.fromisoformat(text).replace(tzinfo=zone)
    except ValueError:
        raise AdminApiError(400, {name: "Invalid value."}) from None


def parse_ids(filters: Mapping[str, str], name: str) -> set[int] | None:
    text = filters.get(name)
    if text is None:
        return None
    try:
        return {int(part) for part in text.split(",") if part.strip()}
    except ValueError:
        raise AdminApiError(400, {name: "Invalid value."}) from None


class OrderQuery:
    """One orders.json query: its filters checked, ready to stream in display order."""

    def __init__(self, view: ShopifyView, call: AdminCall, filters: Mapping[str, str]) -> None:
        self.view = view
        self.call = call
        zone = ZoneInfo(call.shop.timezone)
        self.status = _choice(filters, "status", STATUSES, "open")
        self.financial = _choice(filters, "financial_status", FINANCIAL_STATUSES, "any")
        self.fulfillment = _choice(filters, "fulfillment_status", FULFILLMENT_STATUSES, "any")
        self.bounds = {
            field: (
                parse_instant(filters, f"{field}_min", zone),
                parse_instant(filters, f"{field}_max", zone),
            )
            for field in TIME_FILTERS
        }
        self.ids = parse_ids(filters, "ids")
        since = parse_ids(filters, "since_id")
        self.since_id = min(since) if since else None
        order = filters.get("order", "created_at desc").strip().lower()
        if order not in ("created_at desc", "created_at asc"):
            raise AdminApiError(400, {"order": "Invalid value."})
        self.ascending = order == "created_at asc" or self.since_id is not None
        self.by_id = self.since_id is not None

    def _created_span(self) -> tuple[datetime, datetime]:
        """Creation instants any matching order must fall in, [low, high]."""
        world = self.view.world
        low, high = world.history_start - UPDATE_HORIZON, self.call.at
        created_min, created_max = self.bounds["created_at"]
        for field in ("updated_at", "processed_at"):
            later_min, later_max = self.bounds[field]
            if later_min is not None:
                low = max(low, later_min - UPDATE_HORIZON)
            if later_max is not None:
                high = min(high, later_max)
        if created_min is not None:
            low = max(low, created_min)
        if created_max is not None:
            high = min(high, created_max)
        if not self.call.grant.allows("read_all_orders"):
            low = max(low, self.call.at - DEFAULT_ORDER_WINDOW)
        return low, high

    def matches(self, order: ShopifyOrder) -> bool:
        if self.ids is not None and order.id not in self.ids:
            return False
        if self.since_id is not None and order.id <= self.since_id:
            return False
        for field, (low, high) in self.bounds.items():
            value: datetime = getattr(order, field)
            if (low is not None and value < low) or (high is not None and value > high):
                return False
        fulfillment = "fulfilled" if order.fulfillment_status == "FULFILLED" else None
        return (
            self.status(order)
            and self.financial(order.financial_status.lower())
            and self.fulfillment(fulfillment)
        )

    def key(self, order: ShopifyOrder) -> SortKey:
        return (order.id, order.id) if self.by_id else order_key(order)

    def ordered(self, direction: Direction, after: SortKey | None) -> Iterator[ShopifyOrder]:
        """Matching orders strictly beyond `after` in display order ("prev": before it)."""
        forward = self.ascending == (direction == "next")
        if self.ids is None and not self.by_id:
            return self._walk(forward, after)
        found = self._named() if self.ids is not None else list(self._walk(True, None))
        found.sort(key=self.key, reverse=not forward)
        if after is None:
            return iter(found)
        return (o for o in found if (self.key(o) > after if forward else self.key(o) < after))

    def _named(self) -> list[ShopifyOrder]:
        """The matching orders among those `ids` names."""
        shop, at = self.call.shop, self.call.at
        low, high = self._created_span()
        named = (self.view.order(shop, number, at) for number in sorted(self.ids or ()))
        return [o for o in named if o and low <= o.created_at <= high and self.matches(o)]

    def _walk(self, forward: bool, after: SortKey | None) -> Iterator[ShopifyOrder]:
        """Matching orders by (created_at, id), ascending or descending, beyond `after`."""
        low, high = self._created_span()
        end = high + timedelta(microseconds=1)
        if after is not None:
            cursor_time = datetime.fromtimestamp(after[0] / 1_000_000, UTC)
            if forward:
                low = max(low, cursor_time)
            else:
                end = min(end, cursor_time + timedelta(microseconds=1))
        windows = _windows(low, end)
        for start, stop in windows if forward else reversed(windows):
            window = [
                o
                for o in self.view.orders(self.call.shop, self.call.at, start, stop)
                if self.matches(o)
            ]
            window.sort(key=order_key, reverse=not forward)
            for order in window:
                key = order_key(order)
                if after is None or (key > after if forward else key < after):
                    yield order


def _windows(low: datetime, end: datetime) -> list[tuple[datetime, datetime]]:
    """[low, end) cut into day-long half-open windows."""
    windows = []
    start = low
    while start < end:
        windows.append((start, min(start + WALK_STEP, end)))
        start += WALK_STEP
    return windows
