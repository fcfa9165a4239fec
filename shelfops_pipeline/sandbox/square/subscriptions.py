"""Square's Webhook Subscriptions API: create, list and delete, kept per application.

A subscription belongs to the application, not to a merchant: it covers every seller who
authorized the app. Real Square takes the application owner's personal access token here; the
sandbox accepts any valid token and files the subscription under the token's application.
"""

import re
import secrets
import threading
import uuid
from dataclasses import dataclass, field
from datetime import datetime
from typing import TYPE_CHECKING, Any

import httpx

from shelfops_pipeline.sandbox.square import validation
from shelfops_pipeline.sandbox.square.cursors import decode_cursor
from shelfops_pipeline.sandbox.square.errors import SquareError
from shelfops_pipeline.sandbox.square.paging import page
from shelfops_pipeline.sandbox.timestamps import rfc3339

if TYPE_CHECKING:
    from shelfops_pipeline.sandbox.square.context import SquareCall

MAX_NAME_CHARS = 64
MAX_IDEMPOTENCY_KEY_CHARS = 45
MAX_LIST_LIMIT = 100
_EVENT_TYPE_FORMAT = re.compile(r"^[a-z][a-z_]*(\.[a-z][a-z_]*)+$")
_VERSION_FORMAT = re.compile(r"^\d{4}-\d{2}-\d{2}$")
_SORT_ORDERS = ("ASC", "DESC")
_LIST_PARAMETERS = frozenset({"cursor", "include_disabled", "sort_order", "limit"})


@dataclass(frozen=True)
class WebhookSubscription:
    """One application's subscription: where events go and the key that signs them."""

    id: str
    client_id: str
    name: str | None
    enabled: bool
    event_types: tuple[str, ...]
    notification_url: str
    api_version: str
    signature_key: str = field(repr=False)
    created_at: datetime
    updated_at: datetime

    def wants(self, event_type: str) -> bool:
        return self.enabled and event_type in self.event_types

    def as_json(self, with_signature_key: bool) -> dict[str, Any]:
        """The subscription as Square shows it; only creation reveals the signature key."""
        reply: dict[str, Any] = {
            "id": self.id,
            "enabled": self.enabled,
            "event_types": list(self.event_types),
            "notification_url": self.notification_url,
            "api_version": self.api_version,
            "created_at": rfc3339(self.created_at, 3),
            "updated_at": rfc3339(self.updated_at, 3),
        }
        if self.name is not None:
            reply["name"] = self.name
        if with_signature_key:
            reply["signature_key"] = self.signature_key
        return reply


class WebhookSubscriptions:
    """Every application's subscriptions, in creation order; safe to share between threads."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._by_id: dict[str, WebhookSubscription] = {}
        self._by_idempotency_key: dict[tuple[str, str], str] = {}

    def add(self, subscription: WebhookSubscription, idempotency_key: str | None) -> None:
        """Store `subscription`; a repeated idempotency key returns the first one instead."""
        with self._lock:
            self._by_id[subscription.id] = subscription
            if idempotency_key:
                self._by_idempotency_key[(subscription.client_id, idempotency_key)] = (
                    subscription.id
                )

    def replayed(self, client_id: str, idempotency_key: str | None) -> WebhookSubscription | None:
        if not idempotency_key:
            return None
        with self._lock:
            subscription_id = self._by_idempotency_key.get((client_id, idempotency_key))
            return self._by_id.get(subscription_id) if subscription_id else None

    def of_application(self, client_id: str) -> list[WebhookSubscription]:
        with self._lock:
            return [s for s in self._by_id.values() if s.client_id == client_id]

    def enabled(self) -> list[WebhookSubscription]:
        """Every application's enabled subscriptions: the ones that receive events."""
        with self._lock:
            return [s for s in self._by_id.values() if s.enabled]

    def remove(self, client_id: str, subscription_id: str) -> None:
        with self._lock:
            found = self._by_id.get(subscription_id)
            if found is None or found.client_id != client_id:
                raise SquareError(
                    "NOT_FOUND",
                    f"Webhook subscription `{subscription_id}` was not found.",
                    "subscription_id",
                )
            del self._by_id[subscription_id]


def create_subscription(call: "SquareCall", body: dict[str, Any]) -> dict[str, Any]:
    idempotency_key = _idempotency_key(body)
    replay = call.subscriptions.replayed(call.client_id, idempotency_key)
    if replay is not None:
        return {"subscription": replay.as_json(with_signature_key=True)}
    fields = body.get("subscription")
    if fields is None:
        raise SquareError(
            "MISSING_REQUIRED_PARAMETER", "`subscription` is required.", "subscription"
        )
    if not isinstance(fields, dict):
        raise SquareError("INVALID_VALUE", "`subscription` must be an object.", "subscription")
    subscription = WebhookSubscription(
        id="wbhk_" + uuid.uuid4().hex,
        client_id=call.client_id,
        name=_name(fields),
        enabled=_enabled(fields),
        event_types=_event_types(fields),
        notification_url=_notification_url(fields),
        api_version=_api_version(fields, call.square_version),
        signature_key=secrets.token_urlsafe(16),
        created_at=call.now,
        updated_at=call.now,
    )
    call.subscriptions.add(subscription, idempotency_key)
    return {"subscription": subscription.as_json(with_signature_key=True)}


