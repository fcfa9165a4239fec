"""Token refresh against the sandbox over loopback: before expiry, exactly once however many
threads or processes ask, rotating PKCE refresh tokens, and one clear error once Square no
longer honours the connection. The refresh window is forced by moving expires_at in the store."""

import hashlib
import os
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import httpx
import pytest
from credential_helpers import OAuthSandbox, connect_customer, serve_oauth_sandbox
from tenacity import wait_none

from shelfops_pipeline.credentials.errors import (
    ConnectionNeedsReauth,
    OAuthUnavailable,
    RefreshRejected,
)
from shelfops_pipeline.credentials.models import Connection, TokenSet
from shelfops_pipeline.credentials.refresh import TokenRefresher
from shelfops_pipeline.credentials.secret import Secret
from shelfops_pipeline.credentials.store import CredentialStore
from shelfops_pipeline.sources.square.oauth import REFRESH_THRESHOLD, RETRY_ATTEMPTS, SquareOAuth

RACE_HELPER = Path(__file__).with_name("credentials_race.py")


@pytest.fixture(scope="module")
def oauth() -> Iterator[OAuthSandbox]:
    with serve_oauth_sandbox() as running:
        yield running


pytestmark = pytest.mark.usefixtures("home")


@pytest.fixture
def store() -> CredentialStore:
    return CredentialStore()


@pytest.fixture
def square(oauth: OAuthSandbox) -> Iterator[SquareOAuth]:
    with SquareOAuth(oauth.app(), retry_wait=wait_none()) as client:
        yield client


def expire_in(store: CredentialStore, connection: Connection, delta: timedelta) -> None:
    """Move the stored expiry, keeping the tokens, to put the connection in (or out of) the window."""
    store.update_tokens(connection.id, TokenSet(connection.access_token, datetime.now(UTC) + delta))


class Failing(httpx.BaseTransport):
    """Raises ConnectError for the first `failures` requests, then forwards to loopback."""

    def __init__(self, failures: int) -> None:
        self.failures = failures
        self.attempts = 0
        self._real = httpx.HTTPTransport()

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        self.attempts += 1
        if self.attempts <= self.failures:
            raise httpx.ConnectError("connection refused", request=request)
        return self._real.handle_request(request)

    def close(self) -> None:
        self._real.close()


def test_token_far_from_expiry_is_left_alone(
    oauth: OAuthSandbox, store: CredentialStore, square: SquareOAuth
) -> None:
    connection = connect_customer(oauth, store)
    before = oauth.refresh_calls()
    fresh = TokenRefresher(store, square.refresh, REFRESH_THRESHOLD).fresh(connection.id)
    assert fresh.access_token == connection.access_token
    assert oauth.refresh_calls() == before


def test_token_under_seven_days_is_refreshed_once_and_works(
    oauth: OAuthSandbox, store: CredentialStore, square: SquareOAuth
) -> None:
    connection = connect_customer(oauth, store)
    expire_in(store, connection, timedelta(days=6, hours=23))
    refresher = TokenRefresher(store, square.refresh, REFRESH_THRESHOLD)
    before = oauth.refresh_calls()
    fresh = refresher.fresh(connection.id)
    assert refresher.fresh(connection.id) == fresh
    assert oauth.refresh_calls() == before + 1
    assert fresh.access_token != connection.access_token
    assert fresh.refresh_token == connection.refresh_token, "the code flow keeps its refresh token"
    assert fresh.expires_at is not None
    assert fresh.expires_at - datetime.now(UTC) > timedelta(days=29)
    assert store.get(connection.id) == fresh
    assert oauth.locations(fresh.access_token).status_code == 200


def test_two_threads_refresh_exactly_once(
    oauth: OAuthSandbox, store: CredentialStore, square: SquareOAuth
) -> None:
    connection = connect_customer(oauth, store)
    expire_in(store, connection, timedelta(days=1))

    def slow_refresh(refresh_token: Secret) -> TokenSet:
        time.sleep(0.3)
        return square.refresh(refresh_token)

    refresher = TokenRefresher(store, slow_refresh, REFRESH_THRESHOLD)
    barrier = threading.Barrier(4)
    results: list[Connection] = []

    def caller() -> None:
        barrier.wait()
        results.append(refresher.fresh(connection.id))

    before = oauth.refresh_calls()
    threads = [threading.Thread(target=caller) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=20)
    assert oauth.refresh_calls() == before + 1
    assert len(results) == 4
    assert len({r.access_token.reveal() for r in results}) == 1
    assert results[0].access_token != connection.access_token


