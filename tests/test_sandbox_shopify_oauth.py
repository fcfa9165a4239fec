"""Shopify OAuth in the sandbox, over real loopback HTTP, with a clock the tests move.

The install page and its scripted approve redirect with a signed callback; the token endpoint
trades codes, refreshes expiring offline tokens (rotating refresh tokens) and answers the
client-credentials grant; expired and revoked tokens get Shopify's 401.
"""

import hashlib
import hmac
import logging
import re
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime
from html.parser import HTMLParser
from typing import Any
from urllib.parse import parse_qsl, urlsplit

import httpx
import pytest
from clocks import MovableClock
from conftest import FROZEN_NOW, SEED

from shelfops_pipeline.sandbox.runner import serve_in_thread
from shelfops_pipeline.sandbox.server import Sandbox, build_sandbox
from shelfops_pipeline.sandbox.settings import SandboxSettings
from shelfops_pipeline.sandbox.shopify.oauth import oauth_query_hmac

REDIRECT_URI = "https://app.example/shopify/callback"
SCOPES = "read_orders,read_products"
INVALID_TOKEN = {
    "errors": "[API] Invalid API key or access token (unrecognized login or wrong password)"
}


@dataclass
class OAuthSandbox:
    sandbox: Sandbox
    clock: MovableClock
    base_url: str
    http: httpx.Client

    @property
    def shop(self) -> str:
        return self.sandbox.world.shops[0].domain

    @property
    def handle(self) -> str:
        return self.sandbox.world.shops[0].handle

    @property
    def client_id(self) -> str:
        return self.sandbox.shopify_tokens.application.client_id

    @property
    def client_secret(self) -> str:
        return self.sandbox.shopify_tokens.application.client_secret

    def url(self, path: str, handle: str | None = None) -> str:
        return f"{self.base_url}/shopify/{handle or self.handle}{path}"

    def authorize(self, **params: str) -> httpx.Response:
        query = {
            "client_id": self.client_id,
            "scope": SCOPES,
            "redirect_uri": REDIRECT_URI,
            "state": "nonce-42",
            **params,
        }
        return self.http.get(self.url("/admin/oauth/authorize"), params=query)

    def code(self) -> str:
        return callback_params(self.authorize(approve="true"))["code"]

    def token(self, body: dict[str, str], as_json: bool = True) -> httpx.Response:
        url = self.url("/admin/oauth/access_token")
        if as_json:
            return self.http.post(url, json=body)
        return self.http.post(url, data=body)

    def credentials(self) -> dict[str, str]:
        return {"client_id": self.client_id, "client_secret": self.client_secret}

    def shop_json(self, token: str, handle: str | None = None) -> httpx.Response:
        headers = {"X-Shopify-Access-Token": token}
        return self.http.get(self.url("/admin/api/2026-10/shop.json", handle), headers=headers)


@pytest.fixture
def oauth() -> Iterator[OAuthSandbox]:
    clock = MovableClock(FROZEN_NOW)
    settings = SandboxSettings(seed=SEED, scale="small", frozen_at=FROZEN_NOW)
    sandbox = build_sandbox(settings, clock=clock)
    with serve_in_thread(sandbox.app) as base_url, httpx.Client(timeout=10) as http:
        yield OAuthSandbox(sandbox, clock, base_url, http)


def callback_params(response: httpx.Response) -> dict[str, str]:
    assert response.status_code == 302, response.text
    location = urlsplit(response.headers["location"])
    assert f"{location.scheme}://{location.netloc}{location.path}" == REDIRECT_URI
    return dict(parse_qsl(location.query, keep_blank_values=True))


def independent_hmac(params: dict[str, str], secret: str) -> str:
    message = "&".join(f"{k}={v}" for k, v in sorted(params.items()) if k != "hmac")
    return hmac.new(secret.encode(), message.encode(), hashlib.sha256).hexdigest()


