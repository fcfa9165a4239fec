"""Shopify's OAuth in the sandbox: the install page, the signed callback redirect, the token
endpoint (authorization code, refresh of expiring offline tokens, client credentials), the
granted scopes and revoking an installation.

- `GET /admin/oauth/authorize?client_id&scope&redirect_uri&state` shows an install page; adding
  `approve=true` (a sandbox addition, for scripts) redirects at once. The redirect carries `code`,
  `hmac`, `host`, `shop`, `state` and `timestamp`; `hmac` is the hex HMAC-SHA256, keyed with the
  app secret, of the other parameters sorted by name (api-notes section 6). Online (per-user)
  tokens are not emulated: `grant_options[]=per-user` is refused.
- `POST /admin/oauth/access_token` takes a form or JSON body, as Shopify's libraries send it.
- `GET /admin/oauth/access_scopes.json`, `DELETE /admin/api_permissions/current.json`.

The shop is the one the URL names (`/shopify/{shop}/...` or a `*.myshopify.com` host); at the
bare root the authorize page also takes `shop=` and the token endpoint the code's own shop.
Refusals use RFC 6749's `{"error", "error_description"}`: 400 for a bad request, code or refresh
token, 401 for wrong client credentials (our choice; Shopify documents no codes).
"""

import base64
import hashlib
import hmac
import html
import json
import string
from collections.abc import Mapping
from typing import Any
from urllib.parse import urlsplit

from starlette.requests import Request
from starlette.responses import HTMLResponse, JSONResponse, Response
from starlette.routing import Route

from shelfops_pipeline.sandbox.forms import FormError, redirect_with, url_encoded_form
from shelfops_pipeline.sandbox.shopify.admin_errors import (
    AdminApiError,
    OAuthError,
    admin_error_response,
)
from shelfops_pipeline.sandbox.shopify.scopes import parse_scopes
from shelfops_pipeline.sandbox.shopify.shops import ShopResolver
from shelfops_pipeline.sandbox.shopify.tokens import ShopifyTokens
from shelfops_pipeline.sandbox.shopify.versions import SUPPORTED_VERSIONS

MAX_FORM_FIELDS = 32
INSTALL_PAGE = string.Template(
    '<!doctype html>\n<html lang="en"><head><meta charset="utf-8">'
    "<title>Install app</title></head>\n<body>\n<h1>Install app on $shop</h1>\n"
    "<p>The app asks for these access scopes:</p>\n<ul>\n$scopes\n</ul>\n"
    '<form method="get" action="$action">\n$fields\n'
    '<input type="hidden" name="approve" value="true">\n'
    '<button type="submit">Install app</button>\n</form>\n</body></html>\n'
)
ERROR_PAGE = string.Template(
    '<!doctype html>\n<html lang="en"><head><meta charset="utf-8"><title>Oauth error</title>'
    "</head>\n<body><h1>Oauth error $error</h1><p>$description</p></body></html>\n"
)


def _escape_key(text: str) -> str:
    return text.replace("%", "%25").replace("&", "%26").replace("=", "%3D")


def _escape_value(text: str) -> str:
    return text.replace("%", "%25").replace("&", "%26")


def oauth_query_hmac(params: Mapping[str, str], secret: str) -> str:
    """Hex HMAC-SHA256 of the query without `hmac` and `signature`, sorted by key, as Shopify
    signs its OAuth redirects and as ShopifyAPI's `calculate_hmac` checks them."""
    pairs = sorted(
        (_escape_key(name), _escape_value(value))
        for name, value in params.items()
        if name not in ("hmac", "signature")
    )
    message = "&".join(f"{name}={value}" for name, value in pairs)
    return hmac.new(secret.encode(), message.encode(), hashlib.sha256).hexdigest()


def _admin_host(shop: str) -> str:
    """Shopify's `host` callback parameter: base64 of the shop's admin address."""
    handle = shop.removesuffix(".myshopify.com")
    return base64.b64encode(f"admin.shopify.com/store/{handle}".encode()).decode().rstrip("=")


def _checked_redirect_uri(uri: str | None) -> str:
    if not uri:
        raise OAuthError("invalid_request", "The redirect_uri is missing.")
    parts = urlsplit(uri)
    if parts.scheme not in ("http", "https") or not parts.netloc or parts.fragment:
        raise OAuthError("invalid_request", "The redirect_uri must be an absolute http(s) URL.")
    return uri


