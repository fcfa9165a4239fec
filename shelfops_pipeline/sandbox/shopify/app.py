"""The Shopify Admin API as Starlette routes, served for every shop of the world.

`ShopifyApi.routes()` is mounted twice by the server: under `/shopify/{shop}` (the handle or the
full domain names the shop) and at the root, where a `*.myshopify.com` host (the TLS port) names
it, or else the access token's own shop is served. Under each: the OAuth paths, the REST
resources at `/admin/api/{version}/<resource>.json` (and `/admin/<resource>.json`, which Shopify
serves at the app's pinned version; we serve the oldest supported one), and the GraphQL endpoint
at `/admin/api/{version}/graphql.json` (`endpoint.ShopifyGraphQL`, given the caller resolved
here). `global_routes()` (bulk operation downloads) go at the root only.

A version name Shopify would accept is served (unknown or retired ones fall forward) and echoed
in `X-Shopify-API-Version`; anything else is 404 `Not Found`, as are unknown resources.
"""

import logging

from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from shelfops_pipeline.sandbox.shopify.admin_errors import (
    AdminApiError,
    admin_error_response,
    not_found,
)
from shelfops_pipeline.sandbox.shopify.endpoint import (
    GraphQLCaller,
    GraphQLSettings,
    ShopifyGraphQL,
)
from shelfops_pipeline.sandbox.shopify.model import ShopifyView
from shelfops_pipeline.sandbox.shopify.oauth import ShopifyOAuth
from shelfops_pipeline.sandbox.shopify.rest import RestApi
from shelfops_pipeline.sandbox.shopify.rest_limits import RestCallLimiter, RestLimits
from shelfops_pipeline.sandbox.shopify.shops import AdminCall, ShopResolver
from shelfops_pipeline.sandbox.shopify.tokens import ShopifyTokens
from shelfops_pipeline.sandbox.shopify.versions import SUPPORTED_VERSIONS, served_version
from shelfops_pipeline.sandbox.world.world import World

logger = logging.getLogger(__name__)
VERSION_HEADER = "X-Shopify-API-Version"


class ShopifyApi:
    """Shopify's Admin API (OAuth, REST, GraphQL and bulk operations) over one world."""

    def __init__(
        self,
        world: World,
        tokens: ShopifyTokens,
        rest_limits: RestLimits | None = None,
        graphql_settings: GraphQLSettings | None = None,
    ) -> None:
        self.world = world
        self.tokens = tokens
        self.view = ShopifyView(world)
        self.shops = ShopResolver(tokens, world.now)
        self.limiter = RestCallLimiter(rest_limits)
        self.rest = RestApi(self.view)
        self.oauth = ShopifyOAuth(tokens, self.shops)
        self.graphql = ShopifyGraphQL(world, graphql_settings, self.view)

    def routes(self) -> list[Route]:
        """The shop's Admin API, to mount under `/shopify/{shop}` and at the root."""
        graphql = self.graphql.endpoint(self.graphql_caller)
        return [
            *self.oauth.routes(),
            Route("/admin/api/{version}/graphql.json", graphql, methods=["POST"]),
            Route("/admin/api/{version}/{resource:path}", self.rest_endpoint, methods=["GET"]),
            Route("/admin/{resource:path}", self.rest_endpoint, methods=["GET"]),
        ]

    def global_routes(self) -> list[Route]:
        """Routes that name no shop (bulk operation result downloads), for the root only."""
        return [self.graphql.download_route()]

    def close(self) -> None:
        """Stop bulk operations and remove their files; call when the server stops."""
        self.graphql.close()

    def graphql_caller(self, request: Request, version: str) -> GraphQLCaller | Response:
        """The GraphQL endpoint's caller, or Shopify's 401/404 reply."""
        try:
            call = self.authenticated_call(request, version)
        except AdminApiError as error:
            return admin_error_response(error, {VERSION_HEADER: version})
        return GraphQLCaller(call.shop, call.grant.scopes, call.grant.app_id)

    def authenticated_call(self, request: Request, version: str) -> AdminCall:
        """The shop, grant and instant of an Admin API request; AdminApiError when refused."""
        grant = self.shops.authenticate(request)
        shop = self.world.shop(grant.shop)
        if shop is None:
            raise not_found()
        return AdminCall(shop, grant, version, self.world.now())

    async def rest_endpoint(self, request: Request) -> Response:
        requested = request.path_params.get("version", SUPPORTED_VERSIONS[0])
        version = served_version(requested)
        headers = {VERSION_HEADER: version} if version else {}
        try:
            route = self.rest.handlers().get(request.path_params["resource"])
            if version is None or route is None:
                raise not_found()
            scope, handler = route
            call = self.authenticated_call(request, version)
            headers.update(self.limiter.pour(call.grant.app_id, call.shop.domain))
            if scope is not None:
                self.tokens.require(call.grant, scope)
            reply = handler(call, request.query_params, request.url)
        except AdminApiError as error:
            logger.info(
                "shopify %s %s refused: %s %s",
                request.method,
                request.url.path,
                error.status,
                error,
            )
            return admin_error_response(error, headers)
        return JSONResponse(reply.body, headers={**headers, **reply.headers})
