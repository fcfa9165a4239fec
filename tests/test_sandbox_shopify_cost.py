"""Query cost and throttling: Shopify's requested costs for captured queries, and the bucket."""

import json
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from test_sandbox_shopify_graphql_harness import ShopifyGraphQLServer, serve_shopify_graphql

from shelfops_pipeline.sandbox.shopify.endpoint import GraphQLSettings
from shelfops_pipeline.sandbox.shopify.throttle import ThrottleSettings

CAPTURED = Path(__file__).resolve().parents[2] / "shared" / "shopify-captured"
# Captures whose recorded response answered another query than the one stored with it.
MISPAIRED = {
    ("order-empty-state.json", "OrderEmptyStateRead"): "response holds orders { id name } only",
    ("product-variants-matrix.json", "ProductVariantsRead"): "one cost for two queries",
    ("product-variants-matrix.json", "InventoryLevelRead"): "one cost for two queries",
    ("products-search-grammar.json", "ProductsSearchGrammarRead"): "response holds 2 of 6 fields",
}
# Captures Shopify charged more than the rules give, with no other capture to tell which field
# carries the difference: one point more per product, for `seo` or for `category`.
UNEXPLAINED = {("product-helper-roots-read.json", "ProductHelperSeed"): (22, 24)}
EXPENSIVE = """{ products(first: 250) { nodes { id variants(first: 250) { nodes { id
  inventoryItem { id inventoryLevels(first: 5) { nodes { id } } } } } } } }"""
DOCS = "https://shopify.dev/api/usage/rate-limits"


@pytest.fixture(scope="module")
def unlimited() -> Iterator[ShopifyGraphQLServer]:
    throttle = ThrottleSettings(maximum_available=10.0**9, restore_rate=10.0**9)
    with serve_shopify_graphql(GraphQLSettings(throttle=throttle)) as served:
        yield served


def _operation_name(query: str) -> str:
    words = query.replace("(", " ").replace("{", " ").split()
    return words[words.index("query") + 1] if "query" in words else ""


def test_requested_cost_equals_shopify_for_every_captured_query_it_can_run(
    unlimited: ShopifyGraphQLServer,
) -> None:
    path = CAPTURED / "cost-cases.jsonl"
    if not path.exists():
        pytest.skip(f"{path} is not here (captured cases stay in ../shared)")
    cases = [json.loads(line) for line in path.read_text().splitlines() if line.strip()]
    shop = unlimited.world.shops[0]
    executable, matched, mispaired = 0, 0, 0
    wrong: list[tuple[str, int, int]] = []
    for case in cases:
        body = unlimited.query(shop, case["query"], case["variables"], version=case["api_version"])
        cost = body.get("extensions", {}).get("cost")
        if cost is None:
            continue
        executable += 1
        key = (case["source"].rsplit("/", 1)[-1], _operation_name(case["query"]))
        if key in MISPAIRED:
            mispaired += 1
            assert cost["requestedQueryCost"] != case["requestedQueryCost"], key
        elif cost["requestedQueryCost"] == case["requestedQueryCost"]:
            matched += 1
        elif key in UNEXPLAINED:
            assert (cost["requestedQueryCost"], case["requestedQueryCost"]) == UNEXPLAINED[key]
        else:
            wrong.append((key[1], cost["requestedQueryCost"], case["requestedQueryCost"]))
    print(  # noqa: T201 - the test reports how much of the capture it covers
        f"\ncaptured cost cases: {len(cases)} in all, {executable} executable by the sandbox "
        f"schema, {matched} match Shopify's requestedQueryCost, {mispaired} excluded "
        f"(capture pairs the query with another query's response)"
    )
    assert wrong == []
    assert mispaired == len(MISPAIRED)
    assert executable >= 100


