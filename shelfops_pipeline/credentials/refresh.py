"""Refresh a connection's access token before it expires, once, however many callers ask.

The check is made twice: without a lock (the common case: nothing to do), then again inside a
BEGIN IMMEDIATE transaction on the store, after re-reading the row. A caller that waited for the
lock finds the token another thread or process just stored and does not refresh it again. The
lock is held across the provider call, which the OAuth client bounds in time.
"""

import logging
from collections.abc import Callable
from datetime import datetime, timedelta

from shelfops_pipeline.credentials.database import utc_now
from shelfops_pipeline.credentials.errors import (
    ConnectionNeedsReauth,
    OAuthUnavailable,
    RefreshRejected,
)
from shelfops_pipeline.credentials.models import Connection, ConnectionInfo, TokenSet
from shelfops_pipeline.credentials.secret import Secret
from shelfops_pipeline.credentials.store import CredentialStore, LockedConnection

logger = logging.getLogger(__name__)

RefreshFunction = Callable[[Secret], TokenSet]


def needs_reauth(connection: ConnectionInfo, reason: str) -> ConnectionNeedsReauth:
    return ConnectionNeedsReauth(
        f"the {connection.describe()} must be authorized again ({reason}); "
        f"run `{connection.reconnect_command()}`"
    )


def _inactive(connection: ConnectionInfo) -> ConnectionNeedsReauth | None:
    if connection.status == "active":
        return None
    return needs_reauth(connection, connection.last_error or f"its status is {connection.status}")


class TokenRefresher:
    """Keeps connections' access tokens at least `threshold` away from expiry."""

    def __init__(
        self,
        store: CredentialStore,
        refresh: RefreshFunction,
        threshold: timedelta,
        now: Callable[[], datetime] = utc_now,
    ) -> None:
        self._store = store
        self._refresh = refresh
        self.threshold = threshold
        self._now = now

    def _due(self, connection: Connection, rejected: Secret | None) -> bool:
        return connection.expires_within(self.threshold, self._now()) or (
            rejected is not None and connection.access_token == rejected
        )

    def fresh(self, connection_id: str, rejected: Secret | None = None) -> Connection:
        """The connection, its token refreshed first when under the threshold.

        Pass the access token the provider just answered 401 to as `rejected` to refresh it
        whatever its expiry (unless another caller already replaced it). Raises
        ConnectionNeedsReauth when the connection is not active or the provider refuses the
        refresh token, and OAuthUnavailable when the provider cannot be reached and the current
        token has expired (or was rejected).
        """
        connection = self._store.get(connection_id)
        inactive = _inactive(connection)
        if inactive is not None:
            raise inactive
        if not self._due(connection, rejected):
            return connection
        with self._store.locked(connection_id) as locked:
            outcome = self._refresh_locked(locked, rejected)
        if isinstance(outcome, Exception):
            raise outcome
        return outcome

    def _refresh_locked(
        self, locked: LockedConnection, rejected: Secret | None
    ) -> Connection | Exception:
        """Decide again on the re-read row and refresh; errors are returned, not raised, so that
        the status they set is committed with the transaction."""
        current = locked.connection
        inactive = _inactive(current)
        if inactive is not None:
            return inactive
        if not self._due(current, rejected):
            logger.debug("connection %s was refreshed by another caller", current.id)
            return current
        if current.refresh_token is None:
            reason = "it has no refresh token"
            locked.mark("needs_reauth", reason)
            return needs_reauth(current, reason)
        try:
            tokens = self._refresh(current.refresh_token)
        except RefreshRejected as error:
            locked.mark("needs_reauth", str(error))
            logger.warning("%s: refresh token rejected", current.describe())
            return needs_reauth(current, str(error))
        except OAuthUnavailable as error:
            locked.mark("active", str(error))
            if rejected is not None or current.expires_within(timedelta(0), self._now()):
                return error
            logger.warning(
                "%s: refresh failed, the token still works: %s", current.describe(), error
            )
            return current
        refreshed = locked.update_tokens(tokens)
        logger.info("refreshed the access token of the %s", refreshed.describe())
        return refreshed
