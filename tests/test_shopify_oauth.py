"""Shopify's OAuth from the client side against the sandbox over loopback: the callback
signature, shop domains and base URLs, refreshing expiring offline tokens with rotating refresh
tokens, and a refresh response lost on the way that must not lock the shop out."""

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta

import httpx
import pytest
from shopify_oauth_helpers import ShopifySandbox, install, serve_shopify_sandbox

from shelfops_pipeline.credentials.errors import (
    ConnectionNeedsReauth,
    CredentialError,
    InsecureURL,
    OAuthError,
    OAuthUnavailable,
)
from shelfops_pipeline.credentials.models import Connection, TokenSet
from shelfops_pipeline.credentials.refresh import TokenRefresher
from shelfops_pipeline.credentials.secret import Secret
from shelfops_pipeline.credentials.store import CredentialStore
from shelfops_pipeline.sources.shopify.oauth import (
    REFRESH_THRESHOLD,
    ShopifyApp,
    ShopifyOAuth,
    callback_hmac,
    shop_domain,
    verify_callback,
)


@pytest.fixture(scope="module")
def running() -> Iterator[ShopifySandbox]:
    with serve_shopify_sandbox() as served:
        yield served


pytestmark = pytest.mark.usefixtures("home")


@pytest.mark.parametrize(
    ("params", "expected"),
    [
        (
            {"code": "a94a110d86d2452eb3e2af4cfb8a3828", "shop": "some-shop.myshopify.com",
             "timestamp": "1337178173"},
            "2cb1a277650a659f1b11e92a4a64275b128e037f2c3390e3c8fd2d8721dac9e2",
        ),
        (
            {"code": "0907a61c0c8d55e99db179b68161bc00", "shop": "some-shop.myshopify.com",
             "state": "0.6784241404160823", "timestamp": "1337178173", "hmac": "x"},
            "700e2dadb827fcc8609e9d5ce208b2e9cdaab9df07390d2cbca10d7c328fc4bf",
        ),
    ],
)  # fmt: skip
def test_callback_hmac_reproduces_shopifys_test_vectors(
    params: dict[str, str], expected: str
) -> None:
    assert callback_hmac(params, Secret("hush")) == expected
    verify_callback({**params, "hmac": expected}, Secret("hush"), "some-shop.myshopify.com")
    with pytest.raises(OAuthError, match="hmac does not match"):
        verify_callback({**params, "hmac": expected.upper()}, Secret("hush"), params["shop"])
    with pytest.raises(OAuthError, match="hmac does not match"):
        verify_callback({**params, "hmac": expected}, Secret("hush!"), params["shop"])


@pytest.mark.parametrize(
    ("name", "domain"),
    [
        ("harbor-pantry", "harbor-pantry.myshopify.com"),
        ("Harbor-Pantry.myshopify.com ", "harbor-pantry.myshopify.com"),
        ("shop1", "shop1.myshopify.com"),
    ],
)
def test_shop_names_become_myshopify_domains(name: str, domain: str) -> None:
    assert shop_domain(name) == domain


@pytest.mark.parametrize(
    "name", ["evil.com", "a.myshopify.com.evil.com", "-x", "a/b", "a b", "x.myshopify.io"]
)
def test_other_domains_are_refused(name: str) -> None:
    with pytest.raises(CredentialError, match=r"a Shopify shop is <name>\.myshopify\.com"):
        shop_domain(name)


def test_base_url_templates() -> None:
    app = ShopifyApp("id", Secret("shpss_secret"))
    assert app.shop_url("harbor-pantry") == "https://harbor-pantry.myshopify.com"
    sandbox = ShopifyApp("id", Secret("shpss_secret"), "http://127.0.0.1:8750/shopify/{handle}")
    assert sandbox.shop_url("harbor-pantry") == "http://127.0.0.1:8750/shopify/harbor-pantry"
    with pytest.raises(InsecureURL):
        ShopifyApp("id", Secret("shpss_secret"), "http://example.com/{shop}")
    with pytest.raises(CredentialError, match="must name the shop"):
        ShopifyApp("id", Secret("shpss_secret"), "https://example.com")


def expire_soon(store: CredentialStore, connection: Connection) -> None:
    soon = datetime.now(UTC) + timedelta(minutes=5)
    store.update_tokens(connection.id, TokenSet(connection.access_token, soon))


