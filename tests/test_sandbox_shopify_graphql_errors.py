"""GraphQL errors as Shopify shapes them: captured replies replayed, and bad requests never 500."""

import json
import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from graphql import FieldNode, OperationDefinitionNode, parse
from test_sandbox_shopify_graphql_harness import ShopifyGraphQLServer, serve_shopify_graphql

from shelfops_pipeline.sandbox.shopify.schema import admin_schema

CAPTURED = Path(__file__).resolve().parents[2] / "shared" / "shopify-captured"
# Captured replies that depend on fields the sandbox's schema subset does not have, or has
# where that API version did not (2025-01 had no InventoryLevel.isActive).
SCHEMA_GAPS = {
    "inventory-default-location-carrier-connection.json",
    "webhook-subscription-metafield-namespaces-resolution.json",
}
# One message pattern per Shopify error code, each matched by every captured message of it.
MESSAGES = {
    "undefinedField": r"^Field '\w+' doesn't exist on type '\w+'$",
    "argumentNotAccepted": r"^(Field|InputObject) '\w+' doesn't accept argument '\w+'$",
    "missingRequiredArguments": r"^Field '\w+' is missing required arguments: \w+(, \w+)*$",
    "argumentLiteralsIncompatible": (
        r"^(Argument '\w+' on (Field|InputObject) '\w+' has an invalid value \(.*\)\. "
        r"Expected type '.+'\.|Invalid global id '.*'|Invalid (ARN|url) .*)$"
    ),
    "INVALID_VARIABLE": r"^Variable \$\w+ of type \S+ was provided invalid value( for .+)?$",
    "variableNotUsed": r"^Variable \$\w+ is declared by \w+ but not used$",
    "undefinedType": r"^No such type \w+, so it can't be a fragment condition$",
}
OURS = {
    "undefinedField": ("{ orders(first: 1) { nodes { fulfillmentOrders } } }", {}),
    "argumentNotAccepted": ("{ locations(first: 1, includeRemote: true) { nodes { id } } }", {}),
    "missingRequiredArguments": ("{ order { id } }", {}),
    "argumentLiteralsIncompatible": ("{ order(id: null) { id } }", {}),
    "INVALID_VARIABLE": (
        "query($sort: ProductSortKeys) { products(first: 1, sortKey: $sort) { nodes { id } } }",
        {"sort": "BANANAS"},
    ),
    "variableNotUsed": ("query Unused($first: Int) { shop { name } }", {"first": 1}),
    "undefinedType": (
        '{ node(id: "gid://shopify/Order/1") { ... on FulfillmentOrder { id } } }',
        {},
    ),
}


@pytest.fixture(scope="module")
def server() -> Iterator[ShopifyGraphQLServer]:
    with serve_shopify_graphql() as served:
        yield served


def _captured_errors() -> list[dict[str, Any]]:
    path = CAPTURED / "error-cases.jsonl"
    if not path.exists():
        pytest.skip(f"{path} is not here (captured cases stay in ../shared)")
    return [json.loads(line) for line in path.read_text().splitlines() if line.strip()]


def _roots_in_schema(query: str) -> bool:
    schema = admin_schema()
    for definition in parse(query).definitions:
        if not isinstance(definition, OperationDefinitionNode):
            continue
        root = (
            schema.mutation_type if definition.operation.value == "mutation" else schema.query_type
        )
        for selection in definition.selection_set.selections:
            if (
                not isinstance(selection, FieldNode)
                or root is None
                or selection.name.value not in root.fields
            ):
                return False
    return True


def test_captured_error_replies_replay_exactly(server: ShopifyGraphQLServer) -> None:
    cases = _captured_errors()
    shop = server.world.shops[0]
    replayed = 0
    for case in cases:
        if not _roots_in_schema(case["query"]) or case["source"].rsplit("/", 1)[-1] in SCHEMA_GAPS:
            continue
        with server.client(shop) as client:
            reply = client.post(
                f"/admin/api/{case['api_version']}/graphql.json",
                json={"query": case["query"], "variables": case["variables"]},
            )
        assert reply.status_code == (case["http_status"] or 200)
        assert reply.json()["errors"] == case["body"]["errors"], case["source"]
        replayed += 1
    print(  # noqa: T201 - the test reports how much of the capture it covers
        f"\ncaptured error cases: {len(cases)} in all, {replayed} replayed with identical errors "
        f"(the others name fields outside the sandbox's schema)"
    )
    assert replayed >= 8


