"""The seeded world as Shopify shows it at an instant: pure data, no HTTP; GraphQL and REST share it.

Entry point: `ShopifyView(world)`. Every method takes the instant `at` it shows the world as of.

- `shop(domain)`, `shops()`: the world's `Shop` records.
- `locations(shop)` / `location(shop, location_id)` -> `ShopifyLocation`: the warehouse and the POS
  stores (the online store is not a location). `Location.id` is `int(store.id)`.
- `products(shop, at)` / `product(shop, product_id, at)` -> `ShopifyProduct` with `variants`
  (`ShopifyVariant`, one `inventory_item_id` each); `variant(shop, variant_id, at)`,
  `inventory_item(shop, inventory_item_id, at)` (-> the variant owning it). Products are the items
  existing at `at` (deleted items are gone), sorted by id.
- `inventory_level(variant, location, at)` / `inventory_levels(shop, at, location_ids=None,
  inventory_item_ids=None)` -> `InventoryLevel` with `quantities` for `QUANTITY_NAMES`.
- `orders(shop, at, created_min=None, created_max=None)` -> `ShopifyOrder` visible at `at`, oldest
  first (created_at, id); `order(shop, order_id, at)`; `order_count(shop, at)`.
  For filtering many orders cheaply: `sale_orders(shop)` -> `OrderRecord` (world order, Shopify
  id, position; `.name`, `.processed_at(at)`), then `shopify_order(shop, record, at)`.
  Shopify orders are world sale orders; world return orders fold into `ShopifyOrder.refunds`.

Ids: `numeric_id(seed, 13, <Type>, <world id>)`; `gid(kind, n)` / `parse_gid(text)`. An
InventoryLevel has no number of its own: its GID is Shopify's
`gid://shopify/InventoryLevel/<location id>?inventory_item_id=<n>` (`inventory_level_gid`).
Locations keep the world's numeric store ids. Formatting helpers: `graphql_datetime`,
`rest_datetime`, `graphql_amount`, `rest_amount`; `processed_at(order, at)` is Shopify's
processedAt of a world order.

Deliberate mappings (documented so REST, GraphQL and truth agree):
- Shopify quantities are integers. A line sold by weight (1.25 kg of apples) is one unit whose unit
  price is the weighed amount (`ShopifyLineItem.weight` keeps 1.25); stock of goods sold by weight is
  counted in hundredths of the weight unit.
- Money is kept in minor units of the shop currency (`*_minor`); `money(minor, order)` gives the
  shop and presentment amounts as Decimals; `graphql_amount` writes them as GraphQL does ("42.5",
  "5.0", JPY "450.0") and `rest_amount` as REST does ("42.50", JPY "450").
- Taxes are added on top of prices (`taxesIncluded` false), one tax line per taxable line.
- Status at `at`: not yet closed -> PENDING (processedAt = created_at); COMPLETED -> PAID, then
  PARTIALLY_REFUNDED or REFUNDED once a refund exists (processedAt = closed_at); CANCELED -> VOIDED
  with cancelledAt = closed_at, cancelReason CUSTOMER (processedAt = created_at).
- About 1% of orders are `test` and about 20% of online orders are presented in another currency
  at the fixed rate in `PRESENTMENT_RATES`; both decided by the seed.
- Order `name` is "#" + a per-shop sequence from 1001 in creation order.
"""

import functools
import re
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from datetime import UTC, date, datetime
from decimal import ROUND_HALF_UP, Decimal
from typing import Any
from zoneinfo import ZoneInfo

from shelfops_pipeline.sandbox.result_cache import ResultCache
from shelfops_pipeline.sandbox.shopify.connections import Ordered
from shelfops_pipeline.sandbox.world.config import minor_unit_digits
from shelfops_pipeline.sandbox.world.entities import (
    Item,
    Line,
    Order,
    Refund,
    ReturnLine,
    Shop,
    Store,
    Variation,
)
from shelfops_pipeline.sandbox.world.ids import numeric_id, unit_fraction
from shelfops_pipeline.sandbox.world.inventory import StockCurve
from shelfops_pipeline.sandbox.world.money import to_major
from shelfops_pipeline.sandbox.world.world import World

