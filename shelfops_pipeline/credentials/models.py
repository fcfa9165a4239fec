"""The records the credentials room hands out: token sets from providers, stored connections."""

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Literal

from shelfops_pipeline.credentials.secret import Secret

Source = Literal["square", "shopify"]
Status = Literal["active", "revoked", "needs_reauth"]
SOURCES: tuple[Source, ...] = ("square", "shopify")
STATUSES: tuple[Status, ...] = ("active", "revoked", "needs_reauth")


@dataclass(frozen=True)
class TokenSet:
    """What a provider's token endpoint granted; expiries are None for tokens that never expire."""

    access_token: Secret
    expires_at: datetime | None
    refresh_token: Secret | None = None
    refresh_token_expires_at: datetime | None = None


@dataclass(frozen=True)
class ConnectionInfo:
    """One customer's authorization of one provider account, without its tokens."""

    id: str
    customer_id: str
    source: Source
    account: str
    scopes: tuple[str, ...]
    expires_at: datetime | None
    refresh_token_expires_at: datetime | None
    status: Status
    last_error: str | None
    created_at: datetime
    updated_at: datetime

    def expires_within(self, window: timedelta, now: datetime) -> bool:
        """True when the access token expires before `now + window` (never, if it has no expiry)."""
        return self.expires_at is not None and self.expires_at - now < window

    def reconnect_command(self) -> str:
        command = f"shelfops connect {self.source} --customer {self.customer_id}"
        # A Shopify install is per shop, so the command must name it.
        return f"{command} --shop {self.account}" if self.source == "shopify" else command

    def describe(self) -> str:
        return f"{self.source} connection {self.id} (customer {self.customer_id}, account {self.account})"


@dataclass(frozen=True)
class Connection(ConnectionInfo):
    """A connection with its decrypted tokens, which print as `***`."""

    access_token: Secret
    refresh_token: Secret | None
