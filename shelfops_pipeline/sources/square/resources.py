"""The Square resource: configuration in Dagster, a rate-limited client per connected merchant.

Credentials never pass through Dagster config: the resource reads each customer's connection
from the encrypted credential store, refreshes the token when under 7 days remain (or once after
a 401), and hands the syncs a `SquareClient` that shares its merchant's limiter and breaker with
every other client in the process.
"""

import asyncio
from collections.abc import AsyncIterator, Mapping
from contextlib import asynccontextmanager
from pathlib import Path

import dagster as dg
from pydantic import Field

from shelfops_pipeline.credentials.errors import ConnectionNotFound
from shelfops_pipeline.credentials.models import TokenSet
from shelfops_pipeline.credentials.paths import shelfops_home, store_path
from shelfops_pipeline.credentials.refresh import TokenRefresher
from shelfops_pipeline.credentials.secret import Secret
from shelfops_pipeline.credentials.store import CredentialStore
from shelfops_pipeline.http.breaker import SHARED_BREAKERS, BreakerConfig
from shelfops_pipeline.http.client import Timeouts
from shelfops_pipeline.http.limiter import SHARED_LIMITERS, LimiterConfig, LimitKey
from shelfops_pipeline.http.retry import RetryConfig, RetryPolicy
from shelfops_pipeline.http.stats import CallStats
from shelfops_pipeline.sources.square.client import SOURCE, SquareClient, square_api_client
from shelfops_pipeline.sources.square.oauth import (
    PRODUCTION_BASE_URL,
    REFRESH_THRESHOLD,
    SquareApp,
    SquareOAuth,
)


class SquareResource(dg.ConfigurableResource):
    """Square API access for the syncs, one merchant connection per customer."""

    base_url: str = Field(
        default=PRODUCTION_BASE_URL,
        description="Square host: https://connect.squareup.com, https://connect.squareupsandbox.com, "
        "or a loopback sandbox such as http://127.0.0.1:8750/square. Only https or loopback.",
    )
    client_id: str | None = Field(
        default=None,
        description="OAuth app id for token refresh; default SHELFOPS_SQUARE_CLIENT_ID.",
    )
    client_secret: str | None = Field(
        default=None,
        description="OAuth app secret; pass dg.EnvVar('SHELFOPS_SQUARE_CLIENT_SECRET'), never a literal.",
    )
    shelfops_home: str | None = Field(
        default=None,
        description="Data directory with the credential store; default SHELFOPS_HOME or ./data.",
    )
    requests_per_second: float = Field(
        default=10.0, gt=0, description="Client-side budget per merchant; slowed further by 429s."
    )
    burst: float = Field(
        default=10.0, gt=0, description="Requests that may go at once before pacing."
    )
    page_size: int = Field(
        default=1000, ge=1, le=1000, description="Items per page (Square allows 1000)."
    )
    max_attempts: int = Field(default=6, ge=1, description="Tries per call, retries included.")
    max_retry_seconds: float = Field(
        default=300.0, gt=0, description="Time one call may spend retrying."
    )
    read_timeout_seconds: float = Field(
        default=30.0, gt=0, description="Wait for a reply before retrying."
    )
    failure_threshold: int = Field(
        default=5, ge=1, description="Consecutive failed calls that open a merchant's circuit."
    )
    cool_down_seconds: float = Field(
        default=30.0, gt=0, description="How long an open circuit fails fast before one trial call."
    )

    def _home(self) -> Path:
        return Path(self.shelfops_home) if self.shelfops_home else shelfops_home()

    def store(self) -> CredentialStore:
        return CredentialStore(store_path(self._home()))

    def _refresher(self, store: CredentialStore) -> TokenRefresher:
        def refresh(refresh_token: Secret) -> TokenSet:
            app = SquareApp.configured(self.client_id, self.client_secret, self.base_url)
            with SquareOAuth(app) as oauth:
                return oauth.refresh(refresh_token)

        return TokenRefresher(store, refresh, REFRESH_THRESHOLD)

    @asynccontextmanager
    async def client(
        self, customer_id: str, stats: CallStats | None = None
    ) -> AsyncIterator[SquareClient]:
        """A client for `customer_id`'s Square merchant, with fresh credentials."""
        store = self.store()
        connection = store.find(customer_id, SOURCE)
        if connection is None:
            raise ConnectionNotFound(
                f"customer {customer_id} has no Square connection; run "
                f"`shelfops connect square --customer {customer_id}`"
            )
        refresher = self._refresher(store)
        current = await asyncio.to_thread(refresher.fresh, connection.id)

        async def auth_headers() -> Mapping[str, str]:
            return {"Authorization": f"Bearer {current.access_token.reveal()}"}

        async def refresh_auth() -> None:
            nonlocal current
            current = await asyncio.to_thread(refresher.fresh, connection.id, current.access_token)

        merchant = connection.account
        api = square_api_client(
            self.base_url,
            merchant,
            auth_headers,
            refresh_auth=refresh_auth,
            timeouts=Timeouts(read=self.read_timeout_seconds),
            retry=RetryPolicy(
                RetryConfig(
                    max_attempts=self.max_attempts, max_elapsed_seconds=self.max_retry_seconds
                )
            ),
            limiter=SHARED_LIMITERS.bucket(
                LimitKey(SOURCE, merchant),
                LimiterConfig(rate_per_second=self.requests_per_second, capacity=self.burst),
            ),
            breaker=SHARED_BREAKERS.breaker(
                SOURCE, merchant, BreakerConfig(self.failure_threshold, self.cool_down_seconds)
            ),
            stats=stats,
        )
        async with api:
            yield SquareClient(api, page_size=self.page_size)
