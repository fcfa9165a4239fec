"""`shelfops connect shopify` against the sandbox over loopback: the scripted install lands on
our callback and stores a working, encrypted, expiring connection; a tampered hmac, a callback
for a foreign shop, a replayed state and a shop outside myshopify.com are refused with clear
errors; the client-credentials grant connects a merchant's own app; nothing secret is logged."""

import hashlib
import hmac
import html
import logging
import queue
import threading
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from urllib.parse import parse_qsl, urlsplit

import httpx
import pytest
from click.testing import CliRunner
from shopify_oauth_helpers import ShopifySandbox, serve_shopify_sandbox

from shelfops_pipeline.cli import cli
from shelfops_pipeline.credentials.models import Connection
from shelfops_pipeline.credentials.state import OAuthStates
from shelfops_pipeline.credentials.store import CredentialStore
from shelfops_pipeline.sources.shopify.connect import connect_shop
from shelfops_pipeline.sources.shopify.oauth import ShopifyOAuth


@pytest.fixture(scope="module")
def running() -> Iterator[ShopifySandbox]:
    with serve_shopify_sandbox() as served:
        yield served


pytestmark = pytest.mark.usefixtures("home")


def run_cli(running: ShopifySandbox, *args: str) -> tuple[int, str]:
    result = CliRunner().invoke(cli, ["connect", "shopify", *args], env=running.env())
    return result.exit_code, result.output


def store_bytes(home: Path) -> bytes:
    return b"".join(p.read_bytes() for p in home.glob("credentials.sqlite*"))


def test_connect_with_approve_stores_a_working_encrypted_connection(
    running: ShopifySandbox, home: Path
) -> None:
    code, output = run_cli(
        running, "--customer", running.customer, "--shop", "harbor-pantry", "--approve"
    )
    assert code == 0, output
    connection = CredentialStore().find(running.customer, "shopify")
    assert connection is not None
    assert output.splitlines()[0] == (
        f"Open this URL to install the ShelfOps app for customer {running.customer}:"
    )
    assert output.splitlines()[-2].startswith(
        f"connected {connection.id}: customer {running.customer}, Shopify shop "
        "harbor-pantry.myshopify.com, scopes read_products read_orders read_all_orders "
        "read_inventory read_locations, token expires "
    )
    assert "(in 0h 59m)" in output
    assert connection.account == running.shop
    assert connection.expires_at is not None
    assert timedelta(minutes=59) < connection.expires_at - datetime.now(UTC) <= timedelta(hours=1)
    assert connection.refresh_token is not None
    assert connection.refresh_token.reveal().startswith("shprt_")
    assert connection.refresh_token_expires_at is not None
    assert connection.refresh_token_expires_at - datetime.now(UTC) > timedelta(days=89)
    reply = running.shop_json(connection.access_token)
    assert reply.status_code == 200, reply.text
    assert reply.json()["shop"]["myshopify_domain"] == running.shop

    raw = store_bytes(home)
    for secret in (connection.access_token, connection.refresh_token):
        assert secret.reveal().encode() not in raw
    assert running.client_secret.encode() not in raw


def start_flow(
    running: ShopifySandbox, timeout_seconds: float = 10.0
) -> tuple["queue.Queue[str]", "queue.Queue[Connection | Exception]"]:
    """Run the install flow in a thread; hands back its authorize URL and its result."""
    urls: queue.Queue[str] = queue.Queue()
    results: queue.Queue[Connection | Exception] = queue.Queue()

    def flow() -> None:
        try:
            with ShopifyOAuth(running.app(), running.shop) as oauth:
                store = CredentialStore()
                states = OAuthStates(store.path)
                results.put(
                    connect_shop(
                        oauth, store, states, running.customer, urls.put, 0, timeout_seconds
                    )
                )
        except Exception as error:
            results.put(error)

    threading.Thread(target=flow, daemon=True).start()
    return urls, results


def query(url: str) -> dict[str, str]:
    return dict(parse_qsl(urlsplit(url).query, keep_blank_values=True))


def signed_callback(running: ShopifySandbox, authorize_url: str) -> tuple[str, dict[str, str]]:
    """The sandbox's approve redirect for `authorize_url`, not yet delivered."""
    reply = httpx.get(httpx.URL(authorize_url).copy_merge_params({"approve": "true"}))
    assert reply.status_code == 302, reply.text
    location = reply.headers["location"]
    return location.split("?")[0], query(location)


def sign(params: dict[str, str], secret: str) -> dict[str, str]:
    message = "&".join(f"{k}={v}" for k, v in sorted(params.items()) if k != "hmac")
    digest = hmac.new(secret.encode(), message.encode(), hashlib.sha256).hexdigest()
    return {**params, "hmac": digest}