GID_PREFIX = "gid://shopify/"
ID_DIGITS = 13
QUANTITY_NAMES = (
    "available", "on_hand", "committed", "incoming",
    "reserved", "damaged", "safety_stock", "quality_control",
)  # fmt: skip
# Another currency some online customers see, at a fixed rate (units of it per shop unit).
PRESENTMENT_RATES: dict[str, tuple[str, Decimal]] = {
    "USD": ("CAD", Decimal("1.35")),
    "CAD": ("USD", Decimal("0.74")),
    "AUD": ("NZD", Decimal("1.09")),
    "GBP": ("EUR", Decimal("1.17")),
    "JPY": ("USD", Decimal("0.0067")),
}
TEST_ORDER_SHARE = 0.01
PRESENTED_SHARE = 0.2
_GID = re.compile(r"^gid://shopify/([A-Za-z]+)/(\d+)(?:\?.*)?$")


def gid(kind: str, number: int) -> str:
    return f"{GID_PREFIX}{kind}/{number}"


def parse_gid(text: str) -> tuple[str, int] | None:
    """("Order", 123) for "gid://shopify/Order/123"; None for anything else."""
    match = _GID.match(text)
    return (match.group(1), int(match.group(2))) if match else None


def inventory_level_gid(location_id: int, inventory_item_id: int) -> str:
    return f"{GID_PREFIX}InventoryLevel/{location_id}?inventory_item_id={inventory_item_id}"


def graphql_datetime(at: datetime) -> str:
    """GraphQL DateTime: UTC, seconds precision, e.g. 2026-11-02T10:15:03Z."""
    return at.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def rest_datetime(at: datetime, timezone: str) -> str:
    """REST timestamps: the shop's UTC offset, seconds precision, e.g. 2026-11-02T21:15:03+11:00."""
    return at.astimezone(ZoneInfo(timezone)).replace(microsecond=0).isoformat()


def graphql_amount(amount: Decimal) -> str:
    """GraphQL Decimal/MoneyV2.amount: trailing zeros dropped, one decimal kept ("42.5", "5.0")."""
    text = format(amount.normalize(), "f")
    return text if "." in text else f"{text}.0"


def rest_amount(amount: Decimal, currency: str) -> str:
    """REST money: the currency's own decimals ("42.50", JPY "450")."""
    digits = minor_unit_digits(currency)
    return format(amount.quantize(Decimal(1).scaleb(-digits)), "f")


@dataclass(frozen=True)
class Money:
    """One amount in the shop currency and in the currency the customer was shown."""

    shop_amount: Decimal
    shop_currency: str
    presentment_amount: Decimal
    presentment_currency: str


@dataclass(frozen=True)
class ShopifyLocation:
    id: int
    store: Store
    name: str
    created_at: datetime

    @property
    def gid(self) -> str:
        return gid("Location", self.id)


@dataclass(frozen=True)
class ShopifyVariant:
    id: int
    inventory_item_id: int
    product_id: int
    variation: Variation
    title: str
    sku: str
    position: int
    price_minor: int
    currency: str
    created_at: datetime
    updated_at: datetime

    @property
    def gid(self) -> str:
        return gid("ProductVariant", self.id)

    @property
    def inventory_item_gid(self) -> str:
        return gid("InventoryItem", self.inventory_item_id)

    @property
    def price(self) -> Decimal:
        return to_major(self.price_minor, minor_unit_digits(self.currency))


@dataclass(frozen=True)
class ShopifyProduct:
    id: int
    item: Item
    title: str
    handle: str
    product_type: str
    created_at: datetime
    updated_at: datetime
    variants: tuple[ShopifyVariant, ...]

    @property
    def gid(self) -> str:
        return gid("Product", self.id)


@dataclass(frozen=True)
class InventoryLevel:
    location_id: int
    inventory_item_id: int
    variant: ShopifyVariant
    quantities: dict[str, int]
    updated_at: datetime

    @property
    def gid(self) -> str:
        return inventory_level_gid(self.location_id, self.inventory_item_id)