class ShopifyOAuth:
    """The HTTP face of a ShopifyTokens registry."""

    def __init__(self, tokens: ShopifyTokens, shops: ShopResolver) -> None:
        self.tokens = tokens
        self.shops = shops

    def routes(self) -> list[Route]:
        return [
            Route("/admin/oauth/authorize", self.authorize, methods=["GET"]),
            Route("/admin/oauth/access_token", self.access_token, methods=["POST"]),
            Route("/admin/oauth/access_scopes.json", self.access_scopes, methods=["GET"]),
            Route("/admin/api_permissions/current.json", self.uninstall, methods=["DELETE"]),
        ]

    async def authorize(self, request: Request) -> Response:
        params = request.query_params
        try:
            shop = self.shops.named(request) or params.get("shop")
            if not shop or not self.tokens.known_shop(shop):
                raise OAuthError("invalid_request", "The shop is not known.", status=404)
            if params.get("client_id") != self.tokens.application.client_id:
                raise OAuthError("invalid_request", "The client_id is not a known app.")
            redirect_uri = _checked_redirect_uri(params.get("redirect_uri"))
            scopes = parse_scopes(params.get("scope", ""))
            if "per-user" in params.getlist("grant_options[]"):
                raise OAuthError(
                    "invalid_request", "Online (per-user) access is not emulated by the sandbox."
                )
            if params.get("approve") != "true":
                return HTMLResponse(self._install_page(request, shop, scopes))
        except OAuthError as error:
            return self._authorize_error(request, error)
        callback = {
            "code": self.tokens.issue_code(shop, scopes),
            "host": _admin_host(shop),
            "shop": shop,
            "state": params.get("state"),
            "timestamp": str(int(self.shops.now().timestamp())),
        }
        signed = {name: value for name, value in callback.items() if value is not None}
        signed["hmac"] = oauth_query_hmac(signed, self.tokens.application.client_secret)
        return redirect_with(redirect_uri, signed)

    @staticmethod
    def _install_page(request: Request, shop: str, scopes: tuple[str, ...]) -> str:
        escape = html.escape
        fields = "\n".join(
            f'<input type="hidden" name="{escape(name)}" value="{escape(value)}">'
            for name, value in request.query_params.multi_items()
            if name != "approve"
        )
        return INSTALL_PAGE.substitute(
            shop=escape(shop),
            scopes="\n".join(f"<li><code>{escape(s)}</code></li>" for s in scopes),
            action=escape(request.url.path),
            fields=fields,
        )

    @staticmethod
    def _authorize_error(request: Request, error: OAuthError) -> Response:
        if "text/html" in request.headers.get("accept", ""):
            page = ERROR_PAGE.substitute(
                error=html.escape(error.error), description=html.escape(error.description)
            )
            return HTMLResponse(page, status_code=error.status)
        return error.response()

    async def access_token(self, request: Request) -> Response:
        try:
            body = await self._body(request)
            shop = self.shops.named(request)
            if shop is not None and not self.tokens.known_shop(shop):
                raise OAuthError("invalid_request", "The shop is not known.", status=404)
            client_id, secret = body.get("client_id"), body.get("client_secret")
            grant_type = body.get("grant_type") or "authorization_code"
            if grant_type == "authorization_code":
                code = body.get("code")
                if not code:
                    raise OAuthError("invalid_request", "The code is missing.")
                expiring = str(body.get("expiring", "0")) == "1"
                issued = self.tokens.exchange_code(client_id, secret, code, shop, expiring)
            elif grant_type == "refresh_token":
                refresh_token = body.get("refresh_token")
                if not refresh_token:
                    raise OAuthError("invalid_request", "The refresh_token is missing.")
                issued = self.tokens.refresh(client_id, secret, refresh_token, shop)
            elif grant_type == "client_credentials":
                if shop is None:
                    raise OAuthError(
                        "invalid_request",
                        "Name the shop: post to /shopify/{shop}/admin/oauth/access_token "
                        "or to https://{shop}.myshopify.com.",
                    )
                issued = self.tokens.client_credentials(client_id, secret, shop)
            else:
                raise OAuthError("unsupported_grant_type", f"Unsupported grant_type {grant_type}.")
        except OAuthError as error:
            return error.response()
        return JSONResponse(issued.reply())

    @staticmethod
    async def _body(request: Request) -> dict[str, Any]:
        """The token request's fields, from JSON or from a url-encoded form."""
        if request.headers.get("content-type", "").startswith("application/json"):
            try:
                body = json.loads(await request.body())
            except (ValueError, RecursionError):
                body = None
            if not isinstance(body, dict):
                raise OAuthError("invalid_request", "The body must be a JSON object.")
            return {k: v for k, v in body.items() if isinstance(v, str | int)}
        try:
            return dict(await url_encoded_form(request, MAX_FORM_FIELDS))
        except FormError as error:
            raise OAuthError("invalid_request", str(error)) from error

    async def access_scopes(self, request: Request) -> Response:
        try:
            grant = self.shops.authenticate(request)
        except AdminApiError as error:
            return admin_error_response(error)
        handles = [{"handle": scope} for scope in grant.scopes]
        # Unversioned, it answers at the app's pinned version; ours is the oldest supported.
        headers = {"X-Shopify-API-Version": SUPPORTED_VERSIONS[0]}
        return JSONResponse({"access_scopes": handles}, headers=headers)

    async def uninstall(self, request: Request) -> Response:
        try:
            grant = self.shops.authenticate(request)
        except AdminApiError as error:
            return admin_error_response(error)
        self.tokens.revoke_installation(grant.shop, grant.app_id)
        return JSONResponse({})
