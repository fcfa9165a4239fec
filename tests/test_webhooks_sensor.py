"""From signed webhook to `transactions`: the sandbox's sales events, delivered three times and
out of order to the receiver, are applied by the sensor's runs so each line lands exactly once and
the day equals the truth; events that cannot be applied end as dead letters and replay."""

import json
import random
from collections.abc import Iterator
from datetime import timedelta
from typing import Any

import dagster as dg
import httpx
import pytest
from click.testing import CliRunner
from conftest import FROZEN_NOW, SEED
from warehouse_helpers import lakehouse
from webhook_helpers import Receiver, SensorScene, first_attempt, reconciliation, running_receiver

from shelfops_pipeline.cli import cli
from shelfops_pipeline.sandbox.square.serialize import SquareSerializer
from shelfops_pipeline.sandbox.square.webhook_events import square_events_between
from shelfops_pipeline.sandbox.square.webhook_signing import square_message
from shelfops_pipeline.sandbox.truth import COLUMNS, truth_lines
from shelfops_pipeline.sandbox.webhook_delivery import WebhookMessage
from shelfops_pipeline.warehouse.jobs import TRANSACTIONS_JOB, warehouse_jobs
from shelfops_pipeline.warehouse.partitions import customer_day
from shelfops_pipeline.warehouse.resources import WarehouseResource
from shelfops_pipeline.webhooks.checks import webhook_checks
from shelfops_pipeline.webhooks.sensors import MAX_ATTEMPTS, webhook_events_sensor


@pytest.fixture(scope="module")
def scene(tmp_path_factory: pytest.TempPathFactory) -> Iterator[SensorScene]:
    with lakehouse(tmp_path_factory.mktemp("home")) as house:
        for customer in sorted(house.customers):
            house.materialize(["square/locations", "stores"], customer)
        assets, checks = house.definitions()
        defs = dg.Definitions(
            assets=assets,
            asset_checks=[*checks, *webhook_checks],
            jobs=warehouse_jobs,
            sensors=[webhook_events_sensor],
            resources=house.resources,
        )
        with running_receiver(house.home) as receiver:
            yield SensorScene(house, receiver, defs)


def sales_messages(scene: SensorScene, count: int) -> list[WebhookMessage]:
    world = scene.house.world
    start = FROZEN_NOW - timedelta(hours=12)
    events = square_events_between(world, SquareSerializer(SEED), start, FROZEN_NOW)
    sales = [e for e in events if e["type"].split(".")[0] in ("order", "payment")]
    return [square_message(e) for e in sales[-count:]]


def deliver(receiver: Receiver, messages: list[WebhookMessage], times: int) -> None:
    sends = [m for m in messages for _ in range(times)]
    random.Random(7).shuffle(sends)
    signer = receiver.square_signer()
    for message in sends:
        headers = signer.headers(first_attempt(message))
        reply = httpx.post(receiver.square_url, content=message.body, headers=headers, timeout=10)
        assert reply.status_code == 200


def truth_of(scene: SensorScene, customer: str, day: Any) -> set[tuple[Any, ...]]:
    return {
        tuple(getattr(line, name) for name in COLUMNS)
        for line in truth_lines(scene.house.world, day)
        if line.customer_id == customer and line.source_system == "square"
    }


def test_sales_delivered_three_times_out_of_order_land_exactly_once(scene: SensorScene) -> None:
    messages = sales_messages(scene, 30)
    deliver(scene.receiver, messages, 3)
    result = scene.tick(None)
    assert isinstance(result, dg.SensorResult) and result.run_requests
    assert {r.job_name for r in result.run_requests} == {TRANSACTIONS_JOB}
    assert len({r.run_key for r in result.run_requests}) == len(result.run_requests)
    # A tick replayed (its cursor lost) asks for the same runs: Dagster launches a run key once.
    again = scene.tick(None)
    assert isinstance(again, dg.SensorResult)
    assert {r.run_key for r in again.run_requests} == {r.run_key for r in result.run_requests}
    for request in result.run_requests:
        run = scene.run(request)
        assert run.success
        assert reconciliation(run).passed
    idle = scene.tick(result.cursor)
    assert isinstance(idle, dg.SkipReason) and "no new webhook events" in str(idle.skip_message)
    assert scene.receiver.queue.counts() == {"applied": len(messages)}
    for request in result.run_requests:
        customer, day = _customer_day(request.partition_key)
        rows = scene.house.query(
            f"SELECT {', '.join(COLUMNS)} FROM shelfops.transactions "
            "WHERE customer_id = ? AND business_date = ?",
            customer,
            day,
        )
        assert len(rows) == len(set(rows)) and rows
        assert set(rows) == truth_of(scene, customer, day)
    deliver(scene.receiver, messages, 1)
    assert isinstance(scene.tick(result.cursor), dg.SkipReason)


def test_a_completed_order_announced_but_absent_fails_reconciliation(scene: SensorScene) -> None:
    message = next(m for m in sales_messages(scene, 30) if m.topic == "payment.updated")
    event = _json(message.body)
    event["event_id"] = "ghost-payment"
    event["data"]["object"]["payment"] |= {"order_id": "GHOSTORDER", "status": "COMPLETED"}
    deliver(scene.receiver, [square_message(event)], 1)
    before = str(scene.receiver.queue.all_events()[-2].row)
    result = scene.tick(before)
    assert isinstance(result, dg.SensorResult) and len(result.run_requests) == 1
    check = reconciliation(scene.run(result.run_requests[0]))
    assert not check.passed
    assert check.metadata["received_not_reflected"].value == 1
    assert check.metadata["received_not_reflected_examples"].value == "GHOSTORDER"


def _customer_day(key: str | None) -> tuple[str, Any]:
    parsed = customer_day(str(key))
    return parsed.customer_id, parsed.day


def test_an_event_nobody_can_apply_becomes_a_dead_letter_and_replays(scene: SensorScene) -> None:
    message = sales_messages(scene, 1)[0]
    stranger = square_message(
        {**_json(message.body), "merchant_id": "MLUNKNOWN0000", "event_id": "dead-letter-1"}
    )
    deliver(scene.receiver, [stranger], 1)
    cursor = str(scene.receiver.queue.all_events()[-2].row)
    for attempt in range(MAX_ATTEMPTS):
        later = WarehouseResource(
            shelfops_home=str(scene.house.home),
            as_of=(FROZEN_NOW + timedelta(minutes=3 * attempt)).isoformat(),
        )
        result = scene.tick(cursor, later)
        cursor = result.cursor if isinstance(result, dg.SensorResult) else cursor
    letters = scene.receiver.queue.dead_letters()
    assert [letter.event_id for letter in letters] == ["dead-letter-1"]
    assert "no active square connection for MLUNKNOWN0000" in letters[0].reason
    runner = CliRunner()
    listed = runner.invoke(cli, ["webhooks", "dead-letters"])
    assert listed.exit_code == 0 and "dead-letter-1" in listed.output
    replayed = runner.invoke(cli, ["webhooks", "replay", "--event-id", "dead-letter-1"])
    assert replayed.exit_code == 0 and "replayed 1" in replayed.output
    assert scene.receiver.queue.dead_letters() == []
    assert scene.receiver.queue.after(int(cursor or 0), 10)[0].event_id == "dead-letter-1"


def _json(body: bytes) -> dict[str, Any]:
    parsed: dict[str, Any] = json.loads(body)
    return parsed
