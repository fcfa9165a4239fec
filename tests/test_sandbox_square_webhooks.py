"""Square webhooks from the sandbox: event bodies, signatures and delivery over real loopback HTTP.

A tiny Starlette receiver stands in for a subscriber: it records every raw body and header, checks
the signature with its own HMAC, and can fail, redirect or stall the first attempts so retries
show. Retry schedules run in milliseconds through `--retry-unit-seconds`.
"""

import asyncio
import base64
import hashlib
import hmac
import itertools
import json
import logging
import threading
import time
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import timedelta

import pytest
from click.testing import CliRunner, Result
from clocks import SQUARE_STORES_BUSY, FastClock
from conftest import FROZEN_NOW, SEED, Running
from square_contract import assert_square_event
from starlette.applications import Starlette
from starlette.requests import ClientDisconnect, Request
from starlette.responses import Response
from starlette.routing import Route

from shelfops_pipeline.cli import cli
from shelfops_pipeline.sandbox.clock import SandboxClock
from shelfops_pipeline.sandbox.runner import serve_in_thread
from shelfops_pipeline.sandbox.server import build_sandbox
from shelfops_pipeline.sandbox.settings import SandboxSettings
from shelfops_pipeline.sandbox.square.serialize import SquareSerializer
from shelfops_pipeline.sandbox.square.webhook_events import (
    square_events_between,
    square_recent_events,
)
from shelfops_pipeline.sandbox.square.webhook_signing import (
    SquareWebhookSigner,
    square_message,
    square_retry_schedule,
    square_signature,
)
from shelfops_pipeline.sandbox.timestamps import parse_rfc3339
from shelfops_pipeline.sandbox.webhook_delivery import DeliveryConfig, LiveWebhooks
from shelfops_pipeline.sandbox.world.world import World

KEY = "sandbox-signature-key-4f1c"
NOTIFICATION_URL = "https://shelfops.example/webhooks/square"
KEY_ENV = "SHELFOPS_SANDBOX_WEBHOOK_SIGNATURE_KEY"
URL_ENV = "SHELFOPS_SANDBOX_WEBHOOK_URL"
WORLD_ARGS = ["--seed", str(SEED), "--scale", "small", "--now", FROZEN_NOW.isoformat()]
EVENT_TYPES = {
    "order.created",
    "order.updated",
    "payment.created",
    "payment.updated",
    "inventory.count.updated",
}
SDK_VECTORS = [
    (
        "Ibxx_5AKakO-3qeNVR61Dw",
        "https://webhook.site/679a4f3a-dcfa-49ee-bac5-9d0edad886b9",
        b'{"merchant_id":"MLEFBHHSJGVHD","type":"webhooks.test_notification","event_id":'
        b'"ac3ac95b-f97d-458c-a6e6-18981597e05f","created_at":"2022-07-13T20:30:59.037339943Z",'
        b'"data":{"type":"webhooks","id":"bc368e64-01aa-407e-b46e-3231809b1129"}}',
        "GF4YkrJgGBDZ9NIYbNXBnMzqb2HoL4RW/S6vkZ9/2N4=",
    ),
    (
        "signature-key",
        "https://webhook.site/webhooks",
        b'{"data":{"type":"webhooks","id":">id<"}}',
        "Cxt7+aTi4rKgcA0bC4g9EHdVtLSDWdqccmL5MvihU4U=",
    ),
]


def independent_signature(key: str, url: str, body: bytes) -> str:
    return base64.b64encode(
        hmac.new(key.encode(), url.encode() + body, hashlib.sha256).digest()
    ).decode()


@dataclass
class Delivery:
    body: bytes
    headers: dict[str, str]
    signed_correctly: bool
    arrived: float

    @property
    def event_id(self) -> str:
        return str(json.loads(self.body)["event_id"])


