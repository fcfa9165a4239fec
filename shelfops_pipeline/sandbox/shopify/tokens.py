"""Who may call the Shopify sandbox: one public app, each shop's custom app, and their tokens.

- Custom apps (one per shop, made in the shop's admin, see `app_credentials`): a static
  `shpat_` token with every read scope that never expires.
- The public app (`application`): authorization-code grant for offline tokens, non-expiring or,
  with `expiring=1`, expiring after 1 hour with a 90-day refresh token that rotates on every use;
  the previous refresh token stays usable until the new one is first used, for at most 30 days
  (api-notes section 6). The client-credentials grant gives a 24-hour token (shopify.dev "Using
  the client credentials grant"; 86399 s as Shopify's replies show). From 2027-01-01 the public
  app's non-expiring tokens are refused, as Shopify announced.
- Shopify does not publish how long an authorization code lives; we assume 10 minutes.

Tokens issued by OAuth are random. No token or secret is ever put into a log line or an error.
"""

import hmac
import logging
import secrets
import threading
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Literal

from shelfops_pipeline.sandbox.shopify.admin_errors import OAuthError, invalid_token, missing_scope
from shelfops_pipeline.sandbox.shopify.app_credentials import (
    CustomApp,
    custom_app,
    public_app_credentials,
)
from shelfops_pipeline.sandbox.shopify.scopes import APP_SCOPES, READ_SCOPES

logger = logging.getLogger(__name__)

EXPIRING_ACCESS_TOKEN_LIFETIME = timedelta(hours=1)
REFRESH_TOKEN_LIFETIME = timedelta(days=90)
PREVIOUS_REFRESH_TOKEN_GRACE = timedelta(days=30)
CLIENT_CREDENTIALS_LIFETIME = timedelta(seconds=86399)
AUTHORIZATION_CODE_LIFETIME = timedelta(minutes=10)
NON_EXPIRING_CUTOFF = datetime(2027, 1, 1, tzinfo=UTC)

TokenKind = Literal["custom_app", "offline", "expiring_offline", "client_credentials"]


@dataclass(frozen=True)
class ShopifyGrant:
    """What a valid access token lets its bearer do, and for which app (rate limits are per app)."""

    shop: str
    scopes: tuple[str, ...]
    app_id: str
    kind: TokenKind
    expires_at: datetime | None

    def allows(self, scope: str) -> bool:
        """Shopify's write scopes include the matching read scope."""
        return scope in self.scopes or scope.replace("read_", "write_", 1) in self.scopes


@dataclass(frozen=True)
class IssuedToken:
    """One access_token reply; the refresh fields are set for expiring offline tokens only."""

    access_token: str = field(repr=False)
    shop: str
    scopes: tuple[str, ...]
    expires_in: int | None
    refresh_token: str | None = field(default=None, repr=False)
    refresh_token_expires_in: int | None = None

    def reply(self) -> dict[str, object]:
        body: dict[str, object] = {
            "access_token": self.access_token,
            "scope": ",".join(self.scopes),
        }
        if self.expires_in is not None:
            body["expires_in"] = self.expires_in
        if self.refresh_token is not None:
            body["refresh_token"] = self.refresh_token
            body["refresh_token_expires_in"] = self.refresh_token_expires_in
        return body


@dataclass
class _Code:
    shop: str
    scopes: tuple[str, ...]
    expires_at: datetime


@dataclass
class _Access:
    grant: ShopifyGrant
    revoked: bool = False


@dataclass
class _Refresh:
    shop: str
    scopes: tuple[str, ...]
    chain: int
    expires_at: datetime
    revoked: bool = False


@dataclass
class _Chain:
    """One installation's refresh tokens: the newest, and the one before it while it may serve."""

    current: str
    previous: str | None = None
    previous_until: datetime | None = None


def _seconds(delta: timedelta) -> int:
    return int(delta.total_seconds())


