"""Shopify webhooks from the sandbox: topics, payloads, HMACs and delivery over loopback HTTP.

A small Starlette receiver stands in for an app: it records every raw body and header, checks
`X-Shopify-Hmac-Sha256` with its own HMAC of the app secret that `shelfops sandbox tokens`
lists, and can stall or fail first attempts so retries show.
"""

import asyncio
import base64
import hashlib
import hmac
import itertools
import json
import threading
import time
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import datetime, timedelta

import httpx
import pytest
from click.testing import CliRunner, Result
from clocks import SHOPIFY_SHOPS_BUSY, FastClock
from conftest import FROZEN_NOW, SEED
from starlette.applications import Starlette
from starlette.requests import ClientDisconnect, Request
from starlette.responses import Response
from starlette.routing import Route

from shelfops_pipeline.cli import cli
from shelfops_pipeline.sandbox.clock import SandboxClock
from shelfops_pipeline.sandbox.runner import serve_in_thread
from shelfops_pipeline.sandbox.server import build_sandbox
from shelfops_pipeline.sandbox.settings import SandboxSettings
from shelfops_pipeline.sandbox.shopify.webhook_events import TOPICS, shopify_events_between
from shelfops_pipeline.sandbox.shopify.webhook_signing import (
    ShopifyWebhookSigner,
    shopify_hmac,
    shopify_retry_schedule,
)
from shelfops_pipeline.sandbox.webhook_delivery import DeliveryConfig, LiveWebhooks
from shelfops_pipeline.sandbox.world.world import World

WORLD_ARGS = ["--seed", str(SEED), "--scale", "small", "--now", FROZEN_NOW.isoformat()]
HEADERS = (
    "x-shopify-topic", "x-shopify-hmac-sha256", "x-shopify-shop-domain", "x-shopify-webhook-id",
    "x-shopify-event-id", "x-shopify-triggered-at", "x-shopify-api-version",
)  # fmt: skip


@pytest.fixture(scope="module")
def app_secret() -> str:
    listing = json.loads(CliRunner().invoke(cli, ["sandbox", "tokens", *WORLD_ARGS]).output)
    return str(listing["shopify"]["application"]["client_secret"])


def independent_hmac(secret: str, body: bytes) -> str:
    return base64.b64encode(hmac.new(secret.encode(), body, hashlib.sha256).digest()).decode()


@dataclass
class Delivery:
    body: bytes
    headers: dict[str, str]
    arrived: float

    @property
    def event_id(self) -> str:
        return self.headers["x-shopify-event-id"]


@dataclass
class Receiver:
    """An app's webhook endpoint; the first `fail_first` attempts of each event fail."""

    fail_first: int = 0
    stall_first_seconds: float = 0.0
    deliveries: list[Delivery] = field(default_factory=list)
    attempts: Counter[str] = field(default_factory=Counter)
    lock: threading.Lock = field(default_factory=threading.Lock)

    async def hook(self, request: Request) -> Response:
        try:
            body = await request.body()
        except ClientDisconnect:
            return Response(status_code=499)
        delivery = Delivery(body, dict(request.headers), time.monotonic())
        with self.lock:
            self.deliveries.append(delivery)
            seen = self.attempts[delivery.event_id]
            self.attempts[delivery.event_id] += 1
        if seen == 0 and self.stall_first_seconds:
            await asyncio.sleep(self.stall_first_seconds)
        return Response(status_code=500 if seen < self.fail_first else 200)

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


def send_webhooks(target: str, *args: str) -> Result:
    return CliRunner().invoke(
        cli,
        [
            "sandbox",
            "send-webhooks",
            *WORLD_ARGS,
            "--provider",
            "shopify",
            "--target",
            target,
            *args,
        ],
    )


@pytest.fixture(scope="module")
def world() -> World:
    return World(SEED, "small", SandboxClock(FROZEN_NOW))


# Signatures ------------------------------------------------------------------------------------


def test_hmac_reproduces_shopifys_library_vector() -> None:
    assert shopify_hmac("test_secret_key", b'{"foo": "bar"}') == (
        "B23tXN681gZ0qIWNRrgtzBE9XSDo5yaUu6wfmhu3a7g="
    )


def test_hmac_covers_every_byte_and_the_signer_hides_its_secret() -> None:
    body = b'{"id":1,"total_price":"10.00"}'
    signature = shopify_hmac("secret", body)
    assert signature == independent_hmac("secret", body)
    for position in range(len(body)):
        changed = bytearray(body)
        changed[position] ^= 0x01
        assert shopify_hmac("secret", bytes(changed)) != signature
    assert "app-secret-7f3c" not in repr(ShopifyWebhookSigner("app-secret-7f3c"))
    with pytest.raises(ValueError, match="empty"):
        ShopifyWebhookSigner("")