@dataclass
class Receiver:
    """A subscriber endpoint; the first `fail_first` attempts of each event get `fail_status`."""

    notification_url: str = NOTIFICATION_URL
    fail_first: int = 0
    fail_status: int = 500
    stall_first_seconds: float = 0.0
    deliveries: list[Delivery] = field(default_factory=list)
    attempts: Counter[str] = field(default_factory=Counter)
    lock: threading.Lock = field(default_factory=threading.Lock)

    async def hook(self, request: Request) -> Response:
        try:
            body = await request.body()
        except ClientDisconnect:
            # A sender shutting down mid-request; Square would simply retry it later.
            return Response(status_code=499)
        headers = dict(request.headers)
        expected = independent_signature(KEY, self.notification_url, body)
        signed = hmac.compare_digest(expected, headers.get("x-square-hmacsha256-signature", ""))
        delivery = Delivery(body, headers, signed, time.monotonic())
        with self.lock:
            self.deliveries.append(delivery)
            seen = self.attempts[delivery.event_id]
            self.attempts[delivery.event_id] += 1
        if seen == 0 and self.stall_first_seconds:
            await asyncio.sleep(self.stall_first_seconds)
        if seen < self.fail_first:
            return Response(status_code=self.fail_status, headers={"location": "/elsewhere"})
        return Response(status_code=200)

    def by_event(self) -> dict[str, list[Delivery]]:
        grouped: dict[str, list[Delivery]] = {}
        for delivery in self.deliveries:
            grouped.setdefault(delivery.event_id, []).append(delivery)
        return grouped


@pytest.fixture
def receiver() -> Iterator[tuple[Receiver, str]]:
    hooks = Receiver()
    app = Starlette(routes=[Route("/hooks", hooks.hook, methods=["POST"])])
    with serve_in_thread(app) as base_url:
        yield hooks, f"{base_url}/hooks"


def send_webhooks(target: str, *args: str, env: dict[str, str | None] | None = None) -> Result:
    environment = {KEY_ENV: KEY, URL_ENV: NOTIFICATION_URL, **(env or {})}
    return CliRunner(env=environment).invoke(
        cli, ["sandbox", "send-webhooks", *WORLD_ARGS, "--target", target, *args]
    )


def summary(result: Result) -> str:
    lines = result.stdout.strip().splitlines()
    assert len(lines) == 1, result.output
    return lines[0]


@pytest.fixture(scope="module")
def world() -> World:
    return World(SEED, "small", SandboxClock(FROZEN_NOW))


# Signatures ------------------------------------------------------------------------------------


@pytest.mark.parametrize(("key", "url", "body", "expected"), SDK_VECTORS)
def test_signature_reproduces_squares_sdk_vectors(
    key: str, url: str, body: bytes, expected: str
) -> None:
    assert square_signature(key, url, body) == expected


