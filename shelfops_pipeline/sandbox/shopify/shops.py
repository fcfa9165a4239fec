"""Which shop an Admin API request is for, and whether its access token may call it.

A request names its shop by URL, `/shopify/{shop}/admin/...` (the handle or the full domain), or
by host, `https://{shop}.myshopify.com/admin/...` (the TLS port, for tools that build the URL
from the shop). At the bare root over plain HTTP nothing names the shop and the access token's
own shop is used. A named shop the world does not know gets Shopify's 404 `Not Found`.
"""

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime

from starlette.requests import Request

from shelfops_pipeline.sandbox.shopify.admin_errors import not_found
from shelfops_pipeline.sandbox.shopify.tokens import ShopifyGrant, ShopifyTokens
from shelfops_pipeline.sandbox.world.entities import Shop

SHOP_DOMAIN_SUFFIX = ".myshopify.com"
ACCESS_TOKEN_HEADER = "x-shopify-access-token"


def shop_domain(name: str) -> str:
    """`harbor-pantry` or `harbor-pantry.myshopify.com` -> `harbor-pantry.myshopify.com`."""
    name = name.strip().lower()
    return name if name.endswith(SHOP_DOMAIN_SUFFIX) else name + SHOP_DOMAIN_SUFFIX


class ShopResolver:
    """Resolves the shop of a request and authenticates its `X-Shopify-Access-Token`."""

    def __init__(self, tokens: ShopifyTokens, now: Callable[[], datetime]) -> None:
        self.tokens = tokens
        self.now = now

    @staticmethod
    def named(request: Request) -> str | None:
        """The shop the URL or the host names, if any (known or not)."""
        in_path = request.path_params.get("shop")
        if in_path:
            return shop_domain(str(in_path))
        host = (request.url.hostname or "").lower()
        return host if host.endswith(SHOP_DOMAIN_SUFFIX) else None

    def authenticate(self, request: Request) -> ShopifyGrant:
        """The caller's grant: 404 for a named shop nobody knows, else 401 unless the token
        is valid now and belongs to the named shop."""
        named = self.named(request)
        if named is not None and not self.tokens.known_shop(named):
            raise not_found()
        return self.tokens.authenticate(request.headers.get(ACCESS_TOKEN_HEADER), named)


@dataclass(frozen=True)
class AdminCall:
    """One authenticated Admin API call: the shop, the caller's grant, the version that serves
    it and the instant the world is shown as of."""

    shop: Shop
    grant: ShopifyGrant
    version: str
    at: datetime
