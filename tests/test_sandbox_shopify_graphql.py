"""The Shopify GraphQL Admin API over loopback HTTP: paged reads equal the seeded world."""

from collections.abc import Iterator
from datetime import UTC, datetime, time, timedelta
from decimal import Decimal
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from test_sandbox_shopify_graphql_harness import (
    FROZEN_AT,
    ShopifyGraphQLServer,
    page_through,
    serve_shopify_graphql,
    token_for,
)

from shelfops_pipeline.sandbox.world.config import minor_unit_digits
from shelfops_pipeline.sandbox.world.entities import Order, Shop, Store
from shelfops_pipeline.sandbox.world.ids import numeric_id

SEED = 7


@pytest.fixture(scope="module")
def server() -> Iterator[ShopifyGraphQLServer]:
    with serve_shopify_graphql() as served:
        yield served


def shop_with_pos(server: ShopifyGraphQLServer) -> Shop:
    """A shop whose orders come from the online store and a POS location."""
    return next(
        shop
        for shop in server.world.shops
        if any(s.kind == "physical" for s in server.world.stores_of(shop.domain))
    )


def gid(kind: str, world_id: str) -> str:
    return f"gid://shopify/{kind}/{numeric_id(SEED, 13, kind, world_id)}"


def amount(minor: int, currency: str) -> str:
    """Shopify's GraphQL Decimal: trailing zeros dropped, at least one decimal ("12.5", "450.0")."""
    text = format(Decimal(minor).scaleb(-minor_unit_digits(currency)).normalize(), "f")
    return text if "." in text else f"{text}.0"


def money_string(minor: int, currency: str) -> str:
    digits = minor_unit_digits(currency)
    return format(Decimal(minor).scaleb(-digits).quantize(Decimal(1).scaleb(-digits)), "f")


def stamp(at: datetime) -> str:
    return at.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


PRODUCTS = """
query($after: String) {
  products(first: 25, after: $after) {
    nodes { id legacyResourceId title variants(first: 10) { nodes { id sku price inventoryItem { id } } } }
    pageInfo { hasNextPage endCursor }
  }
}"""


def test_paging_products_returns_the_world_catalog(server: ShopifyGraphQLServer) -> None:
    shop = server.world.shops[0]
    products = page_through(server, shop, PRODUCTS, ("products",))
    items = [i for i in server.world.items(shop.domain) if i.exists_at(FROZEN_AT)]
    expected = sorted(
        (
            {
                "id": gid("Product", item.id),
                "legacyResourceId": str(numeric_id(SEED, 13, "Product", item.id)),
                "title": item.name_at(FROZEN_AT),
                "variants": {
                    "nodes": [
                        {
                            "id": gid("ProductVariant", v.id),
                            "sku": v.sku,
                            "price": money_string(v.price_at(FROZEN_AT), shop.currency),
                            "inventoryItem": {"id": gid("InventoryItem", v.id)},
                        }
                        for v in item.variations
                    ]
                },
            }
            for item in items
        ),
        key=lambda p: int(p["legacyResourceId"]),
    )
    assert products == expected
    deleted = [i for i in server.world.items(shop.domain) if not i.exists_at(FROZEN_AT)]
    assert {gid("Product", i.id) for i in deleted}.isdisjoint(p["id"] for p in products)


INVENTORY = """
query($id: ID!, $after: String) {
  location(id: $id) {
    inventoryLevels(first: 40, after: $after) {
      nodes {
        id
        item { id sku }
        quantities(names: ["available", "on_hand", "committed", "incoming"]) { name quantity }
      }
      pageInfo { hasNextPage endCursor }
    }
  }
}"""


def test_paging_inventory_levels_returns_the_world_stock(server: ShopifyGraphQLServer) -> None:
    shop = shop_with_pos(server)
    stores = [s for s in server.world.stores_of(shop.domain) if s.kind != "online"]
    locations = server.data(shop, "{ locations(first: 10) { nodes { id name } } }")
    assert sorted(n["id"] for n in locations["locations"]["nodes"]) == sorted(
        f"gid://shopify/Location/{s.id}" for s in stores
    )
    variations = [
        v
        for item in server.world.items(shop.domain)
        if item.exists_at(FROZEN_AT)
        for v in item.variations
    ]
    for store in stores:
        levels = page_through(
            server,
            shop,
            INVENTORY,
            ("location", "inventoryLevels"),
            {"id": f"gid://shopify/Location/{store.id}"},
        )
        assert len(levels) == len(variations)
        by_item = {level["item"]["id"]: level for level in levels}
        for variation in variations:
            level = by_item[gid("InventoryItem", variation.id)]
            curve = server.world.stock(variation.id, store.id, variation.sold_by_weight)
            quantities = {q["name"]: q["quantity"] for q in level["quantities"]}
            assert quantities["on_hand"] == curve.level(curve.hour_of(FROZEN_AT))
            assert quantities["available"] + quantities["committed"] == quantities["on_hand"]
            assert quantities["incoming"] >= 0
            assert level["item"]["sku"] == variation.sku
            inventory_item = numeric_id(SEED, 13, "InventoryItem", variation.id)
            assert level["id"] == (
                f"gid://shopify/InventoryLevel/{store.id}?inventory_item_id={inventory_item}"
            )


