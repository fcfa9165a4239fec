"""Who may call the Square sandbox: the app's credentials, personal and OAuth tokens, in memory.

Lifetimes follow Square's documentation (ObtainTokenResponse in Square's OpenAPI document):
access tokens live 30 days (24 h when short-lived); a code-flow refresh token is multi-use and
never expires; a PKCE refresh token is single-use and expires after 90 days. Square does not
publish how long an authorization code lives; we assume 5 minutes.

Personal access tokens and the app's credentials derive from the seed, so a seeded sandbox hands
out the same ones on every run. Tokens issued by OAuth are random. No token or secret is ever put
into a log line or an error message.
"""

import base64
import hashlib
import hmac
import logging
import secrets
import threading
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Literal

from shelfops_pipeline.sandbox.derived_secrets import derived_secret_bytes
from shelfops_pipeline.sandbox.square.errors import SquareError
from shelfops_pipeline.sandbox.square.scopes import APPLICATION_WEBHOOKS_SCOPE, SQUARE_SCOPES

logger = logging.getLogger(__name__)

ACCESS_TOKEN_LIFETIME = timedelta(days=30)
SHORT_LIVED_ACCESS_TOKEN_LIFETIME = timedelta(hours=24)
PKCE_REFRESH_TOKEN_LIFETIME = timedelta(days=90)
AUTHORIZATION_CODE_LIFETIME = timedelta(minutes=5)
PKCE_METHODS = ("S256", "plain")


def rfc3339_utc(moment: datetime) -> str:
    """Square's timestamp shape in OAuth replies, e.g. 2026-11-14T09:12:45Z."""
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def pkce_challenge(code_verifier: str, method: str) -> str:
    """The code_challenge a verifier answers to (RFC 7636 section 4.2)."""
    if method == "plain":
        return code_verifier
    digest = hashlib.sha256(code_verifier.encode()).digest()
    return base64.urlsafe_b64encode(digest).decode().rstrip("=")


def _derived_secret(seed: int, purpose: str, length: int) -> str:
    digest = derived_secret_bytes(seed, purpose)
    return base64.urlsafe_b64encode(digest).decode().rstrip("=")[:length]


@dataclass(frozen=True)
class Application:
    """The one OAuth application the sandbox knows, like an app in Square's Developer Console."""

    client_id: str
    client_secret: str = field(repr=False)


@dataclass(frozen=True)
class Grant:
    """What a valid access token lets its bearer do."""

    merchant_id: str
    scopes: tuple[str, ...]
    expires_at: datetime | None
    kind: Literal["personal", "oauth"]
    client_id: str


@dataclass(frozen=True)
class IssuedTokens:
    """One ObtainToken result; refresh_token_expires_at is set for the PKCE flow only."""

    access_token: str = field(repr=False)
    expires_at: datetime
    merchant_id: str
    refresh_token: str = field(repr=False)
    short_lived: bool
    refresh_token_expires_at: datetime | None


@dataclass
class _AuthorizationCode:
    merchant_id: str
    scopes: tuple[str, ...]
    redirect_uri: str | None
    code_challenge: str | None
    code_challenge_method: str
    expires_at: datetime
    redeemed: bool = False


@dataclass
class _AccessToken:
    merchant_id: str
    scopes: tuple[str, ...]
    expires_at: datetime
    revoked: bool = False


@dataclass
class _RefreshToken:
    merchant_id: str
    scopes: tuple[str, ...]
    expires_at: datetime | None
    single_use: bool
    spent: bool = False
    revoked: bool = False


def _unauthorized(detail: str, field_name: str | None = None) -> SquareError:
    return SquareError("UNAUTHORIZED", detail, field_name)


def bearer_token(authorization_header: str | None) -> str:
    """The token in `Authorization: Bearer <token>`; UNAUTHORIZED when absent or malformed."""
    if not authorization_header:
        raise _unauthorized("This request could not be authorized: no Authorization header.")
    scheme, _, token = authorization_header.strip().partition(" ")
    token = token.strip()
    if scheme.lower() != "bearer" or not token or " " in token:
        raise _unauthorized("The Authorization header must look like `Bearer ACCESS_TOKEN`.")
    return token


