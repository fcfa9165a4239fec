"""The query and mutation roots: lookups by id, the top-level connections, counts, bulk roots."""

from collections.abc import Callable
from typing import Any

from shelfops_pipeline.sandbox.shopify.catalog_objects import (
    AppInstallationObject,
    InventoryItemObject,
    LocationObject,
    ProductObject,
    ShopObject,
    VariantObject,
    count,
    inventory_item_connection,
    inventory_level_by_gid,
    location_connection,
    product_connection,
    variant_connection,
)
from shelfops_pipeline.sandbox.shopify.context import (
    Connection,
    Info,
    RequestContext,
    numeric_id_argument,
)
from shelfops_pipeline.sandbox.shopify.errors import ShopifyGraphQLError
from shelfops_pipeline.sandbox.shopify.model import parse_gid
from shelfops_pipeline.sandbox.shopify.order_objects import OrderObject, order_connection
from shelfops_pipeline.sandbox.shopify.webhook_objects import (
    create_subscription,
    delete_subscription,
    find_subscription,
    subscription_connection,
)
from shelfops_pipeline.sandbox.shopify.webhook_topics import WEBHOOK_TOPICS

ACCESS_SCOPES_DOCS = "https://shopify.dev/api/usage/access-scopes"
# The access scope each root field and each node type needs (write scopes include read ones).
FIELD_SCOPES = {
    "location": "read_locations", "locations": "read_locations", "locationsCount": "read_locations",
    "product": "read_products", "products": "read_products", "productsCount": "read_products",
    "productVariant": "read_products", "productVariants": "read_products",
    "productVariantsCount": "read_products", "inventoryItem": "read_inventory",
    "inventoryItems": "read_inventory", "inventoryLevel": "read_inventory",
    "order": "read_orders", "orders": "read_orders", "ordersCount": "read_orders",
}  # fmt: skip
NODE_SCOPES = {
    "Location": "read_locations", "Product": "read_products", "ProductVariant": "read_products",
    "InventoryItem": "read_inventory", "InventoryLevel": "read_inventory", "Order": "read_orders",
}  # fmt: skip


def _counted(connection: Connection[Any], limit: int | None) -> dict[str, Any]:
    return count(connection.count(), limit)


def require_scope(context: RequestContext, field: str, scope: str) -> None:
    """Shopify's ACCESS_DENIED when the caller's token lacks `scope`."""
    scopes = context.access_scopes
    if scope in scopes or scope.replace("read_", "write_", 1) in scopes:
        return
    required = f"`{scope}` access scope."
    raise ShopifyGraphQLError(
        f"Access denied for {field} field. Required access: {required}",
        "ACCESS_DENIED",
        documentation=ACCESS_SCOPES_DOCS,
        requiredAccess=required,
    )


