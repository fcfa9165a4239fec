"""Live Square events to every enabled webhook subscription, each signed with its own key."""

import asyncio
import contextlib
import dataclasses
import logging
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass
from datetime import datetime

from shelfops_pipeline.sandbox.square.subscriptions import WebhookSubscription, WebhookSubscriptions
from shelfops_pipeline.sandbox.square.webhook_signing import SquareWebhookSigner
from shelfops_pipeline.sandbox.webhook_delivery import (
    DeliveryConfig,
    LiveWebhooks,
    MessageSource,
    WebhookDispatcher,
)

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class SubscriptionFeed:
    """How subscribed URLs are served: the retry and timeout settings of `template` (its target
    is replaced by each subscription's URL), one batch every `interval_seconds`."""

    template: DeliveryConfig
    interval_seconds: float = 5.0

    @classmethod
    def like(cls, live: LiveWebhooks) -> "SubscriptionFeed":
        return cls(live.config, live.interval_seconds)


class _Dispatchers:
    """One open dispatcher per enabled subscription; closed when its subscription goes."""

    def __init__(self, template: DeliveryConfig, clock: Callable[[], datetime]) -> None:
        self._template = template
        self._clock = clock
        self._open: dict[str, WebhookDispatcher] = {}

    async def current(
        self, subscriptions: list[WebhookSubscription]
    ) -> list[tuple[WebhookSubscription, WebhookDispatcher]]:
        wanted = {s.id for s in subscriptions}
        for gone in [i for i in self._open if i not in wanted]:
            await self._open.pop(gone).__aexit__(None, None, None)
        for subscription in subscriptions:
            if subscription.id not in self._open:
                config = dataclasses.replace(
                    self._template, target_url=subscription.notification_url
                )
                signer = SquareWebhookSigner(
                    subscription.signature_key, subscription.notification_url
                )
                dispatcher = WebhookDispatcher(config, signer, self._clock)
                self._open[subscription.id] = await dispatcher.__aenter__()
        return [(s, self._open[s.id]) for s in subscriptions]

    async def close(self) -> None:
        await self.current([])


async def _fan_out(
    source: MessageSource,
    subscriptions: WebhookSubscriptions,
    dispatchers: _Dispatchers,
    clock: Callable[[], datetime],
    interval_seconds: float,
) -> None:
    last = clock()
    while True:
        await asyncio.sleep(interval_seconds)
        now = clock()
        targets = await dispatchers.current(subscriptions.enabled())
        try:
            messages = list(source(last, now)) if targets else []
        except Exception:
            # A bad tick must not stop the feed (or the server hosting it); the next tick retries.
            logger.exception("webhook events for (%s, %s] could not be built", last, now)
            continue
        for message in messages:
            for subscription, dispatcher in targets:
                if subscription.wants(message.topic):
                    dispatcher.submit(message)
        last = now


@contextlib.asynccontextmanager
async def subscription_webhooks(
    source: MessageSource,
    subscriptions: WebhookSubscriptions,
    feed: SubscriptionFeed,
    clock: Callable[[], datetime],
) -> AsyncIterator[None]:
    """Deliver live events to the subscribed URLs while the block runs (a server's lifespan)."""
    dispatchers = _Dispatchers(feed.template, clock)
    task = asyncio.create_task(
        _fan_out(source, subscriptions, dispatchers, clock, feed.interval_seconds),
        name="webhook-subscriptions",
    )
    logger.info("live webhooks to subscribed URLs every %g s", feed.interval_seconds)
    try:
        yield
    finally:
        task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await task
        await dispatchers.close()
