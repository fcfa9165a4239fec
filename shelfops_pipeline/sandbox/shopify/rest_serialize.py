"""Shopify objects as the legacy REST Admin API and webhook payloads write them.

Shapes follow Shopify's REST reference examples (api-notes section 7): integer ids, money as
decimal strings with the currency's own decimals, timestamps in the shop's UTC offset, `tags` as
a comma string. Orders are written by `rest_orders`.
"""

from datetime import datetime
from decimal import Decimal
from typing import Any

from shelfops_pipeline.sandbox.shopify.model import (
    InventoryLevel,
    ShopifyLocation,
    ShopifyProduct,
    ShopifyVariant,
    rest_amount,
    rest_datetime,
)
from shelfops_pipeline.sandbox.world.config import minor_unit_digits
from shelfops_pipeline.sandbox.world.entities import Shop
from shelfops_pipeline.sandbox.world.ids import numeric_id
from shelfops_pipeline.sandbox.world.money import to_major

JsonObject = dict[str, Any]
COUNTRY_NAMES = {
    "AU": "Australia", "CA": "Canada", "GB": "United Kingdom", "JP": "Japan",
    "US": "United States",
}  # fmt: skip


def select_fields(objects: list[JsonObject], fields: tuple[str, ...] | None) -> list[JsonObject]:
    """REST's `fields=`: keep only the named top-level fields, in each object's own order."""
    if not fields:
        return objects
    wanted = set(fields)
    return [{k: v for k, v in obj.items() if k in wanted} for obj in objects]


class RestSerializer:
    """Writes one shop's objects; timestamps in the shop's zone."""

    def __init__(self, seed: int, shop: Shop) -> None:
        self.seed = seed
        self.shop = shop

    def at(self, moment: datetime | None) -> str | None:
        return rest_datetime(moment, self.shop.timezone) if moment is not None else None

    def major(self, minor: int) -> Decimal:
        return to_major(minor, minor_unit_digits(self.shop.currency))

    def amount(self, minor: int) -> str:
        return rest_amount(self.major(minor), self.shop.currency)

    # Shop and locations ------------------------------------------------------------------

    def shop_object(self, primary_location_id: int | None) -> JsonObject:
        shop = self.shop
        return {
            "id": shop.numeric_id,
            "name": shop.name,
            "email": f"owner@{shop.handle}.example",
            "domain": shop.domain,
            "country": shop.country,
            "country_code": shop.country,
            "country_name": COUNTRY_NAMES.get(shop.country, shop.country),
            "created_at": self.at(shop.created_at),
            "updated_at": self.at(shop.created_at),
            "currency": shop.currency,
            "enabled_presentment_currencies": [shop.currency],
            "iana_timezone": shop.timezone,
            "timezone": shop.timezone,
            "shop_owner": f"{shop.name} Owner",
            "money_format": "{{amount}}",
            "weight_unit": "kg",
            "taxes_included": False,
            "plan_name": "basic",
            "plan_display_name": "Basic",
            "myshopify_domain": shop.domain,
            "primary_locale": "en",
            "primary_location_id": primary_location_id,
            "multi_location_enabled": True,
            "has_storefront": True,
            "setup_required": False,
            "admin_graphql_api_id": f"gid://shopify/Shop/{shop.numeric_id}",
        }

    def location(self, location: ShopifyLocation) -> JsonObject:
        store = location.store
        return {
            "id": location.id,
            "name": location.name,
            "address1": None,
            "address2": None,
            "city": store.city or None,
            "zip": None,
            "province": None,
            "country": store.country,
            "phone": None,
            "created_at": self.at(location.created_at),
            "updated_at": self.at(location.created_at),
            "country_code": store.country,
            "country_name": COUNTRY_NAMES.get(store.country, store.country),
            "province_code": None,
            "legacy": False,
            "active": True,
            "admin_graphql_api_id": location.gid,
        }

    # Products and inventory --------------------------------------------------------------

    def product(self, product: ShopifyProduct, available: dict[int, int]) -> JsonObject:
        """`available` maps inventory item id -> units available over all locations."""
        variants = [
            self.variant(v, available.get(v.inventory_item_id, 0)) for v in product.variants
        ]
        option_id = numeric_id(self.seed, 13, "ProductOption", product.item.id)
        return {
            "id": product.id,
            "title": product.title,
            "body_html": "",
            "vendor": self.shop.name,
            "product_type": product.product_type,
            "created_at": self.at(product.created_at),
            "handle": product.handle,
            "updated_at": self.at(product.updated_at),
            "published_at": self.at(product.created_at),
            "template_suffix": None,
            "published_scope": "global",
            "tags": "",
            "status": "active",
            "admin_graphql_api_id": product.gid,
            "variants": variants,
            "options": [
                {
                    "id": option_id,
                    "product_id": product.id,
                    "name": "Size",
                    "position": 1,
                    "values": [v.title for v in product.variants],
                }
            ],
            "images": [],
            "image": None,
        }

    def variant(self, variant: ShopifyVariant, available: int) -> JsonObject:
        return {
            "id": variant.id,
            "product_id": variant.product_id,
            "title": variant.title,
            "price": self.amount(variant.price_minor),
            "position": variant.position,
            "inventory_policy": "deny",
            "compare_at_price": None,
            "option1": variant.title,
            "option2": None,
            "option3": None,
            "created_at": self.at(variant.created_at),
            "updated_at": self.at(variant.updated_at),
            "taxable": True,
            "barcode": None,
            "sku": variant.sku,
            "inventory_item_id": variant.inventory_item_id,
            "inventory_quantity": available,
            "old_inventory_quantity": available,
            "admin_graphql_api_id": variant.gid,
            "image_id": None,
        }

    def inventory_level(self, level: InventoryLevel) -> JsonObject:
        return {
            "inventory_item_id": level.inventory_item_id,
            "location_id": level.location_id,
            "available": level.quantities["available"],
            "updated_at": self.at(level.updated_at),
            "admin_graphql_api_id": level.gid,
        }
