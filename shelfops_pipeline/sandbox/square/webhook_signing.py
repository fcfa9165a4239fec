"""Square webhooks on the wire: the body bytes, the HMAC-SHA256 signature, headers and retry timing.

Sources: Square's SDK `webhooks_helper.verify_signature` and the docs pages step2subscribe,
step3validate and delivery-sla (see /work/shared/api-notes.md, section 5).
"""

import base64
import hashlib
import hmac
import json

from shelfops_pipeline.sandbox.square.serialize import JsonObject
from shelfops_pipeline.sandbox.timestamps import rfc3339
from shelfops_pipeline.sandbox.webhook_delivery import (
    DeliveryAttempt,
    Failure,
    RetrySchedule,
    WebhookMessage,
)

SQUARE_RETRY_MINUTES = (1.0, 2.0, 4.0, 8.0, 16.0, 32.0)
SQUARE_RETRY_EVERY_MINUTES = 60.0
SQUARE_RETRY_HORIZON_MINUTES = 24 * 60.0
# Square documents the square-retry-reason header but not its values; these are our best reading.
RETRY_REASONS = {
    Failure.HTTP_ERROR: "http_error",
    Failure.TIMEOUT: "http_timeout",
    Failure.CONNECTION_ERROR: "other_error",
}


def square_signature(signature_key: str, notification_url: str, body: bytes) -> str:
    """base64(HMAC-SHA256(key, notification URL + raw body)), as Square signs every delivery."""
    if not signature_key:
        raise ValueError("the webhook signature key is empty")
    if not notification_url:
        raise ValueError("the webhook notification URL is empty")
    digest = hmac.new(
        signature_key.encode(), notification_url.encode() + body, hashlib.sha256
    ).digest()
    return base64.b64encode(digest).decode("ascii")


def square_message(event: JsonObject) -> WebhookMessage:
    """The event as Square posts it: compact JSON, the bytes the signature covers."""
    body = json.dumps(event, separators=(",", ":"), ensure_ascii=False).encode()
    return WebhookMessage(event_id=event["event_id"], topic=event["type"], body=body)


def square_retry_schedule(
    unit_seconds: float = 60.0, horizon_minutes: float = SQUARE_RETRY_HORIZON_MINUTES
) -> RetrySchedule:
    """1, 2, 4, 8, 16 and 32 minutes, then hourly; `unit_seconds` is how long a minute lasts."""
    return RetrySchedule(
        first_delays=SQUARE_RETRY_MINUTES,
        then_every=SQUARE_RETRY_EVERY_MINUTES,
        horizon=horizon_minutes,
        unit_seconds=unit_seconds,
    )


class SquareWebhookSigner:
    """Square's delivery headers for one webhook subscription (its signature key and URL)."""

    def __init__(
        self, signature_key: str, notification_url: str, environment: str = "Sandbox"
    ) -> None:
        square_signature(signature_key, notification_url, b"")
        self._signature_key = signature_key
        self.notification_url = notification_url
        self.environment = environment

    def __repr__(self) -> str:
        return f"SquareWebhookSigner(notification_url={self.notification_url!r}, key=<hidden>)"

    def headers(self, attempt: DeliveryAttempt) -> dict[str, str]:
        body = attempt.message.body
        headers = {
            "content-type": "application/json",
            "x-square-hmacsha256-signature": square_signature(
                self._signature_key, self.notification_url, body
            ),
            "square-environment": self.environment,
            "square-initial-delivery-timestamp": rfc3339(attempt.first_attempt_at, 9),
        }
        if attempt.retry_number:
            headers["square-retry-number"] = str(attempt.retry_number)
            if attempt.retry_reason is not None:
                headers["square-retry-reason"] = RETRY_REASONS[attempt.retry_reason]
        return headers
