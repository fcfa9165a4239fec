"""Shopify's legacy REST Admin API in the sandbox, over real loopback HTTP.

Paging products, inventory levels and a day of orders by the `Link` header gives back exactly
the seeded world; the leaky bucket, `page_info` rules and limits answer as Shopify does.
"""

import base64
import json
import time
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from datetime import time as day_time
from decimal import Decimal
from typing import Any
from zoneinfo import ZoneInfo

import httpx
import pytest
from conftest import FROZEN_NOW, SEED

from shelfops_pipeline.sandbox.runner import serve_in_thread
from shelfops_pipeline.sandbox.server import Sandbox, build_sandbox
from shelfops_pipeline.sandbox.settings import SandboxSettings
from shelfops_pipeline.sandbox.shopify.model import ShopifyView
from shelfops_pipeline.sandbox.world.config import minor_unit_digits
from shelfops_pipeline.sandbox.world.entities import Shop
from shelfops_pipeline.sandbox.world.ids import numeric_id
from shelfops_pipeline.sandbox.world.money import to_major

VERSION = "2026-10"


@pytest.fixture(scope="module")
def served() -> Iterator[tuple[Sandbox, str]]:
    sandbox = build_sandbox(SandboxSettings(seed=SEED, scale="small", frozen_at=FROZEN_NOW))
    with serve_in_thread(sandbox.app) as base_url:
        yield sandbox, base_url


def shop_client(sandbox: Sandbox, base_url: str, shop: Shop) -> httpx.Client:
    token = sandbox.shopify_tokens.custom_apps[shop.domain].access_token
    return httpx.Client(
        base_url=f"{base_url}/shopify/{shop.handle}/admin/api/{VERSION}",
        headers={"X-Shopify-Access-Token": token},
        timeout=30,
    )


def links(response: httpx.Response) -> dict[str, str]:
    """rel -> URL from a `Link` header."""
    found = {}
    for part in response.headers.get("link", "").split(", "):
        if part:
            url, rel = part.split("; ")
            found[rel.removeprefix('rel="').rstrip('"')] = url.strip("<>")
    return found


def page_all(client: httpx.Client, path: str, params: dict[str, Any], key: str) -> list[Any]:
    items: list[Any] = []
    response = client.get(path, params=params)
    for _ in range(1000):
        assert response.status_code == 200, response.text
        items.extend(response.json()[key])
        following = links(response).get("next")
        if following is None:
            return items
        response = client.get(following)
    raise AssertionError(f"{path} never stopped paging")


def major(minor: int, currency: str) -> Decimal:
    return to_major(minor, minor_unit_digits(currency))


@pytest.fixture(scope="module", params=[0, 1], ids=["jpy-shop", "aud-shop"])
def shop(served: tuple[Sandbox, str], request: pytest.FixtureRequest) -> Shop:
    return served[0].world.shops[request.param]


def test_products_paged_by_link_are_the_worlds_items_with_their_variants(
    served: tuple[Sandbox, str], shop: Shop
) -> None:
    sandbox, base_url = served
    world = sandbox.world
    with shop_client(sandbox, base_url, shop) as client:
        products = page_all(client, "/products.json", {"limit": 7}, "products")
    items = [i for i in world.items(shop.domain) if i.exists_at(FROZEN_NOW)]
    assert len(products) == len(items) > 7
    ids = [p["id"] for p in products]
    assert ids == sorted(ids) and len(set(ids)) == len(ids)
    expected = {
        v.sku: str(major(v.price_at(FROZEN_NOW), shop.currency))
        for item in items
        for v in item.variations
    }
    shown = {v["sku"]: v["price"] for p in products for v in p["variants"]}
    assert shown == expected
    titles = {p["title"] for p in products}
    assert titles == {i.name_at(FROZEN_NOW) for i in items}
    variant = products[0]["variants"][0]
    assert variant["product_id"] == products[0]["id"]
    assert variant["admin_graphql_api_id"] == f"gid://shopify/ProductVariant/{variant['id']}"
    offset = FROZEN_NOW.astimezone(ZoneInfo(shop.timezone)).isoformat()[-6:]
    assert products[0]["updated_at"].endswith(offset)


def test_inventory_levels_paged_by_link_are_every_variant_at_every_location(
    served: tuple[Sandbox, str], shop: Shop
) -> None:
    sandbox, base_url = served
    view = ShopifyView(sandbox.world)
    locations = [loc.id for loc in view.locations(shop)]
    params = {"location_ids": ",".join(map(str, locations)), "limit": 50}
    with shop_client(sandbox, base_url, shop) as client:
        levels = page_all(client, "/inventory_levels.json", params, "inventory_levels")
    expected = {
        (level.inventory_item_id, level.location_id): level.quantities["available"]
        for level in view.inventory_levels(shop, FROZEN_NOW)
    }
    shown = {(lv["inventory_item_id"], lv["location_id"]): lv["available"] for lv in levels}
    assert len(levels) == len(shown) == len(expected) > 50
    assert shown == expected
    stores = {int(s.id): s for s in sandbox.world.stores_of(shop.domain) if s.kind == "physical"}
    for variant in view.variants(shop, FROZEN_NOW):
        for location_id, store in stores.items():
            curve = sandbox.world.stock(
                variant.variation.id, store.id, variant.variation.sold_by_weight
            )
            key = (variant.inventory_item_id, location_id)
            assert shown[key] == curve.level(curve.hour_of(FROZEN_NOW))