ORDERS = """
query($q: String!, $after: String) {
  orders(first: 40, after: $after, query: $q, sortKey: CREATED_AT) {
    nodes {
      id name createdAt processedAt cancelledAt cancelReason displayFinancialStatus test
      location { id } retailLocation { id }
      totalPriceSet { shopMoney { amount currencyCode } }
      totalTaxSet { shopMoney { amount } }
      lineItems(first: 10) {
        nodes {
          id quantity sku
          originalUnitPriceSet { shopMoney { amount } }
          discountedTotalSet { shopMoney { amount } }
        }
      }
      refunds { createdAt refundLineItems(first: 5) { nodes { quantity lineItem { id } } } }
    }
    pageInfo { hasNextPage endCursor }
  }
}"""


def _sale_orders_created(
    server: ShopifyGraphQLServer, shop: Shop, start: datetime, end: datetime
) -> list[tuple[Store, Order]]:
    found = []
    for store in server.world.stores_of(shop.domain):
        for order in server.world.orders_touching(store.id, start, end):
            if (
                not order.is_return
                and start <= order.created_at < end
                and order.visible_at(FROZEN_AT)
            ):
                found.append((store, order))
    return sorted(
        found, key=lambda pair: (pair[1].created_at, numeric_id(SEED, 13, "Order", pair[1].id))
    )


def _expected_order(
    server: ShopifyGraphQLServer, shop: Shop, store: Store, order: Order
) -> dict[str, Any]:
    currency = shop.currency
    state = order.state_at(FROZEN_AT)
    location = None if store.kind == "online" else {"id": f"gid://shopify/Location/{store.id}"}
    index = server.world.variation_index(shop.domain)
    lines = []
    for line in order.lines:
        sku = None
        if line.variation_id:
            item, position = index[line.variation_id]
            sku = item.variations[position].sku
        lines.append(
            {
                "id": gid("LineItem", line.uid),
                "quantity": 1 if line.sold_by_weight else int(line.quantity),
                "sku": sku,
                "originalUnitPriceSet": {
                    "shopMoney": {
                        "amount": amount(
                            line.gross_minor if line.sold_by_weight else line.base_price_minor,
                            currency,
                        )
                    }
                },
                "discountedTotalSet": {
                    "shopMoney": {
                        "amount": amount(line.gross_minor - line.discount_minor, currency)
                    }
                },
            }
        )
    refunds = []
    refund = order.refund_at(FROZEN_AT)
    if refund is not None:
        day = order.created_at.astimezone(ZoneInfo(store.timezone)).date()
        returned = next(
            o
            for o in server.world.orders_of_store_day(store.id, day)
            if o.id == refund.return_order_id
        )
        refunds.append(
            {
                "createdAt": stamp(refund.created_at),
                "refundLineItems": {
                    "nodes": [
                        {
                            "quantity": 1 if r.sold_by_weight else int(r.quantity),
                            "lineItem": {"id": gid("LineItem", r.source_line_uid)},
                        }
                        for r in returned.return_lines
                    ]
                },
            }
        )
    closed = state == "COMPLETED"
    total = sum(line.total_minor for line in order.lines)
    financial = {"COMPLETED": "PAID", "CANCELED": "VOIDED"}.get(state, "PENDING")
    if refund is not None:
        financial = "REFUNDED" if refund.amount_minor >= total else "PARTIALLY_REFUNDED"
    return {
        "id": gid("Order", order.id),
        "createdAt": stamp(order.created_at),
        "processedAt": stamp(order.closed_at if closed and order.closed_at else order.created_at),
        "cancelledAt": stamp(order.closed_at) if state == "CANCELED" and order.closed_at else None,
        "cancelReason": "CUSTOMER" if state == "CANCELED" else None,
        "displayFinancialStatus": financial,
        "location": location,
        "retailLocation": location,
        "totalPriceSet": {
            "shopMoney": {"amount": amount(total, currency), "currencyCode": currency}
        },
        "totalTaxSet": {
            "shopMoney": {"amount": amount(sum(li.tax_minor for li in order.lines), currency)}
        },
        "lineItems": {"nodes": lines},
        "refunds": refunds,
    }


