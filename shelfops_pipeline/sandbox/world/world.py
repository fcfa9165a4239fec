"""The seeded world as one object: customers, stores, catalogs, stock curves and orders on demand."""

import functools
from collections.abc import Iterator
from datetime import UTC, date, datetime, time, timedelta
from decimal import Decimal
from zoneinfo import ZoneInfo

from shelfops_pipeline.sandbox.clock import SandboxClock
from shelfops_pipeline.sandbox.world.catalog import build_categories, build_items
from shelfops_pipeline.sandbox.world.config import PROFILES, SCALES, Scale
from shelfops_pipeline.sandbox.world.entities import Category, Customer, Item, Order, Shop, Store
from shelfops_pipeline.sandbox.world.ids import numeric_id, upper_id
from shelfops_pipeline.sandbox.world.inventory import StockCurve, stock_curve
from shelfops_pipeline.sandbox.world.orders import MAX_ORDER_LAG, generate_store_day

_BUSINESS_WORDS = (
    ("Copper", "Kettle"), ("Harbor", "Pantry"), ("Maple", "Market"), ("Juniper", "Goods"),
    ("Saffron", "Provisions"), ("Cobalt", "Corner"), ("Linden", "Larder"), ("Quill", "Grocer"),
    ("Tidal", "Bakehouse"),
)  # fmt: skip


def last_dst_change(timezones: set[str], before: date) -> date | None:
    """The latest local date before `before`, within a year, on which any zone's offset changed."""
    for back in range(1, 366):
        day = before - timedelta(days=back)
        for name in timezones:
            zone = ZoneInfo(name)
            start = datetime.combine(day, time(0), zone).utcoffset()
            end = datetime.combine(day + timedelta(days=1), time(0), zone).utcoffset()
            if start != end:
                return day
    return None


