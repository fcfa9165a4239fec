"""The seeded world's records. They hold whole lifetimes; the emulators show them as of a time."""

from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal

from shelfops_pipeline.sandbox.world.config import StoreProfile


@dataclass(frozen=True)
class Customer:
    """A retailer using ShelfOps; it trades on Square, Shopify or both."""

    id: str
    name: str
    profile: StoreProfile
    square_merchant_id: str | None
    shopify_shop: str | None


@dataclass(frozen=True)
class Store:
    """Where orders are taken: a Square location, a Shopify location, or a shop's online store.

    `merchant_id` is the provider account: a Square merchant id or a Shopify shop domain. A Shopify
    `online` store is not a Shopify location (its orders carry no location); a `warehouse` is a
    Shopify location that holds stock but takes no orders.
    """

    id: str
    customer_id: str
    merchant_id: str
    name: str
    city: str
    timezone: str
    currency: str
    country: str
    tax_percent: Decimal
    created_at: datetime
    platform: str = "square"
    kind: str = "physical"


@dataclass(frozen=True)
class Shop:
    """A customer's Shopify shop: `{handle}.myshopify.com`, one currency and one IANA time zone."""

    handle: str
    domain: str
    numeric_id: int
    customer_id: str
    name: str
    currency: str
    timezone: str
    country: str
    tax_percent: Decimal
    created_at: datetime


@dataclass(frozen=True)
class PricePoint:
    effective_from: datetime
    amount_minor: int


@dataclass(frozen=True)
class Variation:
    """A sellable variant with a SKU; its price changes over time."""

    id: str
    item_id: str
    name: str
    sku: str
    ordinal: int
    sold_by_weight: bool
    prices: tuple[PricePoint, ...]

    def price_at(self, at: datetime) -> int:
        current = self.prices[0].amount_minor
        for point in self.prices:
            if point.effective_from <= at:
                current = point.amount_minor
        return current


@dataclass(frozen=True)
class Item:
    """A catalog item; it may be created, renamed or deleted during the history."""

    id: str
    merchant_id: str
    name: str
    new_name: str | None
    renamed_at: datetime | None
    category_id: str
    taxable: bool
    created_at: datetime
    deleted_at: datetime | None
    variations: tuple[Variation, ...]

    def exists_at(self, at: datetime) -> bool:
        return self.created_at <= at and (self.deleted_at is None or at < self.deleted_at)

    def name_at(self, at: datetime) -> str:
        if self.new_name and self.renamed_at and self.renamed_at <= at:
            return self.new_name
        return self.name

    def change_times(self) -> tuple[datetime, ...]:
        """Every instant the item or one of its variations changed, oldest first."""
        times = {self.created_at}
        times.update(p.effective_from for v in self.variations for p in v.prices[1:])
        if self.renamed_at:
            times.add(self.renamed_at)
        if self.deleted_at:
            times.add(self.deleted_at)
        return tuple(sorted(times))

    def updated_at(self, at: datetime) -> datetime:
        return max(t for t in self.change_times() if t <= at)


@dataclass(frozen=True)
class Category:
    id: str
    merchant_id: str
    name: str
    created_at: datetime


@dataclass(frozen=True)
class Line:
    """One sold line of an order, with its money already rounded to minor units."""

    uid: str
    variation_id: str | None
    item_id: str | None
    name: str
    variation_name: str | None
    quantity: Decimal
    sold_by_weight: bool
    base_price_minor: int
    gross_minor: int
    discount_minor: int
    discount_id: str | None
    tax_minor: int
    catalog_version: int | None

    @property
    def total_minor(self) -> int:
        return self.gross_minor - self.discount_minor + self.tax_minor


@dataclass(frozen=True)
class ReturnLine:
    uid: str
    source_line_uid: str
    variation_id: str | None
    name: str
    quantity: Decimal
    sold_by_weight: bool
    base_price_minor: int
    gross_minor: int
    discount_minor: int
    tax_minor: int

    @property
    def total_minor(self) -> int:
        return self.gross_minor - self.discount_minor + self.tax_minor


@dataclass(frozen=True)
class Refund:
    id: str
    created_at: datetime
    amount_minor: int
    return_order_id: str


@dataclass(frozen=True)
class Order:
    """A whole order lifetime. `state_at` and friends give what the API shows at an instant."""

    id: str
    store_id: str
    merchant_id: str
    currency: str
    created_at: datetime
    visible_from: datetime
    closed_at: datetime | None
    final_state: str
    source_name: str
    tender_id: str | None
    tender_type: str
    lines: tuple[Line, ...] = ()
    source_order_id: str | None = None
    return_lines: tuple[ReturnLine, ...] = ()
    refund: Refund | None = None

    @property
    def is_return(self) -> bool:
        return self.source_order_id is not None

    def visible_at(self, at: datetime) -> bool:
        return self.visible_from <= at

    def state_at(self, at: datetime) -> str:
        if self.closed_at is None or at < self.closed_at:
            return "OPEN"
        return self.final_state

    def closed_at_as_of(self, at: datetime) -> datetime | None:
        return self.closed_at if self.closed_at is not None and self.closed_at <= at else None

    def refund_at(self, at: datetime) -> Refund | None:
        return self.refund if self.refund is not None and self.refund.created_at <= at else None

    def events_until(self, at: datetime) -> list[datetime]:
        events = [self.created_at, self.visible_from]
        if self.closed_at is not None and self.closed_at <= at:
            events.append(self.closed_at)
        if self.refund is not None and self.refund.created_at <= at:
            events.append(self.refund.created_at)
        return [e for e in events if e <= at]

    def updated_at(self, at: datetime) -> datetime:
        return max(self.events_until(at))

    def version_at(self, at: datetime) -> int:
        return len(set(self.events_until(at)))