@dataclass(frozen=True)
class ShopifyLineItem:
    id: int
    line: Line
    variant_id: int | None
    product_id: int | None
    title: str
    variant_title: str | None
    sku: str | None
    quantity: int
    weight: Decimal | None
    unit_price_minor: int
    gross_minor: int
    discount_minor: int
    tax_minor: int
    tax_percent: Decimal
    taxable: bool

    @property
    def gid(self) -> str:
        return gid("LineItem", self.id)

    @property
    def discounted_total_minor(self) -> int:
        return self.gross_minor - self.discount_minor


@dataclass(frozen=True)
class ShopifyRefundLineItem:
    id: int
    return_line: ReturnLine
    line_item: ShopifyLineItem
    quantity: int
    subtotal_minor: int
    tax_minor: int
    location_id: int | None

    @property
    def gid(self) -> str:
        return gid("RefundLineItem", self.id)


@dataclass(frozen=True)
class ShopifyRefund:
    id: int
    refund: Refund
    created_at: datetime
    amount_minor: int
    line_items: tuple[ShopifyRefundLineItem, ...]

    @property
    def gid(self) -> str:
        return gid("Refund", self.id)


@dataclass(frozen=True)
class ShopifyOrder:
    """A world sale order as Shopify shows it at `as_of`."""

    id: int
    order: Order
    shop: Shop
    store: Store
    as_of: datetime
    name: str
    location_id: int | None
    source_name: str
    test: bool
    created_at: datetime
    processed_at: datetime
    updated_at: datetime
    closed_at: datetime | None
    cancelled_at: datetime | None
    cancel_reason: str | None
    financial_status: str
    fulfillment_status: str
    currency: str
    presentment_currency: str
    presentment_rate: Decimal
    line_items: tuple[ShopifyLineItem, ...]
    refunds: tuple[ShopifyRefund, ...]

    @property
    def gid(self) -> str:
        return gid("Order", self.id)

    @property
    def subtotal_minor(self) -> int:
        return sum(li.discounted_total_minor for li in self.line_items)

    @property
    def total_discounts_minor(self) -> int:
        return sum(li.discount_minor for li in self.line_items)

    @property
    def total_tax_minor(self) -> int:
        return sum(li.tax_minor for li in self.line_items)

    @property
    def total_price_minor(self) -> int:
        return self.subtotal_minor + self.total_tax_minor

    @property
    def total_refunded_minor(self) -> int:
        return sum(r.amount_minor for r in self.refunds)

    @property
    def current_total_minor(self) -> int:
        return 0 if self.cancelled_at else self.total_price_minor - self.total_refunded_minor

    def money(self, minor: int) -> Money:
        """`minor` units of the shop currency, with the amount the customer was presented."""
        digits = minor_unit_digits(self.currency)
        shop_amount = to_major(minor, digits)
        exponent = Decimal(1).scaleb(-minor_unit_digits(self.presentment_currency))
        presented = (shop_amount * self.presentment_rate).quantize(exponent, ROUND_HALF_UP)
        return Money(shop_amount, self.currency, presented, self.presentment_currency)


def processed_at(order: Order, at: datetime) -> datetime:
    """Shopify's processedAt at `at`: when payment was captured, else when the order was taken."""
    if order.state_at(at) == "COMPLETED" and order.closed_at is not None:
        return order.closed_at
    return order.created_at


@dataclass(frozen=True)
class OrderRecord:
    """A world sale order with its Shopify id and its place in the shop's creation order."""

    order: Order
    id: int
    position: int

    @property
    def name(self) -> str:
        return f"#{1001 + self.position}"

    def processed_at(self, at: datetime) -> datetime:
        return processed_at(self.order, at)


@dataclass(frozen=True)
class _Catalog:
    products: tuple[ShopifyProduct, ...]
    variants: tuple[ShopifyVariant, ...]
    products_by_id: dict[int, ShopifyProduct]
    variants_by_id: dict[int, ShopifyVariant]
    variants_by_inventory_item: dict[int, ShopifyVariant]


@dataclass(frozen=True)
class _History:
    orders: tuple[Order, ...]
    ids: tuple[int, ...]
    index: dict[int, int]