# Events ----------------------------------------------------------------------------------------


def test_two_days_of_changes_cover_every_topic_with_rest_shaped_payloads(world: World) -> None:
    messages = shopify_events_between(world, FROZEN_NOW - timedelta(days=2), FROZEN_NOW)
    assert {m.topic for m in messages} == set(TOPICS)
    assert len({m.event_id for m in messages}) == len(messages)
    again = shopify_events_between(world, FROZEN_NOW - timedelta(days=2), FROZEN_NOW)
    assert [(m.event_id, m.body) for m in again] == [(m.event_id, m.body) for m in messages]
    triggered = [datetime.fromisoformat(m.attributes["triggered_at"]) for m in messages]
    assert triggered == sorted(triggered)
    by_topic: dict[str, list[dict[str, object]]] = {}
    for message in messages:
        by_topic.setdefault(message.topic, []).append(json.loads(message.body))
    created = by_topic["orders/create"][0]
    assert {"id", "name", "line_items", "total_price", "processed_at"} <= set(created)
    assert all(o["cancelled_at"] for o in by_topic["orders/cancelled"])
    refunded = by_topic["refunds/create"][0]
    assert refunded["transactions"][0]["kind"] == "refund" and refunded["refund_line_items"]
    level = by_topic["inventory_levels/update"][0]
    assert set(level) == {
        "inventory_item_id", "location_id", "available", "updated_at", "admin_graphql_api_id"
    }  # fmt: skip
    assert {"id", "variants", "title"} <= set(by_topic["products/update"][0])


def test_windows_slice_the_stream_without_gaps_or_overlap(world: World) -> None:
    edges = [FROZEN_NOW - timedelta(hours=h) for h in (6, 4, 1, 0)]
    pieces = [
        m.event_id
        for start, end in itertools.pairwise(edges)
        for m in shopify_events_between(world, start, end)
    ]
    whole = [m.event_id for m in shopify_events_between(world, edges[0], edges[-1])]
    assert sorted(pieces) == sorted(whole) and len(set(pieces)) == len(pieces)


def test_each_orders_latest_webhook_is_the_order_rest_shows_now(world: World) -> None:
    since = FROZEN_NOW - timedelta(days=2)
    latest: dict[int, dict[str, object]] = {}
    shop_of: dict[int, str] = {}
    for message in shopify_events_between(world, since, FROZEN_NOW):
        if message.topic in ("orders/create", "orders/updated"):
            payload = json.loads(message.body)
            latest[payload["id"]] = payload
            shop_of[payload["id"]] = message.attributes["shop"]
    sandbox = build_sandbox(SandboxSettings(seed=SEED, scale="small", frozen_at=FROZEN_NOW))
    shown: dict[int, object] = {}
    with serve_in_thread(sandbox.app) as base_url:
        for shop in sandbox.world.shops:
            token = sandbox.shopify_tokens.custom_apps[shop.domain].access_token
            ids = [n for n, domain in shop_of.items() if domain == shop.domain]
            for first in range(0, len(ids), 50):
                chunk = ids[first : first + 50]
                reply = httpx.get(
                    f"{base_url}/admin/api/2026-10/orders.json",
                    params={"ids": ",".join(map(str, chunk)), "status": "any", "limit": 50},
                    headers={"X-Shopify-Access-Token": token},
                )
                shown.update({order["id"]: order for order in reply.json()["orders"]})
    assert len(latest) > 20
    assert {n: shown[n] for n in latest} == latest


# Delivery ------------------------------------------------------------------------------------


def test_send_webhooks_posts_signed_events_with_shopifys_headers(
    receiver: tuple[Receiver, str], app_secret: str, world: World
) -> None:
    hooks, target = receiver
    result = send_webhooks(target, "--count", "25")
    assert result.exit_code == 0, result.output
    assert "25 events: 25 delivered, 0 retried, 0 duplicates, 0 given up" in result.output
    assert len(hooks.deliveries) == 25
    shops = {shop.domain for shop in world.shops}
    for delivery in hooks.deliveries:
        headers = delivery.headers
        assert all(name in headers for name in HEADERS)
        assert headers["x-shopify-hmac-sha256"] == independent_hmac(app_secret, delivery.body)
        tampered = delivery.body.replace(b'"available":', b'"available": ')
        assert independent_hmac(app_secret, tampered) != headers["x-shopify-hmac-sha256"]
        assert headers["x-shopify-topic"] in TOPICS
        assert headers["x-shopify-shop-domain"] in shops
        assert headers["x-shopify-api-version"] == "2026-10"
        triggered = datetime.fromisoformat(headers["x-shopify-triggered-at"].replace("Z", "+00:00"))
        assert triggered <= FROZEN_NOW
    assert len(hooks.by_event()) == 25
    assert app_secret not in result.output