class ShopifyTokens:
    """Issues, checks and revokes the Shopify sandbox's tokens; safe to share between threads."""

    def __init__(self, seed: int, shops: Iterable[str], now: Callable[[], datetime]) -> None:
        self._now = now
        self._lock = threading.Lock()
        self.shops: tuple[str, ...] = tuple(dict.fromkeys(shops))
        self.application = public_app_credentials(seed)
        self.custom_apps: dict[str, CustomApp] = {
            shop: custom_app(seed, shop) for shop in self.shops
        }
        self._access: dict[str, _Access] = {
            app.access_token: _Access(
                ShopifyGrant(
                    shop,
                    READ_SCOPES,
                    app.credentials.client_id,
                    "custom_app",
                    None,
                )
            )
            for shop, app in self.custom_apps.items()
        }
        self._codes: dict[str, _Code] = {}
        self._refresh: dict[str, _Refresh] = {}
        self._chains: list[_Chain] = []

    def known_shop(self, shop: str) -> bool:
        return shop in self.custom_apps

    # OAuth ---------------------------------------------------------------------------------

    def check_client(self, client_id: str | None, client_secret: str | None) -> None:
        """OAuthError unless these are the public app's client id and secret."""
        app = self.application
        id_ok = hmac.compare_digest((client_id or "").encode(), app.client_id.encode())
        secret_ok = hmac.compare_digest((client_secret or "").encode(), app.client_secret.encode())
        if not (id_ok and secret_ok):
            raise OAuthError("invalid_client", "Client credentials are invalid.", status=401)

    def issue_code(self, shop: str, scopes: tuple[str, ...]) -> str:
        """A merchant approved the public app on `shop`: a single-use authorization code."""
        code = secrets.token_hex(16)
        with self._lock:
            self._codes[code] = _Code(shop, scopes, self._now() + AUTHORIZATION_CODE_LIFETIME)
        logger.info("authorization code issued for %s", shop)
        return code

    def exchange_code(
        self,
        client_id: str | None,
        client_secret: str | None,
        code: str,
        shop: str | None,
        expiring: bool,
    ) -> IssuedToken:
        """The authorization-code grant; `shop` is the host the code is redeemed at, if known."""
        self.check_client(client_id, client_secret)
        with self._lock:
            record = self._codes.pop(code, None)
            if record is None or self._now() >= record.expires_at:
                raise OAuthError(
                    "invalid_request", "The authorization code was not found or was already used."
                )
            if shop is not None and shop != record.shop:
                raise OAuthError(
                    "invalid_request", "The authorization code belongs to another shop."
                )
            if expiring:
                issued = self._issue_expiring(record.shop, record.scopes, chain=None)
            else:
                issued = self._issue(record.shop, record.scopes, "offline", None)
        logger.info("authorization code redeemed for %s (expiring=%s)", issued.shop, expiring)
        return issued

    def refresh(
        self, client_id: str | None, client_secret: str | None, refresh_token: str, shop: str | None
    ) -> IssuedToken:
        """The refresh_token grant: a new access token and a new refresh token."""
        self.check_client(client_id, client_secret)
        now = self._now()
        with self._lock:
            record = self._refresh.get(refresh_token)
            refused = OAuthError("invalid_grant", "The refresh token is invalid or has expired.")
            if record is None or record.revoked or now >= record.expires_at:
                raise refused
            if shop is not None and shop != record.shop:
                raise refused
            chain = self._chains[record.chain]
            is_previous = refresh_token == chain.previous
            if refresh_token != chain.current and not is_previous:
                raise refused
            if is_previous and chain.previous_until is not None and now >= chain.previous_until:
                raise refused
            if not is_previous:
                # The newest token's first use retires the one before it.
                chain.previous = refresh_token
                chain.previous_until = min(now + PREVIOUS_REFRESH_TOKEN_GRACE, record.expires_at)
            issued = self._issue_expiring(record.shop, record.scopes, chain=record.chain)
        logger.info("expiring offline token refreshed for %s", issued.shop)
        return issued

    def client_credentials(
        self, client_id: str | None, client_secret: str | None, shop: str
    ) -> IssuedToken:
        """The client-credentials grant: a 24-hour token with the app's configured scopes."""
        self.check_client(client_id, client_secret)
        with self._lock:
            issued = self._issue(
                shop, APP_SCOPES, "client_credentials", CLIENT_CREDENTIALS_LIFETIME
            )
        logger.info("client-credentials token issued for %s", shop)
        return issued

    def _issue_expiring(self, shop: str, scopes: tuple[str, ...], chain: int | None) -> IssuedToken:
        """An expiring offline token and the next refresh token of its chain; lock held."""
        refresh_token = "shprt_" + secrets.token_hex(16)
        if chain is None:
            chain = len(self._chains)
            self._chains.append(_Chain(refresh_token))
        else:
            self._chains[chain].current = refresh_token
        expires_at = self._now() + REFRESH_TOKEN_LIFETIME
        self._refresh[refresh_token] = _Refresh(shop, scopes, chain, expires_at)
        issued = self._issue(shop, scopes, "expiring_offline", EXPIRING_ACCESS_TOKEN_LIFETIME)
        return IssuedToken(
            access_token=issued.access_token,
            shop=shop,
            scopes=scopes,
            expires_in=issued.expires_in,
            refresh_token=refresh_token,
            refresh_token_expires_in=_seconds(REFRESH_TOKEN_LIFETIME),
        )

    def _issue(
        self, shop: str, scopes: tuple[str, ...], kind: TokenKind, lifetime: timedelta | None
    ) -> IssuedToken:
        """Mint an access token of the public app; lock held."""
        token = "shpat_" + secrets.token_hex(16)
        expires_at = self._now() + lifetime if lifetime is not None else None
        grant = ShopifyGrant(shop, scopes, self.application.client_id, kind, expires_at)
        self._access[token] = _Access(grant)
        expires_in = _seconds(lifetime) if lifetime is not None else None
        return IssuedToken(token, shop, scopes, expires_in)

    def revoke_installation(self, shop: str, app_id: str) -> None:
        """The app is uninstalled from `shop` (or its permissions revoked): every token dies."""
        with self._lock:
            for access in self._access.values():
                if access.grant.shop == shop and access.grant.app_id == app_id:
                    access.revoked = True
            if app_id == self.application.client_id:
                for refresh in self._refresh.values():
                    if refresh.shop == shop:
                        refresh.revoked = True
        logger.info("app access revoked for %s", shop)

    # Admin API calls -----------------------------------------------------------------------

    def authenticate(self, token: str | None, shop: str | None = None) -> ShopifyGrant:
        """The grant behind `X-Shopify-Access-Token`; 401 unless it may call `shop` now."""
        if not token:
            raise invalid_token()
        with self._lock:
            access = self._access.get(token)
        if access is None or access.revoked:
            raise invalid_token()
        grant = access.grant
        now = self._now()
        if grant.expires_at is not None and now >= grant.expires_at:
            raise invalid_token()
        if grant.kind == "offline" and now >= NON_EXPIRING_CUTOFF:
            raise invalid_token()
        if shop is not None and shop != grant.shop:
            raise invalid_token()
        return grant

    def shop_of(self, token: str | None) -> str | None:
        """The shop a token was issued for, valid or not; None when it is unknown."""
        if not token:
            return None
        with self._lock:
            access = self._access.get(token)
        return access.grant.shop if access else None

    def require(self, grant: ShopifyGrant, scope: str) -> None:
        """403 in Shopify's words unless the grant holds `scope` (or its write twin)."""
        if not grant.allows(scope):
            raise missing_scope(scope)