# The callback signature ------------------------------------------------------------------------


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
             "state": "0.6784241404160823", "timestamp": "1337178173",
             "hmac": "ignored", "signature": "ignored"},
            "700e2dadb827fcc8609e9d5ce208b2e9cdaab9df07390d2cbca10d7c328fc4bf",
        ),
        (
            {"code": "0907a61c0c8d55e99db179b68161bc00", "shop": "some-shop.myshopify.com",
             "timestamp": "1337178173"},
            "4712bf92ffc2917d15a2f5a273e39f0116667419aa4b6ac0b3baaf26fa3c4d20",
        ),
    ],
)  # fmt: skip
def test_callback_hmac_reproduces_shopifys_test_vectors(
    params: dict[str, str], expected: str
) -> None:
    assert oauth_query_hmac(params, "hush") == expected


def test_scripted_approve_redirects_with_a_callback_that_verifies(oauth: OAuthSandbox) -> None:
    params = callback_params(oauth.authorize(approve="true"))
    assert set(params) == {"code", "hmac", "host", "shop", "state", "timestamp"}
    assert (params["shop"], params["state"]) == (oauth.shop, "nonce-42")
    assert int(params["timestamp"]) == int(FROZEN_NOW.timestamp())
    assert re.fullmatch(r"[0-9a-f]{64}", params["hmac"])
    assert params["hmac"] == independent_hmac(params, oauth.client_secret)
    for name in ("code", "shop", "state", "timestamp"):
        tampered = {**params, name: params[name] + "x"}
        assert tampered["hmac"] != independent_hmac(tampered, oauth.client_secret)
    assert params["hmac"] != independent_hmac(params, oauth.client_secret + "x")


