"""Scales and store profiles: how big the seeded world is and where its stores are."""

from dataclasses import dataclass


@dataclass(frozen=True)
class Scale:
    """How much world to generate; orders are generated lazily, one store-day at a time."""

    name: str
    customers: int
    items_per_merchant: int
    history_days: int
    orders_per_store_day: int


SCALES: dict[str, Scale] = {
    "demo": Scale(
        "demo", customers=3, items_per_merchant=24, history_days=14, orders_per_store_day=24
    ),
    "small": Scale(
        "small", customers=4, items_per_merchant=60, history_days=10, orders_per_store_day=16
    ),
    # About a million sold lines: 13 Square stores x 75 days x 300 orders x 2 lines, plus Shopify.
    "large": Scale(
        "large", customers=9, items_per_merchant=400, history_days=75, orders_per_store_day=300
    ),
    # The proof-suite benchmarks' world: its Shopify-only shop (two selling places) and its first
    # Square merchant (two stores) each take about 20,000 orders in the six days before
    # 2026-11-05T18:30Z. Ground truth for a day takes seconds: every store-day is large.
    "busy": Scale(
        "busy", customers=4, items_per_merchant=400, history_days=7, orders_per_store_day=1_650
    ),
}


@dataclass(frozen=True)
class StoreProfile:
    """Where one customer trades: country, currency, store time zones, sales tax and platforms."""

    country: str
    currency: str
    timezones: tuple[str, ...]
    tax_percent: str
    platforms: tuple[str, ...]
    city_names: tuple[str, ...]


# Customers take these profiles in turn; the first four already cover USD, JPY (zero-decimal),
# GBP and AUD, four time zones with daylight saving and one without, and mixed platforms.
PROFILES: tuple[StoreProfile, ...] = (
    StoreProfile(
        "US",
        "USD",
        ("America/New_York", "America/Los_Angeles"),
        "8.875",
        ("square",),
        ("Brooklyn", "Santa Monica"),
    ),
    StoreProfile("JP", "JPY", ("Asia/Tokyo",), "10", ("square", "shopify"), ("Shibuya",)),
    StoreProfile(
        "GB", "GBP", ("Europe/London", "Europe/London"), "20", ("square",), ("Camden", "Leeds")
    ),
    StoreProfile("AU", "AUD", ("Australia/Sydney",), "10", ("shopify",), ("Surry Hills",)),
    StoreProfile(
        "US",
        "USD",
        ("America/Chicago", "America/Denver", "America/Phoenix"),
        "7.25",
        ("square", "shopify"),
        ("Evanston", "Boulder", "Tempe"),
    ),
    StoreProfile(
        "CA",
        "CAD",
        ("America/Toronto", "America/Vancouver"),
        "13",
        ("shopify",),
        ("Leslieville", "Kitsilano"),
    ),
    StoreProfile("GB", "GBP", ("Europe/London",), "20", ("square", "shopify"), ("Bristol",)),
    StoreProfile("JP", "JPY", ("Asia/Tokyo", "Asia/Tokyo"), "10", ("square",), ("Umeda", "Tenjin")),
    StoreProfile(
        "US",
        "USD",
        ("America/New_York", "America/Chicago"),
        "6.25",
        ("square",),
        ("Cambridge", "Madison"),
    ),
)

ZERO_DECIMAL_CURRENCIES = frozenset({"JPY", "KRW", "CLP", "VND"})


def minor_unit_digits(currency: str) -> int:
    return 0 if currency in ZERO_DECIMAL_CURRENCIES else 2
