"""The Square signature keys the receiver accepts: those configured in the environment and those
of the subscriptions ShelfOps created (kept encrypted in the credential store).

A merchant connected while the receiver runs adds a subscription, so a delivery that matches no
known key re-reads the store, at most once per REFRESH_SECONDS, before it is refused.
"""

import logging
import threading
import time
from collections.abc import Callable, Sequence
from pathlib import Path

from shelfops_pipeline.credentials.errors import CredentialError
from shelfops_pipeline.credentials.paths import store_path
from shelfops_pipeline.credentials.store import CredentialStore
from shelfops_pipeline.credentials.subscriptions import SubscriptionStore
from shelfops_pipeline.webhooks.signatures import SquareSubscription, square_signature_valid

logger = logging.getLogger(__name__)

REFRESH_SECONDS = 5.0


def stored_square_subscriptions(home: Path | None) -> list[SquareSubscription]:
    """The stored Square subscriptions with their keys; none when the store cannot be read."""
    path = store_path(home)
    if not path.exists():
        return []
    try:
        stored = SubscriptionStore(CredentialStore(path)).all("square")
    except CredentialError as error:
        logger.warning("stored Square webhook keys unavailable: %s", error)
        return []
    return [
        SquareSubscription(s.notification_url, s.signature_key)
        for s in stored
        if s.signature_key is not None
    ]


class SquareKeyring:
    """Checks Square signatures against the configured and the stored subscriptions."""

    def __init__(
        self,
        configured: Sequence[SquareSubscription],
        home: Path | None,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self._configured = tuple(configured)
        self._home = home
        self._clock = clock
        self._lock = threading.Lock()
        self._stored: tuple[SquareSubscription, ...] = ()
        self._read_at: float | None = None

    def _reload_if_stale(self) -> bool:
        with self._lock:
            if self._read_at is not None and self._clock() - self._read_at < REFRESH_SECONDS:
                return False
            self._stored = tuple(stored_square_subscriptions(self._home))
            self._read_at = self._clock()
            return True

    def subscriptions(self) -> tuple[SquareSubscription, ...]:
        if self._read_at is None:
            self._reload_if_stale()
        return self._configured + self._stored

    def valid(self, body: bytes, signature: str | None) -> bool:
        if square_signature_valid(self.subscriptions(), body, signature):
            return True
        return self._reload_if_stale() and square_signature_valid(
            self.subscriptions(), body, signature
        )
