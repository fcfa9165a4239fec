"""The Shopify GraphQL Admin API client: typed shop, locations, variants and orders.

Every call goes through the shared HTTP layer (retries, breaker, logging) and is paced by query
cost (`pacing`): the limiter, fed by each reply's `throttleStatus`, waits before sending until
the shop's bucket holds the query's requested cost. Pages are yielded as they arrive.
"""

import logging
from collections.abc import AsyncIterator, Mapping, Sequence
from datetime import datetime
from typing import Any

import httpx

from shelfops_pipeline.http.client import ApiClient, AuthHeaders, CallKind, JsonReply
from shelfops_pipeline.http.errors import BadRequest
from shelfops_pipeline.http.paginate import graphql_pages
from shelfops_pipeline.sources.shopify import queries
from shelfops_pipeline.sources.shopify.models import (
    Location,
    MalformedRecord,
    Order,
    Shop,
    Variant,
    parse_location,
    parse_order,
    parse_shop,
    parse_variants,
)
from shelfops_pipeline.sources.shopify.pacing import (
    InFlight,
    QueryCosts,
    ReplyObserver,
    ledger_for,
)

logger = logging.getLogger(__name__)

# The one place the Shopify API version is pinned; replies are shaped by it.
API_VERSION = "2026-10"
SOURCE = "shopify"
GRAPHQL_PATH = f"/admin/api/{API_VERSION}/graphql.json"
# Shopify takes at most 250 objects per page and 250 ids per `nodes(ids:)`.
MAX_PAGE_SIZE = 250
NODES_PER_CALL = 100


def search_time(at: datetime) -> str:
    """An instant as Shopify's search syntax takes it, quoted."""
    return "'" + at.isoformat().replace("+00:00", "Z") + "'"


def order_search(updated_from: datetime, created_from: datetime, created_before: datetime) -> str:
    """Orders touched since `updated_from` (sold, paid, refunded, cancelled) and created in
    [created_from, created_before)."""
    return (
        f"updated_at:>={search_time(updated_from)} created_at:>={search_time(created_from)} "
        f"created_at:<{search_time(created_before)}"
    )


class ShopifyApiClient(ApiClient):
    """An `ApiClient` that spends each GraphQL query's requested cost from the points bucket."""

    def __init__(
        self,
        *,
        shop_domain: str,
        transport: httpx.AsyncBaseTransport | None = None,
        max_connections: int = 10,
        **options: Any,
    ) -> None:
        self.costs = QueryCosts(queries.REQUESTED_COSTS)
        limits = httpx.Limits(max_connections=max_connections)
        self.in_flight = InFlight(transport or httpx.AsyncHTTPTransport(limits=limits), self.costs)
        self.observer = ReplyObserver(shop_domain, API_VERSION, self.costs)
        super().__init__(
            source=SOURCE,
            account=shop_domain,
            on_response=self.observer,
            transport=self.in_flight,
            max_connections=max_connections,
            **options,
        )
        self.observer.limiter = self.limiter
        self.in_flight.ledger = ledger_for(self.limiter)

    async def request_json_reply(
        self,
        method: str,
        path: str,
        *,
        params: Mapping[str, Any] | None = None,
        json: Any = None,
        kind: CallKind = "read",
        cost: float = 1.0,
    ) -> JsonReply:
        cost = max(cost, self.costs.requested(json))
        return await super().request_json_reply(
            method, path, params=params, json=json, kind=kind, cost=cost
        )


def shopify_api_client(
    base_url: str, shop_domain: str, auth_headers: AuthHeaders, **options: Any
) -> ShopifyApiClient:
    """An `ApiClient` for one shop at `API_VERSION`; `options` go to ApiClient.

    `base_url` is `https://{shop}.myshopify.com`, or the sandbox's
    `http://127.0.0.1:PORT/shopify/{handle}`; `auth_headers` returns the
    `X-Shopify-Access-Token` header.
    """
    return ShopifyApiClient(
        shop_domain=shop_domain,
        base_url=base_url,
        auth_headers=auth_headers,
        headers={"Accept": "application/json", "Content-Type": "application/json"},
        **options,
    )


