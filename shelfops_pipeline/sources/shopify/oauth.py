"""Shopify's OAuth from the client side: shop domains, the authorize URL, the signed callback,
and the token endpoint's three grants (authorization code, refresh token, client credentials).

Shops are `<name>.myshopify.com`, nothing else. The app reaches a shop through a base URL
template: `https://{shop}` in production, or our sandbox, e.g. `http://127.0.0.1:8750/shopify/
{handle}` (`{shop}` is the domain, `{handle}` the name before `.myshopify.com`); anything that
is neither https nor loopback is refused.

Offline tokens are asked for expiring (`expiring=1`): a 1-hour access token and a 90-day refresh
token that Shopify rotates on every use. A refresh response lost on the way cannot lock the shop
out: nothing is stored until a whole reply is in hand, and the refresh token we still hold stays
valid until its successor is first used (api-notes section 6), which only we could have done, so
retrying with it (here, and on the next run) is always safe. The refresher runs the call and the
write in one BEGIN IMMEDIATE transaction, so no two callers spend the same refresh token.

The client-credentials grant (a merchant's own app) yields a 24-hour token and no refresh token;
the app's id and secret are kept, encrypted, in the refresh token's place, and renewing the token
runs the grant again.
"""

import hashlib
import hmac
import logging
import os
import re
import time
import urllib.error
import urllib.request
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import timedelta
from types import TracebackType
from typing import Any, Literal
from urllib.parse import urlencode

import httpx
from tenacity import (
    Retrying,
    before_sleep_log,
    retry_if_exception_type,
    stop_after_attempt,
    stop_after_delay,
    wait_exponential_jitter,
)
from tenacity.wait import wait_base

from shelfops_pipeline.credentials.database import utc_now
from shelfops_pipeline.credentials.errors import (
    CredentialError,
    OAuthError,
    OAuthUnavailable,
    RefreshRejected,
)
from shelfops_pipeline.credentials.models import TokenSet
from shelfops_pipeline.credentials.secret import Secret
from shelfops_pipeline.credentials.urls import is_loopback, refuse_user_info, secure_base_url

logger = logging.getLogger(__name__)

SOURCE: Literal["shopify"] = "shopify"
PRODUCTION_BASE_URL = "https://{shop}"
CLIENT_ID_ENV = "SHELFOPS_SHOPIFY_CLIENT_ID"
CLIENT_SECRET_ENV = "SHELFOPS_SHOPIFY_CLIENT_SECRET"
BASE_URL_ENV = "SHELFOPS_SHOPIFY_BASE_URL"
SHOP_SUFFIX = ".myshopify.com"
# What the Shopify assets read; orders older than 60 days need read_all_orders.
DEFAULT_SCOPES = (
    "read_products",
    "read_orders",
    "read_all_orders",
    "read_inventory",
    "read_locations",
)
# Expiring offline tokens live 1 hour: renew when under 10 minutes remain.
REFRESH_THRESHOLD = timedelta(minutes=10)
TIMEOUT = httpx.Timeout(10.0, connect=5.0)
RETRY_ATTEMPTS = 4
RETRY_BUDGET_SECONDS = 15.0
TOKEN_PATH = "/admin/oauth/access_token"
HANDLE_PATTERN = re.compile(r"[a-z0-9][a-z0-9-]*")
HMAC_PATTERN = re.compile(r"[0-9a-f]{64}")
CLIENT_CREDENTIALS_TAG = "client_credentials:"
RESTART_HINT = "start again with `shelfops connect shopify`"


class _Transient(Exception):
    """A reply worth retrying: 5xx or a body that is not a JSON object."""


def shop_domain(name: str) -> str:
    """`harbor-pantry` or `harbor-pantry.myshopify.com` -> `harbor-pantry.myshopify.com`;
    CredentialError for anything else (another domain, a URL, a path)."""
    text = name.strip().lower()
    handle = text.removesuffix(SHOP_SUFFIX)
    if not HANDLE_PATTERN.fullmatch(handle):
        raise CredentialError(
            f"refusing the shop {name!r}: a Shopify shop is <name>.myshopify.com (letters, "
            "digits and hyphens); pass --shop <name> or --shop <name>.myshopify.com"
        )
    return handle + SHOP_SUFFIX