def test_tampered_foreign_and_replayed_callbacks_are_refused_and_the_real_one_connects(
    running: ShopifySandbox,
) -> None:
    urls, results = start_flow(running)
    url = urls.get(timeout=10)
    redirect_uri, params = signed_callback(running, url)
    assert set(params) == {"code", "hmac", "host", "shop", "state", "timestamp"}

    tampered = httpx.get(redirect_uri, params={**params, "code": params["code"] + "0"})
    assert tampered.status_code == 400
    assert tampered.headers["x-shelfops-refusal"] == (
        "the callback's hmac does not match its query (tampered, or signed by another app); "
        "start again with `shelfops connect shopify`"
    )
    unsigned = httpx.get(redirect_uri, params={k: v for k, v in params.items() if k != "hmac"})
    assert unsigned.status_code == 400 and "hmac does not match" in unsigned.text
    foreign = sign({**params, "shop": "juniper-goods.myshopify.com"}, running.client_secret)
    refused = httpx.get(redirect_uri, params=foreign)
    assert refused.status_code == 400
    assert (
        "the callback is for shop 'juniper-goods.myshopify.com', not "
        "'harbor-pantry.myshopify.com'" in html.unescape(refused.text)
    )
    assert results.empty(), "a refused callback must not end the install"

    accepted = httpx.get(redirect_uri, params=params)
    assert accepted.status_code == 200, accepted.text
    connection = results.get(timeout=10)
    assert isinstance(connection, Connection), connection
    assert running.shop_json(connection.access_token).status_code == 200

    urls, results = start_flow(running, timeout_seconds=0.5)
    second_redirect = query(urls.get(timeout=10))["redirect_uri"]
    replayed = httpx.get(second_redirect, params=params)
    assert replayed.status_code == 400
    assert "unknown or was already used (forged or replayed)" in replayed.text
    outcome = results.get(timeout=10)
    assert isinstance(outcome, Exception) and "no installation reached" in str(outcome)


@pytest.mark.parametrize(
    "shop",
    [
        "evil.example.com",
        "harbor-pantry.myshopify.com.evil.example",
        "https://harbor-pantry.myshopify.com",
        "harbor-pantry.shopify.com",
        "../admin",
        "",
    ],
)
def test_a_shop_outside_myshopify_is_refused(running: ShopifySandbox, shop: str) -> None:
    code, output = run_cli(running, "--customer", running.customer, "--shop", shop, "--approve")
    assert code == 1
    assert output == (
        f"Error: refusing the shop {shop!r}: a Shopify shop is <name>.myshopify.com (letters, "
        "digits and hyphens); pass --shop <name> or --shop <name>.myshopify.com\n"
    )
    assert CredentialStore().find(running.customer, "shopify") is None


def test_client_credentials_connect_works(running: ShopifySandbox, home: Path) -> None:
    before = running.token_calls.count
    code, output = run_cli(
        running, "--customer", running.customer, "--shop", running.shop, "--client-credentials"
    )
    assert code == 0, output
    assert running.token_calls.count == before + 1
    assert "Open this URL" not in output
    assert "(in 23h 59m)" in output
    connection = CredentialStore().find(running.customer, "shopify")
    assert connection is not None and connection.account == running.shop
    assert running.shop_json(connection.access_token).status_code == 200
    assert running.client_secret.encode() not in store_bytes(home)
    assert connection.access_token.reveal().encode() not in store_bytes(home)


def test_client_credentials_with_a_wrong_secret_is_one_clear_line(
    running: ShopifySandbox,
) -> None:
    result = CliRunner().invoke(
        cli,
        ["connect", "shopify", "--customer", running.customer, "--shop", running.shop,
         "--client-credentials"],
        env={**running.env(), "SHELFOPS_SHOPIFY_CLIENT_SECRET": "shpss_wrong-secret-value"},
    )  # fmt: skip
    assert result.exit_code == 1
    assert result.output == (
        "Error: Shopify refused the client-credentials grant for harbor-pantry.myshopify.com "
        "(HTTP 401 invalid_client: Client credentials are invalid.); check the app's client id "
        "and secret and that it is installed on the shop\n"
    )
    assert "shpss_wrong-secret-value" not in result.output


def test_usage_errors(running: ShopifySandbox) -> None:
    code, output = run_cli(
        running, "--customer", running.customer, "--shop", running.shop, "--approve",
        "--client-credentials",
    )  # fmt: skip
    assert code == 2 and "--approve and --client-credentials exclude each other" in output
    result = CliRunner().invoke(
        cli, ["connect", "shopify", "--customer", "c", "--shop", running.shop], env={}
    )
    assert result.exit_code == 1
    assert "SHELFOPS_SHOPIFY_CLIENT_ID (or --client-id)" in result.output


def test_nothing_secret_reaches_logs_or_output_at_debug(
    running: ShopifySandbox, home: Path, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    code, output = run_cli(
        running, "--customer", running.customer, "--shop", running.shop, "--approve"
    )
    assert code == 0, output
    connection = CredentialStore().find(running.customer, "shopify")
    assert connection is not None and connection.refresh_token is not None
    assert "shopify oauth POST harbor-pantry.myshopify.com/admin/oauth/access_token -> 200" in (
        caplog.text
    ), "debug logs were captured"
    secrets = (
        connection.access_token.reveal(),
        connection.refresh_token.reveal(),
        running.client_secret,
    )
    for text in (caplog.text, output, repr(connection), str(connection)):
        for secret in secrets:
            assert secret not in text
    assert "code=" not in caplog.text
