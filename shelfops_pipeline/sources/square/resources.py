"""The Square resource: configuration in Dagster, a rate-limited client per connected merchant.

Credentials never pass through Dagster config: the resource reads each customer's connection
from the encrypted credential store, refreshes the token when under 7 days remain (or once after
a 401), and hands the syncs a `SquareClient` that shares its merchant's limiter and breaker with
every other client in the process.
"""

import asyncio
from collections.abc import AsyncIterator, Mapping
from contextlib import asynccontextmanager
from typing import ClassVar

from pydantic import Field

from shelfops_pipeline.credentials.errors import ConnectionNotFound
from shelfops_pipeline.credentials.models import TokenSet
from shelfops_pipeline.credentials.refresh import TokenRefresher
from shelfops_pipeline.credentials.secret import Secret
from shelfops_pipeline.credentials.store import CredentialStore
from shelfops_pipeline.http.limiter import SHARED_LIMITERS, LimiterConfig, LimitKey
from shelfops_pipeline.http.stats import CallStats
from shelfops_pipeline.sources.api_resource import ApiResource
from shelfops_pipeline.sources.square.client import SOURCE, SquareClient, square_api_client
from shelfops_pipeline.sources.square.oauth import (
    PRODUCTION_BASE_URL,
    REFRESH_THRESHOLD,
    SquareApp,
    SquareOAuth,
)


class SquareResource(ApiResource):
    """Square API access for the syncs, one merchant connection per customer."""

    source: ClassVar[str] = SOURCE

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
    requests_per_second: float = Field(
        default=10.0, gt=0, description="Client-side budget per merchant; slowed further by 429s."
    )
    burst: float = Field(
        default=10.0, gt=0, description="Requests that may go at once before pacing."
    )
    page_size: int = Field(
        default=1000, ge=1, le=1000, description="Items per page (Square allows 1000)."
    )

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
            limiter=SHARED_LIMITERS.bucket(
                LimitKey(SOURCE, merchant),
                LimiterConfig(rate_per_second=self.requests_per_second, capacity=self.burst),
            ),
            **self.call_options(SOURCE, merchant),
            stats=stats,
        )
        async with api:
            yield SquareClient(api, page_size=self.page_size)
