"""Square's OAuth API in the sandbox: the authorize page, ObtainToken, RetrieveTokenStatus and
RevokeToken, answering in the shapes of Square's OpenAPI document.

Sandbox additions, not in Square: `GET /oauth2/authorize?...&merchant_id=ID&approve=true` (or
`approve=false`) skips the page and redirects at once, for scripts; the page posts the seller's
choice to `POST /oauth2/authorize/decision`. The sandbox app has no registered Redirect URL, so
`redirect_uri` is required at authorize.

Error codes where Square documents none (our choice): credentials that do not check out (client,
secret, code, code_verifier, refresh token) get 401 UNAUTHORIZED; malformed requests get 400 with
EXPECTED_JSON_BODY, MISSING_REQUIRED_PARAMETER, EXPECTED_STRING / EXPECTED_BOOLEAN /
EXPECTED_ARRAY, INVALID_VALUE (unknown grant_type or scope, mismatched redirect_uri) or
CONFLICTING_PARAMETERS; an unknown merchant or access token to revoke gets 404 NOT_FOUND.
"""

import html
import json
import re
import string
from collections.abc import Mapping
from dataclasses import dataclass
from importlib import resources
from typing import Any
from urllib.parse import urlsplit

from starlette.requests import Request
from starlette.responses import HTMLResponse, JSONResponse, RedirectResponse, Response
from starlette.routing import Route

from shelfops_pipeline.sandbox.forms import FormError, redirect_with, url_encoded_form
from shelfops_pipeline.sandbox.square.errors import SquareError, error_response
from shelfops_pipeline.sandbox.square.scopes import DEFAULT_SCOPES, SQUARE_SCOPES
from shelfops_pipeline.sandbox.square.tokens import (
    PKCE_METHODS,
    IssuedTokens,
    TokenRegistry,
    rfc3339_utc,
)

APPROVE_PAGE = string.Template(
    resources.files("shelfops_pipeline.sandbox.square").joinpath("approve.html").read_text()
)
ERROR_PAGE = string.Template(
    '<!doctype html>\n<html lang="en"><head><meta charset="utf-8">'
    "<title>Square Sandbox: authorization error</title></head>\n"
    "<body><h1>$code</h1><p>$detail</p></body></html>\n"
)
LOCALES = ("en-IE", "en-US", "en-CA", "es-US", "fr-CA", "ja-JP")
PKCE_CHALLENGE = re.compile(r"[A-Za-z0-9._~-]{43,128}")
MAX_FORM_FIELDS = 32


@dataclass(frozen=True)
class AuthorizationRequest:
    """The authorize URL's parameters, checked; the page carries them to the decision."""

    client_id: str
    scopes: tuple[str, ...]
    redirect_uri: str
    state: str | None
    code_challenge: str | None
    code_challenge_method: str
    locale: str

    def form_fields(self) -> dict[str, str]:
        fields = {
            "client_id": self.client_id,
            "scope": " ".join(self.scopes),
            "redirect_uri": self.redirect_uri,
            "state": self.state,
            "code_challenge": self.code_challenge,
            "code_challenge_method": self.code_challenge_method if self.code_challenge else None,
            "locale": self.locale,
        }
        return {name: value for name, value in fields.items() if value is not None}


def _parameter(params: Mapping[str, str], name: str) -> str:
    value = params.get(name)
    if not value:
        raise SquareError("MISSING_REQUIRED_PARAMETER", f"`{name}` is required.", name)
    return value


def parse_authorization_request(
    params: Mapping[str, str], registry: TokenRegistry
) -> AuthorizationRequest:
    """Check an authorize request; SquareError (400) says what is wrong."""
    client_id = _parameter(params, "client_id")
    if client_id != registry.application.client_id:
        raise SquareError("INVALID_VALUE", "Unknown client_id.", "client_id")
    redirect_uri = _parameter(params, "redirect_uri")
    parts = urlsplit(redirect_uri)
    if parts.scheme not in ("http", "https") or not parts.netloc or parts.fragment:
        raise SquareError(
            "INVALID_VALUE", "redirect_uri must be an absolute http(s) URL.", "redirect_uri"
        )
    scopes = tuple(dict.fromkeys(params.get("scope", "").split())) or DEFAULT_SCOPES
    unknown = [scope for scope in scopes if scope not in SQUARE_SCOPES]
    if unknown:
        raise SquareError("INVALID_VALUE", f"Unknown scope: {' '.join(unknown)}.", "scope")
    code_challenge = params.get("code_challenge") or None
    method = params.get("code_challenge_method") or "S256"
    if code_challenge is None and params.get("code_challenge_method"):
        raise SquareError(
            "MISSING_REQUIRED_PARAMETER", "`code_challenge` is required.", "code_challenge"
        )
    if code_challenge is not None and not PKCE_CHALLENGE.fullmatch(code_challenge):
        raise SquareError(
            "INVALID_VALUE", "code_challenge must be 43-128 URL-safe characters.", "code_challenge"
        )
    if method not in PKCE_METHODS:
        raise SquareError(
            "INVALID_VALUE", "code_challenge_method must be S256 or plain.", "code_challenge_method"
        )
    locale = params.get("locale", "")
    return AuthorizationRequest(
        client_id=client_id,
        scopes=scopes,
        redirect_uri=redirect_uri,
        state=params.get("state"),
        code_challenge=code_challenge,
        code_challenge_method=method,
        locale=locale if locale in LOCALES else "en-US",
    )