def test_two_processes_refresh_exactly_once(
    oauth: OAuthSandbox, store: CredentialStore, home: Path
) -> None:
    connection = connect_customer(oauth, store)
    expire_in(store, connection, timedelta(days=1))
    before = oauth.refresh_calls()
    start_at = f"{time.time() + 3.0:.3f}"
    env = {**os.environ, **oauth.env()}
    processes = [
        subprocess.Popen(
            [sys.executable, str(RACE_HELPER), connection.id, start_at, "0.5"],
            env=env,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        for _ in range(2)
    ]
    outputs = [process.communicate(timeout=30) for process in processes]
    assert [p.returncode for p in processes] == [0, 0], outputs
    assert oauth.refresh_calls() == before + 1
    stored = hashlib.sha256(store.get(connection.id).access_token.reveal().encode()).hexdigest()
    assert [out.strip() for out, _ in outputs] == [stored, stored]
    assert store.get(connection.id).access_token != connection.access_token


def test_rejected_token_is_refreshed_once_whatever_its_expiry(
    oauth: OAuthSandbox, store: CredentialStore, square: SquareOAuth
) -> None:
    connection = connect_customer(oauth, store)
    refresher = TokenRefresher(store, square.refresh, REFRESH_THRESHOLD)
    before = oauth.refresh_calls()
    fresh = refresher.fresh(connection.id, rejected=connection.access_token)
    assert fresh.access_token != connection.access_token
    late = refresher.fresh(connection.id, rejected=connection.access_token)
    assert late.access_token == fresh.access_token, "another caller already replaced it"
    assert oauth.refresh_calls() == before + 1


def test_pkce_refresh_rotates_the_refresh_token_every_time(
    oauth: OAuthSandbox, store: CredentialStore, square: SquareOAuth
) -> None:
    connection = connect_customer(oauth, store, index=1, pkce=True)
    assert connection.refresh_token_expires_at is not None
    refresher = TokenRefresher(store, square.refresh, REFRESH_THRESHOLD)
    seen = [connection]
    for _ in range(2):
        expire_in(store, seen[-1], timedelta(hours=1))
        seen.append(refresher.fresh(connection.id))
    refresh_tokens = [c.refresh_token for c in seen]
    assert None not in refresh_tokens and len({t.reveal() for t in refresh_tokens if t}) == 3
    assert oauth.locations(seen[-1].access_token).status_code == 200
    with pytest.raises(RefreshRejected, match="401 UNAUTHORIZED"):
        square.refresh(connection.refresh_token)  # type: ignore[arg-type]


def test_revoked_connection_gives_one_clear_error(
    oauth: OAuthSandbox, store: CredentialStore, square: SquareOAuth
) -> None:
    connection = connect_customer(oauth, store, index=2)
    customer, merchant = oauth.customers[2]
    square.revoke(merchant_id=merchant)
    expire_in(store, connection, timedelta(days=2))
    refresher = TokenRefresher(store, square.refresh, REFRESH_THRESHOLD)
    with pytest.raises(ConnectionNeedsReauth) as raised:
        refresher.fresh(connection.id)
    message = str(raised.value)
    assert f"square connection {connection.id} (customer {customer}, account {merchant})" in message
    assert f"run `shelfops connect square --customer {customer}`" in message
    assert "refresh token is not valid" in message
    stored = store.get(connection.id)
    assert stored.status == "needs_reauth" and stored.last_error
    before = oauth.refresh_calls()
    with pytest.raises(ConnectionNeedsReauth, match="shelfops connect square"):
        refresher.fresh(connection.id)
    assert oauth.refresh_calls() == before, "a connection needing reauth is not retried"


def test_outage_keeps_a_still_valid_token_and_records_the_error(
    oauth: OAuthSandbox, store: CredentialStore
) -> None:
    connection = connect_customer(oauth, store)
    expire_in(store, connection, timedelta(days=3))
    transport = Failing(failures=100)
    with SquareOAuth(oauth.app(), transport=transport, retry_wait=wait_none()) as square:
        refresher = TokenRefresher(store, square.refresh, REFRESH_THRESHOLD)
        kept = refresher.fresh(connection.id)
        assert transport.attempts == RETRY_ATTEMPTS
        assert kept.access_token == connection.access_token
        assert store.get(connection.id).last_error.startswith("Square OAuth at http://127.0.0.1")
        expire_in(store, connection, timedelta(seconds=-1))
        with pytest.raises(OAuthUnavailable, match="after retries"):
            refresher.fresh(connection.id)
    assert store.get(connection.id).status == "active"


def test_a_dropped_connection_is_retried(oauth: OAuthSandbox, store: CredentialStore) -> None:
    connection = connect_customer(oauth, store)
    expire_in(store, connection, timedelta(days=1))
    transport = Failing(failures=1)
    before = oauth.refresh_calls()
    with SquareOAuth(oauth.app(), transport=transport, retry_wait=wait_none()) as square:
        fresh = TokenRefresher(store, square.refresh, REFRESH_THRESHOLD).fresh(connection.id)
    assert transport.attempts == 2
    assert oauth.refresh_calls() == before + 1
    assert fresh.access_token != connection.access_token
