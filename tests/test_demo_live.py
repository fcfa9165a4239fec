"""The live trickle `make ui` runs: the receiver served beside the demo sandbox, the demo's Square
app and its connected Shopify shop subscribed to it once, and deliveries signed with the key the
sandbox returned (Square) and with the app's secret (Shopify) accepted into the queue."""

import json
from pathlib import Path

import httpx
import pytest

from shelfops_pipeline.credentials.keys import ensure_local_key_file
from shelfops_pipeline.credentials.paths import HOME_ENV, store_path
from shelfops_pipeline.credentials.store import CredentialStore
from shelfops_pipeline.credentials.subscriptions import SubscriptionStore
from shelfops_pipeline.demo.live import SHOPIFY_FEED, SQUARE_FEED, live_webhooks
from shelfops_pipeline.demo.merchants import connect_merchants, serve_demo_sandbox
from shelfops_pipeline.sandbox.runner import free_loopback_port
from shelfops_pipeline.sandbox.shopify.webhook_signing import shopify_hmac
from shelfops_pipeline.sandbox.square.webhook_signing import square_signature
from shelfops_pipeline.webhooks.queue import EventQueue, queue_path


def test_the_ui_subscribes_its_receiver_once_and_the_receiver_takes_signed_events(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv(HOME_ENV, str(tmp_path))
    monkeypatch.delenv("SHELFOPS_ENCRYPTION_KEYS", raising=False)
    ensure_local_key_file(tmp_path)
    store = CredentialStore(store_path(tmp_path))
    port = free_loopback_port()
    square_url = f"http://127.0.0.1:{port}/webhooks/square"
    shopify_url = f"http://127.0.0.1:{port}/webhooks/shopify"
    with serve_demo_sandbox(feeds=(SQUARE_FEED, SHOPIFY_FEED)) as demo:
        connections = connect_merchants(demo, store)
        (shop,) = [c for c in connections if c.source == "shopify"]
        with live_webhooks(demo, store, port, connections) as first:
            assert [(s.provider, s.notification_url, s.created) for s in first] == [
                ("square", square_url, True),
                ("shopify", shopify_url, True),
            ]
        with live_webhooks(demo, store, port, connections) as again:
            assert [s.created for s in again] == [False, False]
            assert [s.subscription_ids for s in again] == [s.subscription_ids for s in first]
            (subscription,) = SubscriptionStore(store).all("square")
            assert subscription.signature_key is not None
            merchant = demo.merchants()[0][1]
            body = json.dumps(
                {"merchant_id": merchant, "type": "catalog.version.updated",
                 "event_id": "evt-demo", "created_at": "2026-11-05T18:00:00Z",
                 "data": {"type": "catalog", "id": "x", "object": {}}}
            ).encode()  # fmt: skip
            signature = square_signature(subscription.signature_key.reveal(), square_url, body)
            square_reply = httpx.post(
                square_url, content=body, headers={"x-square-hmacsha256-signature": signature}
            )
            product = json.dumps({"id": 1, "admin_graphql_api_id": "gid://shopify/Product/1"})
            secret = demo.shopify_app().client_secret.reveal()
            shopify_reply = httpx.post(
                shopify_url,
                content=product.encode(),
                headers={
                    "x-shopify-hmac-sha256": shopify_hmac(secret, product.encode()),
                    "x-shopify-topic": "products/update",
                    "x-shopify-shop-domain": shop.account,
                    "x-shopify-event-id": "evt-shop",
                },
            )
    assert square_reply.status_code == 200, square_reply.text
    assert shopify_reply.status_code == 200, shopify_reply.text
    events = EventQueue(queue_path(tmp_path)).all_events()
    assert sorted(e.event_id for e in events) == ["evt-demo", "evt-shop"]