class QueryRoot:
    """Root value of queries; also the root of bulk operation queries."""

    def __init__(self, context: RequestContext) -> None:
        self._context = context

    def shop(self, info: Info) -> ShopObject:
        return ShopObject(self._context)

    def currentAppInstallation(self, info: Info) -> AppInstallationObject:
        return AppInstallationObject(self._context)

    def node(self, info: Info, id: str) -> Any:
        return self._lookup(id)

    def nodes(self, info: Info, ids: list[str]) -> list[Any]:
        return [self._lookup(i) for i in ids]

    def _lookup(self, value: str) -> Any:
        parsed = parse_gid(value)
        if parsed is None:
            numeric_id_argument(value)
            return None
        kind, number = parsed
        if kind in NODE_SCOPES:
            require_scope(self._context, "node", NODE_SCOPES[kind])
        finders: dict[str, Callable[[], Any]] = {
            "Shop": lambda: (
                ShopObject(self._context) if number == self._context.shop.numeric_id else None
            ),
            "Location": lambda: self._location(number),
            "Product": lambda: self._product(number),
            "ProductVariant": lambda: self._variant(number),
            "InventoryItem": lambda: self._inventory_item(number),
            "InventoryLevel": lambda: inventory_level_by_gid(self._context, value),
            "Order": lambda: self._order(number),
            "BulkOperation": lambda: self._context.bulk.find(self._context.shop, number),
            "WebhookSubscription": lambda: find_subscription(self._context, number),
        }
        finder = finders.get(kind)
        return finder() if finder else None

    def _location(self, number: int) -> LocationObject | None:
        context = self._context
        location = context.view.location(context.shop, number)
        return LocationObject(context, location) if location else None

    def _product(self, number: int) -> ProductObject | None:
        context = self._context
        product = context.view.product(context.shop, number, context.at)
        return ProductObject(context, product) if product else None

    def _variant(self, number: int) -> VariantObject | None:
        context = self._context
        variant = context.view.variant(context.shop, number, context.at)
        return VariantObject(context, variant) if variant else None

    def _inventory_item(self, number: int) -> InventoryItemObject | None:
        context = self._context
        variant = context.view.inventory_item(context.shop, number, context.at)
        return InventoryItemObject(context, variant) if variant else None

    def _order(self, number: int) -> OrderObject | None:
        context = self._context
        order = context.view.order(context.shop, number, context.at)
        return OrderObject(context, order) if order else None

    def _by_id(self, value: str, kind: str, find: Callable[[int], Any]) -> Any:
        number = numeric_id_argument(value, kind)
        return find(number) if number is not None else None

    def location(self, info: Info, id: str | None = None) -> LocationObject | None:
        require_scope(self._context, "location", FIELD_SCOPES["location"])
        if id is None:
            locations = self._context.view.locations(self._context.shop)
            primary = next((loc for loc in locations if loc.store.kind == "warehouse"), None)
            return LocationObject(self._context, primary) if primary else None
        return self._by_id(id, "Location", self._location)

    def locations(self, info: Info, **arguments: Any) -> Connection[Any]:
        require_scope(self._context, "locations", FIELD_SCOPES["locations"])
        return location_connection(self._context, arguments)

    def locationsCount(self, info: Info, query: str | None = None) -> dict[str, Any]:
        require_scope(self._context, "locationsCount", FIELD_SCOPES["locationsCount"])
        return _counted(location_connection(self._context, {"query": query}, paged=False), None)

    def product(self, info: Info, id: str) -> ProductObject | None:
        require_scope(self._context, "product", FIELD_SCOPES["product"])
        return self._by_id(id, "Product", self._product)

    def products(self, info: Info, **arguments: Any) -> Connection[Any]:
        require_scope(self._context, "products", FIELD_SCOPES["products"])
        return product_connection(self._context, arguments)

    def productsCount(self, info: Info, **arguments: Any) -> dict[str, Any]:
        require_scope(self._context, "productsCount", FIELD_SCOPES["productsCount"])
        connection = product_connection(
            self._context, {"query": arguments.get("query")}, paged=False
        )
        return _counted(connection, arguments.get("limit"))

    def productVariant(self, info: Info, id: str) -> VariantObject | None:
        require_scope(self._context, "productVariant", FIELD_SCOPES["productVariant"])
        return self._by_id(id, "ProductVariant", self._variant)

    def productVariants(self, info: Info, **arguments: Any) -> Connection[Any]:
        require_scope(self._context, "productVariants", FIELD_SCOPES["productVariants"])
        context = self._context
        return variant_connection(
            context, lambda: context.view.variants(context.shop, context.at), arguments
        )

    def productVariantsCount(self, info: Info, **arguments: Any) -> dict[str, Any]:
        require_scope(self._context, "productVariantsCount", FIELD_SCOPES["productVariantsCount"])
        context = self._context
        connection = variant_connection(
            context,
            lambda: context.view.variants(context.shop, context.at),
            {"query": arguments.get("query")},
            paged=False,
        )
        return _counted(connection, arguments.get("limit"))

    def inventoryItem(self, info: Info, id: str) -> InventoryItemObject | None:
        require_scope(self._context, "inventoryItem", FIELD_SCOPES["inventoryItem"])
        return self._by_id(id, "InventoryItem", self._inventory_item)

    def inventoryItems(self, info: Info, **arguments: Any) -> Connection[Any]:
        require_scope(self._context, "inventoryItems", FIELD_SCOPES["inventoryItems"])
        return inventory_item_connection(self._context, arguments)

    def inventoryLevel(self, info: Info, id: str) -> Any:
        require_scope(self._context, "inventoryLevel", FIELD_SCOPES["inventoryLevel"])
        return inventory_level_by_gid(self._context, id)

    def order(self, info: Info, id: str) -> OrderObject | None:
        require_scope(self._context, "order", FIELD_SCOPES["order"])
        return self._by_id(id, "Order", self._order)

    def orders(self, info: Info, **arguments: Any) -> Connection[Any]:
        require_scope(self._context, "orders", FIELD_SCOPES["orders"])
        return order_connection(self._context, arguments)

    def ordersCount(self, info: Info, **arguments: Any) -> dict[str, Any]:
        require_scope(self._context, "ordersCount", FIELD_SCOPES["ordersCount"])
        connection = order_connection(self._context, {"query": arguments.get("query")}, paged=False)
        return _counted(connection, arguments.get("limit"))

    def bulkOperation(self, info: Info, id: str) -> Any:
        context = self._context
        return self._by_id(id, "BulkOperation", lambda n: context.bulk.find(context.shop, n))

    def currentBulkOperation(self, info: Info, type: str = "QUERY") -> Any:
        return self._context.bulk.current(self._context.shop, type)

    def bulkOperations(self, info: Info, **arguments: Any) -> Connection[Any]:
        context = self._context
        return Connection(
            context,
            lambda: context.bulk.all_of(context.shop),
            lambda operation: (-operation.number, operation.number),
            lambda operation: operation,
            arguments,
        )

    def webhookSubscription(self, info: Info, id: str) -> Any:
        context = self._context
        return self._by_id(id, "WebhookSubscription", lambda n: find_subscription(context, n))

    def webhookSubscriptions(self, info: Info, **arguments: Any) -> Connection[Any]:
        return subscription_connection(self._context, arguments)


class MutationRoot:
    def __init__(self, context: RequestContext) -> None:
        self._context = context

    def bulkOperationRunQuery(
        self, info: Info, query: str, groupObjects: bool | None = None
    ) -> dict[str, Any]:
        return self._context.bulk.run_query(self._context, query, groupObjects)

    def bulkOperationCancel(self, info: Info, id: str) -> dict[str, Any]:
        number = numeric_id_argument(id, "BulkOperation")
        if number is None:
            return {
                "bulkOperation": None,
                "userErrors": [{"field": ["id"], "message": "Bulk operation does not exist"}],
            }
        return self._context.bulk.cancel(self._context.shop, number)

    def webhookSubscriptionCreate(
        self, info: Info, topic: str, webhookSubscription: dict[str, Any]
    ) -> dict[str, Any]:
        # Shopify refuses a topic whose data the token cannot read as a top-level ACCESS_DENIED.
        scope = WEBHOOK_TOPICS[topic].scope
        if scope is not None:
            require_scope(self._context, "webhookSubscriptionCreate", scope)
        return create_subscription(self._context, topic, webhookSubscription)

    def webhookSubscriptionDelete(self, info: Info, id: str) -> dict[str, Any]:
        return delete_subscription(self._context, numeric_id_argument(id, "WebhookSubscription"))
