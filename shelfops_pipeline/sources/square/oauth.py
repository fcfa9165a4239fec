"""Square's OAuth API from the client side: authorize URL, ObtainToken (code and refresh
grants), RetrieveTokenStatus and RevokeToken.

The base URL may be production (https://connect.squareup.com), Square's sandbox
(https://connect.squareupsandbox.com) or ours (http://127.0.0.1:PORT/square); anything that is
neither https nor loopback is refused. The code flow keeps one multi-use refresh token; the PKCE
flow rotates a single-use one on every refresh; `refresh` returns whichever Square sent.

Calls retry with tenacity on transport errors, 5xx and undecodable bodies: up to RETRY_ATTEMPTS
attempts within RETRY_BUDGET_SECONDS, exponential back-off with jitter. 4xx are not retried.
Until the shared HTTP layer takes these calls over, they run on a plain httpx.Client whose
transport can be injected.
"""

import base64
import hashlib
import json
import logging
import os
import secrets
import time
import urllib.error
import urllib.request
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
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

from shelfops_pipeline.credentials.connect import Authorization, PendingAuthorization
from shelfops_pipeline.credentials.errors import (
    CredentialError,
    OAuthError,
    OAuthUnavailable,
    RefreshRejected,
)
from shelfops_pipeline.credentials.models import TokenSet
from shelfops_pipeline.credentials.secret import Secret
from shelfops_pipeline.credentials.urls import is_loopback, secure_base_url

logger = logging.getLogger(__name__)

PRODUCTION_BASE_URL = "https://connect.squareup.com"
SQUARE_SANDBOX_BASE_URL = "https://connect.squareupsandbox.com"
CLIENT_ID_ENV = "SHELFOPS_SQUARE_CLIENT_ID"
CLIENT_SECRET_ENV = "SHELFOPS_SQUARE_CLIENT_SECRET"
BASE_URL_ENV = "SHELFOPS_SQUARE_BASE_URL"
# What the Square assets read: locations, catalog, inventory, orders (and their tenders).
DEFAULT_SCOPES = (
    "MERCHANT_PROFILE_READ",
    "ITEMS_READ",
    "INVENTORY_READ",
    "ORDERS_READ",
    "PAYMENTS_READ",
)
# Square recommends renewing access tokens every 7 days or less.
REFRESH_THRESHOLD = timedelta(days=7)
TIMEOUT = httpx.Timeout(10.0, connect=5.0)
RETRY_ATTEMPTS = 4
RETRY_BUDGET_SECONDS = 15.0
APP_CREDENTIAL_FIELDS = ("client_id", "client_secret")


class _Transient(Exception):
    """A reply worth retrying: 5xx or a body that is not JSON."""


@dataclass(frozen=True)
class SquareApp:
    """The OAuth application's credentials and the Square host it talks to."""

    client_id: str
    client_secret: Secret
    base_url: str = PRODUCTION_BASE_URL

    def __post_init__(self) -> None:
        object.__setattr__(self, "base_url", secure_base_url(self.base_url, "Square base URL"))

    @classmethod
    def configured(
        cls,
        client_id: str | None = None,
        client_secret: str | None = None,
        base_url: str | None = None,
    ) -> "SquareApp":
        """From the arguments, else SHELFOPS_SQUARE_CLIENT_ID/_CLIENT_SECRET/_BASE_URL."""
        client_id = client_id or os.environ.get(CLIENT_ID_ENV)
        client_secret = client_secret or os.environ.get(CLIENT_SECRET_ENV)
        missing = [
            f"{name} (or --{flag})"
            for name, flag, value in (
                (CLIENT_ID_ENV, "client-id", client_id),
                (CLIENT_SECRET_ENV, "client-secret", client_secret),
            )
            if not value
        ]
        if not client_id or not client_secret:
            raise CredentialError(
                f"the Square app credentials are missing: set {' and '.join(missing)}, from the "
                "app's OAuth page in Square's Developer Console"
            )
        url = base_url or os.environ.get(BASE_URL_ENV) or PRODUCTION_BASE_URL
        return cls(client_id, Secret(client_secret), url)


