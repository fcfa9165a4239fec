"""The four ways of paging, each against a fake server: what the next request carries, and when
it stops. Pages arrive one at a time, and every page counts in the client's stats."""

import json
from typing import Any
from urllib.parse import parse_qs

import httpx
import pytest
from http_helpers import FakeTime, mock_client

from shelfops_pipeline.http.errors import BadRequest, PayloadInvalid, RateLimited
from shelfops_pipeline.http.paginate import (
    body_cursor_pages,
    graphql_pages,
    link_header_pages,
    query_cursor_pages,
)

pytestmark = pytest.mark.anyio


@pytest.fixture
def anyio_backend() -> str:
    return "asyncio"


def cursor_server(seen: list[httpx.Request], items: int = 7, size: int = 3) -> Any:
    """Square-like paging over ids 0..items-1; the cursor is the next offset, from body or query."""

    def handler(request: httpx.Request) -> httpx.Response:
        seen.append(request)
        if request.method == "POST":
            cursor = json.loads(request.content).get("cursor")
        else:
            cursor = request.url.params.get("cursor")
        start = int(cursor or 0)
        page: dict[str, Any] = {"objects": list(range(start, min(items, start + size)))}
        if start + size < items:
            page["cursor"] = str(start + size)
        return httpx.Response(200, json=page)

    return handler


async def test_body_cursor_pages_resend_the_same_body_with_the_cursor() -> None:
    seen: list[httpx.Request] = []
    body = {
        "location_ids": ["L1", "L2"],
        "limit": 3,
        "query": {"sort": {"sort_field": "CLOSED_AT"}},
    }
    async with mock_client(cursor_server(seen), FakeTime()) as client:
        pages = [page async for page in body_cursor_pages(client, "/v2/orders/search", body)]
    assert [p["objects"] for p in pages] == [[0, 1, 2], [3, 4, 5], [6]]
    sent = [json.loads(r.content) for r in seen]
    assert sent == [body, {**body, "cursor": "3"}, {**body, "cursor": "6"}]
    assert client.stats.pages == 3


async def test_query_cursor_pages_keep_the_query_and_add_the_cursor() -> None:
    seen: list[httpx.Request] = []
    async with mock_client(cursor_server(seen), FakeTime()) as client:
        pages = [p async for p in query_cursor_pages(client, "/v2/catalog/list", {"types": "ITEM"})]
    assert sum(len(p["objects"]) for p in pages) == 7
    assert [dict(r.url.params) for r in seen] == [
        {"types": "ITEM"},
        {"types": "ITEM", "cursor": "3"},
        {"types": "ITEM", "cursor": "6"},
    ]


async def test_pages_arrive_one_at_a_time() -> None:
    seen: list[httpx.Request] = []
    async with mock_client(cursor_server(seen, items=30), FakeTime()) as client:
        async for page in query_cursor_pages(client, "/v2/catalog/list"):
            assert page["objects"] == [0, 1, 2] and len(seen) == 1
            break


async def test_link_header_pages_send_only_page_info_limit_and_fields() -> None:
    seen: list[httpx.Request] = []
    shop = "https://demo-shop.myshopify.com/admin/api/2026-04/orders.json"

    def handler(request: httpx.Request) -> httpx.Response:
        seen.append(request)
        page_info = request.url.params.get("page_info")
        following = {None: "eyJsYXN0X2lkIjoxfQ", "eyJsYXN0X2lkIjoxfQ": "eyJsYXN0X2lkIjoyfQ"}
        headers = {"X-Shopify-Shop-Api-Call-Limit": f"{len(seen)}/40"}
        if page_info in following:
            nxt = following[page_info]
            headers["Link"] = (
                f'<{shop}?limit=2&page_info=prev>; rel="previous", '
                f'<{shop}?limit=2&page_info={nxt}>; rel="next"'
            )
        return httpx.Response(200, json={"orders": [{"n": len(seen)}]}, headers=headers)

    params = {"status": "any", "created_at_min": "2026-11-01T00:00:00Z", "limit": 2, "fields": "id"}
    async with mock_client(handler, FakeTime()) as client:
        pages = [p async for p in link_header_pages(client, "/orders.json", params)]
    assert [p["orders"][0]["n"] for p in pages] == [1, 2, 3]
    assert [parse_qs(r.url.query.decode()) for r in seen[1:]] == [
        {"limit": ["2"], "fields": ["id"], "page_info": ["eyJsYXN0X2lkIjoxfQ"]},
        {"limit": ["2"], "fields": ["id"], "page_info": ["eyJsYXN0X2lkIjoyfQ"]},
    ]
    assert seen[0].url.params["created_at_min"] == "2026-11-01T00:00:00Z"


