"""The webhook receiver over real loopback HTTP: the sandbox's signed Square and Shopify events
are queued once each, however often and in whatever order they arrive; anything tampered with,
unsigned, oversized, malformed or off-topic is refused with a reason and stores nothing."""

import asyncio
import logging
import random
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from conftest import SEED, Running
from webhook_helpers import (
    SHOPIFY_SECRET,
    SQUARE_KEY,
    Receiver,
    event_ids,
    first_attempt,
    running_receiver,
    shopify_headers,
)

from shelfops_pipeline.sandbox.shopify.webhook_events import shopify_recent_events
from shelfops_pipeline.sandbox.square.serialize import SquareSerializer
from shelfops_pipeline.sandbox.square.webhook_events import square_recent_events
from shelfops_pipeline.sandbox.square.webhook_signing import square_message, square_retry_schedule
from shelfops_pipeline.sandbox.webhook_delivery import DeliveryConfig, WebhookMessage, deliver_all


@pytest.fixture
def receiver(tmp_path: Path) -> Iterator[Receiver]:
    with running_receiver(tmp_path) as running:
        yield running


def square_messages(small_sandbox: Running, count: int) -> list[WebhookMessage]:
    events = square_recent_events(small_sandbox.sandbox.world, SquareSerializer(SEED), count)
    return [square_message(event) for event in events]


def post_square(receiver: Receiver, message: WebhookMessage, **overrides: str) -> httpx.Response:
    headers = {**receiver.square_signer().headers(first_attempt(message)), **overrides}
    return httpx.post(receiver.square_url, content=message.body, headers=headers, timeout=10)


def test_sandbox_deliveries_are_queued_once_each_with_what_matters(
    receiver: Receiver, small_sandbox: Running
) -> None:
    messages = square_messages(small_sandbox, 40)
    config = DeliveryConfig(
        receiver.square_url, square_retry_schedule(0.001, 1.0), duplicate_rate=1.0, seed=SEED
    )
    stats = asyncio.run(
        deliver_all(messages, config, receiver.square_signer(), max_wait_seconds=30)
    )
    assert stats.delivered == len(messages) and stats.duplicates == len(messages)
    queued = receiver.queue.all_events()
    assert sorted(e.event_id for e in queued) == sorted(event_ids(messages))
    world = small_sandbox.sandbox.world
    customer_of = {c.square_merchant_id: c.id for c in world.customers}
    by_id = {m.event_id: m for m in messages}
    for event in queued:
        message = by_id[event.event_id]
        assert event.body == message.body
        assert event.topic == message.topic and event.provider == "square"
        assert "square-initial-delivery-timestamp" in event.headers
        assert "x-square-hmacsha256-signature" not in event.headers
        assert event.customer_id is None  # nobody is connected in this data directory
        assert event.account in customer_of


def test_three_deliveries_out_of_order_queue_each_event_once(
    receiver: Receiver, small_sandbox: Running
) -> None:
    messages = square_messages(small_sandbox, 30)
    sends = [m for m in messages for _ in range(3)]
    random.Random(3).shuffle(sends)
    replies = [post_square(receiver, m).json()["status"] for m in sends]
    assert replies.count("queued") == len(messages)
    assert replies.count("duplicate") == 2 * len(messages)
    assert [e.event_id for e in receiver.queue.all_events()] == list(
        dict.fromkeys(m.event_id for m in sends)
    )


@pytest.mark.parametrize("where", ["body", "signature", "url"])
def test_one_byte_changed_is_refused_and_nothing_is_stored(
    receiver: Receiver, small_sandbox: Running, where: str
) -> None:
    message = square_messages(small_sandbox, 1)[0]
    headers = receiver.square_signer().headers(first_attempt(message))
    body = message.body
    if where == "body":
        flipped = bytearray(message.body)
        flipped[len(flipped) // 2] ^= 0x01
        body = bytes(flipped)
    elif where == "signature":
        signature = headers["x-square-hmacsha256-signature"]
        headers["x-square-hmacsha256-signature"] = (
            "B" if signature[0] != "B" else "C"
        ) + signature[1:]
    else:
        url = receiver.square_url.replace("/webhooks/square", "/webhooks/squarE")
        headers = {**headers, **_resigned(message.body, url)}
    reply = httpx.post(receiver.square_url, content=body, headers=headers, timeout=10)
    assert reply.status_code == 401
    assert reply.json()["error"] == "bad_signature"
    assert receiver.queue.all_events() == []


def _resigned(body: bytes, url: str) -> dict[str, str]:
    from shelfops_pipeline.sandbox.square.webhook_signing import square_signature

    return {"x-square-hmacsha256-signature": square_signature(SQUARE_KEY, url, body)}


def test_refusals_say_why_and_store_nothing(receiver: Receiver, small_sandbox: Running) -> None:
    message = square_messages(small_sandbox, 1)[0]
    unsigned = httpx.post(receiver.square_url, content=message.body, timeout=10)
    assert unsigned.status_code == 401
    unknown = message.body.replace(message.topic.encode(), b"team_member.created", 1)
    off_topic = httpx.post(
        receiver.square_url, content=unknown, headers=_resigned(unknown, receiver.square_url)
    )
    assert (off_topic.status_code, off_topic.json()["error"]) == (422, "unknown_topic")
    broken = message.body[:-1]
    malformed = httpx.post(
        receiver.square_url, content=broken, headers=_resigned(broken, receiver.square_url)
    )
    assert (malformed.status_code, malformed.json()["error"]) == (400, "malformed_json")
    huge = b"{" + b" " * 1_000_001 + b"}"
    too_large = httpx.post(
        receiver.square_url, content=huge, headers=_resigned(huge, receiver.square_url)
    )
    assert too_large.status_code == 413
    assert httpx.get(receiver.square_url).status_code == 405
    assert receiver.queue.all_events() == []


def test_shopify_deliveries_are_verified_with_the_app_secret(
    receiver: Receiver, small_sandbox: Running, caplog: pytest.LogCaptureFixture
) -> None:
    messages = shopify_recent_events(small_sandbox.sandbox.world, 10)
    for message in messages:
        headers = shopify_headers(message)
        reply = httpx.post(receiver.shopify_url, content=message.body, headers=headers)
        assert reply.json() == {"status": "queued"}
    forged = shopify_headers(messages[0]) | {"x-shopify-event-id": "forged"}
    forged["x-shopify-hmac-sha256"] = forged["x-shopify-hmac-sha256"][::-1]
    with caplog.at_level(logging.INFO):
        refused = httpx.post(receiver.shopify_url, content=messages[0].body, headers=forged)
    assert refused.status_code == 401
    queued = receiver.queue.all_events()
    assert {e.event_id for e in queued} == event_ids(messages)
    assert {e.account for e in queued} <= {s.domain for s in small_sandbox.sandbox.world.shops}
    assert "refused" in caplog.text
    for secret in (SHOPIFY_SECRET, SQUARE_KEY, forged["x-shopify-hmac-sha256"]):
        assert secret not in caplog.text
