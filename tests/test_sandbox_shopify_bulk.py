"""Bulk operations over loopback HTTP: exports equal paged reads, pace, limits, faults, expiry."""

import json
import time
from collections.abc import Iterator
from typing import Any

import httpx
import pytest
from test_sandbox_shopify_graphql_harness import (
    ShopifyGraphQLServer,
    page_through,
    serve_shopify_graphql,
)

from shelfops_pipeline.sandbox.shopify.bulk import BulkSettings
from shelfops_pipeline.sandbox.shopify.endpoint import GraphQLSettings
from shelfops_pipeline.sandbox.world.entities import Shop

RUN = """mutation($q: String!) { bulkOperationRunQuery(query: $q) {
  bulkOperation { id status objectCount url } userErrors { field message code } } }"""
STATUS = """query($id: ID!) { bulkOperation(id: $id) {
  id status errorCode objectCount rootObjectCount fileSize url partialDataUrl completedAt } }"""
PRODUCTS_BULK = """{ products { edges { node { id title
  variants { edges { node { id sku price } } } } } } }"""
PRODUCTS_PAGED = """query($after: String) { products(first: 20, after: $after) {
  nodes { id title variants(first: 50) { nodes { id sku price } } }
  pageInfo { hasNextPage endCursor } } }"""


def start(
    server: ShopifyGraphQLServer, shop: Shop, query: str, version: str = "2026-10"
) -> dict[str, Any]:
    body = server.query(shop, RUN, {"q": query}, version=version)
    result: dict[str, Any] = body["data"]["bulkOperationRunQuery"]
    return result


def wait(
    server: ShopifyGraphQLServer, shop: Shop, operation_id: str, timeout: float = 20.0
) -> dict[str, Any]:
    deadline = time.monotonic() + timeout
    while True:
        operation: dict[str, Any] = server.data(shop, STATUS, {"id": operation_id})["bulkOperation"]
        if operation["status"] not in ("CREATED", "RUNNING") or time.monotonic() > deadline:
            return operation
        time.sleep(0.02)


def reassemble(jsonl: str, child_key: str) -> tuple[list[dict[str, Any]], list[str]]:
    """Objects with their children nested under `child_key`, by `__parentId`; and line order."""
    lines = [json.loads(line) for line in jsonl.splitlines()]
    by_id: dict[str, dict[str, Any]] = {}
    roots, order = [], []
    for line in lines:
        parent = line.pop("__parentId", None)
        order.append(line["id"])
        if parent is None:
            line[child_key] = {"nodes": []}
            roots.append(line)
            by_id[line["id"]] = line
        else:
            assert parent in by_id, "a child came before its parent"
            by_id[parent][child_key]["nodes"].append(line)
    return roots, order


@pytest.fixture(scope="module")
def server() -> Iterator[ShopifyGraphQLServer]:
    with serve_shopify_graphql(
        GraphQLSettings(bulk=BulkSettings(objects_per_second=100_000))
    ) as served:
        yield served


def test_a_product_export_reassembled_equals_the_paged_products(
    server: ShopifyGraphQLServer,
) -> None:
    shop = server.world.shops[0]
    created = start(server, shop, PRODUCTS_BULK)
    assert created["userErrors"] == []
    assert created["bulkOperation"]["status"] == "CREATED"
    assert created["bulkOperation"]["objectCount"] == "0"
    operation = wait(server, shop, created["bulkOperation"]["id"])
    assert operation["status"] == "COMPLETED"
    download = httpx.get(operation["url"])
    assert download.status_code == 200
    assert int(operation["fileSize"]) == len(download.content)
    roots, order = reassemble(download.text, "variants")
    paged = page_through(server, shop, PRODUCTS_PAGED, ("products",))
    assert roots == paged
    assert int(operation["rootObjectCount"]) == len(paged)
    assert int(operation["objectCount"]) == len(order)
    parents = {v["id"]: p["id"] for p in paged for v in p["variants"]["nodes"]}
    detached = [
        i
        for i, object_id in enumerate(order)
        if object_id in parents
        and order[i - 1] != parents[object_id]
        and order[i - 1] not in parents
    ]
    assert detached, "children are not always right after their parent"


def test_a_day_of_orders_export_equals_the_paged_orders(server: ShopifyGraphQLServer) -> None:
    shop = server.world.shops[1]
    search = "created_at:>='2026-11-01 00:00:00+00:00' created_at:<'2026-11-03 00:00:00+00:00'"
    bulk = (
        '{ orders(query: "'
        + search.replace('"', '\\"')
        + '") { edges { node { id name processedAt '
        "totalPriceSet { shopMoney { amount currencyCode } } "
        "lineItems { edges { node { id sku quantity originalUnitPriceSet { shopMoney { amount } } } } } } } } }"
    )
    operation = wait(server, shop, start(server, shop, bulk)["bulkOperation"]["id"])
    roots, _ = reassemble(httpx.get(operation["url"]).text, "lineItems")
    paged = page_through(
        server,
        shop,
        "query($q: String!, $after: String) { orders(first: 30, after: $after, query: $q) { nodes { "
        "id name processedAt totalPriceSet { shopMoney { amount currencyCode } } "
        "lineItems(first: 20) { nodes { id sku quantity originalUnitPriceSet { shopMoney { amount } } } } } "
        "pageInfo { hasNextPage endCursor } } }",
        ("orders",),
        {"q": search},
    )
    assert len(paged) > 20
    assert roots == paged


