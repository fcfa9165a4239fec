"""Square orders, parsed and mapped, give exactly the sandbox's ground truth for every day."""

from collections import defaultdict
from datetime import timedelta

from conftest import FROZEN_NOW, Running
from square_helpers import page_all

from shelfops_pipeline.sandbox.truth import truth_lines
from shelfops_pipeline.sources.square.mapping import transaction_rows
from shelfops_pipeline.sources.square.models import parse_location, parse_order


def test_every_business_date_maps_to_the_truth(small_sandbox: Running) -> None:
    world = small_sandbox.sandbox.world
    mapped = defaultdict(set)
    for index, merchant in enumerate(world.square_merchants):
        customer = world.customer_of_merchant(merchant).id
        with small_sandbox.client(index) as client:
            locations = {
                loc["id"]: parse_location(loc)
                for loc in client.get("/v2/locations").json()["locations"]
            }
            body = {
                "location_ids": list(locations),
                "limit": 1000,
                "query": {
                    "filter": {
                        "date_time_filter": {
                            "closed_at": {"start_at": world.history_start.isoformat()}
                        }
                    },
                    "sort": {"sort_field": "CLOSED_AT", "sort_order": "ASC"},
                },
            }
            orders, _ = page_all(client, "POST", "/v2/orders/search", body, "orders")
        for raw in orders:
            order = parse_order(raw)
            for row in transaction_rows(order, locations[order.location_id], customer):
                mapped[row.business_date].add(row)
    day = world.start_date + timedelta(days=1)
    checked = 0
    while day < FROZEN_NOW.date():
        expected = {
            (t.transaction_id, t.customer_id, t.store_id, t.product_id, t.kind, t.quantity,
             t.unit_price, t.discount, t.tax, t.net_amount, t.currency, t.occurred_at)
            for t in truth_lines(world, day)
            if t.source_system == "square"
        }  # fmt: skip
        got = {
            (r.transaction_id, r.customer_id, r.store_id, r.product_id, r.kind, r.quantity,
             r.unit_price, r.discount, r.tax, r.net_amount, r.currency, r.occurred_at)
            for r in mapped[day]
        }  # fmt: skip
        assert got == expected, day
        checked += 1
        day += timedelta(days=1)
    assert checked >= 9