def test_a_day_of_orders_paged_newest_first_is_the_worlds_sales_of_that_day(
    served: tuple[Sandbox, str], shop: Shop
) -> None:
    sandbox, base_url = served
    world = sandbox.world
    zone = ZoneInfo(shop.timezone)
    day = (FROZEN_NOW - timedelta(days=3)).astimezone(zone).date()
    start = datetime.combine(day, day_time(0), zone)
    end = start + timedelta(days=1) - timedelta(seconds=1)
    params = {
        "status": "any",
        "created_at_min": start.isoformat(),
        "created_at_max": end.isoformat(),
        "limit": 9,
    }
    with shop_client(sandbox, base_url, shop) as client:
        orders = page_all(client, "/orders.json", params, "orders")
    sales = {
        numeric_id(SEED, 13, "Order", order.id): order
        for store in world.stores_of(shop.domain)
        for order in world.orders_touching(store.id, start, end)
        if not order.is_return
        and order.visible_at(FROZEN_NOW)
        and start <= order.created_at < end + timedelta(seconds=1)
    }
    assert len(orders) == len(sales) > 9
    assert {o["id"] for o in orders} == set(sales)
    created = [datetime.fromisoformat(o["created_at"]) for o in orders]
    assert created == sorted(created, reverse=True)
    for shown in orders:
        order = sales[shown["id"]]
        total = sum(li.gross_minor - li.discount_minor + li.tax_minor for li in order.lines)
        assert Decimal(shown["total_price"]) == major(total, shop.currency)
        assert len(shown["line_items"]) == len(order.lines)
        store = world.store(order.store_id)
        assert store is not None
        assert shown["location_id"] == (None if store.kind == "online" else int(store.id))
        closed = order.closed_at_as_of(FROZEN_NOW)
        expected = {"COMPLETED": "paid", "CANCELED": "voided"}.get(order.state_at(FROZEN_NOW))
        if order.refund_at(FROZEN_NOW):
            assert shown["financial_status"] in ("partially_refunded", "refunded")
        else:
            assert shown["financial_status"] == (expected or "pending")
        if order.state_at(FROZEN_NOW) == "COMPLETED" and closed is not None:
            processed = datetime.fromisoformat(shown["processed_at"])
            assert processed == closed.replace(microsecond=0)


def test_the_previous_link_leads_back_to_the_page_before(served: tuple[Sandbox, str]) -> None:
    sandbox, base_url = served
    with shop_client(sandbox, base_url, sandbox.world.shops[1]) as client:
        first = client.get("/orders.json", params={"status": "any", "limit": 5})
        assert "previous" not in links(first)
        second = client.get(links(first)["next"])
        assert second.status_code == 200
        back = client.get(links(second)["previous"])
    assert [o["id"] for o in back.json()["orders"]] == [o["id"] for o in first.json()["orders"]]
    assert set(links(second)) == {"previous", "next"}


def test_only_open_orders_without_status_any(served: tuple[Sandbox, str]) -> None:
    sandbox, base_url = served
    with shop_client(sandbox, base_url, sandbox.world.shops[1]) as client:
        default = page_all(client, "/orders.json", {"limit": 250}, "orders")
        everything = page_all(client, "/orders.json", {"limit": 250, "status": "any"}, "orders")
    assert all(o["closed_at"] is None and o["cancelled_at"] is None for o in default)
    assert {o["financial_status"] for o in default} == {"pending"}
    assert len(everything) > 10 * len(default) > 0


def test_fields_keeps_only_the_named_fields_across_pages(served: tuple[Sandbox, str]) -> None:
    sandbox, base_url = served
    with shop_client(sandbox, base_url, sandbox.world.shops[0]) as client:
        first = client.get("/products.json", params={"limit": 3, "fields": "id,title"})
        second = client.get(links(first)["next"])
    for page in (first, second):
        assert all(set(p) == {"id", "title"} for p in page.json()["products"])
    assert "fields=id%2Ctitle" in links(first)["next"]