class ShopifyView:
    """Maps world records to Shopify objects; cheap to build, caches per-shop indexes."""

    def __init__(self, world: World) -> None:
        self.world = world
        self.seed = world.seed
        # Each filtered, sorted order history, kept while it is paged through.
        self.orderings: ResultCache[Ordered[Any]] = ResultCache()

    def _id(self, kind: str, world_id: str) -> int:
        return numeric_id(self.seed, ID_DIGITS, kind, world_id)

    def shops(self) -> tuple[Shop, ...]:
        return self.world.shops

    def shop(self, domain: str) -> Shop | None:
        return self.world.shop(domain)

    def locations(self, shop: Shop) -> list[ShopifyLocation]:
        return [
            ShopifyLocation(int(s.id), s, s.name, s.created_at)
            for s in self.world.stores_of(shop.domain)
            if s.kind != "online"
        ]

    def location(self, shop: Shop, location_id: int) -> ShopifyLocation | None:
        return next((loc for loc in self.locations(shop) if loc.id == location_id), None)

    def online_store(self, shop: Shop) -> Store:
        return next(s for s in self.world.stores_of(shop.domain) if s.kind == "online")

    def _product(self, shop: Shop, item: Item, at: datetime) -> ShopifyProduct:
        product_id = self._id("Product", item.id)
        updated = item.updated_at(at)
        variants = tuple(
            ShopifyVariant(
                id=self._id("ProductVariant", v.id),
                inventory_item_id=self._id("InventoryItem", v.id),
                product_id=product_id,
                variation=v,
                title=v.name,
                sku=v.sku,
                position=v.ordinal,
                price_minor=v.price_at(at),
                currency=shop.currency,
                created_at=item.created_at,
                updated_at=max(p.effective_from for p in v.prices if p.effective_from <= at)
                if any(p.effective_from <= at for p in v.prices)
                else item.created_at,
            )
            for v in item.variations
        )
        category = next(
            (c.name for c in self.world.categories(shop.domain) if c.id == item.category_id), ""
        )
        return ShopifyProduct(
            id=product_id,
            item=item,
            title=item.name_at(at),
            handle=re.sub(r"[^a-z0-9]+", "-", item.name.lower()).strip("-"),
            product_type=category,
            created_at=item.created_at,
            updated_at=updated,
            variants=variants,
        )

    @functools.lru_cache(maxsize=16)  # noqa: B019 - one view lives as long as its world
    def _catalog(self, domain: str, at: datetime) -> "_Catalog":
        shop = self.world.shop(domain)
        if shop is None:
            raise LookupError(f"{domain} is not a shop of this world")
        products = sorted(
            (
                self._product(shop, item, at)
                for item in self.world.items(domain)
                if item.exists_at(at)
            ),
            key=lambda p: p.id,
        )
        variants = sorted((v for p in products for v in p.variants), key=lambda v: v.id)
        return _Catalog(
            products=tuple(products),
            variants=tuple(variants),
            products_by_id={p.id: p for p in products},
            variants_by_id={v.id: v for v in variants},
            variants_by_inventory_item={v.inventory_item_id: v for v in variants},
        )

    def products(self, shop: Shop, at: datetime) -> list[ShopifyProduct]:
        return list(self._catalog(shop.domain, at).products)

    def product(self, shop: Shop, product_id: int, at: datetime) -> ShopifyProduct | None:
        return self._catalog(shop.domain, at).products_by_id.get(product_id)

    def variants(self, shop: Shop, at: datetime) -> list[ShopifyVariant]:
        return list(self._catalog(shop.domain, at).variants)

    def variant(self, shop: Shop, variant_id: int, at: datetime) -> ShopifyVariant | None:
        return self._catalog(shop.domain, at).variants_by_id.get(variant_id)

    def inventory_item(
        self, shop: Shop, inventory_item_id: int, at: datetime
    ) -> ShopifyVariant | None:
        """The variant whose inventory item has this id (one inventory item per variant)."""
        return self._catalog(shop.domain, at).variants_by_inventory_item.get(inventory_item_id)

    def _curve(self, variant: ShopifyVariant, location: ShopifyLocation) -> StockCurve:
        variation = variant.variation
        return self.world.stock(variation.id, location.store.id, variation.sold_by_weight)

    def inventory_level(
        self, variant: ShopifyVariant, location: ShopifyLocation, at: datetime
    ) -> InventoryLevel:
        curve = self._curve(variant, location)
        hour = curve.hour_of(at)
        on_hand = curve.level(hour)
        committed = 0
        if location.store.kind == "warehouse":
            # Open online orders hold a few units at the warehouse until they ship.
            roll = unit_fraction(self.seed, "committed", variant.id, location.id, hour)
            committed = min(on_hand, int(roll * 4))
        into_cycle = (hour + curve.phase) % curve.cycle_hours
        incoming = curve.par - on_hand if into_cycle >= curve.cycle_hours // 2 else 0
        quantities = dict.fromkeys(QUANTITY_NAMES, 0)
        quantities.update(
            available=on_hand - committed, on_hand=on_hand, committed=committed, incoming=incoming
        )
        return InventoryLevel(
            location_id=location.id,
            inventory_item_id=variant.inventory_item_id,
            variant=variant,
            quantities=quantities,
            updated_at=curve.changed_at(curve.last_change_hour(hour)),
        )

    def inventory_levels(
        self,
        shop: Shop,
        at: datetime,
        location_ids: Iterable[int] | None = None,
        inventory_item_ids: Iterable[int] | None = None,
    ) -> list[InventoryLevel]:
        """Levels of every variant at every location, by (inventory item, location)."""
        wanted_locations = set(location_ids) if location_ids is not None else None
        wanted_items = set(inventory_item_ids) if inventory_item_ids is not None else None
        locations = [
            loc
            for loc in self.locations(shop)
            if wanted_locations is None or loc.id in wanted_locations
        ]
        return [
            self.inventory_level(variant, location, at)
            for variant in sorted(self.variants(shop, at), key=lambda v: v.inventory_item_id)
            if wanted_items is None or variant.inventory_item_id in wanted_items
            for location in sorted(locations, key=lambda loc: loc.id)
        ]

    @functools.lru_cache(maxsize=64)  # noqa: B019 - one view lives as long as its world
    def _sale_orders(self, domain: str, last_day: date) -> "_History":
        """Every sale order the shop's history holds, oldest first, with ids and an index."""
        orders = [
            order
            for store in self.world.stores_of(domain)
            for day in self.world.business_days()
            for order in self.world.orders_of_store_day(store.id, day)
            if not order.is_return
        ]
        orders.sort(key=lambda o: (o.created_at, o.id))
        ids = tuple(self._id("Order", o.id) for o in orders)
        return _History(tuple(orders), ids, {n: position for position, n in enumerate(ids)})

    def _history(self, shop: Shop) -> "_History":
        return self._sale_orders(shop.domain, self.world.business_days()[-1])

    def sale_orders(self, shop: Shop) -> tuple[OrderRecord, ...]:
        """Every sale order of the shop's history (visible or not yet), oldest first, cheaply:
        filter and sort these, then build `shopify_order` only for the ones shown."""
        history = self._history(shop)
        return tuple(
            OrderRecord(order, number, position)
            for position, (order, number) in enumerate(
                zip(history.orders, history.ids, strict=True)
            )
        )

    def shopify_order(self, shop: Shop, record: OrderRecord, at: datetime) -> ShopifyOrder:
        return self._order(shop, record.order, record.position, at)

    def orders(
        self,
        shop: Shop,
        at: datetime,
        created_min: datetime | None = None,
        created_max: datetime | None = None,
    ) -> Iterator[ShopifyOrder]:
        """Orders visible at `at`, oldest first; `created_min <= created_at < created_max`."""
        for position, order in enumerate(self._history(shop).orders):
            if created_min is not None and order.created_at < created_min:
                continue
            if created_max is not None and order.created_at >= created_max:
                break
            if order.visible_at(at):
                yield self._order(shop, order, position, at)

    def order(self, shop: Shop, order_id: int, at: datetime) -> ShopifyOrder | None:
        history = self._history(shop)
        position = history.index.get(order_id)
        if position is None or not history.orders[position].visible_at(at):
            return None
        return self._order(shop, history.orders[position], position, at)

    def order_count(self, shop: Shop, at: datetime) -> int:
        return sum(1 for o in self._history(shop).orders if o.visible_at(at))

    def _order(self, shop: Shop, order: Order, position: int, at: datetime) -> ShopifyOrder:
        store = self.world.store(order.store_id)
        if store is None:
            raise LookupError(f"order {order.id} names an unknown store")
        online = store.kind == "online"
        state = order.state_at(at)
        line_items = tuple(self._line_item(shop, line) for line in order.lines)
        refund = order.refund_at(at)
        refunds = (self._refund(shop, order, refund, line_items, store),) if refund else ()
        closed_at = order.closed_at_as_of(at)
        cancelled_at, cancel_reason = None, None
        if state == "COMPLETED":
            total = sum(li.discounted_total_minor + li.tax_minor for li in line_items)
            refunded = sum(r.amount_minor for r in refunds)
            financial = (
                "PAID"
                if not refunded
                else "REFUNDED"
                if refunded >= total
                else "PARTIALLY_REFUNDED"
            )
        elif state == "CANCELED":
            financial, cancelled_at, cancel_reason = "VOIDED", closed_at, "CUSTOMER"
        else:
            financial = "PENDING"
        presented = online and unit_fraction(self.seed, "presentment", order.id) < PRESENTED_SHARE
        presentment_currency, rate = (
            PRESENTMENT_RATES.get(shop.currency, (shop.currency, Decimal(1)))
            if presented
            else (shop.currency, Decimal(1))
        )
        return ShopifyOrder(
            id=self._id("Order", order.id),
            order=order,
            shop=shop,
            store=store,
            as_of=at,
            name=f"#{1001 + position}",
            location_id=None if online else int(store.id),
            source_name="web" if online else "pos",
            test=unit_fraction(self.seed, "test-order", order.id) < TEST_ORDER_SHARE,
            created_at=order.created_at,
            processed_at=processed_at(order, at),
            updated_at=order.updated_at(at),
            closed_at=closed_at if state == "COMPLETED" else None,
            cancelled_at=cancelled_at,
            cancel_reason=cancel_reason,
            financial_status=financial,
            fulfillment_status="FULFILLED" if state == "COMPLETED" else "UNFULFILLED",
            currency=shop.currency,
            presentment_currency=presentment_currency,
            presentment_rate=rate,
            line_items=line_items,
            refunds=refunds,
        )

    def _line_item(self, shop: Shop, line: Line) -> ShopifyLineItem:
        variant_id = product_id = None
        sku = None
        if line.variation_id is not None and line.item_id is not None:
            variant_id = self._id("ProductVariant", line.variation_id)
            product_id = self._id("Product", line.item_id)
            item, position = self.world.variation_index(shop.domain)[line.variation_id]
            sku = item.variations[position].sku
        weighed = line.sold_by_weight
        return ShopifyLineItem(
            id=self._id("LineItem", line.uid),
            line=line,
            variant_id=variant_id,
            product_id=product_id,
            title=line.name,
            variant_title=line.variation_name,
            sku=sku,
            quantity=1 if weighed else int(line.quantity),
            weight=line.quantity if weighed else None,
            unit_price_minor=line.gross_minor if weighed else line.base_price_minor,
            gross_minor=line.gross_minor,
            discount_minor=line.discount_minor,
            tax_minor=line.tax_minor,
            tax_percent=shop.tax_percent,
            taxable=line.tax_minor > 0,
        )

    def _refund(
        self,
        shop: Shop,
        order: Order,
        refund: Refund,
        line_items: tuple[ShopifyLineItem, ...],
        store: Store,
    ) -> ShopifyRefund:
        return_order = next(
            o
            for o in self.world.orders_of_store_day(
                order.store_id, order.created_at.astimezone(ZoneInfo(store.timezone)).date()
            )
            if o.id == refund.return_order_id
        )
        by_uid = {li.line.uid: li for li in line_items}
        items = tuple(
            ShopifyRefundLineItem(
                id=self._id("RefundLineItem", r.uid),
                return_line=r,
                line_item=by_uid[r.source_line_uid],
                quantity=1 if r.sold_by_weight else int(r.quantity),
                subtotal_minor=r.gross_minor - r.discount_minor,
                tax_minor=r.tax_minor,
                location_id=None if store.kind == "online" else int(store.id),
            )
            for r in return_order.return_lines
        )
        return ShopifyRefund(
            id=self._id("Refund", refund.id),
            refund=refund,
            created_at=refund.created_at,
            amount_minor=refund.amount_minor,
            line_items=items,
        )