@dataclass(frozen=True)
class TokenStatus:
    """RetrieveTokenStatus: whose token it is, what it may do, when it expires."""

    merchant_id: str
    client_id: str
    scopes: tuple[str, ...]
    expires_at: datetime | None


def pkce_pair() -> tuple[Secret, str]:
    """A fresh code_verifier and its S256 code_challenge (RFC 7636)."""
    verifier = secrets.token_urlsafe(64)
    digest = hashlib.sha256(verifier.encode("ascii")).digest()
    return Secret(verifier), base64.urlsafe_b64encode(digest).decode("ascii").rstrip("=")


def authorize_url(
    base_url: str,
    client_id: str,
    scopes: Sequence[str],
    state: str,
    redirect_uri: str,
    code_challenge: str | None = None,
) -> str:
    """Where the seller approves the app; scopes are space-separated, as Square expects."""
    params = {
        "client_id": client_id,
        "scope": " ".join(scopes),
        "state": state,
        "redirect_uri": redirect_uri,
    }
    if code_challenge is not None:
        params["code_challenge"] = code_challenge
    base = secure_base_url(base_url, "Square base URL")
    return f"{base}/oauth2/authorize?{urlencode(params)}"


def _timestamp(reply: dict[str, Any], name: str) -> datetime | None:
    value = reply.get(name)
    return datetime.fromisoformat(value) if isinstance(value, str) else None


def _token_set(reply: dict[str, Any]) -> TokenSet:
    access_token, refresh_token = reply.get("access_token"), reply.get("refresh_token")
    if not isinstance(access_token, str) or not access_token:
        raise OAuthError("Square's ObtainToken reply carried no access_token")
    return TokenSet(
        access_token=Secret(access_token),
        expires_at=_timestamp(reply, "expires_at"),
        refresh_token=Secret(refresh_token)
        if isinstance(refresh_token, str) and refresh_token
        else None,
        refresh_token_expires_at=_timestamp(reply, "refresh_token_expires_at"),
    )


def _first_error(reply: httpx.Response) -> dict[str, Any]:
    try:
        errors = reply.json().get("errors")
    except (ValueError, AttributeError):
        errors = None
    if isinstance(errors, list) and errors and isinstance(errors[0], dict):
        return errors[0]
    return {}


def _scrub(text: str, hidden: Sequence[Secret | None]) -> str:
    """`text` with every revealed secret replaced by ***, in case a reply echoes one."""
    for secret in hidden:
        if secret is not None:
            text = text.replace(secret.reveal(), str(secret))
    return text


