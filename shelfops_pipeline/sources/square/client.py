"""The Square API client: typed records from locations, catalog, inventory and orders.

Every call goes through the shared HTTP layer (limits, retries, breaker, logging). Pages are
yielded as they arrive, so a sync holds one page at a time, not the whole window.
"""

from collections.abc import AsyncIterator, Sequence
from datetime import datetime
from typing import Any

from shelfops_pipeline.http.client import ApiClient, AuthHeaders
from shelfops_pipeline.http.paginate import body_cursor_pages, query_cursor_pages
from shelfops_pipeline.sources.square.models import (
    InventoryChange,
    InventoryCount,
    Item,
    Location,
    Order,
    parse_change,
    parse_count,
    parse_item,
    parse_location,
    parse_order,
)

# The one place the Square API version is pinned; replies are shaped by it.
SQUARE_VERSION = "2025-08-20"
SOURCE = "square"
# SearchOrders takes at most 10 locations; BatchRetrieveOrders at most 100 ids.
MAX_LOCATIONS_PER_SEARCH = 10
MAX_ORDERS_PER_BATCH = 100
ORDER_FIELDS = {"created_at": "CREATED_AT", "updated_at": "UPDATED_AT", "closed_at": "CLOSED_AT"}


def _rfc3339(at: datetime) -> str:
    return at.isoformat().replace("+00:00", "Z")


def _chunks(values: Sequence[str], size: int) -> list[list[str]]:
    return [list(values[i : i + size]) for i in range(0, len(values), size)]


class SquareClient:
    """One merchant's Square API; wraps an `ApiClient` built with `SQUARE_VERSION` headers."""

    def __init__(self, api: ApiClient, page_size: int = 1000) -> None:
        self.api = api
        self.page_size = page_size

    async def locations(self) -> list[Location]:
        return [parse_location(obj) for obj in await self.location_objects()]

    async def location_objects(self) -> list[dict[str, Any]]:
        """As `locations`, but each location as Square's JSON."""
        reply = await self.api.request_json("GET", "/v2/locations")
        return list(reply.get("locations") or ())

    async def catalog_items(self) -> AsyncIterator[list[Item]]:
        """Every live item with its variations (ListCatalog; deleted items are not listed)."""
        async for page in query_cursor_pages(self.api, "/v2/catalog/list", {"types": "ITEM"}):
            yield [
                parse_item(obj) for obj in page.get("objects") or () if obj.get("type") == "ITEM"
            ]

    async def catalog_changes(self, since: datetime | None) -> AsyncIterator[list[Item]]:
        """Items changed after `since` (all when None), deleted ones included."""
        async for page in self.catalog_change_objects(since):
            yield [parse_item(obj) for obj in page]

    async def catalog_change_objects(
        self, since: datetime | None
    ) -> AsyncIterator[list[dict[str, Any]]]:
        """As `catalog_changes`, but each item (variations nested) as Square's JSON."""
        body: dict[str, Any] = {
            "object_types": ["ITEM"],
            "include_deleted_objects": True,
            "limit": 1000,
        }
        if since is not None:
            body["begin_time"] = _rfc3339(since)
        async for page in body_cursor_pages(self.api, "/v2/catalog/search", body):
            yield [obj for obj in page.get("objects") or () if obj.get("type") == "ITEM"]

    async def inventory_counts(
        self, location_ids: Sequence[str], states: Sequence[str] = ("IN_STOCK",)
    ) -> AsyncIterator[list[InventoryCount]]:
        """Current counts in `states`, each with the time of the change it reflects."""
        body = {"location_ids": list(location_ids), "states": list(states), "limit": self.page_size}
        async for page in body_cursor_pages(self.api, "/v2/inventory/counts/batch-retrieve", body):
            yield [parse_count(obj) for obj in page.get("counts") or ()]

    async def inventory_changes(
        self,
        location_ids: Sequence[str],
        after: datetime | None,
        before: datetime,
        catalog_object_ids: Sequence[str] = (),
    ) -> AsyncIterator[list[InventoryChange]]:
        """Adjustments and physical counts with after < occurred_at <= before.

        `catalog_object_ids` narrows them to those variations; empty means all.
        """
        body: dict[str, Any] = {
            "location_ids": list(location_ids),
            "types": ["PHYSICAL_COUNT", "ADJUSTMENT"],
            "updated_before": _rfc3339(before),
            "limit": self.page_size,
        }
        if after is not None:
            body["updated_after"] = _rfc3339(after)
        if catalog_object_ids:
            body["catalog_object_ids"] = list(catalog_object_ids)
        async for page in body_cursor_pages(self.api, "/v2/inventory/changes/batch-retrieve", body):
            yield [parse_change(obj) for obj in page.get("changes") or ()]

    async def orders(
        self,
        location_ids: Sequence[str],
        field: str,
        start: datetime,
        end: datetime,
        states: Sequence[str] = (),
    ) -> AsyncIterator[list[Order]]:
        """Orders whose `field` (created_at, updated_at or closed_at) lies in [start, end]."""
        async for page in self.order_objects(location_ids, field, start, end, states):
            yield [parse_order(obj) for obj in page]

    async def order_objects(
        self,
        location_ids: Sequence[str],
        field: str,
        start: datetime,
        end: datetime,
        states: Sequence[str] = (),
    ) -> AsyncIterator[list[dict[str, Any]]]:
        """As `orders`, but each order as Square's JSON, for keeping the raw record."""
        sort_field = ORDER_FIELDS[field]
        order_filter: dict[str, Any] = {
            "date_time_filter": {field: {"start_at": _rfc3339(start), "end_at": _rfc3339(end)}}
        }
        if states:
            order_filter["state_filter"] = {"states": list(states)}
        for chunk in _chunks(location_ids, MAX_LOCATIONS_PER_SEARCH):
            body = {
                "location_ids": chunk,
                "limit": self.page_size,
                "query": {
                    "filter": order_filter,
                    "sort": {"sort_field": sort_field, "sort_order": "ASC"},
                },
            }
            async for page in body_cursor_pages(self.api, "/v2/orders/search", body):
                yield list(page.get("orders") or ())

    async def orders_by_id(self, order_ids: Sequence[str]) -> list[Order]:
        """The orders with these ids; ids Square does not know are left out, as Square does."""
        found: list[Order] = []
        for chunk in _chunks(order_ids, MAX_ORDERS_PER_BATCH):
            reply = await self.api.request_json(
                "POST", "/v2/orders/batch-retrieve", json={"order_ids": chunk}
            )
            found.extend(parse_order(obj) for obj in reply.get("orders") or ())
        return found


def square_api_client(
    base_url: str,
    merchant_id: str,
    auth_headers: AuthHeaders,
    **options: Any,
) -> ApiClient:
    """An `ApiClient` for one merchant, speaking `SQUARE_VERSION`; `options` go to ApiClient."""
    return ApiClient(
        source=SOURCE,
        account=merchant_id,
        base_url=base_url,
        auth_headers=auth_headers,
        headers={"Square-Version": SQUARE_VERSION, "Accept": "application/json"},
        **options,
    )
