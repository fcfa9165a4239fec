"""Square's Webhook Subscriptions API in the sandbox, over real loopback HTTP: create, list and
delete, Square-shaped errors, and live events delivered to the subscribed URL, signed with the
key the subscription returned (checked with an independent HMAC)."""

import base64
import hashlib
import hmac
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import datetime
from typing import Any

import httpx
import pytest
from clocks import SQUARE_STORES_BUSY, FastClock
from conftest import SEED
from square_contract import assert_square_reply
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from shelfops_pipeline.sandbox.runner import serve_in_thread
from shelfops_pipeline.sandbox.server import Sandbox, build_sandbox
from shelfops_pipeline.sandbox.settings import SandboxSettings
from shelfops_pipeline.sandbox.square.webhook_signing import square_retry_schedule
from shelfops_pipeline.sandbox.subscription_fanout import SubscriptionFeed
from shelfops_pipeline.sandbox.webhook_delivery import DeliveryConfig

SUBSCRIPTIONS = "/v2/webhooks/subscriptions"
ORDER_TYPES = ["order.created", "order.updated"]


class Receiver:
    """A subscriber endpoint that records every raw body and its headers."""

    def __init__(self) -> None:
        self.deliveries: list[tuple[bytes, dict[str, str]]] = []
        self.lock = threading.Lock()

    async def hook(self, request: Request) -> Response:
        body = await request.body()
        with self.lock:
            self.deliveries.append((body, dict(request.headers)))
        return Response(status_code=200)


def independent_signature(key: str, url: str, body: bytes) -> str:
    return base64.b64encode(
        hmac.new(key.encode(), url.encode() + body, hashlib.sha256).digest()
    ).decode()


def live_sandbox(start: datetime | None = None) -> Sandbox:
    feed = SubscriptionFeed(
        DeliveryConfig("http://unused.invalid/", square_retry_schedule(0.05), seed=SEED), 0.1
    )
    sandbox = build_sandbox(SandboxSettings(seed=SEED, scale="small"), subscription_feed=feed)
    sandbox.world.clock = FastClock(speed=600, start=start)
    return sandbox


@contextmanager
def serve_live(start: datetime | None = None) -> Iterator[tuple[str, dict[str, str]]]:
    """A live sandbox (fast clock) and the authorization header of its first merchant."""
    sandbox = live_sandbox(start)
    token = next(iter(sandbox.tokens.personal_tokens().values()))
    with serve_in_thread(sandbox.app) as base_url:
        yield f"{base_url}/square", {"Authorization": f"Bearer {token}"}


@pytest.fixture(scope="module")
def served() -> Iterator[tuple[str, dict[str, str]]]:
    with serve_live() as running:
        yield running


@pytest.fixture
def receiver() -> Iterator[tuple[Receiver, str]]:
    hooks = Receiver()
    app = Starlette(routes=[Route("/hooks", hooks.hook, methods=["POST"])])
    with serve_in_thread(app) as base_url:
        yield hooks, f"{base_url}/hooks"


def create(base: str, auth: dict[str, str], **fields: Any) -> httpx.Response:
    subscription = {"name": "shelfops", "event_types": ORDER_TYPES, **fields}
    body = {"idempotency_key": f"key-{time.monotonic_ns()}", "subscription": subscription}
    return httpx.post(f"{base}{SUBSCRIPTIONS}", json=body, headers=auth)


def test_create_list_and_delete_follow_squares_contract(
    served: tuple[str, dict[str, str]],
) -> None:
    base, auth = served
    created = create(base, auth, notification_url="https://example.com/a")
    assert created.status_code == 200, created.text
    assert_square_reply("POST", SUBSCRIPTIONS, created.json())
    subscription = created.json()["subscription"]
    assert subscription["enabled"] is True
    assert subscription["event_types"] == ORDER_TYPES
    assert subscription["id"].startswith("wbhk_") and subscription["signature_key"]
    assert subscription["api_version"] == "2025-08-20"

    listed = httpx.get(f"{base}{SUBSCRIPTIONS}", headers=auth)
    assert listed.status_code == 200
    assert_square_reply("GET", SUBSCRIPTIONS, listed.json())
    shown = {s["id"]: s for s in listed.json()["subscriptions"]}
    assert shown[subscription["id"]]["notification_url"] == "https://example.com/a"
    assert "signature_key" not in shown[subscription["id"]]

    path = f"{SUBSCRIPTIONS}/{subscription['id']}"
    deleted = httpx.delete(f"{base}{path}", headers=auth)
    assert deleted.status_code == 200 and deleted.json() == {}
    assert_square_reply("DELETE", path, deleted.json())
    after = httpx.get(f"{base}{SUBSCRIPTIONS}", headers=auth).json()
    assert subscription["id"] not in {s["id"] for s in after.get("subscriptions", [])}
    again = httpx.delete(f"{base}{path}", headers=auth)
    assert again.status_code == 404
    assert_square_reply("DELETE", path, again.json(), status=404)


def test_a_repeated_idempotency_key_returns_the_same_subscription(
    served: tuple[str, dict[str, str]],
) -> None:
    base, auth = served
    body = {
        "idempotency_key": "same-key",
        "subscription": {"event_types": ORDER_TYPES, "notification_url": "https://example.com/i"},
    }
    first = httpx.post(f"{base}{SUBSCRIPTIONS}", json=body, headers=auth).json()
    second = httpx.post(f"{base}{SUBSCRIPTIONS}", json=body, headers=auth).json()
    assert first == second


