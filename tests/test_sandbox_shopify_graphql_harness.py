"""Serves the Shopify GraphQL endpoint over loopback HTTP for the GraphQL, cost and bulk tests.

Access tokens are resolved by a stub (`token_for(shop)`); the real token checks are the OAuth
side's and are tested there. This module holds no tests of its own.
"""

from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

import httpx
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response

from shelfops_pipeline.sandbox.clock import SandboxClock
from shelfops_pipeline.sandbox.runner import serve_in_thread
from shelfops_pipeline.sandbox.shopify.endpoint import (
    GraphQLCaller,
    GraphQLSettings,
    ShopifyGraphQL,
)
from shelfops_pipeline.sandbox.world.entities import Shop
from shelfops_pipeline.sandbox.world.world import World

FROZEN_AT = datetime(2026, 11, 5, 12, 0, tzinfo=UTC)
INVALID_TOKEN = {
    "errors": "[API] Invalid API key or access token (unrecognized login or wrong password)"
}


def token_for(shop: Shop, scopes: tuple[str, ...] | None = None) -> str:
    """A stub token; with `scopes`, the token grants only those."""
    return f"shpat_test_{shop.handle}" + (f"~{','.join(scopes)}" if scopes else "")


@dataclass
class ShopifyGraphQLServer:
    base_url: str
    world: World
    graphql: ShopifyGraphQL
    clients: dict[str, httpx.Client] = field(default_factory=dict)

    def client(self, shop: Shop) -> httpx.Client:
        return httpx.Client(
            base_url=self.base_url,
            headers={"X-Shopify-Access-Token": token_for(shop)},
            timeout=30,
        )

    def query(
        self,
        shop: Shop,
        query: str,
        variables: dict[str, Any] | None = None,
        version: str = "2026-10",
    ) -> dict[str, Any]:
        """POST a query at the root path; asserts HTTP 200 and returns the JSON body."""
        client = self.clients.get(shop.domain)
        if client is None:
            client = self.clients[shop.domain] = self.client(shop)
        reply = client.post(
            f"/admin/api/{version}/graphql.json",
            json={"query": query, "variables": variables or {}},
        )
        assert reply.status_code == 200, reply.text
        body: dict[str, Any] = reply.json()
        return body

    def data(self, shop: Shop, query: str, variables: dict[str, Any] | None = None) -> Any:
        body = self.query(shop, query, variables)
        assert "errors" not in body, body
        return body["data"]


def _resolver(world: World) -> Any:
    by_token = {token_for(shop): shop for shop in world.shops}

    def resolve(request: Request, version: str) -> GraphQLCaller | Response:
        token, _, scopes = request.headers.get("x-shopify-access-token", "").partition("~")
        shop = by_token.get(token)
        named = request.path_params.get("shop")
        if shop is None or (named and named not in (shop.handle, shop.domain)):
            return JSONResponse(INVALID_TOKEN, status_code=401)
        return GraphQLCaller(shop, tuple(scopes.split(","))) if scopes else GraphQLCaller(shop)

    return resolve


@contextmanager
def serve_shopify_graphql(
    settings: GraphQLSettings | None = None,
    scale: str = "small",
    clock: SandboxClock | None = None,
) -> Iterator[ShopifyGraphQLServer]:
    world = World(7, scale, clock or SandboxClock(FROZEN_AT))
    graphql = ShopifyGraphQL(world, settings)
    app = Starlette(routes=graphql.routes(_resolver(world)))
    try:
        with serve_in_thread(app) as base_url:
            server = ShopifyGraphQLServer(base_url, world, graphql)
            try:
                yield server
            finally:
                for client in server.clients.values():
                    client.close()
    finally:
        graphql.close()


def page_through(
    server: ShopifyGraphQLServer,
    shop: Shop,
    query: str,
    path: tuple[str, ...],
    variables: dict[str, Any] | None = None,
) -> list[dict[str, Any]]:
    """Every node of the connection at `path`, following `pageInfo.endCursor` with `$after`."""
    nodes: list[dict[str, Any]] = []
    after = None
    while True:
        data = server.data(shop, query, {**(variables or {}), "after": after})
        connection = data
        for key in path:
            connection = connection[key]
        nodes.extend(connection["nodes"])
        if not connection["pageInfo"]["hasNextPage"]:
            return nodes
        after = connection["pageInfo"]["endCursor"]