class SquareOAuth:
    """Square's OAuth endpoints for one app; also the connect flow's provider for `square`."""

    source: Literal["square"] = "square"

    def __init__(
        self,
        app: SquareApp,
        scopes: Sequence[str] = DEFAULT_SCOPES,
        pkce: bool = False,
        transport: httpx.BaseTransport | None = None,
        retry_wait: wait_base | None = None,
    ) -> None:
        self.app = app
        self.scopes = tuple(scopes)
        self.pkce = pkce
        self._wait = retry_wait or wait_exponential_jitter(multiplier=0.25, max=4.0)
        self._http = httpx.Client(base_url=app.base_url, timeout=TIMEOUT, transport=transport)

    def close(self) -> None:
        self._http.close()

    def __enter__(self) -> "SquareOAuth":
        return self

    def __exit__(
        self,
        kind: type[BaseException] | None,
        error: BaseException | None,
        trace: TracebackType | None,
    ) -> None:
        self.close()

    def begin(self, state: str, redirect_uri: str) -> PendingAuthorization:
        verifier, challenge = pkce_pair() if self.pkce else (None, None)
        url = authorize_url(
            self.app.base_url, self.app.client_id, self.scopes, state, redirect_uri, challenge
        )
        return PendingAuthorization(url, verifier)

    def complete(
        self, code: Secret, redirect_uri: str, pending: PendingAuthorization
    ) -> Authorization:
        """Trade the code for tokens, then ask Square which scopes they carry."""
        merchant_id, tokens = self.exchange_code(code, redirect_uri, pending.code_verifier)
        status = self.token_status(tokens.access_token)
        return Authorization(account=merchant_id, scopes=status.scopes, tokens=tokens)

    def _send(
        self, path: str, body: dict[str, Any], headers: dict[str, str]
    ) -> tuple[httpx.Response, dict[str, Any]]:
        started = time.monotonic()
        reply = self._http.post(path, json=body, headers=headers)
        elapsed = time.monotonic() - started
        logger.debug("square oauth POST %s -> %d in %.3f s", path, reply.status_code, elapsed)
        if reply.status_code >= 500:
            raise _Transient(f"Square answered {reply.status_code} to POST {path}")
        if reply.is_success:
            try:
                data = reply.json()
            except ValueError as error:
                raise _Transient(f"Square's reply to POST {path} is not JSON") from error
            if not isinstance(data, dict):
                raise _Transient(f"Square's reply to POST {path} is not a JSON object")
            return reply, data
        return reply, {}

    def _post(
        self,
        path: str,
        body: dict[str, Any],
        hidden: Sequence[Secret | None],
        headers: dict[str, str] | None = None,
    ) -> tuple[httpx.Response, dict[str, Any]]:
        retrying = Retrying(
            retry=retry_if_exception_type((httpx.TransportError, _Transient)),
            stop=stop_after_attempt(RETRY_ATTEMPTS) | stop_after_delay(RETRY_BUDGET_SECONDS),
            wait=self._wait,
            before_sleep=before_sleep_log(logger, logging.DEBUG),
            reraise=True,
        )
        try:
            return retrying(self._send, path, body, headers or {})
        except (httpx.TransportError, _Transient) as error:
            detail = _scrub(str(error), hidden) or type(error).__name__
            raise OAuthUnavailable(
                f"Square OAuth at {self.app.base_url} failed for POST {path} after retries: "
                f"{detail}; check the network and https://issquareup.com, then retry"
            ) from None

    def _refusal(self, path: str, reply: httpx.Response, hidden: Sequence[Secret | None]) -> str:
        error = _first_error(reply)
        code = error.get("code", "UNKNOWN")
        detail = _scrub(str(error.get("detail", "")), hidden)
        return f"Square refused POST {path} ({reply.status_code} {code}: {detail})"

    def exchange_code(
        self, code: Secret, redirect_uri: str, code_verifier: Secret | None = None
    ) -> tuple[str, TokenSet]:
        """ObtainToken with an authorization code: the merchant id and the tokens."""
        body: dict[str, Any] = {
            "client_id": self.app.client_id,
            "grant_type": "authorization_code",
            "code": code.reveal(),
            "redirect_uri": redirect_uri,
        }
        if code_verifier is not None:
            body["code_verifier"] = code_verifier.reveal()
        else:
            body["client_secret"] = self.app.client_secret.reveal()
        hidden = (code, code_verifier, self.app.client_secret)
        reply, data = self._post("/oauth2/token", body, hidden)
        if not reply.is_success:
            raise OAuthError(
                self._refusal("/oauth2/token", reply, hidden)
                + "; run `shelfops connect square` again"
            )
        merchant_id = data.get("merchant_id")
        if not isinstance(merchant_id, str) or not merchant_id:
            raise OAuthError("Square's ObtainToken reply carried no merchant_id")
        return merchant_id, _token_set(data)

    def refresh(self, refresh_token: Secret) -> TokenSet:
        """ObtainToken with a refresh token; RefreshRejected when Square no longer honours it."""
        body = {
            "client_id": self.app.client_id,
            "client_secret": self.app.client_secret.reveal(),
            "grant_type": "refresh_token",
            "refresh_token": refresh_token.reveal(),
        }
        hidden = (refresh_token, self.app.client_secret)
        reply, data = self._post("/oauth2/token", body, hidden)
        if reply.is_success:
            return _token_set(data)
        refusal = self._refusal("/oauth2/token", reply, hidden)
        app_problem = _first_error(reply).get("field") in APP_CREDENTIAL_FIELDS
        if reply.status_code == 401 and not app_problem:
            raise RefreshRejected(refusal)
        raise OAuthError(
            f"{refusal}; check {CLIENT_ID_ENV} and {CLIENT_SECRET_ENV}" if app_problem else refusal
        )

    def token_status(self, access_token: Secret) -> TokenStatus:
        """RetrieveTokenStatus for `access_token`."""
        hidden = (access_token,)
        headers = {"Authorization": f"Bearer {access_token.reveal()}"}
        reply, data = self._post("/oauth2/token/status", {}, hidden, headers)
        if not reply.is_success:
            raise OAuthError(self._refusal("/oauth2/token/status", reply, hidden))
        scopes = data.get("scopes")
        return TokenStatus(
            merchant_id=str(data.get("merchant_id", "")),
            client_id=str(data.get("client_id", "")),
            scopes=tuple(scopes) if isinstance(scopes, list) else (),
            expires_at=_timestamp(data, "expires_at"),
        )

    def revoke(
        self,
        *,
        access_token: Secret | None = None,
        merchant_id: str | None = None,
        only_access_token: bool = False,
    ) -> None:
        """RevokeToken: every token of the app for the merchant, or only one access token."""
        body: dict[str, Any] = {"client_id": self.app.client_id}
        if access_token is not None:
            body["access_token"] = access_token.reveal()
        if merchant_id is not None:
            body["merchant_id"] = merchant_id
        if only_access_token:
            body["revoke_only_access_token"] = True
        hidden = (access_token, self.app.client_secret)
        headers = {"Authorization": f"Client {self.app.client_secret.reveal()}"}
        reply, _ = self._post("/oauth2/revoke", body, hidden, headers)
        if not reply.is_success:
            raise OAuthError(self._refusal("/oauth2/revoke", reply, hidden))