class World:
    """Everything the emulators serve; orders are generated per store-day and cached."""

    def __init__(
        self,
        seed: int,
        scale: str | Scale,
        clock: SandboxClock | None = None,
        days: int | None = None,
        start: date | None = None,
    ) -> None:
        self.seed = seed
        self.scale = SCALES[scale] if isinstance(scale, str) else scale
        self.clock = clock or SandboxClock()
        self.days = days or self.scale.history_days
        self.customers = self._build_customers()
        self.stores = self._build_stores()
        self.shops = self._build_shops()
        self.shopify_stores = self._build_shopify_stores()
        zones = {s.timezone for s in self.stores + self.shopify_stores}
        if start is None:
            start = self.clock.now().date() - timedelta(days=self.days)
            # The history always holds a daylight-saving change, so day boundaries get tested.
            dst_day = last_dst_change(zones, start + timedelta(days=self.days))
            if dst_day is not None and dst_day - timedelta(days=2) < start:
                start = dst_day - timedelta(days=2)
        self.start_date = start
        self.history_start = datetime.combine(start, time(0), UTC)
        self.history_end = self.history_start + timedelta(days=self.days)
        self._stores_by_id = {s.id: s for s in self.stores + self.shopify_stores}
        self._order_indexes: dict[str, tuple[date | None, dict[str, tuple[str, date]]]] = {}
        self._currency = {s.merchant_id: s.currency for s in self.stores + self.shopify_stores}
        self._categories = {
            account: build_categories(seed, account, self.history_start)
            for account in self._currency
        }

    def now(self) -> datetime:
        return self.clock.now()

    def _build_customers(self) -> tuple[Customer, ...]:
        customers = []
        for index in range(self.scale.customers):
            profile = PROFILES[index % len(PROFILES)]
            first, second = _BUSINESS_WORDS[index % len(_BUSINESS_WORDS)]
            number = index // len(_BUSINESS_WORDS)
            name = f"{first} {second}" + (f" {number + 1}" if number else "")
            slug = name.lower().replace(" ", "-")
            customer_id = f"cust-{index + 1:03d}"
            merchant = (
                upper_id(self.seed, 13, "merchant", index)
                if "square" in profile.platforms
                else None
            )
            shop = slug if "shopify" in profile.platforms else None
            customers.append(Customer(customer_id, name, profile, merchant, shop))
        return tuple(customers)

    def _build_stores(self) -> tuple[Store, ...]:
        stores = []
        for customer in self.customers:
            if customer.square_merchant_id is None:
                continue
            profile = customer.profile
            for number, (zone, city) in enumerate(
                zip(profile.timezones, profile.city_names, strict=True)
            ):
                stores.append(
                    Store(
                        id=upper_id(self.seed, 13, "location", customer.id, number),
                        customer_id=customer.id,
                        merchant_id=customer.square_merchant_id,
                        name=f"{customer.name} {city}",
                        city=city,
                        timezone=zone,
                        currency=profile.currency,
                        country=profile.country,
                        tax_percent=Decimal(profile.tax_percent),
                        created_at=datetime(2023, 3, 1 + number * 3, 15, 4, 9, tzinfo=UTC),
                    )
                )
        return tuple(stores)

    def _build_shops(self) -> tuple[Shop, ...]:
        shops = []
        for customer in self.customers:
            if customer.shopify_shop is None:
                continue
            profile = customer.profile
            shops.append(
                Shop(
                    handle=customer.shopify_shop,
                    domain=f"{customer.shopify_shop}.myshopify.com",
                    numeric_id=numeric_id(self.seed, 11, "shop", customer.id),
                    customer_id=customer.id,
                    name=customer.name,
                    currency=profile.currency,
                    timezone=profile.timezones[0],
                    country=profile.country,
                    tax_percent=Decimal(profile.tax_percent),
                    created_at=datetime(2022, 9, 14, 10, 21, 5, tzinfo=UTC),
                )
            )
        return tuple(shops)

    def _build_shopify_stores(self) -> tuple[Store, ...]:
        """Per shop: the online store, a warehouse, and POS stores when Square is not the POS."""
        stores = []
        for shop in self.shops:
            customer = next(c for c in self.customers if c.id == shop.customer_id)
            profile = customer.profile
            places = [(f"online-{shop.handle}", "Online Store", "", shop.timezone, "online")]
            warehouse = numeric_id(self.seed, 11, "shopify-location", shop.domain, "warehouse")
            places.append(
                (str(warehouse), "Warehouse", profile.city_names[0], shop.timezone, "warehouse")
            )
            if customer.square_merchant_id is None:
                # Shopify reports every location in the shop's time zone; its API gives no other.
                for city in profile.city_names:
                    location = numeric_id(self.seed, 11, "shopify-location", shop.domain, city)
                    places.append((str(location), city, city, shop.timezone, "physical"))
            for store_id, name, city, zone, kind in places:
                stores.append(
                    Store(
                        id=store_id,
                        customer_id=shop.customer_id,
                        merchant_id=shop.domain,
                        name=f"{shop.name} {name}",
                        city=city,
                        timezone=zone,
                        currency=shop.currency,
                        country=shop.country,
                        tax_percent=shop.tax_percent,
                        created_at=shop.created_at,
                        platform="shopify",
                        kind=kind,
                    )
                )
        return tuple(stores)

    @property
    def square_merchants(self) -> tuple[str, ...]:
        return tuple(c.square_merchant_id for c in self.customers if c.square_merchant_id)

    def customer_of_merchant(self, merchant_id: str) -> Customer:
        return next(c for c in self.customers if c.square_merchant_id == merchant_id)

    def store(self, store_id: str) -> Store | None:
        return self._stores_by_id.get(store_id)

    def stores_of(self, merchant_id: str) -> list[Store]:
        """The stores of one account: a Square merchant's locations, or a shop's online store,
        POS locations and warehouse."""
        return sorted(
            (s for s in self.stores + self.shopify_stores if s.merchant_id == merchant_id),
            key=lambda s: s.name,
        )

    def shop(self, domain: str) -> Shop | None:
        return next((s for s in self.shops if s.domain == domain), None)

    def categories(self, merchant_id: str) -> tuple[Category, ...]:
        return self._categories[merchant_id]

    @functools.cache  # noqa: B019 - one World lives for the whole process
    def items(self, merchant_id: str) -> tuple[Item, ...]:
        return build_items(
            self.seed,
            merchant_id,
            self._currency[merchant_id],
            self.scale.items_per_merchant,
            self.categories(merchant_id),
            self.history_start,
            self.history_end,
        )

    @functools.cache  # noqa: B019 - one World lives for the whole process
    def variation_index(self, merchant_id: str) -> dict[str, tuple[Item, int]]:
        return {
            v.id: (item, position)
            for item in self.items(merchant_id)
            for position, v in enumerate(item.variations)
        }

    def stock(self, variation_id: str, store_id: str, sold_by_weight: bool) -> StockCurve:
        return stock_curve(self.seed, variation_id, store_id, sold_by_weight)

    def business_days(self) -> list[date]:
        """Local business days with orders: the history, then every day up to the clock."""
        last = self.now().date() + timedelta(days=1)
        count = (last - self.start_date).days + 1
        return [self.start_date + timedelta(days=n) for n in range(count)]

    @functools.lru_cache(maxsize=256)  # noqa: B019 - about 0.5 MB a store-day at large scale
    def orders_of_store_day(self, store_id: str, day: date) -> tuple[Order, ...]:
        """Every order generated by `store_id` on local `day`, including later return orders."""
        if day < self.start_date:
            return ()
        store = self._stores_by_id[store_id]
        if store.kind == "warehouse":
            return ()
        items = self.items(store.merchant_id)
        return tuple(
            generate_store_day(self.seed, store, day, items, self.scale.orders_per_store_day)
        )

    def orders_touching(self, store_id: str, start: datetime, end: datetime) -> Iterator[Order]:
        """Orders whose lifetime may overlap [start, end]; callers filter by the field they need."""
        first = (start - MAX_ORDER_LAG).date() - timedelta(days=1)
        last = min(end, self.now()).date() + timedelta(days=1)
        day = max(first, self.start_date)
        while day <= last:
            yield from self.orders_of_store_day(store_id, day)
            day += timedelta(days=1)

    def find_order(self, merchant_id: str, order_id: str) -> Order | None:
        """Look an order up by id, indexing the merchant's history on first use."""
        days = self.business_days()
        built_through, index = self._order_indexes.get(merchant_id, (None, {}))
        if built_through != days[-1]:
            # Index only the days not indexed yet: the clock may have moved on since.
            new_days = [d for d in days if built_through is None or d > built_through]
            for store in self.stores_of(merchant_id):
                for day in new_days:
                    for order in self.orders_of_store_day(store.id, day):
                        index[order.id] = (store.id, day)
            self._order_indexes[merchant_id] = (days[-1], index)
        located = index.get(order_id)
        if located is None:
            return None
        store_id, day = located
        return next(o for o in self.orders_of_store_day(store_id, day) if o.id == order_id)
