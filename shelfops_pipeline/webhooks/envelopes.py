"""What the receiver keeps from a verified delivery: the provider's event id, topic and account,
what the event is about (sales, inventory or catalog), and the headers worth keeping.

Each provider plugs in with a `topic -> kind` map and a function reading the envelope from the
parsed body and headers. Anything missing or unknown is a `Rejected` with a status and a reason.
"""

import json
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, Literal

Kind = Literal["sales", "inventory", "catalog"]
KINDS: tuple[Kind, ...] = ("sales", "inventory", "catalog")

SQUARE_TOPICS: dict[str, Kind] = {
    "order.created": "sales",
    "order.updated": "sales",
    "payment.created": "sales",
    "payment.updated": "sales",
    "inventory.count.updated": "inventory",
    "catalog.version.updated": "catalog",
}
SHOPIFY_TOPICS: dict[str, Kind] = {
    "orders/create": "sales",
    "orders/updated": "sales",
    "orders/cancelled": "sales",
    "refunds/create": "sales",
    "inventory_levels/update": "inventory",
    "products/create": "catalog",
    "products/update": "catalog",
    "products/delete": "catalog",
}
SQUARE_HEADERS = (
    "square-environment",
    "square-initial-delivery-timestamp",
    "square-retry-number",
    "square-retry-reason",
)
SHOPIFY_HEADERS = (
    "x-shopify-topic",
    "x-shopify-shop-domain",
    "x-shopify-api-version",
    "x-shopify-webhook-id",
    "x-shopify-event-id",
    "x-shopify-triggered-at",
)
MAX_FIELD_CHARS = 255


class Rejected(Exception):
    """A delivery the receiver refuses: HTTP `status`, a stable `code` and a reason to show."""

    def __init__(self, status: int, code: str, reason: str) -> None:
        super().__init__(reason)
        self.status = status
        self.code = code
        self.reason = reason


@dataclass(frozen=True)
class Envelope:
    provider: str
    event_id: str
    topic: str
    kind: Kind
    account: str
    headers: Mapping[str, str]


def parse_json_object(body: bytes) -> dict[str, Any]:
    try:
        parsed = json.loads(body)
    except (json.JSONDecodeError, UnicodeDecodeError, RecursionError) as error:
        raise Rejected(400, "malformed_json", "the body is not valid JSON") from error
    if not isinstance(parsed, dict):
        raise Rejected(400, "malformed_json", "the body is not a JSON object")
    return parsed


def _text(value: object, name: str) -> str:
    if not isinstance(value, str) or not value or len(value) > MAX_FIELD_CHARS:
        raise Rejected(400, "missing_field", f"{name} must be a non-empty string")
    return value


def _kind(topics: Mapping[str, Kind], topic: str) -> Kind:
    kind = topics.get(topic)
    if kind is None:
        raise Rejected(422, "unknown_topic", f"topic {topic[:80]!r} is not one this receiver takes")
    return kind


def _kept(headers: Mapping[str, str], names: tuple[str, ...]) -> dict[str, str]:
    return {name: headers[name][:MAX_FIELD_CHARS] for name in names if name in headers}


def square_envelope(body: Mapping[str, Any], headers: Mapping[str, str]) -> Envelope:
    """Square puts everything in the body: `event_id`, `type`, `merchant_id`."""
    topic = _text(body.get("type"), "type")
    return Envelope(
        provider="square",
        event_id=_text(body.get("event_id"), "event_id"),
        topic=topic,
        kind=_kind(SQUARE_TOPICS, topic),
        account=_text(body.get("merchant_id"), "merchant_id"),
        headers=_kept(headers, SQUARE_HEADERS),
    )


def shopify_envelope(body: Mapping[str, Any], headers: Mapping[str, str]) -> Envelope:
    """Shopify puts the envelope in headers; `X-Shopify-Event-Id` names the event (older
    deliveries only carry `X-Shopify-Webhook-Id`)."""
    topic = _text(headers.get("x-shopify-topic"), "X-Shopify-Topic")
    event_id = headers.get("x-shopify-event-id") or headers.get("x-shopify-webhook-id")
    return Envelope(
        provider="shopify",
        event_id=_text(event_id, "X-Shopify-Event-Id"),
        topic=topic,
        kind=_kind(SHOPIFY_TOPICS, topic),
        account=_text(headers.get("x-shopify-shop-domain"), "X-Shopify-Shop-Domain"),
        headers=_kept(headers, SHOPIFY_HEADERS),
    )
