"""GraphQL objects for the shop, its locations, products, variants and inventory."""

from typing import Any
from zoneinfo import ZoneInfo

from shelfops_pipeline.sandbox.shopify.catalog_extras import (
    InventoryItemExtras,
    LocationExtras,
    ProductExtras,
    VariantExtras,
)
from shelfops_pipeline.sandbox.shopify.connections import id_key, time_value
from shelfops_pipeline.sandbox.shopify.context import (
    Connection,
    Info,
    RequestContext,
    numeric_id_argument,
)
from shelfops_pipeline.sandbox.shopify.errors import ShopifyGraphQLError, invalid_id_error
from shelfops_pipeline.sandbox.shopify.model import (
    PRESENTMENT_RATES,
    QUANTITY_NAMES,
    InventoryLevel,
    ShopifyLocation,
    ShopifyProduct,
    ShopifyVariant,
    gid,
    graphql_datetime,
    parse_gid,
    rest_amount,
)
from shelfops_pipeline.sandbox.shopify.search import SearchFields
from shelfops_pipeline.sandbox.world.entities import Shop
from shelfops_pipeline.sandbox.world.ids import numeric_id

_POUND_COUNTRIES = frozenset({"US"})


def count(value: int, limit: int | None = None) -> dict[str, Any]:
    """A `Count`: exact, or capped at `limit` with precision AT_LEAST."""
    if limit is not None and value > limit:
        return {"count": limit, "precision": "AT_LEAST"}
    return {"count": value, "precision": "EXACT"}


def weight_unit(shop: Shop) -> str:
    return "POUNDS" if shop.country in _POUND_COUNTRIES else "KILOGRAMS"


