"""Bulk JSONL grouping: children right below their parent before API 2026-01 or with groupObjects."""

import json
from collections.abc import Iterator

import httpx
import pytest
from test_sandbox_shopify_bulk import start, wait
from test_sandbox_shopify_graphql_harness import ShopifyGraphQLServer, serve_shopify_graphql

from shelfops_pipeline.sandbox.shopify.bulk import BulkSettings
from shelfops_pipeline.sandbox.shopify.endpoint import GraphQLSettings

ORDERS_BULK = """{ orders { edges { node { id lineItems { edges { node { id } } } } } } }"""
RUN_GROUPED = """mutation($q: String!, $g: Boolean!) { bulkOperationRunQuery(query: $q, groupObjects: $g) {
  bulkOperation { id status } userErrors { field message } } }"""


@pytest.fixture(scope="module")
def server() -> Iterator[ShopifyGraphQLServer]:
    with serve_shopify_graphql(
        GraphQLSettings(bulk=BulkSettings(objects_per_second=100_000))
    ) as served:
        yield served


def misplaced_children(server: ShopifyGraphQLServer, operation_id: str) -> tuple[int, int]:
    """(children not inside their parent's group, children) of a finished export."""
    shop = server.world.shops[0]
    operation = wait(server, shop, operation_id)
    assert operation["status"] == "COMPLETED"
    current, misplaced, children = None, 0, 0
    for line in httpx.get(operation["url"]).text.splitlines():
        record = json.loads(line)
        if "__parentId" in record:
            children += 1
            misplaced += record["__parentId"] != current
        else:
            current = record["id"]
    return misplaced, children


@pytest.mark.parametrize(
    ("version", "grouped"), [("2025-10", True), ("2026-01", False), ("2026-10", False)]
)
def test_the_default_grouping_follows_the_api_version(
    server: ShopifyGraphQLServer, version: str, grouped: bool
) -> None:
    shop = server.world.shops[0]
    created = start(server, shop, ORDERS_BULK, version=version)
    misplaced, children = misplaced_children(server, created["bulkOperation"]["id"])
    assert children > 50
    assert (misplaced == 0) is grouped


@pytest.mark.parametrize(("version", "flag"), [("2026-10", True), ("2025-10", False)])
def test_group_objects_overrides_the_version_default(
    server: ShopifyGraphQLServer, version: str, flag: bool
) -> None:
    shop = server.world.shops[0]
    body = server.query(shop, RUN_GROUPED, {"q": ORDERS_BULK, "g": flag}, version=version)
    operation_id = body["data"]["bulkOperationRunQuery"]["bulkOperation"]["id"]
    misplaced, children = misplaced_children(server, operation_id)
    assert children > 50
    assert (misplaced == 0) is flag