def render_approve_page(request: AuthorizationRequest, merchant_ids: tuple[str, ...]) -> str:
    escape = html.escape
    scope_items = "\n".join(
        f"    <li><code>{escape(scope)}</code></li>" for scope in request.scopes
    )
    hidden_fields = "\n".join(
        f'    <input type="hidden" name="{escape(name)}" value="{escape(value)}">'
        for name, value in request.form_fields().items()
    )
    merchant_choices = "\n".join(
        f'      <label><input type="radio" name="merchant_id" value="{escape(merchant)}"'
        f"{' checked' if index == 0 else ''}> {escape(merchant)}</label>"
        for index, merchant in enumerate(merchant_ids)
    )
    return APPROVE_PAGE.substitute(
        lang=escape(request.locale),
        client_id=escape(request.client_id),
        scope_items=scope_items,
        hidden_fields=hidden_fields,
        merchant_choices=merchant_choices or "      <p>This sandbox has no merchants.</p>",
    )


def _json_object(body: bytes) -> dict[str, Any]:
    try:
        value = json.loads(body)
    except (ValueError, RecursionError):
        value = None
    if not isinstance(value, dict):
        raise SquareError("EXPECTED_JSON_BODY", "The request body must be a JSON object.")
    return value


def _optional(body: Mapping[str, Any], name: str, kind: type, code: str) -> Any:
    value = body.get(name)
    if value is not None and not isinstance(value, kind):
        raise SquareError(code, f"`{name}` has the wrong type.", name)
    return value


def _optional_str(body: Mapping[str, Any], name: str) -> str | None:
    return _optional(body, name, str, "EXPECTED_STRING")


def _required_str(body: Mapping[str, Any], name: str) -> str:
    value = _optional_str(body, name)
    if not value:
        raise SquareError("MISSING_REQUIRED_PARAMETER", f"`{name}` is required.", name)
    return value


def _optional_bool(body: Mapping[str, Any], name: str) -> bool:
    return bool(_optional(body, name, bool, "EXPECTED_BOOLEAN"))


def _optional_scopes(body: Mapping[str, Any]) -> list[str] | None:
    scopes = _optional(body, "scopes", list, "EXPECTED_ARRAY")
    if scopes is not None and not all(
        isinstance(scope, str) and scope in SQUARE_SCOPES for scope in scopes
    ):
        raise SquareError("INVALID_ARRAY_VALUE", "`scopes` holds an unknown scope.", "scopes")
    return scopes


def token_reply(tokens: IssuedTokens) -> dict[str, Any]:
    reply: dict[str, Any] = {
        "access_token": tokens.access_token,
        "token_type": "bearer",
        "expires_at": rfc3339_utc(tokens.expires_at),
        "merchant_id": tokens.merchant_id,
        "refresh_token": tokens.refresh_token,
        "short_lived": tokens.short_lived,
    }
    if tokens.refresh_token_expires_at is not None:
        reply["refresh_token_expires_at"] = rfc3339_utc(tokens.refresh_token_expires_at)
    return reply


