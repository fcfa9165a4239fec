"""Catalog and location fields with nothing behind them in the world: no media, no categories,
no bundles, no harmonized codes, no pickup settings. Each mixin is shared with its object in
`catalog_objects.py` and resolves lazily from that object's state."""

from typing import Any

from shelfops_pipeline.sandbox.shopify.context import Connection, Info, RequestContext
from shelfops_pipeline.sandbox.shopify.model import ShopifyProduct, ShopifyVariant


def empty_connection(context: RequestContext, arguments: dict[str, Any]) -> Connection[Any]:
    return Connection(context, lambda: [], lambda item: (0, 0), lambda item: item, arguments)


def available_at(context: RequestContext, variant: ShopifyVariant, kinds: set[str]) -> int:
    """Units of `variant` available at the shop's locations of the given store kinds."""
    return sum(
        context.view.inventory_level(variant, location, context.at).quantities["available"]
        for location in context.view.locations(context.shop)
        if location.store.kind in kinds
    )


class ProductExtras:
    _context: RequestContext
    _product: ShopifyProduct

    def category(self, info: Info) -> None:
        return None

    def compareAtPriceRange(self, info: Info) -> None:
        return None

    def featuredMedia(self, info: Info) -> None:
        return None

    def giftCardTemplateSuffix(self, info: Info) -> None:
        return None

    def hasOutOfStockVariants(self, info: Info) -> bool:
        context = self._context
        everywhere = {"warehouse", "physical"}
        return any(available_at(context, v, everywhere) <= 0 for v in self._product.variants)

    def hasVariantsThatRequiresComponents(self, info: Info) -> bool:
        return False

    def media(self, info: Info, **arguments: Any) -> Connection[Any]:
        return empty_connection(self._context, arguments)


class VariantExtras:
    _context: RequestContext
    _variant: ShopifyVariant

    def image(self, info: Info) -> None:
        return None

    def requiresComponents(self, info: Info) -> bool:
        return False

    def sellableOnlineQuantity(self, info: Info) -> int:
        """Online orders ship from the warehouse, so only its stock sells online."""
        return max(0, available_at(self._context, self._variant, {"warehouse"}))

    def taxCode(self, info: Info) -> None:
        return None


class InventoryItemExtras:
    _context: RequestContext

    def countryHarmonizedSystemCodes(self, info: Info, **arguments: Any) -> Connection[Any]:
        return empty_connection(self._context, arguments)


class LocationExtras:
    def fulfillmentService(self, info: Info) -> None:
        return None

    def localPickupSettingsV2(self, info: Info) -> None:
        return None

    def suggestedAddresses(self, info: Info, locale: str | None = None) -> list[Any]:
        return []
