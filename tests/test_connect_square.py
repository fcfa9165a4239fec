"""`shelfops connect square` against the sandbox over loopback: the approval lands on our
callback, the tokens are stored encrypted and work, and a forged, replayed or expired `state`,
a denial, a timeout or a bad option each end in one clear line."""

import logging
import queue
import threading
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from urllib.parse import parse_qs, urlsplit

import httpx
import pytest
from click.testing import CliRunner
from credential_helpers import (
    OAuthSandbox,
    connect_customer,
    serve_oauth_sandbox,
    store_bytes,
)

from shelfops_pipeline.cli import cli
from shelfops_pipeline.credentials.connect import connect
from shelfops_pipeline.credentials.errors import (
    AuthorizationDenied,
    AuthorizationTimedOut,
    ConnectionNeedsReauth,
    CredentialError,
    InsecureURL,
    InvalidOAuthState,
    OAuthError,
)
from shelfops_pipeline.credentials.models import Connection, TokenSet
from shelfops_pipeline.credentials.refresh import TokenRefresher
from shelfops_pipeline.credentials.secret import Secret
from shelfops_pipeline.credentials.state import OAuthStates
from shelfops_pipeline.credentials.store import CredentialStore
from shelfops_pipeline.sources.square.oauth import (
    REFRESH_THRESHOLD,
    SquareApp,
    SquareOAuth,
    approve_in_sandbox,
    authorize_url,
)


@pytest.fixture(scope="module")
def oauth() -> Iterator[OAuthSandbox]:
    with serve_oauth_sandbox() as running:
        yield running


pytestmark = pytest.mark.usefixtures("home")


def run_cli(oauth: OAuthSandbox, *args: str) -> tuple[int, str]:
    result = CliRunner().invoke(cli, list(args), env=oauth.env())
    return result.exit_code, result.output


def test_connect_with_approve_stores_a_working_encrypted_connection(oauth: OAuthSandbox) -> None:
    customer, merchant = oauth.customers[0]
    code, output = run_cli(
        oauth, "connect", "square", "--customer", customer, "--approve", "--merchant-id", merchant
    )
    assert code == 0, output
    connection = CredentialStore().find(customer, "square")
    assert connection is not None
    assert output.splitlines()[0] == f"Open this URL to authorize ShelfOps for customer {customer}:"
    assert output.splitlines()[-2].startswith(
        f"connected {connection.id}: customer {customer}, Square merchant {merchant}, "
        "scopes MERCHANT_PROFILE_READ ITEMS_READ INVENTORY_READ ORDERS_READ PAYMENTS_READ, "
        "token expires "
    )
    assert "(in 29d 23h)" in output
    assert connection.account == merchant
    assert connection.expires_at is not None
    assert connection.expires_at - datetime.now(UTC) > timedelta(days=29)
    reply = oauth.locations(connection.access_token)
    assert reply.status_code == 200, reply.text
    assert {loc["merchant_id"] for loc in reply.json()["locations"]} == {merchant}

    assert connection.refresh_token is not None
    secrets = [
        connection.access_token.reveal(),
        connection.refresh_token.reveal(),
        oauth.client_secret,
        *oauth.recorder.codes(),
    ]
    raw = store_bytes(CredentialStore().path)
    assert merchant.encode() in raw, "the check reads the right file"
    for secret in secrets:
        assert secret.encode() not in raw
        assert secret not in output

    code, listing = run_cli(oauth, "connections", "list")
    assert code == 0
    [row] = listing.splitlines()[1:]
    assert row.split()[:4] == [connection.id, customer, "square", merchant]
    assert "29d 23h" in row and "active" in row
    assert all(secret not in listing for secret in secrets)


def start_flow(
    oauth: OAuthSandbox, states: OAuthStates, timeout_seconds: float = 10.0
) -> tuple["queue.Queue[str]", "queue.Queue[Connection | Exception]"]:
    """Run connect() for the first customer in a thread; hands back its URL and its result."""
    customer, _ = oauth.customers[0]
    urls: queue.Queue[str] = queue.Queue()
    results: queue.Queue[Connection | Exception] = queue.Queue()

    def flow() -> None:
        try:
            with SquareOAuth(oauth.app()) as square:
                store = CredentialStore()
                results.put(connect(square, store, states, customer, urls.put, 0, timeout_seconds))
        except Exception as error:
            results.put(error)

    threading.Thread(target=flow, daemon=True).start()
    return urls, results