class OAuthEndpoints:
    """The HTTP face of a TokenRegistry."""

    def __init__(self, registry: TokenRegistry) -> None:
        self.registry = registry

    async def authorize(self, request: Request) -> Response:
        params = request.query_params
        try:
            authorization = parse_authorization_request(params, self.registry)
            approve = params.get("approve")
            if approve is None:
                page = render_approve_page(authorization, self.registry.merchant_ids)
                return HTMLResponse(page)
            if approve not in ("true", "false"):
                raise SquareError("INVALID_VALUE", "approve must be true or false.", "approve")
            return self._decide(authorization, params.get("merchant_id"), approve == "true")
        except SquareError as error:
            return self._authorize_error(request, error)

    async def decide(self, request: Request) -> Response:
        try:
            form = await self._form(request)
            authorization = parse_authorization_request(form, self.registry)
            decision = form.get("decision")
            if decision not in ("approve", "deny"):
                raise SquareError("INVALID_VALUE", "decision must be approve or deny.", "decision")
            return self._decide(authorization, form.get("merchant_id"), decision == "approve")
        except SquareError as error:
            return self._authorize_error(request, error)

    def _decide(
        self, authorization: AuthorizationRequest, merchant_id: str | None, approved: bool
    ) -> RedirectResponse:
        if not approved:
            denial = {"error": "access_denied", "error_description": "user_denied"}
            return redirect_with(
                authorization.redirect_uri, {**denial, "state": authorization.state}
            )
        if not merchant_id:
            raise SquareError(
                "MISSING_REQUIRED_PARAMETER", "Choose the merchant_id to approve.", "merchant_id"
            )
        code = self.registry.issue_authorization_code(
            merchant_id=merchant_id,
            scopes=authorization.scopes,
            redirect_uri=authorization.redirect_uri,
            code_challenge=authorization.code_challenge,
            code_challenge_method=authorization.code_challenge_method,
        )
        granted = {"code": code, "response_type": "code", "state": authorization.state}
        return redirect_with(authorization.redirect_uri, granted)

    @staticmethod
    async def _form(request: Request) -> dict[str, str]:
        try:
            return await url_encoded_form(request, MAX_FORM_FIELDS)
        except FormError as error:
            code = "INVALID_CONTENT_TYPE" if error.wrong_type else "BAD_REQUEST"
            raise SquareError(code, str(error)) from error

    @staticmethod
    def _authorize_error(request: Request, error: SquareError) -> Response:
        if "text/html" in request.headers.get("accept", ""):
            page = ERROR_PAGE.substitute(code=error.code, detail=html.escape(error.detail))
            return HTMLResponse(page, status_code=error.status)
        return error_response(error.code, error.detail, error.field)

    async def obtain_token(self, request: Request) -> Response:
        try:
            body = _json_object(await request.body())
            client_id = _required_str(body, "client_id")
            grant_type = _required_str(body, "grant_type")
            client_secret = _optional_str(body, "client_secret")
            short_lived = _optional_bool(body, "short_lived")
            if grant_type == "authorization_code":
                tokens = self.registry.exchange_code(
                    client_id=client_id,
                    client_secret=client_secret,
                    code=_required_str(body, "code"),
                    redirect_uri=_optional_str(body, "redirect_uri"),
                    code_verifier=_optional_str(body, "code_verifier"),
                    short_lived=short_lived,
                )
            elif grant_type == "refresh_token":
                tokens = self.registry.refresh(
                    client_id=client_id,
                    client_secret=client_secret,
                    refresh_token=_required_str(body, "refresh_token"),
                    scopes=_optional_scopes(body),
                    short_lived=short_lived,
                )
            else:
                raise SquareError(
                    "INVALID_VALUE",
                    "grant_type must be authorization_code or refresh_token.",
                    "grant_type",
                )
        except SquareError as error:
            return error_response(error.code, error.detail, error.field)
        return JSONResponse(token_reply(tokens))

    async def token_status(self, request: Request) -> Response:
        try:
            grant = self.registry.authenticate(request.headers.get("authorization"))
        except SquareError as error:
            # Square answers UNAUTHORIZED here for expired and revoked tokens too.
            return error_response("UNAUTHORIZED", error.detail)
        reply: dict[str, Any] = {
            "scopes": list(grant.scopes),
            "client_id": grant.client_id,
            "merchant_id": grant.merchant_id,
        }
        if grant.expires_at is not None:
            reply["expires_at"] = rfc3339_utc(grant.expires_at)
        return JSONResponse(reply)

    async def revoke_token(self, request: Request) -> Response:
        try:
            scheme, _, secret = request.headers.get("authorization", "").partition(" ")
            if scheme.lower() != "client" or not secret.strip():
                raise SquareError(
                    "UNAUTHORIZED", "The Authorization header must be `Client APPLICATION_SECRET`."
                )
            body = _json_object(await request.body())
            self.registry.check_client(_required_str(body, "client_id"), secret.strip())
            self.registry.revoke(
                access_token=_optional_str(body, "access_token"),
                merchant_id=_optional_str(body, "merchant_id"),
                revoke_only_access_token=_optional_bool(body, "revoke_only_access_token"),
            )
        except SquareError as error:
            return error_response(error.code, error.detail, error.field)
        return JSONResponse({"success": True})


def oauth_routes(registry: TokenRegistry) -> list[Route]:
    """Square's OAuth paths, to be mounted where Square's API lives (e.g. under /square)."""
    endpoints = OAuthEndpoints(registry)
    return [
        Route("/oauth2/authorize", endpoints.authorize, methods=["GET"]),
        Route("/oauth2/authorize/decision", endpoints.decide, methods=["POST"]),
        Route("/oauth2/token", endpoints.obtain_token, methods=["POST"]),
        Route("/oauth2/token/status", endpoints.token_status, methods=["POST"]),
        Route("/oauth2/revoke", endpoints.revoke_token, methods=["POST"]),
    ]
