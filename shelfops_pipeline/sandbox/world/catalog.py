"""Catalog generation: items with variations, SKUs, weight-sold goods and changes over time."""

import random
from datetime import datetime, timedelta

from shelfops_pipeline.sandbox.world.config import minor_unit_digits
from shelfops_pipeline.sandbox.world.entities import Category, Item, PricePoint, Variation
from shelfops_pipeline.sandbox.world.ids import upper_id

CATEGORIES = ("Coffee", "Bakery", "Deli", "Pantry", "Produce", "Merch")
_PRODUCTS: dict[str, tuple[str, ...]] = {
    "Coffee": ("Cold Brew", "Flat White", "Espresso", "Chai Latte", "Matcha", "Drip Coffee"),
    "Bakery": ("Croissant", "Sourdough Loaf", "Cinnamon Bun", "Bagel", "Scone", "Brownie"),
    "Deli": ("Turkey Sandwich", "Caprese Panini", "Soup of the Day", "Quiche", "Salad Bowl"),
    "Pantry": ("Olive Oil", "Honey Jar", "Granola", "Hot Sauce", "Jam", "Pasta"),
    "Produce": ("Apples", "Tomatoes", "Cheddar", "Coffee Beans", "Cherries", "Walnuts"),
    "Merch": ("Tote Bag", "Mug", "T-Shirt", "Water Bottle", "Gift Card Sleeve"),
}
# Produce is sold by weight: quantities like 1.25 (lb or kg) and a price per unit of weight.
WEIGHT_CATEGORY = "Produce"
_SIZES = (("Small", 1.0), ("Regular", 1.25), ("Large", 1.5))
_BASE_PRICE_MAJOR = {"Coffee": 4, "Bakery": 5, "Deli": 11, "Pantry": 9, "Produce": 7, "Merch": 18}
# Yen prices are about a hundred times the dollar figure.
_MAJOR_TO_LOCAL = {"USD": 1, "GBP": 1, "AUD": 1.5, "CAD": 1.35, "JPY": 150}


def _price_minor(rng: random.Random, category: str, currency: str, factor: float) -> int:
    major = _BASE_PRICE_MAJOR[category] * _MAJOR_TO_LOCAL.get(currency, 1) * factor
    major *= rng.uniform(0.8, 1.3)
    digits = minor_unit_digits(currency)
    if digits == 0:
        return max(10, round(major / 10.0) * 10)
    cents = round(major * 100)
    return max(50, cents - cents % 5)


def build_categories(seed: int, merchant_id: str, since: datetime) -> tuple[Category, ...]:
    return tuple(
        Category(upper_id(seed, 24, "category", merchant_id, name), merchant_id, name, since)
        for name in CATEGORIES
    )


def build_items(
    seed: int,
    merchant_id: str,
    currency: str,
    count: int,
    categories: tuple[Category, ...],
    history_start: datetime,
    history_end: datetime,
) -> tuple[Item, ...]:
    """Items that existed before the history, plus some created, repriced, renamed or deleted in it."""
    rng = random.Random(f"{seed}:items:{merchant_id}")
    span = history_end - history_start
    by_name = {c.name: c for c in categories}
    items = []
    for index in range(count):
        category = CATEGORIES[index % len(CATEGORIES)]
        names = _PRODUCTS[category]
        base_name = names[(index // len(CATEGORIES)) % len(names)]
        series = index // (len(CATEGORIES) * len(names))
        name = base_name if series == 0 else f"{base_name} No. {series + 1}"
        item_id = upper_id(seed, 24, "item", merchant_id, index)
        created_at = history_start - timedelta(
            days=rng.randint(30, 400), seconds=rng.randint(0, 86399)
        )
        if index >= 4 and rng.random() < 0.15:
            created_at = history_start + span * rng.uniform(0.1, 0.7)
        deleted_at = None
        if index >= 4 and rng.random() < 0.06:
            deleted_at = max(created_at, history_start) + span * rng.uniform(0.2, 0.5)
        renamed_at, new_name = None, None
        if rng.random() < 0.1:
            renamed_at = max(created_at, history_start) + span * rng.uniform(0.1, 0.6)
            new_name = f"{name} (New Recipe)"
        weighted = category == WEIGHT_CATEGORY
        sizes = _SIZES[:1] if weighted else _SIZES[: rng.choice((1, 1, 2, 3))]
        variations = []
        for ordinal, (size, factor) in enumerate(sizes, start=1):
            variation_id = upper_id(seed, 24, "variation", merchant_id, index, ordinal)
            price = _price_minor(rng, category, currency, factor)
            prices = [PricePoint(created_at, price)]
            if rng.random() < 0.3:
                changed = max(created_at, history_start) + span * rng.uniform(0.05, 0.9)
                prices.append(PricePoint(changed, int(price * rng.choice((1.05, 1.1, 0.9)))))
            sku = f"{category[:3].upper()}-{index:04d}-{size[0]}"
            variations.append(
                Variation(
                    id=variation_id,
                    item_id=item_id,
                    name="per unit weight" if weighted else size,
                    sku=sku,
                    ordinal=ordinal,
                    sold_by_weight=weighted,
                    prices=tuple(prices),
                )
            )
        items.append(
            Item(
                id=item_id,
                merchant_id=merchant_id,
                name=name,
                new_name=new_name,
                renamed_at=renamed_at,
                category_id=by_name[category].id,
                taxable=category not in ("Produce", "Pantry"),
                created_at=created_at,
                deleted_at=deleted_at,
                variations=tuple(variations),
            )
        )
    return tuple(items)
