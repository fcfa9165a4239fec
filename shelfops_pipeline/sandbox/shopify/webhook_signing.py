"""Shopify webhooks on the wire: the body bytes, `X-Shopify-Hmac-Sha256`, the other headers and
the retry timing (api-notes section 9).

The HMAC is base64 of HMAC-SHA256 over the raw body, keyed with the app's client secret (hex
for OAuth redirects, base64 here). A delivery must be acknowledged with a 2xx within 5 seconds;
Shopify retries 8 times over 4 hours with exponential backoff (it does not publish the delays;
ours double from one minute, the last one shortened to fit the 4 hours).
"""

import base64
import hashlib
import hmac
import json
from typing import Any

from shelfops_pipeline.sandbox.webhook_delivery import (
    DeliveryAttempt,
    RetrySchedule,
    WebhookMessage,
)

SHOPIFY_RETRY_MINUTES = (1.0, 2.0, 4.0, 8.0, 16.0, 32.0, 64.0, 112.0)
SHOPIFY_RETRY_HORIZON_MINUTES = 4 * 60.0
SHOPIFY_TIMEOUT_SECONDS = 5.0


def shopify_hmac(secret: str, body: bytes) -> str:
    """base64(HMAC-SHA256(app secret, raw body)), as Shopify signs every webhook."""
    if not secret:
        raise ValueError("the app secret that signs webhooks is empty")
    return base64.b64encode(hmac.new(secret.encode(), body, hashlib.sha256).digest()).decode()


def shopify_message(
    *,
    topic: str,
    shop: str,
    payload: dict[str, Any],
    event_id: str,
    webhook_id: str,
    triggered_at: str,
    api_version: str,
) -> WebhookMessage:
    """The webhook as Shopify posts it: compact JSON, the bytes the HMAC covers."""
    body = json.dumps(payload, separators=(",", ":"), ensure_ascii=False).encode()
    attributes = {
        "shop": shop,
        "webhook_id": webhook_id,
        "triggered_at": triggered_at,
        "api_version": api_version,
    }
    return WebhookMessage(event_id=event_id, topic=topic, body=body, attributes=attributes)


def shopify_retry_schedule(
    unit_seconds: float = 60.0, horizon_minutes: float = SHOPIFY_RETRY_HORIZON_MINUTES
) -> RetrySchedule:
    """Eight retries within four hours; `unit_seconds` is how long a minute lasts."""
    return RetrySchedule(
        first_delays=SHOPIFY_RETRY_MINUTES,
        then_every=horizon_minutes + 1,
        horizon=horizon_minutes,
        unit_seconds=unit_seconds,
    )


class ShopifyWebhookSigner:
    """Shopify's delivery headers, signed with one app's client secret."""

    def __init__(self, secret: str) -> None:
        shopify_hmac(secret, b"")
        self._secret = secret

    def __repr__(self) -> str:
        return "ShopifyWebhookSigner(secret=<hidden>)"

    def headers(self, attempt: DeliveryAttempt) -> dict[str, str]:
        message = attempt.message
        facts = message.attributes
        return {
            "content-type": "application/json",
            "x-shopify-topic": message.topic,
            "x-shopify-hmac-sha256": shopify_hmac(self._secret, message.body),
            "x-shopify-shop-domain": facts["shop"],
            "x-shopify-api-version": facts["api_version"],
            "x-shopify-webhook-id": facts["webhook_id"],
            "x-shopify-event-id": message.event_id,
            "x-shopify-triggered-at": facts["triggered_at"],
        }
