"""A shop's webhook subscriptions through the GraphQL Admin API: list, subscribe, unsubscribe.

Connecting a shop subscribes our receiver's URL to the topics we ingest; disconnecting removes
every subscription pointing at that URL. Both are safe to repeat: a topic already subscribed at
the URL counts as done (also when Shopify answers "Address for this topic has already been
taken" to a create whose first reply was lost), a subscription already gone as removed.

Topics are Shopify's enum names (`ORDERS_CREATE`) or the header form (`orders/create`).
"""

import logging
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from shelfops_pipeline.sources.shopify import queries
from shelfops_pipeline.sources.shopify.client import GRAPHQL_PATH, MAX_PAGE_SIZE, ShopifyClient

logger = logging.getLogger(__name__)

TAKEN = "Address for this topic has already been taken"
GONE = "Webhook subscription does not exist"


class WebhookSubscriptionError(RuntimeError):
    """Shopify refused to create or delete a webhook subscription; the message carries its
    `userErrors` (or top-level errors, such as a missing access scope) word for word."""

    def __init__(self, action: str, messages: list[str]) -> None:
        super().__init__(f"Shopify refused to {action}: {'; '.join(messages)}")
        self.messages = messages


@dataclass(frozen=True)
class WebhookSubscription:
    """One subscription of the calling app on the shop: its GID, topic (enum name) and URI."""

    id: str
    topic: str
    uri: str


def topic_name(topic: str) -> str:
    """`orders/create` or `ORDERS_CREATE` -> `ORDERS_CREATE`."""
    return topic.strip().replace("/", "_").upper()


async def list_subscriptions(
    client: ShopifyClient, callback_url: str | None = None
) -> list[WebhookSubscription]:
    """The app's subscriptions on the shop, those at `callback_url` only when given."""
    variables = {"first": MAX_PAGE_SIZE, "uri": callback_url}
    connection = ["webhookSubscriptions"]
    return [
        WebhookSubscription(node["id"], node["topic"], node["uri"])
        async for page in client.pages(queries.WEBHOOK_SUBSCRIPTIONS, variables, connection)
        for node in page
    ]


@dataclass(frozen=True)
class TopicSubscriptions:
    ids: list[str]
    """The subscription ids, in the order of the topics asked for."""
    created: int
    """How many of them this call created (the others were there already)."""


async def subscribe(
    client: ShopifyClient, topics: Iterable[str], callback_url: str
) -> TopicSubscriptions:
    """Subscribe `callback_url` to each topic that is not subscribed to it yet."""
    wanted = list(dict.fromkeys(topic_name(t) for t in topics))
    existing = {s.topic: s.id for s in await list_subscriptions(client, callback_url)}
    created = 0
    for topic in wanted:
        if topic in existing:
            continue
        action = f"subscribe to {topic}"
        variables = {"topic": topic, "uri": callback_url}
        payload = await _mutate(client, queries.WEBHOOK_CREATE, variables, action)
        messages = _messages(payload)
        if messages == [TAKEN]:
            existing.update({s.topic: s.id for s in await list_subscriptions(client, callback_url)})
        elif messages or not isinstance(payload.get("webhookSubscription"), dict):
            raise WebhookSubscriptionError(action, messages or ["no subscription in the reply"])
        else:
            existing[topic] = payload["webhookSubscription"]["id"]
            created += 1
    missing = [t for t in wanted if t not in existing]
    if missing:
        raise WebhookSubscriptionError(f"subscribe to {', '.join(missing)}", [TAKEN])
    logger.info("webhooks: %d topics subscribed, %d of them new", len(wanted), created)
    return TopicSubscriptions([existing[topic] for topic in wanted], created)


async def unsubscribe_all(client: ShopifyClient, callback_url: str) -> int:
    """Delete every subscription at `callback_url`; how many were deleted."""
    deleted = 0
    for subscription in await list_subscriptions(client, callback_url):
        action = f"unsubscribe from {subscription.topic}"
        variables = {"id": subscription.id}
        payload = await _mutate(client, queries.WEBHOOK_DELETE, variables, action)
        messages = _messages(payload)
        if messages and messages != [GONE]:
            raise WebhookSubscriptionError(action, messages)
        deleted += 0 if messages else 1
    logger.info("webhooks: %d subscriptions removed", deleted)
    return deleted


async def _mutate(
    client: ShopifyClient, query: str, variables: Mapping[str, Any], action: str
) -> dict[str, Any]:
    """The payload of a one-field mutation; top-level errors (ACCESS_DENIED for a topic whose
    scope the token lacks, ...) raise with Shopify's words."""
    body = await client.api.request_json(
        "POST", GRAPHQL_PATH, json={"query": query, "variables": dict(variables)}, kind="write"
    )
    data = body.get("data") if isinstance(body, dict) else None
    errors = body.get("errors") if isinstance(body, dict) else None
    payloads = list(data.values()) if isinstance(data, dict) else []
    if errors or len(payloads) != 1 or not isinstance(payloads[0], dict):
        listed = errors if isinstance(errors, list) else [errors or "no payload in the reply"]
        words = [str(e.get("message", e)) if isinstance(e, dict) else str(e) for e in listed]
        raise WebhookSubscriptionError(action, words)
    payload: dict[str, Any] = payloads[0]
    return payload


def _messages(payload: Mapping[str, Any]) -> list[str]:
    return [str(e.get("message")) for e in payload.get("userErrors") or () if isinstance(e, dict)]