def test_a_slow_export_runs_for_a_while_and_counts_as_it_goes() -> None:
    settings = GraphQLSettings(bulk=BulkSettings(objects_per_second=400))
    with serve_shopify_graphql(settings) as server:
        shop = server.world.shops[0]
        began = time.monotonic()
        operation_id = start(server, shop, PRODUCTS_BULK)["bulkOperation"]["id"]
        seen = []
        while True:
            operation = server.data(shop, STATUS, {"id": operation_id})["bulkOperation"]
            seen.append((operation["status"], int(operation["objectCount"])))
            if operation["status"] == "COMPLETED":
                break
            time.sleep(0.05)
        elapsed = time.monotonic() - began
        total = int(operation["objectCount"])
        assert elapsed >= total / 400 * 0.9
        running = [count for status, count in seen if status == "RUNNING"]
        assert any(0 < count < total for count in running)
        current = server.data(shop, "{ currentBulkOperation { id status } }")[
            "currentBulkOperation"
        ]
        assert current == {"id": operation_id, "status": "COMPLETED"}


def test_five_bulk_queries_at_once_from_2026_01_and_one_before() -> None:
    settings = GraphQLSettings(bulk=BulkSettings(start_delay_seconds=60))
    with serve_shopify_graphql(settings) as server:
        new, old = server.world.shops
        ids = [
            start(server, new, PRODUCTS_BULK, "2026-01")["bulkOperation"]["id"] for _ in range(5)
        ]
        sixth = start(server, new, PRODUCTS_BULK, "2026-01")
        assert sixth == {
            "bulkOperation": None,
            "userErrors": [
                {
                    "field": None,
                    "message": "A bulk query operation for this app and shop is already in progress: "
                    + ", ".join(ids)
                    + ".",
                    "code": "OPERATION_IN_PROGRESS",
                }
            ],
        }
        first_old = start(server, old, PRODUCTS_BULK, "2025-10")
        assert first_old["userErrors"] == []
        second_old = start(server, old, PRODUCTS_BULK, "2025-10")
        assert second_old["userErrors"][0]["code"] == "OPERATION_IN_PROGRESS"
        cancel = server.data(
            new,
            "mutation($id: ID!) { bulkOperationCancel(id: $id) { bulkOperation { status } userErrors { message } } }",
            {"id": ids[0]},
        )["bulkOperationCancel"]
        assert cancel == {"bulkOperation": {"status": "CANCELING"}, "userErrors": []}


def test_an_injected_failure_offers_partial_data() -> None:
    settings = GraphQLSettings(bulk=BulkSettings(objects_per_second=100_000, fail_after_objects=25))
    with serve_shopify_graphql(settings) as server:
        shop = server.world.shops[0]
        operation = wait(server, shop, start(server, shop, PRODUCTS_BULK)["bulkOperation"]["id"])
        assert operation["status"] == "FAILED"
        assert operation["errorCode"] == "INTERNAL_SERVER_ERROR"
        assert operation["url"] is None
        partial = httpx.get(operation["partialDataUrl"])
        assert partial.status_code == 200
        assert len(partial.text.splitlines()) == 25 == int(operation["objectCount"])


def test_result_urls_expire() -> None:
    settings = GraphQLSettings(
        bulk=BulkSettings(objects_per_second=100_000, url_lifetime_seconds=0.4)
    )
    with serve_shopify_graphql(settings) as server:
        shop = server.world.shops[0]
        operation = wait(server, shop, start(server, shop, PRODUCTS_BULK)["bulkOperation"]["id"])
        assert httpx.get(operation["url"]).status_code == 200
        time.sleep(0.5)
        expired = httpx.get(operation["url"])
        assert expired.status_code == 400
        assert "ExpiredToken" in expired.text
        again = server.data(shop, STATUS, {"id": operation["id"]})["bulkOperation"]
        assert again["status"] == "EXPIRED" and again["url"] is None


@pytest.mark.parametrize(
    ("query", "message"),
    [
        (
            "{ products { nodes { id } } }",
            "All connection fields in a bulk query must select their contents using 'edges' > "
            "'node', e.g: 'products { edges { node {'. Selecting via 'nodes' is not supported. "
            "Invalid connection fields: 'products'.",
        ),
        ("{ shop { name } }", "Bulk queries must contain at least one connection."),
        (
            "{ products { edges { node { title variants { edges { node { id } } } } } } }",
            "The parent 'node' field for a nested connection must select the 'id' field without "
            "an alias and must be of 'ID' return type. Connection fields without 'id': products.",
        ),
        (
            'mutation { bulkOperationCancel(id: "gid://shopify/BulkOperation/1") { userErrors { message } } }',
            "Invalid operation type. Only `query` operations are supported.",
        ),
        (
            "{ orders { edges { node { id lineItems { edges { node { id variant { id } } } } "
            "refunds { refundLineItems { edges { node { id } } } } } } } }",
            "Queries that contain a connection field within a list field are not currently supported.",
        ),
    ],
)
def test_bulk_queries_are_checked_like_shopify(
    server: ShopifyGraphQLServer, query: str, message: str
) -> None:
    result = start(server, server.world.shops[0], query)
    assert result["bulkOperation"] is None
    assert {"field": ["query"], "message": message, "code": "INVALID"} in result["userErrors"]
