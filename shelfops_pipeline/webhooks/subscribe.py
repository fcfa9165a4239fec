"""Webhook subscriptions follow connections: connecting subscribes the receiver, disconnecting
unsubscribes it.

Square: one subscription per application and receiver URL covers every seller who authorized the
app; it is created with the app owner's personal access token (Square refuses sellers' OAuth
tokens there), its signature key stored encrypted, and deleted when the last Square connection
goes. Shopify: each shop gets its own subscriptions, made with that shop's token and signed with
the app's secret; they are deleted with the shop's connection.
"""

import logging
import os
from collections.abc import Mapping
from dataclasses import dataclass

from shelfops_pipeline.credentials.database import utc_now
from shelfops_pipeline.credentials.models import Connection
from shelfops_pipeline.credentials.secret import Secret
from shelfops_pipeline.credentials.subscriptions import StoredSubscription, SubscriptionStore
from shelfops_pipeline.http.client import ApiClient
from shelfops_pipeline.sources.shopify.resources import ShopifyResource
from shelfops_pipeline.sources.shopify.webhooks import subscribe, unsubscribe_all
from shelfops_pipeline.sources.square.client import square_api_client
from shelfops_pipeline.sources.square.webhooks import (
    create_subscription,
    delete_subscription,
    enabled_subscription_ids,
)
from shelfops_pipeline.webhooks.envelopes import SHOPIFY_TOPICS, SQUARE_TOPICS

logger = logging.getLogger(__name__)

RECEIVER_URL_ENV = "SHELFOPS_WEBHOOK_BASE_URL"
SQUARE_APP_TOKEN_ENV = "SHELFOPS_SQUARE_APP_ACCESS_TOKEN"
APPLICATION_ACCOUNT = "application"


class SubscriptionUnavailable(Exception):
    """Subscribing cannot even be tried: something the operator must configure is missing."""


def receiver_url(base_url: str, provider: str) -> str:
    """Where a provider posts: the receiver's public base URL plus its provider path."""
    return f"{base_url.rstrip('/')}/webhooks/{provider}"


def square_app_token(environ: Mapping[str, str] = os.environ) -> Secret:
    token = environ.get(SQUARE_APP_TOKEN_ENV)
    if not token:
        raise SubscriptionUnavailable(
            f"{SQUARE_APP_TOKEN_ENV} is not set: Square webhook subscriptions belong to the app "
            "and need its owner's personal access token (Developer Console > Credentials)"
        )
    return Secret(token)


def _square_app_api(square_base_url: str, token: Secret) -> ApiClient:
    async def auth_headers() -> Mapping[str, str]:
        return {"Authorization": f"Bearer {token.reveal()}"}

    return square_api_client(square_base_url, APPLICATION_ACCOUNT, auth_headers)


@dataclass(frozen=True)
class Subscribed:
    provider: str
    notification_url: str
    subscription_ids: tuple[str, ...]
    created: bool

    def describe(self) -> str:
        verb = "subscribed" if self.created else "already subscribed"
        ids = self.subscription_ids
        which = ids[0] if len(ids) == 1 else f"{len(ids)} subscriptions, one per topic"
        return f"webhooks: {verb} {self.notification_url} at {self.provider.title()} ({which})"


async def subscribe_square(
    subscriptions: SubscriptionStore, square_base_url: str, token: Secret, receiver_base: str
) -> Subscribed:
    """Make sure the app has an enabled subscription to the receiver whose key is stored: the
    existing one is reused; one Square no longer has (deleted, disabled) is replaced."""
    url = receiver_url(receiver_base, "square")
    stored = [s for s in subscriptions.all("square") if s.notification_url == url]
    async with _square_app_api(square_base_url, token) as api:
        live = await enabled_subscription_ids(api) if stored else set()
        kept = [s.id for s in stored if s.id in live]
        if kept:
            return Subscribed("square", url, tuple(kept), created=False)
        created = await create_subscription(api, url, tuple(SQUARE_TOPICS))
    subscriptions.forget([s.id for s in stored])
    subscriptions.save(
        StoredSubscription(
            id=created.id,
            source="square",
            connection_id=None,
            notification_url=url,
            topics=created.event_types,
            signature_key=created.signature_key,
            created_at=utc_now(),
        )
    )
    return Subscribed("square", url, (created.id,), created=True)


async def unsubscribe_square(
    subscriptions: SubscriptionStore, square_base_url: str, token: Secret
) -> int:
    """Delete the app's subscriptions at Square and forget them; how many there were."""
    stored = subscriptions.all("square")
    async with _square_app_api(square_base_url, token) as api:
        for subscription in stored:
            if not await delete_subscription(api, subscription.id):
                logger.warning("Square had no subscription %s any more", subscription.id)
    subscriptions.forget([s.id for s in stored])
    return len(stored)


async def subscribe_shop(
    subscriptions: SubscriptionStore,
    shopify: ShopifyResource,
    connection: Connection,
    receiver_base: str,
) -> Subscribed:
    """Subscribe the shop's topics to the receiver (idempotent at Shopify), remember the ids."""
    url = receiver_url(receiver_base, "shopify")
    async with shopify.client(connection.customer_id) as client:
        result = await subscribe(client, tuple(SHOPIFY_TOPICS), url)
    for subscription_id in result.ids:
        subscriptions.save(
            StoredSubscription(
                id=subscription_id,
                source="shopify",
                connection_id=connection.id,
                notification_url=url,
                topics=tuple(SHOPIFY_TOPICS),
                signature_key=None,
                created_at=utc_now(),
            )
        )
    return Subscribed("shopify", url, tuple(result.ids), created=result.created > 0)


async def unsubscribe_shop(
    subscriptions: SubscriptionStore, shopify: ShopifyResource, connection: Connection
) -> int:
    """Delete ShelfOps' subscriptions of the shop at Shopify; how many went."""
    urls = {s.notification_url for s in subscriptions.of_connection(connection.id)}
    removed = 0
    async with shopify.client(connection.customer_id) as client:
        for url in sorted(urls):
            removed += await unsubscribe_all(client, url)
    subscriptions.forget([s.id for s in subscriptions.of_connection(connection.id)])
    return removed
