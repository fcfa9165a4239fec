"""The Square resource serves syncs from the credential store: fresh tokens, one clear error."""

import asyncio
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from credential_helpers import OAuthSandbox, connect_customer, isolate, serve_oauth_sandbox

from shelfops_pipeline.credentials.errors import ConnectionNeedsReauth, ConnectionNotFound
from shelfops_pipeline.credentials.keys import ensure_local_key_file
from shelfops_pipeline.credentials.models import TokenSet
from shelfops_pipeline.credentials.store import CredentialStore
from shelfops_pipeline.http.errors import AuthRejected
from shelfops_pipeline.http.stats import CallStats
from shelfops_pipeline.sources.square.resources import SquareResource


@pytest.fixture
def oauth(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[OAuthSandbox]:
    isolate(monkeypatch, tmp_path)
    ensure_local_key_file(tmp_path)
    with serve_oauth_sandbox() as running:
        for name, value in running.env().items():
            monkeypatch.setenv(name, value)
        yield running


def _resource(oauth: OAuthSandbox, home: Path) -> SquareResource:
    return SquareResource(base_url=oauth.square_url, shelfops_home=str(home), max_attempts=2)


async def _location_ids(resource: SquareResource, customer: str) -> list[str]:
    stats = CallStats()
    async with resource.client(customer, stats) as client:
        return [loc.id for loc in await client.locations()]


def test_a_connected_customer_gets_a_working_client(oauth: OAuthSandbox, tmp_path: Path) -> None:
    store = CredentialStore()
    connection = connect_customer(oauth, store)
    ids = asyncio.run(_location_ids(_resource(oauth, tmp_path), connection.customer_id))
    merchant = oauth.customers[0][1]
    assert ids == [s.id for s in oauth.sandbox.world.stores_of(merchant)]


def test_a_token_near_expiry_is_refreshed_once_for_two_concurrent_syncs(
    oauth: OAuthSandbox, tmp_path: Path
) -> None:
    store = CredentialStore()
    connection = connect_customer(oauth, store)
    soon = datetime.now(UTC) + timedelta(days=2)
    store.update_tokens(
        connection.id, TokenSet(connection.access_token, soon, connection.refresh_token)
    )
    resource = _resource(oauth, tmp_path)
    before = oauth.refresh_calls()

    async def both() -> list[list[str]]:
        return list(
            await asyncio.gather(
                *(_location_ids(resource, connection.customer_id) for _ in range(2))
            )
        )

    first, second = asyncio.run(both())
    assert first == second and first
    assert oauth.refresh_calls() - before == 1
    refreshed = store.get(connection.id)
    assert refreshed.expires_at is not None and refreshed.expires_at > soon


def test_a_revoked_connection_is_one_clear_error(oauth: OAuthSandbox, tmp_path: Path) -> None:
    store = CredentialStore()
    connection = connect_customer(oauth, store)
    oauth.sandbox.tokens.revoke(merchant_id=connection.account)
    with pytest.raises((ConnectionNeedsReauth, AuthRejected)) as caught:
        asyncio.run(_location_ids(_resource(oauth, tmp_path), connection.customer_id))
    message = str(caught.value)
    assert connection.account in message or connection.customer_id in message
    assert connection.access_token.reveal() not in message


def test_a_customer_without_a_connection_is_told_how_to_connect(
    oauth: OAuthSandbox, tmp_path: Path
) -> None:
    with pytest.raises(ConnectionNotFound, match="shelfops connect square --customer cust-404"):
        asyncio.run(_location_ids(_resource(oauth, tmp_path), "cust-404"))