def shop_handle(domain: str) -> str:
    return shop_domain(domain).removesuffix(SHOP_SUFFIX)


def configured_base_url(base_url: str | None = None) -> str:
    """The base URL template: `base_url`, else SHELFOPS_SHOPIFY_BASE_URL, else production."""
    return base_url or os.environ.get(BASE_URL_ENV) or PRODUCTION_BASE_URL


def shop_base_url(template: str, shop: str) -> str:
    """Where `shop` (a validated myshopify domain) is reached under the base URL `template`;
    CredentialError unless the template names the shop, InsecureURL unless https or loopback."""
    refuse_user_info(template, "Shopify base URL")
    if "{shop}" not in template and "{handle}" not in template:
        raise CredentialError(
            f"the Shopify base URL {template!r} must name the shop as {{shop}} or {{handle}}, "
            "e.g. https://{shop} or http://127.0.0.1:8750/shopify/{handle}"
        )
    domain = shop_domain(shop)
    url = template.replace("{shop}", domain).replace("{handle}", shop_handle(domain))
    return secure_base_url(url, "Shopify base URL")


@dataclass(frozen=True)
class ShopifyApp:
    """The app's credentials and the base URL template its shops are reached at."""

    client_id: str
    client_secret: Secret
    base_url: str = PRODUCTION_BASE_URL

    def __post_init__(self) -> None:
        self.shop_url("example.myshopify.com")

    @classmethod
    def configured(
        cls,
        client_id: str | None = None,
        client_secret: str | None = None,
        base_url: str | None = None,
    ) -> "ShopifyApp":
        """From the arguments, else SHELFOPS_SHOPIFY_CLIENT_ID/_CLIENT_SECRET/_BASE_URL."""
        client_id = client_id or os.environ.get(CLIENT_ID_ENV)
        client_secret = client_secret or os.environ.get(CLIENT_SECRET_ENV)
        if not client_id or not client_secret:
            missing = [
                f"{name} (or --{flag})"
                for name, flag, value in (
                    (CLIENT_ID_ENV, "client-id", client_id),
                    (CLIENT_SECRET_ENV, "client-secret", client_secret),
                )
                if not value
            ]
            raise CredentialError(
                f"the Shopify app credentials are missing: set {' and '.join(missing)}, from the "
                "app's settings in Shopify's Dev Dashboard"
            )
        return cls(client_id, Secret(client_secret), configured_base_url(base_url))

    def shop_url(self, shop: str) -> str:
        return shop_base_url(self.base_url, shop)


def _escape(text: str, key: bool) -> str:
    text = text.replace("%", "%25").replace("&", "%26")
    return text.replace("=", "%3D") if key else text


def callback_hmac(params: Mapping[str, str], secret: Secret) -> str:
    """Hex HMAC-SHA256 of the query without `hmac` and `signature`, sorted by key (api-notes
    section 6; ShopifyAPI `calculate_hmac`)."""
    message = "&".join(
        f"{name}={value}"
        for name, value in sorted(
            (_escape(name, True), _escape(value, False))
            for name, value in params.items()
            if name not in ("hmac", "signature")
        )
    )
    return hmac.new(secret.reveal().encode(), message.encode(), hashlib.sha256).hexdigest()


