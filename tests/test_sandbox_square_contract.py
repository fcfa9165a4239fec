"""Every reply the Square emulation gives, over the whole seeded world, fits Square's OpenAPI document."""

import pytest
from conftest import Running
from square_contract import assert_square_reply
from square_helpers import page_all


@pytest.mark.parametrize("merchant_index", [0, 1, 2])
def test_every_reply_for_a_whole_merchant_fits_the_spec(
    small_sandbox: Running, merchant_index: int
) -> None:
    world = small_sandbox.sandbox.world
    merchant = world.square_merchants[merchant_index]
    store_ids = [s.id for s in world.stores_of(merchant)]
    replies: list[tuple[str, str, dict]] = []
    with small_sandbox.client(merchant_index) as client:
        replies.append(("GET", "/v2/locations", client.get("/v2/locations").json()))
        lists = [
            ("GET", "/v2/catalog/list", {}, "objects"),
            ("GET", "/v2/catalog/list", {"types": "ITEM,ITEM_VARIATION,CATEGORY,TAX,DISCOUNT,MEASUREMENT_UNIT"}, "objects"),
            ("POST", "/v2/catalog/search", {"include_deleted_objects": True, "object_types": ["ITEM", "ITEM_VARIATION"]}, "objects"),
            ("POST", "/v2/inventory/counts/batch-retrieve", {"limit": 1000}, "counts"),
            (
                "POST",
                "/v2/inventory/changes/batch-retrieve",
                {"limit": 1000},
                "changes",
            ),
            ("POST", "/v2/orders/search", {"location_ids": store_ids, "limit": 1000}, "orders"),
            ("POST", "/v2/orders/search", {"location_ids": store_ids, "return_entries": True}, "order_entries"),
        ]  # fmt: skip
        orders = []
        for method, path, body, key in lists:
            items, pages = page_all(client, method, path, body, key)
            assert items, f"{path} returned nothing for {body}"
            replies.extend((method, path, page) for page in pages)
            if path == "/v2/orders/search" and key == "orders":
                orders = items
        assert any(o.get("returns") for o in orders) and any(o.get("refunds") for o in orders)
        assert {o["state"] for o in orders} == {"OPEN", "COMPLETED", "CANCELED"}
        for chunk in range(0, len(orders), 100):
            ids = [o["id"] for o in orders[chunk : chunk + 100]]
            replies.append(
                (
                    "POST",
                    "/v2/orders/batch-retrieve",
                    client.post("/v2/orders/batch-retrieve", json={"order_ids": ids}).json(),
                )
            )
        replies.append(
            ("GET", "/v2/orders/{order_id}", client.get(f"/v2/orders/{orders[0]['id']}").json())
        )
    for method, path, body in replies:
        assert_square_reply(method, path, body)
