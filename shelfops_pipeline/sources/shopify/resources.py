"""The Shopify resource: configuration in Dagster, a cost-paced client per connected shop.

Credentials never pass through Dagster config: the resource reads each customer's connection
from the encrypted credential store (source "shopify", account = the shop's domain), renews its
1-hour access token when under 10 minutes remain (or once after a 401), and hands the syncs a
`ShopifyClient` that shares its shop's points bucket and breaker with every other client in the
process.
"""

import asyncio
from collections.abc import AsyncIterator, Mapping
from contextlib import asynccontextmanager
from typing import ClassVar

from pydantic import Field

from shelfops_pipeline.credentials.database import utc_now
from shelfops_pipeline.credentials.errors import ConnectionNotFound
from shelfops_pipeline.credentials.models import TokenSet
from shelfops_pipeline.credentials.refresh import TokenRefresher
from shelfops_pipeline.credentials.secret import Secret
from shelfops_pipeline.credentials.store import CredentialStore
from shelfops_pipeline.http.limiter import SHARED_LIMITERS, LimiterConfig, LimitKey
from shelfops_pipeline.http.stats import CallStats
from shelfops_pipeline.sources.api_resource import ApiResource
from shelfops_pipeline.sources.shopify.client import (
    MAX_PAGE_SIZE,
    ShopifyClient,
    shopify_api_client,
)
from shelfops_pipeline.sources.shopify.oauth import (
    REFRESH_THRESHOLD,
    SOURCE,
    ShopifyOAuth,
    configured_base_url,
    renewing_app,
    shop_base_url,
)

ACCESS_TOKEN_HEADER = "X-Shopify-Access-Token"
POINTS_BUDGET = "graphql_points"


class ShopifyResource(ApiResource):
    """Shopify Admin API access for the syncs, one shop connection per customer."""

    source: ClassVar[str] = SOURCE

    base_url: str | None = Field(
        default=None,
        description="Where shops are reached, {shop} the domain and {handle} its name: "
        "https://{shop}, or a loopback sandbox such as http://127.0.0.1:8750/shopify/{handle}. "
        "Only https or loopback. Default: SHELFOPS_SHOPIFY_BASE_URL at run time, else "
        "https://{shop}.",
    )
    client_id: str | None = Field(
        default=None,
        description="OAuth app id for token refresh; default SHELFOPS_SHOPIFY_CLIENT_ID.",
    )
    client_secret: str | None = Field(
        default=None,
        description="OAuth app secret; pass dg.EnvVar('SHELFOPS_SHOPIFY_CLIENT_SECRET'), "
        "never a literal.",
    )
    points_per_second: float = Field(
        default=100.0,
        gt=0,
        description="The points bucket's restore rate until the first reply reports it "
        "(standard plan: 100).",
    )
    bucket_points: float = Field(
        default=2000.0,
        ge=1000,
        description="The points bucket's size until the first reply reports it (standard: 2000).",
    )
    page_size: int = Field(
        default=MAX_PAGE_SIZE, ge=1, le=MAX_PAGE_SIZE, description="Objects per page (max 250)."
    )

    def shops_url(self) -> str:
        """The base URL template shops are reached at: configured, or from the environment."""
        return configured_base_url(self.base_url)

    def _refresher(self, store: CredentialStore, shop: str) -> TokenRefresher:
        def refresh(renewal: Secret) -> TokenSet:
            app = renewing_app(renewal, self.client_id, self.client_secret, self.shops_url())
            with ShopifyOAuth(app, shop) as oauth:
                return oauth.refresh(renewal)

        return TokenRefresher(store, refresh, REFRESH_THRESHOLD)

    @asynccontextmanager
    async def client(
        self, customer_id: str, stats: CallStats | None = None
    ) -> AsyncIterator[ShopifyClient]:
        """A client for `customer_id`'s Shopify shop, with fresh credentials."""
        store = self.store()
        connection = store.find(customer_id, SOURCE)
        if connection is None:
            raise ConnectionNotFound(
                f"customer {customer_id} has no Shopify connection; run "
                f"`shelfops connect shopify --customer {customer_id} --shop NAME`"
            )
        shop = connection.account
        refresher = self._refresher(store, shop)
        current = await asyncio.to_thread(refresher.fresh, connection.id)

        async def auth_headers() -> Mapping[str, str]:
            nonlocal current
            if current.expires_within(REFRESH_THRESHOLD, utc_now()):
                current = await asyncio.to_thread(refresher.fresh, connection.id)
            return {ACCESS_TOKEN_HEADER: current.access_token.reveal()}

        async def refresh_auth() -> None:
            nonlocal current
            current = await asyncio.to_thread(refresher.fresh, connection.id, current.access_token)

        api = shopify_api_client(
            shop_base_url(self.shops_url(), shop),
            shop,
            auth_headers,
            refresh_auth=refresh_auth,
            limiter=SHARED_LIMITERS.bucket(
                LimitKey(SOURCE, shop, POINTS_BUDGET),
                LimiterConfig(rate_per_second=self.points_per_second, capacity=self.bucket_points),
            ),
            **self.call_options(SOURCE, shop),
            stats=stats,
        )
        async with api:
            yield ShopifyClient(api, page_size=self.page_size)