class ShopifyClient:
    """One shop's GraphQL Admin API; wraps an `ApiClient` from `shopify_api_client`."""

    def __init__(self, api: ApiClient, page_size: int = MAX_PAGE_SIZE) -> None:
        if not 1 <= page_size <= MAX_PAGE_SIZE:
            raise ValueError(f"page size {page_size} must be in 1..{MAX_PAGE_SIZE}")
        self.api = api
        self.page_size = page_size

    async def data(self, query: str, variables: Mapping[str, Any] | None = None) -> dict[str, Any]:
        """The `data` of one query; any GraphQL error fails it (partial data is never used)."""
        body = await self.api.request_json(
            "POST", GRAPHQL_PATH, json={"query": query, "variables": dict(variables or {})}
        )
        errors = body.get("errors") if isinstance(body, dict) else "no JSON object"
        if errors or not isinstance(body.get("data"), dict):
            raise self.api.error(
                BadRequest, "POST", GRAPHQL_PATH, detail=f"GraphQL errors: {errors}", status=200
            )
        return body["data"]

    async def shop(self) -> Shop:
        return parse_shop((await self.data(queries.SHOP))["shop"])

    async def shop_object(self) -> dict[str, Any]:
        """As `shop`, but Shopify's JSON."""
        return dict((await self.data(queries.SHOP))["shop"])

    async def pages(
        self, query: str, variables: Mapping[str, Any], connection: Sequence[str]
    ) -> AsyncIterator[list[dict[str, Any]]]:
        """The nodes of a paged connection, one page at a time."""
        async for page in graphql_pages(self.api, GRAPHQL_PATH, query, variables, connection):
            yield list(page.get("nodes") or ())

    async def location_objects(self) -> list[dict[str, Any]]:
        variables = {"first": self.page_size}
        return [
            node
            async for page in self.pages(queries.LOCATIONS, variables, ["locations"])
            for node in page
        ]

    async def locations(self) -> list[Location]:
        return [parse_location(obj) for obj in await self.location_objects()]

    async def product_objects(self) -> AsyncIterator[list[dict[str, Any]]]:
        """Every product with its variants, as Shopify's JSON."""
        variables = {"first": min(self.page_size, queries.PRODUCTS_PER_PAGE)}
        async for page in self.pages(queries.PRODUCTS, variables, ["products"]):
            yield page

    async def variants(self) -> AsyncIterator[list[Variant]]:
        async for page in self.product_objects():
            yield [variant for product in page for variant in parse_variants(product)]

    async def order_objects(
        self, updated_from: datetime, created_from: datetime, created_before: datetime
    ) -> AsyncIterator[list[dict[str, Any]]]:
        """Orders (lines and refunds nested) matching `order_search`, as Shopify's JSON."""
        variables = {
            "first": min(self.page_size, queries.ORDERS_PER_PAGE),
            "query": order_search(updated_from, created_from, created_before),
        }
        async for page in self.pages(queries.ORDERS, variables, ["orders"]):
            yield page

    async def orders(
        self, updated_from: datetime, created_from: datetime, created_before: datetime
    ) -> AsyncIterator[list[Order]]:
        async for page in self.order_objects(updated_from, created_from, created_before):
            yield [parse_order(obj) for obj in page]

    async def inventory_level_objects(
        self, location_gid: str
    ) -> AsyncIterator[list[dict[str, Any]]]:
        """The current stock levels at one location (Shopify keeps no history)."""
        variables = {"location": location_gid, "first": self.page_size}
        path = ["location", "inventoryLevels"]
        async for page in self.pages(queries.INVENTORY_LEVELS, variables, path):
            yield page

    async def order_refunds(self, order_ids: Sequence[str]) -> dict[str, list[dict[str, Any]]]:
        """Each order's refunds (line items nested), by order GID; a bulk export cannot nest
        them. An order the shop does not return fails the call."""
        found: dict[str, list[dict[str, Any]]] = {}
        for start in range(0, len(order_ids), NODES_PER_CALL):
            chunk = list(order_ids[start : start + NODES_PER_CALL])
            data = await self.data(queries.ORDER_REFUNDS, {"ids": chunk})
            for node in data.get("nodes") or ():
                if isinstance(node, dict) and node.get("id"):
                    found[node["id"]] = list(node.get("refunds") or ())
        missing = sorted(set(order_ids) - set(found))
        if missing:
            raise MalformedRecord(
                f"Shopify returned no refunds for orders {', '.join(missing[:3])} that the bulk "
                "export lists with refunds"
            )
        return found