def test_each_error_code_has_shopifys_shape(server: ShopifyGraphQLServer) -> None:
    cases = _captured_errors()
    shop = server.world.shops[0]
    for code, (query, variables) in OURS.items():
        captured = [
            e
            for case in cases
            for e in case["body"].get("errors", [])
            if e.get("extensions", {}).get("code") == code
        ]
        assert captured, code
        body = server.query(shop, query, variables)
        assert "data" not in body
        ours = [e for e in body["errors"] if e["extensions"]["code"] == code]
        assert ours, (code, body)
        pattern = re.compile(MESSAGES[code])
        for error in [*captured, *ours]:
            assert pattern.match(error["message"]), (code, error["message"])
        shapes = {(tuple(sorted(e)), tuple(sorted(e["extensions"]))) for e in captured}
        for error in ours:
            assert (tuple(sorted(error)), tuple(sorted(error["extensions"]))) in shapes, (
                code,
                error,
            )


def test_parse_errors_use_graphql_rubys_wording(server: ShopifyGraphQLServer) -> None:
    shop = server.world.shops[0]
    assert server.query(shop, "{ shop { name } } }") == {
        "errors": [
            {
                "message": 'Parse error on "}" (RCURLY) at [1, 19]',
                "locations": [{"line": 1, "column": 19}],
            }
        ]
    }
    assert (
        server.query(shop, "{ shop { name ")["errors"][0]["message"] == "Unexpected end of document"
    )


def test_page_size_limits_are_errors_not_pages(server: ShopifyGraphQLServer) -> None:
    shop = server.world.shops[0]
    too_many = server.query(shop, "{ products(first: 251) { nodes { id } } }")
    (error,) = too_many["errors"]
    assert error["path"] == ["products"]
    assert "250" in error["message"]
    assert too_many["data"] is None
    none = server.query(shop, "{ orders { nodes { id } } }")
    assert none["errors"][0]["message"] == "you must provide one of first or last"


BAD_BODIES: list[tuple[bytes, str]] = [
    (b"{not json", "application/json"),
    (b"[1, 2]", "application/json"),
    (b'{"query": 5}', "application/json"),
    (b'{"query": "{ shop { name } }", "variables": [1]}', "application/json"),
    (b"", "application/json"),
    (b"\xff\xfe\x00", "application/json"),
    (b"{ shop { name } }", "application/graphql"),
    (json.dumps({"query": "subscription { shop { name } }"}).encode(), "application/json"),
    (
        json.dumps({"query": "query A { shop { name } } query B { shop { id } }"}).encode(),
        "application/json",
    ),
    (
        json.dumps({"query": "query A { shop { name } }", "operationName": "Z"}).encode(),
        "application/json",
    ),
    (
        json.dumps(
            {"query": '{ products(first: 5, after: "bm9wZQ==") { nodes { id } } }'}
        ).encode(),
        "application/json",
    ),
    (
        json.dumps({"query": "{ products(first: -1) { nodes { id } } }"}).encode(),
        "application/json",
    ),
    (
        json.dumps(
            {"query": '{ products(first: 2, query: "title:\'unclosed (") { nodes { id } } }'}
        ).encode(),
        "application/json",
    ),
    (
        json.dumps(
            {"query": "fragment A on Shop { ...B } fragment B on Shop { ...A } { shop { ...A } }"}
        ).encode(),
        "application/json",
    ),
    (
        json.dumps(
            {
                "query": '{ inventoryLevel(id: "gid://shopify/InventoryLevel/1") { id quantities(names: ["nope"]) { name } } }'
            }
        ).encode(),
        "application/json",
    ),
    (
        json.dumps(
            {"query": "{ shop { name } }", "variables": {"x": {"deep": [1, {"a": None}]}}}
        ).encode(),
        "application/json",
    ),
    (json.dumps({"query": "{" * 300 + "}" * 300}).encode(), "application/json"),
]


@pytest.mark.parametrize(("body", "content_type"), BAD_BODIES)
def test_bad_requests_get_shopify_errors_never_500(
    server: ShopifyGraphQLServer, body: bytes, content_type: str
) -> None:
    shop = server.world.shops[0]
    with server.client(shop) as client:
        reply = client.post(
            "/admin/api/2026-10/graphql.json", content=body, headers={"content-type": content_type}
        )
    assert reply.status_code in (200, 400), reply.text
    payload = reply.json()
    if reply.status_code == 400:
        assert payload == {"errors": {"query": "Required parameter missing or invalid"}}
    elif "errors" in payload:
        assert all(isinstance(e["message"], str) for e in payload["errors"])
        assert "Internal error" not in reply.text
    else:
        assert payload["data"] is not None
        assert payload["extensions"]["cost"]["requestedQueryCost"] >= 0