class TokenRegistry:
    """Issues, checks and revokes the sandbox's tokens; safe to share between server threads."""

    def __init__(self, seed: int, merchant_ids: Sequence[str], now: Callable[[], datetime]) -> None:
        self._now = now
        self._lock = threading.Lock()
        self.merchant_ids: tuple[str, ...] = tuple(dict.fromkeys(merchant_ids))
        self.application = Application(
            client_id="sandbox-sq0idb-" + _derived_secret(seed, "client_id", 22),
            client_secret="sandbox-sq0csb-" + _derived_secret(seed, "client_secret", 43),
        )
        self._personal: dict[str, str] = {
            "EAAA" + _derived_secret(seed, f"personal-access-token:{merchant}", 60): merchant
            for merchant in self.merchant_ids
        }
        self._codes: dict[str, _AuthorizationCode] = {}
        self._access: dict[str, _AccessToken] = {}
        self._refresh: dict[str, _RefreshToken] = {}

    def personal_tokens(self) -> dict[str, str]:
        """Each merchant's personal access token: every scope, never expires."""
        return {merchant: token for token, merchant in self._personal.items()}

    def check_client(self, client_id: str, client_secret: str | None = None) -> None:
        """UNAUTHORIZED unless the client id (and the secret, when given) are the app's."""
        if not hmac.compare_digest(client_id.encode(), self.application.client_id.encode()):
            raise _unauthorized("Unknown client_id.", "client_id")
        if client_secret is not None and not hmac.compare_digest(
            client_secret.encode(), self.application.client_secret.encode()
        ):
            raise _unauthorized("The client_secret does not belong to this client_id.")

    def issue_authorization_code(
        self,
        *,
        merchant_id: str,
        scopes: Sequence[str],
        redirect_uri: str | None,
        code_challenge: str | None = None,
        code_challenge_method: str = "S256",
    ) -> str:
        """A seller approved the app: a single-use code bound to the request's details."""
        if merchant_id not in self.merchant_ids:
            raise SquareError("NOT_FOUND", "Unknown merchant_id.", "merchant_id")
        code = "sq0cgb-" + secrets.token_urlsafe(16)
        record = _AuthorizationCode(
            merchant_id=merchant_id,
            scopes=tuple(scopes),
            redirect_uri=redirect_uri,
            code_challenge=code_challenge,
            code_challenge_method=code_challenge_method,
            expires_at=self._now() + AUTHORIZATION_CODE_LIFETIME,
        )
        with self._lock:
            self._codes[code] = record
        logger.info("authorization code issued for merchant %s", merchant_id)
        return code

    def exchange_code(
        self,
        *,
        client_id: str,
        client_secret: str | None,
        code: str,
        redirect_uri: str | None,
        code_verifier: str | None,
        short_lived: bool = False,
    ) -> IssuedTokens:
        """The authorization_code grant, for the code flow (secret) and PKCE (verifier)."""
        self.check_client(client_id, client_secret)
        with self._lock:
            record = self._codes.get(code)
            if record is None:
                raise _unauthorized("Unknown authorization code.", "code")
            if record.redeemed:
                raise _unauthorized("The authorization code has already been redeemed.", "code")
            if self._now() >= record.expires_at:
                raise _unauthorized("The authorization code has expired.", "code")
            if record.redirect_uri is not None and redirect_uri is None:
                raise SquareError(
                    "MISSING_REQUIRED_PARAMETER",
                    "redirect_uri is required because the authorization request carried one.",
                    "redirect_uri",
                )
            if redirect_uri is not None and redirect_uri != record.redirect_uri:
                raise SquareError(
                    "INVALID_VALUE",
                    "redirect_uri does not match the one in the authorization request.",
                    "redirect_uri",
                )
            pkce = record.code_challenge is not None
            self._check_code_proof(record, client_secret, code_verifier)
            record.redeemed = True
            refresh_token, refresh_expires_at = self._new_refresh_token(
                record.merchant_id, record.scopes, pkce
            )
            tokens = self._issue(
                record.merchant_id, record.scopes, short_lived, refresh_token, refresh_expires_at
            )
        logger.info(
            "authorization code redeemed for merchant %s (pkce=%s)", tokens.merchant_id, pkce
        )
        return tokens

    def _check_code_proof(
        self, record: _AuthorizationCode, client_secret: str | None, code_verifier: str | None
    ) -> None:
        if record.code_challenge is None:
            if client_secret is None:
                raise SquareError(
                    "MISSING_REQUIRED_PARAMETER",
                    "client_secret is required for the code flow.",
                    "client_secret",
                )
            return
        if code_verifier is None:
            raise SquareError(
                "MISSING_REQUIRED_PARAMETER",
                "code_verifier is required for a code obtained with a code_challenge.",
                "code_verifier",
            )
        expected = pkce_challenge(code_verifier, record.code_challenge_method)
        if not hmac.compare_digest(expected.encode(), record.code_challenge.encode()):
            raise _unauthorized(
                "The code_verifier does not match the code_challenge.", "code_verifier"
            )

    def refresh(
        self,
        *,
        client_id: str,
        client_secret: str | None,
        refresh_token: str,
        scopes: Sequence[str] | None = None,
        short_lived: bool = False,
    ) -> IssuedTokens:
        """The refresh_token grant; `scopes` narrows the new access token to an intersection."""
        self.check_client(client_id, client_secret)
        with self._lock:
            record = self._refresh.get(refresh_token)
            if record is None or record.revoked:
                raise _unauthorized("The refresh token is not valid.", "refresh_token")
            if record.spent:
                raise _unauthorized("The refresh token has already been used.", "refresh_token")
            if record.expires_at is not None and self._now() >= record.expires_at:
                raise _unauthorized("The refresh token has expired.", "refresh_token")
            if not record.single_use and client_secret is None:
                raise SquareError(
                    "MISSING_REQUIRED_PARAMETER",
                    "client_secret is required to refresh a code-flow token.",
                    "client_secret",
                )
            granted = record.scopes
            if scopes is not None:
                requested = set(scopes)
                granted = tuple(scope for scope in record.scopes if scope in requested)
                if not granted:
                    raise SquareError(
                        "INVALID_VALUE", "None of the requested scopes was authorized.", "scopes"
                    )
            next_refresh_token: str = refresh_token
            next_refresh_expires_at: datetime | None = None
            if record.single_use:
                record.spent = True
                next_refresh_token, next_refresh_expires_at = self._new_refresh_token(
                    record.merchant_id, record.scopes, pkce=True
                )
            tokens = self._issue(
                record.merchant_id,
                granted,
                short_lived,
                next_refresh_token,
                next_refresh_expires_at,
            )
        logger.info("access token refreshed for merchant %s", tokens.merchant_id)
        return tokens

    def _new_refresh_token(
        self, merchant_id: str, scopes: tuple[str, ...], pkce: bool
    ) -> tuple[str, datetime | None]:
        """A refresh token: single-use for 90 days with PKCE, else multi-use for ever; lock held."""
        token = "EQAA" + secrets.token_urlsafe(45)
        expires_at = self._now() + PKCE_REFRESH_TOKEN_LIFETIME if pkce else None
        self._refresh[token] = _RefreshToken(merchant_id, scopes, expires_at, single_use=pkce)
        return token, expires_at

    def _issue(
        self,
        merchant_id: str,
        scopes: tuple[str, ...],
        short_lived: bool,
        refresh_token: str,
        refresh_token_expires_at: datetime | None,
    ) -> IssuedTokens:
        """Mint an access token and package it with its refresh token; lock held."""
        lifetime = SHORT_LIVED_ACCESS_TOKEN_LIFETIME if short_lived else ACCESS_TOKEN_LIFETIME
        expires_at = self._now() + lifetime
        access_token = "EAAA" + secrets.token_urlsafe(45)
        self._access[access_token] = _AccessToken(merchant_id, scopes, expires_at)
        return IssuedTokens(
            access_token=access_token,
            expires_at=expires_at,
            merchant_id=merchant_id,
            refresh_token=refresh_token,
            short_lived=short_lived,
            refresh_token_expires_at=refresh_token_expires_at,
        )

    def revoke(
        self,
        *,
        access_token: str | None = None,
        merchant_id: str | None = None,
        revoke_only_access_token: bool = False,
    ) -> None:
        """End the app's authorization for a merchant, or only one access token."""
        if access_token is not None and merchant_id is not None:
            raise SquareError(
                "CONFLICTING_PARAMETERS",
                "Give access_token or merchant_id, not both.",
                "merchant_id",
            )
        if access_token is None and revoke_only_access_token:
            raise SquareError(
                "MISSING_REQUIRED_PARAMETER",
                "revoke_only_access_token needs the access_token to revoke.",
                "access_token",
            )
        if access_token is None and merchant_id is None:
            raise SquareError(
                "MISSING_REQUIRED_PARAMETER",
                "Give the access_token, or the merchant_id whose tokens to revoke.",
                "access_token",
            )
        with self._lock:
            if access_token is not None:
                record = self._access.get(access_token)
                if record is None:
                    raise SquareError("NOT_FOUND", "No OAuth access token matches.", "access_token")
                if revoke_only_access_token:
                    record.revoked = True
                    logger.info("one access token revoked for merchant %s", record.merchant_id)
                    return
                merchant_id = record.merchant_id
            if merchant_id not in self.merchant_ids:
                raise SquareError("NOT_FOUND", "Unknown merchant_id.", "merchant_id")
            for token_record in (*self._access.values(), *self._refresh.values()):
                if token_record.merchant_id == merchant_id:
                    token_record.revoked = True
            for code in [c for c, r in self._codes.items() if r.merchant_id == merchant_id]:
                del self._codes[code]
        logger.info("all OAuth tokens revoked for merchant %s", merchant_id)

    def authenticate(
        self, authorization_header: str | None, required_scope: str | None = None
    ) -> Grant:
        """The grant behind a bearer token; SquareError when it cannot make this call."""
        token = bearer_token(authorization_header)
        grant = self._grant_for(token)
        if required_scope is not None and required_scope not in grant.scopes:
            raise SquareError(
                "INSUFFICIENT_SCOPES",
                "The merchant has not given your application sufficient permissions to do this. "
                f"Required permission: {required_scope}.",
            )
        return grant

    def _grant_for(self, token: str) -> Grant:
        client_id = self.application.client_id
        merchant = self._personal.get(token)
        if merchant is not None:
            scopes = tuple(sorted({*SQUARE_SCOPES, APPLICATION_WEBHOOKS_SCOPE}))
            return Grant(merchant, scopes, None, "personal", client_id)
        with self._lock:
            record = self._access.get(token)
            if record is None:
                raise _unauthorized("This request could not be authorized: unknown access token.")
            if record.revoked:
                raise SquareError("ACCESS_TOKEN_REVOKED", "The access token has been revoked.")
            if self._now() >= record.expires_at:
                raise SquareError("ACCESS_TOKEN_EXPIRED", "The access token has expired.")
            return Grant(record.merchant_id, record.scopes, record.expires_at, "oauth", client_id)

    def merchant_for(self, authorization_header: str | None) -> str | None:
        """The merchant a bearer token belongs to, valid or not; None when it is unknown."""
        try:
            token = bearer_token(authorization_header)
        except SquareError:
            return None
        merchant = self._personal.get(token)
        if merchant is not None:
            return merchant
        with self._lock:
            record = self._access.get(token)
        return record.merchant_id if record else None
