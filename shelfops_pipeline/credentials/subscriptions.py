"""The webhook subscriptions ShelfOps made at the providers, kept beside the connections.

Square signs every delivery of a subscription with the key it returned when the subscription was
created, and never shows that key again, so it is stored here encrypted like the tokens. Shopify
signs with the app's secret; its rows only remember which subscriptions to delete on disconnect.
"""

import logging
import sqlite3
from dataclasses import dataclass
from datetime import datetime

from cryptography.fernet import InvalidToken

from shelfops_pipeline.credentials.database import from_text, to_text
from shelfops_pipeline.credentials.errors import undecryptable_signature_key
from shelfops_pipeline.credentials.models import Source
from shelfops_pipeline.credentials.secret import Secret
from shelfops_pipeline.credentials.store import CredentialStore

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class StoredSubscription:
    """One subscription at a provider. Square's belong to the app (no connection); Shopify's to
    one shop's connection."""

    id: str
    source: Source
    connection_id: str | None
    notification_url: str
    topics: tuple[str, ...]
    signature_key: Secret | None
    created_at: datetime


class SubscriptionStore:
    """The `webhook_subscriptions` table of a credential store."""

    def __init__(self, store: CredentialStore) -> None:
        self.store = store

    def _record(self, row: sqlite3.Row) -> StoredSubscription:
        key = row["signature_key"]
        created_at = from_text(row["created_at"])
        assert created_at is not None
        return StoredSubscription(
            id=row["id"],
            source=row["source"],
            connection_id=row["connection_id"],
            notification_url=row["notification_url"],
            topics=tuple(row["topics"].split()),
            signature_key=self._decrypt(row["id"], key) if key else None,
            created_at=created_at,
        )

    def _decrypt(self, subscription_id: str, ciphertext: str) -> Secret:
        try:
            return Secret(self.store.keys.decrypt(ciphertext.encode("ascii")).decode("utf-8"))
        except InvalidToken as error:
            raise undecryptable_signature_key(subscription_id) from error

    def save(self, subscription: StoredSubscription) -> None:
        key = subscription.signature_key
        with self.store.database.writing() as db:
            db.execute(
                "INSERT OR REPLACE INTO webhook_subscriptions VALUES (?, ?, ?, ?, ?, ?, ?)",
                (
                    subscription.id,
                    subscription.source,
                    subscription.connection_id,
                    subscription.notification_url,
                    " ".join(subscription.topics),
                    self.store.keys.encrypt(key.reveal().encode()).decode() if key else None,
                    to_text(subscription.created_at),
                ),
            )
        logger.info(
            "stored %s webhook subscription %s to %s",
            subscription.source,
            subscription.id,
            subscription.notification_url,
        )

    def all(self, source: Source | None = None) -> list[StoredSubscription]:
        with self.store.database.reading() as db:
            rows = db.execute(
                "SELECT * FROM webhook_subscriptions WHERE ? IS NULL OR source = ? "
                "ORDER BY created_at, id",
                (source, source),
            ).fetchall()
        return [self._record(row) for row in rows]

    def of_connection(self, connection_id: str) -> list[StoredSubscription]:
        return [s for s in self.all() if s.connection_id == connection_id]

    def forget(self, subscription_ids: list[str]) -> None:
        with self.store.database.writing() as db:
            db.executemany(
                "DELETE FROM webhook_subscriptions WHERE id = ?", [(i,) for i in subscription_ids]
            )