def query(url: str) -> dict[str, str]:
    return {name: values[0] for name, values in parse_qs(urlsplit(url).query).items()}


def test_forged_callback_is_refused_and_the_real_one_still_connects(oauth: OAuthSandbox) -> None:
    customer, merchant = oauth.customers[0]
    urls, results = start_flow(oauth, OAuthStates())
    url = urls.get(timeout=10)
    redirect_uri = query(url)["redirect_uri"]
    forged = httpx.get(redirect_uri, params={"code": "sq0cgb-forged", "state": "forged-state"})
    assert forged.status_code == 400
    assert "forged or replayed" in forged.text
    missing = httpx.get(redirect_uri, params={"code": "sq0cgb-forged"})
    assert missing.status_code == 400
    assert results.empty(), "a refused callback must not end the flow"

    approve_in_sandbox(url, merchant)
    connection = results.get(timeout=10)
    assert isinstance(connection, Connection), connection
    assert connection.customer_id == customer
    with pytest.raises(InvalidOAuthState, match="already used"):
        OAuthStates().consume(query(url)["state"], customer, "square")


def test_expired_state_is_refused_at_the_callback(oauth: OAuthSandbox) -> None:
    _, merchant = oauth.customers[0]
    offset = timedelta(0)
    states = OAuthStates(now=lambda: datetime.now(UTC) + offset)
    urls, results = start_flow(oauth, states, timeout_seconds=2)
    url = urls.get(timeout=10)
    offset = timedelta(minutes=10, seconds=1)
    with pytest.raises(
        OAuthError, match=r"callback server refused the scripted approval \(HTTP 400\)"
    ):
        approve_in_sandbox(url, merchant)
    assert isinstance(results.get(timeout=10), AuthorizationTimedOut)
    assert CredentialStore().overview() == []


def test_denial_is_a_clear_error_and_stores_nothing(oauth: OAuthSandbox) -> None:
    _, merchant = oauth.customers[0]
    urls, results = start_flow(oauth, OAuthStates())
    url = urls.get(timeout=10)
    denied = httpx.get(
        httpx.URL(url).copy_merge_params({"merchant_id": merchant, "approve": "false"})
    )
    assert denied.status_code == 302
    assert httpx.get(denied.headers["location"]).status_code == 200
    error = results.get(timeout=10)
    assert isinstance(error, AuthorizationDenied)
    assert (
        str(error)
        == f"square did not authorize customer {oauth.customers[0][0]}: access_denied (user_denied)"
    )
    assert CredentialStore().overview() == []


def test_cli_times_out_with_one_line(oauth: OAuthSandbox) -> None:
    code, output = run_cli(oauth, "connect", "square", "--customer", "cust-001", "--timeout", "1")
    assert code == 1
    last = output.strip().splitlines()[-1]
    assert last.startswith("Error: no authorization reached http://127.0.0.1:")
    assert "within 1 s" in last and "Traceback" not in output


@pytest.mark.parametrize(
    ("args", "env", "message"),
    [
        (["--base-url", "http://example.com/square"], {}, "refusing the Square base URL"),
        ([], {"SHELFOPS_SQUARE_CLIENT_SECRET": ""}, "set SHELFOPS_SQUARE_CLIENT_SECRET"),
        (["--approve", "--merchant-id", "NOPE"], {}, "(404 NOT_FOUND: Unknown merchant_id.)"),
        (["--approve"], {}, "--approve and --merchant-id go together"),
        ([], {"SHELFOPS_ENCRYPTION_KEYS": ""}, "no encryption key"),
    ],
)
def test_cli_errors_are_one_line(
    oauth: OAuthSandbox, args: list[str], env: dict[str, str], message: str
) -> None:
    result = CliRunner().invoke(
        cli, ["connect", "square", "--customer", "cust-001", *args], env={**oauth.env(), **env}
    )
    assert result.exit_code in (1, 2)
    assert message in result.output
    assert "Traceback" not in result.output
    assert oauth.client_secret not in result.output


