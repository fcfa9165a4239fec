"""Read one merchant's catalog, stock and one business day of sales the way a pipeline would."""

import time
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import httpx

MAX_PAGES = 10_000
PAGE_LIMIT = 1000


@dataclass(frozen=True)
class Listing:
    """What paging one Square list call to its end cost and returned."""

    pages: int
    objects: int
    line_items: int
    seconds: float


class PagingBudget:
    """A wall-clock budget shared by every request of one benchmark run."""

    def __init__(self, seconds: float) -> None:
        self.deadline = time.perf_counter() + seconds

    def check(self, path: str) -> None:
        if time.perf_counter() > self.deadline:
            raise TimeoutError(f"paging {path} ran past the benchmark's time budget")


def page_through(
    client: httpx.Client,
    budget: PagingBudget,
    method: str,
    path: str,
    request: dict[str, Any],
    key: str,
) -> Listing:
    """Follow cursors to the end, resending the same request with each cursor."""
    started = time.perf_counter()
    objects = 0
    line_items = 0
    cursor: str | None = None
    for pages in range(1, MAX_PAGES + 1):
        budget.check(path)
        with_cursor = {**request, "cursor": cursor} if cursor else request
        if method == "GET":
            reply = client.get(path, params=with_cursor)
        else:
            reply = client.post(path, json=with_cursor)
        reply.raise_for_status()
        body = reply.json()
        found = body.get(key, [])
        objects += len(found)
        line_items += sum(len(item.get("line_items", [])) for item in found)
        cursor = body.get("cursor")
        if not cursor:
            return Listing(pages, objects, line_items, time.perf_counter() - started)
    raise RuntimeError(f"{path} was still paging after {MAX_PAGES} pages")


def catalog(client: httpx.Client, budget: PagingBudget) -> Listing:
    return page_through(client, budget, "GET", "/v2/catalog/list", {}, "objects")


def inventory_counts(client: httpx.Client, budget: PagingBudget) -> Listing:
    request = {"limit": PAGE_LIMIT}
    return page_through(
        client, budget, "POST", "/v2/inventory/counts/batch-retrieve", request, "counts"
    )


def last_business_day(timezone: str, now: datetime) -> tuple[datetime, datetime]:
    """The last complete local day before `now` in `timezone`, as a UTC [start, end) window."""
    zone = ZoneInfo(timezone)
    day = now.astimezone(zone).date() - timedelta(days=1)
    start = datetime.combine(day, datetime.min.time(), zone)
    end = datetime.combine(day + timedelta(days=1), datetime.min.time(), zone)
    return start.astimezone(UTC), end.astimezone(UTC)


def day_of_orders(client: httpx.Client, budget: PagingBudget, now: datetime) -> tuple[int, Listing]:
    """Every location's last full business day of closed orders; returns the location count."""
    locations = client.get("/v2/locations").raise_for_status().json()["locations"]
    listings = []
    for location in locations:
        start, end = last_business_day(location["timezone"], now)
        request = {
            "location_ids": [location["id"]],
            "query": {
                "filter": {
                    "date_time_filter": {
                        "closed_at": {"start_at": _rfc3339(start), "end_at": _rfc3339(end)}
                    }
                },
                "sort": {"sort_field": "CLOSED_AT", "sort_order": "ASC"},
            },
            "limit": PAGE_LIMIT,
        }
        listings.append(
            page_through(client, budget, "POST", "/v2/orders/search", request, "orders")
        )
    return len(locations), Listing(
        pages=sum(listing.pages for listing in listings),
        objects=sum(listing.objects for listing in listings),
        line_items=sum(listing.line_items for listing in listings),
        seconds=sum(listing.seconds for listing in listings),
    )


def _rfc3339(at: datetime) -> str:
    return at.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