def verify_callback(params: Mapping[str, str], secret: Secret, shop: str) -> None:
    """OAuthError unless the callback is signed with the app's secret and is for `shop`.

    The `timestamp` is not checked for freshness: the `state`, checked after this, is single use
    and lives 10 minutes, which bounds replays more tightly.
    """
    signature = params.get("hmac", "")
    expected = callback_hmac(params, secret)
    if not HMAC_PATTERN.fullmatch(signature) or not hmac.compare_digest(signature, expected):
        logger.warning("refused a Shopify OAuth callback: bad hmac")
        raise OAuthError(
            f"the callback's hmac does not match its query (tampered, or signed by another app); "
            f"{RESTART_HINT}"
        )
    if params.get("shop") != shop:
        logger.warning("refused a Shopify OAuth callback for another shop")
        raise OAuthError(
            f"the callback is for shop {params.get('shop')!r}, not {shop!r}; {RESTART_HINT}"
        )


def authorize_url(
    shop_url: str, client_id: str, scopes: Sequence[str], state: str, redirect_uri: str
) -> str:
    """Where the merchant installs the app: an offline grant (no `grant_options[]`), scopes
    comma-separated, as Shopify expects."""
    params = {
        "client_id": client_id,
        "scope": ",".join(scopes),
        "redirect_uri": redirect_uri,
        "state": state,
    }
    return f"{shop_url}/admin/oauth/authorize?{urlencode(params)}"


def client_credentials_secret(client_id: str, client_secret: Secret) -> Secret:
    """The custom app's credentials, packed to be stored in the refresh token's place."""
    return Secret(f"{CLIENT_CREDENTIALS_TAG}{client_id}:{client_secret.reveal()}")


def _unpack_client_credentials(stored: Secret) -> tuple[str, Secret] | None:
    text = stored.reveal()
    if not text.startswith(CLIENT_CREDENTIALS_TAG):
        return None
    client_id, _, secret = text.removeprefix(CLIENT_CREDENTIALS_TAG).partition(":")
    return client_id, Secret(secret)


def renewing_app(
    stored: Secret,
    client_id: str | None = None,
    client_secret: str | None = None,
    base_url: str | None = None,
) -> ShopifyApp:
    """The app that renews a connection whose renewal secret is `stored`: the merchant's own
    app for a client-credentials connection, else the configured one."""
    packed = _unpack_client_credentials(stored)
    if packed is None:
        return ShopifyApp.configured(client_id, client_secret, base_url)
    return ShopifyApp(packed[0], packed[1], configured_base_url(base_url))


def _scrub(text: str, hidden: Sequence[Secret | None]) -> str:
    for secret in hidden:
        if secret is not None:
            text = text.replace(secret.reveal(), str(secret))
    return text


def _refusal_text(reply: httpx.Response, hidden: Sequence[Secret | None]) -> str:
    try:
        body = reply.json()
    except ValueError:
        body = None
    if not isinstance(body, dict):
        return f"HTTP {reply.status_code}"
    error = body.get("error") or body.get("errors") or "unknown"
    description = body.get("error_description", "")
    return _scrub(f"HTTP {reply.status_code} {error}: {description}".rstrip(": "), hidden)