def test_nothing_secret_reaches_logs_or_errors_at_debug(
    oauth: OAuthSandbox, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    customer, merchant = oauth.customers[1]
    code, output = run_cli(
        oauth, "connect", "square", "--customer", customer, "--approve", "--merchant-id", merchant
    )
    assert code == 0, output
    store = CredentialStore()
    first = store.find(customer, "square")
    assert first is not None
    errors: list[Exception] = []
    with SquareOAuth(oauth.app()) as square:
        refresher = TokenRefresher(store, square.refresh, REFRESH_THRESHOLD)
        store.update_tokens(first.id, TokenSet(first.access_token, datetime.now(UTC)))
        second = refresher.fresh(first.id)
        try:
            square.exchange_code(Secret("sq0cgb-bogus-code-value"), "http://127.0.0.1:1/callback")
        except CredentialError as error:
            errors.append(error)
        square.revoke(merchant_id=merchant)
        store.update_tokens(first.id, TokenSet(second.access_token, datetime.now(UTC)))
        try:
            refresher.fresh(first.id)
        except CredentialError as error:
            errors.append(error)
    assert [type(e) for e in errors] == [OAuthError, ConnectionNeedsReauth]
    assert "square oauth POST /oauth2/token -> 200" in caplog.text, "debug logs were captured"
    assert second.access_token != first.access_token
    assert first.refresh_token is not None
    secrets = {
        first.access_token.reveal(),
        second.access_token.reveal(),
        first.refresh_token.reveal(),
        oauth.client_secret,
        "sq0cgb-bogus-code-value",
        *oauth.recorder.codes(),
    }
    texts = [caplog.text, output, *(str(e) for e in errors), *(repr(e) for e in errors)]
    texts += [repr(first), repr(second), str(first)]
    for text in texts:
        for secret in secrets:
            assert secret not in text


def test_reconnecting_after_reauth_reactivates_the_same_connection(oauth: OAuthSandbox) -> None:
    store = CredentialStore()
    first = connect_customer(oauth, store, index=2)
    store.mark(first.id, "needs_reauth", "Square refused the refresh token")
    again = connect_customer(oauth, store, index=2)
    assert again.id == first.id
    assert (again.status, again.last_error) == ("active", None)
    assert again.access_token != first.access_token


@pytest.mark.parametrize(
    "url",
    [
        "https://connect.squareup.com",
        "https://connect.squareupsandbox.com/",
        "http://127.0.0.1:8750/square",
        "http://localhost:8750/square",
        "http://[::1]:8750/square",
    ],
)
def test_https_and_loopback_base_urls_are_accepted(url: str) -> None:
    app = SquareApp("client", Secret("secret"), url)
    assert app.base_url == url.rstrip("/")


@pytest.mark.parametrize(
    "url",
    [
        "http://connect.squareup.com",
        "http://127.0.0.1.example.com/square",
        "ftp://127.0.0.1/square",
        "https://user:pass-in-url@connect.squareup.com",
        "https://connect.squareup.com/?x=1",
    ],
)
def test_other_base_urls_are_refused_without_echoing_credentials(url: str) -> None:
    with pytest.raises(InsecureURL) as raised:
        SquareApp("client", Secret("secret"), url)
    assert "pass-in-url" not in str(raised.value)


def test_authorize_url_carries_space_separated_scopes_and_the_state() -> None:
    url = authorize_url(
        "https://connect.squareup.com",
        "sq0idp-app",
        ["ITEMS_READ", "ORDERS_READ"],
        "state-value",
        "http://127.0.0.1:9000/callback",
    )
    assert url.startswith("https://connect.squareup.com/oauth2/authorize?")
    assert query(url) == {
        "client_id": "sq0idp-app",
        "scope": "ITEMS_READ ORDERS_READ",
        "state": "state-value",
        "redirect_uri": "http://127.0.0.1:9000/callback",
    }
