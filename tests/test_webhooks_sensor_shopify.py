"""Shopify's signed sales webhooks into `transactions`: the sandbox's orders and refunds events of
the last hours, delivered three times and out of order, are applied by the sensor's runs so each
line lands exactly once and the days equal the truth; the reconciliation check passes, and flags
a paid order that was announced but never arrived."""

import json
import random
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

import dagster as dg
import httpx
import pytest
from conftest import FROZEN_NOW
from warehouse_helpers import QUIET, connect_shops, lakehouse
from webhook_helpers import (
    Receiver,
    SensorScene,
    reconciliation,
    running_receiver,
    shopify_headers,
)

from shelfops_pipeline.sandbox.shopify.model import ShopifyView
from shelfops_pipeline.sandbox.shopify.webhook_events import shopify_events_between
from shelfops_pipeline.sandbox.truth import COLUMNS, truth_lines
from shelfops_pipeline.sandbox.webhook_delivery import WebhookMessage
from shelfops_pipeline.sources.shopify.assets import shopify_assets, shopify_reader
from shelfops_pipeline.sources.square.assets import square_assets, square_reader
from shelfops_pipeline.warehouse.assets import build_unified_assets
from shelfops_pipeline.warehouse.checks import build_unified_checks
from shelfops_pipeline.warehouse.jobs import TRANSACTIONS_JOB, warehouse_jobs
from shelfops_pipeline.warehouse.partitions import customer_day
from shelfops_pipeline.webhooks.checks import webhook_checks
from shelfops_pipeline.webhooks.sensors import webhook_events_sensor

READERS = [square_reader, shopify_reader]
SALES_TOPICS = ("orders/create", "orders/updated", "orders/cancelled", "refunds/create")


@dataclass
class Scene(SensorScene):
    customer: str
    domain: str


@pytest.fixture(scope="module")
def scene(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Scene]:
    with lakehouse(tmp_path_factory.mktemp("home")) as house:
        base_url = house.resources["square"].base_url.removesuffix("/square")
        shops = connect_shops(house, base_url)
        customer = next(c for c in shops if c not in house.customers)
        house.instance.add_dynamic_partitions("customers", [customer])
        assets = [*square_assets, *shopify_assets, *build_unified_assets(READERS)]
        defs = dg.Definitions(
            assets=assets,
            asset_checks=[*build_unified_checks(READERS), *webhook_checks],
            jobs=warehouse_jobs,
            sensors=[webhook_events_sensor],
            resources=house.resources,
        )
        first = [a for a in assets if a.key.to_user_string() in ("shopify/locations", "stores")]
        dg.materialize(
            first,
            partition_key=customer,
            resources=house.resources,
            instance=house.instance,
            run_config=QUIET,
        )
        with running_receiver(house.home) as receiver:
            yield Scene(house, receiver, defs, customer, shops[customer])


def sales_messages(scene: Scene) -> list[WebhookMessage]:
    start = FROZEN_NOW - timedelta(hours=36)
    return [
        m
        for m in shopify_events_between(scene.house.world, start, FROZEN_NOW)
        if m.topic in SALES_TOPICS and m.attributes["shop"] == scene.domain
    ]


def deliver(receiver: Receiver, messages: list[WebhookMessage], times: int) -> None:
    sends = [m for m in messages for _ in range(times)]
    random.Random(11).shuffle(sends)
    for message in sends:
        reply = httpx.post(
            receiver.shopify_url, content=message.body, headers=shopify_headers(message)
        )
        assert reply.status_code == 200, reply.text


def truth_of(scene: Scene, day: Any) -> set[tuple[Any, ...]]:
    view = ShopifyView(scene.house.world)
    shop = next(s for s in scene.house.world.shops if s.customer_id == scene.customer)
    rows = set()
    for line in truth_lines(scene.house.world, day):
        if line.customer_id != scene.customer or line.source_system != "shopify":
            continue
        row = {name: getattr(line, name) for name in COLUMNS}
        # Shopify's API shows no variant for a line whose variant was deleted since.
        if row["product_id"] and view.variant(shop, int(row["product_id"]), FROZEN_NOW) is None:
            row["product_id"] = ""
        rows.add(tuple(row[name] for name in COLUMNS))
    return rows


def test_shopify_sales_delivered_three_times_out_of_order_land_exactly_once(scene: Scene) -> None:
    messages = sales_messages(scene)
    assert len(messages) >= 5
    deliver(scene.receiver, messages, 3)
    result = scene.tick(None)
    assert isinstance(result, dg.SensorResult) and result.run_requests
    assert {r.job_name for r in result.run_requests} == {TRANSACTIONS_JOB}
    for request in result.run_requests:
        run = scene.run(request)
        assert run.success
        check = reconciliation(run)
        assert check.passed, check.metadata
    idle = scene.tick(result.cursor)
    assert isinstance(idle, dg.SkipReason)
    assert scene.receiver.queue.counts() == {"applied": len(messages)}
    for request in result.run_requests:
        parsed = customer_day(str(request.partition_key))
        assert parsed.customer_id == scene.customer
        rows = scene.house.query(
            f"SELECT {', '.join(COLUMNS)} FROM shelfops.transactions "
            "WHERE customer_id = ? AND business_date = ?",
            scene.customer,
            parsed.day,
        )
        assert len(rows) == len(set(rows))
        assert set(rows) == truth_of(scene, parsed.day)


def test_a_paid_order_announced_but_absent_fails_reconciliation(scene: Scene) -> None:
    template = next(m for m in sales_messages(scene) if m.topic == "orders/create")
    order = json.loads(template.body)
    order |= {"id": 999_000_111, "financial_status": "paid", "cancelled_at": None, "test": False}
    ghost = WebhookMessage(
        "ghost-order-create", template.topic, json.dumps(order).encode(), template.attributes
    )
    deliver(scene.receiver, [ghost], 1)
    before = str(scene.receiver.queue.all_events()[-2].row)
    result = scene.tick(before)
    assert isinstance(result, dg.SensorResult) and len(result.run_requests) == 1
    check = reconciliation(scene.run(result.run_requests[0]))
    assert not check.passed
    assert check.metadata["received_not_reflected"].value == 1
    assert check.metadata["received_not_reflected_examples"].value == "999000111"