def test_signature_is_the_hmac_of_url_and_body_and_moves_with_any_byte(world: World) -> None:
    body = square_message(square_recent_events(world, SquareSerializer(SEED), 1)[0]).body
    signature = square_signature(KEY, NOTIFICATION_URL, body)
    assert signature == independent_signature(KEY, NOTIFICATION_URL, body)
    for position in (0, len(body) // 2, len(body) - 1):
        changed = bytearray(body)
        changed[position] ^= 0x01
        assert square_signature(KEY, NOTIFICATION_URL, bytes(changed)) != signature
    assert square_signature(KEY, NOTIFICATION_URL + "/", body) != signature
    assert square_signature(KEY, NOTIFICATION_URL.replace("https", "http"), body) != signature
    assert square_signature(KEY + "x", NOTIFICATION_URL, body) != signature
    pretty = json.dumps(json.loads(body), indent=2).encode()
    assert square_signature(KEY, NOTIFICATION_URL, pretty) != signature


@pytest.mark.parametrize(("key", "url"), [("", NOTIFICATION_URL), (KEY, "")])
def test_signature_refuses_an_empty_key_or_url(key: str, url: str) -> None:
    with pytest.raises(ValueError, match="empty"):
        square_signature(key, url, b"{}")


def test_the_signer_never_shows_its_key() -> None:
    assert KEY not in repr(SquareWebhookSigner(KEY, NOTIFICATION_URL))


# Events -------------------------------------------------------------------------------------


def test_a_days_events_follow_squares_event_schemas(world: World) -> None:
    start = FROZEN_NOW - timedelta(days=1)
    events = square_events_between(world, SquareSerializer(SEED), start, FROZEN_NOW)
    assert {e["type"] for e in events} == EVENT_TYPES
    for event in events:
        assert_square_event(event["type"], event)
    moments = [parse_rfc3339(e["created_at"]) for e in events]
    assert moments == sorted(moments)
    assert start < moments[0] and moments[-1] <= FROZEN_NOW
    assert len({e["event_id"] for e in events}) == len(events)
    payments = [e["data"]["object"]["payment"] for e in events if e["data"]["type"] == "payment"]
    assert {p["source_type"] for p in payments} == {"CARD", "CASH"}
    assert {p["status"] for p in payments} == {"APPROVED", "COMPLETED"}
    assert any("refund_ids" in p for p in payments)


def test_events_are_repeatable_and_windows_split_the_stream_without_overlap(world: World) -> None:
    serializer = SquareSerializer(SEED)
    start, step = FROZEN_NOW - timedelta(hours=1), timedelta(seconds=41)
    whole = square_events_between(world, serializer, start, FROZEN_NOW)
    sliced = []
    cut = start
    while cut < FROZEN_NOW:
        sliced += square_events_between(world, serializer, cut, cut + step)
        cut += step
    assert [square_message(e) for e in sliced] == [square_message(e) for e in whole]
    again = World(SEED, "small", SandboxClock(FROZEN_NOW))
    assert square_events_between(again, SquareSerializer(SEED), start, FROZEN_NOW) == whole
    other = World(SEED + 1, "small", SandboxClock(FROZEN_NOW))
    other_ids = {
        e["event_id"]
        for e in square_events_between(other, SquareSerializer(SEED + 1), start, FROZEN_NOW)
    }
    assert other_ids.isdisjoint(e["event_id"] for e in whole)
    later = square_events_between(world, serializer, FROZEN_NOW, FROZEN_NOW + timedelta(hours=1))
    assert later == []


def test_order_and_payment_events_agree_with_the_orders_api(small_sandbox: Running) -> None:
    world = small_sandbox.sandbox.world
    since = FROZEN_NOW - timedelta(days=2)
    events = square_events_between(world, SquareSerializer(SEED), since, FROZEN_NOW)
    latest = {(e["data"]["type"], e["data"]["id"]): e for e in events}
    updated = {object_id for kind, object_id in latest if kind == "order_updated"}
    checked: Counter[str] = Counter()
    for (kind, object_id), event in sorted(latest.items()):
        stale = kind == "order_created" and object_id in updated
        if kind == "inventory_counts" or stale or checked[kind] == 5:
            continue
        summary = event["data"]["object"][kind]
        order_id = summary["order_id"] if kind == "payment" else object_id
        with small_sandbox.client(world.square_merchants.index(event["merchant_id"])) as client:
            order = client.get(f"/v2/orders/{order_id}").json()["order"]
        if kind == "payment":
            tender = order["tenders"][0]
            assert (summary["id"], summary["amount_money"]) == (
                tender["id"],
                tender["amount_money"],
            )
            assert summary["created_at"] == tender["created_at"]
        else:
            shown = {**order, "order_id": order["id"]}
            assert summary == {name: shown[name] for name in summary}
        checked[kind] += 1
    assert checked == {"order_created": 5, "order_updated": 5, "payment": 5}


def test_inventory_events_carry_the_counts_the_inventory_api_shows(small_sandbox: Running) -> None:
    world = small_sandbox.sandbox.world
    events = square_events_between(
        world, SquareSerializer(SEED), FROZEN_NOW - timedelta(hours=1), FROZEN_NOW
    )
    last_count: dict[tuple[str, str], tuple[str, dict]] = {}
    for event in events:
        if event["type"] == "inventory.count.updated":
            for count in event["data"]["object"]["inventory_counts"]:
                key = (count["catalog_object_id"], count["location_id"])
                last_count[key] = (event["merchant_id"], count)
    sample = sorted(last_count.items())[:: max(1, len(last_count) // 12)]
    assert len(sample) >= 10
    for (variation_id, location_id), (merchant_id, count) in sample:
        with small_sandbox.client(world.square_merchants.index(merchant_id)) as client:
            reply = client.post(
                "/v2/inventory/counts/batch-retrieve",
                json={"catalog_object_ids": [variation_id], "location_ids": [location_id]},
            )
        assert reply.json()["counts"] == [count]


# Delivery ------------------------------------------------------------------------------------


def test_send_webhooks_delivers_the_latest_events_signed_with_some_duplicates(
    receiver: tuple[Receiver, str], world: World, caplog: pytest.LogCaptureFixture
) -> None:
    hooks, target = receiver
    caplog.set_level(logging.INFO)
    result = send_webhooks(target, "--count", "30", "--duplicate-rate", "0.3")
    assert result.exit_code == 0, result.output
    expected = [square_message(e) for e in square_recent_events(world, SquareSerializer(SEED), 30)]
    by_event = hooks.by_event()
    assert set(by_event) == {m.event_id for m in expected}
    for message in expected:
        sent = by_event[message.event_id]
        assert {d.body for d in sent} == {message.body}
        assert all(d.signed_correctly for d in sent)
        assert len({d.headers["x-square-hmacsha256-signature"] for d in sent}) == 1
        first = sent[0].headers
        assert first["content-type"] == "application/json"
        assert first["square-environment"] == "Sandbox"
        assert parse_rfc3339(first["square-initial-delivery-timestamp"]) == FROZEN_NOW
        assert "square-retry-number" not in first
    duplicates = len(hooks.deliveries) - len(expected)
    assert 0 < duplicates < len(expected)
    assert max(len(sent) for sent in by_event.values()) == 2
    assert summary(result).startswith(
        f"send-webhooks: 30 events: 30 delivered, 0 retried, {duplicates} duplicates, 0 given up"
    )
    attempts = [r.getMessage() for r in caplog.records if "attempt" in r.getMessage()]
    assert len(attempts) == len(hooks.deliveries)
    assert all(r.levelno == logging.INFO for r in caplog.records if "attempt" in r.getMessage())
    assert KEY not in caplog.text and KEY not in result.output


def test_the_notification_url_defaults_to_the_target(receiver: tuple[Receiver, str]) -> None:
    hooks, target = receiver
    hooks.notification_url = target
    result = send_webhooks(target, "--count", "3", env={URL_ENV: None})
    assert result.exit_code == 0, result.output
    assert len(hooks.deliveries) == 3
    assert all(d.signed_correctly for d in hooks.deliveries)


@pytest.mark.parametrize("fail_status", [500, 307])
def test_failed_attempts_are_retried_on_schedule_until_acknowledged(
    receiver: tuple[Receiver, str], fail_status: int
) -> None:
    hooks, target = receiver
    hooks.fail_first, hooks.fail_status = 2, fail_status
    result = send_webhooks(target, "--count", "3", "--retry-unit-seconds", "0.1")
    assert result.exit_code == 0, result.output
    assert "3 delivered, 6 retried, 0 duplicates, 0 given up" in summary(result)
    for sent in hooks.by_event().values():
        assert [d.headers.get("square-retry-number") for d in sent] == [None, "1", "2"]
        assert [d.headers.get("square-retry-reason") for d in sent] == [
            None,
            "http_error",
            "http_error",
        ]
        assert len({d.body for d in sent}) == 1 and all(d.signed_correctly for d in sent)
        assert len({d.headers["square-initial-delivery-timestamp"] for d in sent}) == 1
        gaps = [later.arrived - earlier.arrived for earlier, later in itertools.pairwise(sent)]
        assert gaps[0] >= 0.09 and gaps[1] >= 0.19


def test_a_slow_receiver_times_out_and_gets_a_retry(receiver: tuple[Receiver, str]) -> None:
    hooks, target = receiver
    hooks.stall_first_seconds = 1.0
    result = send_webhooks(
        target, "--count", "2", "--timeout", "0.3", "--retry-unit-seconds", "0.05"
    )
    assert result.exit_code == 0, result.output
    for sent in hooks.by_event().values():
        assert [d.headers.get("square-retry-reason") for d in sent] == [None, "http_timeout"]
    assert "2 delivered, 2 retried" in summary(result)


def test_delivery_gives_up_after_the_horizon_and_exits_non_zero(
    receiver: tuple[Receiver, str],
) -> None:
    hooks, target = receiver
    hooks.fail_first = 1_000
    result = send_webhooks(
        target, "--count", "2", "--retry-unit-seconds", "0.1", "--retry-horizon-minutes", "5"
    )
    assert result.exit_code == 1
    assert "0 delivered, 4 retried, 0 duplicates, 2 given up, 0 still pending" in summary(result)
    for sent in hooks.by_event().values():
        assert [d.headers.get("square-retry-number") for d in sent] == [None, "1", "2"]


def test_max_wait_stops_waiting_for_a_receiver_that_never_acknowledges(
    receiver: tuple[Receiver, str],
) -> None:
    hooks, target = receiver
    hooks.fail_first = 1_000
    started = time.monotonic()
    result = send_webhooks(
        target, "--count", "2", "--retry-unit-seconds", "0.1", "--max-wait", "0.5"
    )
    assert time.monotonic() - started < 5
    assert result.exit_code == 1
    assert "0 delivered" in summary(result) and "2 still pending" in summary(result)


def test_a_missing_signature_key_is_a_one_line_usage_error() -> None:
    result = send_webhooks("http://127.0.0.1:9/hooks", env={KEY_ENV: None})
    assert result.exit_code == 2
    errors = [line for line in result.output.splitlines() if line.startswith("Error:")]
    assert len(errors) == 1 and "--signature-key" in errors[0] and KEY_ENV in errors[0]


def test_serve_refuses_live_webhooks_on_a_frozen_clock() -> None:
    result = CliRunner(env={KEY_ENV: KEY}).invoke(
        cli, ["sandbox", "serve", *WORLD_ARGS, "--live", "--webhook-target", "http://127.0.0.1:9/"]
    )
    assert result.exit_code == 2
    assert "--live" in result.output and "--now" in result.output


def test_square_retry_schedule_matches_the_documented_one() -> None:
    schedule = square_retry_schedule()
    minutes = [schedule.delay_seconds(n) / 60 for n in range(1, 9)]
    assert minutes == [1, 2, 4, 8, 16, 32, 60, 60]
    assert schedule.horizon_seconds == 24 * 3600


def test_serve_live_posts_the_worlds_changes_as_its_clock_moves(
    receiver: tuple[Receiver, str],
) -> None:
    hooks, target = receiver
    config = DeliveryConfig(target, square_retry_schedule(0.05), seed=SEED)
    live = LiveWebhooks(config, SquareWebhookSigner(KEY, NOTIFICATION_URL), interval_seconds=0.1)
    sandbox = build_sandbox(SandboxSettings(seed=SEED, scale="small"), live)
    clock = FastClock(speed=600, start=SQUARE_STORES_BUSY)
    sandbox.world.clock = clock
    start = clock.now()
    with serve_in_thread(sandbox.app):
        deadline = time.monotonic() + 10
        while len(hooks.deliveries) < 10 and time.monotonic() < deadline:
            time.sleep(0.05)
    end = clock.now()
    assert len(hooks.deliveries) >= 10
    expected = {
        m.event_id: m.body
        for m in map(
            square_message, square_events_between(sandbox.world, SquareSerializer(SEED), start, end)
        )
    }
    by_event = hooks.by_event()
    assert all(len(sent) == 1 and sent[0].signed_correctly for sent in by_event.values())
    assert all(sent[0].body == expected[event_id] for event_id, sent in by_event.items())
