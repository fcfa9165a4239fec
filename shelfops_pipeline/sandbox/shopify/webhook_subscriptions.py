"""Webhook subscriptions made through the Admin API, kept per app installation (app and shop).

An app sees, and may delete, only the subscriptions it made on that shop; each one receives the
shop's events of its topic, signed with the app's client secret. One topic and address may be
subscribed once per installation; a second try is Shopify's "Address for this topic has already
been taken".
"""

import threading
from dataclasses import dataclass
from datetime import datetime

from shelfops_pipeline.sandbox.shopify.model import ID_DIGITS, gid
from shelfops_pipeline.sandbox.shopify.webhook_topics import WEBHOOK_TOPICS
from shelfops_pipeline.sandbox.webhook_delivery import WebhookMessage
from shelfops_pipeline.sandbox.world.ids import numeric_id

KIND = "WebhookSubscription"


@dataclass(frozen=True)
class WebhookSubscription:
    """Where one app wants one topic of one shop delivered."""

    number: int
    app_id: str
    shop: str
    topic: str
    uri: str
    api_version: str
    created_at: datetime
    format: str = "JSON"

    @property
    def gid(self) -> str:
        return gid(KIND, self.number)

    @property
    def header_topic(self) -> str:
        return WEBHOOK_TOPICS[self.topic].header

    def wants(self, message: WebhookMessage) -> bool:
        """Whether `message` (one of the sandbox's Shopify webhooks) is for this subscription."""
        return message.topic == self.header_topic and message.attributes.get("shop") == self.shop


class WebhookSubscriptions:
    """Every installation's subscriptions, in creation order; safe to share between threads."""

    def __init__(self, seed: int) -> None:
        self._seed = seed
        self._lock = threading.Lock()
        self._made = 0
        self._by_number: dict[int, WebhookSubscription] = {}

    def add(
        self, app_id: str, shop: str, topic: str, uri: str, api_version: str, at: datetime
    ) -> WebhookSubscription | None:
        """The new subscription; None when the installation already has `topic` at `uri`."""
        with self._lock:
            for existing in self._by_number.values():
                if (existing.app_id, existing.shop, existing.topic, existing.uri) == (
                    app_id, shop, topic, uri,
                ):  # fmt: skip
                    return None
            number = self._next_number()
            subscription = WebhookSubscription(number, app_id, shop, topic, uri, api_version, at)
            self._by_number[number] = subscription
            return subscription

    def _next_number(self) -> int:
        """A Shopify-sized id, repeatable for a seed; lock held."""
        while True:
            self._made += 1
            number = numeric_id(self._seed, ID_DIGITS, KIND, self._made)
            if number not in self._by_number:
                return number

    def of_installation(self, app_id: str, shop: str) -> list[WebhookSubscription]:
        with self._lock:
            return [s for s in self._by_number.values() if s.app_id == app_id and s.shop == shop]

    def find(self, app_id: str, shop: str, number: int) -> WebhookSubscription | None:
        with self._lock:
            found = self._by_number.get(number)
        return found if found is not None and (found.app_id, found.shop) == (app_id, shop) else None

    def remove(self, app_id: str, shop: str, number: int) -> bool:
        """Delete one of the installation's subscriptions; False when it has no such one."""
        with self._lock:
            found = self._by_number.get(number)
            if found is None or (found.app_id, found.shop) != (app_id, shop):
                return False
            del self._by_number[number]
            return True

    def all(self) -> list[WebhookSubscription]:
        """Every installation's subscriptions: the ones live events go to."""
        with self._lock:
            return list(self._by_number.values())
