"""The receiver's secrets and limits: from the environment (or the credential store, for the
Square subscriptions ShelfOps created), never from the command line, never logged."""

import os
from dataclasses import dataclass
from pathlib import Path

from shelfops_pipeline.credentials.secret import Secret
from shelfops_pipeline.webhooks.signatures import SquareSubscription

SQUARE_KEY_ENV = "SHELFOPS_SQUARE_WEBHOOK_SIGNATURE_KEY"
SQUARE_URL_ENV = "SHELFOPS_SQUARE_WEBHOOK_URL"
SHOPIFY_SECRET_ENV = "SHELFOPS_SHOPIFY_CLIENT_SECRET"
DEFAULT_HOST = "127.0.0.1"
DEFAULT_PORT = 8760
# Square and Shopify events are a few kilobytes; a megabyte leaves room for a large order.
MAX_BODY_BYTES = 1_000_000


@dataclass(frozen=True)
class ReceiverSettings:
    """What the receiver verifies with and where it queues."""

    home: Path | None = None
    square: tuple[SquareSubscription, ...] = ()
    shopify_secrets: tuple[Secret, ...] = ()
    max_body_bytes: int = MAX_BODY_BYTES

    def __repr__(self) -> str:
        urls = [s.notification_url for s in self.square]
        return f"ReceiverSettings(home={self.home}, square_urls={urls}, secrets=<hidden>)"

    @classmethod
    def from_env(
        cls, home: Path | None, default_square_url: str, max_body_bytes: int = MAX_BODY_BYTES
    ) -> "ReceiverSettings":
        """SHELFOPS_SQUARE_WEBHOOK_SIGNATURE_KEY with SHELFOPS_SQUARE_WEBHOOK_URL (default: this
        receiver's own Square URL), and SHELFOPS_SHOPIFY_CLIENT_SECRET."""
        square: list[SquareSubscription] = []
        key = os.environ.get(SQUARE_KEY_ENV)
        if key:
            url = os.environ.get(SQUARE_URL_ENV) or default_square_url
            square.append(SquareSubscription(url, Secret(key)))
        secret = os.environ.get(SHOPIFY_SECRET_ENV)
        shopify = (Secret(secret),) if secret else ()
        return cls(home, tuple(square), shopify, max_body_bytes)