class ShopifyOAuth:
    """Shopify's token endpoint for one app and one shop."""

    source: Literal["shopify"] = SOURCE

    def __init__(
        self,
        app: ShopifyApp,
        shop: str,
        scopes: Sequence[str] = DEFAULT_SCOPES,
        transport: httpx.BaseTransport | None = None,
        retry_wait: wait_base | None = None,
    ) -> None:
        self.app = app
        self.shop = shop_domain(shop)
        self.shop_url = app.shop_url(self.shop)
        self.scopes = tuple(scopes)
        self._wait = retry_wait or wait_exponential_jitter(multiplier=0.25, max=4.0)
        self._http = httpx.Client(base_url=self.shop_url, timeout=TIMEOUT, transport=transport)

    def close(self) -> None:
        self._http.close()

    def __enter__(self) -> "ShopifyOAuth":
        return self

    def __exit__(
        self,
        kind: type[BaseException] | None,
        error: BaseException | None,
        trace: TracebackType | None,
    ) -> None:
        self.close()

    def authorize_url(self, state: str, redirect_uri: str) -> str:
        return authorize_url(self.shop_url, self.app.client_id, self.scopes, state, redirect_uri)

    def _send(self, body: dict[str, str]) -> tuple[httpx.Response, dict[str, Any]]:
        started = time.monotonic()
        reply = self._http.post(TOKEN_PATH, json=body)
        logger.debug(
            "shopify oauth POST %s%s -> %d in %.3f s",
            self.shop,
            TOKEN_PATH,
            reply.status_code,
            time.monotonic() - started,
        )
        if reply.status_code >= 500:
            raise _Transient(f"Shopify answered {reply.status_code} to POST {TOKEN_PATH}")
        if not reply.is_success:
            return reply, {}
        try:
            data = reply.json()
        except ValueError as error:
            raise _Transient(f"Shopify's reply to POST {TOKEN_PATH} is not JSON") from error
        if not isinstance(data, dict):
            raise _Transient(f"Shopify's reply to POST {TOKEN_PATH} is not a JSON object")
        return reply, data

    def _post(
        self, body: dict[str, str], hidden: Sequence[Secret | None]
    ) -> tuple[httpx.Response, dict[str, Any]]:
        """POST the token endpoint, retrying transport errors, 5xx and broken bodies: safe for
        every grant, a refresh included (see the module docstring)."""
        retrying = Retrying(
            retry=retry_if_exception_type((httpx.TransportError, _Transient)),
            stop=stop_after_attempt(RETRY_ATTEMPTS) | stop_after_delay(RETRY_BUDGET_SECONDS),
            wait=self._wait,
            before_sleep=before_sleep_log(logger, logging.DEBUG),
            reraise=True,
        )
        try:
            return retrying(self._send, body)
        except (httpx.TransportError, _Transient) as error:
            detail = _scrub(str(error), hidden) or type(error).__name__
            raise OAuthUnavailable(
                f"Shopify OAuth for {self.shop} failed for POST {TOKEN_PATH} after retries: "
                f"{detail}; check the network and https://www.shopifystatus.com, then retry"
            ) from None

    def _token_set(self, data: dict[str, Any], keep: Secret | None = None) -> TokenSet:
        """The reply's tokens; `keep` stands in for the refresh token when none is sent."""
        access_token, refresh_token = data.get("access_token"), data.get("refresh_token")
        if not isinstance(access_token, str) or not access_token:
            raise OAuthError(f"Shopify's token reply for {self.shop} carried no access_token")
        now = utc_now()
        expires_in, refresh_expires_in = (
            data.get("expires_in"),
            data.get("refresh_token_expires_in"),
        )
        has_refresh = isinstance(refresh_token, str) and bool(refresh_token)
        return TokenSet(
            access_token=Secret(access_token),
            expires_at=now + timedelta(seconds=expires_in) if isinstance(expires_in, int) else None,
            refresh_token=Secret(refresh_token) if has_refresh else keep,
            refresh_token_expires_at=(
                now + timedelta(seconds=refresh_expires_in)
                if has_refresh and isinstance(refresh_expires_in, int)
                else None
            ),
        )

    def _app_body(self, client_id: str, client_secret: Secret) -> dict[str, str]:
        return {"client_id": client_id, "client_secret": client_secret.reveal()}

    def exchange_code(self, code: Secret) -> tuple[tuple[str, ...], TokenSet]:
        """The authorization-code grant for an expiring offline token: scopes and tokens."""
        body = {
            **self._app_body(self.app.client_id, self.app.client_secret),
            "code": code.reveal(),
            "expiring": "1",
        }
        hidden = (code, self.app.client_secret)
        reply, data = self._post(body, hidden)
        if not reply.is_success:
            raise OAuthError(
                f"Shopify refused the authorization code for {self.shop} "
                f"({_refusal_text(reply, hidden)}); {RESTART_HINT}"
            )
        return self._scopes(data), self._token_set(data)

    def client_credentials(
        self, client_id: str | None = None, client_secret: Secret | None = None
    ) -> tuple[tuple[str, ...], TokenSet]:
        """The client-credentials grant of a merchant's own app (default: this app); the
        token set keeps the app's credentials in place of a refresh token."""
        client_id = client_id or self.app.client_id
        client_secret = client_secret or self.app.client_secret
        body = {**self._app_body(client_id, client_secret), "grant_type": "client_credentials"}
        hidden = (client_secret,)
        reply, data = self._post(body, hidden)
        if not reply.is_success:
            raise OAuthError(
                f"Shopify refused the client-credentials grant for {self.shop} "
                f"({_refusal_text(reply, hidden)}); check the app's client id and secret and "
                "that it is installed on the shop"
            )
        keep = client_credentials_secret(client_id, client_secret)
        return self._scopes(data), self._token_set(data, keep=keep)

    def refresh(self, refresh_token: Secret) -> TokenSet:
        """A new access token from the stored renewal secret: the refresh-token grant, or the
        client-credentials grant again for a merchant's own app. RefreshRejected when Shopify
        no longer honours it."""
        packed = _unpack_client_credentials(refresh_token)
        if packed is not None:
            try:
                return self.client_credentials(*packed)[1]
            except OAuthUnavailable:
                raise
            except OAuthError as error:
                raise RefreshRejected(str(error)) from None
        body = {
            **self._app_body(self.app.client_id, self.app.client_secret),
            "grant_type": "refresh_token",
            "refresh_token": refresh_token.reveal(),
        }
        hidden = (refresh_token, self.app.client_secret)
        reply, data = self._post(body, hidden)
        if reply.is_success:
            return self._token_set(data)
        refusal = (
            f"Shopify refused the refresh token of {self.shop} ({_refusal_text(reply, hidden)})"
        )
        if reply.status_code == 401:
            raise OAuthError(f"{refusal}; check {CLIENT_ID_ENV} and {CLIENT_SECRET_ENV}")
        raise RefreshRejected(refusal)

    @staticmethod
    def _scopes(data: dict[str, Any]) -> tuple[str, ...]:
        scope = data.get("scope")
        if not isinstance(scope, str):
            return ()
        return tuple(s.strip() for s in scope.split(",") if s.strip())