class FormReader(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.action = ""
        self.fields: dict[str, str] = {}

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        found = {k: v or "" for k, v in attrs}
        if tag == "form":
            self.action = found["action"]
        if tag == "input" and "name" in found:
            self.fields[found["name"]] = found.get("value", "")


def test_the_install_page_lists_the_scopes_and_its_form_installs(oauth: OAuthSandbox) -> None:
    page = oauth.authorize()
    assert page.status_code == 200 and page.headers["content-type"].startswith("text/html")
    assert "read_orders" in page.text and "read_products" in page.text
    form = FormReader()
    form.feed(page.text)
    assert form.fields["approve"] == "true"
    submitted = oauth.http.get(oauth.base_url + form.action, params=form.fields)
    assert callback_params(submitted)["state"] == "nonce-42"


@pytest.mark.parametrize(
    ("params", "status", "error"),
    [
        ({"client_id": "not-our-app"}, 400, "invalid_request"),
        ({"scope": "read_orders,read_everything"}, 400, "invalid_scope"),
        ({"redirect_uri": "not a url"}, 400, "invalid_request"),
        ({"grant_options[]": "per-user"}, 400, "invalid_request"),
    ],
)
def test_bad_authorize_requests_are_refused(
    oauth: OAuthSandbox, params: dict[str, str], status: int, error: str
) -> None:
    response = oauth.authorize(approve="true", **params)
    assert (response.status_code, response.json()["error"]) == (status, error)


def test_an_unknown_shop_cannot_install(oauth: OAuthSandbox) -> None:
    response = oauth.http.get(
        oauth.url("/admin/oauth/authorize", "no-such-shop"),
        params={"client_id": oauth.client_id, "redirect_uri": REDIRECT_URI, "approve": "true"},
        headers={"accept": "text/html"},
    )
    assert response.status_code == 404 and "Oauth error" in response.text


# The token endpoint ----------------------------------------------------------------------------


def test_a_code_buys_one_non_expiring_token_as_shopifyapi_posts_it(oauth: OAuthSandbox) -> None:
    code = oauth.code()
    reply = oauth.token({**oauth.credentials(), "code": code}, as_json=False)
    assert reply.status_code == 200
    body = reply.json()
    assert set(body) == {"access_token", "scope"} and body["scope"] == SCOPES
    assert body["access_token"].startswith("shpat_")
    assert oauth.shop_json(body["access_token"]).json()["shop"]["myshopify_domain"] == oauth.shop
    oauth.clock.advance(days=30)
    assert oauth.shop_json(body["access_token"]).status_code == 200
    again = oauth.token({**oauth.credentials(), "code": code})
    assert (again.status_code, again.json()["error"]) == (400, "invalid_request")


def test_non_expiring_public_app_tokens_stop_at_the_start_of_2027(oauth: OAuthSandbox) -> None:
    token = oauth.token({**oauth.credentials(), "code": oauth.code()}).json()["access_token"]
    custom = oauth.sandbox.shopify_tokens.custom_apps[oauth.shop].access_token
    oauth.clock.moment = datetime.fromisoformat("2026-12-31T23:59:59+00:00")
    assert oauth.shop_json(token).status_code == 200
    oauth.clock.advance(seconds=1)
    assert (oauth.shop_json(token).status_code, oauth.shop_json(token).json()) == (
        401,
        INVALID_TOKEN,
    )
    assert oauth.shop_json(custom).status_code == 200, "custom apps are exempt"


def test_an_expiring_token_stops_after_its_hour_and_a_refresh_gives_a_new_pair(
    oauth: OAuthSandbox,
) -> None:
    first = oauth.token({**oauth.credentials(), "code": oauth.code(), "expiring": "1"}).json()
    assert first["expires_in"] == 3600 and first["refresh_token_expires_in"] == 90 * 86400
    assert first["refresh_token"].startswith("shprt_")
    oauth.clock.advance(minutes=59, seconds=59)
    assert oauth.shop_json(first["access_token"]).status_code == 200
    oauth.clock.advance(seconds=1)
    expired = oauth.shop_json(first["access_token"])
    assert (expired.status_code, expired.json()) == (401, INVALID_TOKEN)
    refresh = {**oauth.credentials(), "grant_type": "refresh_token"}
    second = oauth.token({**refresh, "refresh_token": first["refresh_token"]}).json()
    assert second["access_token"] != first["access_token"]
    assert second["refresh_token"] != first["refresh_token"]
    assert second["expires_in"] == 3600 and second["scope"] == SCOPES
    assert oauth.shop_json(second["access_token"]).status_code == 200


def test_the_previous_refresh_token_serves_until_the_new_one_is_used(oauth: OAuthSandbox) -> None:
    refresh = {**oauth.credentials(), "grant_type": "refresh_token"}

    def use(token: str) -> httpx.Response:
        return oauth.token({**refresh, "refresh_token": token})

    one = oauth.token({**oauth.credentials(), "code": oauth.code(), "expiring": "1"}).json()
    two = use(one["refresh_token"]).json()
    three = use(one["refresh_token"])
    assert three.status_code == 200, "the reply with token two may have been lost"
    assert use(two["refresh_token"]).json()["error"] == "invalid_grant"
    four = use(three.json()["refresh_token"])
    assert four.status_code == 200
    stale = use(one["refresh_token"])
    assert (stale.status_code, stale.json()["error"]) == (400, "invalid_grant")


def test_refresh_tokens_expire_after_ninety_days(oauth: OAuthSandbox) -> None:
    issued = oauth.token({**oauth.credentials(), "code": oauth.code(), "expiring": "1"}).json()
    oauth.clock.advance(days=90)
    late = oauth.token(
        {
            **oauth.credentials(),
            "grant_type": "refresh_token",
            "refresh_token": issued["refresh_token"],
        }
    )
    assert (late.status_code, late.json()["error"]) == (400, "invalid_grant")


def test_client_credentials_give_a_day_long_token_for_the_named_shop(oauth: OAuthSandbox) -> None:
    body = {**oauth.credentials(), "grant_type": "client_credentials"}
    reply = oauth.token(body).json()
    assert reply["expires_in"] == 86399 and "read_orders" in reply["scope"].split(",")
    assert "refresh_token" not in reply
    assert oauth.shop_json(reply["access_token"]).status_code == 200
    other = oauth.sandbox.world.shops[1].handle
    assert oauth.shop_json(reply["access_token"], other).json() == INVALID_TOKEN
    oauth.clock.advance(seconds=86399)
    assert oauth.shop_json(reply["access_token"]).status_code == 401
    at_root = oauth.http.post(f"{oauth.base_url}/admin/oauth/access_token", json=body)
    assert (at_root.status_code, at_root.json()["error"]) == (400, "invalid_request")


@pytest.mark.parametrize(
    ("body", "status", "error"),
    [
        ({"client_secret": "shpss_wrong"}, 401, "invalid_client"),
        ({"client_id": "someone-else"}, 401, "invalid_client"),
        ({"grant_type": "password"}, 400, "unsupported_grant_type"),
        ({"code": "never-issued"}, 400, "invalid_request"),
        ({"grant_type": "refresh_token", "refresh_token": "shprt_never"}, 400, "invalid_grant"),
    ],
)
def test_bad_token_requests_get_oauth_errors(
    oauth: OAuthSandbox, body: dict[str, str], status: int, error: str
) -> None:
    reply = oauth.token({**oauth.credentials(), "code": oauth.code(), **body})
    assert (reply.status_code, reply.json()["error"]) == (status, error)
    assert oauth.client_secret not in reply.text


def test_a_code_works_at_the_root_but_not_at_another_shop(oauth: OAuthSandbox) -> None:
    other = oauth.sandbox.world.shops[1].handle
    elsewhere = oauth.http.post(
        oauth.url("/admin/oauth/access_token", other),
        json={**oauth.credentials(), "code": oauth.code()},
    )
    assert elsewhere.status_code == 400
    root = oauth.http.post(
        f"{oauth.base_url}/admin/oauth/access_token",
        json={**oauth.credentials(), "code": oauth.code()},
    )
    assert root.status_code == 200
    assert oauth.shop_json(root.json()["access_token"]).status_code == 200


# Scopes and revocation -------------------------------------------------------------------------


def test_access_scopes_list_what_was_granted_and_missing_ones_get_403(oauth: OAuthSandbox) -> None:
    token = oauth.token({**oauth.credentials(), "code": oauth.code()}).json()["access_token"]
    headers = {"X-Shopify-Access-Token": token}
    scopes = oauth.http.get(oauth.url("/admin/oauth/access_scopes.json"), headers=headers)
    assert scopes.json() == {
        "access_scopes": [{"handle": "read_orders"}, {"handle": "read_products"}]
    }
    levels = oauth.http.get(oauth.url("/admin/api/2026-10/locations.json"), headers=headers)
    assert levels.status_code == 403
    assert levels.json() == {
        "errors": "[API] This action requires merchant approval for read_locations scope."
    }


def test_revoking_the_apps_access_ends_every_token_of_the_shop(oauth: OAuthSandbox) -> None:
    first = oauth.token({**oauth.credentials(), "code": oauth.code(), "expiring": "1"}).json()
    second = oauth.token({**oauth.credentials(), "code": oauth.code()}).json()
    custom = oauth.sandbox.shopify_tokens.custom_apps[oauth.shop].access_token
    revoked = oauth.http.delete(
        oauth.url("/admin/api_permissions/current.json"),
        headers={"X-Shopify-Access-Token": first["access_token"]},
    )
    assert (revoked.status_code, revoked.json()) == (200, {})
    for token in (first["access_token"], second["access_token"]):
        assert (oauth.shop_json(token).status_code, oauth.shop_json(token).json()) == (
            401,
            INVALID_TOKEN,
        )
    assert oauth.shop_json(custom).status_code == 200, "the shop's own custom app is unaffected"
    refreshed = oauth.token(
        {
            **oauth.credentials(),
            "grant_type": "refresh_token",
            "refresh_token": first["refresh_token"],
        }
    )
    assert refreshed.json()["error"] == "invalid_grant"


def test_no_token_or_secret_reaches_the_logs(
    oauth: OAuthSandbox, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    issued: dict[str, Any] = oauth.token(
        {**oauth.credentials(), "code": oauth.code(), "expiring": "1"}
    ).json()
    oauth.shop_json(issued["access_token"])
    oauth.shop_json("shpat_wrong")
    oauth.token({**oauth.credentials(), "grant_type": "refresh_token", "refresh_token": "x"})
    text = caplog.text
    assert "authorization code issued" in text
    for secret in (issued["access_token"], issued["refresh_token"], oauth.client_secret):
        assert secret not in text
