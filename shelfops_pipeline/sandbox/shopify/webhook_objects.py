"""`webhookSubscriptionCreate`, `webhookSubscriptionDelete` and the `webhookSubscriptions`
connection, answering in Shopify's shapes: a payload with `userErrors { field message }` for
input Shopify refuses (HTTP 200), the subscription as `WebhookSubscription`.

Since API 2025-10 the address is `uri` (`callbackUrl` is deprecated but still taken). Real
Shopify wants https on a public host and also takes Pub/Sub and EventBridge addresses; the
sandbox delivers over plain HTTP only, so it takes http(s) URLs, loopback included, and refuses
other protocols as unsupported. Payloads are JSON only, so a subscription asking for XML is
refused rather than sent JSON it did not ask for.
"""

from typing import Any

import httpx

from shelfops_pipeline.sandbox.shopify.connections import SortKey, id_key, time_value
from shelfops_pipeline.sandbox.shopify.context import Connection, RequestContext
from shelfops_pipeline.sandbox.shopify.model import gid, graphql_datetime
from shelfops_pipeline.sandbox.shopify.search import SearchFields
from shelfops_pipeline.sandbox.shopify.versions import CURRENT_STABLE
from shelfops_pipeline.sandbox.shopify.webhook_subscriptions import KIND, WebhookSubscription
from shelfops_pipeline.sandbox.shopify.webhook_topics import WEBHOOK_TOPICS

ADDRESS_FIELD = ["webhookSubscription", "callbackUrl"]
TAKEN = "Address for this topic has already been taken"
NOT_FOUND = "Webhook subscription does not exist"
_SCHEMES = ("http", "https")


class WebhookSubscriptionObject:
    graphql_type = KIND

    def __init__(self, subscription: WebhookSubscription) -> None:
        self.id = subscription.gid
        self.legacyResourceId = str(subscription.number)
        self.topic = subscription.topic
        self.uri = subscription.uri
        self.callbackUrl = subscription.uri
        self.endpoint = {"graphql_type": "WebhookHttpEndpoint", "callbackUrl": subscription.uri}
        self.format = subscription.format
        version = subscription.api_version
        latest = " (Latest)" if version == CURRENT_STABLE else ""
        self.apiVersion = {"handle": version, "displayName": version + latest, "supported": True}
        self.includeFields: list[str] = []
        self.metafieldNamespaces: list[str] = []
        self.filter = None
        self.createdAt = graphql_datetime(subscription.created_at)
        self.updatedAt = self.createdAt


def _user_error(field: list[str], message: str) -> dict[str, Any]:
    return {"field": field, "message": message}


def _address_problem(uri: str | None) -> str | None:
    """Shopify's words for an address it would not deliver to; None when it is fine."""
    if not uri or not uri.strip():
        return "Address can't be blank"
    scheme, separator, _ = uri.partition("://")
    if separator and scheme.lower() not in _SCHEMES:
        return f"Address protocol {scheme}:// is not supported"
    try:
        parsed = httpx.URL(uri)
    except httpx.InvalidURL:
        return "Address is invalid"
    if parsed.scheme not in _SCHEMES or not parsed.host:
        return "Address is invalid"
    return None


def create_subscription(
    context: RequestContext, topic: str, fields: dict[str, Any]
) -> dict[str, Any]:
    """The `webhookSubscriptionCreate` payload; the caller has checked the topic's scope."""
    uri = fields.get("uri") or fields.get("callbackUrl")
    problem = _address_problem(uri)
    if problem is not None:
        return {"webhookSubscription": None, "userErrors": [_user_error(ADDRESS_FIELD, problem)]}
    if (fields.get("format") or "JSON") != "JSON":
        message = "Format 'xml' is not supported by the sandbox; use JSON"
        field = ["webhookSubscription", "format"]
        return {"webhookSubscription": None, "userErrors": [_user_error(field, message)]}
    # The payload version is the app's webhook version; the sandbox app's is the current one.
    made = context.webhooks.add(
        context.app_id, context.shop.domain, topic, str(uri).strip(), CURRENT_STABLE, context.at
    )
    if made is None:
        return {"webhookSubscription": None, "userErrors": [_user_error(ADDRESS_FIELD, TAKEN)]}
    return {"webhookSubscription": WebhookSubscriptionObject(made), "userErrors": []}


def delete_subscription(context: RequestContext, number: int | None) -> dict[str, Any]:
    """The `webhookSubscriptionDelete` payload; `number` is None for another kind's id."""
    removed = number is not None and context.webhooks.remove(
        context.app_id, context.shop.domain, number
    )
    if not removed:
        return {
            "deletedWebhookSubscriptionId": None,
            "userErrors": [_user_error(["id"], NOT_FOUND)],
        }
    return {"deletedWebhookSubscriptionId": gid(KIND, number), "userErrors": []}


def find_subscription(context: RequestContext, number: int) -> WebhookSubscriptionObject | None:
    found = context.webhooks.find(context.app_id, context.shop.domain, number)
    return WebhookSubscriptionObject(found) if found else None


def _matches(subscription: WebhookSubscription, arguments: dict[str, Any]) -> bool:
    topics = arguments.get("topics")
    address = arguments.get("uri") or arguments.get("callbackUrl")
    wanted_format = arguments.get("format")
    return (
        (not topics or subscription.topic in topics)
        and (address is None or subscription.uri == address)
        and (wanted_format is None or subscription.format == wanted_format)
    )


def subscription_connection(
    context: RequestContext, arguments: dict[str, Any]
) -> Connection[WebhookSubscription]:
    """The caller's subscriptions on this shop, filtered by `topics`, `uri`, `format`, `query`."""
    by_id = arguments.get("sortKey") == "ID"

    def key(subscription: WebhookSubscription) -> SortKey:
        if by_id:
            return id_key(subscription.number)
        return (time_value(subscription.created_at), subscription.number)

    def items() -> list[WebhookSubscription]:
        mine = context.webhooks.of_installation(context.app_id, context.shop.domain)
        return [s for s in mine if _matches(s, arguments)]

    search = SearchFields(
        fields={
            "id": lambda s: s.number,
            "topic": lambda s: WEBHOOK_TOPICS[s.topic].header,
            "format": lambda s: s.format,
            "uri": lambda s: s.uri,
            "callback_url": lambda s: s.uri,
            "created_at": lambda s: s.created_at,
            "updated_at": lambda s: s.created_at,
        },
        timezone=context.shop.timezone,
    )
    return Connection(context, items, key, WebhookSubscriptionObject, arguments, search)