def test_every_reply_reports_cost_and_refunds_unused_points() -> None:
    with serve_shopify_graphql() as server:
        shop = server.world.shops[0]
        first = server.query(shop, "{ products(first: 250) { nodes { id } } }")
        cost = first["extensions"]["cost"]
        returned = len(first["data"]["products"]["nodes"])
        assert 40 < returned < 250
        assert cost["requestedQueryCost"] == 13
        assert cost["actualQueryCost"] == 10
        status = cost["throttleStatus"]
        assert (status["maximumAvailable"], status["restoreRate"]) == (2000.0, 100.0)
        # 2000 - 10 actual, plus what real time restored while the query ran.
        assert 1990 <= status["currentlyAvailable"] <= 1992


def test_a_burst_of_expensive_queries_is_throttled_consistently() -> None:
    with serve_shopify_graphql() as server:
        shop, other = server.world.shops[0], server.world.shops[1]
        available = 2000.0
        throttled: dict[str, Any] | None = None
        previous_sent = time.monotonic()
        for _ in range(60):
            sent = time.monotonic()
            body = server.query(shop, EXPENSIVE)
            cost = body["extensions"]["cost"]
            status = cost["throttleStatus"]
            assert cost["requestedQueryCost"] == 882
            if "errors" in body:
                throttled = body
                break
            spent = cost["actualQueryCost"]
            assert spent < cost["requestedQueryCost"]
            # Between two replies the bucket lost `spent` and restored at most 100 a second.
            restored = (time.monotonic() - previous_sent) * 100.0
            upper = min(2000.0, available + 1 + restored - spent)
            assert available - spent - 1 <= status["currentlyAvailable"] <= upper
            available, previous_sent = status["currentlyAvailable"], sent
        assert throttled is not None, "the bucket never ran short"
        assert throttled["errors"] == [
            {"message": "Throttled", "extensions": {"code": "THROTTLED", "documentation": DOCS}}
        ]
        assert "data" not in throttled
        cost = throttled["extensions"]["cost"]
        assert cost["actualQueryCost"] is None
        assert cost["throttleStatus"]["currentlyAvailable"] < cost["requestedQueryCost"]
        elsewhere = server.query(other, EXPENSIVE)
        assert "errors" not in elsewhere, "another shop's bucket is untouched"


def test_the_bucket_restores_in_real_time_while_the_world_is_frozen() -> None:
    throttle = ThrottleSettings(maximum_available=30.0, restore_rate=60.0)
    with serve_shopify_graphql(GraphQLSettings(throttle=throttle)) as server:
        shop = server.world.shops[0]
        query = (
            "{ locations(first: 250) { nodes { id name } } products(first: 250) { nodes { id } } }"
        )
        replies = [server.query(shop, query) for _ in range(6)]
        assert any("errors" in r for r in replies)
        status = replies[-1]["extensions"]["cost"]["throttleStatus"]
        assert status["maximumAvailable"] == 30.0 and status["restoreRate"] == 60.0
        time.sleep(0.5)
        assert "errors" not in server.query(shop, query)


def test_a_query_over_1000_points_is_refused_without_spending(
    unlimited: ShopifyGraphQLServer,
) -> None:
    shop = unlimited.world.shops[1]
    query = "{ products(first: 250) { nodes { id variants(first: 250) { nodes { id inventoryItem { id inventoryLevels(first: 250) { nodes { id } } } } } } } }"
    body = unlimited.query(shop, query)
    cost = body["extensions"]["cost"]
    assert cost["requestedQueryCost"] > 1000
    assert cost["actualQueryCost"] is None
    (error,) = body["errors"]
    assert error["extensions"] == {
        "code": "MAX_COST_EXCEEDED",
        "cost": cost["requestedQueryCost"],
        "maxCost": 1000,
    }
    assert error["message"].startswith(
        f"Query cost is {cost['requestedQueryCost']}, which exceeds the single query max cost limit (1000)."
    )
    assert "data" not in body


def test_a_mutation_costs_ten(unlimited: ShopifyGraphQLServer) -> None:
    shop = unlimited.world.shops[1]
    body = unlimited.query(
        shop,
        'mutation { bulkOperationRunQuery(query: "{ shop { name } }") { userErrors { message } } }',
    )
    assert body["extensions"]["cost"]["requestedQueryCost"] == 10
    assert body["extensions"]["cost"]["actualQueryCost"] == 10