def test_listing_pages_with_a_cursor_and_hides_disabled_ones_by_default(
    served: tuple[str, dict[str, str]],
) -> None:
    base, auth = served
    made = {
        create(base, auth, notification_url=f"https://example.com/p{i}", enabled=i != 0).json()[
            "subscription"
        ]["id"]
        for i in range(3)
    }
    seen: list[dict[str, Any]] = []
    params: dict[str, str] = {"limit": "1", "include_disabled": "true"}
    while True:
        reply = httpx.get(f"{base}{SUBSCRIPTIONS}", params=params, headers=auth).json()
        assert_square_reply("GET", SUBSCRIPTIONS, reply)
        seen.extend(reply.get("subscriptions", []))
        if "cursor" not in reply:
            break
        params["cursor"] = reply["cursor"]
    assert made <= {s["id"] for s in seen}
    enabled_only = httpx.get(f"{base}{SUBSCRIPTIONS}", headers=auth).json()["subscriptions"]
    assert all(s["enabled"] for s in enabled_only)
    assert len(made & {s["id"] for s in enabled_only}) == 2


@pytest.mark.parametrize(
    ("body", "status", "code"),
    [
        ({}, 400, "MISSING_REQUIRED_PARAMETER"),
        ({"subscription": []}, 400, "INVALID_VALUE"),
        ({"subscription": {"notification_url": "https://example.com"}}, 400,
         "MISSING_REQUIRED_PARAMETER"),
        ({"subscription": {"event_types": ["order.created"]}}, 400, "MISSING_REQUIRED_PARAMETER"),
        ({"subscription": {"event_types": ["order.created"], "notification_url": "ftp://x"}}, 400,
         "INVALID_VALUE"),
        ({"subscription": {"event_types": ["Not An Event"], "notification_url": "https://x.io"}},
         400, "INVALID_VALUE"),
        ({"subscription": {"event_types": "order.created", "notification_url": "https://x.io"}},
         400, "INVALID_ARRAY_VALUE"),
        ({"idempotency_key": "k" * 46, "subscription": {}}, 400, "VALUE_TOO_LONG"),
        ({"subscription": {"event_types": ["order.created"], "notification_url": "https://x.io",
                           "name": "n" * 65}}, 400, "VALUE_TOO_LONG"),
        ({"subscription": {"event_types": ["order.created"], "notification_url": "https://x.io",
                           "api_version": "latest"}}, 400, "INVALID_VALUE"),
    ],
)  # fmt: skip
def test_bad_create_requests_get_squares_error_shape(
    served: tuple[str, dict[str, str]], body: dict[str, Any], status: int, code: str
) -> None:
    base, auth = served
    reply = httpx.post(f"{base}{SUBSCRIPTIONS}", json=body, headers=auth)
    assert reply.status_code == status
    assert reply.json()["errors"][0]["code"] == code
    assert_square_reply("POST", SUBSCRIPTIONS, reply.json(), status=status)


@pytest.mark.parametrize(
    ("params", "code"),
    [
        ({"limit": "0"}, "VALUE_TOO_LOW"),
        ({"limit": "many"}, "INVALID_VALUE"),
        ({"sort_order": "SIDEWAYS"}, "INVALID_ENUM_VALUE"),
        ({"include_disabled": "maybe"}, "INVALID_VALUE"),
        ({"cursor": "not-a-cursor"}, "INVALID_CURSOR"),
        ({"colour": "red"}, "UNKNOWN_QUERY_PARAMETER"),
    ],
)
def test_bad_list_requests_get_squares_error_shape(
    served: tuple[str, dict[str, str]], params: dict[str, str], code: str
) -> None:
    base, auth = served
    reply = httpx.get(f"{base}{SUBSCRIPTIONS}", params=params, headers=auth)
    assert reply.status_code == 400
    assert reply.json()["errors"][0]["code"] == code
    assert_square_reply("GET", SUBSCRIPTIONS, reply.json(), status=400)


def test_calls_without_a_valid_token_are_unauthorized(served: tuple[str, dict[str, str]]) -> None:
    base, _ = served
    for headers in ({}, {"Authorization": "Bearer nope"}):
        reply = httpx.get(f"{base}{SUBSCRIPTIONS}", headers=headers)
        assert reply.status_code == 401
        assert reply.json()["errors"][0]["category"] == "AUTHENTICATION_ERROR"


def test_live_events_reach_the_subscribed_url_signed_with_its_key(
    receiver: tuple[Receiver, str],
) -> None:
    hooks, url = receiver
    with serve_live(start=SQUARE_STORES_BUSY) as (base, auth):
        created = create(base, auth, notification_url=url, event_types=["payment.created"])
        key = created.json()["subscription"]["signature_key"]
        deadline = time.monotonic() + 10
        while len(hooks.deliveries) < 3 and time.monotonic() < deadline:
            time.sleep(0.05)
        with hooks.lock:
            deliveries = list(hooks.deliveries)
        assert len(deliveries) >= 3
        for body, headers in deliveries:
            signature = headers["x-square-hmacsha256-signature"]
            assert hmac.compare_digest(signature, independent_signature(key, url, body))
            assert b'"type":"payment.created"' in body
        sub_id = created.json()["subscription"]["id"]
        assert httpx.delete(f"{base}{SUBSCRIPTIONS}/{sub_id}", headers=auth).status_code == 200
        time.sleep(0.3)
        with hooks.lock:
            settled = len(hooks.deliveries)
        time.sleep(0.5)
        assert len(hooks.deliveries) == settled
