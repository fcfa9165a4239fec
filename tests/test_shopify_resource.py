"""The Shopify resource against the sandbox over loopback: it loads the customer's encrypted
connection, renews a token with under 10 minutes left before the first call, and when the
access token expires in the middle of a long sync, refreshes once and completes it."""

import asyncio
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from shopify_oauth_helpers import ShopifySandbox, install, serve_shopify_sandbox

from shelfops_pipeline.credentials.errors import ConnectionNotFound
from shelfops_pipeline.credentials.models import TokenSet
from shelfops_pipeline.credentials.store import CredentialStore
from shelfops_pipeline.sources.shopify.connect import connect_client_credentials
from shelfops_pipeline.sources.shopify.oauth import ShopifyOAuth
from shelfops_pipeline.sources.shopify.resources import ShopifyResource

PAGE_SIZE = 3


@pytest.fixture
def running() -> Iterator[ShopifySandbox]:
    with serve_shopify_sandbox() as served:
        yield served


pytestmark = pytest.mark.usefixtures("home")


def resource(running: ShopifySandbox, home: Path) -> ShopifyResource:
    return ShopifyResource(
        base_url=running.template,
        client_id=running.client_id,
        client_secret=running.client_secret,
        shelfops_home=str(home),
        page_size=PAGE_SIZE,
        max_retry_seconds=10,
    )


async def products(
    shopify: ShopifyResource, customer: str, running: ShopifySandbox, expire_after: int | None
) -> list[dict[str, Any]]:
    """Every product, page by page; the sandbox clock jumps 61 minutes after `expire_after`
    pages, so the access token in use lapses mid-sync."""
    found: list[dict[str, Any]] = []
    async with shopify.client(customer) as client:
        pages = 0
        async for page in client.product_objects():
            found.extend(page)
            pages += 1
            if pages == expire_after:
                running.clock.advance(minutes=61)
    return found


def test_a_token_expiring_mid_sync_is_refreshed_once_and_the_sync_completes(
    running: ShopifySandbox, home: Path
) -> None:
    install(running, CredentialStore())
    shopify = resource(running, home)
    expected = asyncio.run(products(shopify, running.customer, running, expire_after=None))
    assert len(expected) > 3 * PAGE_SIZE, "the sync must span several pages"
    before = running.token_calls.count
    stored = CredentialStore().find(running.customer, "shopify")
    assert stored is not None

    synced = asyncio.run(products(shopify, running.customer, running, expire_after=2))

    assert [p["id"] for p in synced] == [p["id"] for p in expected]
    assert running.token_calls.count == before + 1, "exactly one refresh"
    renewed = CredentialStore().find(running.customer, "shopify")
    assert renewed is not None and renewed.status == "active"
    assert renewed.access_token != stored.access_token
    assert renewed.refresh_token != stored.refresh_token


def test_a_token_with_under_ten_minutes_left_is_renewed_before_the_first_call(
    running: ShopifySandbox, home: Path
) -> None:
    store = CredentialStore()
    connection = install(running, store)
    soon = datetime.now(UTC) + timedelta(minutes=9)
    store.update_tokens(connection.id, TokenSet(connection.access_token, soon))
    before = running.token_calls.count
    shopify = resource(running, home)

    synced = asyncio.run(products(shopify, running.customer, running, expire_after=None))

    assert synced
    assert running.token_calls.count == before + 1
    renewed = store.get(connection.id)
    assert renewed.access_token != connection.access_token
    assert renewed.expires_at is not None and renewed.expires_at > soon + timedelta(minutes=50)


def test_a_client_credentials_connection_renews_by_the_grant(
    running: ShopifySandbox, home: Path
) -> None:
    store = CredentialStore()
    with ShopifyOAuth(running.app(), running.shop) as oauth:
        connection = connect_client_credentials(oauth, store, running.customer)
    store.update_tokens(
        connection.id, TokenSet(connection.access_token, datetime.now(UTC) + timedelta(minutes=1))
    )
    shopify = ShopifyResource(
        base_url=running.template, shelfops_home=str(home), page_size=PAGE_SIZE
    )
    synced = asyncio.run(products(shopify, running.customer, running, expire_after=None))
    assert synced
    renewed = store.get(connection.id)
    assert renewed.access_token != connection.access_token
    assert renewed.refresh_token == connection.refresh_token


def test_a_customer_without_a_connection_is_told_how_to_connect(
    running: ShopifySandbox, home: Path
) -> None:
    with pytest.raises(ConnectionNotFound, match="shelfops connect shopify --customer nobody"):
        asyncio.run(products(resource(running, home), "nobody", running, expire_after=None))