class _KeepRedirects(urllib.request.HTTPRedirectHandler):
    def redirect_request(self, *args: Any, **kwargs: Any) -> None:
        return None


def _sandbox_refusal(error: urllib.error.HTTPError) -> str:
    try:
        errors = json.loads(error.read()).get("errors") or [{}]
        first = errors[0]
    except (ValueError, AttributeError, IndexError, TypeError):
        first = {}
    return f"{error.code} {first.get('code', 'UNKNOWN')}: {first.get('detail', '')}"


def approve_in_sandbox(url: str, merchant_id: str) -> None:
    """Our sandbox's scripted approval: approve `url` for `merchant_id`, deliver the redirect.

    Only the ShelfOps sandbox knows `approve=true`; it answers 302 to the redirect URI, which
    must be on loopback, and the callback server behind it must accept the reply.
    """
    # urllib, not httpx: httpx and httpcore log URLs and response headers, and the redirect
    # (a Location header, then a URL) carries the authorization code.
    opener = urllib.request.build_opener(urllib.request.ProxyHandler({}), _KeepRedirects())
    approval = str(
        httpx.URL(url).copy_merge_params({"merchant_id": merchant_id, "approve": "true"})
    )
    try:
        with opener.open(approval, timeout=TIMEOUT.read):
            raise OAuthError("the sandbox showed its approval page; is the base URL ours?")
    except urllib.error.HTTPError as error:
        with error:
            if error.code != 302:
                raise OAuthError(
                    f"the sandbox refused the scripted approval ({_sandbox_refusal(error)})"
                ) from None
            location = httpx.URL(error.headers.get("Location", ""))
    except (urllib.error.URLError, OSError) as error:
        raise OAuthUnavailable(
            f"the scripted approval could not reach the sandbox: {type(error).__name__}"
        ) from None
    if location.scheme != "http" or not is_loopback(location.host):
        raise OAuthError("the scripted approval redirected off this machine; refusing to follow")
    try:
        with opener.open(str(location), timeout=TIMEOUT.read) as answer:
            answer.read()
    except urllib.error.HTTPError as error:
        error.close()
        raise OAuthError(
            f"the callback server refused the scripted approval (HTTP {error.code})"
        ) from None
    except (urllib.error.URLError, OSError) as error:
        raise OAuthUnavailable(
            f"the scripted approval could not reach the callback server: {type(error).__name__}"
        ) from None