class _KeepRedirects(urllib.request.HTTPRedirectHandler):
    def redirect_request(self, *args: Any, **kwargs: Any) -> None:
        return None


def approve_in_sandbox(url: str) -> None:
    """Our sandbox's scripted install: approve `url` (`approve=true`, a sandbox addition) and
    deliver the signed redirect to the loopback callback server."""
    # urllib, not httpx: httpx and httpcore log URLs, and the redirect carries the code.
    opener = urllib.request.build_opener(urllib.request.ProxyHandler({}), _KeepRedirects())
    approval = str(httpx.URL(url).copy_merge_params({"approve": "true"}))
    try:
        with opener.open(approval, timeout=TIMEOUT.read):
            raise OAuthError("the sandbox showed its install page; is the base URL ours?")
    except urllib.error.HTTPError as error:
        with error:
            if error.code != 302:
                raise OAuthError(
                    f"the sandbox refused the scripted install (HTTP {error.code})"
                ) from None
            location = httpx.URL(error.headers.get("Location", ""))
    except (urllib.error.URLError, OSError) as error:
        raise OAuthUnavailable(
            f"the scripted install could not reach the sandbox: {type(error).__name__}"
        ) from None
    if location.scheme != "http" or not is_loopback(location.host):
        raise OAuthError("the scripted install redirected off this machine; refusing to follow")
    try:
        with opener.open(str(location), timeout=TIMEOUT.read) as answer:
            answer.read()
    except urllib.error.HTTPError as error:
        with error:
            reason = error.headers.get("X-ShelfOps-Refusal", f"HTTP {error.code}")
        raise OAuthError(f"the callback server refused the scripted install: {reason}") from None
    except (urllib.error.URLError, OSError) as error:
        raise OAuthUnavailable(
            f"the scripted install could not reach the callback server: {type(error).__name__}"
        ) from None
