"""Subscriptions kept in step with connections, for the command line: after a connect, on
`shelfops webhooks subscribe`, and before `shelfops connections remove` forgets a connection."""

import asyncio
from pathlib import Path

from shelfops_pipeline.credentials.errors import CredentialError
from shelfops_pipeline.credentials.models import Connection
from shelfops_pipeline.credentials.store import CredentialStore
from shelfops_pipeline.credentials.subscriptions import SubscriptionStore
from shelfops_pipeline.http.errors import ApiError
from shelfops_pipeline.sources.shopify.resources import ShopifyResource
from shelfops_pipeline.sources.shopify.webhooks import WebhookSubscriptionError
from shelfops_pipeline.sources.square.webhooks import UnexpectedReply
from shelfops_pipeline.webhooks.subscribe import (
    Subscribed,
    SubscriptionUnavailable,
    square_app_token,
    subscribe_shop,
    subscribe_square,
    unsubscribe_shop,
    unsubscribe_square,
)

# What can stop a subscription change, each with a message naming the problem.
SUBSCRIPTION_ERRORS = (
    SubscriptionUnavailable,
    ApiError,
    CredentialError,
    UnexpectedReply,
    WebhookSubscriptionError,
)


def _shopify(store: CredentialStore, base_url: str) -> ShopifyResource:
    return ShopifyResource(base_url=base_url, shelfops_home=str(Path(store.path).parent))


def subscribe_connection(
    store: CredentialStore, connection: Connection, receiver_base: str, provider_base_url: str
) -> Subscribed:
    """Subscribe the receiver for this connection's account (Square: the app, once)."""
    subscriptions = SubscriptionStore(store)
    if connection.source == "square":
        token = square_app_token()
        return asyncio.run(subscribe_square(subscriptions, provider_base_url, token, receiver_base))
    shopify = _shopify(store, provider_base_url)
    return asyncio.run(subscribe_shop(subscriptions, shopify, connection, receiver_base))


def unsubscribe_connection(
    store: CredentialStore, connection: Connection, provider_base_url: str
) -> int:
    """Remove the subscriptions only this connection needs: a shop's own, or Square's app
    subscription when no other Square connection remains. How many were removed."""
    subscriptions = SubscriptionStore(store)
    if connection.source == "shopify":
        if not subscriptions.of_connection(connection.id):
            return 0
        shopify = _shopify(store, provider_base_url)
        return asyncio.run(unsubscribe_shop(subscriptions, shopify, connection))
    others = [c for c in store.overview() if c.source == "square" and c.id != connection.id]
    if others or not subscriptions.all("square"):
        return 0
    return asyncio.run(unsubscribe_square(subscriptions, provider_base_url, square_app_token()))
