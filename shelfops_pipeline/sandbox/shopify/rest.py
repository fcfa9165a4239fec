"""The legacy REST Admin API endpoints our peers still call: shop, locations, products,
inventory levels and orders (api-notes section 7).

Each handler takes the authenticated call and the query and returns the body and its headers;
the app adds authentication, version, the leaky bucket and error replies. Products come in id
order; `products.json` carries Shopify's deprecation header (measured on a real shop).
`inventory_levels.json` needs `inventory_item_ids` or `location_ids` (422 otherwise, up to 50
ids each) and lists levels by inventory item, then location.
"""

from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, TypeVar
from zoneinfo import ZoneInfo

from starlette.datastructures import URL

from shelfops_pipeline.sandbox.shopify.admin_errors import AdminApiError
from shelfops_pipeline.sandbox.shopify.model import ShopifyProduct, ShopifyView
from shelfops_pipeline.sandbox.shopify.rest_order_list import OrderQuery, parse_ids, parse_instant
from shelfops_pipeline.sandbox.shopify.rest_orders import OrderSerializer
from shelfops_pipeline.sandbox.shopify.rest_paging import (
    Direction,
    ListRequest,
    Page,
    SortKey,
    link_header,
    list_request,
    page_of,
    parse_fields,
)
from shelfops_pipeline.sandbox.shopify.rest_serialize import (
    JsonObject,
    RestSerializer,
    select_fields,
)
from shelfops_pipeline.sandbox.shopify.shops import AdminCall

T = TypeVar("T")
PRODUCT_DEPRECATION = "https://shopify.dev/api/admin-rest/latest/resources/product"
MAX_IDS_PER_FILTER = 50


@dataclass(frozen=True)
class RestReply:
    body: JsonObject
    headers: dict[str, str] = field(default_factory=dict)


RestHandler = Callable[[AdminCall, Mapping[str, str], URL], RestReply]


def in_sorted(items: list[T], key: Callable[[T], SortKey]) -> Callable[..., Iterable[T]]:
    """`ordered` for page_of over a list already in display (ascending key) order."""

    def ordered(direction: Direction, after: SortKey | None) -> Iterable[T]:
        if after is None:
            return items if direction == "next" else []
        if direction == "next":
            return (i for i in items if key(i) > after)
        return (i for i in reversed(items) if key(i) < after)

    return ordered


def _listed(
    name: str, items: list[JsonObject], url: URL, request: ListRequest, page: Page[Any]
) -> RestReply:
    link = link_header(url, page, request)
    return RestReply({name: select_fields(items, request.fields)}, {"Link": link} if link else {})


class RestApi:
    """The REST handlers over one world's Shopify view."""

    def __init__(self, view: ShopifyView) -> None:
        self.view = view

    def handlers(self) -> dict[str, tuple[str | None, RestHandler]]:
        """Resource path (after /admin/api/{version}/) -> (scope it needs, handler)."""
        return {
            "shop.json": (None, self.shop),
            "locations.json": ("read_locations", self.locations),
            "products.json": ("read_products", self.products),
            "inventory_levels.json": ("read_inventory", self.inventory_levels),
            "orders.json": ("read_orders", self.orders),
        }

    def shop(self, call: AdminCall, params: Mapping[str, str], url: URL) -> RestReply:
        locations = self.view.locations(call.shop)
        primary = min((loc.id for loc in locations), default=None)
        body = RestSerializer(self.view.seed, call.shop).shop_object(primary)
        return RestReply({"shop": select_fields([body], parse_fields(params))[0]})

    def locations(self, call: AdminCall, params: Mapping[str, str], url: URL) -> RestReply:
        writer = RestSerializer(self.view.seed, call.shop)
        locations = sorted(self.view.locations(call.shop), key=lambda loc: loc.id)
        body = [writer.location(loc) for loc in locations]
        return RestReply({"locations": select_fields(body, parse_fields(params))})

    def products(self, call: AdminCall, params: Mapping[str, str], url: URL) -> RestReply:
        request = list_request(params)
        products = [
            p for p in self.view.products(call.shop, call.at) if _product_matches(p, request, call)
        ]
        since = parse_ids(request.filters, "since_id")
        if since:
            products = [p for p in products if p.id > min(since)]
        page = page_of(in_sorted(products, lambda p: (p.id, p.id)), lambda p: (p.id, p.id), request)
        available = self._available(call)
        writer = RestSerializer(self.view.seed, call.shop)
        items = [writer.product(p, available) for p in page.items]
        reply = _listed("products", items, url, request, page)
        reply.headers["X-Shopify-API-Deprecated-Reason"] = PRODUCT_DEPRECATION
        return reply

    def _available(self, call: AdminCall) -> dict[int, int]:
        totals: dict[int, int] = {}
        for level in self.view.inventory_levels(call.shop, call.at):
            item = level.inventory_item_id
            totals[item] = totals.get(item, 0) + level.quantities["available"]
        return totals

    def inventory_levels(self, call: AdminCall, params: Mapping[str, str], url: URL) -> RestReply:
        request = list_request(params)
        filters = request.filters
        location_ids = parse_ids(filters, "location_ids")
        item_ids = parse_ids(filters, "inventory_item_ids")
        if location_ids is None and item_ids is None:
            raise AdminApiError(
                422, "Must specify at least one of inventory_item_ids or location_ids"
            )
        for name, ids in (("location_ids", location_ids), ("inventory_item_ids", item_ids)):
            if ids is not None and len(ids) > MAX_IDS_PER_FILTER:
                raise AdminApiError(422, {name: f"must have at most {MAX_IDS_PER_FILTER} ids"})
        since = parse_instant(filters, "updated_at_min", ZoneInfo(call.shop.timezone))
        levels = [
            level
            for level in self.view.inventory_levels(call.shop, call.at, location_ids, item_ids)
            if since is None or level.updated_at >= since
        ]

        def key(level: Any) -> SortKey:
            return (level.inventory_item_id, level.location_id)

        page = page_of(in_sorted(levels, key), key, request)
        writer = RestSerializer(self.view.seed, call.shop)
        items = [writer.inventory_level(level) for level in page.items]
        return _listed("inventory_levels", items, url, request, page)

    def orders(self, call: AdminCall, params: Mapping[str, str], url: URL) -> RestReply:
        request = list_request(params)
        query = OrderQuery(self.view, call, request.filters)
        page = page_of(query.ordered, query.key, request)
        writer = OrderSerializer(self.view.seed, call.shop)
        items = [writer.order(order) for order in page.items]
        return _listed("orders", items, url, request, page)


def _product_matches(product: ShopifyProduct, request: ListRequest, call: AdminCall) -> bool:
    filters = request.filters
    zone = ZoneInfo(call.shop.timezone)
    ids = parse_ids(filters, "ids")
    if ids is not None and product.id not in ids:
        return False
    lists = {
        "handle": product.handle,
        "product_type": product.product_type,
        "vendor": call.shop.name,
        "title": product.title,
        "status": "active",
        "published_status": "published",
    }
    for name, value in lists.items():
        wanted = filters.get(name)
        if wanted and wanted != "any" and value not in [w.strip() for w in wanted.split(",")]:
            return False
    if "collection_id" in filters:
        return False
    times: dict[str, datetime] = {
        "created_at": product.created_at,
        "updated_at": product.updated_at,
        "published_at": product.created_at,
    }
    for name, value in times.items():
        low, high = (
            parse_instant(filters, f"{name}_min", zone),
            parse_instant(filters, f"{name}_max", zone),
        )
        if (low is not None and value < low) or (high is not None and value > high):
            return False
    return True