class ShopObject:
    graphql_type = "Shop"

    def __init__(self, context: RequestContext) -> None:
        shop, at = context.shop, context.at
        local = at.astimezone(ZoneInfo(shop.timezone))
        offset = local.utcoffset()
        minutes = int(offset.total_seconds() // 60) if offset else 0
        sign = "+" if minutes >= 0 else "-"
        presented = PRESENTMENT_RATES.get(shop.currency, (shop.currency, 1))[0]
        self.id = gid("Shop", shop.numeric_id)
        self.name = shop.name
        self.email = f"owner@{shop.domain}"
        self.contactEmail = f"hello@{shop.domain}"
        self.description = None
        self.myshopifyDomain = shop.domain
        self.url = f"https://{shop.domain}"
        self.ianaTimezone = shop.timezone
        self.timezoneAbbreviation = local.tzname()
        self.timezoneOffset = f"{sign}{abs(minutes) // 60:02d}{abs(minutes) % 60:02d}"
        self.timezoneOffsetMinutes = minutes
        self.currencyCode = shop.currency
        self.enabledPresentmentCurrencies = sorted({shop.currency, presented})
        self.taxesIncluded = False
        self.taxShipping = False
        self.weightUnit = weight_unit(shop)
        self.createdAt = graphql_datetime(shop.created_at)
        self.updatedAt = graphql_datetime(shop.created_at)
        self.primaryDomain = {
            "id": gid("Domain", shop.numeric_id),
            "host": shop.domain,
            "url": f"https://{shop.domain}",
            "sslEnabled": True,
        }
        self.plan = {
            "displayName": "Basic",
            "partnerDevelopment": False,
            "shopifyPlus": False,
            "publicDisplayName": "Basic",
        }
        self.billingAddress = {
            "id": gid("ShopAddress", shop.numeric_id),
            "address1": None,
            "address2": None,
            "city": None,
            "country": shop.country,
            "countryCodeV2": shop.country,
            "province": None,
            "provinceCode": None,
            "zip": None,
            "phone": None,
            "formatted": [shop.country],
        }


class AppInstallationObject:
    graphql_type = "AppInstallation"

    def __init__(self, context: RequestContext) -> None:
        number = context.shop.numeric_id
        self.id = gid("AppInstallation", number)
        self.accessScopes = [
            {"handle": scope, "description": f"Access to {scope.replace('_', ' ')}."}
            for scope in context.access_scopes
        ]
        self.app = {"id": gid("App", 1), "title": "ShelfOps", "handle": "shelfops", "apiKey": ""}
        self.launchUrl = f"https://{context.shop.domain}/admin/apps/shelfops"


class LocationObject(LocationExtras):
    graphql_type = "Location"

    def __init__(self, context: RequestContext, location: ShopifyLocation) -> None:
        self._context = context
        self._location = location
        store = location.store
        warehouse = store.kind == "warehouse"
        self.id = location.gid
        self.legacyResourceId = str(location.id)
        self.name = location.name
        self.isActive = True
        self.isPrimary = warehouse
        self.activatable = False
        self.deactivatable = not warehouse
        self.deletable = False
        self.deactivatedAt = None
        self.fulfillsOnlineOrders = warehouse
        self.hasActiveInventory = True
        self.hasUnfulfilledOrders = False
        self.isFulfillmentService = False
        self.shipsInventory = warehouse
        self.createdAt = graphql_datetime(location.created_at)
        self.updatedAt = graphql_datetime(location.created_at)
        self.addressVerified = False
        self.address = {
            "latitude": None,
            "longitude": None,
            "address1": None,
            "address2": None,
            "city": store.city or None,
            "country": store.country,
            "countryCode": store.country,
            "province": None,
            "provinceCode": None,
            "zip": None,
            "phone": None,
            "formatted": [part for part in (store.city, store.country) if part],
        }

    def inventoryLevel(self, info: Info, inventoryItemId: str) -> Any:
        context = self._context
        number = numeric_id_argument(inventoryItemId, "InventoryItem")
        variant = context.view.inventory_item(context.shop, number, context.at) if number else None
        if variant is None:
            return None
        return InventoryLevelObject(
            context, context.view.inventory_level(variant, self._location, context.at)
        )

    def inventoryLevels(self, info: Info, **arguments: Any) -> Connection[InventoryLevel]:
        context = self._context
        return inventory_level_connection(
            context,
            lambda: context.view.inventory_levels(
                context.shop, context.at, location_ids=[self._location.id]
            ),
            arguments,
            key=lambda level: id_key(level.inventory_item_id),
        )


def location_connection(
    context: RequestContext, arguments: dict[str, Any], paged: bool = True
) -> Connection[Any]:
    sort = arguments.get("sortKey") or "NAME"

    def key(location: ShopifyLocation) -> tuple[str | int, int]:
        return (location.name, location.id) if sort == "NAME" else id_key(location.id)

    search = SearchFields(
        fields={
            "id": lambda loc: loc.id,
            "name": lambda loc: loc.name,
            "created_at": lambda loc: loc.created_at,
        },
        timezone=context.shop.timezone,
        text=lambda loc: loc.name,
    )
    return Connection(
        context,
        lambda: context.view.locations(context.shop),
        key,
        lambda location: LocationObject(context, location),
        arguments,
        search,
        paged,
    )


class ProductObject(ProductExtras):
    graphql_type = "Product"

    def __init__(self, context: RequestContext, product: ShopifyProduct) -> None:
        self._context = context
        self._product = product
        self.id = product.gid
        self.legacyResourceId = str(product.id)
        self.title = product.title
        self.handle = product.handle
        self.status = "ACTIVE"
        self.vendor = context.shop.name
        self.productType = product.product_type
        self.tags = [product.product_type.lower()] if product.product_type else []
        self.descriptionHtml = ""
        self.createdAt = graphql_datetime(product.created_at)
        self.updatedAt = graphql_datetime(product.updated_at)
        self.publishedAt = graphql_datetime(product.created_at)
        self.tracksInventory = True
        self.hasOnlyDefaultVariant = len(product.variants) == 1
        self.variantsCount = count(len(product.variants))
        self.templateSuffix = None
        self.onlineStorePreviewUrl = f"https://{context.shop.domain}/products/{product.handle}"
        self.requiresSellingPlan = False
        self.isGiftCard = False
        self.combinedListingRole = None
        self.seo = {"title": None, "description": None}

    def options(self, info: Info, first: int | None = None) -> list[dict[str, Any]]:
        option = numeric_id(self._context.view.seed, 13, "ProductOption", self._product.item.id)
        titles = [v.title for v in self._product.variants]
        values = [
            {"id": gid("ProductOptionValue", option * 100 + n), "name": t, "hasVariants": True}
            for n, t in enumerate(titles)
        ]
        options = [
            {
                "id": gid("ProductOption", option),
                "name": "Title",
                "position": 1,
                "values": titles,
                "optionValues": values,
            }
        ]
        return options[:first] if first is not None else options

    def description(self, info: Info, truncateAt: int | None = None) -> str:
        return ""

    def totalInventory(self, info: Info) -> int:
        return sum(_available(self._context, v) for v in self._product.variants)

    def variants(self, info: Info, **arguments: Any) -> Connection[ShopifyVariant]:
        context = self._context
        return variant_connection(context, lambda: self._product.variants, arguments, "POSITION")


def _available(context: RequestContext, variant: ShopifyVariant) -> int:
    return sum(
        context.view.inventory_level(variant, location, context.at).quantities["available"]
        for location in context.view.locations(context.shop)
    )


def product_connection(
    context: RequestContext, arguments: dict[str, Any], paged: bool = True
) -> Connection[Any]:
    sort = arguments.get("sortKey") or "ID"

    def key(product: ShopifyProduct) -> tuple[str | int, int]:
        if sort == "TITLE":
            return (product.title, product.id)
        if sort in ("CREATED_AT", "PUBLISHED_AT"):
            return (time_value(product.created_at), product.id)
        if sort == "UPDATED_AT":
            return (time_value(product.updated_at), product.id)
        if sort == "PRODUCT_TYPE":
            return (product.product_type, product.id)
        return id_key(product.id)

    search = SearchFields(
        fields={
            "id": lambda p: p.id,
            "title": lambda p: p.title,
            "handle": lambda p: p.handle,
            "product_type": lambda p: p.product_type,
            "status": lambda p: "active",
            "sku": lambda p: [v.sku for v in p.variants],
            "created_at": lambda p: p.created_at,
            "updated_at": lambda p: p.updated_at,
            "published_at": lambda p: p.created_at,
        },
        timezone=context.shop.timezone,
        text=lambda p: p.title,
    )
    return Connection(
        context,
        lambda: context.view.products(context.shop, context.at),
        key,
        lambda product: ProductObject(context, product),
        arguments,
        search,
        paged,
    )


class VariantObject(VariantExtras):
    graphql_type = "ProductVariant"

    def __init__(self, context: RequestContext, variant: ShopifyVariant) -> None:
        self._context = context
        self._variant = variant
        product = context.view.product(context.shop, variant.product_id, context.at)
        self._product_title = product.title if product else ""
        self.id = variant.gid
        self.legacyResourceId = str(variant.id)
        self.title = variant.title
        self.displayName = f"{self._product_title} - {variant.title}"
        self.sku = variant.sku
        self.barcode = None
        self.price = rest_amount(variant.price, variant.currency)
        self.compareAtPrice = None
        self.position = variant.position
        self.taxable = product.item.taxable if product else True
        self.availableForSale = True
        self.inventoryPolicy = "DENY"
        self.createdAt = graphql_datetime(variant.created_at)
        self.updatedAt = graphql_datetime(variant.updated_at)
        self.selectedOptions = [{"name": "Title", "value": variant.title}]

    def inventoryQuantity(self, info: Info) -> int:
        return _available(self._context, self._variant)

    def product(self, info: Info) -> ProductObject | None:
        context = self._context
        product = context.view.product(context.shop, self._variant.product_id, context.at)
        return ProductObject(context, product) if product else None

    def inventoryItem(self, info: Info) -> "InventoryItemObject":
        return InventoryItemObject(self._context, self._variant)


def variant_connection(
    context: RequestContext,
    variants: Any,
    arguments: dict[str, Any],
    default_sort: str = "ID",
    paged: bool = True,
) -> Connection[ShopifyVariant]:
    sort = arguments.get("sortKey") or default_sort

    def key(variant: ShopifyVariant) -> tuple[str | int, int]:
        if sort == "SKU":
            return (variant.sku, variant.id)
        if sort in ("TITLE", "NAME", "FULL_TITLE"):
            return (variant.title, variant.id)
        if sort == "POSITION":
            return (variant.position, variant.id)
        return id_key(variant.id)

    search = SearchFields(
        fields={
            "id": lambda v: v.id,
            "sku": lambda v: v.sku,
            "title": lambda v: v.title,
            "product_id": lambda v: v.product_id,
            "created_at": lambda v: v.created_at,
            "updated_at": lambda v: v.updated_at,
        },
        timezone=context.shop.timezone,
        text=lambda v: v.title,
    )
    return Connection(
        context, variants, key, lambda v: VariantObject(context, v), arguments, search, paged
    )


class InventoryItemObject(InventoryItemExtras):
    graphql_type = "InventoryItem"

    def __init__(self, context: RequestContext, variant: ShopifyVariant) -> None:
        self._context = context
        self._variant = variant
        self.id = variant.inventory_item_gid
        self.legacyResourceId = str(variant.inventory_item_id)
        self.sku = variant.sku
        self.tracked = True
        self.requiresShipping = True
        self.countryCodeOfOrigin = None
        self.provinceCodeOfOrigin = None
        self.harmonizedSystemCode = None
        self.createdAt = graphql_datetime(variant.created_at)
        self.updatedAt = graphql_datetime(variant.updated_at)
        self.unitCost = None
        self.measurement = {
            "id": gid("InventoryItemMeasurement", variant.inventory_item_id),
            "weight": {"unit": weight_unit(context.shop), "value": 0.0},
        }
        self.locationsCount = count(len(context.view.locations(context.shop)))

    def variant(self, info: Info) -> VariantObject:
        return VariantObject(self._context, self._variant)

    def inventoryLevel(self, info: Info, locationId: str) -> Any:
        context = self._context
        number = numeric_id_argument(locationId, "Location")
        location = context.view.location(context.shop, number) if number else None
        if location is None:
            return None
        return InventoryLevelObject(
            context, context.view.inventory_level(self._variant, location, context.at)
        )

    def inventoryLevels(self, info: Info, **arguments: Any) -> Connection[InventoryLevel]:
        context = self._context
        return inventory_level_connection(
            context,
            lambda: context.view.inventory_levels(
                context.shop, context.at, inventory_item_ids=[self._variant.inventory_item_id]
            ),
            arguments,
            key=lambda level: id_key(level.location_id),
        )


def inventory_item_connection(
    context: RequestContext, arguments: dict[str, Any]
) -> Connection[ShopifyVariant]:
    search = SearchFields(
        fields={
            "id": lambda v: v.inventory_item_id,
            "sku": lambda v: v.sku,
            "created_at": lambda v: v.created_at,
            "updated_at": lambda v: v.updated_at,
        },
        timezone=context.shop.timezone,
    )
    return Connection(
        context,
        lambda: context.view.variants(context.shop, context.at),
        lambda v: id_key(v.inventory_item_id),
        lambda v: InventoryItemObject(context, v),
        arguments,
        search,
    )


class InventoryLevelObject:
    graphql_type = "InventoryLevel"

    def __init__(self, context: RequestContext, level: InventoryLevel) -> None:
        self._context = context
        self._level = level
        self.id = level.gid
        self.isActive = True
        self.canDeactivate = False
        self.deactivationAlert = None
        self.createdAt = graphql_datetime(level.variant.created_at)
        self.updatedAt = graphql_datetime(level.updated_at)

    def item(self, info: Info) -> InventoryItemObject:
        return InventoryItemObject(self._context, self._level.variant)

    def location(self, info: Info) -> LocationObject | None:
        context = self._context
        location = context.view.location(context.shop, self._level.location_id)
        return LocationObject(context, location) if location else None

    def quantities(self, info: Info, names: list[str]) -> list[dict[str, Any]]:
        unknown = [n for n in names if n not in QUANTITY_NAMES]
        if unknown:
            raise ShopifyGraphQLError(
                f"The quantity names {', '.join(unknown)} are not valid. Valid names are: "
                f"{', '.join(QUANTITY_NAMES)}.",
                "BAD_REQUEST",
            )
        level = self._level
        return [
            {
                "id": f"gid://shopify/InventoryQuantity/{level.location_id}"
                f"?inventory_item_id={level.inventory_item_id}&name={name}",
                "name": name,
                "quantity": level.quantities[name],
                "updatedAt": graphql_datetime(level.updated_at),
            }
            for name in names
        ]


def inventory_level_connection(
    context: RequestContext,
    levels: Any,
    arguments: dict[str, Any],
    key: Any,
) -> Connection[InventoryLevel]:
    search = SearchFields(
        fields={
            "inventory_item_id": lambda level: level.inventory_item_id,
            "location_id": lambda level: level.location_id,
            "updated_at": lambda level: level.updated_at,
        },
        timezone=context.shop.timezone,
    )
    return Connection(
        context, levels, key, lambda level: InventoryLevelObject(context, level), arguments, search
    )


def inventory_level_by_gid(context: RequestContext, value: str) -> InventoryLevelObject | None:
    """`gid://shopify/InventoryLevel/<location>?inventory_item_id=<n>`."""
    parsed = parse_gid(value)
    if parsed is None:
        raise invalid_id_error(value)
    kind, location_id = parsed
    _, _, query = value.partition("?inventory_item_id=")
    if kind != "InventoryLevel" or not query.isdigit():
        return None
    location = context.view.location(context.shop, location_id)
    variant = context.view.inventory_item(context.shop, int(query), context.at)
    if location is None or variant is None:
        return None
    return InventoryLevelObject(
        context, context.view.inventory_level(variant, location, context.at)
    )