def test_page_info_with_other_parameters_is_refused_in_shopifys_words(
    served: tuple[Sandbox, str],
) -> None:
    sandbox, base_url = served
    with shop_client(sandbox, base_url, sandbox.world.shops[1]) as client:
        first = client.get("/orders.json", params={"status": "any", "limit": 2})
        following = links(first)["next"]
        mixed = client.get(following + "&created_at_min=2026-11-01T00:00:00Z")
        page = client.get("/orders.json", params={"page": 2})
        tampered = client.get("/orders.json", params={"page_info": "bm90IGpzb24", "limit": 2})
    assert mixed.status_code == 400
    assert mixed.json() == {
        "errors": {
            "created_at_min": "created_at_min cannot be passed when page_info is present. "
            "See https://shopify.dev/api/usage/pagination-rest for more information."
        }
    }
    assert (page.status_code, page.json()) == (400, {"errors": {"page": "page cannot be passed."}})
    assert tampered.status_code == 400
    assert tampered.json() == {"errors": {"page_info": "Invalid value."}}
    carried = following.split("page_info=")[1].split("&")[0]
    decoded = json.loads(base64.urlsafe_b64decode(carried + "=" * (-len(carried) % 4)))
    assert decoded["status"] == "any" and decoded["direction"] == "next"


def test_limits_and_required_filters(served: tuple[Sandbox, str]) -> None:
    sandbox, base_url = served
    with shop_client(sandbox, base_url, sandbox.world.shops[0]) as client:
        too_many = client.get("/orders.json", params={"limit": 251})
        unfiltered = client.get("/inventory_levels.json")
        bad_date = client.get("/orders.json", params={"created_at_min": "yesterday"})
        default = client.get("/products.json")
    assert (too_many.status_code, too_many.json()) == (
        400,
        {"errors": "Limit exceeds maximum limit of 250"},
    )
    assert unfiltered.status_code == 422 and isinstance(unfiltered.json()["errors"], str)
    assert bad_date.status_code == 400 and "created_at_min" in bad_date.json()["errors"]
    assert len(default.json()["products"]) == 50
    assert default.headers["x-shopify-api-deprecated-reason"].startswith("https://shopify.dev/")


def test_the_41st_rapid_call_spills_the_bucket_with_a_fractional_retry_after() -> None:
    sandbox = build_sandbox(SandboxSettings(seed=SEED, scale="small", frozen_at=FROZEN_NOW))
    with serve_in_thread(sandbox.app) as base_url:
        with shop_client(sandbox, base_url, sandbox.world.shops[0]) as client:
            started = time.monotonic()
            replies = [client.get("/shop.json") for _ in range(41)]
            elapsed = time.monotonic() - started
        with shop_client(sandbox, base_url, sandbox.world.shops[1]) as client:
            other_shop = client.get("/shop.json")
    assert elapsed < 0.5, "40 calls must pour in faster than the bucket leaks one"
    assert [r.status_code for r in replies] == [200] * 40 + [429]
    counts = [r.headers["x-shopify-shop-api-call-limit"] for r in replies[:40]]
    assert counts == [f"{n}/40" for n in range(1, 41)]
    spilled = replies[40]
    assert float(spilled.headers["retry-after"]) == 2.0 and "." in spilled.headers["retry-after"]
    assert "x-shopify-shop-api-call-limit" not in spilled.headers
    assert spilled.json() == {
        "errors": "Exceeded 2 calls per second for api client. "
        "Reduce request rates to resume uninterrupted service."
    }
    assert other_shop.status_code == 200, "each shop has its own bucket"
    assert other_shop.headers["x-shopify-shop-api-call-limit"] == "1/40"


def test_the_bucket_leaks_two_calls_a_second(served: tuple[Sandbox, str]) -> None:
    sandbox, base_url = served
    with shop_client(sandbox, base_url, sandbox.world.shops[1]) as client:
        before = int(client.get("/shop.json").headers["x-shopify-shop-api-call-limit"][:-3])
        time.sleep(1.1)
        after = int(client.get("/shop.json").headers["x-shopify-shop-api-call-limit"][:-3])
    assert after <= max(1, before - 1)


def test_timestamps_carry_the_shops_offset_and_money_its_decimals(
    served: tuple[Sandbox, str],
) -> None:
    sandbox, base_url = served
    for shop in sandbox.world.shops:
        with shop_client(sandbox, base_url, shop) as client:
            order = client.get("/orders.json", params={"status": "any", "limit": 1}).json()
        shown = order["orders"][0]
        created = datetime.fromisoformat(shown["created_at"])
        assert created.utcoffset() == created.astimezone(ZoneInfo(shop.timezone)).utcoffset()
        assert created.tzinfo is not None and created.astimezone(UTC) <= FROZEN_NOW
        digits = minor_unit_digits(shop.currency)
        assert -Decimal(shown["total_price"]).as_tuple().exponent == digits
        assert shown["total_price_set"]["shop_money"] == {
            "amount": shown["total_price"],
            "currency_code": shop.currency,
        }