def test_a_webhook_not_acknowledged_within_the_timeout_is_sent_again(
    receiver: tuple[Receiver, str], app_secret: str
) -> None:
    hooks, target = receiver
    hooks.stall_first_seconds = 0.6
    result = send_webhooks(
        target, "--count", "2", "--timeout", "0.3", "--retry-unit-seconds", "0.05"
    )
    assert result.exit_code == 0, result.output
    assert "2 events: 2 delivered, 2 retried" in result.output
    for sent in hooks.by_event().values():
        assert len(sent) == 2
        first, retry = sent
        assert first.body == retry.body
        assert first.headers["x-shopify-webhook-id"] == retry.headers["x-shopify-webhook-id"]
        assert retry.headers["x-shopify-hmac-sha256"] == independent_hmac(app_secret, retry.body)
        # The timeout (0.3 s) passes before the retry, which waits a retry unit (0.05 s) more;
        # the first request's own arrival may lag its sending on a busy machine by that unit.
        assert retry.arrived - first.arrived >= 0.3


def test_failing_deliveries_are_retried_on_the_schedule_then_given_up(
    receiver: tuple[Receiver, str],
) -> None:
    hooks, target = receiver
    hooks.fail_first = 100
    result = send_webhooks(
        target, "--count", "1", "--retry-unit-seconds", "0.01", "--retry-horizon-minutes", "5"
    )
    assert result.exit_code == 1
    assert "1 events: 0 delivered, 2 retried, 0 duplicates, 1 given up" in result.output
    assert len(hooks.deliveries) == 3


def test_duplicates_repeat_the_same_event(receiver: tuple[Receiver, str]) -> None:
    hooks, target = receiver
    result = send_webhooks(target, "--count", "5", "--duplicate-rate", "1")
    assert "5 events: 5 delivered, 0 retried, 5 duplicates" in result.output
    for sent in hooks.by_event().values():
        assert len(sent) == 2 and sent[0].body == sent[1].body
        assert sent[0].headers["x-shopify-event-id"] == sent[1].headers["x-shopify-event-id"]


def test_shopify_retries_eight_times_within_four_hours() -> None:
    schedule = shopify_retry_schedule()
    waits = [schedule.delay_seconds(n) for n in range(1, 9)]
    assert sum(waits) < schedule.horizon_seconds == 4 * 3600
    assert waits == sorted(waits) and schedule.delay_seconds(9) > schedule.horizon_seconds


def test_a_webhook_target_needs_live() -> None:
    # `--live` alone is valid: it delivers to the URLs subscribed through the APIs.
    no_live = CliRunner().invoke(
        cli, ["sandbox", "serve", "--shopify-webhook-target", "http://127.0.0.1:9/"]
    )
    assert no_live.exit_code == 2 and "--live" in no_live.output


def test_serve_live_posts_shopify_webhooks_as_the_clock_moves(
    receiver: tuple[Receiver, str],
) -> None:
    hooks, target = receiver
    clock = FastClock(speed=600, start=SHOPIFY_SHOPS_BUSY)
    settings = SandboxSettings(seed=SEED, scale="small")
    secret = "live-secret"
    config = DeliveryConfig(target, shopify_retry_schedule(0.05), seed=SEED)
    live = LiveWebhooks(config, ShopifyWebhookSigner(secret), interval_seconds=0.1)
    sandbox = build_sandbox(settings, clock=clock, shopify_live=live)
    start = clock.now()
    with serve_in_thread(sandbox.app):
        deadline = time.monotonic() + 10
        while len(hooks.deliveries) < 10 and time.monotonic() < deadline:
            time.sleep(0.05)
    end = clock.now()
    assert len(hooks.deliveries) >= 10
    expected = {m.event_id: m.body for m in shopify_events_between(sandbox.world, start, end)}
    for event_id, sent in hooks.by_event().items():
        assert len(sent) == 1 and sent[0].body == expected[event_id]
        assert sent[0].headers["x-shopify-hmac-sha256"] == independent_hmac(secret, sent[0].body)
