"""The Square emulation over loopback HTTP returns exactly the seeded world, page by page."""

from datetime import UTC, date, datetime, time, timedelta
from decimal import Decimal
from zoneinfo import ZoneInfo

from conftest import FROZEN_NOW, Running
from square_helpers import page_all

from shelfops_pipeline.sandbox.timestamps import parse_rfc3339
from shelfops_pipeline.sandbox.truth import truth_lines
from shelfops_pipeline.sandbox.world.entities import Order, Store
from shelfops_pipeline.sandbox.world.world import World


def test_locations_list_the_merchants_stores_with_their_time_zones(small_sandbox: Running) -> None:
    world = small_sandbox.sandbox.world
    merchant = world.square_merchants[0]
    with small_sandbox.client() as client:
        reply = client.get("/v2/locations")
    assert reply.status_code == 200
    assert reply.headers["square-version"] == "2025-08-20"
    locations = reply.json()["locations"]
    assert [loc["id"] for loc in locations] == [s.id for s in world.stores_of(merchant)]
    assert {loc["timezone"] for loc in locations} == {"America/New_York", "America/Los_Angeles"}
    assert all(loc["merchant_id"] == merchant for loc in locations)


def test_catalog_pages_hold_every_live_item_at_its_current_price(small_sandbox: Running) -> None:
    world = small_sandbox.sandbox.world
    merchant = world.square_merchants[0]
    with small_sandbox.client() as client:
        objects, pages = page_all(
            client, "GET", "/v2/catalog/list", {"types": "item,ITEM_VARIATION"}, "objects"
        )
    assert len(pages) > 1 and all(len(p["objects"]) <= 100 for p in pages)
    live = [i for i in world.items(merchant) if i.exists_at(FROZEN_NOW)]
    items = {o["id"]: o for o in objects if o["type"] == "ITEM"}
    assert set(items) == {i.id for i in live}
    variations = {o["id"]: o for o in objects if o["type"] == "ITEM_VARIATION"}
    for item in live:
        assert items[item.id]["item_data"]["name"] == item.name_at(FROZEN_NOW)
        for variation in item.variations:
            price = variations[variation.id]["item_variation_data"]["price_money"]["amount"]
            assert price == variation.price_at(FROZEN_NOW)


