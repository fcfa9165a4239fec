"""Webhook signatures checked on the raw body, in constant time, before anything parses it.

Square: base64(HMAC-SHA256(signature key, notification URL + body)); Shopify: base64(HMAC-SHA256(
app client secret, body)). See /work/shared/api-notes.md sections 5 and 9.
"""

import base64
import binascii
import hashlib
import hmac
from collections.abc import Sequence
from dataclasses import dataclass

from shelfops_pipeline.credentials.secret import Secret


def _digest(key: Secret, message: bytes) -> bytes:
    return hmac.new(key.reveal().encode(), message, hashlib.sha256).digest()


def _decoded(signature: str | None) -> bytes | None:
    """The signature header's bytes, or None when it is absent or not base64."""
    if not signature:
        return None
    try:
        return base64.b64decode(signature.encode("ascii"), validate=True)
    except (binascii.Error, UnicodeEncodeError, ValueError):
        return None


@dataclass(frozen=True)
class SquareSubscription:
    """One Square webhook subscription: the URL Square posts to and the key it signs with."""

    notification_url: str
    signature_key: Secret


def square_signature_valid(
    subscriptions: Sequence[SquareSubscription], body: bytes, signature: str | None
) -> bool:
    """True when one of the subscriptions signed `body` with `signature`."""
    given = _decoded(signature)
    if given is None:
        return False
    valid = False
    for subscription in subscriptions:
        expected = _digest(
            subscription.signature_key, subscription.notification_url.encode() + body
        )
        # Every key is tried (no early exit), so timing does not tell which one matched.
        valid |= hmac.compare_digest(expected, given)
    return valid


def shopify_signature_valid(secrets: Sequence[Secret], body: bytes, signature: str | None) -> bool:
    """True when `signature` is the HMAC of `body` under one of the app secrets (old and new
    during a secret rotation)."""
    given = _decoded(signature)
    if given is None:
        return False
    valid = False
    for secret in secrets:
        valid |= hmac.compare_digest(_digest(secret, body), given)
    return valid