def test_paging_a_day_of_orders_returns_the_world_orders(server: ShopifyGraphQLServer) -> None:
    shop = shop_with_pos(server)
    zone = ZoneInfo(shop.timezone)
    day = FROZEN_AT.astimezone(zone).date() - timedelta(days=5)
    start = datetime.combine(day, time(0), zone).astimezone(UTC)
    end = datetime.combine(day + timedelta(days=1), time(0), zone).astimezone(UTC)
    # tap-shopify's style: quoted, space-separated timestamps with an offset.
    query = (
        f"created_at:>='{start:%Y-%m-%d %H:%M:%S+00:00}' AND "
        f"created_at:<'{end:%Y-%m-%d %H:%M:%S+00:00}'"
    )
    orders = page_through(server, shop, ORDERS, ("orders",), {"q": query})
    expected_pairs = _sale_orders_created(server, shop, start, end)
    assert {s.kind for s, _ in expected_pairs} >= {"online", "physical"}
    assert any(o.refund_at(FROZEN_AT) for _, o in expected_pairs)
    assert any(o.state_at(FROZEN_AT) == "CANCELED" for _, o in expected_pairs)
    assert any(line.sold_by_weight for _, o in expected_pairs for line in o.lines)
    trimmed = [{k: v for k, v in order.items() if k not in ("name", "test")} for order in orders]
    assert trimmed == [_expected_order(server, shop, s, o) for s, o in expected_pairs]
    assert all(order["name"].startswith("#") for order in orders)
    assert len({order["name"] for order in orders}) == len(orders)


def test_updated_at_filter_and_count_agree_with_the_world(server: ShopifyGraphQLServer) -> None:
    shop = shop_with_pos(server)
    since = FROZEN_AT - timedelta(days=2)
    query = f"updated_at:>='{since:%Y-%m-%d %H:%M:%S+00:00}'"
    counted = server.data(
        shop, "query($q: String!) { ordersCount(query: $q) { count precision } }", {"q": query}
    )
    orders = page_through(
        server,
        shop,
        "query($q: String!, $after: String) { orders(first: 100, after: $after, query: $q) "
        "{ nodes { updatedAt } pageInfo { hasNextPage endCursor } } }",
        ("orders",),
        {"q": query},
    )
    expected = [
        order
        for store in server.world.stores_of(shop.domain)
        for order in server.world.orders_touching(store.id, since - timedelta(days=15), FROZEN_AT)
        if not order.is_return
        and order.visible_at(FROZEN_AT)
        and order.updated_at(FROZEN_AT).replace(microsecond=0) >= since
    ]
    assert counted["ordersCount"] == {"count": len(expected), "precision": "EXACT"}
    assert len(orders) == len(expected)
    assert all(o["updatedAt"] >= stamp(since) for o in orders)
    processed = [o["updatedAt"] for o in orders]
    assert processed, "the filter should keep some orders"


def test_money_bags_carry_shop_and_presentment_amounts(server: ShopifyGraphQLServer) -> None:
    shop = shop_with_pos(server)
    data = server.data(
        shop,
        "{ orders(first: 250, reverse: true) { nodes { location { id } "
        "totalPriceSet { shopMoney { amount currencyCode } presentmentMoney { amount currencyCode } } } } }",
    )
    bags = [o["totalPriceSet"] for o in data["orders"]["nodes"]]
    presented = [b for b in bags if b["presentmentMoney"]["currencyCode"] != shop.currency]
    assert presented, "some online orders are presented in another currency"
    for bag in bags:
        assert bag["shopMoney"]["currencyCode"] == shop.currency
    for bag in presented:
        rate = Decimal(bag["presentmentMoney"]["amount"]) / Decimal(bag["shopMoney"]["amount"])
        assert abs(rate - Decimal("1.09")) < Decimal("0.01")
    yen_shop = next(s for s in server.world.shops if s.currency == "JPY")
    yen = server.data(
        yen_shop, "{ orders(first: 5) { nodes { totalPriceSet { shopMoney { amount } } } } }"
    )
    assert all(
        n["totalPriceSet"]["shopMoney"]["amount"].endswith(".0") for n in yen["orders"]["nodes"]
    )