def test_catalog_search_since_a_time_returns_changes_and_deletions(small_sandbox: Running) -> None:
    world = small_sandbox.sandbox.world
    merchant = world.square_merchants[0]
    since = world.history_start + timedelta(days=2)
    body = {
        "object_types": ["ITEM"],
        "include_deleted_objects": True,
        "begin_time": since.isoformat(),
        "limit": 7,
    }
    with small_sandbox.client() as client:
        objects, pages = page_all(client, "POST", "/v2/catalog/search", body, "objects")
    expected = {
        i.id
        for i in world.items(merchant)
        if i.created_at <= FROZEN_NOW and i.updated_at(FROZEN_NOW) > since
    }
    assert {o["id"] for o in objects} == expected
    assert len(pages) == -(-len(expected) // 7)
    deleted = {
        i.id for i in world.items(merchant) if i.deleted_at and since < i.deleted_at <= FROZEN_NOW
    }
    assert {o["id"] for o in objects if o["is_deleted"]} == deleted


def test_inventory_counts_page_newest_first_and_match_the_stock_curves(
    small_sandbox: Running,
) -> None:
    world = small_sandbox.sandbox.world
    merchant = world.square_merchants[0]
    with small_sandbox.client() as client:
        counts, pages = page_all(
            client, "POST", "/v2/inventory/counts/batch-retrieve", {"limit": 40}, "counts"
        )
    assert len(pages) > 1
    calculated = [parse_rfc3339(c["calculated_at"]) for c in counts]
    assert calculated == sorted(calculated, reverse=True)
    expected = {}
    for item in world.items(merchant):
        if not item.exists_at(FROZEN_NOW):
            continue
        for variation in item.variations:
            for store in world.stores_of(merchant):
                curve = world.stock(variation.id, store.id, variation.sold_by_weight)
                expected[variation.id, store.id] = curve.quantity(curve.hour_of(FROZEN_NOW))
    assert {
        (c["catalog_object_id"], c["location_id"]): Decimal(c["quantity"]) for c in counts
    } == expected


def test_inventory_changes_rebuild_the_count_at_any_hour(small_sandbox: Running) -> None:
    world = small_sandbox.sandbox.world
    merchant = world.square_merchants[0]
    store = world.stores_of(merchant)[0]
    item = next(
        i
        for i in world.items(merchant)
        if i.exists_at(world.history_start) and i.deleted_at is None
    )
    variation = item.variations[0]
    body = {"catalog_object_ids": [variation.id], "location_ids": [store.id], "limit": 50}
    with small_sandbox.client() as client:
        changes, _ = page_all(
            client, "POST", "/v2/inventory/changes/batch-retrieve", body, "changes"
        )
    level = Decimal(0)
    for change in changes:
        if change["type"] == "PHYSICAL_COUNT":
            level = Decimal(change["physical_count"]["quantity"])
        else:
            adjustment = change["adjustment"]
            sign = -1 if adjustment["to_state"] == "SOLD" else 1
            level += sign * Decimal(adjustment["quantity"])
    curve = world.stock(variation.id, store.id, variation.sold_by_weight)
    assert level == curve.quantity(curve.hour_of(FROZEN_NOW))


def _local_day(zone: str, day: date) -> tuple[str, str]:
    start = datetime.combine(day, time(0), ZoneInfo(zone))
    end = datetime.combine(day + timedelta(days=1), time(0), ZoneInfo(zone)) - timedelta(
        microseconds=1
    )
    return start.isoformat(), end.isoformat()


def test_a_day_of_orders_pages_to_exactly_the_ground_truth(small_sandbox: Running) -> None:
    """Sold and returned lines read from SearchOrders equal `shelfops sandbox truth` for the day."""
    world = small_sandbox.sandbox.world
    merchant = world.square_merchants[0]
    day = date(2026, 11, 1)  # the US clock change: a 25-hour business day in New York
    found = set()
    with small_sandbox.client() as client:
        for store in world.stores_of(merchant):
            start, end = _local_day(store.timezone, day)
            body = {
                "location_ids": [store.id],
                "limit": 13,
                "query": {
                    "filter": {
                        "date_time_filter": {"closed_at": {"start_at": start, "end_at": end}},
                        "state_filter": {"states": ["COMPLETED"]},
                    },
                    "sort": {"sort_field": "CLOSED_AT", "sort_order": "ASC"},
                },
            }
            orders, pages = page_all(client, "POST", "/v2/orders/search", body, "orders")
            assert len(pages) > 1
            for order in orders:
                for line in order.get("line_items", []):
                    found.add((order["id"], line["uid"], "sale", Decimal(line["quantity"])))
                for returned in order.get("returns", []):
                    for line in returned["return_line_items"]:
                        found.add((order["id"], line["uid"], "return", -Decimal(line["quantity"])))
    expected = {
        (t.order_id, t.line_id, t.kind, t.quantity)
        for t in truth_lines(world, day)
        if t.customer_id == world.customer_of_merchant(merchant).id
    }
    assert expected and found == expected


def test_search_by_updated_at_sees_late_uploads_and_refunds(small_sandbox: Running) -> None:
    world = small_sandbox.sandbox.world
    merchant = world.square_merchants[0]
    stores = world.stores_of(merchant)
    since = FROZEN_NOW - timedelta(days=3)
    body = {
        "location_ids": [s.id for s in stores],
        "return_entries": True,
        "query": {
            "filter": {"date_time_filter": {"updated_at": {"start_at": since.isoformat()}}},
            "sort": {"sort_field": "UPDATED_AT", "sort_order": "ASC"},
        },
    }
    with small_sandbox.client() as client:
        entries, _ = page_all(client, "POST", "/v2/orders/search", body, "order_entries")
    expected = {
        o.id
        for s in stores
        for o in world.orders_touching(s.id, since, FROZEN_NOW)
        if o.visible_at(FROZEN_NOW) and since <= o.updated_at(FROZEN_NOW) <= FROZEN_NOW
    }
    assert {e["order_id"] for e in entries} == expected
    uploaded_late = [
        o for o in _orders(world, stores, since) if o.visible_from > since > o.created_at
    ]
    refunded = [
        o
        for o in _orders(world, stores, since)
        if o.refund and since <= o.refund.created_at <= FROZEN_NOW and o.created_at < since
    ]
    assert uploaded_late and refunded
    assert {o.id for o in uploaded_late + refunded} <= {e["order_id"] for e in entries}


def _orders(world: World, stores: list[Store], since: datetime) -> list[Order]:
    return [
        o
        for s in stores
        for o in world.orders_touching(s.id, since, FROZEN_NOW)
        if o.visible_at(FROZEN_NOW)
    ]


def test_orders_by_id_single_and_batch(small_sandbox: Running) -> None:
    world = small_sandbox.sandbox.world
    merchant = world.square_merchants[0]
    store = world.stores_of(merchant)[0]
    orders = [
        o
        for o in world.orders_of_store_day(store.id, date(2026, 11, 2))
        if o.visible_at(FROZEN_NOW)
    ]
    with small_sandbox.client() as client:
        single = client.get(f"/v2/orders/{orders[0].id}")
        batch = client.post(
            "/v2/orders/batch-retrieve", json={"order_ids": [o.id for o in orders[:5]] + ["nope"]}
        )
    assert single.status_code == 200 and single.json()["order"]["id"] == orders[0].id
    assert [o["id"] for o in batch.json()["orders"]] == [o.id for o in orders[:5]]


def test_a_merchant_cannot_read_another_merchants_orders(small_sandbox: Running) -> None:
    world = small_sandbox.sandbox.world
    other_store = world.stores_of(world.square_merchants[1])[0]
    order = next(o for o in world.orders_of_store_day(other_store.id, date(2026, 11, 2)))
    with small_sandbox.client(0) as client:
        reply = client.get(f"/v2/orders/{order.id}")
    assert reply.status_code == 404
    assert reply.json()["errors"][0]["code"] == "NOT_FOUND"


def test_money_is_in_minor_units_and_yen_has_no_decimals(small_sandbox: Running) -> None:
    world = small_sandbox.sandbox.world
    yen_store = next(s for s in world.stores if s.currency == "JPY")
    merchant_index = world.square_merchants.index(yen_store.merchant_id)
    body = {
        "location_ids": [yen_store.id],
        "query": {"filter": {"state_filter": {"states": ["COMPLETED"]}}},
        "limit": 20,
    }
    with small_sandbox.client(merchant_index) as client:
        orders = client.post("/v2/orders/search", json=body).json()["orders"]
    amounts = [
        line["base_price_money"]["amount"] for o in orders for line in o.get("line_items", [])
    ]
    assert amounts and all(isinstance(a, int) and a >= 10 for a in amounts)
    assert {o["total_money"]["currency"] for o in orders} == {"JPY"}
    assert datetime.fromisoformat(orders[0]["created_at"].replace("Z", "+00:00")).tzinfo == UTC


def test_older_square_versions_still_get_the_deprecated_category_id(small_sandbox: Running) -> None:
    with (
        small_sandbox.client(**{"Square-Version": "2023-06-08"}) as old,
        small_sandbox.client() as new,
    ):
        old_items = old.get("/v2/catalog/list", params={"types": "ITEM"}).json()["objects"]
        new_items = new.get("/v2/catalog/list", params={"types": "ITEM"}).json()["objects"]
    assert all(
        i["item_data"]["category_id"] == i["item_data"]["categories"][0]["id"] for i in old_items
    )
    assert not any("category_id" in i["item_data"] for i in new_items)
