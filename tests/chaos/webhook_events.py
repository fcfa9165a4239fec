"""Fresh, genuinely signed Square and Shopify events for load: the sandbox's own events used as
templates, each copy given a new event id (and, for Shopify, whose id travels in a header, its own
`updated_at`), so every event has an id and a body no other event has."""

import json
from collections import defaultdict
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import timedelta

from conftest import FROZEN_NOW, SEED
from webhook_helpers import SHOPIFY_SECRET, SQUARE_KEY, first_attempt

from shelfops_pipeline.sandbox.shopify.webhook_events import shopify_events_between
from shelfops_pipeline.sandbox.shopify.webhook_signing import (
    ShopifyWebhookSigner,
    shopify_hmac,
    shopify_message,
)
from shelfops_pipeline.sandbox.square.serialize import SquareSerializer
from shelfops_pipeline.sandbox.square.webhook_events import square_recent_events
from shelfops_pipeline.sandbox.square.webhook_signing import (
    SquareWebhookSigner,
    square_message,
    square_signature,
)
from shelfops_pipeline.sandbox.timestamps import rfc3339
from shelfops_pipeline.sandbox.webhook_delivery import DeliveryAttempt, Failure, WebhookMessage
from shelfops_pipeline.sandbox.world.world import World

PROVIDERS = ("square", "shopify")
SIGNATURE_HEADER = {"square": "x-square-hmacsha256-signature", "shopify": "x-shopify-hmac-sha256"}
SQUARE_TEMPLATES = 300
SHOPIFY_TEMPLATES_PER_TOPIC = 60
SHOPIFY_WINDOW = timedelta(days=1)


@dataclass(frozen=True)
class Event:
    """One event as its provider first delivers it: the signed bytes and headers."""

    provider: str
    event_id: str
    body: bytes
    headers: Mapping[str, str]
    message: WebhookMessage


class EventFactory:
    """Makes event number `serial` of either provider, signed for the receiver at `square_url`."""

    def __init__(self, world: World, square_url: str) -> None:
        self.square_url = square_url
        self._square = SquareWebhookSigner(SQUARE_KEY, square_url)
        self._shopify = ShopifyWebhookSigner(SHOPIFY_SECRET)
        self.square_templates = square_recent_events(
            world, SquareSerializer(SEED), SQUARE_TEMPLATES
        )
        by_topic: dict[str, list[WebhookMessage]] = defaultdict(list)
        for message in shopify_events_between(world, world.now() - SHOPIFY_WINDOW, world.now()):
            by_topic[message.topic].append(message)
        self.shopify_templates = [
            (message, json.loads(message.body))
            for messages in by_topic.values()
            for message in messages[:SHOPIFY_TEMPLATES_PER_TOPIC]
        ]

    def event(self, provider: str, serial: int) -> Event:
        return self.square_event(serial) if provider == "square" else self.shopify_event(serial)

    def square_event(self, serial: int) -> Event:
        template = self.square_templates[serial % len(self.square_templates)]
        message = square_message({**template, "event_id": f"chaos-square-{serial:07d}"})
        headers = self._square.headers(first_attempt(message))
        return Event("square", message.event_id, message.body, headers, message)

    def shopify_event(self, serial: int) -> Event:
        template, payload = self.shopify_templates[serial % len(self.shopify_templates)]
        event_id = f"chaos-shopify-{serial:07d}"
        message = shopify_message(
            topic=template.topic,
            shop=template.attributes["shop"],
            payload={**payload, "updated_at": rfc3339(FROZEN_NOW + timedelta(milliseconds=serial))},
            event_id=event_id,
            webhook_id=f"chaos-webhook-{serial:07d}",
            triggered_at=template.attributes["triggered_at"],
            api_version=template.attributes["api_version"],
        )
        headers = self._shopify.headers(first_attempt(message))
        return Event("shopify", event_id, message.body, headers, message)

    def signature(
        self, provider: str, body: bytes, key: str | None = None, url: str | None = None
    ) -> str:
        """What the provider signs `body` with: the receiver's key and URL, or `key` and `url`
        instead (Shopify signs no URL)."""
        if provider == "square":
            return square_signature(key or SQUARE_KEY, url or self.square_url, body)
        return shopify_hmac(key or SHOPIFY_SECRET, body)

    def square_retry_headers(self, event: Event, retry_number: int) -> dict[str, str]:
        """Square's headers for a retry of `event`: the same signature, retry markers added."""
        attempt = DeliveryAttempt(event.message, retry_number, Failure.TIMEOUT, FROZEN_NOW)
        return self._square.headers(attempt)