async def test_graphql_pages_follow_end_cursor_through_the_after_variable() -> None:
    seen: list[dict[str, Any]] = []

    def handler(request: httpx.Request) -> httpx.Response:
        sent = json.loads(request.content)
        seen.append(sent)
        after = sent["variables"].get("after")
        number = {None: 1, "c1": 2, "c2": 3}[after]
        connection = {
            "nodes": [{"id": f"gid://shopify/Product/{number}"}],
            "pageInfo": {"hasNextPage": number < 3, "endCursor": f"c{number}"},
        }
        cost = {
            "throttleStatus": {
                "maximumAvailable": 2000.0,
                "currentlyAvailable": 1990,
                "restoreRate": 100.0,
            }
        }
        return httpx.Response(
            200, json={"data": {"shop": {"products": connection}}, "extensions": {"cost": cost}}
        )

    query = "query($first: Int!, $after: String) { shop { products(first: $first, after: $after) { nodes { id } pageInfo { hasNextPage endCursor } } } }"
    async with mock_client(handler, FakeTime(), source="shopify", account="demo-shop") as client:
        connections = [
            c
            async for c in graphql_pages(
                client, "/graphql.json", query, {"first": 1}, ["shop", "products"]
            )
        ]
    assert [c["nodes"][0]["id"][-1] for c in connections] == ["1", "2", "3"]
    assert [s["variables"] for s in seen] == [
        {"first": 1},
        {"first": 1, "after": "c1"},
        {"first": 1, "after": "c2"},
    ]
    assert all(s["query"] == query for s in seen)
    assert client.stats.pages == 3


@pytest.mark.parametrize(
    ("body", "error_class", "words"),
    [
        ({"errors": [{"message": "Field 'nope' doesn't exist"}]}, BadRequest, "Field 'nope'"),
        (
            {"errors": [{"message": "Throttled", "extensions": {"code": "THROTTLED"}}]},
            RateLimited,
            "Throttled",
        ),
        ({"data": {"shop": None}}, PayloadInvalid, "data.shop.products"),
        (
            {"data": {"shop": {"products": {"nodes": [], "pageInfo": {"hasNextPage": True}}}}},
            PayloadInvalid,
            "no endCursor",
        ),
    ],
)
async def test_graphql_errors_and_broken_connections_fail_the_page(
    body: dict[str, Any], error_class: type[Exception], words: str
) -> None:
    def handler(request: httpx.Request) -> httpx.Response:
        return httpx.Response(200, json=body)

    async with mock_client(handler, FakeTime(), source="shopify", account="demo-shop") as client:
        with pytest.raises(error_class, match=words) as raised:
            async for _ in graphql_pages(client, "/graphql.json", "{}", None, ["shop", "products"]):
                pass
    assert "shopify call for account demo-shop" in str(raised.value)


async def test_a_cursor_that_repeats_its_request_stops_the_paging() -> None:
    def handler(request: httpx.Request) -> httpx.Response:
        return httpx.Response(200, json={"objects": [1], "cursor": "same"})

    async with mock_client(handler, FakeTime()) as client:
        with pytest.raises(PayloadInvalid, match="would never end"):
            async for _ in body_cursor_pages(client, "/v2/catalog/search", {"limit": 1}):
                pass
    assert client.stats.pages == 2


async def test_a_page_that_is_not_an_object_is_refused() -> None:
    def handler(request: httpx.Request) -> httpx.Response:
        return httpx.Response(200, json=[1, 2, 3])

    async with mock_client(handler, FakeTime()) as client:
        with pytest.raises(PayloadInvalid, match="expected a JSON object, got list"):
            async for _ in query_cursor_pages(client, "/v2/locations"):
                pass


async def test_a_next_link_without_page_info_is_refused() -> None:
    def handler(request: httpx.Request) -> httpx.Response:
        link = '<https://demo-shop.myshopify.com/admin/api/2026-04/orders.json?page=2>; rel="next"'
        return httpx.Response(200, json={"orders": []}, headers={"Link": link})

    async with mock_client(handler, FakeTime()) as client:
        with pytest.raises(PayloadInvalid, match="no page_info"):
            async for _ in link_header_pages(client, "/orders.json"):
                pass