def test_shop_node_and_app_installation(server: ShopifyGraphQLServer) -> None:
    shop = shop_with_pos(server)
    data = server.data(
        shop,
        "{ shop { id name myshopifyDomain ianaTimezone currencyCode } "
        "currentAppInstallation { accessScopes { handle } } location { id isPrimary } }",
    )
    assert data["shop"] == {
        "id": f"gid://shopify/Shop/{shop.numeric_id}",
        "name": shop.name,
        "myshopifyDomain": shop.domain,
        "ianaTimezone": shop.timezone,
        "currencyCode": shop.currency,
    }
    assert {"handle": "read_orders"} in data["currentAppInstallation"]["accessScopes"]
    assert data["location"]["isPrimary"] is True
    item = next(i for i in server.world.items(shop.domain) if i.exists_at(FROZEN_AT))
    ids = [
        gid("Product", item.id),
        gid("ProductVariant", item.variations[0].id),
        data["location"]["id"],
        "gid://shopify/Product/1",
    ]
    nodes = server.data(
        shop,
        "query($ids: [ID!]!) { nodes(ids: $ids) { __typename id } }",
        {"ids": ids},
    )["nodes"]
    assert [n and n["__typename"] for n in nodes] == ["Product", "ProductVariant", "Location", None]


def test_online_orders_have_no_location_and_pos_orders_do(server: ShopifyGraphQLServer) -> None:
    shop = shop_with_pos(server)
    data = server.data(
        shop,
        "{ orders(first: 100) { nodes { sourceName location { id } retailLocation { id } } } }",
    )
    kinds = {
        (o["sourceName"], o["location"] is None, o["retailLocation"] is None)
        for o in data["orders"]["nodes"]
    }
    assert kinds == {("web", True, True), ("pos", False, False)}


def test_cursors_page_backwards_and_in_reverse(server: ShopifyGraphQLServer) -> None:
    shop = server.world.shops[0]
    forward = server.data(shop, "{ products(first: 12) { edges { cursor node { id } } } }")[
        "products"
    ]["edges"]
    middle = forward[5]["cursor"]
    before = server.data(
        shop,
        "query($c: String!) { products(last: 3, before: $c) { nodes { id } pageInfo { hasNextPage hasPreviousPage } } }",
        {"c": middle},
    )["products"]
    assert [n["id"] for n in before["nodes"]] == [e["node"]["id"] for e in forward[2:5]]
    assert before["pageInfo"] == {"hasNextPage": True, "hasPreviousPage": True}
    reverse = server.data(shop, "{ products(first: 3, reverse: true) { nodes { id } } }")[
        "products"
    ]["nodes"]
    every = page_through(
        server,
        shop,
        "query($after: String) { products(first: 50, after: $after) { nodes { id } pageInfo { hasNextPage endCursor } } }",
        ("products",),
    )
    assert [n["id"] for n in reverse] == [n["id"] for n in every[::-1][:3]]


def test_versions_fall_forward_and_are_echoed(server: ShopifyGraphQLServer) -> None:
    shop = server.world.shops[0]
    served = {}
    with server.client(shop) as client:
        for version in ("2026-10", "2026-01", "2025-01", "2031-07", "unstable", "latest"):
            reply = client.post(
                f"/admin/api/{version}/graphql.json", json={"query": "{ shop { name } }"}
            )
            served[version] = (reply.status_code, reply.headers.get("x-shopify-api-version"))
        by_shop_path = client.post(
            f"/shopify/{shop.handle}/admin/api/2026-04/graphql.json",
            json={"query": "{ shop { name } }"},
        )
    assert served == {
        "2026-10": (200, "2026-10"),
        "2026-01": (200, "2026-01"),
        "2025-01": (200, "2025-10"),
        "2031-07": (200, "2025-10"),
        "unstable": (200, "unstable"),
        "latest": (404, None),
    }
    assert by_shop_path.status_code == 200
    assert by_shop_path.json()["data"]["shop"]["name"] == shop.name


def test_an_unknown_token_is_refused_by_the_resolver(server: ShopifyGraphQLServer) -> None:
    shop = server.world.shops[0]
    with server.client(shop) as client:
        client.headers["X-Shopify-Access-Token"] = "shpat_nobody"
        reply = client.post("/admin/api/2026-10/graphql.json", json={"query": "{ shop { name } }"})
    assert reply.status_code == 401
    assert token_for(shop) not in reply.text


def test_a_token_without_the_scope_is_denied(server: ShopifyGraphQLServer) -> None:
    shop = server.world.shops[0]
    with server.client(shop) as client:
        client.headers["X-Shopify-Access-Token"] = token_for(shop, ("read_products",))
        reply = client.post(
            "/admin/api/2026-10/graphql.json",
            json={
                "query": "{ products(first: 1) { nodes { id } } orders(first: 1) { nodes { id } } }"
            },
        )
    body = reply.json()
    assert reply.status_code == 200
    assert body["data"] is None
    (error,) = body["errors"]
    assert error["message"] == (
        "Access denied for orders field. Required access: `read_orders` access scope."
    )
    assert error["path"] == ["orders"]
    assert error["extensions"] == {
        "code": "ACCESS_DENIED",
        "documentation": "https://shopify.dev/api/usage/access-scopes",
        "requiredAccess": "`read_orders` access scope.",
    }
