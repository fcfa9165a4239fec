"""OAuth `state` values: random, bound to one customer and source, single use, expiring.

They live in the credential store's SQLite file so the callback server and the CLI agree. Only
a SHA-256 digest of each value is stored, so the file cannot be used to forge a callback.
"""

import hashlib
import logging
import secrets
from collections.abc import Callable
from datetime import datetime, timedelta
from pathlib import Path

from shelfops_pipeline.credentials.database import Database, from_text, to_text, utc_now
from shelfops_pipeline.credentials.errors import InvalidOAuthState
from shelfops_pipeline.credentials.models import Source
from shelfops_pipeline.credentials.paths import store_path

logger = logging.getLogger(__name__)

STATE_LIFETIME = timedelta(minutes=10)
RESTART_HINT = "start again with `shelfops connect`"


def _digest(state: str) -> str:
    return hashlib.sha256(state.encode("utf-8", "surrogatepass")).hexdigest()


class OAuthStates:
    """Issues and consumes the `state` of OAuth authorize requests."""

    def __init__(
        self,
        path: Path | None = None,
        lifetime: timedelta = STATE_LIFETIME,
        now: Callable[[], datetime] = utc_now,
    ) -> None:
        self.database = Database(path or store_path())
        self.lifetime = lifetime
        self._now = now

    def issue(self, customer_id: str, source: Source) -> str:
        """A fresh state for one authorization of `source` by `customer_id`."""
        state = secrets.token_urlsafe(32)
        now = self._now()
        with self.database.writing() as db:
            db.execute("DELETE FROM oauth_states WHERE expires_at <= ?", (to_text(now),))
            db.execute(
                "INSERT INTO oauth_states (state_digest, customer_id, source, expires_at) "
                "VALUES (?, ?, ?, ?)",
                (_digest(state), customer_id, source, to_text(now + self.lifetime)),
            )
        return state

    def consume(self, state: str, customer_id: str, source: Source) -> None:
        """Accept `state` once; InvalidOAuthState if forged, replayed, expired or mismatched."""
        with self.database.writing() as db:
            row = db.execute(
                "DELETE FROM oauth_states WHERE state_digest = ? RETURNING *", (_digest(state),)
            ).fetchone()
        if row is None:
            logger.warning("refused an OAuth callback: unknown or already used state")
            raise InvalidOAuthState(
                f"the OAuth state is unknown or was already used (forged or replayed); {RESTART_HINT}"
            )
        expires_at = from_text(row["expires_at"])
        if expires_at is None or expires_at <= self._now():
            logger.warning("refused an OAuth callback: expired state")
            raise InvalidOAuthState(
                f"the OAuth state expired ({int(self.lifetime.total_seconds() // 60)} minutes "
                f"to approve); {RESTART_HINT}"
            )
        if (row["customer_id"], row["source"]) != (customer_id, source):
            logger.warning("refused an OAuth callback: state issued for another flow")
            raise InvalidOAuthState(
                f"the OAuth state was issued for another customer or source, not {source} for "
                f"customer {customer_id}; {RESTART_HINT}"
            )