def list_subscriptions(call: "SquareCall", query: dict[str, str]) -> dict[str, Any]:
    unknown = sorted(set(query) - _LIST_PARAMETERS)
    if unknown:
        raise SquareError(
            "UNKNOWN_QUERY_PARAMETER", f"`{unknown[0]}` is not a query parameter.", unknown[0]
        )
    include_disabled = _query_boolean(query, "include_disabled")
    sort_order = query.get("sort_order", "ASC")
    if sort_order not in _SORT_ORDERS:
        raise SquareError(
            "INVALID_ENUM_VALUE", f"`{sort_order}` is not a valid value for `sort_order`.",
            "sort_order",
        )  # fmt: skip
    size = validation.limit(
        {"limit": _query_integer(query, "limit")}, "limit", MAX_LIST_LIMIT, MAX_LIST_LIMIT
    )
    request = {k: v for k, v in query.items() if k != "cursor"}
    state = decode_cursor(request, validation.cursor(query), call.now)
    chosen = [
        s
        for s in call.subscriptions.of_application(call.client_id)
        if (include_disabled or s.enabled) and s.created_at <= state.started_at
    ]
    chosen.sort(key=lambda s: s.created_at, reverse=sort_order == "DESC")
    chunk, next_cursor = page(chosen, request, state, size)
    reply: dict[str, Any] = {}
    if chunk:
        reply["subscriptions"] = [s.as_json(with_signature_key=False) for s in chunk]
    if next_cursor:
        reply["cursor"] = next_cursor
    return reply


def delete_subscription(call: "SquareCall", subscription_id: str) -> dict[str, Any]:
    call.subscriptions.remove(call.client_id, subscription_id)
    return {}


def _idempotency_key(body: dict[str, Any]) -> str | None:
    key = body.get("idempotency_key")
    if key is None:
        return None
    if not isinstance(key, str) or not key:
        raise SquareError(
            "INVALID_VALUE", "`idempotency_key` must be a non-empty string.", "idempotency_key"
        )
    if len(key) > MAX_IDEMPOTENCY_KEY_CHARS:
        raise SquareError(
            "VALUE_TOO_LONG",
            f"`idempotency_key` must be at most {MAX_IDEMPOTENCY_KEY_CHARS} characters.",
            "idempotency_key",
        )
    return key


def _name(fields: dict[str, Any]) -> str | None:
    name = fields.get("name")
    if name is None:
        return None
    if not isinstance(name, str):
        raise SquareError("INVALID_VALUE", "`name` must be a string.", "subscription.name")
    if len(name) > MAX_NAME_CHARS:
        raise SquareError(
            "VALUE_TOO_LONG",
            f"`name` must be at most {MAX_NAME_CHARS} characters.",
            "subscription.name",
        )
    return name


def _enabled(fields: dict[str, Any]) -> bool:
    enabled = fields.get("enabled", True)
    if enabled is None:
        return True
    if not isinstance(enabled, bool):
        raise SquareError(
            "INVALID_VALUE", "`enabled` must be true or false.", "subscription.enabled"
        )
    return enabled


def _event_types(fields: dict[str, Any]) -> tuple[str, ...]:
    where = "subscription.event_types"
    event_types = fields.get("event_types")
    if not event_types:
        raise SquareError(
            "MISSING_REQUIRED_PARAMETER", "`event_types` must name at least one event type.", where
        )
    if not isinstance(event_types, list) or not all(isinstance(t, str) for t in event_types):
        raise SquareError(
            "INVALID_ARRAY_VALUE", "`event_types` must be an array of strings.", where
        )
    for event_type in event_types:
        if not _EVENT_TYPE_FORMAT.match(event_type):
            raise SquareError(
                "INVALID_VALUE", f"`{event_type}` is not a webhook event type.", where
            )
    return tuple(dict.fromkeys(event_types))


def _notification_url(fields: dict[str, Any]) -> str:
    where = "subscription.notification_url"
    url = fields.get("notification_url")
    if not url:
        raise SquareError("MISSING_REQUIRED_PARAMETER", "`notification_url` is required.", where)
    if not isinstance(url, str):
        raise SquareError("INVALID_VALUE", "`notification_url` must be a string.", where)
    try:
        parsed = httpx.URL(url)
    except httpx.InvalidURL:
        parsed = httpx.URL()
    # Real Square insists on https; the sandbox also takes http so loopback receivers work.
    if parsed.scheme not in ("http", "https") or not parsed.host:
        raise SquareError("INVALID_VALUE", "`notification_url` must be an http(s) URL.", where)
    return url


def _api_version(fields: dict[str, Any], square_version: str) -> str:
    version = fields.get("api_version")
    if version is None:
        return square_version
    if not isinstance(version, str) or not _VERSION_FORMAT.match(version):
        raise SquareError(
            "INVALID_VALUE",
            "`api_version` must be a Square API version like 2025-08-20.",
            "subscription.api_version",
        )
    return version


def _query_boolean(query: dict[str, str], key: str) -> bool:
    value = query.get(key, "false").lower()
    if value not in ("true", "false"):
        raise SquareError("INVALID_VALUE", f"`{key}` must be true or false.", key)
    return value == "true"


def _query_integer(query: dict[str, str], key: str) -> int | None:
    value = query.get(key)
    if value is None:
        return None
    try:
        return int(value)
    except ValueError as error:
        raise SquareError("INVALID_VALUE", f"`{key}` must be an integer.", key) from error
