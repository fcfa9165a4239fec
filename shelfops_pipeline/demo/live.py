"""The demo's live trickle: the sandbox posts each new sale, stock change and catalog edit to
the webhook receiver served beside it, through real webhook subscriptions (the Square app's, and
each connected Shopify shop's); the Dagster daemon's `webhook_events_sensor` then applies them to
the warehouse.
"""

import asyncio
from collections.abc import Iterator, Sequence
from contextlib import contextmanager

from shelfops_pipeline.credentials.models import Connection
from shelfops_pipeline.credentials.secret import Secret
from shelfops_pipeline.credentials.store import CredentialStore
from shelfops_pipeline.credentials.subscriptions import SubscriptionStore
from shelfops_pipeline.demo.merchants import DemoSandbox
from shelfops_pipeline.sandbox.runner import serve_in_thread
from shelfops_pipeline.sandbox.shopify.webhook_signing import shopify_retry_schedule
from shelfops_pipeline.sandbox.square.webhook_signing import square_retry_schedule
from shelfops_pipeline.sandbox.subscription_fanout import SubscriptionFeed
from shelfops_pipeline.sandbox.webhook_delivery import DeliveryConfig
from shelfops_pipeline.webhooks.lifecycle import subscribe_connection
from shelfops_pipeline.webhooks.receiver import build_receiver
from shelfops_pipeline.webhooks.settings import ReceiverSettings
from shelfops_pipeline.webhooks.subscribe import Subscribed, subscribe_square

# How often the sandbox posts what happened since its last batch.
LIVE_INTERVAL_SECONDS = 5.0
# Subscriptions bring their own URL and key; these only set the retry timing.
SQUARE_FEED = SubscriptionFeed(DeliveryConfig("", square_retry_schedule()), LIVE_INTERVAL_SECONDS)
SHOPIFY_FEED = SubscriptionFeed(DeliveryConfig("", shopify_retry_schedule()), LIVE_INTERVAL_SECONDS)


@contextmanager
def live_webhooks(
    demo: DemoSandbox, store: CredentialStore, port: int, connections: Sequence[Connection]
) -> Iterator[list[Subscribed]]:
    """Serve the receiver on 127.0.0.1:`port` and subscribe it, as `shelfops connect` does with
    SHELFOPS_WEBHOOK_BASE_URL set: the demo's Square app, then each Shopify shop among
    `connections` with the shop's own token. The receiver checks Shopify's deliveries against
    the demo app's secret."""
    base = f"http://127.0.0.1:{port}"
    shopify_secret = demo.shopify_app().client_secret
    settings = ReceiverSettings(home=store.path.parent, shopify_secrets=(shopify_secret,))
    with serve_in_thread(build_receiver(settings), port):
        owner = Secret(next(iter(demo.sandbox.tokens.personal_tokens().values())))
        square = asyncio.run(
            subscribe_square(SubscriptionStore(store), demo.square_url, owner, base)
        )
        shops = [
            subscribe_connection(store, connection, base, demo.shopify_url)
            for connection in connections
            if connection.source == "shopify"
        ]
        yield [square, *shops]
