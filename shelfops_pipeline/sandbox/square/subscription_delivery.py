"""Live Square events to every enabled webhook subscription, each signed with its own key."""

import contextlib
import logging
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass
from datetime import datetime

from shelfops_pipeline.sandbox.square.subscriptions import WebhookSubscription, WebhookSubscriptions
from shelfops_pipeline.sandbox.square.webhook_signing import SquareWebhookSigner
from shelfops_pipeline.sandbox.subscription_fanout import SubscriptionFeed, fan_out_webhooks
from shelfops_pipeline.sandbox.webhook_delivery import MessageSource, WebhookMessage

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class _Subscriber:
    """A Square subscription as the fan-out sees it: signed with its own key, its topics only."""

    subscription: WebhookSubscription

    @property
    def key(self) -> str:
        return self.subscription.id

    @property
    def url(self) -> str:
        return self.subscription.notification_url

    def signer(self) -> SquareWebhookSigner:
        return SquareWebhookSigner(self.subscription.signature_key, self.url)

    def delivery_of(self, message: WebhookMessage) -> WebhookMessage | None:
        return message if self.subscription.wants(message.topic) else None


@contextlib.asynccontextmanager
async def subscription_webhooks(
    source: MessageSource,
    subscriptions: WebhookSubscriptions,
    feed: SubscriptionFeed,
    clock: Callable[[], datetime],
) -> AsyncIterator[None]:
    """Deliver live events to the subscribed URLs while the block runs (a server's lifespan)."""

    def subscribers() -> list[_Subscriber]:
        return [_Subscriber(s) for s in subscriptions.enabled()]

    logger.info("live webhooks to subscribed URLs every %g s", feed.interval_seconds)
    async with fan_out_webhooks(source, subscribers, feed.template, feed.interval_seconds, clock):
        yield
