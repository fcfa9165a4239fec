"""Live events to every subscribed URL: one dispatcher (retries, timeouts, duplicates) per
subscription, opened when it appears and closed when it goes.

Provider-neutral: each provider says which subscriptions exist now, which of its events each one
takes (possibly with per-subscription headers), and how each is signed.
"""

import asyncio
import contextlib
import dataclasses
from collections.abc import AsyncIterator, Callable, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Protocol

from shelfops_pipeline.sandbox.webhook_delivery import (
    DeliveryConfig,
    LiveWebhooks,
    MessageSource,
    WebhookDispatcher,
    WebhookMessage,
    WebhookSigner,
    event_batches,
)


@dataclass(frozen=True)
class SubscriptionFeed:
    """How subscribed URLs are served: the retry and timeout settings of `template` (its target
    is replaced by each subscription's URL), one batch every `interval_seconds`."""

    template: DeliveryConfig
    interval_seconds: float = 5.0

    @classmethod
    def like(cls, live: LiveWebhooks) -> "SubscriptionFeed":
        return cls(live.config, live.interval_seconds)


class Subscriber(Protocol):
    """One subscription as the fan-out sees it."""

    @property
    def key(self) -> str:
        """Stable while the subscription lives; one dispatcher per key."""
        ...

    @property
    def url(self) -> str: ...

    def signer(self) -> WebhookSigner: ...

    def delivery_of(self, message: WebhookMessage) -> WebhookMessage | None:
        """What to send this subscriber for `message`; None when it did not subscribe to it."""
        ...


class _Dispatchers:
    def __init__(self, template: DeliveryConfig, clock: Callable[[], datetime]) -> None:
        self._template = template
        self._clock = clock
        self._open: dict[str, WebhookDispatcher] = {}

    async def current(
        self, subscribers: Sequence[Subscriber]
    ) -> list[tuple[Subscriber, WebhookDispatcher]]:
        wanted = {s.key for s in subscribers}
        for gone in [key for key in self._open if key not in wanted]:
            await self._open.pop(gone).__aexit__(None, None, None)
        for subscriber in subscribers:
            if subscriber.key not in self._open:
                config = dataclasses.replace(self._template, target_url=subscriber.url)
                dispatcher = WebhookDispatcher(config, subscriber.signer(), self._clock)
                self._open[subscriber.key] = await dispatcher.__aenter__()
        return [(s, self._open[s.key]) for s in subscribers]

    async def close(self) -> None:
        await self.current([])


async def _fan_out(
    source: MessageSource,
    subscribers: Callable[[], Sequence[Subscriber]],
    dispatchers: _Dispatchers,
    clock: Callable[[], datetime],
    interval_seconds: float,
) -> None:
    async for messages in event_batches(source, clock, interval_seconds):
        targets = await dispatchers.current(subscribers())
        for message in messages:
            for subscriber, dispatcher in targets:
                delivery = subscriber.delivery_of(message)
                if delivery is not None:
                    dispatcher.submit(delivery)


@contextlib.asynccontextmanager
async def fan_out_webhooks(
    source: MessageSource,
    subscribers: Callable[[], Sequence[Subscriber]],
    template: DeliveryConfig,
    interval_seconds: float,
    clock: Callable[[], datetime],
) -> AsyncIterator[None]:
    """While the block runs, every `interval_seconds` send the events of (last tick, now] to the
    subscribers of that moment, with `template`'s retry and timeout settings."""
    dispatchers = _Dispatchers(template, clock)
    task = asyncio.create_task(
        _fan_out(source, subscribers, dispatchers, clock, interval_seconds),
        name="webhook-fan-out",
    )
    try:
        yield
    finally:
        task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await task
        await dispatchers.close()