def test_refresh_rotates_the_refresh_token_and_the_new_tokens_work(
    running: ShopifySandbox,
) -> None:
    store = CredentialStore()
    first = install(running, store)
    assert not first.expires_within(REFRESH_THRESHOLD, datetime.now(UTC))
    with ShopifyOAuth(running.app(), running.shop) as oauth:
        refresher = TokenRefresher(store, oauth.refresh, REFRESH_THRESHOLD)
        assert refresher.fresh(first.id).access_token == first.access_token
        expire_soon(store, first)
        second = refresher.fresh(first.id)
    assert second.access_token != first.access_token
    assert second.refresh_token is not None and second.refresh_token != first.refresh_token
    assert second.expires_at is not None
    assert second.expires_at - datetime.now(UTC) > timedelta(minutes=59)
    assert running.shop_json(second.access_token).status_code == 200


class LosingTransport(httpx.HTTPTransport):
    """Delivers requests to the sandbox, which acts on them, then loses the first `losses`
    token replies on the way back."""

    def __init__(self, losses: int) -> None:
        super().__init__()
        self.losses = losses

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        response = super().handle_request(request)
        if self.losses > 0:
            self.losses -= 1
            response.read()
            response.close()
            raise httpx.ReadError("connection reset while reading the reply")
        return response


def no_wait(_: object) -> float:
    return 0.0


def test_a_lost_refresh_reply_is_retried_with_the_old_refresh_token(
    running: ShopifySandbox,
) -> None:
    store = CredentialStore()
    first = install(running, store)
    expire_soon(store, first)
    before = running.token_calls.count
    with ShopifyOAuth(
        running.app(), running.shop, transport=LosingTransport(1), retry_wait=no_wait
    ) as oauth:
        second = TokenRefresher(store, oauth.refresh, REFRESH_THRESHOLD).fresh(first.id)
    assert running.token_calls.count == before + 2, "the shop rotated on the lost call too"
    assert second.status == "active" and second.refresh_token != first.refresh_token
    assert running.shop_json(second.access_token).status_code == 200
    expire_soon(store, second)
    with ShopifyOAuth(running.app(), running.shop) as oauth:
        third = TokenRefresher(store, oauth.refresh, REFRESH_THRESHOLD).fresh(first.id)
    assert running.shop_json(third.access_token).status_code == 200


def test_a_refresh_whose_replies_are_all_lost_leaves_the_shop_connected(
    running: ShopifySandbox,
) -> None:
    store = CredentialStore()
    first = install(running, store)
    expired = TokenSet(first.access_token, datetime.now(UTC) - timedelta(seconds=1))
    store.update_tokens(first.id, expired)
    with (
        ShopifyOAuth(
            running.app(), running.shop, transport=LosingTransport(100), retry_wait=no_wait
        ) as oauth,
        pytest.raises(OAuthUnavailable, match="after retries"),
    ):
        TokenRefresher(store, oauth.refresh, REFRESH_THRESHOLD).fresh(first.id)
    kept = store.get(first.id)
    assert kept.status == "active" and kept.refresh_token == first.refresh_token
    with ShopifyOAuth(running.app(), running.shop) as oauth:
        recovered = TokenRefresher(store, oauth.refresh, REFRESH_THRESHOLD).fresh(first.id)
    assert recovered.refresh_token != first.refresh_token
    assert running.shop_json(recovered.access_token).status_code == 200


def test_an_uninstalled_app_needs_reauthorization(running: ShopifySandbox) -> None:
    store = CredentialStore()
    connection = install(running, store)
    running.sandbox.shopify_tokens.revoke_installation(running.shop, running.client_id)
    expire_soon(store, connection)
    with ShopifyOAuth(running.app(), running.shop) as oauth:
        refresher = TokenRefresher(store, oauth.refresh, REFRESH_THRESHOLD)
        with pytest.raises(ConnectionNeedsReauth, match="shelfops connect shopify") as caught:
            refresher.fresh(connection.id)
    assert "invalid_grant" in str(caught.value)
    assert store.get(connection.id).status == "needs_reauth"
    assert connection.refresh_token is not None
    assert connection.refresh_token.reveal() not in str(caught.value)
