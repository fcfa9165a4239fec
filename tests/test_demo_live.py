"""The live trickle `make ui` runs: the receiver served beside the demo sandbox, the demo's Square
app subscribed to it once, and a delivery signed with the key the sandbox returned accepted into
the queue."""

import json
from pathlib import Path

import httpx
import pytest

from shelfops_pipeline.credentials.keys import ensure_local_key_file
from shelfops_pipeline.credentials.paths import HOME_ENV, store_path
from shelfops_pipeline.credentials.store import CredentialStore
from shelfops_pipeline.credentials.subscriptions import SubscriptionStore
from shelfops_pipeline.demo.live import SHOPIFY_FEED, SQUARE_FEED, live_webhooks
from shelfops_pipeline.demo.merchants import serve_demo_sandbox
from shelfops_pipeline.sandbox.runner import free_loopback_port
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
    url = f"http://127.0.0.1:{port}/webhooks/square"
    with serve_demo_sandbox(feeds=(SQUARE_FEED, SHOPIFY_FEED)) as demo:
        with live_webhooks(demo, store, port) as first:
            assert first.created and first.notification_url == url
        with live_webhooks(demo, store, port) as again:
            assert not again.created and again.subscription_ids == first.subscription_ids
            (subscription,) = SubscriptionStore(store).all("square")
            assert subscription.signature_key is not None
            merchant = demo.merchants()[0][1]
            body = json.dumps(
                {"merchant_id": merchant, "type": "catalog.version.updated",
                 "event_id": "evt-demo", "created_at": "2026-11-05T18:00:00Z",
                 "data": {"type": "catalog", "id": "x", "object": {}}}
            ).encode()  # fmt: skip
            signature = square_signature(subscription.signature_key.reveal(), url, body)
            reply = httpx.post(
                url, content=body, headers={"x-square-hmacsha256-signature": signature}
            )
    assert reply.status_code == 200, reply.text
    assert [e.event_id for e in EventQueue(queue_path(tmp_path)).all_events()] == ["evt-demo"]
