"""Live Shopify events to each webhook subscription of the shop they happened in, for the
subscription's topic only, signed with the client secret of the app that subscribed.

Every subscription gets its own `X-Shopify-Webhook-Id` for an event (one delivery per
subscription); `X-Shopify-Event-Id` stays the event's, so two subscriptions to one topic get two
webhooks that a receiver can tell are the same event.
"""

import contextlib
import dataclasses
import logging
import uuid
from collections.abc import AsyncIterator, Callable, Mapping
from datetime import datetime

from shelfops_pipeline.sandbox.shopify.tokens import ShopifyTokens
from shelfops_pipeline.sandbox.shopify.webhook_signing import ShopifyWebhookSigner
from shelfops_pipeline.sandbox.shopify.webhook_subscriptions import (
    WebhookSubscription,
    WebhookSubscriptions,
)
from shelfops_pipeline.sandbox.subscription_fanout import SubscriptionFeed, fan_out_webhooks
from shelfops_pipeline.sandbox.webhook_delivery import MessageSource, WebhookMessage

logger = logging.getLogger(__name__)


def app_secrets(tokens: ShopifyTokens) -> dict[str, str]:
    """Each app's client secret by client id: the public app and every shop's custom app."""
    secrets = {tokens.application.client_id: tokens.application.client_secret}
    for app in tokens.custom_apps.values():
        secrets[app.credentials.client_id] = app.credentials.client_secret
    return secrets


@dataclasses.dataclass(frozen=True)
class _Subscriber:
    subscription: WebhookSubscription
    secret: str = dataclasses.field(repr=False)

    @property
    def key(self) -> str:
        return self.subscription.gid

    @property
    def url(self) -> str:
        return self.subscription.uri

    def signer(self) -> ShopifyWebhookSigner:
        return ShopifyWebhookSigner(self.secret)

    def delivery_of(self, message: WebhookMessage) -> WebhookMessage | None:
        if not self.subscription.wants(message):
            return None
        webhook_id = uuid.uuid5(uuid.NAMESPACE_URL, f"{self.key}/{message.event_id}")
        attributes = {**message.attributes, "webhook_id": str(webhook_id)}
        return dataclasses.replace(message, attributes=attributes)


@contextlib.asynccontextmanager
async def shopify_subscription_webhooks(
    source: MessageSource,
    subscriptions: WebhookSubscriptions,
    feed: SubscriptionFeed,
    secrets: Mapping[str, str],
    clock: Callable[[], datetime],
) -> AsyncIterator[None]:
    """Deliver live Shopify events to the subscribed URLs while the block runs."""

    def subscribers() -> list[_Subscriber]:
        found = []
        for subscription in subscriptions.all():
            secret = secrets.get(subscription.app_id)
            if secret is None:
                logger.warning("no client secret for the app of %s; skipped", subscription.gid)
                continue
            found.append(_Subscriber(subscription, secret))
        return found

    logger.info("live Shopify webhooks to subscribed URLs every %g s", feed.interval_seconds)
    async with fan_out_webhooks(source, subscribers, feed.template, feed.interval_seconds, clock):
        yield
